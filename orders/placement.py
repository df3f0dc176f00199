"""Placing an order, safe at any crash.

The order and its seller orders are drafted, stock and credit held (at most once per
seller-order line) and the order placed. Where both event logs share a database, that is one
transaction; elsewhere it is a saga of three saves, and `recover` finishes any order a crash
left in between.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

from marketplace.adapters.eventstore import Read, retrying
from marketplace.buyers.application import Buyers
from marketplace.buyers.domain import Buyer
from marketplace.kernel.errors import Conflict, Forbidden, Refusal
from marketplace.kernel.money import Money
from marketplace.kernel.payments import INVOICE_METHODS
from offers.domain import offer_id, terms_id
from offers.holds import CreditHold, Holds, HoldsRefused, StockHold
from orders.application import Orders
from orders.budgeting import Budgeting
from orders.budgets import Budget
from orders.charges import NotShipped
from orders.charging import Charged, Charger, Charging, not_shipped
from orders.choosing import (
    Choice,
    LineRequest,
    Lookups,
    OfferChooser,
    PlacementRefused,
    by_seller,
    problem,
    twice,
)
from orders.domain import Order, SellerOrder, order_total, over_limit
from orders.holding import holds_of
from orders.quoting.domain import Quote
from sellers.application import Sellers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quoted:
    """An accepted quote's prices, which replace the offers' for its lines."""

    quote_id: UUID
    prices: dict[UUID, Money]
    now: str


# (buyer, seller, currency) -> the buyer's oldest overdue invoice with that seller, if any.
Overdue = Callable[[UUID, UUID, str], dict[str, Any] | None]

# Records several contexts' aggregates in one transaction, all or none.
SaveTogether = Callable[[Sequence[tuple[Any, Sequence[Any]]]], None]


@dataclass
class Draft:
    """An order and its seller orders before they are saved, with the cost centre's budget
    and the accepted quote they change, and whether the budget wants an approval."""

    order: Order
    seller_orders: list[SellerOrder]
    budget: Budget | None
    quote: Quote | None
    over_budget: bool

    def needs_approval(self, spending_limit: Money | None) -> bool:
        return self.over_budget or over_limit(spending_limit, _totals(self.seller_orders))

    def holds(self) -> tuple[list[StockHold], list[CreditHold]]:
        stock: list[StockHold] = []
        credit: list[CreditHold] = []
        for so in self.seller_orders:
            more_stock, more_credit = holds_of(so)
            stock += more_stock
            credit += more_credit
        return stock, credit

    def placed(self, needs_approval: bool) -> None:
        self.order.placed(needs_approval)
        if not needs_approval:
            for so in self.seller_orders:
                so.release()


def open_seller_order(
    lookups: Lookups,
    order_id: UUID,
    buyer_id: UUID,
    reseller_id: UUID,
    payment_method: str,
    group: list[Choice],
    quantities: dict[int, int],
    charged: Charged | None = None,
) -> SellerOrder:
    so = SellerOrder(
        id=uuid4(),
        order_id=order_id,
        buyer_id=buyer_id,
        reseller_id=reseller_id,
        payment_method=payment_method,
        commission_bps=lookups.commission_bps(reseller_id),
        lines=[
            {
                "product_id": c.product.id,
                "quantity": quantities[c.line],
                "unit_price": c.price,
                "shipped": 0,
            }
            for c in group
        ],
    )
    if charged is not None:
        charged.record(so)
    return so


def charge_groups(
    charger: Charger | None,
    lookups: Lookups,
    groups: dict[UUID, list[Choice]],
    quantities: dict[int, int],
    methods: Mapping[UUID, str],
) -> tuple[dict[UUID, Charged], list[dict[str, Any]]]:
    """Each group's charges, and the lines of groups whose seller cannot ship them."""
    charged: dict[UUID, Charged] = {}
    problems: list[dict[str, Any]] = []
    if charger is None:
        return charged, problems
    for reseller_id, group in groups.items():
        found = charger.charge(reseller_id, group, quantities, methods.get(reseller_id))
        if isinstance(found, NotShipped):
            account = lookups.account(reseller_id)
            name = getattr(account, "name", None) or f"seller {reseller_id}"
            problems += not_shipped(found, name, group)
        elif found is not None:
            charged[reseller_id] = found
    return charged, problems


@dataclass(frozen=True)
class Preview:
    """A seller's part of an order before it is placed: its charges (None: untaxed and
    shipped free; NotShipped: it cannot go there) and the methods that ship there."""

    charged: Charged | NotShipped | None
    methods: list[tuple[str, str]]
    currency: str


class Placement:
    def __init__(
        self,
        orders: Orders,
        sellers: Sellers,
        buyers: Buyers,
        chooser: OfferChooser,
        holds: Holds,
        catch_up: Callable[[], None],
        overdue: Overdue,
        budgeting: Budgeting | None = None,
        charging: Charging | None = None,
        save_together: SaveTogether | None = None,
    ) -> None:
        self.save_together = save_together
        self.charging = charging
        self.orders = orders
        self.sellers = sellers
        self.buyers = buyers
        self.chooser = chooser
        self.holds = holds
        self.overdue = overdue
        self.budgeting = budgeting
        # Lets the catalog view take in every command before offers are chosen from it.
        self.catch_up = catch_up

    def place(
        self,
        buyer_id: UUID,
        placed_by: dict[str, str],
        spending_limit: Money | None,
        lines: list[LineRequest],
        payment_method: str,
        po_number: str | None,
        shipping_address: dict[str, str] | None,
        only_reseller: UUID | None = None,
        cost_centre_id: UUID | None = None,
        quoted: Quoted | None = None,
        shipping_methods: Mapping[UUID, str] | None = None,
        order_id: UUID | None = None,
    ) -> Order:
        """Places an order across resellers: one seller order per reseller, stock and credit
        held, approval asked where a limit or a budget wants it."""
        return self.placed(
            buyer_id,
            placed_by,
            spending_limit,
            lines,
            payment_method,
            po_number,
            shipping_address,
            only_reseller,
            cost_centre_id,
            quoted,
            shipping_methods,
            order_id,
        )[0]

    def placed(
        self,
        buyer_id: UUID,
        placed_by: dict[str, str],
        spending_limit: Money | None,
        lines: list[LineRequest],
        payment_method: str,
        po_number: str | None,
        shipping_address: dict[str, str] | None,
        only_reseller: UUID | None = None,
        cost_centre_id: UUID | None = None,
        quoted: Quoted | None = None,
        shipping_methods: Mapping[UUID, str] | None = None,
        order_id: UUID | None = None,
        buyer: Buyer | None = None,
    ) -> tuple[Order, list[SellerOrder]]:
        """As `place`, with the seller orders the order was split into. An `order_id` makes
        it idempotent: given again (a retry after a crash), the order placed under it is
        answered, never a second one."""
        if order_id is not None and (placed := self._already(order_id)) is not None:
            return placed
        # The caller's session may have just read the buyer.
        if buyer is None or buyer.id != buyer_id:
            buyer = self.buyers.buyer(buyer_id)
        if not buyer.is_approved:
            raise Forbidden("the buyer organisation is not approved")
        user_id = placed_by.get("user_id") if placed_by.get("kind") == "buyer_user" else None
        cost_centre = buyer.cost_centre_for(UUID(user_id) if user_id else None, cost_centre_id)
        self.catch_up()
        lookups = self.chooser.lookups()
        choices, problems = self._choose(buyer_id, lines, payment_method, only_reseller, lookups)
        if payment_method in INVOICE_METHODS:
            problems += self._overdue(buyer_id, choices)
        if problems:
            raise PlacementRefused(problems)
        if quoted is not None:
            choices = [replace(c, price=quoted.prices[c.product.id]) for c in choices]
            placed_by = {**placed_by, "quote_id": str(quoted.quote_id)}
        groups = by_seller(choices)
        charger = self._charger(buyer_id, shipping_address, lookups, list(groups))
        quantities = {i: r.quantity for i, r in enumerate(lines)}
        charged, problems = charge_groups(
            charger, lookups, groups, quantities, shipping_methods or {}
        )
        if problems:
            raise PlacementRefused(problems)

        def drafted() -> Draft:
            return self._drafted(
                lookups,
                buyer_id,
                placed_by,
                payment_method,
                po_number,
                shipping_address,
                lines,
                groups,
                charged,
                cost_centre,
                quoted,
                order_id,
            )

        if self.save_together is not None:
            return self._place_at_once(
                drafted, spending_limit, groups, buyer_id, payment_method, order_id
            )

        # Without one transaction for both logs: a saga (draft, holds, placed) that `recover`
        # finishes after a crash. A budget changed by a concurrent order makes the draft's
        # save fail: it is drafted again against the budget as it is now.
        def draft_saved() -> Draft | tuple[Order, list[SellerOrder]]:
            if order_id is not None and (placed := self._already(order_id)) is not None:
                return placed
            return self._saved(drafted())

        draft = retrying(draft_saved)
        if not isinstance(draft, Draft):
            return draft
        self._hold_and_place(draft.order, draft.seller_orders, draft.needs_approval(spending_limit))
        return draft.order, draft.seller_orders

    def _place_at_once(
        self,
        drafted: Callable[[], Draft],
        spending_limit: Money | None,
        groups: dict[UUID, list[Choice]],
        buyer_id: UUID,
        payment_method: str,
        order_id: UUID | None,
    ) -> tuple[Order, list[SellerOrder]]:
        """Drafts, holds and places the order in one transaction of both event logs: a
        crash at any instant leaves all of it or none. Placements on the same offers and
        terms in this process take turns; a concurrent change anywhere else (another
        process, a budget, a seller's stock update) fails the save, which is tried again on
        fresh state."""
        assert self.save_together is not None
        save_together = self.save_together
        keys = [offer_id(r, c.product.id) for r, group in groups.items() for c in group]
        if payment_method in INVOICE_METHODS:
            keys += [terms_id(r, buyer_id) for r in groups]

        attempts = 0

        def attempt() -> tuple[Order, list[SellerOrder]]:
            nonlocal attempts
            attempts += 1
            # A save that failed on the order's own id: a retry of it was placed meanwhile.
            if order_id is not None and (placed := self._already(order_id)) is not None:
                return placed
            draft = drafted()
            # Choosing has just read the offers and terms: the first attempt holds on them
            # as kept, and a change since fails its save; a retry reads them afresh.
            held = self.holds.held(*draft.holds(), kept=attempts == 1)
            draft.placed(draft.needs_approval(spending_limit))
            save_together(
                [
                    (
                        self.orders,
                        [draft.order, *draft.seller_orders, draft.budget, draft.quote],
                    ),
                    (self.holds.offers, held),
                ]
            )
            return draft.order, draft.seller_orders

        with self.holds.turns(keys):
            return retrying(attempt)

    def preview(
        self,
        buyer_id: UUID,
        lines: list[LineRequest],
        payment_method: str,
        shipping_address: dict[str, str] | None,
        shipping_methods: Mapping[UUID, str],
        only_reseller: UUID | None = None,
    ) -> dict[UUID, Preview]:
        """What each seller's part of the order would be charged if placed now, by the same
        choice of offers and the same rules as `place`, with the shipping methods each
        seller offers to the destination; nothing is saved."""
        if self.charging is None:
            return {}
        lookups = self.chooser.lookups()
        choices, _ = self._choose(buyer_id, lines, payment_method, only_reseller, lookups)
        groups = by_seller(choices)
        charger = self._charger(buyer_id, shipping_address, lookups, list(groups))
        assert charger is not None
        quantities = {i: r.quantity for i, r in enumerate(lines)}
        found: dict[UUID, Preview] = {}
        for reseller_id, group in groups.items():
            charged = charger.charge(
                reseller_id, group, quantities, shipping_methods.get(reseller_id)
            )
            currency = group[0].price.currency
            methods = charger.methods(reseller_id, currency)
            found[reseller_id] = Preview(charged, methods, currency)
        return found

    def _taxes_along(self, buyer_id: UUID) -> Callable[[list[UUID]], list[Read]] | None:
        """The tax reads of the sellers that may be chosen, to ride along with choosing's."""
        charging = self.charging
        if charging is None:
            return None
        return lambda resellers: charging.reads(buyer_id, resellers)

    def _charger(
        self,
        buyer_id: UUID,
        shipping_address: Mapping[str, str] | None,
        lookups: Lookups,
        sellers: list[UUID],
    ) -> Charger | None:
        if self.charging is None:
            return None
        if lookups.along is None:
            return self.charging.charger(buyer_id, shipping_address, sellers)
        candidates, found = lookups.along
        return self.charging.charger(buyer_id, shipping_address, candidates, found)

    def _choose(
        self,
        buyer_id: UUID,
        lines: list[LineRequest],
        payment_method: str,
        only_reseller: UUID | None,
        lookups: Lookups,
    ) -> tuple[list[Choice], list[dict[str, Any]]]:
        """The offer each line goes to, and the lines that cannot be placed with why (a
        product asked twice of the same seller, or no offer that fits)."""
        lookups.prefetch(
            buyer_id, [r.product_id for r in lines], only_reseller, self._taxes_along(buyer_id)
        )
        asked: set[tuple[UUID, UUID | None]] = set()
        problems: list[dict[str, Any]] = []
        choices: list[Choice] = []
        for index, request in enumerate(lines):
            key = (request.product_id, request.reseller_id)
            if key in asked:
                problems.append(twice(index, request.product_id))
                continue
            asked.add(key)
            choice = self.chooser.choose(
                buyer_id, index, request, payment_method, only_reseller, set(), lookups
            )
            if isinstance(choice, Choice):
                choices.append(choice)
            else:
                problems.append(choice)
        return choices, problems

    def _overdue(self, buyer_id: UUID, choices: list[Choice]) -> list[dict[str, Any]]:
        """Lines going to a seller the buyer has an overdue invoice with: no more orders on
        invoice with it until that invoice is paid."""
        problems = []
        late: dict[tuple[UUID, str], dict[str, Any] | None] = {}
        for choice in choices:
            key = (choice.offer.reseller_id, choice.price.currency)
            if key not in late:
                late[key] = self.overdue(buyer_id, *key)
            invoice = late[key]
            if invoice is not None:
                refused = problem(
                    choice.line,
                    choice.product.id,
                    f"invoice {invoice['number']} from this seller was due on "
                    f"{invoice['due_on']} and is not paid; orders on invoice with this seller "
                    "wait until it is (card orders still go through)",
                    Refusal.CREDIT,
                )
                problems.append(
                    {
                        **refused,
                        "invoice_id": invoice["invoice_id"],
                        "invoice_number": invoice["number"],
                    }
                )
        return problems

    def _drafted(
        self,
        lookups: Lookups,
        buyer_id: UUID,
        placed_by: dict[str, str],
        payment_method: str,
        po_number: str | None,
        shipping_address: dict[str, str] | None,
        lines: list[LineRequest],
        groups: dict[UUID, list[Choice]],
        charged: dict[UUID, Charged],
        cost_centre_id: UUID | None = None,
        quoted: Quoted | None = None,
        order_id: UUID | None = None,
    ) -> Draft:
        """The order and its seller orders, with their amount reserved of the cost centre's
        budget and the quote accepted; nothing is saved. Whether the order needs approval
        for the budget is in the draft (a `block` budget refuses it instead)."""
        order_id = order_id or uuid4()
        quantities = {i: r.quantity for i, r in enumerate(lines)}
        seller_orders = [
            open_seller_order(
                lookups,
                order_id,
                buyer_id,
                reseller_id,
                payment_method,
                group,
                quantities,
                charged.get(reseller_id),
            )
            for reseller_id, group in groups.items()
        ]
        order = Order(
            id=order_id,
            buyer_id=buyer_id,
            placed_by=placed_by,
            payment_method=payment_method,
            po_number=po_number,
            shipping_address=shipping_address,
            lines=[
                {"product_id": r.product_id, "quantity": r.quantity, "reseller_id": r.reseller_id}
                for r in lines
            ],
            seller_order_ids=[so.id for so in seller_orders],
            cost_centre_id=cost_centre_id,
        )
        budgeting, budget, over = self.budgeting, None, False
        if budgeting is not None and seller_orders:
            budget = budgeting.covering(cost_centre_id, seller_orders[0].currency)
        if budgeting is not None and budget is not None:
            currency = budget.amount.currency
            spent = [(so.id, so.total.amount) for so in seller_orders if so.currency == currency]
            over = budget.reserve(order_id, spent, budgeting.today(), enforce=True)
            over = over and budget.enforcement == "require_approval"
        quote = None
        if quoted is not None:
            # Ordered in the same save as the draft: two acceptances at once place one order.
            quote = self.orders.load(quoted.quote_id, Quote, "quote")
            quote.accept(order_id, quoted.now)
        return Draft(order, seller_orders, budget, quote, over)

    def _saved(self, draft: Draft) -> Draft:
        self.orders.save(draft.order, *draft.seller_orders, draft.budget, draft.quote)
        return draft

    def _hold_and_place(
        self, order: Order, seller_orders: list[SellerOrder], needs_approval: bool
    ) -> None:
        stock, credit = Draft(order, seller_orders, None, None, False).holds()
        try:
            self.holds.take(stock, credit)
        except HoldsRefused as refused:
            order.failed(refused.detail if isinstance(refused.detail, list) else [])
            for so in seller_orders:
                so.cancel("the order could not be placed", by_platform=True)
            self.orders.save(order, *seller_orders)
            if self.budgeting is not None:
                self.budgeting.follow(order.id)
            self._quote_stands_again(order, refused)
            raise
        order.placed(needs_approval)
        if not needs_approval:
            for so in seller_orders:
                so.release()
        self.orders.save(order, *seller_orders)

    def _quote_stands_again(self, order: Order, refused: HoldsRefused) -> None:
        quote_id = order.placed_by.get("quote_id")
        if quote_id is None:
            return

        def attempt() -> None:
            quote = self.orders.load(UUID(quote_id), Quote, "quote")
            quote.order_failed(f"the order could not be placed: {refused.detail}", "")
            self.orders.save(quote)

        retrying(attempt)

    def _already(self, order_id: UUID) -> tuple[Order, list[SellerOrder]] | None:
        """The order placed under this id before, finished if a crash cut it short."""
        order = self.orders.find(order_id, Order)
        if order is None:
            return None
        if order.stage == "placing":
            self.recover(order_id)
            order = self.orders.load(order_id, Order, "order")
        if order.stage == "failed":
            raise Conflict("this order could not be placed; place it again with a new key")
        return order, self.orders.seller_orders(order)

    def recover(self, order_id: UUID) -> None:
        """Finishes placing an order a crash left between its draft and its placing."""
        order = self.orders.find(order_id, Order)
        if order is None or order.stage != "placing":
            return
        seller_orders = self.orders.seller_orders(order)
        buyer = self.buyers.buyer(order.buyer_id)
        user_id = order.placed_by.get("user_id")
        user = buyer.user(UUID(user_id)) if user_id else None
        limit = user.spending_limit if user else None
        needs_approval = over_limit(limit, _totals(seller_orders))
        budget = self.budgeting.reserved_by(order) if self.budgeting is not None else None
        if budget is not None and budget.enforcement == "require_approval":
            needs_approval = needs_approval or budget.went_over(order.id)
        try:
            self._hold_and_place(order, seller_orders, needs_approval)
        except HoldsRefused:
            log.info("order %s could not be placed after a crash; it failed", order_id)


def _totals(seller_orders: list[SellerOrder]) -> list[Money]:
    return order_total("placing", [(so.status, so.total) for so in seller_orders])
