"""Read-your-writes for browsers: a page waits, briefly, until the views show what this
browser's last change did. The change's position travels in a cookie, sealed like the
API's position token, so any API process can honour it."""

from fastapi import Request, Response

from marketplace.kernel.position import BadToken
from marketplace.platform import Marketplace

POSITION_COOKIE = "mp_position"
WAIT_S = 3.0


def remember_position(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        POSITION_COOKIE,
        token,
        max_age=600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def caught_up(market: Marketplace, request: Request, view: str) -> bool:
    """Waits until `view` reflects this browser's last change; False if it is still behind
    (the page then shows what the view has, rather than fail)."""
    token = request.cookies.get(POSITION_COOKIE)
    if not token or len(token) > 2000:
        return True
    try:
        wanted = market.wanted_position(token)
    except BadToken:
        return True
    return market.projections.wait(view, wanted, WAIT_S, deliver=market.in_process)
