"""Quotes over HTTP: buyers ask and decide, resellers and their sales reps offer."""

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from marketplace.kernel.errors import Forbidden
from marketplace.kernel.payments import PaymentMethod
from marketplace.platform import Marketplace
from marketplace.web.answers import OrderPublic, Page, errors
from marketplace.web.auth import (
    CurrentBuyerUser,
    CurrentReseller,
    CurrentSalesRep,
    MarketplaceDep,
)
from marketplace.web.buying_answers import QuoteCreated, QuoteOffered, QuotePublic
from marketplace.web.idempotent import idempotent
from marketplace.web.schemas import (
    Cursor,
    Limit,
    MoneyIn,
    Quantity,
    Reason,
    ShippingAddress,
    ShippingMethods,
    Strict,
    page,
)
from marketplace.web.waiting import OrdersReady
from orders.quoting.application import describe_quote
from orders.quoting.domain import Quote, QuoteStatus

router = APIRouter(prefix="/v1")
StatusFilter = Annotated[QuoteStatus | None, Query()]


class QuoteLine(Strict):
    product_id: UUID
    quantity: Quantity


class QuoteCreate(Strict):
    reseller_id: UUID
    lines: Annotated[list[QuoteLine], Field(min_length=1, max_length=500)]
    comment: Reason | None = None
    requested_delivery_on: date | None = None


class OfferLine(Strict):
    product_id: UUID
    quantity: Quantity
    unit_price: MoneyIn
    lead_time_days: Annotated[int, Field(strict=True, ge=0, le=3650)]


class OfferCreate(Strict):
    lines: Annotated[list[OfferLine], Field(min_length=1, max_length=500)]
    valid_to: datetime
    comment: Reason | None = None


class Say(Strict):
    comment: Reason | None = None
    reason: Reason | None = None


class QuoteAccept(Strict):
    payment_method: PaymentMethod
    po_number: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    cost_centre_id: UUID | None = None
    shipping_address: ShippingAddress | None = None
    shipping_methods: ShippingMethods | None = None


def _now(market: Marketplace) -> str:
    return market.clock.now().isoformat()


def _listed(market: Marketplace, ids: list[str], next_cursor: str | None) -> dict[str, Any]:
    found = market.orders.get_many([UUID(i) for i in ids], Quote)
    now = _now(market)
    return page([describe_quote(found[UUID(i)], now) for i in ids if UUID(i) in found], next_cursor)


# Buyers


@router.post(
    "/buyer/quotes",
    response_model=QuoteCreated,
    status_code=201,
    tags=["buyer"],
    responses=errors(401, 403, 422, 404),
)
def request_quote(
    body: QuoteCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Ask a reseller for a price on lines of products and quantities."""
    quantities: dict[UUID, int] = {}
    for line in body.lines:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        made = market.quoting.request(
            session.buyer.id,
            str(session.user.id),
            body.reseller_id,
            list(quantities.items()),
            body.comment,
            body.requested_delivery_on.isoformat() if body.requested_delivery_on else None,
        )
        return 201, {"quote_id": str(made.id), "status": made.stage}

    scope = f"buyer:{session.buyer.id}:{session.user.id}"
    return idempotent(market, request, scope, body.model_dump(mode="json"), run)


@router.get(
    "/buyer/quotes",
    response_model=Page[QuotePublic],
    tags=["buyer"],
    responses=errors(401, 403, 422, 400, 408),
)
def buyer_quotes(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: OrdersReady,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your organisation's quotes, newest first."""
    ids, next_cursor = market.order_lists.quotes(
        limit, cursor, _now(market), buyer_id=str(session.buyer.id), status=status
    )
    return _listed(market, ids, next_cursor)


@router.get(
    "/buyer/quotes/{quote_id}",
    response_model=QuotePublic,
    tags=["buyer"],
    responses=errors(401, 403, 422, 404),
)
def buyer_quote(
    quote_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """One quote with every version offered and the thread."""
    return describe_quote(market.quoting.quote(quote_id, buyer_id=session.buyer.id), _now(market))


@router.post(
    "/buyer/quotes/{quote_id}/accept",
    response_model=OrderPublic,
    status_code=201,
    tags=["buyer"],
    responses=errors(401, 403, 422, 402, 404, 409),
)
def accept_quote(
    quote_id: UUID,
    body: QuoteAccept,
    request: Request,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
) -> JSONResponse:
    """Accept the offer: an order at the quoted prices, placed as any order is."""

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        order = market.quoting.accept(
            session.buyer.id,
            {"kind": "buyer_user", "user_id": str(session.user.id), "name": session.user.name},
            session.user.spending_limit,
            quote_id,
            body.payment_method,
            body.po_number,
            body.cost_centre_id,
            body.shipping_address,
            body.shipping_methods,
        )
        return 201, market.orders.describe(order)

    scope = f"buyer:{session.buyer.id}:{session.user.id}"
    return idempotent(
        market, request, scope, {"quote": str(quote_id), **body.model_dump(mode="json")}, run
    )


@router.post(
    "/buyer/quotes/{quote_id}/{move}",
    response_model=QuotePublic,
    tags=["buyer"],
    responses=errors(401, 403, 422, 404, 409),
)
def buyer_move(
    quote_id: UUID,
    move: Literal["decline", "cancel", "renegotiate"],
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    body: Say | None = None,
) -> dict[str, Any]:
    """Decline an offer, cancel the request, or ask for a better offer, with a comment."""
    said = (body or Say()).comment
    moved = market.quoting.move(quote_id, move, said, buyer_id=session.buyer.id)
    return describe_quote(moved, _now(market))


# Resellers and their sales reps


@router.get(
    "/reseller/quotes",
    response_model=Page[QuotePublic],
    tags=["reseller"],
    responses=errors(401, 403, 422, 400, 408),
)
def reseller_quotes(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: OrdersReady,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The quotes your buyers asked you for, newest first."""
    ids, next_cursor = market.order_lists.quotes(
        limit, cursor, _now(market), reseller_id=str(reseller.id), status=status
    )
    return _listed(market, ids, next_cursor)


@router.get(
    "/sales-rep/quotes",
    response_model=Page[QuotePublic],
    tags=["sales rep"],
    responses=errors(401, 403, 422, 400, 408),
)
def rep_quotes(
    rep: CurrentSalesRep,
    market: MarketplaceDep,
    _ready: OrdersReady,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The quotes your assigned accounts asked your reseller for."""
    ids, next_cursor = market.order_lists.quotes(
        limit,
        cursor,
        _now(market),
        reseller_id=str(rep.reseller_id),
        buyer_ids=[str(b) for b in rep.buyer_ids],
        status=status,
    )
    return _listed(market, ids, next_cursor)


def _offer(
    market: Marketplace, reseller_id: UUID, quote_id: UUID, body: OfferCreate
) -> dict[str, Any]:
    quote = market.quoting.offer(
        reseller_id,
        quote_id,
        [
            {
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price.money(),
                "lead_time_days": line.lead_time_days,
            }
            for line in body.lines
        ],
        body.valid_to.isoformat(),
        body.comment,
    )
    return {"quote_id": str(quote.id), "status": quote.stage, "version": quote.offer_version}


@router.post(
    "/reseller/quotes/{quote_id}/offer",
    response_model=QuoteOffered,
    tags=["reseller"],
    responses=errors(401, 403, 422, 404, 409),
)
def reseller_offer(
    quote_id: UUID, body: OfferCreate, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Answer with the next version: per line a unit price (never below MAP), the quantity
    you will deliver and the lead time, and how long the offer holds."""
    return _offer(market, reseller.id, quote_id, body)


@router.post(
    "/sales-rep/quotes/{quote_id}/offer",
    response_model=QuoteOffered,
    tags=["sales rep"],
    responses=errors(401, 403, 422, 404, 409),
)
def rep_offer(
    quote_id: UUID, body: OfferCreate, rep: CurrentSalesRep, market: MarketplaceDep
) -> dict[str, Any]:
    """Offer on a quote of an assigned account, for your reseller."""
    quote = market.quoting.quote(quote_id, reseller_id=rep.reseller_id)
    if not rep.serves(quote.buyer_id):
        raise Forbidden("that buyer account is not assigned to you")
    return _offer(market, rep.reseller_id, quote_id, body)


@router.post(
    "/reseller/quotes/{quote_id}/{move}",
    response_model=QuotePublic,
    tags=["reseller"],
    responses=errors(401, 403, 422, 404, 409),
)
def reseller_move(
    quote_id: UUID,
    move: Literal["reject", "withdraw"],
    reseller: CurrentReseller,
    market: MarketplaceDep,
    body: Say | None = None,
) -> dict[str, Any]:
    """Reject a request, or withdraw an offer, with a reason."""
    said = (body or Say()).reason
    moved = market.quoting.move(quote_id, move, said, reseller_id=reseller.id)
    return describe_quote(moved, _now(market))
