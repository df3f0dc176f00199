"""One signed POST to a webhook endpoint (Standard Webhooks): the connection goes to the
address the URL's check resolved, not to whatever the name resolves to a moment later;
redirects are not followed; the answer is read to a bound; everything within a timeout."""

import base64
import hashlib
import hmac
import http.client
import secrets
import socket
import ssl
import time
from dataclasses import dataclass

from marketplace.webhooks.urls import Target, resolve

TIMEOUT_S = 10.0
MAX_ANSWER = 64 * 1024
USER_AGENT = "marketplace-webhooks/1"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with the certificate checked for the URL's name."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(target: Target, secret: str, message_id: str, body: bytes, allow_private: bool) -> Answer:
    """Resolves and checks the name again, then POSTs the body, signed, to that address."""
    try:
        address = resolve(target, allow_private)
    except Exception as error:
        return Answer(None, str(getattr(error, "detail", error))[:300])
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, address, TIMEOUT_S)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(MAX_ANSWER)  # read to a bound, never kept: the status is the answer
        return Answer(
            answer.status, None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
        )
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return Answer(None, repr(error)[:300])
    finally:
        connection.close()
