"""Buyer orders, the seller orders they split into, and their lifecycles."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.errors import Conflict, Invalid
from marketplace.kernel.money import Money
from marketplace.kernel.payments import INVOICE_METHODS
from marketplace.taxes.domain import TaxGroup
from orders.charges import Billed, seller_order_breakdown, shipment_breakdown

# The statuses buyers see (api.md); placing and failed are the saga's own, never shown.
PublicOrderStatus = Literal[
    "pending_approval",
    "placed",
    "partially_shipped",
    "shipped",
    "delivered",
    "cancelled",
    "rejected",
]
OrderStatus = PublicOrderStatus | Literal["placing", "failed"]
SellerOrderStatus = Literal[
    "awaiting_acceptance",
    "accepted",
    "partially_shipped",
    "shipped",
    "delivered",
    "refused",
    "cancelled",
]
CLOSED: tuple[str, ...] = ("refused", "cancelled")
# What a seller may do to a released seller order, by its status: one table for the
# aggregate's checks, the back office's buttons and the buyer's returns.
SellerOrderAction = Literal["accept", "refuse", "cancel", "ship", "deliver"]
SELLER_ORDER_ACTIONS: dict[SellerOrderAction, tuple[SellerOrderStatus, ...]] = {
    "accept": ("awaiting_acceptance",),
    "refuse": ("awaiting_acceptance", "accepted"),
    "cancel": ("awaiting_acceptance", "accepted"),
    "ship": ("accepted", "partially_shipped"),
    "deliver": ("shipped",),
}
# Goods have left the seller once a seller order is in one of these: they may be returned.
SHIPPED: tuple[SellerOrderStatus, ...] = ("partially_shipped", "shipped", "delivered")


def seller_order_actions(status: str, released: bool) -> list[SellerOrderAction]:
    """What the seller can do next to a seller order in this state, in the table's order."""
    if not released:
        return []
    return [action for action, allowed in SELLER_ORDER_ACTIONS.items() if status in allowed]


@dataclass(frozen=True)
class Line:
    product_id: UUID
    quantity: int
    unit_price: Money
    shipped: int = 0

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price.amount

    def as_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "shipped": self.shipped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Line":
        return cls(data["product_id"], data["quantity"], data["unit_price"], data["shipped"])


def commission(amount: int, rate_bps: int) -> int:
    # Half-up to the minor unit, in integers.
    return (amount * rate_bps + 5_000) // 10_000


class Order(Aggregate):
    """What a buyer asked for, split across seller orders."""

    class Drafted(Aggregate.Created):
        buyer_id: UUID
        placed_by: dict[str, str]
        payment_method: str
        po_number: str | None
        shipping_address: dict[str, str] | None
        lines: list[dict[str, Any]]
        seller_order_ids: list[UUID]
        cost_centre_id: UUID | None
        # Version 2 added the cost centre an order books to; earlier orders book to none.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["cost_centre_id"] = None

    @event(Drafted)
    def __init__(
        self,
        id: UUID,
        buyer_id: UUID,
        placed_by: dict[str, str],
        payment_method: str,
        po_number: str | None,
        shipping_address: dict[str, str] | None,
        lines: list[dict[str, Any]],
        seller_order_ids: list[UUID],
        cost_centre_id: UUID | None = None,
    ) -> None:
        self.buyer_id = buyer_id
        self.cost_centre_id = cost_centre_id
        self.placed_by = placed_by
        self.payment_method = payment_method
        self.po_number = po_number
        self.shipping_address = shipping_address
        self.lines = lines
        self.seller_order_ids = list(seller_order_ids)
        self.cancelled_lines: list[dict[str, Any]] = []
        # Refused seller orders whose lines are being rerouted: refused id -> new ids.
        self.reroutes_pending: dict[str, list[str]] = {}
        self.stage: OrderStatus = "placing"
        self.decided_by: str | None = None

    def asked(self) -> list[tuple[str, int]]:
        """What the buyer asked for, per product (quantities of repeated products summed)."""
        summed: dict[str, int] = {}
        for line in self.lines:
            pid = str(line["product_id"])
            summed[pid] = summed.get(pid, 0) + int(line["quantity"])
        return list(summed.items())

    @event("Placed")
    def placed(self, needs_approval: bool) -> None:
        self.stage = "pending_approval" if needs_approval else "placed"

    @event("Failed")
    def failed(self, reasons: list[dict[str, Any]]) -> None:
        self.stage = "failed"

    def check_pending(self) -> None:
        if self.stage != "pending_approval":
            raise Conflict(f"the order is not awaiting approval (it is {self.stage})")

    def approve(self, user_id: UUID) -> None:
        self.check_pending()
        self._approved(by=str(user_id))

    @event("Approved")
    def _approved(self, by: str) -> None:
        self.stage = "placed"
        self.decided_by = by

    def reject(self, user_id: UUID) -> None:
        self.check_pending()
        self._rejected(by=str(user_id))

    @event("Rejected")
    def _rejected(self, by: str) -> None:
        self.stage = "rejected"
        self.decided_by = by

    @event("Rerouted")
    def rerouted(self, seller_order_ids: list[UUID], cancelled_lines: list[dict[str, Any]]) -> None:
        """Kept for the histories recorded before rerouting became a saga."""
        self.seller_order_ids.extend(seller_order_ids)
        self.cancelled_lines.extend(cancelled_lines)

    @event("RerouteStarted")
    def reroute_started(
        self,
        refused_id: UUID,
        seller_order_ids: list[UUID],
        cancelled_lines: list[dict[str, Any]],
    ) -> None:
        """A seller order was refused: its lines go to the drafted seller orders (once their
        stock and credit are held) or are cancelled."""
        self.seller_order_ids.extend(seller_order_ids)
        self.cancelled_lines.extend(cancelled_lines)
        self.reroutes_pending[str(refused_id)] = [str(i) for i in seller_order_ids]

    @event("RerouteFinished")
    def reroute_finished(self, refused_id: UUID, cancelled_lines: list[dict[str, Any]]) -> None:
        self.cancelled_lines.extend(cancelled_lines)
        self.reroutes_pending.pop(str(refused_id), None)


def order_total(stage: str, seller_orders: Iterable[tuple[str, Money]]) -> list[Money]:
    """What the buyer owes, per currency: seller orders that were refused or cancelled
    count no more, except on a rejected order, whose total shows what was asked."""
    totals: dict[str, int] = {}
    for status, total in seller_orders:
        if status not in CLOSED or stage == "rejected":
            totals[total.currency] = totals.get(total.currency, 0) + total.amount
    return [Money(amount, currency) for currency, amount in sorted(totals.items())]


def over_limit(limit: Money | None, totals: Iterable[Money]) -> bool:
    """Whether an order needs approval: over the limit, or in a currency it does not cover."""
    return limit is not None and any(
        t.currency != limit.currency or t.amount > limit.amount for t in totals
    )


def order_status(stage: str, seller_statuses: Iterable[str]) -> str:
    """The buyer's order status, derived from its seller orders (api.md)."""
    if stage in ("placing", "pending_approval", "rejected", "failed"):
        return stage
    active = [s for s in seller_statuses if s not in CLOSED]
    if not active:
        return "cancelled"
    if all(s == "delivered" for s in active):
        return "delivered"
    if all(s in ("shipped", "delivered") for s in active):
        return "shipped"
    if any(s in SHIPPED for s in active):
        return "partially_shipped"
    return "placed"


MAX_MESSAGES = 500


class SellerOrder(Aggregate):
    """One reseller's part of an order, fulfilled by that reseller."""

    # The conversation about it between the buyer's people, the seller's and the operator
    # (api.md v1.2); seller orders stored before it have none.
    messages: tuple[dict[str, Any], ...] = ()

    @event("Opened")
    def __init__(
        self,
        id: UUID,
        order_id: UUID,
        buyer_id: UUID,
        reseller_id: UUID,
        payment_method: str,
        commission_bps: int,
        lines: list[dict[str, Any]],
    ) -> None:
        self.order_id = order_id
        self.buyer_id = buyer_id
        self.reseller_id = reseller_id
        self.payment_method = payment_method
        self.commission_bps = commission_bps
        self.lines = [Line.from_dict(d) for d in lines]
        self.status: SellerOrderStatus = "awaiting_acceptance"
        self.released = False
        self.tracking: list[str] = []
        # Seller orders opened before tax and shipping (and those of a seller with neither)
        # have no `Charged` event: untaxed, shipped free.
        self.shipping: dict[str, Any] | None = None
        self.taxes: dict[str, dict[str, Any]] = {}
        self.shipments: list[dict[str, int]] = []

    @event("Charged")
    def charged(self, shipping: dict[str, Any] | None, taxes: dict[str, dict[str, Any]]) -> None:
        """Its shipping (`{method, name, amount, earliest_delivery_on, latest_delivery_on}`)
        and each line's tax (`{tax_category, code, rate_bps, exemption_note}` by product)."""
        self.shipping = shipping
        self.taxes = taxes

    @property
    def shipping_amount(self) -> int:
        return int(self.shipping["amount"]) if self.shipping else 0

    def _billed(self) -> list[Billed]:
        return [(str(ln.product_id), ln.quantity, ln.unit_price.amount) for ln in self.lines]

    def shipment_breakdown(self, index: int) -> list[TaxGroup]:
        """The tax of its `index`th shipment's invoice: the first carries the shipping."""
        return shipment_breakdown(
            self._billed(), self.shipping_amount, self.taxes, self.shipments[index], index == 0
        )

    @property
    def tax_breakdown(self) -> list[TaxGroup]:
        """Its invoices' tax and the tax of what is not shipped yet, each rounded by the rule:
        before the first shipment, the rule applied to the whole seller order."""
        return seller_order_breakdown(
            self._billed(), self.shipping_amount, self.taxes, self.shipments
        )

    @property
    def net_total(self) -> Money:
        return Money(self.total.amount + self.shipping_amount, self.currency)

    @property
    def tax_total(self) -> Money:
        return Money(sum(group.tax for group in self.tax_breakdown), self.currency)

    @property
    def gross_total(self) -> Money:
        """What the buyer owes for it: goods, shipping and tax."""
        return Money(self.net_total.amount + self.tax_total.amount, self.currency)

    @property
    def currency(self) -> str:
        return self.lines[0].unit_price.currency

    @property
    def total(self) -> Money:
        return Money(sum(line.total for line in self.lines), self.currency)

    @property
    def on_credit(self) -> bool:
        return self.payment_method in INVOICE_METHODS

    @property
    def actions(self) -> list[SellerOrderAction]:
        return seller_order_actions(self.status, self.released)

    def check(self, action: SellerOrderAction) -> None:
        if not self.released:
            raise Conflict("the order is still awaiting the buyer's approval")
        if self.status not in SELLER_ORDER_ACTIONS[action]:
            raise Conflict(f"a seller order that is {self.status} cannot {action}")

    @event("Released")
    def release(self) -> None:
        self.released = True

    def accept(self) -> None:
        self.check("accept")
        self._accepted()

    @event("Accepted")
    def _accepted(self) -> None:
        self.status = "accepted"

    def refuse(self, reason: str) -> None:
        self.check("refuse")
        self._refused(reason=reason)

    @event("Refused")
    def _refused(self, reason: str) -> None:
        self.status = "refused"

    def cancel(self, reason: str, *, by_platform: bool = False) -> None:
        if not by_platform:
            self.check("cancel")
        elif self.status in CLOSED:
            return
        self._cancelled(reason=reason)

    @event("Cancelled")
    def _cancelled(self, reason: str) -> None:
        self.status = "cancelled"

    def ship(self, quantities: dict[UUID, int] | None, tracking: str | None) -> dict[UUID, int]:
        """Ships the given quantities (all that remains when None); returns what it shipped."""
        self.check("ship")
        remaining = {line.product_id: line.quantity - line.shipped for line in self.lines}
        wanted = (
            quantities
            if quantities is not None
            else {pid: q for pid, q in remaining.items() if q > 0}
        )
        for pid, quantity in wanted.items():
            if pid not in remaining:
                raise Invalid(f"product {pid} is not on this seller order")
            if quantity < 1 or quantity > remaining[pid]:
                raise Invalid(f"only {remaining[pid]} of product {pid} remain to ship")
        if not wanted:
            raise Conflict("nothing remains to ship")
        self._shipped(lines={str(k): v for k, v in wanted.items()}, tracking=tracking)
        return wanted

    @event("Shipped")
    def _shipped(self, lines: dict[str, int], tracking: str | None) -> None:
        shipped = {UUID(k): v for k, v in lines.items()}
        self.shipments.append(dict(lines))
        self.lines = [
            Line(
                line.product_id,
                line.quantity,
                line.unit_price,
                line.shipped + shipped.get(line.product_id, 0),
            )
            for line in self.lines
        ]
        if tracking:
            self.tracking.append(tracking)
        done = all(line.shipped == line.quantity for line in self.lines)
        self.status = "shipped" if done else "partially_shipped"

    def post_message(self, message_id: UUID, author: dict[str, str], body: str, at: str) -> None:
        if not self.released:
            raise Conflict("the order is still awaiting the buyer's approval")
        if len(self.messages) >= MAX_MESSAGES:
            raise Conflict(f"a seller order takes at most {MAX_MESSAGES} messages")
        self._message_posted(message_id=str(message_id), author=author, body=body, at=at)

    @event("MessagePosted")
    def _message_posted(self, message_id: str, author: dict[str, str], body: str, at: str) -> None:
        posted = {"message_id": message_id, "author": author, "body": body, "at": at}
        self.messages = (*self.messages, posted)

    def deliver(self) -> None:
        self.check("deliver")
        self._delivered()

    @event("Delivered")
    def _delivered(self) -> None:
        self.status = "delivered"
