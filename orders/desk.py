"""The order desk: places, approves, fulfils and reroutes orders across the contexts.

Placing is a short saga, safe at any crash: the order and its seller orders are drafted,
then stock and credit are held (atomically, and at most once per seller-order line), then
the order is placed. `recover` finishes any order a crash left in between.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from marketplace.accounts import Account
from marketplace.buyers.application import Buyers
from marketplace.errors import DomainError, Forbidden
from marketplace.money import Money
from offers.application import CreditHold, Holds, HoldsRefused, Offers, StockHold
from offers.domain import CustomerTerms, Offer, Product, contract_price, offer_id
from orders.application import Orders
from orders.domain import INVOICE_METHODS, Order, SellerOrder, order_total, over_limit
from sellers.application import Sellers
from sellers.domain import Authorization

log = logging.getLogger(__name__)
# Offer candidates for a product, as the buyer's catalog view lists them (reseller ids).
Candidates = Callable[[UUID, UUID], list[UUID]]


class PlacementRefused(DomainError):
    def __init__(self, problems: list[dict[str, Any]], status_code: int) -> None:
        super().__init__(problems)
        self.status_code = status_code


@dataclass(frozen=True)
class LineRequest:
    product_id: UUID
    quantity: int
    reseller_id: UUID | None


@dataclass(frozen=True)
class Choice:
    line: int
    product: Product
    offer: Offer
    terms: CustomerTerms
    price: Money


# How bad each refusal is; the worst one gives the answer's status code.
SEVERITY = {404: 4, 403: 3, 422: 2, 402: 1, 409: 0}


def _problem(line: int, product_id: UUID, msg: str, status: int) -> dict[str, Any]:
    return {
        "loc": ["body", "lines", line],
        "line": line,
        "product_id": str(product_id),
        "msg": msg,
        "status": status,
    }


def refuse(problems: list[dict[str, Any]]) -> PlacementRefused:
    worst = max((p.get("status", 409) for p in problems), key=lambda s: SEVERITY.get(s, 0))
    return PlacementRefused(problems, worst)


def stock_ref(seller_order_id: UUID, product_id: UUID) -> str:
    return f"{seller_order_id}:{product_id}"


class Lookups:
    """What one placement reads of sellers, authorizations and terms, read once."""

    def __init__(self, sellers: Sellers, offers: Offers) -> None:
        self.sellers = sellers
        self.offers = offers
        self._accounts: dict[UUID, Account | None] = {}
        self._authorizations: dict[tuple[UUID, UUID], Authorization | None] = {}
        self._terms: dict[tuple[UUID, UUID], CustomerTerms | None] = {}

    def account(self, account_id: UUID) -> Account | None:
        if account_id not in self._accounts:
            self._accounts[account_id] = self.sellers.account(account_id)
        return self._accounts[account_id]

    def authorization(self, manufacturer_id: UUID, reseller_id: UUID) -> Authorization | None:
        key = (manufacturer_id, reseller_id)
        if key not in self._authorizations:
            self._authorizations[key] = self.sellers.authorization(*key)
        return self._authorizations[key]

    def terms(self, reseller_id: UUID, buyer_id: UUID) -> CustomerTerms | None:
        key = (reseller_id, buyer_id)
        if key not in self._terms:
            self._terms[key] = self.offers.terms(*key)
        return self._terms[key]


class OrderDesk:
    def __init__(
        self,
        orders: Orders,
        offers: Offers,
        sellers: Sellers,
        buyers: Buyers,
        candidates: Candidates,
        catch_up: Callable[[], None] = lambda: None,
    ) -> None:
        self.orders = orders
        self.offers = offers
        self.sellers = sellers
        self.buyers = buyers
        self.holds = Holds(offers)
        self.candidates = candidates
        # Lets the catalog view take in every command before offers are chosen from it.
        self.catch_up = catch_up

    # Choosing offers

    def _visible(
        self, seen: "Lookups", buyer_id: UUID, product: Product, reseller_id: UUID
    ) -> tuple[Offer, CustomerTerms] | None:
        offer = self.offers.find(offer_id(reseller_id, product.id), Offer)
        if offer is None or offer.withdrawn or product.discontinued:
            return None
        reseller = seen.account(reseller_id)
        maker = seen.account(product.manufacturer_id)
        if reseller is None or not reseller.is_approved or maker is None or not maker.is_approved:
            return None
        authorization = seen.authorization(product.manufacturer_id, reseller_id)
        if authorization is None or not authorization.covers(product.brand, product.category):
            return None
        terms = seen.terms(reseller_id, buyer_id)
        if terms is None or not terms.scope.admits(product.id, product.brand, product.category):
            return None
        return offer, terms

    def choose(
        self,
        buyer_id: UUID,
        index: int,
        request: LineRequest,
        payment_method: str,
        only_reseller: UUID | None,
        excluded: set[UUID],
        seen: "Lookups | None" = None,
    ) -> Choice | dict[str, Any]:
        """The best offer for one line, or the reason there is none."""
        seen = seen or Lookups(self.sellers, self.offers)
        pid = request.product_id
        product = self.offers.find(pid, Product)
        if product is None or product.discontinued:
            return _problem(index, pid, "this product is not in your catalog", 404)
        if request.reseller_id is not None:
            if only_reseller is not None and request.reseller_id != only_reseller:
                return _problem(
                    index, pid, "a sales rep orders only its own reseller's offers", 403
                )
            resellers = [request.reseller_id]
        else:
            resellers = [only_reseller] if only_reseller else self.candidates(buyer_id, pid)
        visible = []
        for reseller_id in resellers:
            if reseller_id in excluded:
                continue
            found = self._visible(seen, buyer_id, product, reseller_id)
            if found is not None:
                visible.append(found)
        if not visible:
            return _problem(index, pid, "no offer on this product is in your catalog", 404)
        payable = [v for v in visible if payment_method in v[1].payment_methods]
        if not payable:
            return _problem(
                index, pid, f"no seller of this product accepts {payment_method} from you", 422
            )
        enough_qty = [v for v in payable if request.quantity >= v[0].min_order_qty]
        if not enough_qty:
            least = min(v[0].min_order_qty for v in payable)
            return _problem(index, pid, f"the minimum order quantity is {least}", 422)
        in_stock = [v for v in enough_qty if v[0].stock >= request.quantity]
        if not in_stock:
            most = max(v[0].stock for v in enough_qty)
            return _problem(index, pid, f"not enough stock: at most {most} available", 409)
        offer, terms = min(
            in_stock,
            key=lambda v: (
                contract_price(product, v[0], v[1], request.quantity).amount,
                v[0].lead_time_days,
                str(v[0].reseller_id),
            ),
        )
        return Choice(
            index, product, offer, terms, contract_price(product, offer, terms, request.quantity)
        )

    # Placing

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
    ) -> Order:
        buyer = self.buyers.buyer(buyer_id)
        if not buyer.is_approved:
            raise Forbidden("the buyer organisation is not approved")
        self.catch_up()
        asked: set[tuple[UUID, UUID | None]] = set()
        lookups = Lookups(self.sellers, self.offers)
        problems: list[dict[str, Any]] = []
        choices: list[Choice] = []
        for index, request in enumerate(lines):
            key = (request.product_id, request.reseller_id)
            if key in asked:
                problems.append(
                    _problem(
                        index,
                        request.product_id,
                        "this product appears twice; merge the lines",
                        422,
                    )
                )
                continue
            asked.add(key)
            choice = self.choose(
                buyer_id, index, request, payment_method, only_reseller, set(), lookups
            )
            if isinstance(choice, Choice):
                choices.append(choice)
            else:
                problems.append(choice)
        if problems:
            raise refuse(problems)
        groups = self._group(choices)
        order, seller_orders = self._draft(
            buyer_id, placed_by, payment_method, po_number, shipping_address, lines, groups
        )
        needs_approval = over_limit(spending_limit, self._totals(seller_orders))
        self._hold_and_place(order, seller_orders, needs_approval)
        return order

    def _group(self, choices: list[Choice]) -> dict[UUID, list[Choice]]:
        groups: dict[UUID, list[Choice]] = {}
        for choice in choices:
            group = groups.setdefault(choice.offer.reseller_id, [])
            if any(c.product.id == choice.product.id for c in group):
                raise refuse(
                    [
                        _problem(
                            choice.line,
                            choice.product.id,
                            "this product appears twice; merge the lines",
                            422,
                        )
                    ]
                )
            group.append(choice)
        return groups

    def _open(
        self,
        order_id: UUID,
        buyer_id: UUID,
        reseller_id: UUID,
        payment_method: str,
        group: list[Choice],
        quantities: dict[int, int],
    ) -> SellerOrder:
        return SellerOrder(
            id=uuid4(),
            order_id=order_id,
            buyer_id=buyer_id,
            reseller_id=reseller_id,
            payment_method=payment_method,
            commission_bps=self.sellers.reseller(reseller_id).commission_bps,
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

    def _draft(
        self,
        buyer_id: UUID,
        placed_by: dict[str, str],
        payment_method: str,
        po_number: str | None,
        shipping_address: dict[str, str] | None,
        lines: list[LineRequest],
        groups: dict[UUID, list[Choice]],
    ) -> tuple[Order, list[SellerOrder]]:
        order_id = uuid4()
        quantities = {i: r.quantity for i, r in enumerate(lines)}
        seller_orders = [
            self._open(order_id, buyer_id, reseller_id, payment_method, group, quantities)
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
        )
        self.orders.save(order, *seller_orders)
        return order, seller_orders

    @staticmethod
    def _totals(seller_orders: list[SellerOrder]) -> list[Money]:
        return order_total("placing", [(so.status, so.total) for so in seller_orders])

    @staticmethod
    def _holds(so: SellerOrder) -> tuple[list[StockHold], list[CreditHold]]:
        stock = [
            StockHold(
                stock_ref(so.id, line.product_id),
                so.reseller_id,
                line.product_id,
                line.quantity - line.shipped,
                index,
            )
            for index, line in enumerate(so.lines)
        ]
        credit = (
            [CreditHold(str(so.id), so.reseller_id, so.buyer_id, so.total)]
            if so.payment_method in INVOICE_METHODS
            else []
        )
        return stock, credit

    def _hold_and_place(
        self, order: Order, seller_orders: list[SellerOrder], needs_approval: bool
    ) -> None:
        stock: list[StockHold] = []
        credit: list[CreditHold] = []
        for so in seller_orders:
            more_stock, more_credit = self._holds(so)
            stock += more_stock
            credit += more_credit
        try:
            self.holds.take(stock, credit)
        except HoldsRefused as refused:
            order.failed(refused.detail if isinstance(refused.detail, list) else [])
            for so in seller_orders:
                so.cancel("the order could not be placed", by_platform=True)
            self.orders.save(order, *seller_orders)
            raise
        order.placed(needs_approval)
        if not needs_approval:
            for so in seller_orders:
                so.release()
        self.orders.save(order, *seller_orders)

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
        needs_approval = over_limit(limit, self._totals(seller_orders))
        try:
            self._hold_and_place(order, seller_orders, needs_approval)
        except HoldsRefused:
            log.info("order %s could not be placed after a crash; it failed", order_id)

    # The buyer's approval

    def approve(self, order_id: UUID, buyer_id: UUID, user_id: UUID) -> Order:
        order = self.orders.order(order_id, buyer_id)
        self._check_not_own(order, user_id)
        order.approve(user_id)
        seller_orders = self.orders.seller_orders(order)
        for so in seller_orders:
            so.release()
        self.orders.save(order, *seller_orders)
        return order

    def reject(self, order_id: UUID, buyer_id: UUID, user_id: UUID) -> Order:
        order = self.orders.order(order_id, buyer_id)
        self._check_not_own(order, user_id)
        order.reject(user_id)
        seller_orders = self.orders.seller_orders(order)
        for so in seller_orders:
            so.cancel("rejected by the buyer's approver", by_platform=True)
        self.orders.save(order, *seller_orders)
        for so in seller_orders:
            self.holds.give_back(*self._holds(so))
        return order

    @staticmethod
    def _check_not_own(order: Order, user_id: UUID) -> None:
        if order.placed_by.get("user_id") == str(user_id):
            raise Forbidden("an approver cannot decide on an order they placed")

    # The seller's side

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
        self.holds.give_back(*self._holds(so))
        return so

    def refuse(self, reseller_id: UUID, seller_order_id: UUID, reason: str) -> SellerOrder:
        """Refuses a seller order and reroutes each line to the buyer's next best offer."""
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.refuse(reason)
        self.orders.save(so)
        self.holds.give_back(*self._holds(so))
        order = self.orders.order(so.order_id)
        self.catch_up()
        refused_by = {
            s.reseller_id for s in self.orders.seller_orders(order) if s.status == "refused"
        }
        choices: list[Choice] = []
        cancelled: list[dict[str, Any]] = []
        lookups = Lookups(self.sellers, self.offers)
        for index, line in enumerate(so.lines):
            request = LineRequest(line.product_id, line.quantity, None)
            choice = self.choose(
                order.buyer_id,
                index,
                request,
                order.payment_method,
                self._rep_reseller(order),
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
        for new_reseller, group in self._group(choices).items():
            new = self._open(
                order.id, order.buyer_id, new_reseller, order.payment_method, group, quantities
            )
            try:
                self.holds.take(*self._holds(new))
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

    @staticmethod
    def _rep_reseller(order: Order) -> UUID | None:
        rep_reseller = order.placed_by.get("reseller_id")
        return UUID(rep_reseller) if rep_reseller else None
