"""Webhooks over HTTP (api.md v1.2): subscriptions per account, their delivery log, a
manual retry and a replay from a date."""

import threading
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, Field, StringConstraints

from marketplace.kernel.errors import Forbidden, Invalid
from marketplace.platform import Marketplace
from marketplace.web.answers import Answer, errors
from marketplace.web.auth import CurrentPrincipal, MarketplaceDep, Principal
from marketplace.web.schemas import Limit, Strict
from marketplace.webhooks.post import new_secret
from marketplace.webhooks.replay import replay
from marketplace.webhooks.scope import MAX_PATTERNS, check_patterns
from marketplace.webhooks.store import describe_delivery
from marketplace.webhooks.urls import MAX_URL, check

router = APIRouter(prefix="/v1", tags=["webhooks"])
Pattern = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class WebhookIn(Strict):
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL)]
    events: Annotated[list[Pattern], Field(min_length=1, max_length=MAX_PATTERNS)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = (
        None
    )


class ReplayIn(Strict):
    since: AwareDatetime


class WebhookCreated(Answer):
    webhook_id: str
    secret: str


class WebhookPublic(Answer):
    webhook_id: str
    url: str
    events: list[str]
    description: str | None
    status: str
    failing_since: str | None
    created_at: str


class WebhookList(Answer):
    items: list[WebhookPublic]


class DeliveryPublic(Answer):
    delivery_id: str
    event_id: str
    type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None


class DeliveryList(Answer):
    items: list[DeliveryPublic]


class RetryAnswer(Answer):
    delivery_id: str
    status: str


class ReplayAnswer(Answer):
    webhook_id: str
    since: str
    status: str


def account_of(market: Marketplace, principal: Principal) -> str | None:
    """Whose events a key's webhooks get: the operator's all (None), anyone else its own
    account's; a buyer's users need the admin role."""
    if principal.kind == "operator":
        return None
    if principal.kind == "buyer_user":
        buyer = market.buyers.buyer(principal.id) if principal.id else None
        user = buyer.active_user(principal.user_id) if buyer and principal.user_id else None
        if user is None or user.role != "admin":
            raise Forbidden("only a buyer's admins manage its webhooks")
    return str(principal.id)


@router.post(
    "/webhooks", status_code=201, response_model=WebhookCreated, responses=errors(401, 403, 422)
)
def subscribe(
    body: WebhookIn, principal: CurrentPrincipal, market: MarketplaceDep
) -> dict[str, Any]:
    """Subscribe a URL to events; the answer's secret (shown once) signs every delivery."""
    account = account_of(market, principal)
    try:
        events = check_patterns(body.events)
    except ValueError as error:
        raise Invalid(str(error)) from error
    check(body.url, market.settings.webhooks_allow_private)
    made = market.webhooks.subscribe(account, body.url, events, body.description, new_secret())
    return {"webhook_id": made.id, "secret": made.secret}


@router.get("/webhooks", response_model=WebhookList, responses=errors(401, 403, 422))
def subscriptions(principal: CurrentPrincipal, market: MarketplaceDep) -> dict[str, Any]:
    account = account_of(market, principal)
    return {"items": [s.describe() for s in market.webhooks.of(account)]}


@router.get(
    "/webhooks/{webhook_id}", response_model=WebhookPublic, responses=errors(401, 403, 404, 422)
)
def subscription(
    webhook_id: str, principal: CurrentPrincipal, market: MarketplaceDep
) -> dict[str, Any]:
    return market.webhooks.get(webhook_id, account_of(market, principal)).describe()


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=errors(401, 403, 404, 422))
def unsubscribe(webhook_id: str, principal: CurrentPrincipal, market: MarketplaceDep) -> None:
    """Stops deliveries at once; those pending are dropped."""
    market.webhooks.delete(webhook_id, account_of(market, principal))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryList,
    responses=errors(401, 403, 404, 422),
)
def deliveries(
    webhook_id: str,
    principal: CurrentPrincipal,
    market: MarketplaceDep,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """The newest deliveries first."""
    market.webhooks.get(webhook_id, account_of(market, principal))
    rows = market.webhooks.deliveries(webhook_id, status, limit, None)
    return {"items": [describe_delivery(r) for r in rows]}


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=RetryAnswer,
    responses=errors(401, 403, 404, 422),
)
def retry(
    webhook_id: str, delivery_id: str, principal: CurrentPrincipal, market: MarketplaceDep
) -> dict[str, Any]:
    market.webhooks.get(webhook_id, account_of(market, principal))
    market.webhooks.retry(webhook_id, delivery_id)
    market.nudge_webhooks()
    return {"delivery_id": delivery_id, "status": "pending"}


@router.post(
    "/webhooks/{webhook_id}/replay",
    status_code=202,
    response_model=ReplayAnswer,
    responses=errors(401, 403, 404, 422),
)
async def replay_since(
    webhook_id: str, body: ReplayIn, principal: CurrentPrincipal, market: MarketplaceDep
) -> dict[str, Any]:
    """Delivers again every event since `since` that the subscription may see (and
    enables it again if it was disabled); queued in the background."""
    found = await run_in_threadpool(market.webhooks.get, webhook_id, account_of(market, principal))
    since = body.since.astimezone(UTC)
    if since > datetime.now(UTC):
        raise Invalid("since: a moment in the past")

    def run() -> None:
        replay(market.events, market.projections, market.webhooks, found, since)
        market.nudge_webhooks()

    threading.Thread(target=run, name=f"replay-{webhook_id}", daemon=True).start()
    return {"webhook_id": webhook_id, "since": since.isoformat(), "status": "queued"}
