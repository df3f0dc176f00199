"""Invoices issued per shipment, and the buyer's credit they hold until they are paid."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from marketplace.adapters.eventstore import retrying
from marketplace.taxes.application import Party, Taxes
from offers.domain import Product
from offers.holds import CreditHold, Holds
from orders.application import Orders
from orders.billing.application import Billing
from orders.billing.domain import BuyerAccount, Invoice, invoice_id, tax_rows
from orders.domain import SellerOrder

Today = Callable[[], str]


def pay_from_balance(billing: Billing, account: BuyerAccount, invoice: Invoice) -> list[Aggregate]:
    """Applies the buyer's credit balance to an invoice; returns the seller ledger it credits."""
    use = min(account.credit_balance, invoice.balance)
    if use <= 0:
        return []
    ref = f"balance:{invoice.id}:{invoice.version}"
    account.use_balance(use, invoice.id)
    invoice.pay(ref, use)
    ledgers = billing.ledgers()
    ledger = billing.ledger(invoice.seller_id, invoice.currency, ledgers)
    ledger.add(ref, invoice, invoice.issued_on, paid=use)
    return [ledger, ledgers]


class Invoicing:
    def __init__(
        self,
        billing: Billing,
        orders: Orders,
        holds: Holds,
        today: Today,
        taxes: Taxes | None = None,
    ) -> None:
        self.taxes = taxes
        self.billing = billing
        self.orders = orders
        self.holds = holds
        self.today = today

    def invoice_shipment(self, so: SellerOrder, version: int, shipped: dict[str, int]) -> Invoice:
        """Issues the invoice of one shipment (the seller order's `Shipped` event at
        `version`), once however often asked. A card order's invoice is paid at issue; an
        invoice order's is paid first from the buyer's credit balance, if it has one."""
        iid = invoice_id(so.id, version)
        order = self.orders.order(so.order_id)
        prices = {str(line.product_id): line.unit_price.amount for line in so.lines}
        charged = so.shipping is not None or bool(so.taxes)
        # Which shipment this is (the first carries the shipping) matters only when charged:
        # an untaxed, unshipped seller order reads no more of its history than before.
        index = self._shipment_index(so, version) if charged else 0
        described = self._products(list(shipped)) if charged else {}
        lines = [
            {
                "product_id": pid,
                "quantity": quantity,
                "unit_price": prices[pid],
                **({"tax": so.taxes[pid]} if pid in so.taxes else {}),
                **described.get(pid, {}),
            }
            for pid, quantity in shipped.items()
        ]

        def attempt() -> Invoice:
            existing = self.billing.find(iid, Invoice)
            if existing is not None:
                return existing
            series = self.billing.series(so.reseller_id, "invoice")
            today = self.today()
            invoice = Invoice(
                id=iid,
                number=series.take(iid),
                seller_id=so.reseller_id,
                buyer_id=so.buyer_id,
                seller_order_id=so.id,
                order_id=so.order_id,
                payment_method=so.payment_method,
                po_number=order.po_number,
                issued_on=today,
                currency=so.currency,
                commission_bps=so.commission_bps,
                lines=lines,
                shipping=so.shipping if index == 0 else None,
                tax_breakdown=tax_rows(so.shipment_breakdown(index)) if charged else [],
                seller=self._party("seller", so.reseller_id) if charged else None,
                buyer=self._party("buyer", so.buyer_id) if charged else None,
            )
            book = self.billing.book(so.id)
            book.invoiced(iid)
            account = self.billing.account(so.buyer_id, so.currency)
            touched: list[Aggregate] = [series, invoice, book, account]
            if not so.on_credit:
                ledgers = self.billing.ledgers()
                ledger = self.billing.ledger(so.reseller_id, so.currency, ledgers)
                invoice.pay(f"card:{iid}", invoice.total)
                ledger.add(f"card:{iid}", invoice, today, paid=invoice.total)
                touched += [ledger, ledgers]
            else:
                touched += pay_from_balance(self.billing, account, invoice)
            account.track(invoice)
            self.billing.save(*touched)
            return invoice

        invoice = retrying(attempt)
        self.settle_credit([so.id])
        return invoice

    def _shipment_index(self, so: SellerOrder, version: int) -> int:
        versions = [shipment["version"] for shipment in self.orders.shipments(so.id)]
        return versions.index(version) if version in versions else len(so.shipments) - 1

    def _party(self, kind: Party, party_id: UUID) -> dict[str, Any] | None:
        """Who the party is on the invoice, as its tax profile says on the day of issue; a
        buyer without one is named by its account (its legal name and country)."""
        if self.taxes is None:
            return None
        found = self.taxes.profile(kind, party_id)
        if found is not None:
            return found.describe()
        if kind != "buyer":
            return None
        buyer = self.taxes.buyers.buyer(party_id)
        return {
            "legal_name": buyer.legal_name,
            "country": buyer.country,
            "vat_id": None,
            "tax_id": None,
            "address": {"country": buyer.country},
        }

    def _products(self, product_ids: list[str]) -> dict[str, dict[str, str]]:
        """Each product's name and SKU on the day of issue: the invoice keeps them, so that
        it renders the same whatever the catalog becomes."""
        if self.taxes is None:
            return {}
        found = self.taxes.offers.get_many([UUID(p) for p in product_ids], Product)
        return {str(k): {"name": v.name, "sku": v.sku} for k, v in found.items()}

    def invoice_missing(self, seller_order_id: UUID) -> int:
        """Issues the invoices of a seller order's shipments that have none (a crash came
        between the shipment and its invoice); returns how many it issued."""
        so = self.orders.seller_order(seller_order_id)
        issued = set(self.billing.book(so.id).invoice_ids)
        made = 0
        for shipment in self.orders.shipments(so.id):
            if invoice_id(so.id, shipment["version"]) not in issued:
                self.invoice_shipment(so, shipment["version"], shipment["lines"])
                made += 1
        return made

    def settle_credit(self, seller_order_ids: list[UUID]) -> None:
        """Lowers each invoice order's credit hold to what is still owed on it: its lines not
        yet invoiced, and its invoices' unpaid balances."""
        found = self.orders.get_many(seller_order_ids, SellerOrder)
        for so in found.values():
            if not so.on_credit:
                continue
            settled = sum(i.paid + i.credited for i in self.billing.invoices_of(so.id))
            self.holds.settle(
                CreditHold(str(so.id), so.reseller_id, so.buyer_id, so.gross_total),
                so.gross_total.amount - settled,
            )

    def notice_overdue(self, invoice_ids: list[UUID]) -> int:
        """Records on each invoice, once, that it is overdue (its buyer's admins hear of
        it); returns how many it recorded now."""
        today = self.today()
        noticed = 0
        for found_id in invoice_ids:

            def attempt() -> bool:
                invoice = self.billing.find(found_id, Invoice)  # noqa: B023
                if invoice is None or not invoice.notice_overdue(today):
                    return False
                self.billing.save(invoice)
                return True

            noticed += retrying(attempt)
        return noticed

    def overdue(self, buyer_id: UUID, seller_id: UUID, currency: str) -> dict[str, Any] | None:
        """The buyer's oldest invoice with that seller past its due date, if any."""
        account = self.billing.find(BuyerAccount.create_id(buyer_id, currency), BuyerAccount)
        return None if account is None else account.overdue_with(seller_id, self.today())

    def unpaid(self, buyer_id: UUID, seller_id: UUID, currency: str) -> int:
        account = self.billing.find(BuyerAccount.create_id(buyer_id, currency), BuyerAccount)
        if account is None:
            return 0
        ids = [
            UUID(key)
            for key, info in account.open_invoices.items()
            if info["seller_id"] == str(seller_id)
        ]
        return sum(i.balance for i in self.billing.get_many(ids, Invoice).values())
