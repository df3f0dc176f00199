"""Budgets kept beside the orders that spend them. Placing reserves in the same save as the
order's draft, so that concurrent orders never overspend a budget; releasing, consuming and
giving back follow the seller orders' states, idempotently, right after each change and
again by housekeeping (so that a crash in between loses nothing)."""

from collections.abc import Callable
from uuid import UUID

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import NotFound
from marketplace.kernel.money import Money
from orders.application import Orders
from orders.budgets import Budget, BudgetBook, BudgetIndex, Enforcement
from orders.domain import Order, SellerOrder

Today = Callable[[], str]


class Budgeting:
    def __init__(self, orders: Orders, today: Today) -> None:
        self.orders = orders
        self.today = today

    def create(
        self,
        buyer_id: UUID,
        cost_centre_id: UUID,
        amount: Money,
        starts_on: str,
        ends_on: str,
        enforcement: Enforcement,
    ) -> Budget:
        Budget.check_figures(amount, starts_on, ends_on, enforcement)

        def attempt() -> Budget:
            book_id = BudgetBook.create_id(cost_centre_id)
            book = self.orders.find(book_id, BudgetBook) or BudgetBook(cost_centre_id)
            index = self.orders.find(BudgetIndex.create_id(), BudgetIndex) or BudgetIndex()
            budget = Budget(buyer_id, cost_centre_id, amount, starts_on, ends_on, enforcement)
            book.add(budget.id, amount.currency, starts_on, ends_on)
            index.add(budget.id)
            self.orders.save(book, index, budget)
            return budget

        return retrying(attempt)

    def budget(self, budget_id: UUID, buyer_id: UUID) -> Budget:
        found = self.orders.find(budget_id, Budget)
        if found is None or found.buyer_id != buyer_id:
            raise NotFound(f"unknown budget {budget_id}")
        return found

    def of(self, cost_centre_ids: list[UUID]) -> list[Budget]:
        """The budgets of these cost centres, earliest first."""
        books = self.orders.get_many([BudgetBook.create_id(c) for c in cost_centre_ids], BudgetBook)
        ids = [UUID(i) for book in books.values() for i in book.budgets]
        found = self.orders.get_many(ids, Budget)
        return sorted(found.values(), key=lambda b: (b.starts_on, str(b.id)))

    def covering(self, cost_centre_id: UUID | None, currency: str) -> Budget | None:
        """The cost centre's budget in that currency covering today, if any."""
        if cost_centre_id is None:
            return None
        book = self.orders.find(BudgetBook.create_id(cost_centre_id), BudgetBook)
        found = None if book is None else book.covering(self.today(), currency)
        return None if found is None else self.orders.find(found, Budget)

    def reserved_by(self, order: Order) -> Budget | None:
        """The budget the order's seller orders reserved, if any."""
        if order.cost_centre_id is None:
            return None
        book = self.orders.find(BudgetBook.create_id(order.cost_centre_id), BudgetBook)
        if book is None:
            return None
        budgets = self.orders.get_many([UUID(i) for i in book.budgets], Budget)
        for budget in budgets.values():
            if any(e["order_id"] == str(order.id) for e in budget.entries):
                return budget
        return None

    def follow(self, order_id: UUID) -> None:
        """Brings the budget in line with the order's seller orders: refused, cancelled or
        rejected ones release, delivered ones consume, rerouted ones reserve."""
        order = self.orders.find(order_id, Order)
        if order is None or order.cost_centre_id is None:
            return

        def attempt() -> None:
            budget = self.reserved_by(order)
            if budget is None:
                return
            fresh = self.orders.find(order_id, Order)
            assert fresh is not None
            seller_orders = self.orders.seller_orders(fresh)
            _follow(budget, fresh, seller_orders, self.today())
            self.orders.save(budget)

        retrying(attempt)

    def give_back(self, order_id: UUID, credit_note_id: UUID, amount: int) -> None:
        order = self.orders.find(order_id, Order)
        if order is None:
            return

        def attempt() -> None:
            budget = self.reserved_by(order)
            if budget is not None:
                budget.give_back(order_id, credit_note_id, amount, self.today())
                self.orders.save(budget)

        retrying(attempt)

    def sweep(self) -> int:
        """Follows every open reservation's order again; returns how many it looked at."""
        index = self.orders.find(BudgetIndex.create_id(), BudgetIndex)
        if index is None:
            return 0
        seen = 0
        for budget in self.orders.get_many(index.budget_ids, Budget).values():
            open_ids = budget.open_seller_orders()
            found = self.orders.get_many(open_ids, SellerOrder)
            for order_id in {so.order_id for so in found.values()}:
                self.follow(order_id)
                seen += 1
        return seen


def _follow(budget: Budget, order: Order, seller_orders: list[SellerOrder], today: str) -> None:
    closed = order.stage in ("failed", "rejected")
    for so in seller_orders:
        if so.currency != budget.amount.currency:
            continue
        gone = closed or so.status in ("refused", "cancelled")
        if not gone and not budget.reserved_for(so.id):
            # A seller order a refusal rerouted the lines to: it spends the same budget.
            budget.reserve(order.id, [(so.id, so.total.amount)], today, enforce=False)
        if gone:
            budget.release(order.id, so.id, today)
        elif so.status == "delivered":
            budget.consume(order.id, so.id, today)
