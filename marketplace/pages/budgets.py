"""Cost centres and budgets in the storefront: admins define cost centres, assign users and
set budgets; admins and approvers read each budget's figures and its ledger."""

from datetime import date
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketplace.kernel.errors import Invalid
from marketplace.kernel.money import Money, is_currency
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentAdmin, CurrentApprover
from marketplace.web.auth import MarketplaceDep
from orders.budgets import ENFORCEMENTS

router = APIRouter(include_in_schema=False)


def _minor(text: str) -> int:
    whole, _, cents = text.strip().replace(",", "").partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise Invalid("write the amount as a number, such as 5000.00")
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)


@router.get("/budgets")
def budgets(request: Request, market: MarketplaceDep, shopper: CurrentApprover) -> Response:
    buyer = market.buyers.buyer(shopper.buyer_id)
    centres = list(buyer.cost_centres.values())
    found = market.budgeting.of([c.id for c in centres])
    return render(
        request,
        "budgets.html",
        {
            "centres": centres,
            "users": [u for u in buyer.users.values() if not u.disabled],
            "budgets": [b.describe() for b in found],
            "codes": {str(c.id): f"{c.code} {c.name}" for c in centres},
            "enforcements": ENFORCEMENTS,
            "is_admin": shopper.is_admin,
            "notice": request.query_params.get("notice"),
        },
        shopper=shopper,
    )


@router.post("/budgets/cost-centres", dependencies=[CsrfChecked])
async def add_cost_centre(
    request: Request, market: MarketplaceDep, shopper: CurrentAdmin
) -> Response:
    form = await request.form()
    name, code = str(form.get("name", "")).strip(), str(form.get("code", "")).strip()
    if not name or not code or len(name) > 200 or len(code) > 100:
        raise Invalid("give the cost centre a name and a code")
    market.buyers.add_cost_centre(shopper.buyer_id, name, code, [])
    return redirect(f"/budgets?{urlencode({'notice': f'Cost centre {code} added'})}")


@router.post("/budgets/assign", dependencies=[CsrfChecked])
async def assign(request: Request, market: MarketplaceDep, shopper: CurrentAdmin) -> Response:
    form = await request.form()
    try:
        user_id, centre_id = UUID(str(form.get("user_id"))), UUID(str(form.get("cost_centre_id")))
    except ValueError:
        raise Invalid("choose a user and a cost centre") from None
    market.buyers.assign_cost_centre(shopper.buyer_id, user_id, centre_id)
    return redirect(f"/budgets?{urlencode({'notice': 'User assigned'})}")


@router.post("/budgets", dependencies=[CsrfChecked])
async def set_budget(request: Request, market: MarketplaceDep, shopper: CurrentAdmin) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        centre_id = UUID(form.get("cost_centre_id", ""))
        starts_on = date.fromisoformat(form.get("starts_on", "")).isoformat()
        ends_on = date.fromisoformat(form.get("ends_on", "")).isoformat()
    except ValueError:
        raise Invalid("choose a cost centre, and write the dates as YYYY-MM-DD") from None
    currency = form.get("currency", "EUR")
    enforcement = form.get("enforcement", "")
    if not is_currency(currency) or enforcement not in ENFORCEMENTS:
        raise Invalid("choose a currency and what happens beyond the budget")
    market.buyers.buyer(shopper.buyer_id).cost_centre(centre_id)
    market.budgeting.create(
        shopper.buyer_id,
        centre_id,
        Money(_minor(form.get("amount", "")), currency),
        starts_on,
        ends_on,
        enforcement,
    )
    return redirect(f"/budgets?{urlencode({'notice': 'Budget set'})}")
