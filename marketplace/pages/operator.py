"""The operator's back office: a dashboard with charts, accounts (approve, suspend,
reinstate, with reason and history), commission rates, commissions and GMV per reseller,
the marketplace's orders, and the projections with a rebuild button.

`admin` acts; `support` reads every page and changes nothing (the staff check refuses its
posts)."""

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from marketplace.kernel.accounts import Account
from marketplace.kernel.errors import Conflict, DomainError, Invalid, NotFound
from marketplace.pages.charts import bars
from marketplace.pages.csvs import amount, csv_response
from marketplace.pages.freshness import caught_up
from marketplace.pages.history import timeline
from marketplace.pages.names import names_of
from marketplace.pages.render import clean_query, money, redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.staff import Staff, staff
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep

router = APIRouter(include_in_schema=False)
Operator = Annotated[Staff, Depends(staff("operator", "support"))]
Text = Annotated[str, Query(max_length=200)]
PAGE_SIZE = 25
DAYS = 30
ROLES = ("manufacturer", "reseller", "buyer")
STATES = ("pending", "approved", "suspended")
# A rebuild's progress, as this process sees it: (done, total) by projection.
PROGRESS: dict[str, tuple[int, int]] = {}
_progress_lock = threading.Lock()


def unit(currency: str) -> Callable[[int], str]:
    return lambda amount: money({"amount": amount, "currency": currency})


def _names(market: Marketplace) -> dict[str, str]:
    return {a["id"]: a["name"] for a in market.catalog.sellers("reseller", None)}


@router.get("/operator")
def dashboard(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    caught_up(market, request, "orders")
    since = (datetime.now(UTC) - timedelta(days=DAYS - 1)).date()
    daily = {(r["key"], r["currency"]): r for r in market.order_lists.daily(since.isoformat())}
    currencies = sorted({c for _, c in daily} or {"EUR"})
    days = [(since + timedelta(days=i)).isoformat() for i in range(DAYS)]
    charts = []
    for currency in currencies:
        rows = [daily.get((day, currency), {"orders": 0, "gmv": 0}) for day in days]
        charts.append(
            {
                "title": f"GMV per day, {currency}",
                "id": f"gmv-day-{currency}",
                "chart": bars(
                    [
                        (d, r["gmv"], money({"amount": r["gmv"], "currency": currency}))
                        for d, r in zip(days, rows, strict=True)
                    ],
                    unit(currency),
                    name_every=7,
                ),
            }
        )
        charts.append(
            {
                "title": f"Seller orders per day, {currency}",
                "id": f"orders-day-{currency}",
                "chart": bars(
                    [(d, r["orders"], str(r["orders"])) for d, r in zip(days, rows, strict=True)],
                    name_every=7,
                ),
            }
        )
    names = _names(market)
    for currency in currencies:
        sellers = [
            r for r in market.order_lists.per_seller(since.isoformat()) if r["currency"] == currency
        ]
        charts.append(
            {
                "title": f"GMV per seller over {DAYS} days, {currency}",
                "id": f"gmv-seller-{currency}",
                "chart": bars(
                    [
                        (
                            names.get(r["key"], r["key"][:8]),
                            r["gmv"],
                            money({"amount": r["gmv"], "currency": currency}),
                        )
                        for r in sellers
                    ],
                    unit(currency),
                ),
            }
        )
    pending, _ = market.catalog.accounts(None, "pending", 50, None)
    return render(
        request,
        "operator_dashboard.html",
        {
            "staff": staff,
            "charts": charts,
            "pending": pending,
            "projections": market.projections.status(),
        },
        visitor=staff.visitor,
    )


@router.get("/operator/accounts")
def accounts(
    request: Request,
    market: MarketplaceDep,
    staff: Operator,
    role: Text = "",
    status: Text = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None:
        return redirect(clean)
    if (role and role not in ROLES) or (status and status not in STATES):
        raise Invalid("choose a kind and a status from the lists")
    caught_up(market, request, "catalog")
    rows, next_cursor = market.catalog.accounts(
        role or None, status or None, PAGE_SIZE, cursor or None
    )
    kept = {k: v for k, v in {"role": role, "status": status}.items() if v}
    return render(
        request,
        "operator_accounts.html",
        {
            "staff": staff,
            "rows": rows,
            "filters": {"role": role, "status": status},
            "roles": ROLES,
            "states": STATES,
            "next_url": f"/operator/accounts?{urlencode({**kept, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "csv_url": f"/operator/accounts.csv?{urlencode(kept)}",
            "notice": request.query_params.get("notice"),
        },
        visitor=staff.visitor,
    )


@router.get("/operator/accounts.csv")
def accounts_csv(
    market: MarketplaceDep, staff: Operator, role: Text = "", status: Text = ""
) -> Response:
    if (role and role not in ROLES) or (status and status not in STATES):
        raise Invalid("choose a kind and a status from the lists")

    def pages() -> Iterator[list[list[Any]]]:
        cursor = None
        while True:
            rows, cursor = market.catalog.accounts(role or None, status or None, 500, cursor)
            yield [[r["id"], r["name"], r["role"], r["status"]] for r in rows]
            if cursor is None:
                return

    return csv_response("accounts.csv", ["id", "name", "kind", "status"], pages())


def _account_app(market: Marketplace, account_id: UUID) -> tuple[Any, Account]:
    for app in (market.sellers, market.buyers):
        account = app.find(account_id, Account)
        if account is not None:
            return app, account
    raise NotFound(f"unknown account {account_id}")


@router.get("/operator/accounts/{account_id}")
def account(
    request: Request, account_id: UUID, market: MarketplaceDep, staff: Operator
) -> Response:
    app, found = _account_app(market, account_id)
    name = getattr(found, "name", None) or getattr(found, "legal_name", "")
    return render(
        request,
        "operator_account.html",
        {
            "staff": staff,
            "account": found,
            "name": name,
            # A reseller's own kind (distributor, wholesaler) over its class's name.
            "kind": getattr(found, "kind", None) or type(found).__name__.lower(),
            "history": timeline(app, account_id),
            "error": request.query_params.get("error"),
            "notice": request.query_params.get("notice"),
        },
        visitor=staff.visitor,
    )


@router.post("/operator/accounts/{account_id}/{action}", dependencies=[CsrfChecked])
async def change(
    request: Request, account_id: UUID, action: str, market: MarketplaceDep, staff: Operator
) -> Response:
    if action not in ("approve", "suspend", "reinstate"):
        raise NotFound(f"no action {action}")
    reason = str((await request.form()).get("reason") or "").strip()[:1000] or None
    try:
        market.change_account_status(account_id, action, reason)  # type: ignore[arg-type]
    except Conflict as error:
        return redirect(f"/operator/accounts/{account_id}?{urlencode({'error': error.detail})}")
    done = {"approve": "approved", "suspend": "suspended", "reinstate": "reinstated"}[action]
    return redirect(f"/operator/accounts/{account_id}?notice=The account is {done}")


@router.get("/operator/commissions")
def commissions(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    caught_up(market, request, "orders")
    resellers: list[dict[str, Any]] = [
        {**r, "rate_bps": market.sellers.reseller(UUID(r["id"])).commission_bps}
        for r in market.catalog.sellers("reseller", None)
    ]
    names = {r["id"]: r["name"] for r in resellers}
    rows = [
        {**_earned(row), "name": names.get(row["reseller_id"], row["reseller_id"])}
        for row in market.order_lists.commissions()
    ]
    return render(
        request,
        "operator_commissions.html",
        {
            "staff": staff,
            "resellers": resellers,
            "rows": rows,
            "error": request.query_params.get("error"),
            "notice": request.query_params.get("notice"),
        },
        visitor=staff.visitor,
    )


def _earned(row: dict[str, Any]) -> dict[str, Any]:
    """A commissions row with its sums as money."""
    currency = row["currency"]
    return {
        "reseller_id": row["reseller_id"],
        "currency": currency,
        "gmv": {"amount": row["gmv"], "currency": currency},
        "commission": {"amount": row["commission"], "currency": currency},
        "seller_orders": row["delivered_seller_orders"],
    }


@router.get("/operator/commissions.csv")
def commissions_csv(market: MarketplaceDep, staff: Operator) -> Response:
    names = _names(market)

    def pages() -> Iterator[list[list[Any]]]:
        yield [
            [
                r["reseller_id"],
                names.get(r["reseller_id"], ""),
                r["currency"],
                amount(r["gmv"]),
                amount(r["commission"]),
                r["seller_orders"],
            ]
            for r in map(_earned, market.order_lists.commissions())
        ]

    return csv_response(
        "commissions.csv",
        ["reseller_id", "reseller", "currency", "gmv", "commission", "seller_orders"],
        pages(),
    )


@router.post("/operator/commissions/{reseller_id}", dependencies=[CsrfChecked])
async def set_rate(
    request: Request, reseller_id: UUID, market: MarketplaceDep, staff: Operator
) -> Response:
    text = str((await request.form()).get("rate") or "").strip()
    try:
        rate_bps = round(float(text) * 100)
        market.sellers.set_commission(reseller_id, rate_bps)
    except (ValueError, DomainError):
        error = "the rate is a percentage from 0 to 100, like 8 or 7.5"
        return redirect(f"/operator/commissions?{urlencode({'error': error})}")
    return redirect("/operator/commissions?notice=Commission rate set")


@router.get("/operator/orders")
def orders(
    request: Request,
    market: MarketplaceDep,
    staff: Operator,
    status: Text = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None:
        return redirect(clean)
    caught_up(market, request, "orders")
    items, next_cursor = market.order_lists.orders(PAGE_SIZE, cursor or None, status=status or None)
    names = _names(market)
    buyer_names = names_of(market, (o["buyer_id"] for o in items))
    kept = {"status": status} if status else {}
    return render(
        request,
        "operator_orders.html",
        {
            "staff": staff,
            "items": items,
            "status": status,
            "names": names,
            "buyers": buyer_names,
            "next_url": f"/operator/orders?{urlencode({**kept, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "csv_url": f"/operator/orders.csv?{urlencode(kept)}",
        },
        visitor=staff.visitor,
    )


@router.get("/operator/orders.csv")
def orders_csv(market: MarketplaceDep, staff: Operator, status: Text = "") -> Response:
    def pages() -> Iterator[list[list[Any]]]:
        cursor = None
        while True:
            items, cursor = market.order_lists.orders(500, cursor, status=status or None)
            yield [
                [
                    o["order_id"],
                    o["placed_at"],
                    o["buyer_id"],
                    o["status"],
                    amount(o["total"][0]) if o["total"] else "0.00",
                    o["total"][0]["currency"] if o["total"] else "",
                    len(o["seller_orders"]),
                ]
                for o in items
            ]
            if cursor is None:
                return

    return csv_response(
        "marketplace-orders.csv",
        ["order_id", "placed_at", "buyer_id", "status", "total", "currency", "seller_orders"],
        pages(),
    )


@router.get("/operator/projections")
def projections(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    rows = market.projections.status()
    with _progress_lock:
        for row in rows:
            row["progress"] = PROGRESS.get(str(row["name"]))
    for row in rows:
        row["poisoned"] = (
            market.projections.poisoned(str(row["name"])) if row["poison_events"] else []
        )
    return render(
        request,
        "operator_projections.html",
        {
            "staff": staff,
            "rows": rows,
            "rebuilding": any(r["status"] == "rebuilding" for r in rows),
            "error": request.query_params.get("error"),
        },
        visitor=staff.visitor,
    )


@router.post("/operator/projections/{name}/rebuild", dependencies=[CsrfChecked])
def rebuild(name: str, market: MarketplaceDep, staff: Operator) -> Response:
    if name not in market.projections.names:
        raise NotFound(f"unknown projection {name}")
    try:
        prefix = market.projections.begin_rebuild(name)
    except Conflict as busy:
        return redirect(f"/operator/projections?{urlencode({'error': busy.detail})}")

    def report(done: int, total: int) -> None:
        with _progress_lock:
            PROGRESS[name] = (done, total)

    def run() -> None:
        try:
            market.projections.run_rebuild(name, prefix, report)
        finally:
            with _progress_lock:
                PROGRESS.pop(name, None)

    threading.Thread(target=run, daemon=True, name=f"rebuild-{name}").start()
    return redirect("/operator/projections")
