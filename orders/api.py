"""Orders over HTTP: buyers and sales reps place them, resellers fulfil them, the operator
watches them and their commissions."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError

from marketplace.kernel.errors import Forbidden, Invalid
from marketplace.kernel.payments import PaymentMethod
from marketplace.platform import Marketplace
from marketplace.web.answers import CommissionRow, OrderPublic, Page, SellerOrderPublic, errors
from marketplace.web.auth import (
    BuyerSession,
    CurrentBuyerUser,
    CurrentOperator,
    CurrentReseller,
    CurrentSalesRep,
    MarketplaceDep,
)
from marketplace.web.buying_answers import (
    BudgetCreated,
    BudgetPublic,
    OrderAgainAnswer,
    QuickOrderAnswer,
)
from marketplace.web.idempotent import idempotent, keyed_id
from marketplace.web.schemas import (
    Cursor,
    Label,
    Limit,
    MoneyIn,
    Quantity,
    Reason,
    ShippingAddress,
    ShippingMethods,
    Strict,
    page,
)
from marketplace.web.waiting import CatalogReady, OrdersReady
from orders.application import describe_seller_order
from orders.budgets import Enforcement
from orders.choosing import LineRequest
from orders.domain import PublicOrderStatus, SellerOrderStatus
from projections.quick_order import (
    MAX_QUICK_LINES,
    Resolved,
    parse_quick_order,
    resolve_skus,
)

router = APIRouter(prefix="/v1")
OrderStatusFilter = Annotated[PublicOrderStatus | None, Query()]
SellerStatusFilter = Annotated[SellerOrderStatus | None, Query()]


class LineIn(Strict):
    product_id: UUID
    quantity: Quantity
    reseller_id: UUID | None = None


class OrderCreate(Strict):
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    payment_method: PaymentMethod
    po_number: Label | None = None
    shipping_address: ShippingAddress | None = None
    shipping_methods: ShippingMethods | None = None
    cost_centre_id: UUID | None = None


class ShipLine(Strict):
    product_id: UUID
    quantity: Quantity


class ShipIn(Strict):
    tracking: Label | None = None
    lines: Annotated[list[ShipLine], Field(min_length=1, max_length=500)] | None = None


class ReasonIn(Strict):
    reason: Reason


def _place(
    market: Marketplace,
    request: Request,
    scope: str,
    body: OrderCreate,
    buyer_id: UUID,
    placed_by: dict[str, str],
    session: BuyerSession | None,
    only_reseller: UUID | None,
) -> JSONResponse:
    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        order, seller_orders = market.placement.placed(
            buyer_id,
            placed_by,
            session.user.spending_limit if session else None,
            [LineRequest(line.product_id, line.quantity, line.reseller_id) for line in body.lines],
            body.payment_method,
            body.po_number,
            body.shipping_address,
            only_reseller,
            body.cost_centre_id,
            shipping_methods=body.shipping_methods,
            order_id=keyed_id(scope, request),
            buyer=session.buyer if session else None,
        )
        return 201, market.orders.describe(order, seller_orders)

    return idempotent(market, request, scope, body.model_dump(mode="json"), run)


# Buyers


@router.post(
    "/buyer/orders",
    status_code=201,
    tags=["buyer"],
    response_model=OrderPublic,
    responses=errors(401, 403, 422, 402, 404, 409),
)
def place_order(
    body: OrderCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Place one order across resellers; it is split into one seller order per reseller."""
    placed_by = {"kind": "buyer_user", "user_id": str(session.user.id), "name": session.user.name}
    return _place(
        market,
        request,
        f"buyer:{session.buyer.id}:{session.user.id}",
        body,
        session.buyer.id,
        placed_by,
        session,
        None,
    )


@router.get(
    "/buyer/orders",
    tags=["buyer"],
    response_model=Page[OrderPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def buyer_orders(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: OrdersReady,
    status: OrderStatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your organisation's orders, newest first, with their seller orders."""
    items, next_cursor = market.order_lists.orders(
        limit, cursor, buyer_id=str(session.buyer.id), status=status
    )
    return page(items, next_cursor)


@router.get(
    "/buyer/orders/{order_id}",
    tags=["buyer"],
    response_model=OrderPublic,
    responses=errors(401, 403, 422, 404),
)
def buyer_order(
    order_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """One of your organisation's orders, as it stands now."""
    return market.orders.describe(market.orders.order(order_id, session.buyer.id))


def _check_approver(session: BuyerSession) -> None:
    if not session.user.can_approve:
        raise Forbidden("only an approver or an admin can decide on orders")


@router.post(
    "/buyer/orders/{order_id}/approve",
    tags=["buyer"],
    response_model=OrderPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def approve_order(
    order_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """Approve an order that is over its placer's spending limit."""
    _check_approver(session)
    order = market.approvals.approve(order_id, session.buyer.id, session.user.id)
    return market.orders.describe(order)


@router.post(
    "/buyer/orders/{order_id}/reject",
    tags=["buyer"],
    response_model=OrderPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def reject_order(
    order_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """Reject an order awaiting approval; its stock and credit are released."""
    _check_approver(session)
    order = market.approvals.reject(order_id, session.buyer.id, session.user.id)
    return market.orders.describe(order)


# Sales reps


@router.post(
    "/sales-rep/accounts/{buyer_id}/orders",
    status_code=201,
    tags=["sales rep"],
    response_model=OrderPublic,
    responses=errors(401, 403, 422, 402, 404, 409),
)
def place_order_for_buyer(
    buyer_id: UUID,
    body: OrderCreate,
    request: Request,
    rep: CurrentSalesRep,
    market: MarketplaceDep,
) -> JSONResponse:
    """Place an order on an assigned buyer's behalf, from your reseller's offers only."""
    if not rep.serves(buyer_id):
        raise Forbidden("that buyer account is not assigned to you")
    placed_by = {
        "kind": "sales_rep",
        "sales_rep_id": str(rep.id),
        "name": rep.name,
        "reseller_id": str(rep.reseller_id),
    }
    return _place(
        market,
        request,
        f"sales_rep:{rep.id}:{buyer_id}",
        body,
        buyer_id,
        placed_by,
        None,
        rep.reseller_id,
    )


# Resellers


@router.get(
    "/reseller/orders",
    tags=["reseller"],
    response_model=Page[SellerOrderPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def reseller_orders(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: OrdersReady,
    status: SellerStatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your seller orders, newest first."""
    items, next_cursor = market.order_lists.seller_orders(str(reseller.id), limit, cursor, status)
    return page(items, next_cursor)


@router.get(
    "/reseller/orders/{seller_order_id}",
    tags=["reseller"],
    response_model=SellerOrderPublic,
    responses=errors(401, 403, 422, 404),
)
def reseller_order(
    seller_order_id: UUID, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """One of your seller orders, as it stands now."""
    return describe_seller_order(market.orders.seller_order(seller_order_id, reseller.id))


@router.post(
    "/reseller/orders/{seller_order_id}/accept",
    tags=["reseller"],
    response_model=SellerOrderPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def accept(
    seller_order_id: UUID, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Accept a seller order."""
    return describe_seller_order(market.fulfilment.accept(reseller.id, seller_order_id))


@router.post(
    "/reseller/orders/{seller_order_id}/refuse",
    tags=["reseller"],
    response_model=SellerOrderPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def refuse(
    seller_order_id: UUID,
    body: ReasonIn,
    reseller: CurrentReseller,
    market: MarketplaceDep,
) -> dict[str, Any]:
    """Refuse a seller order: each line goes to the buyer's next best offer, or is cancelled."""
    return describe_seller_order(
        market.fulfilment.refuse(reseller.id, seller_order_id, body.reason)
    )


@router.post(
    "/reseller/orders/{seller_order_id}/ship",
    tags=["reseller"],
    response_model=SellerOrderPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def ship(
    seller_order_id: UUID,
    reseller: CurrentReseller,
    market: MarketplaceDep,
    body: ShipIn | None = None,
) -> dict[str, Any]:
    """Ship a seller order, all of it or some lines and quantities."""
    quantities: dict[UUID, int] | None = None
    if body is not None and body.lines is not None:
        quantities = {}
        for line in body.lines:
            quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
    so = market.fulfilment.ship(
        reseller.id, seller_order_id, quantities, body.tracking if body else None
    )
    return describe_seller_order(so)


@router.post(
    "/reseller/orders/{seller_order_id}/deliver",
    tags=["reseller"],
    response_model=SellerOrderPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def deliver(
    seller_order_id: UUID, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Record a shipped seller order as delivered."""
    return describe_seller_order(market.fulfilment.deliver(reseller.id, seller_order_id))


@router.post(
    "/reseller/orders/{seller_order_id}/cancel",
    tags=["reseller"],
    response_model=SellerOrderPublic,
    responses=errors(401, 403, 422, 404, 409),
)
def cancel(
    seller_order_id: UUID,
    body: ReasonIn,
    reseller: CurrentReseller,
    market: MarketplaceDep,
) -> dict[str, Any]:
    """Cancel a seller order before it ships; its stock and credit are released."""
    return describe_seller_order(
        market.fulfilment.cancel(reseller.id, seller_order_id, body.reason)
    )


# The operator


@router.get(
    "/operator/orders",
    tags=["operator"],
    response_model=Page[OrderPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def operator_orders(
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: OrdersReady,
    status: OrderStatusFilter = None,
    buyer_id: UUID | None = None,
    reseller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Every order on the marketplace, newest first."""
    items, next_cursor = market.order_lists.orders(
        limit,
        cursor,
        buyer_id=str(buyer_id) if buyer_id else None,
        reseller_id=str(reseller_id) if reseller_id else None,
        status=status,
    )
    return page(items, next_cursor)


@router.get(
    "/operator/commissions",
    tags=["operator"],
    response_model=list[CommissionRow],
    responses=errors(401, 403, 422, 400, 408),
)
def commissions(
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: OrdersReady,
    reseller_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """GMV and commission per reseller and currency, over delivered seller orders."""
    return market.order_lists.commissions(str(reseller_id) if reseller_id else None)


class QuickLine(Strict):
    sku: Annotated[str, Field(min_length=1, max_length=100)]
    quantity: Quantity


class QuickOrder(Strict):
    lines: Annotated[list[QuickLine], Field(min_length=1, max_length=MAX_QUICK_LINES)]
    payment_method: PaymentMethod | None = None


def _quick_answer(results: list[Resolved]) -> dict[str, Any]:
    lines = []
    for r in sorted(results, key=lambda r: r.line):
        line: dict[str, Any] = {"line": r.line, "sku": r.sku, "quantity": r.quantity}
        if r.item is not None:
            line["product_id"] = r.item["product_id"]
        if r.offer is not None and r.problem is None:
            line["reseller_id"] = r.offer["reseller_id"]
            line["reseller_name"] = r.offer["reseller_name"]
            line["unit_price"] = r.unit_price
        if r.problem is not None:
            line["problem"] = r.problem
        lines.append(line)
    ready = [
        {"product_id": x["product_id"], "quantity": x["quantity"], "reseller_id": x["reseller_id"]}
        for x in lines
        if "problem" not in x
    ]
    return {"lines": lines, "order_lines": ready}


@router.post(
    "/buyer/quick-order",
    response_model=QuickOrderAnswer,
    tags=["buyer"],
    responses=errors(401, 403, 413, 422, 400, 408),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": QuickOrder.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
            "required": True,
        }
    },
)
async def quick_order(
    request: Request,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: CatalogReady,
    payment_method: PaymentMethod | None = None,
) -> dict[str, Any]:
    """What each `sku, quantity` line would get you: the product, the best offer you can see
    for that quantity and its price, or why not. JSON `{lines: [{sku, quantity}]}`, or CSV /
    pasted text (`sku,quantity` a line; a header line is skipped). The same SKU twice is
    summed onto its first line; lines are numbered from 1. `order_lines` is the result as
    `POST /v1/buyer/orders` takes it. With `payment_method` (in the JSON, or `?payment_method=`)
    only offers payable that way are considered, so each line names the offer placement with
    that method will choose."""
    body = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            asked = QuickOrder.model_validate_json(body)
        except ValidationError as error:
            raise RequestValidationError(error.errors(include_url=False)) from None
        good = [(i, line.sku, line.quantity) for i, line in enumerate(asked.lines, start=1)]
        bad: list[Resolved] = []
        payment_method = asked.payment_method or payment_method
    else:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("send the lines as UTF-8 text, or as JSON") from None
        good, bad = parse_quick_order(text)
        if not good and not bad:
            raise Invalid("send lines of sku,quantity")
    resolved = await run_in_threadpool(
        resolve_skus, market.catalog, str(session.buyer.id), None, good, payment_method
    )
    return _quick_answer([*resolved, *bad])


class OrderAgain(Strict):
    payment_method: PaymentMethod
    product_ids: Annotated[list[UUID], Field(min_length=1, max_length=1000)] | None = None
    po_number: Label | None = None
    shipping_address: ShippingAddress | None = None
    shipping_methods: ShippingMethods | None = None


def _order_again(
    market: Marketplace,
    request: Request,
    session: BuyerSession,
    body: OrderAgain,
    wanted: list[tuple[str, int]],
) -> JSONResponse:
    """Places what `wanted` resolves to now, through quick order's resolution: lines that
    cannot be ordered are reported in `skipped`, not dropped silently."""
    if body.product_ids is not None:
        chosen = {str(p) for p in body.product_ids}
        unknown = chosen - {pid for pid, _ in wanted}
        if unknown:
            raise Invalid(f"product {sorted(unknown)[0]} is not among these lines")
        wanted = [(pid, quantity) for pid, quantity in wanted if pid in chosen]

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        placed_by = {
            "kind": "buyer_user",
            "user_id": str(session.user.id),
            "name": session.user.name,
        }
        order, skipped = market.order_again(
            session.buyer.id,
            placed_by,
            session.user.spending_limit,
            wanted,
            body.payment_method,
            body.po_number,
            body.shipping_address,
            body.shipping_methods,
        )
        return 201, {**market.orders.describe(order), "skipped": skipped}

    scope = f"buyer:{session.buyer.id}:{session.user.id}"
    return idempotent(market, request, scope, body.model_dump(mode="json"), run)


@router.post(
    "/buyer/lists/{list_id}/order",
    response_model=OrderAgainAnswer,
    status_code=201,
    tags=["buyer"],
    responses=errors(401, 403, 422, 402, 404, 409),
)
def order_list(
    list_id: UUID,
    body: OrderAgain,
    request: Request,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
) -> JSONResponse:
    """Order a shopping list, or some of its products; what cannot be ordered is `skipped`."""
    found = market.buyers.shopping_list(list_id, session.buyer.id, session.user.id)
    return _order_again(market, request, session, body, list(found.lines.items()))


@router.post(
    "/buyer/orders/{order_id}/reorder",
    response_model=OrderAgainAnswer,
    status_code=201,
    tags=["buyer"],
    responses=errors(401, 403, 422, 402, 404, 409),
)
def reorder(
    order_id: UUID,
    body: OrderAgain,
    request: Request,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
) -> JSONResponse:
    """Order again what a past order asked for, at today's offers and prices."""
    order = market.orders.order(order_id, session.buyer.id)
    return _order_again(market, request, session, body, order.asked())


class BudgetCreate(Strict):
    cost_centre_id: UUID
    amount: MoneyIn
    starts_on: date
    ends_on: date
    enforcement: Enforcement


def _budget_reader(session: BuyerSession) -> None:
    if session.user.role not in ("admin", "approver"):
        raise Forbidden("budgets are for admins and approvers")


@router.post(
    "/buyer/budgets",
    response_model=BudgetCreated,
    status_code=201,
    tags=["buyer"],
    responses=errors(401, 403, 422, 404, 409),
)
def create_budget(
    body: BudgetCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Set a cost centre's budget for a period (admins): `block` refuses orders beyond it
    (402), `require_approval` sends them to approval, `warn` places them flagged."""
    if session.user.role != "admin":
        raise Forbidden("only an admin sets budgets")
    market.buyers.buyer(session.buyer.id).cost_centre(body.cost_centre_id)

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        made = market.budgeting.create(
            session.buyer.id,
            body.cost_centre_id,
            body.amount.money(),
            body.starts_on.isoformat(),
            body.ends_on.isoformat(),
            body.enforcement,
        )
        return 201, {"budget_id": str(made.id)}

    scope = f"buyer:{session.buyer.id}:{session.user.id}"
    return idempotent(market, request, scope, body.model_dump(mode="json"), run)


@router.get(
    "/buyer/budgets",
    response_model=Page[BudgetPublic],
    tags=["buyer"],
    responses=errors(401, 403, 422),
)
def budgets(session: CurrentBuyerUser, market: MarketplaceDep) -> dict[str, Any]:
    """Your organisation's budgets with their figures (admins and approvers)."""
    _budget_reader(session)
    buyer = market.buyers.buyer(session.buyer.id)
    return page([b.describe() for b in market.budgeting.of(list(buyer.cost_centres))], None)


@router.get(
    "/buyer/budgets/{budget_id}",
    response_model=BudgetPublic,
    tags=["buyer"],
    responses=errors(401, 403, 422, 404),
)
def budget(budget_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep) -> dict[str, Any]:
    """A budget: its amount, what is reserved, consumed and remaining, and its entries."""
    _budget_reader(session)
    return market.budgeting.budget(budget_id, session.buyer.id).describe()
