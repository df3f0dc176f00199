"""The seller's side of a seller order: accept, ship, deliver, cancel, or refuse it, and
reroute each refused line to the buyer's next best offer."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from offers.holds import Holds, HoldsRefused, StockHold
from orders.application import Orders
from orders.choosing import Choice, LineRequest, OfferChooser, by_seller
from orders.domain import Order, SellerOrder
from orders.holding import holds_of, stock_ref
from orders.placement import open_seller_order
from sellers.application import Sellers


class Fulfilment:
    def __init__(
        self,
        orders: Orders,
        sellers: Sellers,
        chooser: OfferChooser,
        holds: Holds,
        catch_up: Callable[[], None],
    ) -> None:
        self.orders = orders
        self.sellers = sellers
        self.chooser = chooser
        self.holds = holds
        self.catch_up = catch_up

    def accept(self, reseller_id: UUID, seller_order_id: UUID) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.accept()
        self.orders.save(so)
        return so

    def ship(
        self,
        reseller_id: UUID,
        seller_order_id: UUID,
        quantities: dict[UUID, int] | None,
        tracking: str | None,
    ) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        shipped = so.ship(quantities, tracking)
        self.orders.save(so)
        for product_id, quantity in shipped.items():
            self.holds.shipped(
                StockHold(stock_ref(so.id, product_id), so.reseller_id, product_id, quantity, 0)
            )
        return so

    def deliver(self, reseller_id: UUID, seller_order_id: UUID) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.deliver()
        self.orders.save(so)
        return so

    def cancel(self, reseller_id: UUID, seller_order_id: UUID, reason: str) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.cancel(reason)
        self.orders.save(so)
        self.holds.give_back(*holds_of(so))
        return so

    def refuse(self, reseller_id: UUID, seller_order_id: UUID, reason: str) -> SellerOrder:
        """Refuses a seller order and reroutes each line to the buyer's next best offer."""
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.refuse(reason)
        self.orders.save(so)
        self.holds.give_back(*holds_of(so))
        order = self.orders.order(so.order_id)
        self.catch_up()
        refused_by = {
            s.reseller_id for s in self.orders.seller_orders(order) if s.status == "refused"
        }
        choices: list[Choice] = []
        cancelled: list[dict[str, Any]] = []
        lookups = self.chooser.lookups()
        for index, line in enumerate(so.lines):
            request = LineRequest(line.product_id, line.quantity, None)
            choice = self.chooser.choose(
                order.buyer_id,
                index,
                request,
                order.payment_method,
                _rep_reseller(order),
                refused_by,
                lookups,
            )
            if isinstance(choice, Choice):
                choices.append(choice)
            else:
                cancelled.append(
                    {
                        "product_id": str(line.product_id),
                        "quantity": line.quantity,
                        "reason": choice["msg"],
                    }
                )
        new_orders: list[SellerOrder] = []
        quantities = {c.line: so.lines[c.line].quantity for c in choices}
        for new_reseller, group in by_seller(choices).items():
            new = open_seller_order(
                self.sellers,
                order.id,
                order.buyer_id,
                new_reseller,
                order.payment_method,
                group,
                quantities,
            )
            try:
                self.holds.take(*holds_of(new))
            except HoldsRefused as refused:
                cancelled += [
                    {
                        "product_id": str(line.product_id),
                        "quantity": line.quantity,
                        "reason": f"the next best offer could not be held: {refused.detail}",
                    }
                    for line in new.lines
                ]
                continue
            new.release()
            new_orders.append(new)
        order.rerouted([n.id for n in new_orders], cancelled)
        self.orders.save(order, *new_orders)
        return so


def _rep_reseller(order: Order) -> UUID | None:
    rep_reseller = order.placed_by.get("reseller_id")
    return UUID(rep_reseller) if rep_reseller else None
