"""A real SMTP server for the tests (aiosmtpd): it keeps what it receives, and can be told to
refuse for a while (421) or be stopped and started again on the same port."""

import asyncio
import email
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.refusing = False
        self.refused = 0
        # Seconds each message takes to be taken: a slow server, for killing a sender mid-batch.
        self.delay = 0.0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refusing:
            with self._lock:
                self.refused += 1
            return "421 4.3.2 Service not available, try again later"
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(message)
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._lock:
            found = list(self.received)
        return [m for m in found if to is None or to in str(m["To"])]

    def wait_for(
        self, check: Callable[[list[EmailMessage]], bool], timeout: float = 30.0
    ) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if check(found):
                return found
            if time.monotonic() > deadline:
                subjects = [str(m["Subject"]) for m in found]
                raise AssertionError(f"mail did not arrive in {timeout} s; got {subjects}")
            time.sleep(0.1)


def use_smtp(monkeypatch: pytest.MonkeyPatch, box: Mailbox) -> None:
    """Points the processes a test starts at `box`, with retries quick enough to watch."""
    monkeypatch.setenv("MARKETPLACE_SMTP_URL", box.url)
    monkeypatch.setenv("MARKETPLACE_MAIL_RETRY_S", "0.2")
    monkeypatch.setenv("MARKETPLACE_MAIL_RETRY_MAX_S", "1")
    monkeypatch.setenv("MARKETPLACE_MAIL_POLL_S", "0.1")
    monkeypatch.setenv("MARKETPLACE_MAIL_LEASE_S", "3")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
