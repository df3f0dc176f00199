"""The organisation's orders, one order's page, its CSV export, and the approvals inbox."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from marketplace.kernel.errors import DomainError, NotFound
from marketplace.pages.conversation import talk_notice, talk_of
from marketplace.pages.csvs import amount, csv_response
from marketplace.pages.freshness import caught_up
from marketplace.pages.names import names_of
from marketplace.pages.render import clean_query, redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentApprover, CurrentShopper, Shopper
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from orders.domain import PublicOrderStatus

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
STATUSES: tuple[str, ...] = PublicOrderStatus.__args__  # type: ignore[attr-defined]
Filter = Annotated[str, Query(max_length=40)]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class OrderFilters:
    """The order list's filters as the URL gives them, the view's arguments for them, and a
    sentence for each bad one."""

    status: str
    since: str
    until: str

    @property
    def given(self) -> dict[str, str]:
        return {k: v for k, v in self.shown.items() if v}

    @property
    def shown(self) -> dict[str, str]:
        return {"status": self.status, "from": self.since, "to": self.until}

    def errors(self) -> dict[str, str]:
        errors = {}
        if self.status and self.status not in STATUSES:
            errors["status"] = "choose one of the statuses listed"
        first, last = _day(self.since), _day(self.until)
        if self.since and first is None:
            errors["from"] = "write the date as YYYY-MM-DD"
        if self.until and last is None:
            errors["to"] = "write the date as YYYY-MM-DD"
        if first and last and first > last:
            errors["to"] = "the end date is before the start date"
        return errors

    def wanted(self) -> dict[str, Any]:
        first, last = _day(self.since), _day(self.until)
        return {
            "status": self.status if self.status in STATUSES else None,
            "placed_from": first.isoformat() if first else None,
            "placed_before": (last + timedelta(days=1)).isoformat() if last else None,
        }


def order_filters(
    status: Filter = "",
    since: Annotated[str, Query(alias="from", max_length=20)] = "",
    until: Annotated[str, Query(alias="to", max_length=20)] = "",
) -> OrderFilters:
    return OrderFilters(status, since, until)


Filters = Annotated[OrderFilters, Depends(order_filters)]


def _who(shopper: Shopper) -> dict[str, str | None]:
    return {"buyer_id": str(shopper.buyer_id), "reseller_id": shopper.reseller_filter}


@router.get("/orders")
def orders(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    filters: Filters,
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None:
        return redirect(clean)
    errors = filters.errors()
    caught_up(market, request, "orders")
    items, next_cursor = market.order_lists.orders(
        PAGE_SIZE, cursor or None, **_who(shopper), **filters.wanted()
    )
    kept = filters.given
    return render(
        request,
        "orders.html",
        {
            "items": items,
            "statuses": STATUSES,
            "filters": filters.shown,
            "errors": errors,
            "csv_url": f"/orders.csv?{urlencode(kept)}",
            "next_url": f"/orders?{urlencode({**kept, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "first_url": f"/orders?{urlencode(kept)}" if cursor else None,
            "seller_names": names_of(
                market, (so["reseller_id"] for o in items for so in o["seller_orders"])
            ),
        },
        status=422 if errors else 200,
        shopper=shopper,
    )


def _placed_by(placed_by: dict[str, Any]) -> str:
    if placed_by.get("kind") == "sales_rep":
        return f"{placed_by.get('name')} (sales rep, on your behalf)"
    return str(placed_by.get("name", ""))


@router.get("/orders.csv")
def orders_csv(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    filters: Filters,
) -> Response:
    errors = filters.errors()
    wanted = filters.wanted()
    if errors:
        raise DomainError("; ".join(f"{k}: {v}" for k, v in errors.items()))
    caught_up(market, request, "orders")

    def pages() -> Iterator[list[list[Any]]]:
        cursor = None
        while True:
            items, cursor = market.order_lists.orders(500, cursor, **_who(shopper), **wanted)
            yield [_csv_row(o) for o in items]
            if cursor is None:
                return

    return csv_response(
        "orders.csv",
        [
            "order_id",
            "placed_at",
            "status",
            "total",
            "currency",
            "payment_method",
            "po_number",
            "placed_by",
            "placed_by_sales_rep",
            "seller_orders",
        ],
        pages(),
    )


def _csv_row(o: dict[str, Any]) -> list[Any]:
    total: dict[str, Any] = o["total"][0] if o["total"] else {"amount": 0, "currency": ""}
    return [
        o["order_id"],
        o["placed_at"],
        o["status"],
        amount(total),
        total["currency"],
        o["payment_method"],
        o["po_number"] or "",
        o["placed_by"].get("name", ""),
        "yes" if o["placed_by"].get("kind") == "sales_rep" else "no",
        len(o["seller_orders"]),
    ]


@router.get("/orders/{order_id}")
def order(
    request: Request, order_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    placed = market.orders.order(order_id, shopper.buyer_id)
    aggregates = market.orders.seller_orders(placed)
    found = market.orders.describe(placed, aggregates)
    seller_orders = found["seller_orders"]
    if shopper.rep is not None:
        seller_orders = [so for so in seller_orders if so["reseller_id"] == shopper.reseller_filter]
        if not seller_orders:
            raise NotFound(f"unknown order {order_id}")
    names = market.catalog.names([ln["product_id"] for so in seller_orders for ln in so["lines"]])
    today = market.clock.today()
    sellers = names_of(market, (so["reseller_id"] for so in seller_orders))
    for so in seller_orders:
        so["reseller_name"] = sellers[so["reseller_id"]]
        so["shipments"] = market.orders.shipments(UUID(so["seller_order_id"]))
        so["invoices"] = [
            {
                "invoice_id": str(i.id),
                "number": i.number,
                "status": i.status(today),
                "seller": i.seller,
            }
            for i in market.billing.invoices_of(UUID(so["seller_order_id"]))
        ]
    caught_up(market, request, "billing")
    shown = {so["seller_order_id"] for so in seller_orders}
    talks = talk_of(market, [so for so in aggregates if str(so.id) in shown])
    for so in seller_orders:
        so["product_names"] = {
            ln["product_id"]: names[ln["product_id"]]["name"]
            if ln["product_id"] in names
            else ln["product_id"]
            for ln in so["lines"]
        }
    return render(
        request,
        "order.html",
        {
            "order": found,
            "seller_orders": seller_orders,
            "talks": talks,
            "names": names,
            "placed_by": _placed_by(found["placed_by"]),
            "by_rep": found["placed_by"].get("kind") == "sales_rep",
            "notice": _placed_notice(request) or talk_notice(request),
        },
        shopper=shopper,
    )


def _placed_notice(request: Request) -> str | None:
    if not request.query_params.get("placed"):
        return None
    said = request.query_params.get("notice", "")
    # Only our own sentence, with what could not be ordered, is echoed back.
    return said[:2000] if said.startswith("Your order was placed.") else "Your order was placed."


@router.get("/approvals")
def approvals(request: Request, market: MarketplaceDep, shopper: CurrentApprover) -> Response:
    return _inbox(request, market, shopper, [])


def _inbox(
    request: Request, market: Marketplace, shopper: Shopper, results: list[str], status: int = 200
) -> Response:
    caught_up(market, request, "orders")
    items, _ = market.order_lists.orders(
        200, None, buyer_id=str(shopper.buyer_id), status="pending_approval"
    )
    return render(
        request,
        "approvals.html",
        {"items": items, "results": results},
        status=status,
        shopper=shopper,
    )


@router.post("/approvals", dependencies=[CsrfChecked])
async def decide(request: Request, market: MarketplaceDep, shopper: CurrentApprover) -> Response:
    form = await request.form()
    decision = form.get("decision")
    ids = [v for v in form.getlist("order_id") if isinstance(v, str)][:200]
    if decision not in ("approve", "reject") or not ids:
        return _inbox(
            request, market, shopper, ["choose at least one order, then approve or reject"], 422
        )
    assert shopper.user is not None
    results, failed = [], False
    for raw in ids:
        try:
            order_id = UUID(raw)
            if decision == "approve":
                market.approvals.approve(order_id, shopper.buyer_id, shopper.user.id)
            else:
                market.approvals.reject(order_id, shopper.buyer_id, shopper.user.id)
            results.append(f"order {raw[:8]} {decision}d")
        except (ValueError, DomainError) as error:
            failed = True
            reason = error.detail if isinstance(error, DomainError) else "not an order id"
            results.append(f"order {raw[:8]} was not {decision}d: {reason}")
    if not failed:
        count = len(ids)
        return redirect(f"/approvals?done={decision}d&count={count}")
    return _inbox(request, market, shopper, results, 409)
