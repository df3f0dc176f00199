"""The billing context: invoices, payments, returns and payouts, load, command, save."""

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.kernel.errors import NotFound
from orders.billing.domain import (
    BuyerAccount,
    CommissionInvoice,
    Invoice,
    Ledgers,
    NumberSeries,
    Payment,
    Payout,
    Return,
    SellerLedger,
    SellerOrderBook,
    buyer_account_id,
    charges_answer,
    commission_invoice_answer,
    net,
    seller_ledger_id,
)

A = TypeVar("A", bound=Aggregate)


class Billing(MarketplaceApplication):
    name = "billing"
    # Ledgers and accounts gain an event per payment; snapshots keep loading them short.
    snapshotting_intervals = {SellerLedger: 100, BuyerAccount: 100, Ledgers: 100}

    def made(self, aggregate_id: UUID, cls: type[A], make: Callable[[], A]) -> A:
        found = self.find(aggregate_id, cls)
        return found if found is not None else make()

    def account(self, buyer_id: UUID, currency: str) -> BuyerAccount:
        return self.made(
            buyer_account_id(buyer_id, currency),
            BuyerAccount,
            lambda: BuyerAccount(buyer_id, currency),
        )

    def ledger(self, seller_id: UUID, currency: str, ledgers: Ledgers) -> SellerLedger:
        ledger = self.made(
            seller_ledger_id(seller_id, currency),
            SellerLedger,
            lambda: SellerLedger(seller_id, currency),
        )
        ledgers.add(ledger.id)
        return ledger

    def ledgers(self) -> Ledgers:
        return self.made(Ledgers.create_id(), Ledgers, Ledgers)

    def series(self, seller_id: UUID, kind: str) -> NumberSeries:
        return self.made(
            NumberSeries.create_id(seller_id, kind),
            NumberSeries,
            lambda: NumberSeries(seller_id, kind),
        )

    def book(self, seller_order_id: UUID) -> SellerOrderBook:
        return self.made(
            SellerOrderBook.create_id(seller_order_id),
            SellerOrderBook,
            lambda: SellerOrderBook(seller_order_id),
        )

    def invoice(
        self, invoice_id: UUID, buyer_id: UUID | None = None, seller_id: UUID | None = None
    ) -> Invoice:
        """An invoice its buyer, its seller or the operator (neither given) may read."""
        invoice = self.find(invoice_id, Invoice)
        if (
            invoice is None
            or (buyer_id is not None and invoice.buyer_id != buyer_id)
            or (seller_id is not None and invoice.seller_id != seller_id)
        ):
            raise NotFound(f"unknown invoice {invoice_id}")
        return invoice

    def a_return(
        self, return_id: UUID, buyer_id: UUID | None = None, seller_id: UUID | None = None
    ) -> Return:
        found = self.find(return_id, Return)
        if (
            found is None
            or (buyer_id is not None and found.buyer_id != buyer_id)
            or (seller_id is not None and found.seller_id != seller_id)
        ):
            raise NotFound(f"unknown return {return_id}")
        return found

    def payout(self, payout_id: UUID, seller_id: UUID | None = None) -> Payout:
        found = self.find(payout_id, Payout)
        if found is None or (seller_id is not None and found.seller_id != seller_id):
            raise NotFound(f"unknown payout {payout_id}")
        return found

    def commission_invoice(
        self, invoice_id: UUID, seller_id: UUID | None = None
    ) -> CommissionInvoice:
        found = self.find(invoice_id, CommissionInvoice)
        if found is None or (seller_id is not None and found.seller_id != seller_id):
            raise NotFound(f"unknown commission invoice {invoice_id}")
        return found

    def invoices_of(self, seller_order_id: UUID) -> list[Invoice]:
        book = self.find(SellerOrderBook.create_id(seller_order_id), SellerOrderBook)
        if book is None:
            return []
        found = self.get_many(book.invoice_ids, Invoice)
        return [found[i] for i in book.invoice_ids if i in found]


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def describe_invoice(invoice: Invoice, today: str) -> dict[str, Any]:
    return {
        "invoice_id": str(invoice.id),
        "number": invoice.number,
        "reseller_id": str(invoice.seller_id),
        "buyer_id": str(invoice.buyer_id),
        "seller_order_id": str(invoice.seller_order_id),
        "order_id": str(invoice.order_id),
        "payment_method": invoice.payment_method,
        "po_number": invoice.po_number,
        "issued_on": invoice.issued_on,
        "due_on": invoice.due_on,
        "status": invoice.status(today),
        "currency": invoice.currency,
        "total": money(invoice.total, invoice.currency),
        "paid": money(invoice.paid, invoice.currency),
        "credited": money(invoice.credited, invoice.currency),
        "balance": money(invoice.balance, invoice.currency),
        "lines": [
            {
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "unit_price": money(int(line["unit_price"]), invoice.currency),
                "tax_category": (line.get("tax") or {}).get("tax_category"),
                "tax_rate_bps": (line.get("tax") or {}).get("rate_bps", 0),
                **{k: line[k] for k in ("name", "sku") if k in line},
            }
            for line in invoice.lines
        ],
        **charges_answer(
            {
                "shipping": invoice.shipping,
                "tax_breakdown": invoice.tax_breakdown,
                "seller": invoice.seller,
                "buyer": invoice.buyer,
                "tax_total": sum(int(g["tax"]) for g in invoice.tax_breakdown),
            },
            invoice.total,
            invoice.currency,
        ),
    }


def describe_payment(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": str(payment.id),
        "buyer_id": str(payment.buyer_id),
        "amount": money(payment.amount, payment.currency),
        "reference": payment.reference,
        "received_on": payment.received_on,
        "allocated": [
            {"invoice_id": a["invoice_id"], "amount": money(int(a["amount"]), payment.currency)}
            for a in payment.allocations
        ],
        "unallocated": money(payment.unallocated, payment.currency),
    }


def describe_return(found: Return) -> dict[str, Any]:
    note = found.credit_note
    return {
        "return_id": str(found.id),
        "status": found.status,
        "buyer_id": str(found.buyer_id),
        "reseller_id": str(found.seller_id),
        "seller_order_id": str(found.seller_order_id),
        "order_id": str(found.order_id),
        "reason": found.reason,
        "refusal": found.refusal,
        "restock": found.restock,
        "requested_at": found.created_on.isoformat(),
        "lines": [
            {
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "unit_price": money(int(line["unit_price"]), found.currency),
            }
            for line in found.lines
        ],
        "credit_note": None
        if note is None
        else {
            "credit_note_id": note["credit_note_id"],
            "number": note["number"],
            "issued_on": note["issued_on"],
            "amount": money(int(note["amount"]), found.currency),
        },
    }


def describe_payout(payout: Payout) -> dict[str, Any]:
    return {
        "payout_id": str(payout.id),
        "reseller_id": str(payout.seller_id),
        "up_to": payout.up_to,
        "made_at": payout.created_on.isoformat(),
        "amount": money(payout.amount, payout.currency),
        "commission_tax": money(payout.commission_tax, payout.currency),
        "commission_invoice_id": str(payout.commission_invoice_id)
        if payout.commission_invoice_id
        else None,
        "lines": [
            {
                "invoice_id": line["invoice_id"],
                "paid": money(line["paid"], payout.currency),
                "commission": money(line["commission"], payout.currency),
                "credit_notes": money(line["credit_notes"], payout.currency),
                "net": money(net(line), payout.currency),
                "held": bool(line.get("held")),
            }
            for line in payout.lines
        ],
    }


def describe_commission_invoice(found: CommissionInvoice) -> dict[str, Any]:
    return commission_invoice_answer(
        {
            "id": str(found.id),
            "number": found.number,
            "payout_id": str(found.payout_id),
            "seller_id": str(found.seller_id),
            "issued_on": found.issued_on,
            "currency": found.currency,
            "net_total": found.net_total,
            "tax_breakdown": found.tax_breakdown,
            "operator": found.operator,
            "seller": found.seller,
        }
    )
