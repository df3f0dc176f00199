"""Messages and incidents over HTTP (api.md v1.2): the buyer, the seller and the operator
write on a seller order; the buyer reports incidents, the seller resolves them, the buyer or
the operator closes them."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field, StringConstraints

from marketplace.platform import Marketplace
from marketplace.web.answers import Answer, Page, errors
from marketplace.web.auth import CurrentBuyerUser, CurrentOperator, CurrentReseller, MarketplaceDep
from marketplace.web.schemas import Cursor, Limit, Strict, page
from marketplace.web.waiting import BillingReady
from orders.billing.incident import describe_incident
from orders.conversation import MAX_BODY, Author, messages_of

router = APIRouter(prefix="/v1")
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_BODY)]
IncidentStatus = Literal["open", "resolved", "closed"]
OPERATOR: Author = {"kind": "operator", "name": "Marketplace operator", "id": "operator"}


class MessageIn(Strict):
    body: Body


class AuthorPublic(Answer):
    kind: str
    name: str


class MessagePublic(Answer):
    message_id: str
    author: AuthorPublic
    body: str
    at: str


class Messages(Answer):
    items: list[MessagePublic]


class MessagePosted(Answer):
    message_id: str


class IncidentIn(Strict):
    reason: Literal["not_received", "damaged", "wrong_item", "other"]
    product_ids: Annotated[list[UUID], Field(max_length=500)] = []
    comment: Body


class CommentIn(Strict):
    comment: Comment = ""


class IncidentStep(Answer):
    status: str
    comment: str
    by: AuthorPublic
    at: str


class IncidentPublic(Answer):
    incident_id: str
    seller_order_id: str
    order_id: str
    buyer_id: str
    reseller_id: str
    reason: str
    product_ids: list[str]
    comment: str
    status: str
    opened_at: str
    history: list[IncidentStep]


class IncidentOpened(Answer):
    incident_id: str
    status: str


def _public(incident: dict[str, Any]) -> dict[str, Any]:
    return {
        **incident,
        "history": [
            {**h, "by": {"kind": h["by"].get("kind", ""), "name": h["by"].get("name", "")}}
            for h in incident["history"]
        ],
    }


def _buyer_author(session: CurrentBuyerUser) -> Author:
    return {"kind": "buyer_user", "name": session.user.name, "id": str(session.user.id)}


def _seller_author(market: Marketplace, reseller: CurrentReseller) -> Author:
    return {"kind": "reseller", "name": reseller.name, "id": str(reseller.id)}


# Messages


@router.post(
    "/buyer/seller-orders/{seller_order_id}/messages",
    status_code=201,
    tags=["buyer"],
    response_model=MessagePosted,
    responses=errors(401, 403, 422, 404, 409),
)
def buyer_post(
    seller_order_id: UUID, body: MessageIn, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """Write to the seller about one of your seller orders."""
    message_id = market.conversation.post(
        seller_order_id, _buyer_author(session), body.body, buyer_id=session.buyer.id
    )
    return {"message_id": str(message_id)}


@router.get(
    "/buyer/seller-orders/{seller_order_id}/messages",
    tags=["buyer"],
    response_model=Messages,
    responses=errors(401, 403, 422, 404),
)
def buyer_messages(
    seller_order_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    found = market.conversation.seller_order(seller_order_id, buyer_id=session.buyer.id)
    return {"items": messages_of(found)}


@router.post(
    "/reseller/orders/{seller_order_id}/messages",
    status_code=201,
    tags=["reseller"],
    response_model=MessagePosted,
    responses=errors(401, 403, 422, 404, 409),
)
def seller_post(
    seller_order_id: UUID, body: MessageIn, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Write to the buyer about one of your seller orders."""
    message_id = market.conversation.post(
        seller_order_id, _seller_author(market, reseller), body.body, seller_id=reseller.id
    )
    return {"message_id": str(message_id)}


@router.get(
    "/reseller/orders/{seller_order_id}/messages",
    tags=["reseller"],
    response_model=Messages,
    responses=errors(401, 403, 422, 404),
)
def seller_messages(
    seller_order_id: UUID, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    found = market.conversation.seller_order(seller_order_id, seller_id=reseller.id)
    return {"items": messages_of(found)}


@router.post(
    "/operator/seller-orders/{seller_order_id}/messages",
    status_code=201,
    tags=["operator"],
    response_model=MessagePosted,
    responses=errors(401, 403, 422, 404, 409),
)
def operator_post(
    seller_order_id: UUID, body: MessageIn, _op: CurrentOperator, market: MarketplaceDep
) -> dict[str, Any]:
    """Write on a seller order's conversation, which its buyer and its seller both read."""
    message_id = market.conversation.post(seller_order_id, OPERATOR, body.body)
    return {"message_id": str(message_id)}


@router.get(
    "/operator/seller-orders/{seller_order_id}/messages",
    tags=["operator"],
    response_model=Messages,
    responses=errors(401, 403, 422, 404),
)
def operator_messages(
    seller_order_id: UUID, _op: CurrentOperator, market: MarketplaceDep
) -> dict[str, Any]:
    return {"items": messages_of(market.conversation.seller_order(seller_order_id))}


# Incidents


@router.post(
    "/buyer/seller-orders/{seller_order_id}/incidents",
    status_code=201,
    tags=["buyer"],
    response_model=IncidentOpened,
    responses=errors(401, 403, 422, 404, 409),
)
def open_incident(
    seller_order_id: UUID, body: IncidentIn, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """Report a problem with a seller order; payments on it wait out of payouts meanwhile."""
    found = market.conversation.seller_order(seller_order_id, buyer_id=session.buyer.id)
    incident = market.incidents.open(
        found, body.reason, body.product_ids, body.comment, _buyer_author(session)
    )
    return {"incident_id": str(incident.id), "status": incident.status}


@router.post(
    "/reseller/incidents/{incident_id}/resolve",
    tags=["reseller"],
    response_model=IncidentPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def resolve_incident(
    incident_id: UUID, body: CommentIn, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Say what you did about an incident; its buyer (or the operator) then closes it."""
    incident = market.incidents.resolve(
        incident_id, reseller.id, body.comment, _seller_author(market, reseller)
    )
    return _public(describe_incident(incident))


@router.post(
    "/buyer/incidents/{incident_id}/close",
    tags=["buyer"],
    response_model=IncidentPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def buyer_close(
    incident_id: UUID,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    body: CommentIn | None = None,
) -> dict[str, Any]:
    incident = market.incidents.close(
        incident_id, session.buyer.id, body.comment if body else "", _buyer_author(session)
    )
    return _public(describe_incident(incident))


@router.post(
    "/operator/incidents/{incident_id}/close",
    tags=["operator"],
    response_model=IncidentPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def operator_close(
    incident_id: UUID, _op: CurrentOperator, market: MarketplaceDep, body: CommentIn | None = None
) -> dict[str, Any]:
    incident = market.incidents.close(incident_id, None, body.comment if body else "", OPERATOR)
    return _public(describe_incident(incident))


def _incidents(
    market: Marketplace,
    status: IncidentStatus | None,
    limit: int,
    cursor: str | None,
    **scope: str | None,
) -> dict[str, Any]:
    items, next_cursor = market.billing_lists.incidents(limit, cursor, status=status, **scope)
    return page([_public(i) for i in items], next_cursor)


@router.get(
    "/buyer/incidents",
    tags=["buyer"],
    response_model=Page[IncidentPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def buyer_incidents(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: Annotated[IncidentStatus | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return _incidents(market, status, limit, cursor, buyer_id=str(session.buyer.id))


@router.get(
    "/reseller/incidents",
    tags=["reseller"],
    response_model=Page[IncidentPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def seller_incidents(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: Annotated[IncidentStatus | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return _incidents(market, status, limit, cursor, seller_id=str(reseller.id))


@router.get(
    "/operator/incidents",
    tags=["operator"],
    response_model=Page[IncidentPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def operator_incidents(
    _op: CurrentOperator,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: Annotated[IncidentStatus | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return _incidents(market, status, limit, cursor)
