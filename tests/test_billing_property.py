"""Reconciliation over generated histories of orders (taxed or not, shipped or not, in one
shipment or two), payments, returns and payout cycles: every buyer's books balance, every
cent paid in is accounted for, each seller order is invoiced its gross, tax per group rounds
as the rule says, and each seller's invoice numbers run 1, 2, 3... without a gap or a
repeat."""

from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.buyers.application import Buyers
from marketplace.kernel.errors import DomainError, Invalid
from marketplace.kernel.money import Money
from marketplace.taxes.application import Taxes
from marketplace.taxes.domain import Treatment, round_half_up
from marketplace.taxes.profiles import OPERATOR
from offers.application import Offers
from offers.holds import Holds
from orders.application import Orders
from orders.billing.application import Billing
from orders.billing.domain import BuyerAccount, Invoice, Payout, SellerLedger, net
from orders.billing.invoicing import Invoicing
from orders.billing.payments import PaymentIn, Payments
from orders.billing.payouts import Payouts
from orders.billing.returns import Returns
from orders.billing.statements import parse_statement
from orders.charges import treatment_row
from orders.domain import Order, SellerOrder
from sellers.application import Sellers

SELLERS = [UUID(int=100 + i) for i in range(2)]
BUYERS = [UUID(int=200 + i) for i in range(2)]
PRODUCT = UUID(int=300)
BOOK = UUID(int=301)  # sold at the reduced rate where taxed
# How a generated seller order's lines are taxed: (valve, book) treatments, None untaxed.
TAXES: dict[str, tuple[Treatment, Treatment] | None] = {
    "untaxed": None,
    "domestic": (Treatment("S", 1900), Treatment("S", 700)),
    "intra_community": (Treatment("K", 0, "Intra-community supply"),) * 2,
    "export": (Treatment("G", 0, "Export outside the EU"),) * 2,
}
ADDRESS: dict[str, str | None] = {
    "line1": "Weg 1",
    "postcode": "10115",
    "city": "Berlin",
    "country": "DE",
}


class Books:
    """The billing services on in-memory event stores, driven as the platform drives them."""

    def __init__(self) -> None:
        env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        self.billing = Billing(env=env)
        self.orders = Orders(env=env)
        holds = Holds(Offers(env=env))
        self.day = date(2027, 1, 1)
        self.invoicing = Invoicing(self.billing, self.orders, holds, self.today)
        self.payments = Payments(self.billing, self.invoicing)
        self.returns = Returns(self.billing, self.orders, holds, self.invoicing, self.today)
        # The operator and the first seller in Germany (commission at 19 %), the second in
        # Austria with a VAT ID (commission reverse charged).
        taxes = Taxes(Sellers(env=env), Buyers(env=env), Offers(env=env))
        taxes.set_profile("operator", OPERATOR, "Op", "DE", None, None, dict(ADDRESS))
        taxes.set_profile("seller", SELLERS[0], "S0", "DE", None, None, dict(ADDRESS))
        vienna: dict[str, str | None] = {**ADDRESS, "country": "AT"}
        taxes.set_profile("seller", SELLERS[1], "S1", "AT", "ATU13585627", None, vienna)
        self.payouts = Payouts(self.billing, taxes, self.today)
        self.invoices: list[UUID] = []
        self.delivered: list[SellerOrder] = []
        self.paid_in: dict[UUID, int] = defaultdict(int)
        self.credited: dict[UUID, int] = defaultdict(int)
        self.payout_ids: list[UUID] = []

    def today(self) -> str:
        return self.day.isoformat()

    def order(
        self,
        seller: UUID,
        buyer: UUID,
        quantity: int,
        price: int,
        method: str,
        bps: int,
        books: int = 0,
        taxed: str = "untaxed",
        shipping: int = 0,
        in_two: bool = False,
    ) -> None:
        order_id, so_id = uuid4(), uuid4()
        order = Order(order_id, buyer, {}, method, "PO", None, [], [so_id])
        units = {PRODUCT: quantity, BOOK: books}
        lines = [
            {"product_id": pid, "quantity": q, "unit_price": Money(price, "EUR"), "shipped": 0}
            for pid, q in units.items()
            if q
        ]
        so = SellerOrder(so_id, order_id, buyer, seller, method, bps, lines)
        treatments = TAXES[taxed]
        if treatments is not None or shipping:
            so.charged(
                shipping={
                    "method": "std",
                    "name": "Parcel",
                    "amount": shipping,
                    "earliest_delivery_on": "2027-01-02",
                    "latest_delivery_on": "2027-01-03",
                }
                if shipping
                else None,
                taxes={}
                if treatments is None
                else {
                    str(pid): treatment_row("standard" if pid == PRODUCT else "reduced", t)
                    for pid, t in zip((PRODUCT, BOOK), treatments, strict=True)
                },
            )
        so.release()
        so.accept()
        parts = [{PRODUCT: 1}, None] if in_two and quantity > 1 else [None]
        shipments = []
        for part in parts:
            shipped = so.ship(part, None)
            shipments.append((so.version, {str(k): v for k, v in shipped.items()}))
        so.deliver()
        self.orders.save(order, so)
        for version, shipped_lines in shipments:
            invoice = self.invoicing.invoice_shipment(so, version, shipped_lines)
            self.invoices.append(invoice.id)
            if method == "card":
                self.paid_in[buyer] += invoice.total
        self.delivered.append(so)

    def pay(self, buyer: UUID, amount: int) -> None:
        payment = PaymentIn(buyer, Money(amount, "EUR"), f"R{len(self.paid_in)}", self.today())
        try:
            self.payments.record(payment)
        except DomainError:
            return
        self.paid_in[buyer] += amount

    def give_back(self, index: int, quantity: int, accept: bool) -> None:
        if not self.delivered:
            return
        so = self.delivered[index % len(self.delivered)]
        try:
            asked = self.returns.request(so.buyer_id, "user", so.id, {PRODUCT: quantity}, "broken")
        except DomainError:
            return
        if accept:
            accepted = self.returns.accept(so.reseller_id, asked.id, restock=False)
            assert accepted.credit_note is not None
            self.credited[so.buyer_id] += int(accepted.credit_note["amount"])
        else:
            self.returns.refuse(so.reseller_id, asked.id, "no")

    def payout(self) -> None:
        self.payout_ids += [p.id for p in self.payouts.run(self.today())]


Step = tuple[Any, ...]
steps = st.one_of(
    st.tuples(
        st.just("order"),
        st.sampled_from(SELLERS),
        st.sampled_from(BUYERS),
        st.integers(1, 5),
        st.integers(1, 10_000),
        st.sampled_from(["card", "invoice_net_30", "invoice_net_60"]),
        st.sampled_from([0, 850, 1000]),
        st.integers(0, 3),
        st.sampled_from(sorted(TAXES)),
        st.sampled_from([0, 490, 1_234]),
        st.booleans(),
    ),
    st.tuples(st.just("pay"), st.sampled_from(BUYERS), st.integers(1, 60_000)),
    st.tuples(st.just("return"), st.integers(0, 50), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("payout")),
    st.tuples(st.just("days"), st.integers(1, 45)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(steps, max_size=30))
def test_the_books_reconcile_after_any_history(history: list[Step]) -> None:
    books = Books()
    for step in history:
        kind, *args = step
        if kind == "order":
            books.order(*args)
        elif kind == "pay":
            books.pay(*args)
        elif kind == "return":
            books.give_back(*args)
        elif kind == "payout":
            books.payout()
        else:
            books.day += timedelta(days=args[0])
    invoices = [books.billing.invoice(i) for i in books.invoices]

    # For every buyer: invoiced - credited - paid = open balance - credit balance.
    for buyer in BUYERS:
        own = [i for i in invoices if i.buyer_id == buyer]
        account = books.billing.find(BuyerAccount.create_id(buyer, "EUR"), BuyerAccount)
        balance = account.credit_balance if account else 0
        assert all(i.balance >= 0 for i in own)
        invoiced = sum(i.total for i in own)
        assert invoiced - books.credited[buyer] - books.paid_in[buyer] == (
            sum(i.balance for i in own) - balance
        )

    # Across the marketplace: paid in = paid out + commission kept + not yet paid out (held
    # for sellers, or as buyers' credit balances).
    payouts = [books.billing.payout(p) for p in books.payout_ids]
    paid_out = sum(p.amount for p in payouts)
    commission_kept = sum(int(line["commission"]) for p in payouts for line in p.lines)
    commission_kept += sum(p.commission_tax for p in payouts)
    pending = 0
    for seller in SELLERS:
        ledger = books.billing.find(SellerLedger.create_id(seller, "EUR"), SellerLedger)
        if ledger is not None:
            pending += sum(net(e) + int(e["commission"]) for e in ledger.pending.values())
    balances = 0
    for buyer in BUYERS:
        account = books.billing.find(BuyerAccount.create_id(buyer, "EUR"), BuyerAccount)
        balances += account.credit_balance if account else 0
    assert sum(books.paid_in.values()) == paid_out + commission_kept + pending + balances
    assert all(isinstance(p, Payout) and p.amount > 0 for p in payouts)

    # Per seller order, what is invoiced gross is its gross, and its tax is its invoices'
    # (each rounded per group by the rule).
    for so in books.delivered:
        own = [i for i in invoices if i.seller_order_id == so.id]
        assert sum(i.total for i in own) == so.gross_total.amount
        groups = [group for i in own for group in i.tax_breakdown]
        for group in groups:
            rounded = round_half_up(int(group["taxable"]) * int(group["rate_bps"]), 10_000)
            assert int(group["tax"]) == rounded
        assert sum(int(g["tax"]) for g in groups) == so.tax_total.amount
        assert sum(int(g["taxable"]) for g in groups) == (so.net_total.amount if so.taxes else 0)

    # No invoice number repeats or skips within a seller.
    for seller in SELLERS:
        numbers = sorted(i.number for i in invoices if i.seller_id == seller)
        assert numbers == list(range(1, len(numbers) + 1))
    assert all(isinstance(i, Invoice) for i in invoices)


def test_a_bank_statement_is_read_by_its_header_whatever_the_column_order() -> None:
    buyer = UUID(int=5)
    lines = [
        "\ufeffReference, received_on ,amount,currency,buyer_id,note",
        f"R-1,2027-01-02,150,EUR,{buyer},thanks",
        f"R-2,2027-01-32,150,EUR,{buyer},",
        f"R-3,2027-01-02,1.50,EUR,{buyer},",
        "",
        f"R-4,2027-01-02,150,EURO,{buyer},",
    ]
    total, failed, good = parse_statement((n, t) for n, t in enumerate(lines, 1) if t)
    assert total == 4
    assert [g.payment.reference for g in good] == ["R-1"]
    assert good[0].payment.amount == Money(150, "EUR")
    assert good[0].invoice_number is None
    assert [(f["line"], f["detail"].split(" ")[0]) for f in failed] == [
        (3, "received_on"),
        (4, "amount"),
        (6, "currency"),
    ]
    with pytest.raises(Invalid, match="missing buyer_id"):
        parse_statement(iter([(1, "amount,currency,reference,received_on")]))
