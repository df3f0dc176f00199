"""Webhooks in the pages: a seller's or the operator's admins in the back office, and a
buyer's admins, subscribe URLs, read each one's deliveries, retry one, replay from a date."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from marketplace.kernel.errors import DomainError, Forbidden, Invalid
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked, SignedIn, Visitor
from marketplace.pages.shopper import shopper_of
from marketplace.pages.staff import staff_of
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from marketplace.webhooks.post import new_secret
from marketplace.webhooks.replay import replay
from marketplace.webhooks.scope import check_patterns
from marketplace.webhooks.store import describe_delivery
from marketplace.webhooks.urls import check

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


@dataclass(frozen=True)
class Owner:
    visitor: Visitor
    account_id: str | None  # None: the operator
    may_change: bool


def webhook_owner(market: MarketplaceDep, visitor: SignedIn) -> Owner:
    staff = staff_of(market, visitor)
    if staff is not None:
        if staff.role not in ("admin", "support"):
            raise Forbidden("only an admin manages its organisation's webhooks")
        account = None if staff.side == "operator" else str(staff.account_id)
        return Owner(visitor, account, staff.role == "admin")
    if visitor.person.principal == "buyer_user":
        shopper = shopper_of(market, visitor)
        if shopper.user is not None and shopper.user.role == "admin":
            return Owner(visitor, str(shopper.buyer_id), True)
    raise Forbidden("only an admin manages its organisation's webhooks")


WebhookOwner = Annotated[Owner, Depends(webhook_owner)]


def _changing(owner: Owner) -> None:
    if not owner.may_change:
        raise Forbidden("a support role reads; it changes nothing")


def _list(
    request: Request, market: Marketplace, owner: Owner, extra: dict[str, object], code: int = 200
) -> Response:
    return render(
        request,
        "webhooks.html",
        {
            "hooks": [s.describe() for s in market.webhooks.of(owner.account_id)],
            "may_change": owner.may_change,
            "form": {},
            **extra,
        },
        status=code,
        visitor=owner.visitor,
    )


@router.get("/webhooks")
def webhooks(request: Request, market: MarketplaceDep, owner: WebhookOwner) -> Response:
    return _list(request, market, owner, {})


@router.post("/webhooks", dependencies=[CsrfChecked])
async def subscribe(request: Request, market: MarketplaceDep, owner: WebhookOwner) -> Response:
    _changing(owner)
    form = await request.form()
    url = str(form.get("url") or "").strip()[:2000]
    events = [e for e in str(form.get("events") or "").replace(",", " ").split() if e][:50]
    description = str(form.get("description") or "").strip()[:200] or None
    try:
        patterns = check_patterns(events)
    except ValueError as error:
        return _list(request, market, owner, {"error": str(error), "form": dict(form)}, 422)
    try:
        check(url, market.settings.webhooks_allow_private)
    except DomainError as error:
        return _list(request, market, owner, {"error": str(error.detail), "form": dict(form)}, 422)
    made = market.webhooks.subscribe(owner.account_id, url, patterns, description, new_secret())
    # The secret is shown this once, on the answer to the form, never in a URL.
    return _list(request, market, owner, {"created": made.describe(), "secret": made.secret})


@router.get("/webhooks/{webhook_id}")
def webhook(
    request: Request, webhook_id: str, market: MarketplaceDep, owner: WebhookOwner
) -> Response:
    found = market.webhooks.get(webhook_id, owner.account_id)
    rows = market.webhooks.deliveries(webhook_id, None, PAGE_SIZE, None)
    return render(
        request,
        "webhook.html",
        {
            "hook": found.describe(),
            "deliveries": [describe_delivery(r) for r in rows],
            "may_change": owner.may_change,
            "notice": {
                "retry": "The delivery is sent again.",
                "replay": "The events are queued again.",
            }.get(request.query_params.get("done") or ""),
        },
        visitor=owner.visitor,
    )


@router.post("/webhooks/{webhook_id}/delete", dependencies=[CsrfChecked])
def delete(webhook_id: str, market: MarketplaceDep, owner: WebhookOwner) -> Response:
    _changing(owner)
    market.webhooks.delete(webhook_id, owner.account_id)
    return redirect("/webhooks")


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", dependencies=[CsrfChecked])
def retry(
    webhook_id: str, delivery_id: str, market: MarketplaceDep, owner: WebhookOwner
) -> Response:
    _changing(owner)
    market.webhooks.get(webhook_id, owner.account_id)
    market.webhooks.retry(webhook_id, delivery_id)
    market.nudge_webhooks()
    return redirect(f"/webhooks/{webhook_id}?done=retry")


@router.post("/webhooks/{webhook_id}/replay", dependencies=[CsrfChecked])
async def replay_since(
    request: Request, webhook_id: str, market: MarketplaceDep, owner: WebhookOwner
) -> Response:
    _changing(owner)
    found = market.webhooks.get(webhook_id, owner.account_id)
    form = await request.form()
    try:
        since = datetime.fromisoformat(str(form.get("since") or "")).replace(tzinfo=UTC)
    except ValueError as error:
        raise Invalid("give the date and time to replay from") from error
    replay(market.events, market.projections, market.webhooks, found, since)
    market.nudge_webhooks()
    return redirect(f"/webhooks/{webhook_id}?done=replay")
