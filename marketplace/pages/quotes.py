"""Quotes in the pages: buyers ask a reseller for a price and decide on its offers; the
reseller's people answer with versioned offers, reject or withdraw."""

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from marketplace.kernel.errors import Forbidden, Invalid
from marketplace.kernel.money import Money
from marketplace.kernel.payments import PAYMENT_METHODS
from marketplace.pages.accounts import rep_of
from marketplace.pages.cart import known_addresses
from marketplace.pages.names import names_of
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked, SignedIn
from marketplace.pages.shopper import CurrentShopper, Shopper
from marketplace.pages.staff import Staff, staff
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from orders.quoting.application import describe_quote
from orders.quoting.domain import Quote, QuoteStatus
from projections.quick_order import parse_quick_order
from sellers.domain import SalesRep

router = APIRouter(include_in_schema=False)
Seller = Annotated[Staff, Depends(staff("reseller", "orders"))]
STATUSES: tuple[str, ...] = QuoteStatus.__args__  # type: ignore[attr-defined]


def _now(market: Marketplace) -> str:
    return market.clock.now().isoformat()


def _user(shopper: Shopper) -> UUID:
    if shopper.user is None:
        raise Forbidden("quotes are asked by the buyer's own people")
    return shopper.user.id


def _rows(market: Marketplace, ids: list[str]) -> list[dict[str, Any]]:
    found = market.orders.get_many([UUID(i) for i in ids], Quote)
    now = _now(market)
    return [describe_quote(found[UUID(i)], now) for i in ids if UUID(i) in found]


def _thread(
    request: Request, market: Marketplace, quote: Quote, context: dict[str, Any], **who: Any
) -> Response:
    described = describe_quote(quote, _now(market))
    pids = [line["product_id"] for line in quote.lines]
    return render(
        request,
        "quote.html",
        {
            "q": described,
            "names": market.catalog.names(pids),
            "seller": market.sellers.reseller(quote.reseller_id).name,
            "buyer": market.buyers.buyer(quote.buyer_id).legal_name,
            "methods": PAYMENT_METHODS,
            "notice": request.query_params.get("notice"),
            **context,
        },
        **who,
    )


# Buyers


@router.get("/quotes")
def quotes(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    _user(shopper)
    ids, _ = market.order_lists.quotes(200, None, _now(market), buyer_id=str(shopper.buyer_id))
    return render(
        request,
        "quotes.html",
        {
            "items": _rows(market, ids),
            "side": "buyer",
            "sellers": market.catalog.resellers(str(shopper.buyer_id)),
            "names": {r["id"]: r["name"] for r in market.catalog.resellers(str(shopper.buyer_id))},
        },
        shopper=shopper,
    )


@router.post("/quotes", dependencies=[CsrfChecked])
async def ask(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    user = _user(shopper)
    form = await request.form()
    try:
        reseller_id = UUID(str(form.get("reseller_id", "")))
    except ValueError:
        raise Invalid("choose the seller to ask") from None
    good, bad = parse_quick_order(str(form.get("lines", "")))
    if bad or not good:
        raise Invalid("write one product a line as: SKU, quantity")
    found = market.catalog.with_skus([sku for _, sku, _ in good])
    lines: dict[UUID, int] = {}
    for _, sku, quantity in good:
        if not found.get(sku):
            raise Invalid(f"no product {sku}")
        pid = UUID(found[sku][0])
        lines[pid] = lines.get(pid, 0) + quantity
    when = str(form.get("requested_delivery_on", "")).strip()
    if when:
        when = date.fromisoformat(when).isoformat()
    comment = str(form.get("comment", "")).strip()[:1000] or None
    made = market.quoting.request(
        shopper.buyer_id, str(user), reseller_id, list(lines.items()), comment, when or None
    )
    return redirect(f"/quotes/{made.id}")


@router.get("/quotes/{quote_id}")
def quote(
    request: Request, quote_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    _user(shopper)
    found = market.quoting.quote(quote_id, buyer_id=shopper.buyer_id)
    shipping = {
        "addresses": known_addresses(market, shopper),
        "shipping_methods": _methods(market, found.reseller_id),
    }
    return _thread(request, market, found, {"side": "buyer", **shipping}, shopper=shopper)


def _methods(market: Marketplace, reseller_id: UUID) -> list[tuple[str, str]]:
    """The seller's shipping methods by code, each once (where they go, the order says)."""
    seen: dict[str, str] = {}
    for rate in market.taxes.grid(reseller_id):
        seen.setdefault(rate.method, rate.name)
    return list(seen.items())


@router.post("/quotes/{quote_id}/accept", dependencies=[CsrfChecked])
async def accept(
    request: Request, quote_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    _user(shopper)
    assert shopper.user is not None
    form = await request.form()
    method = str(form.get("payment_method", ""))
    if method not in PAYMENT_METHODS:
        raise Invalid("choose how you pay")
    found = market.quoting.quote(quote_id, buyer_id=shopper.buyer_id)
    addresses = known_addresses(market, shopper)
    chosen = str(form.get("address_choice", "0"))
    address = addresses[int(chosen)] if chosen.isdigit() and int(chosen) < len(addresses) else None
    shipping = str(form.get("shipping_method", ""))[:100]
    order = market.quoting.accept(
        shopper.buyer_id,
        {"kind": "buyer_user", "user_id": str(shopper.user.id), "name": shopper.user.name},
        shopper.spending_limit,
        quote_id,
        method,
        None,
        None,
        address,
        {found.reseller_id: shipping} if shipping else None,
    )
    return redirect(f"/orders/{order.id}?placed=1")


@router.post("/quotes/{quote_id}/{move}", dependencies=[CsrfChecked])
async def buyer_move(
    request: Request, quote_id: UUID, move: str, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    _user(shopper)
    if move not in ("decline", "cancel", "renegotiate"):
        raise Invalid("decline, cancel or renegotiate")
    comment = str((await request.form()).get("comment", "")).strip()[:1000] or None
    market.quoting.move(quote_id, move, comment, buyer_id=shopper.buyer_id)
    return redirect(f"/quotes/{quote_id}?{urlencode({'notice': 'Done'})}")


# The reseller's people


@router.get("/reseller/quotes")
def seller_quotes(
    request: Request,
    market: MarketplaceDep,
    seller: Seller,
    status: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    wanted = status if status in STATUSES else None
    ids, _ = market.order_lists.quotes(
        200, None, _now(market), reseller_id=str(seller.seller_id), status=wanted
    )
    items = _rows(market, ids)
    names = names_of(market, (i["buyer_id"] for i in items))
    return render(
        request,
        "quotes.html",
        {
            "items": items,
            "side": "seller",
            "names": names,
            "statuses": STATUSES,
            "status": status,
            "base": "/reseller/quotes",
        },
        visitor=seller.visitor,
    )


@router.get("/reseller/quotes/{quote_id}")
def seller_quote(
    request: Request, quote_id: UUID, market: MarketplaceDep, seller: Seller
) -> Response:
    found = market.quoting.quote(quote_id, reseller_id=seller.seller_id)
    context = {"side": "seller", "staff": seller, "base": "/reseller/quotes"}
    return _thread(request, market, found, context, visitor=seller.visitor)


def _offer_form(form: Any, quote: Quote) -> tuple[list[dict[str, Any]], str, str | None]:
    """An offer as the form gives it: a line per requested product given a price."""
    lines = []
    for line in quote.lines:
        pid = line["product_id"]
        price, quantity, lead = (
            str(form.get(f"{key}_{pid}", "")).strip() for key in ("price", "quantity", "lead")
        )
        if not price:
            continue
        whole, _, cents = price.partition(".")
        if (
            not whole.isdigit()
            or not quantity.isdigit()
            or not lead.isdigit()
            or (cents and (not cents.isdigit() or len(cents) > 2))
        ):
            raise Invalid("write prices as 12.50, and quantities and lead times as whole numbers")
        lines.append(
            {
                "product_id": pid,
                "quantity": int(quantity),
                "unit_price": Money(int(whole) * 100 + int(cents.ljust(2, "0") or 0), "EUR"),
                "lead_time_days": int(lead),
            }
        )
    try:
        valid_to = datetime.combine(
            date.fromisoformat(str(form.get("valid_to", ""))), time.max, UTC
        )
    except ValueError:
        raise Invalid("write the date the offer holds until as YYYY-MM-DD") from None
    return lines, valid_to.isoformat(), str(form.get("comment", "")).strip()[:1000] or None


@router.post("/reseller/quotes/{quote_id}/offer", dependencies=[CsrfChecked])
async def seller_offer(
    request: Request, quote_id: UUID, market: MarketplaceDep, seller: Seller
) -> Response:
    found = market.quoting.quote(quote_id, reseller_id=seller.seller_id)
    lines, valid_to, comment = _offer_form(await request.form(), found)
    market.quoting.offer(seller.seller_id, quote_id, lines, valid_to, comment)
    return redirect(f"/reseller/quotes/{quote_id}?{urlencode({'notice': 'Offer sent'})}")


@router.post("/reseller/quotes/{quote_id}/{move}", dependencies=[CsrfChecked])
async def seller_move(
    request: Request, quote_id: UUID, move: str, market: MarketplaceDep, seller: Seller
) -> Response:
    if move not in ("reject", "withdraw"):
        raise Invalid("reject or withdraw")
    reason = str((await request.form()).get("reason", "")).strip()[:1000] or None
    market.quoting.move(quote_id, move, reason, reseller_id=seller.seller_id)
    return redirect(f"/reseller/quotes/{quote_id}?{urlencode({'notice': 'Done'})}")


# Sales reps, for their assigned accounts


def _rep_quote(market: Marketplace, rep: SalesRep, quote_id: UUID) -> Quote:
    found = market.quoting.quote(quote_id, reseller_id=rep.reseller_id)
    if not rep.serves(found.buyer_id):
        raise Forbidden("that buyer account is not assigned to you")
    return found


@router.get("/rep/quotes")
def rep_quotes(request: Request, market: MarketplaceDep, visitor: SignedIn) -> Response:
    rep = rep_of(market, visitor)
    ids, _ = market.order_lists.quotes(
        200,
        None,
        _now(market),
        reseller_id=str(rep.reseller_id),
        buyer_ids=[str(b) for b in rep.buyer_ids],
    )
    items = _rows(market, ids)
    names = names_of(market, (i["buyer_id"] for i in items))
    context = {"items": items, "side": "seller", "names": names, "base": "/rep/quotes"}
    return render(request, "quotes.html", context, visitor=visitor)


@router.get("/rep/quotes/{quote_id}")
def rep_quote(
    request: Request, quote_id: UUID, market: MarketplaceDep, visitor: SignedIn
) -> Response:
    found = _rep_quote(market, rep_of(market, visitor), quote_id)
    context = {"side": "seller", "staff": {"role": "sales_rep"}, "base": "/rep/quotes"}
    return _thread(request, market, found, context, visitor=visitor)


@router.post("/rep/quotes/{quote_id}/offer", dependencies=[CsrfChecked])
async def rep_offer(
    request: Request, quote_id: UUID, market: MarketplaceDep, visitor: SignedIn
) -> Response:
    rep = rep_of(market, visitor)
    found = _rep_quote(market, rep, quote_id)
    lines, valid_to, comment = _offer_form(await request.form(), found)
    market.quoting.offer(rep.reseller_id, quote_id, lines, valid_to, comment)
    return redirect(f"/rep/quotes/{quote_id}?{urlencode({'notice': 'Offer sent'})}")
