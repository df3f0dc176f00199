"""The orders context: orders and seller orders, load, command, save."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.kernel.errors import NotFound
from marketplace.kernel.money import Money
from orders.charges import group_row
from orders.domain import Order, SellerOrder, order_status, order_total


class Orders(MarketplaceApplication):
    name = "orders"

    def order(self, order_id: UUID, buyer_id: UUID | None = None) -> Order:
        order = self.find(order_id, Order)
        if (
            order is None
            or order.stage == "failed"
            or (buyer_id is not None and order.buyer_id != buyer_id)
        ):
            raise NotFound(f"unknown order {order_id}")
        return order

    def seller_order(self, seller_order_id: UUID, reseller_id: UUID | None = None) -> SellerOrder:
        seller_order = self.find(seller_order_id, SellerOrder)
        if seller_order is None or (
            reseller_id is not None
            and (seller_order.reseller_id != reseller_id or not seller_order.released)
        ):
            raise NotFound(f"unknown seller order {seller_order_id}")
        return seller_order

    def seller_orders(self, order: Order) -> list[SellerOrder]:
        """The order's seller orders, read with one query."""
        found = self.get_many(order.seller_order_ids, SellerOrder)
        missing = [i for i in order.seller_order_ids if i not in found]
        if missing:
            raise NotFound(f"unknown seller order {missing[0]}")
        return [found[i] for i in order.seller_order_ids]

    def shipments(self, seller_order_id: UUID) -> list[dict[str, Any]]:
        """A seller order's shipments as they happened: when, what, and the tracking."""
        return [
            {
                "at": str(getattr(e, "timestamp", "")),
                "version": e.originator_version,
                "lines": dict(getattr(e, "lines", {})),
                "tracking": getattr(e, "tracking", None),
            }
            for e in self.repository.event_store.get(seller_order_id)
            if type(e).__qualname__ == "SellerOrder.Shipped"
        ]

    def describe(self, order: Order, read: Sequence[SellerOrder] | None = None) -> dict[str, Any]:
        """An order as its buyer sees it, with its seller orders (those `read` already, when
        the caller has them)."""
        found = self.seller_orders(order) if read is None else read
        seller_orders = [describe_seller_order(so) for so in found]

        def summed(figure: str) -> list[dict[str, Any]]:
            found = order_total(
                order.stage, [(so["status"], Money.from_dict(so[figure])) for so in seller_orders]
            )
            return [money.as_dict() for money in found]

        return {
            "order_id": str(order.id),
            "buyer_id": str(order.buyer_id),
            "status": order_status(order.stage, [so["status"] for so in seller_orders]),
            "total": summed("total"),
            "net_total": summed("net_total"),
            "tax_total": summed("tax_total"),
            "gross_total": summed("gross_total"),
            "payment_method": order.payment_method,
            "po_number": order.po_number,
            "shipping_address": order.shipping_address,
            "placed_by": order.placed_by,
            "cost_centre_id": str(order.cost_centre_id) if order.cost_centre_id else None,
            "placed_at": order.created_on.isoformat(),
            "cancelled_lines": order.cancelled_lines,
            "seller_orders": seller_orders,
        }


def describe_seller_order(so: SellerOrder) -> dict[str, Any]:
    # Its tax is worked out once here, not once per figure that reads it.
    groups = so.tax_breakdown
    tax = sum(group.tax for group in groups)
    net = so.net_total.amount
    return {
        "seller_order_id": str(so.id),
        "order_id": str(so.order_id),
        "buyer_id": str(so.buyer_id),
        "reseller_id": str(so.reseller_id),
        "status": so.status,
        "payment_method": so.payment_method,
        "total": so.total.as_dict(),
        "shipping": shipping_answer(so),
        "tax_breakdown": [group_row(group, so.currency) for group in groups],
        "net_total": Money(net, so.currency).as_dict(),
        "tax_total": Money(tax, so.currency).as_dict(),
        "gross_total": Money(net + tax, so.currency).as_dict(),
        "tracking": so.tracking,
        "lines": [
            {
                "product_id": str(line.product_id),
                "quantity": line.quantity,
                "unit_price": line.unit_price.as_dict(),
                "shipped": line.shipped,
                "tax_category": so.taxes.get(str(line.product_id), {}).get("tax_category"),
                "tax_rate_bps": so.taxes.get(str(line.product_id), {}).get("rate_bps", 0),
            }
            for line in so.lines
        ],
    }


def shipping_answer(so: SellerOrder) -> dict[str, Any] | None:
    if so.shipping is None:
        return None
    return {
        "method": so.shipping["method"],
        "name": so.shipping.get("name", ""),
        "amount": Money(so.shipping_amount, so.currency).as_dict(),
        "earliest_delivery_on": so.shipping["earliest_delivery_on"],
        "latest_delivery_on": so.shipping["latest_delivery_on"],
    }
