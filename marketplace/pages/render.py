"""Rendering pages: the Jinja2 environment, its filters, and what every page is given."""

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from marketplace.pages.session import PRE_COOKIE, Visitor, csrf_token, pre_session, set_cookie
from marketplace.pages.shopper import Shopper
from marketplace.pages.staff import office_links
from marketplace.platform import Marketplace
from orders.domain import SHIPPED

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
# Every page is the same origin's only: no inline script, no outside host, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


NONE = "\N{EN DASH}"


def money(value: dict[str, Any] | None) -> str:
    if not value:
        return NONE
    amount = int(value["amount"])
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{value['currency']} {whole:,}.{cents:02d}"


def moneys(values: list[dict[str, Any]]) -> str:
    return " + ".join(money(v) for v in values) or NONE


def sentence(text: object) -> str:
    """The first letter in capitals, the rest as written (SKU stays SKU)."""
    words = str(text)
    return words[:1].upper() + words[1:]


templates.env.filters["sentence"] = sentence
templates.env.filters["money"] = money
templates.env.filters["moneys"] = moneys
templates.env.filters["short"] = lambda text: str(text)[:8]
# A rate in basis points as people write it: 1900 -> "19 %", 550 -> "5.5 %".
templates.env.filters["rate"] = lambda bps: f"{int(bps) / 100:g} %"
templates.env.filters["when"] = lambda iso: str(iso)[:16].replace("T", " ")
templates.env.tests["returnable"] = lambda status: status in SHIPPED


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    visitor: Visitor | None = None,
    shopper: Shopper | None = None,
) -> HTMLResponse:
    market: Marketplace = request.app.state.marketplace
    visitor = shopper.visitor if shopper else visitor
    seed = None if visitor else pre_session(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "visitor": visitor,
            "shopper": shopper,
            "csrf": csrf_token(market, visitor.session.token if visitor else f"pre:{seed}"),
            "cart_count": cart_count(market, shopper),
            "office_links": office_links(visitor),
            **(context or {}),
        },
        status_code=status,
        headers=SECURITY_HEADERS,
    )
    if seed is not None and request.cookies.get(PRE_COOKIE) != seed:
        set_cookie(request, response, PRE_COOKIE, seed)
    return response


def cart_count(market: Marketplace, shopper: Shopper | None) -> int:
    if shopper is None:
        return 0
    return len(market.carts.lines(shopper.cart_owner, str(shopper.buyer_id)))


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers=SECURITY_HEADERS)


def clean_query(request: Request) -> str | None:
    """The same URL without its empty parameters, if it has any: short links to share."""
    pairs = request.query_params.multi_items()
    kept = [(k, v) for k, v in pairs if v]
    if len(kept) == len(pairs):
        return None
    return request.url.path + (f"?{urlencode(kept)}" if kept else "")
