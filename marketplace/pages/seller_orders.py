"""The reseller's seller orders as a work queue: filter, accept or refuse several at once,
ship all or some lines with tracking, deliver, cancel with a reason; each order's history."""

from collections.abc import Iterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from marketplace.kernel.errors import DomainError, Invalid
from marketplace.pages.conversation import talk_of
from marketplace.pages.csvs import amount, csv_response
from marketplace.pages.freshness import caught_up
from marketplace.pages.history import timeline
from marketplace.pages.names import names_of
from marketplace.pages.render import clean_query, redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.staff import Staff, staff
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from orders.application import describe_seller_order
from orders.domain import SellerOrderStatus

router = APIRouter(include_in_schema=False)
OrdersClerk = Annotated[Staff, Depends(staff("reseller", "orders"))]
STATUSES: tuple[str, ...] = SellerOrderStatus.__args__  # type: ignore[attr-defined]
PAGE_SIZE = 25
MAX_REASON = 1000


def _status(status: str) -> str | None:
    if status and status not in STATUSES:
        raise Invalid("choose one of the statuses listed")
    return status or None


@router.get("/reseller/orders")
def queue(
    request: Request,
    market: MarketplaceDep,
    clerk: OrdersClerk,
    status: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None:
        return redirect(clean)
    return _queue(request, market, clerk, status, cursor)


def _queue(
    request: Request,
    market: Marketplace,
    clerk: Staff,
    status: str,
    cursor: str = "",
    results: list[str] | None = None,
    code: int = 200,
) -> Response:
    caught_up(market, request, "orders")
    rows, next_cursor = market.order_lists.seller_orders(
        str(clerk.seller_id), PAGE_SIZE, cursor or None, _status(status)
    )
    kept = f"status={status}&" if status else ""
    return render(
        request,
        "seller_orders.html",
        {
            "staff": clerk,
            "rows": rows,
            "status": status,
            "statuses": STATUSES,
            "buyers": names_of(market, (r["buyer_id"] for r in rows)),
            "results": results or [],
            "next_url": f"/reseller/orders?{kept}cursor={next_cursor}" if next_cursor else None,
            "csv_url": f"/reseller/orders.csv{'?status=' + status if status else ''}",
        },
        status=code,
        visitor=clerk.visitor,
    )


@router.post("/reseller/orders", dependencies=[CsrfChecked])
async def decide(request: Request, market: MarketplaceDep, clerk: OrdersClerk) -> Response:
    """Accepts or refuses the selected seller orders, each on its own: one refused by a rule
    does not stop the others."""
    form = await request.form()
    decision = form.get("decision")
    reason = str(form.get("reason") or "").strip()[:MAX_REASON]
    ids = [v for v in form.getlist("seller_order_id") if isinstance(v, str)][: PAGE_SIZE * 4]
    status = str(form.get("status") or "")
    problems = []
    if decision not in ("accept", "refuse") or not ids:
        problems.append("choose at least one order, then accept or refuse")
    elif decision == "refuse" and not reason:
        problems.append("give the buyer a reason for the refusal")
    if problems:
        return _queue(request, market, clerk, status, results=problems, code=422)
    results, failed = [], False
    for raw in ids:
        try:
            seller_order_id = UUID(raw)
            if decision == "accept":
                market.fulfilment.accept(clerk.seller_id, seller_order_id)
            else:
                market.fulfilment.refuse(clerk.seller_id, seller_order_id, reason)
            results.append(f"order {raw[:8]} {decision}ed")
        except (ValueError, DomainError) as error:
            failed = True
            why = error.detail if isinstance(error, DomainError) else "not an order id"
            results.append(f"order {raw[:8]} was not {decision}ed: {why}")
    if failed:
        return _queue(request, market, clerk, status, results=results, code=409)
    done = "accepted" if decision == "accept" else "refused"
    return redirect(f"/reseller/orders?done={done}&count={len(ids)}")


@router.get("/reseller/orders.csv")
def queue_csv(
    market: MarketplaceDep, clerk: OrdersClerk, status: Annotated[str, Query(max_length=40)] = ""
) -> Response:
    wanted = _status(status)

    def pages() -> Iterator[list[list[Any]]]:
        cursor = None
        while True:
            rows, cursor = market.order_lists.seller_orders(
                str(clerk.seller_id), 500, cursor, wanted
            )
            names = names_of(market, (r["buyer_id"] for r in rows))
            yield [
                [
                    r["seller_order_id"],
                    r["order_id"],
                    r["placed_at"],
                    names[r["buyer_id"]],
                    r["status"],
                    r["payment_method"],
                    amount(r["total"]),
                    r["total"]["currency"],
                    sum(int(line["quantity"]) for line in r["lines"]),
                ]
                for r in rows
            ]
            if cursor is None:
                return

    return csv_response(
        "seller-orders.csv",
        [
            "seller_order_id",
            "order_id",
            "placed_at",
            "buyer",
            "status",
            "payment_method",
            "total",
            "currency",
            "items",
        ],
        pages(),
    )


@router.get("/reseller/orders/{seller_order_id}")
def seller_order(
    request: Request, seller_order_id: UUID, market: MarketplaceDep, clerk: OrdersClerk
) -> Response:
    return _seller_order(request, market, clerk, seller_order_id)


def _seller_order(
    request: Request,
    market: Marketplace,
    clerk: Staff,
    seller_order_id: UUID,
    error: str | None = None,
    code: int = 200,
) -> Response:
    so = market.orders.seller_order(seller_order_id, clerk.seller_id)
    caught_up(market, request, "billing")
    names = market.catalog.names([str(line.product_id) for line in so.lines])
    short = {pid: n["name"] for pid, n in names.items()}
    order = market.orders.order(so.order_id)
    return render(
        request,
        "seller_order.html",
        {
            "staff": clerk,
            "so": so,
            "charges": describe_seller_order(so),
            "order": order,
            "buyer": market.buyers.buyer(so.buyer_id),
            "names": names,
            "history": timeline(market.orders, so.id, short),
            "talk": talk_of(market, [so])[str(so.id)],
            "can_write": clerk.role != "support",
            "error": error,
            "notice": _done(request.query_params.get("done")),
        },
        status=code,
        visitor=clerk.visitor,
    )


def _done(action: str | None) -> str | None:
    return {
        "accept": "The order is accepted.",
        "ship": "The shipment is recorded.",
        "deliver": "The order is marked delivered.",
        "cancel": "The order is cancelled; its stock is back.",
        "refuse": "The order is refused; its lines go to the buyer's next best offers.",
        "message": "Your message is sent.",
        "resolve": "The incident is resolved; the buyer or the operator closes it.",
    }.get(action or "")


@router.post("/reseller/orders/{seller_order_id}/{action}", dependencies=[CsrfChecked])
async def act(
    request: Request, seller_order_id: UUID, action: str, market: MarketplaceDep, clerk: OrdersClerk
) -> Response:
    form = await request.form()
    reason = str(form.get("reason") or "").strip()[:MAX_REASON]
    tracking = str(form.get("tracking") or "").strip()[:100] or None
    f = market.fulfilment
    try:
        if action == "accept":
            f.accept(clerk.seller_id, seller_order_id)
        elif action in ("refuse", "cancel"):
            if not reason:
                raise Invalid(f"give the buyer a reason to {action}")
            (f.refuse if action == "refuse" else f.cancel)(clerk.seller_id, seller_order_id, reason)
        elif action == "deliver":
            f.deliver(clerk.seller_id, seller_order_id)
        elif action == "ship":
            f.ship(clerk.seller_id, seller_order_id, _quantities(form), tracking)
        else:
            return Response(status_code=404)
    except DomainError as error:
        if isinstance(error.detail, str):
            return _seller_order(request, market, clerk, seller_order_id, error.detail, 422)
        raise
    return redirect(f"/reseller/orders/{seller_order_id}?done={action}")


def _quantities(form: Any) -> dict[UUID, int] | None:
    """The quantities to ship by product; None ships all that remains."""
    wanted: dict[UUID, int] = {}
    for key, value in form.multi_items():
        if not key.startswith("ship_") or not isinstance(value, str) or not value.strip():
            continue
        if not value.strip().isdigit():
            raise Invalid("write each quantity to ship as a whole number")
        if int(value.strip()[:12]) > 0:
            try:
                wanted[UUID(key[5:])] = int(value.strip()[:12])
            except ValueError as error:
                raise Invalid("a line to ship is not on this order") from error
    if form.get("all"):
        return None
    if not wanted:
        raise Invalid("give a quantity for at least one line, or ship everything")
    return wanted
