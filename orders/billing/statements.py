"""Bank statements imported as payments: one payment a CSV line, bad lines reported with
their number, good ones recorded once each even if the file is imported again."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from marketplace.kernel.errors import DomainError, Invalid
from marketplace.kernel.money import MAX_AMOUNT, Money, is_currency
from marketplace.kernel.text import first_control
from offers.application import Offers
from offers.domain import ImportJob
from offers.imports import Imports
from orders.billing.domain import Allocation
from orders.billing.payments import PaymentIn, Payments, statement_payment_id

HEADER = ["buyer_id", "amount", "currency", "reference", "received_on", "invoice_number"]
REQUIRED = HEADER[:5]
OPERATOR_JOBS = uuid5(NAMESPACE_URL, "marketplace:operator")
BATCH = 100


@dataclass(frozen=True)
class StatementLine:
    line: int
    payment: PaymentIn
    invoice_number: int | None


def parse_statement(
    lines: Iterable[tuple[int, str | None]],
) -> tuple[int, list[dict[str, Any]], list[StatementLine]]:
    """(lines counted, bad lines with their reason, good lines) of a CSV bank statement."""
    total = 0
    failed: list[dict[str, Any]] = []
    good: list[StatementLine] = []
    columns: list[int] | None = None
    for number, text in lines:
        if text is None:
            total += 1
            failed.append({"line": number, "detail": "the line is too long"})
            continue
        try:
            fields = next(csv.reader([text.rstrip("\r\n")]), [])
        except csv.Error as error:
            # A stray carriage return or quote: that line is bad, the others still count.
            if columns is None:
                raise Invalid(f"the header line cannot be read as CSV ({error})") from None
            total += 1
            failed.append({"line": number, "detail": f"the line cannot be read as CSV ({error})"})
            continue
        if columns is None:
            columns = _columns(fields)
            continue
        total += 1
        try:
            picked = [fields[i].strip() if 0 <= i < len(fields) else "" for i in columns]
            if len(fields) < len(REQUIRED):
                raise Invalid(f"expected the fields {','.join(HEADER)}, found {len(fields)}")
            good.append(statement_line(number, picked))
        except Invalid as error:
            failed.append({"line": number, "detail": str(error.detail)})
    return total, failed, good


def _columns(header: list[str]) -> list[int]:
    """Where each field of HEADER is in the file's header (-1 for an absent invoice_number);
    the columns may come in any order, and others are ignored."""
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise Invalid(
            f"the first line must be the header {','.join(HEADER)} (missing {', '.join(missing)})"
        )
    return [names.index(name) if name in names else -1 for name in HEADER]


def statement_line(number: int, fields: list[str]) -> StatementLine:
    """A statement line from its fields in HEADER's order."""
    buyer, amount, currency, reference, received_on, invoice_number = (f.strip() for f in fields)
    try:
        buyer_id = UUID(buyer)
    except ValueError:
        raise Invalid("buyer_id is not a UUID") from None
    if not amount.isdigit() or not 0 < int(amount) <= MAX_AMOUNT:
        raise Invalid("amount must be a positive whole number of minor units")
    if not is_currency(currency):
        raise Invalid("currency is not an ISO 4217 code")
    if not reference or len(reference) > 100 or first_control(reference) is not None:
        raise Invalid("reference must be 1 to 100 printable characters")
    try:
        date.fromisoformat(received_on)
    except ValueError:
        raise Invalid("received_on must be a date, YYYY-MM-DD") from None
    if invoice_number and not invoice_number.isdigit():
        raise Invalid("invoice_number must be a number or empty")
    return StatementLine(
        number,
        PaymentIn(buyer_id, Money(int(amount), currency), reference, received_on),
        int(invoice_number) if invoice_number else None,
    )


class StatementImports:
    def __init__(self, offers: Offers, imports: Imports, payments: Payments) -> None:
        self.offers = offers
        self.imports = imports
        self.payments = payments

    def start(self, total: int, failed: list[dict[str, Any]], good: list[StatementLine]) -> UUID:
        job_id = self.imports.create(OPERATOR_JOBS, "payments", total, failed)
        self.imports.in_background(job_id, lambda: self.run(job_id, good))
        return job_id

    def run(self, job_id: UUID, good: list[StatementLine]) -> None:
        """Records the payments in batches, each batch's progress saved after it: a crash
        loses no payment, and importing the file again records none twice."""
        for start in range(0, len(good), BATCH):
            batch = good[start : start + BATCH]
            failed = []
            for row in batch:
                try:
                    self.record(row)
                except DomainError as error:
                    failed.append({"line": row.line, "detail": str(error.detail)})
            job = self.offers.load(job_id, ImportJob, "import job")
            job.progress(len(batch) - len(failed), failed)
            if start + BATCH >= len(good):
                job.complete()
            self.offers.save(job)
        if not good:
            job = self.offers.load(job_id, ImportJob, "import job")
            job.complete()
            self.offers.save(job)

    def record(self, row: StatementLine) -> None:
        payment = row.payment
        payment_id = statement_payment_id(payment)
        if self.payments.recorded(payment_id):
            return
        if row.invoice_number is not None:
            invoice = self.payments.open_invoice_numbered(
                payment.buyer_id, payment.amount.currency, row.invoice_number
            )
            # What the invoice does not take stays as the buyer's credit balance.
            payment = PaymentIn(
                payment.buyer_id,
                payment.amount,
                payment.reference,
                payment.received_on,
                [Allocation(invoice.id, min(payment.amount.amount, invoice.balance))],
            )
        self.payments.record(payment, payment_id)

    def job(self, job_id: UUID) -> ImportJob:
        return self.imports.job(job_id, OPERATOR_JOBS)
