"""Messages and incidents in the pages: the buyer on its order page, the seller on its seller
order page, the operator on a seller order's own page; and each side's list of incidents."""

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from marketplace.kernel.errors import Forbidden, Invalid
from marketplace.pages.freshness import caught_up
from marketplace.pages.names import names_of
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentShopper, Shopper
from marketplace.pages.staff import Staff, staff
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from orders.billing.incident import REASONS
from orders.conversation import MAX_BODY, Author, messages_of
from orders.domain import SellerOrder

router = APIRouter(include_in_schema=False)
OrdersClerk = Annotated[Staff, Depends(staff("reseller", "orders"))]
Operator = Annotated[Staff, Depends(staff("operator", "support"))]
PAGE_SIZE = 50
STATUSES = ("open", "resolved", "closed")


def talk_of(market: Marketplace, seller_orders: list[SellerOrder]) -> dict[str, dict[str, Any]]:
    """Per seller order: its messages and its incidents, for the conversation partial."""
    incidents = market.billing_lists.incidents_of([str(so.id) for so in seller_orders])
    return {
        str(so.id): {
            "seller_order_id": str(so.id),
            "messages": messages_of(so),
            "incidents": [i for i in incidents if i["seller_order_id"] == str(so.id)],
        }
        for so in seller_orders
    }


DONE = {
    "message": "Your message is sent.",
    "incident": "The incident is reported; the seller is told.",
    "closed": "The incident is closed; what was paid on the order goes out with the next payout.",
}


def talk_notice(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done") or "")


async def _text(request: Request, field: str, required: bool = True) -> str:
    form = await request.form()
    text = str(form.get(field) or "").strip()
    if required and not text:
        raise Invalid("write something first")
    if len(text) > MAX_BODY:
        raise Invalid(f"at most {MAX_BODY} characters")
    return text


def _buyer_author(shopper: Shopper) -> Author:
    if shopper.user is None:
        raise Forbidden("a sales rep reads the conversation; the buyer's people write in it")
    return {"kind": "buyer_user", "name": shopper.user.name, "id": str(shopper.visitor.person.id)}


def _staff_author(clerk: Staff) -> Author:
    kind = "operator" if clerk.side == "operator" else "reseller"
    name = f"{clerk.visitor.person.name} ({clerk.account_name})"
    return {"kind": kind, "name": name, "id": str(clerk.visitor.person.id)}


# The buyer


@router.post("/seller-orders/{seller_order_id}/messages", dependencies=[CsrfChecked])
async def buyer_message(
    request: Request, seller_order_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    body = await _text(request, "body")
    so = market.conversation.seller_order(seller_order_id, buyer_id=shopper.buyer_id)
    market.conversation.post(
        seller_order_id, _buyer_author(shopper), body, buyer_id=shopper.buyer_id
    )
    return redirect(f"/orders/{so.order_id}?done=message#talk-{seller_order_id}")


@router.post("/seller-orders/{seller_order_id}/incidents", dependencies=[CsrfChecked])
async def buyer_incident(
    request: Request, seller_order_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    form = await request.form()
    reason = str(form.get("reason") or "")
    if reason not in REASONS:
        raise Invalid(f"choose what went wrong: {', '.join(REASONS)}")
    try:
        products = [UUID(str(p)) for p in form.getlist("product_ids")[:500]]
    except ValueError as error:
        raise Invalid("a product concerned is not one of this order's") from error
    comment = await _text(request, "comment")
    so = market.conversation.seller_order(seller_order_id, buyer_id=shopper.buyer_id)
    market.incidents.open(so, reason, products, comment, _buyer_author(shopper))
    return redirect(f"/orders/{so.order_id}?done=incident#talk-{seller_order_id}")


@router.post("/incidents/{incident_id}/close", dependencies=[CsrfChecked])
async def buyer_close(
    request: Request, incident_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    comment = await _text(request, "comment", required=False)
    incident = market.incidents.close(
        incident_id, shopper.buyer_id, comment, _buyer_author(shopper)
    )
    return redirect(f"/orders/{incident.order_id}?done=closed")


@router.get("/incidents")
def buyer_incidents(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    status: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    caught_up(market, request, "billing")
    return _list(
        request,
        market,
        "buyer",
        status,
        cursor,
        shopper=shopper,
        buyer_id=str(shopper.buyer_id),
        seller_id=shopper.reseller_filter,
    )


# The seller


@router.post("/reseller/orders/{seller_order_id}/messages", dependencies=[CsrfChecked])
async def seller_message(
    request: Request, seller_order_id: UUID, market: MarketplaceDep, clerk: OrdersClerk
) -> Response:
    body = await _text(request, "body")
    market.conversation.post(seller_order_id, _staff_author(clerk), body, seller_id=clerk.seller_id)
    return redirect(f"/reseller/orders/{seller_order_id}?done=message#talk-{seller_order_id}")


@router.post("/reseller/incidents/{incident_id}/resolve", dependencies=[CsrfChecked])
async def seller_resolve(
    request: Request, incident_id: UUID, market: MarketplaceDep, clerk: OrdersClerk
) -> Response:
    comment = await _text(request, "comment")
    incident = market.incidents.resolve(incident_id, clerk.seller_id, comment, _staff_author(clerk))
    return redirect(f"/reseller/orders/{incident.seller_order_id}?done=resolve")


@router.get("/reseller/incidents")
def seller_incidents(
    request: Request,
    market: MarketplaceDep,
    clerk: OrdersClerk,
    status: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    caught_up(market, request, "billing")
    return _list(
        request, market, "seller", status, cursor, clerk=clerk, seller_id=str(clerk.seller_id)
    )


# The operator


@router.get("/operator/incidents")
def operator_incidents(
    request: Request,
    market: MarketplaceDep,
    clerk: Operator,
    status: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    caught_up(market, request, "billing")
    return _list(request, market, "operator", status, cursor, clerk=clerk)


@router.get("/operator/seller-orders/{seller_order_id}")
def operator_seller_order(
    request: Request, seller_order_id: UUID, market: MarketplaceDep, clerk: Operator
) -> Response:
    caught_up(market, request, "billing")
    so = market.conversation.seller_order(seller_order_id)
    names = names_of(market, [str(so.reseller_id), str(so.buyer_id)])
    return render(
        request,
        "operator_seller_order.html",
        {
            "so": so,
            "seller_name": names.get(str(so.reseller_id), ""),
            "buyer_name": names.get(str(so.buyer_id), ""),
            "talk": talk_of(market, [so])[str(so.id)],
            "can_write": clerk.role != "support",
            "notice": talk_notice(request),
        },
        visitor=clerk.visitor,
    )


@router.post("/operator/seller-orders/{seller_order_id}/messages", dependencies=[CsrfChecked])
async def operator_message(
    request: Request, seller_order_id: UUID, market: MarketplaceDep, clerk: Operator
) -> Response:
    body = await _text(request, "body")
    market.conversation.post(seller_order_id, _staff_author(clerk), body)
    return redirect(f"/operator/seller-orders/{seller_order_id}?done=message")


@router.post("/operator/incidents/{incident_id}/close", dependencies=[CsrfChecked])
async def operator_close(
    request: Request, incident_id: UUID, market: MarketplaceDep, clerk: Operator
) -> Response:
    comment = await _text(request, "comment", required=False)
    incident = market.incidents.close(incident_id, None, comment, _staff_author(clerk))
    return redirect(f"/operator/seller-orders/{incident.seller_order_id}?done=closed")


def _list(
    request: Request,
    market: Marketplace,
    side: str,
    status: str,
    cursor: str,
    shopper: Shopper | None = None,
    clerk: Staff | None = None,
    **scope: str | None,
) -> Response:
    chosen = status if status in STATUSES else None
    items, next_cursor = market.billing_lists.incidents(
        PAGE_SIZE, cursor or None, status=chosen, **scope
    )
    names = names_of(market, {i["reseller_id"] for i in items} | {i["buyer_id"] for i in items})
    base = {"buyer": "/incidents", "seller": "/reseller/incidents"}.get(side, "/operator/incidents")
    query = {"status": chosen or "", "cursor": next_cursor or ""}
    return render(
        request,
        "incidents.html",
        {
            "items": items,
            "names": names,
            "side": side,
            "status": chosen,
            "statuses": STATUSES,
            "base": base,
            "next_url": f"{base}?{urlencode(query)}" if next_cursor else None,
        },
        shopper=shopper,
        visitor=clerk.visitor if clerk else None,
    )
