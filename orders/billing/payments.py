"""Payments from buyers: recorded once, allocated to invoices (named ones, or the oldest open
ones), an overpayment kept as the buyer's credit balance."""

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import Invalid, NotFound
from marketplace.kernel.money import Money
from orders.billing.application import Billing
from orders.billing.domain import Allocation, BuyerAccount, Invoice, Payment, SellerLedger, allocate
from orders.billing.invoicing import Invoicing


@dataclass(frozen=True)
class PaymentIn:
    buyer_id: UUID
    amount: Money
    reference: str
    received_on: str
    allocations: list[Allocation] | None = None


def statement_payment_id(payment: PaymentIn) -> UUID:
    """A bank statement line names its payment: importing the same line twice (a file sent
    again after a crash) records it once."""
    key = "|".join(
        [
            str(payment.buyer_id),
            str(payment.amount.amount),
            payment.amount.currency,
            payment.reference,
            payment.received_on,
        ]
    )
    return uuid5(NAMESPACE_URL, f"marketplace:payment:{key}")


class Payments:
    def __init__(self, billing: Billing, invoicing: Invoicing) -> None:
        self.billing = billing
        self.invoicing = invoicing

    def record(self, payment: PaymentIn, payment_id: UUID | None = None) -> tuple[Payment, bool]:
        """Records a payment and allocates it; returns it and whether this call recorded it
        (False when `payment_id` was recorded before)."""
        if payment.amount.amount < 1:
            raise Invalid("a payment must be a positive amount")
        pid = payment_id or uuid4()
        currency = payment.amount.currency

        def attempt() -> tuple[Payment, bool]:
            existing = self.billing.find(pid, Payment)
            if existing is not None:
                return existing, False
            named = None if payment.allocations is None else self._named(payment, currency)
            account = self.billing.find(
                BuyerAccount.create_id(payment.buyer_id, currency), BuyerAccount
            )
            if account is None:
                raise Invalid(f"the buyer has no invoices in {currency}")
            if named is not None:
                invoices = named
            else:
                ids = [UUID(k) for k in account.open_invoices]
                invoices = list(self.billing.get_many(ids, Invoice).values())
            chosen = allocate(payment.amount.amount, invoices, payment.allocations)
            by_id = {i.id: i for i in invoices}
            ledgers = self.billing.ledgers()
            seller_ledgers: dict[UUID, SellerLedger] = {}
            for allocation in chosen:
                invoice = by_id[allocation.invoice_id]
                invoice.pay(str(pid), allocation.amount)
                if invoice.seller_id not in seller_ledgers:
                    seller_ledgers[invoice.seller_id] = self.billing.ledger(
                        invoice.seller_id, currency, ledgers
                    )
                seller_ledgers[invoice.seller_id].add(
                    f"{pid}:{invoice.id}", invoice, payment.received_on, paid=allocation.amount
                )
                account.track(invoice)
            unallocated = payment.amount.amount - sum(a.amount for a in chosen)
            account.add_balance(unallocated, f"payment:{pid}")
            recorded = Payment(
                id=pid,
                buyer_id=payment.buyer_id,
                amount=payment.amount.amount,
                currency=currency,
                reference=payment.reference,
                received_on=payment.received_on,
                allocations=[{"invoice_id": str(a.invoice_id), "amount": a.amount} for a in chosen],
                unallocated=unallocated,
            )
            self.billing.save(recorded, account, *by_id.values(), *seller_ledgers.values(), ledgers)
            return recorded, True

        recorded, new = retrying(attempt)
        if new:
            self.invoicing.settle_credit([by.seller_order_id for by in self._invoices(recorded)])
        return recorded, new

    def _named(self, payment: PaymentIn, currency: str) -> list[Invoice]:
        assert payment.allocations is not None
        ids = [a.invoice_id for a in payment.allocations]
        found = self.billing.get_many(ids, Invoice)
        invoices = []
        for allocation in payment.allocations:
            invoice = found.get(allocation.invoice_id)
            if invoice is None or invoice.buyer_id != payment.buyer_id:
                raise NotFound(f"unknown invoice {allocation.invoice_id} for that buyer")
            if invoice.currency != currency:
                raise Invalid(
                    f"invoice {invoice.number} is in {invoice.currency}, the payment in {currency}"
                )
            invoices.append(invoice)
        return invoices

    def _invoices(self, payment: Payment) -> list[Invoice]:
        ids = [UUID(a["invoice_id"]) for a in payment.allocations]
        return list(self.billing.get_many(ids, Invoice).values())

    def recorded(self, payment_id: UUID) -> bool:
        return self.billing.find(payment_id, Payment) is not None

    def open_invoice_numbered(self, buyer_id: UUID, currency: str, number: int) -> Invoice:
        """A bank statement names an invoice by its number, which is unique per seller: the
        buyer's one open invoice with that number."""
        account = self.billing.account(buyer_id, currency)
        matches = [k for k, info in account.open_invoices.items() if info["number"] == number]
        if not matches:
            raise NotFound(f"the buyer has no open invoice number {number} in {currency}")
        if len(matches) > 1:
            raise Invalid(
                f"the buyer has open invoices number {number} from {len(matches)} sellers; "
                "record this payment with its invoice_id"
            )
        return self.billing.load(UUID(matches[0]), Invoice, "invoice")
