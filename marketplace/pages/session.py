"""Who is at the browser: the session cookie, the person behind it, and CSRF tokens.

The cookie holds a random session token signed with the marketplace's secret (itsdangerous);
the session itself is a row any API process can read. Forms carry a token derived from the
session (or, before sign-in, from a pre-session cookie), checked on every POST.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, Signer

from marketplace.adapters.web_sessions import LONGEST_S, WebSession
from marketplace.kernel.errors import Forbidden
from marketplace.kernel.people import Person
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep, Principal

SESSION_COOKIE = "mp_session"
PRE_COOKIE = "mp_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInNeeded(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class BadCsrf(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "this form did not come from this page or has expired; reload the page and try again"
        )


def _signer(market: Marketplace) -> Signer:
    return Signer(market.secret, salt="web-session")


def csrf_token(market: Marketplace, seed: str) -> str:
    return hmac.new(market.secret.encode(), f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=LONGEST_S,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def start_session(
    market: Marketplace, request: Request, response: Response, person: Person
) -> None:
    token = market.web_sessions.open(str(person.id))
    set_cookie(request, response, SESSION_COOKIE, _signer(market).sign(token).decode())


def end_session(market: Marketplace, request: Request, response: Response) -> None:
    token = _token(market, request)
    if token is not None:
        market.web_sessions.close(token)
    response.delete_cookie(SESSION_COOKIE, path="/")


def _token(market: Marketplace, request: Request) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > 200:
        return None
    try:
        return _signer(market).unsign(cookie).decode()
    except BadSignature:
        return None


@dataclass(frozen=True)
class Visitor:
    session: WebSession
    person: Person

    @property
    def principal(self) -> Principal:
        p = self.person
        kind = p.principal
        return Principal(kind, None if kind == "operator" else p.account_id, p.user_id)


def current_visitor(request: Request, market: MarketplaceDep) -> Visitor | None:
    request.state.page = True
    token = _token(market, request)
    session = None if token is None else market.web_sessions.find(token)
    if session is None:
        return None
    person = market.people.person(UUID(session.person_id))
    if person is None or person.disabled:
        return None
    return Visitor(session, person)


def signed_in(visitor: Annotated[Visitor | None, Depends(current_visitor)]) -> Visitor:
    if visitor is None:
        raise SignInNeeded
    return visitor


MaybeVisitor = Annotated[Visitor | None, Depends(current_visitor)]
SignedIn = Annotated[Visitor, Depends(signed_in)]


def pre_session(request: Request) -> str:
    """The pre-session seed of a signed-out browser's forms (sign-in, invitations)."""
    seed = request.cookies.get(PRE_COOKIE, "")
    if not (16 <= len(seed) <= 64) or not seed.isalnum():
        seed = secrets.token_hex(16)
    return seed


async def _sent_token(request: Request) -> str | None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent


async def check_csrf(request: Request, market: MarketplaceDep, visitor: MaybeVisitor) -> None:
    """Every page POST carries the form's token (htmx sends it as a header)."""
    _check(market, request, visitor, await _sent_token(request))


async def check_csrf_or_program(
    request: Request, market: MarketplaceDep, visitor: MaybeVisitor
) -> None:
    """Signing in and out also accept a request that no browser made: with no token, no
    Origin and no Referer. A browser names the origin of every cross-site POST, so a forged
    one still needs the token it cannot read."""
    sent = await _sent_token(request)
    if sent is None and not request.headers.get("Origin") and not request.headers.get("Referer"):
        return
    _check(market, request, visitor, sent)


def _check(
    market: Marketplace, request: Request, visitor: Visitor | None, sent: str | None
) -> None:
    seed = visitor.session.token if visitor else "pre:" + request.cookies.get(PRE_COOKIE, "")
    expected = None if seed == "pre:" else csrf_token(market, seed)
    if not sent or expected is None or not hmac.compare_digest(sent, expected):
        raise BadCsrf


CsrfChecked = Depends(check_csrf)
CsrfOrProgram = Depends(check_csrf_or_program)


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in?next=" + quote(target, safe="")


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
