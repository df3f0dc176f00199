"""A buyer company's users, for its admins: invite, change role and spending limit, disable."""

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from marketplace.buyers.domain import ROLES, Role
from marketplace.kernel.errors import DomainError, Invalid
from marketplace.kernel.keys import mint
from marketplace.kernel.money import MAX_AMOUNT, Money, is_currency
from marketplace.kernel.people import normal_email
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentAdmin, Shopper
from marketplace.people.application import NewPerson
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=254)]


def spending_limit(amount: str, currency: str) -> Money | None:
    """A limit typed as a decimal in major units ("2500" or "2500.50"); empty means none."""
    if not amount.strip():
        return None
    try:
        value = Decimal(amount.strip().replace(",", ""))
    except InvalidOperation as error:
        raise Invalid("write the spending limit as a number, like 2500.00") from error
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise Invalid("the spending limit is a positive amount with at most two decimals")
    if not is_currency(currency):
        raise Invalid("choose a currency code like EUR")
    minor = int(value * 100)
    if minor > MAX_AMOUNT:
        raise Invalid("the spending limit is too large")
    return Money(minor, currency)


def _rows(market: Marketplace, shopper: Shopper) -> list[dict[str, Any]]:
    rows = []
    for user in shopper.buyer.users.values():
        person = market.people.find(user.email) if user.email else None
        if user.disabled:
            state = "disabled"
        elif person is not None and not person.has_password:
            state = "invited"
        elif person is None:
            state = "API key only"
        else:
            state = "active"
        rows.append({"user": user, "state": state})
    return sorted(rows, key=lambda r: r["user"].name.lower())


def _page(
    request: Request,
    market: Marketplace,
    shopper: Shopper,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "users.html",
        {"rows": _rows(market, shopper), "roles": ROLES, "form": {}, "errors": {}, **(extra or {})},
        status=status,
        shopper=shopper,
    )


@router.get("/users")
def users(request: Request, market: MarketplaceDep, shopper: CurrentAdmin) -> Response:
    notice = {
        "changed": "The user was changed.",
        "disabled": "The user was disabled.",
        "enabled": "The user can sign in again.",
    }.get(request.query_params.get("done", ""))
    return _page(request, market, shopper, {"notice": notice})


@router.post("/users", dependencies=[CsrfChecked])
def invite(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentAdmin,
    name: Short,
    email: Short,
    role: Short,
    limit: Short = "",
    currency: Short = "EUR",
) -> Response:
    form = {"name": name, "email": email, "role": role, "limit": limit, "currency": currency}
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "give the colleague's name"
    if role not in ROLES:
        errors["role"] = "choose a role"
    money = None
    try:
        money = spending_limit(limit, currency)
    except DomainError as error:
        errors["limit"] = str(error.detail)
    link = None
    if not errors:
        try:
            people = market.people.drafting(
                NewPerson(email, name.strip(), None), "buyer_user", role
            )
            market.buyers.add_user(
                shopper.buyer_id,
                name.strip()[:200],
                _role(role),
                money,
                mint("b", market.secret),
                normal_email(email),
                people,
            )
            person = market.people.find(email)
            assert person is not None
            link = str(request.url_for("invitation", token=market.people.invitation(person)))
        except DomainError as error:
            errors["email"] = str(error.detail)
    if errors:
        return _page(request, market, shopper, {"form": form, "errors": errors}, 422)
    shopper = replace(shopper, buyer=market.buyers.buyer(shopper.buyer_id))
    return _page(request, market, shopper, {"invited": {"email": email, "link": link}})


def _role(role: str) -> Role:
    for known in ROLES:
        if known == role:
            return known
    raise Invalid("choose a role")


@router.post("/users/{user_id}", dependencies=[CsrfChecked])
def change(
    request: Request,
    user_id: UUID,
    market: MarketplaceDep,
    shopper: CurrentAdmin,
    role: Short,
    limit: Short = "",
    currency: Short = "EUR",
) -> Response:
    assert shopper.user is not None
    try:
        market.buyers.change_user(
            shopper.buyer_id, shopper.user.id, user_id, _role(role), spending_limit(limit, currency)
        )
    except DomainError as error:
        return _page(request, market, shopper, {"row_error": (user_id, str(error.detail))}, 422)
    return redirect("/users?done=changed")


@router.post("/users/{user_id}/disable", dependencies=[CsrfChecked])
def disable(
    request: Request, user_id: UUID, market: MarketplaceDep, shopper: CurrentAdmin
) -> Response:
    return _set_disabled(request, market, shopper, user_id, True)


@router.post("/users/{user_id}/enable", dependencies=[CsrfChecked])
def enable(
    request: Request, user_id: UUID, market: MarketplaceDep, shopper: CurrentAdmin
) -> Response:
    return _set_disabled(request, market, shopper, user_id, False)


def _set_disabled(
    request: Request, market: Marketplace, shopper: Shopper, user_id: UUID, disabled: bool
) -> Response:
    assert shopper.user is not None
    try:
        market.buyers.set_user_disabled(shopper.buyer_id, shopper.user.id, user_id, disabled)
    except DomainError as error:
        return _page(request, market, shopper, {"row_error": (user_id, str(error.detail))}, 409)
    email = shopper.buyer.users[user_id].email
    person = market.people.find(email) if email else None
    if disabled and person is not None:
        market.web_sessions.close_all(str(person.id))
    return redirect(f"/users?done={'disabled' if disabled else 'enabled'}")
