"""Read-your-writes: every command's answer names how far the event logs had reached once
it was done (`X-Marketplace-Position`), for views to wait for; a page's answer also keeps it
in a cookie. Pure ASGI, so a command costs no extra task or stream."""

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketplace.adapters.eventstore import HeadsAfter, noting_heads
from marketplace.pages.freshness import remember_position
from marketplace.pages.site import NOT_PAGES
from marketplace.platform import Marketplace

POSITION_HEADER = "X-Marketplace-Position"
COMMANDS = {"POST", "PUT", "DELETE", "PATCH"}


class PositionHeader:
    def __init__(self, app: ASGIApp, marketplace: Marketplace) -> None:
        self.app = app
        self.marketplace = marketplace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in COMMANDS:
            await self.app(scope, receive, send)
            return
        with noting_heads(self.marketplace.contexts) as note:

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] < 500:
                    message = await self._with_position(scope, message, note)
                await send(message)

            await self.app(scope, receive, sending)

    async def _with_position(self, scope: Scope, message: Message, note: HeadsAfter) -> Message:
        if self.marketplace.in_process:
            self.marketplace.projections.nudge()
        if note.heads is not None:
            token = self.marketplace.position_token(note.heads)
        else:
            token = await run_in_threadpool(self.marketplace.position_token)
        headers = MutableHeaders(raw=list(message.get("headers", [])))
        headers[POSITION_HEADER] = token
        if not scope["path"].startswith(NOT_PAGES):
            kept = Response()
            remember_position(Request(scope), kept, token)
            for name, value in kept.raw_headers:
                if name == b"set-cookie":
                    headers.append("set-cookie", value.decode("latin-1"))
        return {**message, "headers": headers.raw}
