"""Returns of delivered lines: the buyer asks, the seller accepts (a credit note, the stock
back if it says so, the commission on those lines reversed) or refuses."""

from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import Conflict, Invalid, NotFound
from offers.holds import Holds
from orders.application import Orders
from orders.billing.application import Billing
from orders.billing.domain import (
    Invoice,
    Return,
    SellerLedger,
    charges_answer,
    commission_on,
    tax_rows,
)
from orders.billing.invoicing import Invoicing, Today
from orders.budgeting import Budgeting


class Returns:
    def __init__(
        self,
        billing: Billing,
        orders: Orders,
        holds: Holds,
        invoicing: Invoicing,
        today: Today,
        budgeting: Budgeting | None = None,
    ) -> None:
        self.billing = billing
        self.orders = orders
        self.holds = holds
        self.invoicing = invoicing
        self.today = today
        self.budgeting = budgeting

    def request(
        self,
        buyer_id: UUID,
        requested_by: str,
        seller_order_id: UUID,
        lines: dict[UUID, int],
        reason: str,
    ) -> Return:
        so = self.orders.seller_order(seller_order_id)
        if so.buyer_id != buyer_id:
            raise NotFound(f"unknown seller order {seller_order_id}")
        prices = {line.product_id: line.unit_price.amount for line in so.lines}
        for product_id in lines:
            if product_id not in prices:
                raise Invalid(f"product {product_id} is not on that seller order")
        # Not every seller confirms delivery: what was shipped counts as delivered here.
        delivered = {line.product_id: line.shipped for line in so.lines}
        return_id = uuid4()

        def attempt() -> Return:
            book = self.billing.book(so.id)
            book.claim(return_id, lines, delivered)
            requested = Return(
                id=return_id,
                buyer_id=buyer_id,
                requested_by=requested_by,
                seller_order_id=so.id,
                order_id=so.order_id,
                seller_id=so.reseller_id,
                currency=so.currency,
                lines=[
                    {
                        "product_id": str(pid),
                        "quantity": q,
                        "unit_price": prices[pid],
                        **({"tax": so.taxes[str(pid)]} if str(pid) in so.taxes else {}),
                    }
                    for pid, q in lines.items()
                ],
                reason=reason,
            )
            self.billing.save(book, requested)
            return requested

        return retrying(attempt)

    def accept(self, seller_id: UUID, return_id: UUID, restock: bool) -> Return:
        """Issues the credit note: it lowers the balances of the invoices the lines were on,
        and what they had already been paid goes to the buyer's credit balance and comes off
        the seller's next payout, less the commission it carried."""

        def attempt() -> tuple[Return, list[UUID]]:
            found = self.billing.a_return(return_id, seller_id=seller_id)
            found.check_requested()
            note_id = uuid5(return_id, "credit-note")
            series = self.billing.series(seller_id, "credit_note")
            today = self.today()
            found.accept(restock, note_id, series.take(note_id), today)
            invoices = self.billing.invoices_of(found.seller_order_id)
            account = self.billing.account(found.buyer_id, found.currency)
            ledgers = self.billing.ledgers()
            ledger = self.billing.ledger(seller_id, found.currency, ledgers)
            touched: list[Aggregate] = [found, series, account, ledgers, ledger]
            parts = _parts(found, invoices)
            if sum(part for _, part in parts) != found.net:
                raise Conflict(
                    "the invoices of these goods are not all issued yet; accept it again in a "
                    "minute"
                )
            for invoice, part in _gross(parts, found.net, found.amount):
                taken = invoice.credit(note_id, part)
                refunded = part - taken
                account.add_balance(refunded, f"credit_note:{note_id}")
                _refund(ledger, invoice, note_id, today, refunded, found)
                account.track(invoice)
                touched.append(invoice)
            self.billing.save(*touched)
            return found, [invoice.seller_order_id for invoice in invoices]

        accepted, seller_orders = retrying(attempt)
        self.finish(accepted.id)
        self.invoicing.settle_credit(seller_orders)
        return accepted

    def finish(self, return_id: UUID) -> None:
        """Puts an accepted return's goods back in stock if its seller said so, and gives
        its credit note back to the budget it was spent from; once, however often asked
        (again after a crash)."""
        found = self.billing.a_return(return_id)
        note = found.credit_note
        if self.budgeting is not None and note is not None:
            self.budgeting.give_back(found.order_id, UUID(note["credit_note_id"]), found.net)
        if found.status != "accepted" or not found.restock:
            return
        for line in found.lines:
            self.holds.restock(
                f"return:{found.id}", found.seller_id, UUID(line["product_id"]), line["quantity"]
            )

    def credit_note(self, found: Return) -> dict[str, Any]:
        """An accepted return's credit note as answers show it (api.md v1.2): the returned
        lines at the treatments they were sold with, its tax, and the invoices it corrects,
        whose parties it carries."""
        note = found.credit_note
        if note is None:
            raise NotFound("the return has no credit note")
        invoices = [i for i, _ in _parts(found, self.billing.invoices_of(found.seller_order_id))]
        # Each product as its invoices named it on the day they were issued.
        named = {
            line["product_id"]: {k: line[k] for k in ("name", "sku") if k in line}
            for invoice in invoices
            for line in invoice.lines
        }
        parties = invoices[0] if invoices else None
        currency = found.currency
        groups = tax_rows(found.tax_breakdown)
        return {
            "credit_note_id": note["credit_note_id"],
            "number": note["number"],
            "issued_on": note["issued_on"],
            "return_id": str(found.id),
            "reseller_id": str(found.seller_id),
            "buyer_id": str(found.buyer_id),
            "seller_order_id": str(found.seller_order_id),
            "order_id": str(found.order_id),
            "invoice_id": str(invoices[0].id) if invoices else None,
            "invoice_ids": [str(i.id) for i in invoices],
            "currency": currency,
            "lines": [
                {
                    "product_id": line["product_id"],
                    "quantity": line["quantity"],
                    "unit_price": {"amount": int(line["unit_price"]), "currency": currency},
                    "tax_category": (line.get("tax") or {}).get("tax_category"),
                    "tax_rate_bps": (line.get("tax") or {}).get("rate_bps", 0),
                    **named.get(line["product_id"], {}),
                }
                for line in found.lines
            ],
            "total": {"amount": found.amount, "currency": currency},
            **charges_answer(
                {
                    "tax_breakdown": groups,
                    "seller": parties.seller if parties else None,
                    "buyer": parties.buyer if parties else None,
                    "tax_total": sum(int(g["tax"]) for g in groups),
                },
                found.amount,
                currency,
            ),
        }

    def refuse(self, seller_id: UUID, return_id: UUID, reason: str) -> Return:
        def attempt() -> Return:
            found = self.billing.a_return(return_id, seller_id=seller_id)
            found.refuse(reason)
            book = self.billing.book(found.seller_order_id)
            book.unclaim(found.id)
            self.billing.save(found, book)
            return found

        return retrying(attempt)


def _parts(found: Return, invoices: list[Invoice]) -> list[tuple[Invoice, int]]:
    """How much of the credit note each invoice carries: the returned units taken from the
    invoices they were shipped on, latest first."""
    left = {line["product_id"]: int(line["quantity"]) for line in found.lines}
    parts: list[tuple[Invoice, int]] = []
    for invoice in sorted(invoices, key=lambda i: i.number, reverse=True):
        part = 0
        for line in invoice.lines:
            units = min(left.get(line["product_id"], 0), int(line["quantity"]))
            if units:
                left[line["product_id"]] -= units
                part += units * int(line["unit_price"])
        if part:
            parts.append((invoice, part))
    return parts


def _gross(parts: list[tuple[Invoice, int]], net: int, gross: int) -> list[tuple[Invoice, int]]:
    """The credit note's gross shared over the invoices in proportion to their net parts,
    in whole minor units that add up to it (the last takes what rounding leaves)."""
    shared: list[tuple[Invoice, int]] = []
    left = gross
    for index, (invoice, part) in enumerate(parts):
        share = left if index == len(parts) - 1 else part * gross // net if net else 0
        shared.append((invoice, share))
        left -= share
    return shared


def _refund(
    ledger: SellerLedger, invoice: Invoice, note_id: UUID, on: str, amount: int, note: Return
) -> None:
    """What the credit note refunds of a paid invoice comes off the seller's payout, with
    the commission on the returned goods' share of it."""
    reversed_commission = commission_on(amount, note.net, note.amount, invoice.commission_bps)
    ledger.add(
        f"credit_note:{note_id}:{invoice.id}",
        invoice,
        on,
        refunded=amount,
        reversed_commission=reversed_commission,
    )
