"""The contexts' application services assembled on the eventsourcing library's in-memory
stores (POPO), as the platform assembles them on a database: for testing placement,
fulfilment, budgets, quotes and billing in milliseconds, with no view and no HTTP between
the test and the rule. Offer candidates are every reseller a test registered, so the
services choose among them exactly as placement does among the catalog view's."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from marketplace.buyers.application import Buyers
from offers.application import Offers
from offers.domain import CustomerTerms
from offers.holds import Holds
from orders.application import Orders
from orders.approval import Approvals
from orders.billing.application import Billing
from orders.billing.invoicing import Invoicing
from orders.billing.payments import Payments
from orders.billing.returns import Returns
from orders.budgeting import Budgeting
from orders.choosing import LineRequest, OfferChooser
from orders.domain import Order
from orders.fulfilment import Fulfilment
from orders.placement import Placement
from orders.quoting.application import Quoting
from sellers.application import Sellers
from tests import seeding
from tests.seeding import eur

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@dataclass
class Services:
    """One marketplace's services in memory, with a clock the test moves."""

    today: date = date(2026, 12, 1)
    resellers: list[UUID] = field(default_factory=list)
    _numbers: Callable[[], int] = field(default_factory=lambda: count(1).__next__)

    def __post_init__(self) -> None:
        self.sellers = Sellers(env=IN_MEMORY)
        self.offers = Offers(env=IN_MEMORY)
        self.buyers = Buyers(env=IN_MEMORY)
        self.orders = Orders(env=IN_MEMORY)
        self.billing = Billing(env=IN_MEMORY)
        self.offers.authorization_of = self.sellers.authorization
        self.holds = Holds(self.offers)
        chooser = OfferChooser(self.offers, self.sellers, self._candidates)
        today = self.today_iso
        self.invoicing = Invoicing(self.billing, self.orders, self.holds, today)
        self.budgeting = Budgeting(self.orders, today)
        self.payments = Payments(self.billing, self.invoicing)
        self.returns = Returns(
            self.billing, self.orders, self.holds, self.invoicing, today, self.budgeting
        )
        self.placement = Placement(
            self.orders,
            self.sellers,
            self.buyers,
            chooser,
            self.holds,
            lambda: None,
            self.invoicing.overdue,
            self.budgeting,
        )
        self.approvals = Approvals(self.orders, self.holds, self.budgeting)
        self.quoting = Quoting(self.orders, self.offers, self.placement, self.now_iso)
        self.fulfilment = Fulfilment(
            self.orders,
            self.sellers,
            chooser,
            self.holds,
            lambda: None,
            self.invoicing,
            self.budgeting,
        )
        self.maker = seeding.approve(
            self.sellers,
            self.sellers.register_manufacturer("Acme", "DE", f"mk_m_{self._numbers()}"),
        )

    def today_iso(self) -> str:
        return self.today.isoformat()

    def now_iso(self) -> str:
        return datetime.combine(self.today, time(12), UTC).isoformat()

    def later(self, days: int) -> None:
        self.today += timedelta(days=days)

    def _candidates(self, _buyer: UUID, product_ids: list[UUID]) -> dict[UUID, list[UUID]]:
        return {pid: list(self.resellers) for pid in product_ids}

    def reseller(self, name: str) -> UUID:
        reseller_id = seeding.approve(
            self.sellers,
            self.sellers.register_reseller(name, "reseller", "DE", f"mk_s_{self._numbers()}"),
        )
        self.sellers.authorize(self.maker, reseller_id, None, None)
        self.resellers.append(reseller_id)
        return reseller_id

    def buyer(self, name: str = "Muster GmbH") -> tuple[UUID, UUID]:
        buyer_id, admin_id = self.buyers.register(name, "DE1", "DE", f"mk_b_{self._numbers()}")
        buyer = self.buyers.buyer(buyer_id)
        buyer.approve()
        self.buyers.save(buyer)
        return buyer_id, admin_id

    def product(self, sku: str, map_price: int | None = None) -> UUID:
        return seeding.product(self.offers, self.maker, sku, map_price=map_price)

    def offer(
        self, reseller_id: UUID, product_id: UUID, price: int, stock: int = 100, moq: int = 1
    ) -> None:
        seeding.offer(self.offers, reseller_id, product_id, price, stock=stock, moq=moq)

    def terms(
        self,
        reseller_id: UUID,
        buyer_id: UUID,
        methods: list[str] | None = None,
        credit_limit: int | None = None,
    ) -> None:
        methods = methods or ["card", "invoice_net_30"]
        seeding.terms(self.offers, reseller_id, buyer_id, methods, credit_limit=credit_limit)

    def place(
        self,
        buyer: tuple[UUID, UUID],
        lines: list[tuple[UUID, int]],
        method: str = "card",
        spending_limit: int | None = None,
        cost_centre_id: UUID | None = None,
    ) -> Order:
        buyer_id, user_id = buyer
        return self.placement.place(
            buyer_id,
            {"kind": "buyer_user", "user_id": str(user_id), "name": "Buyer"},
            eur(spending_limit) if spending_limit is not None else None,
            [LineRequest(pid, quantity, None) for pid, quantity in lines],
            method,
            "PO-1",
            None,
            cost_centre_id=cost_centre_id,
        )

    def terms_of(self, reseller_id: UUID, buyer_id: UUID) -> CustomerTerms:
        terms = self.offers.terms(reseller_id, buyer_id)
        assert terms is not None
        return terms

    def stock(self, reseller_id: UUID, product_id: UUID) -> int:
        return int(self.offers.offer(reseller_id, product_id).stock)

    def described(self, order: Order) -> dict[str, Any]:
        return self.orders.describe(self.orders.order(order.id))
