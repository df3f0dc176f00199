"""A real HTTP receiver for the webhook tests: it verifies each delivery's signature with
the Standard Webhooks package (the receiver's own code, not ours), keeps what it got, and
can be told to fail for a while."""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    path: str
    webhook_id: str
    event: dict[str, Any]
    verified: bool
    at: float


class _Server(ThreadingHTTPServer):
    # The standard library listens with a backlog of 5: several senders connecting at once
    # would wait out SYN retries, as no real endpoint makes them.
    request_queue_size = 128
    daemon_threads = True


class Receiver:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # path -> secret
        self.received: list[Received] = []
        self.failing: dict[str, int] = {}  # path -> how many more attempts to refuse
        self.always_failing: set[str] = set()
        self.redirecting: set[str] = set()  # paths that answer 307 to /elsewhere
        self.attempts = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.attempts += 1
                    failing = (
                        self.path in receiver.always_failing
                        or receiver.failing.get(self.path, 0) > 0
                    )
                    if self.path in receiver.failing and receiver.failing[self.path] > 0:
                        receiver.failing[self.path] -= 1
                if failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.path in receiver.redirecting:
                    self.send_response(307)
                    self.send_header("Location", "/elsewhere")
                    self.end_headers()
                    return
                secret = receiver.secrets.get(self.path)
                verified = False
                if secret:
                    try:
                        Webhook(secret).verify(body, dict(self.headers.items()))
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            self.path,
                            self.headers.get("webhook-id", ""),
                            json.loads(body),
                            verified,
                            time.time(),
                        )
                    )
                self.send_response(204 if verified else 401)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(
        self, path: str, check: Callable[[list[Received]], bool], timeout: float = 30.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.at(path)
            if check(found):
                return found
            if time.monotonic() > deadline:
                types = [r.event["type"] for r in found]
                raise AssertionError(f"{path}: deliveries did not arrive in {timeout} s: {types}")
            time.sleep(0.05)
