"""The buyer's approval of an order placed over its user's spending limit."""

from uuid import UUID

from marketplace.kernel.errors import Forbidden
from offers.holds import Holds
from orders.application import Orders
from orders.budgeting import Budgeting
from orders.domain import Order
from orders.holding import holds_of


class Approvals:
    def __init__(self, orders: Orders, holds: Holds, budgeting: Budgeting | None = None) -> None:
        self.orders = orders
        self.holds = holds
        self.budgeting = budgeting

    def approve(self, order_id: UUID, buyer_id: UUID, user_id: UUID) -> Order:
        order = self.orders.order(order_id, buyer_id)
        _check_not_own(order, user_id)
        order.approve(user_id)
        seller_orders = self.orders.seller_orders(order)
        for so in seller_orders:
            so.release()
        self.orders.save(order, *seller_orders)
        return order

    def reject(self, order_id: UUID, buyer_id: UUID, user_id: UUID) -> Order:
        order = self.orders.order(order_id, buyer_id)
        _check_not_own(order, user_id)
        order.reject(user_id)
        seller_orders = self.orders.seller_orders(order)
        for so in seller_orders:
            so.cancel("rejected by the buyer's approver", by_platform=True)
        self.orders.save(order, *seller_orders)
        for so in seller_orders:
            self.holds.give_back(*holds_of(so))
        if self.budgeting is not None:
            self.budgeting.follow(order.id)
        return order


def _check_not_own(order: Order, user_id: UUID) -> None:
    if order.placed_by.get("user_id") == str(user_id):
        raise Forbidden("an approver cannot decide on an order they placed")
