"""What a request must be before any route sees it: a bounded body, JSON that JSON can
answer with, a URL without NUL characters. Pure ASGI, so a body sent without a
Content-Length is counted as it arrives and refused before it is read in full."""

import json
import math
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1 << 20
MAX_IMPORT_BODY = 64 << 20
# Integers beyond what every JSON reader holds exactly (and bigints in the stores).
MAX_INT = 2**63 - 1


class BadJSON(ValueError):
    pass


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(f"the number {text[:40]} is out of range")
    return value


def _integer(text: str) -> int:
    if len(text) > 20 or abs(value := int(text)) > MAX_INT:
        raise BadJSON(f"the number {text[:40]}… is out of range")
    return value


def _constant(name: str) -> Any:
    raise BadJSON(f"{name} is not a number JSON can carry")


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError as error:
                raise BadJSON("a string holds a lone surrogate (\\ud800-\\udfff)") from error
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def strict_json(body: bytes) -> str | None:
    """Why the body is not JSON this API can store and answer with, or None if it is."""
    try:
        parsed = json.loads(body, parse_constant=_constant, parse_float=_number, parse_int=_integer)
        _check_strings(parsed)
    except BadJSON as error:
        return str(error)
    except RecursionError:
        return "the body nests too deeply"
    except ValueError:
        return None  # Malformed JSON: the route's own parser reports where.
    return None


def limit_for(path: str) -> int:
    return MAX_IMPORT_BODY if path.endswith(":import") else MAX_BODY


async def _answer(send: Send, status: int, detail: str, headers: list[Any] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Limits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in target or b"\x00" in target:
            await _answer(send, 400, "the URL cannot contain NUL characters")
            return
        limit = limit_for(scope["path"])
        too_large = f"the body must be at most {limit} bytes"
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _answer(send, 413, too_large)
            return
        if limit == MAX_IMPORT_BODY:
            await self._streamed(scope, receive, send, limit, too_large)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, 413, too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and b"json" in headers.get(b"content-type", b""):
            problem = strict_json(body)
            if problem is not None:
                await _answer(send, 422, f"the body is not JSON this API accepts: {problem}")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _streamed(
        self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: str
    ) -> None:
        """Passes the body on as it comes; past the limit the route sees a disconnect and
        the client gets a 413."""
        size = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal size, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _answer(send, 413, too_large)
