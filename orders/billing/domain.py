"""Money after the order: invoices per shipment, payments and their allocation, credit notes
from returns, and payouts to sellers less commission.

The operator collects from buyers and pays sellers. Every amount is in minor units of one
currency; dates are ISO dates (`YYYY-MM-DD`) of the platform's clock.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.errors import Conflict, Invalid
from marketplace.kernel.payments import DUE_DAYS
from marketplace.taxes.domain import TaxGroup, breakdown, round_half_up
from orders.charges import treatment_from
from orders.domain import commission

InvoiceStatus = Literal["open", "overdue", "paid"]
ReturnStatus = Literal["requested", "accepted", "refused"]
AGEING = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
_NS = uuid5(NAMESPACE_URL, "marketplace:billing")


def invoice_id(seller_order_id: UUID, shipment_version: int) -> UUID:
    """One invoice per shipment: the seller order's `Shipped` event names it."""
    return uuid5(seller_order_id, f"invoice:{shipment_version}")


def series_id(seller_id: UUID, kind: str) -> UUID:
    return uuid5(_NS, f"series:{kind}:{seller_id}")


def buyer_account_id(buyer_id: UUID, currency: str) -> UUID:
    return uuid5(_NS, f"buyer:{buyer_id}:{currency}")


def seller_ledger_id(seller_id: UUID, currency: str) -> UUID:
    return uuid5(_NS, f"seller:{seller_id}:{currency}")


def book_id(seller_order_id: UUID) -> UUID:
    return uuid5(_NS, f"book:{seller_order_id}")


LEDGERS_ID = uuid5(_NS, "ledgers")


def due_on(issued_on: str, payment_method: str) -> str:
    return (date.fromisoformat(issued_on) + timedelta(days=DUE_DAYS[payment_method])).isoformat()


def days_overdue(due: str, today: str) -> int:
    return (date.fromisoformat(today) - date.fromisoformat(due)).days


def ageing_bucket(due: str, today: str) -> str:
    late = days_overdue(due, today)
    if late <= 0:
        return "current"
    if late <= 30:
        return "d1_30"
    if late <= 60:
        return "d31_60"
    if late <= 90:
        return "d61_90"
    return "d90_plus"


class NumberSeries(Aggregate):
    """A seller's legal numbering of invoices (or of credit notes): unique and gap-free,
    since a number is taken only in the same save as the document that carries it."""

    @staticmethod
    def create_id(seller_id: UUID, kind: str) -> UUID:
        return series_id(seller_id, kind)

    @event("Started")
    def __init__(self, seller_id: UUID, kind: str) -> None:
        self.seller_id = seller_id
        self.kind = kind
        self.last = 0

    def take(self, document_id: UUID) -> int:
        self._taken(document_id=document_id)
        return self.last

    @event("NumberTaken")
    def _taken(self, document_id: UUID) -> None:
        self.last += 1


def goods_of(lines: list[dict[str, Any]]) -> int:
    return sum(int(line["quantity"]) * int(line["unit_price"]) for line in lines)


def document_totals(
    lines: list[dict[str, Any]], shipping: dict[str, Any] | None, groups: list[dict[str, Any]]
) -> tuple[int, int]:
    """(net, tax) of an invoice or a credit note: its goods and shipping, and its groups'
    tax; documents from before tax and shipping have neither."""
    net = goods_of(lines) + (int(shipping["amount"]) if shipping else 0)
    return net, sum(int(group["tax"]) for group in groups)


def tax_rows(groups: list[TaxGroup]) -> list[dict[str, Any]]:
    return [
        {
            "category": g.code,
            "rate_bps": g.rate_bps,
            "taxable": g.taxable,
            "tax": g.tax,
            "exemption_note": g.exemption_note,
        }
        for g in groups
    ]


def commission_on(amount: int, goods: int, gross: int, rate_bps: int) -> int:
    """The commission on `amount` paid (or refunded) of a document: charged on net goods
    only, so on the goods' share of what was paid; all of it when the document is untaxed
    and unshipped."""
    if gross == goods or gross == 0:
        return commission(amount, rate_bps)
    return round_half_up(amount * goods * rate_bps, gross * 10_000)


class Invoice(Aggregate):
    """What a buyer owes a seller for one shipment, at the order's frozen prices, with its
    share of the seller order's shipping (all of it on the first) and its tax."""

    class Issued(Aggregate.Created):
        number: int
        seller_id: UUID
        buyer_id: UUID
        seller_order_id: UUID
        order_id: UUID
        payment_method: str
        po_number: str | None
        issued_on: str
        currency: str
        commission_bps: int
        lines: list[dict[str, Any]]
        shipping: dict[str, Any] | None
        tax_breakdown: list[dict[str, Any]]
        seller: dict[str, Any] | None
        buyer: dict[str, Any] | None
        # Version 2 added shipping, tax and the parties; earlier invoices have none.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(shipping=None, tax_breakdown=[], seller=None, buyer=None)

    @event(Issued)
    def __init__(
        self,
        id: UUID,
        number: int,
        seller_id: UUID,
        buyer_id: UUID,
        seller_order_id: UUID,
        order_id: UUID,
        payment_method: str,
        po_number: str | None,
        issued_on: str,
        currency: str,
        commission_bps: int,
        lines: list[dict[str, Any]],
        shipping: dict[str, Any] | None = None,
        tax_breakdown: list[dict[str, Any]] | None = None,
        seller: dict[str, Any] | None = None,
        buyer: dict[str, Any] | None = None,
    ) -> None:
        self.shipping = shipping
        self.tax_breakdown = list(tax_breakdown or [])
        self.seller = seller
        self.buyer = buyer
        self.number = number
        self.seller_id = seller_id
        self.buyer_id = buyer_id
        self.seller_order_id = seller_order_id
        self.order_id = order_id
        self.payment_method = payment_method
        self.po_number = po_number
        self.issued_on = issued_on
        self.due_on = due_on(issued_on, payment_method)
        self.currency = currency
        self.commission_bps = commission_bps
        self.lines = lines
        self.paid = 0
        self.credited = 0
        self.payments: dict[str, int] = {}
        self.credit_notes: dict[str, int] = {}

    @property
    def goods(self) -> int:
        return goods_of(self.lines)

    @property
    def total(self) -> int:
        """What the buyer owes on it, gross."""
        net, tax = document_totals(self.lines, self.shipping, self.tax_breakdown)
        return net + tax

    def commission_on(self, amount: int) -> int:
        return commission_on(amount, self.goods, self.total, self.commission_bps)

    @property
    def balance(self) -> int:
        return self.total - self.paid - self.credited

    def status(self, today: str) -> InvoiceStatus:
        if self.balance <= 0:
            return "paid"
        return "overdue" if self.due_on < today else "open"

    def pay(self, payment_ref: str, amount: int) -> None:
        """Allocates part of a payment; once per payment, never beyond the balance."""
        if payment_ref in self.payments:
            return
        if amount < 1:
            raise Invalid("an allocation must be a positive amount")
        if amount > self.balance:
            raise Conflict(
                f"invoice {self.number} has {self.balance} {self.currency} left to pay, "
                f"not {amount}"
            )
        self._paid(payment_ref=payment_ref, amount=amount)

    @event("PaymentApplied")
    def _paid(self, payment_ref: str, amount: int) -> None:
        self.payments[payment_ref] = amount
        self.paid += amount

    def credit(self, credit_note_id: UUID, amount: int) -> int:
        """Lowers the balance by a credit note, as far as it goes; returns what it took."""
        taken = min(amount, max(self.balance, 0))
        if taken > 0 and str(credit_note_id) not in self.credit_notes:
            self._credited(credit_note_id=str(credit_note_id), amount=taken)
        return taken

    @event("CreditApplied")
    def _credited(self, credit_note_id: str, amount: int) -> None:
        self.credit_notes[credit_note_id] = amount
        self.credited += amount

    # Set once its buyer was told it is overdue; invoices stored before have no such event.
    overdue_noticed = False

    def notice_overdue(self, today: str) -> bool:
        """Records, once, that it is unpaid past its due date; whether it did now."""
        if self.overdue_noticed or self.status(today) != "overdue":
            return False
        self._overdue(number=self.number, due_on=self.due_on, buyer_id=self.buyer_id, on=today)
        return True

    @event("Overdue")
    def _overdue(self, number: int, due_on: str, buyer_id: UUID, on: str) -> None:
        self.overdue_noticed = True

    def unit_price(self, product_id: UUID) -> int | None:
        for line in self.lines:
            if line["product_id"] == str(product_id):
                return int(line["unit_price"])
        return None


def oldest_first(invoices: list[Invoice]) -> list[Invoice]:
    return sorted(invoices, key=lambda i: (i.due_on, i.issued_on, str(i.seller_id), i.number))


@dataclass(frozen=True)
class Allocation:
    invoice_id: UUID
    amount: int


def allocate(
    amount: int, invoices: list[Invoice], asked: list[Allocation] | None
) -> list[Allocation]:
    """Where a payment goes: to the named invoices as asked, else to the oldest open ones."""
    if asked is not None:
        if sum(a.amount for a in asked) > amount:
            raise Invalid("the allocations add up to more than the payment")
        by_id = {i.id: i for i in invoices}
        seen: set[UUID] = set()
        for a in asked:
            if a.invoice_id in seen:
                raise Invalid(f"invoice {a.invoice_id} is named twice")
            seen.add(a.invoice_id)
            invoice = by_id.get(a.invoice_id)
            if invoice is not None and a.amount > invoice.balance:
                raise Conflict(
                    f"invoice {invoice.number} has {invoice.balance} {invoice.currency} left "
                    f"to pay, not {a.amount}"
                )
        return list(asked)
    left = amount
    chosen: list[Allocation] = []
    for invoice in oldest_first([i for i in invoices if i.balance > 0]):
        if left == 0:
            break
        part = min(left, invoice.balance)
        chosen.append(Allocation(invoice.id, part))
        left -= part
    return chosen


class Payment(Aggregate):
    """Money a buyer sent the operator, and the invoices it paid."""

    @event("Received")
    def __init__(
        self,
        id: UUID,
        buyer_id: UUID,
        amount: int,
        currency: str,
        reference: str,
        received_on: str,
        allocations: list[dict[str, Any]],
        unallocated: int,
    ) -> None:
        self.buyer_id = buyer_id
        self.amount = amount
        self.currency = currency
        self.reference = reference
        self.received_on = received_on
        self.allocations = allocations
        self.unallocated = unallocated


class BuyerAccount(Aggregate):
    """A buyer's money with the marketplace in one currency: the invoices it has open (for
    paying the oldest first and for refusing invoice orders while one is overdue), and the
    credit balance left by overpayments and credit notes, applied to later invoices."""

    @staticmethod
    def create_id(buyer_id: UUID, currency: str) -> UUID:
        return buyer_account_id(buyer_id, currency)

    @event("Opened")
    def __init__(self, buyer_id: UUID, currency: str) -> None:
        self.buyer_id = buyer_id
        self.currency = currency
        self.credit_balance = 0
        self.open_invoices: dict[str, dict[str, Any]] = {}

    def track(self, invoice: Invoice) -> None:
        key = str(invoice.id)
        if invoice.balance > 0 and key not in self.open_invoices:
            self._invoice_opened(
                invoice_id=key,
                seller_id=str(invoice.seller_id),
                number=invoice.number,
                due_on=invoice.due_on,
            )
        elif invoice.balance <= 0 and key in self.open_invoices:
            self._invoice_closed(invoice_id=key)

    @event("InvoiceOpened")
    def _invoice_opened(self, invoice_id: str, seller_id: str, number: int, due_on: str) -> None:
        self.open_invoices[invoice_id] = {
            "seller_id": seller_id,
            "number": number,
            "due_on": due_on,
        }

    @event("InvoiceClosed")
    def _invoice_closed(self, invoice_id: str) -> None:
        self.open_invoices.pop(invoice_id, None)

    def overdue_with(self, seller_id: UUID, today: str) -> dict[str, Any] | None:
        """The oldest invoice of this seller past its due date, if any."""
        late = [
            {"invoice_id": key, **info}
            for key, info in self.open_invoices.items()
            if info["seller_id"] == str(seller_id) and info["due_on"] < today
        ]
        return min(late, key=lambda i: (i["due_on"], i["number"])) if late else None

    def add_balance(self, amount: int, source: str) -> None:
        if amount > 0:
            self._balance_added(amount=amount, source=source)

    @event("BalanceAdded")
    def _balance_added(self, amount: int, source: str) -> None:
        self.credit_balance += amount

    def use_balance(self, amount: int, invoice_id: UUID) -> None:
        if amount > self.credit_balance:
            raise Conflict("the buyer's credit balance is smaller than that")
        if amount > 0:
            self._balance_used(amount=amount, invoice_id=str(invoice_id))

    @event("BalanceUsed")
    def _balance_used(self, amount: int, invoice_id: str) -> None:
        self.credit_balance -= amount


class SellerLedger(Aggregate):
    """What the marketplace owes one seller in one currency and has not paid out yet: one
    entry per payment on its invoices (less commission) and per credit note refunded."""

    @staticmethod
    def create_id(seller_id: UUID, currency: str) -> UUID:
        return seller_ledger_id(seller_id, currency)

    @event("Opened")
    def __init__(self, seller_id: UUID, currency: str) -> None:
        self.seller_id = seller_id
        self.currency = currency
        self.pending: dict[str, dict[str, Any]] = {}
        self.paid_out_through = ""

    def add(
        self,
        entry_id: str,
        invoice: Invoice,
        on: str,
        paid: int = 0,
        refunded: int = 0,
        reversed_commission: int | None = None,
    ) -> None:
        """A payment on one of its invoices, or a credit note refunding one (with the
        commission it reverses, the invoice's share when not said); once each."""
        if entry_id in self.pending or (paid == 0 and refunded == 0):
            return
        if reversed_commission is None:
            reversed_commission = invoice.commission_on(refunded)
        self._entry_added(
            entry_id=entry_id,
            invoice_id=str(invoice.id),
            on=on,
            paid=paid,
            commission=invoice.commission_on(paid) - reversed_commission,
            credit_notes=refunded,
        )

    @event("EntryAdded")
    def _entry_added(
        self, entry_id: str, invoice_id: str, on: str, paid: int, commission: int, credit_notes: int
    ) -> None:
        self.pending[entry_id] = {
            "invoice_id": invoice_id,
            "on": on,
            "paid": paid,
            "commission": commission,
            "credit_notes": credit_notes,
        }

    def due_through(self, up_to: str) -> list[str]:
        return sorted(k for k, e in self.pending.items() if e["on"] <= up_to)

    def pay_out(
        self,
        payout_id: UUID,
        up_to: str,
        commission_tax: Callable[[int], int] = lambda _: 0,
        held: Callable[[list[str]], set[str]] = lambda _: set(),
    ) -> list[dict[str, Any]] | None:
        """The statement lines of a payout of every entry up to a date, per invoice; None when
        nothing is due (or what is due, less the tax on its commission, is not positive: it
        waits for more). Entries on the invoices `held` names stay for a later payout; the
        statement shows them as held lines that count for nothing."""
        entries = self.due_through(up_to)
        kept = held(sorted({self.pending[k]["invoice_id"] for k in entries})) if entries else set()
        paying = [k for k in entries if self.pending[k]["invoice_id"] not in kept]
        lines = statement(self.pending[k] for k in paying)
        tax = commission_tax(sum(int(line["commission"]) for line in lines))
        if not lines or payout_amount(lines, tax) <= 0:
            return None
        self._paid_out(payout_id=payout_id, entry_ids=paying, up_to=up_to)
        waiting = statement(self.pending[k] for k in entries if k not in paying)
        return lines + [{**line, "held": True} for line in waiting]

    @event("PaidOut")
    def _paid_out(self, payout_id: UUID, entry_ids: list[str], up_to: str) -> None:
        for key in entry_ids:
            self.pending.pop(key, None)
        self.paid_out_through = max(self.paid_out_through, up_to)


def statement(entries: Any) -> list[dict[str, Any]]:
    """Entries summed per invoice, in the order of their invoices."""
    lines: dict[str, dict[str, Any]] = {}
    for entry in entries:
        line = lines.setdefault(
            entry["invoice_id"],
            {"invoice_id": entry["invoice_id"], "paid": 0, "commission": 0, "credit_notes": 0},
        )
        for key in ("paid", "commission", "credit_notes"):
            line[key] += entry[key]
    return list(lines.values())


def net(line: dict[str, Any]) -> int:
    if line.get("held"):
        return 0
    return int(line["paid"]) - int(line["commission"]) - int(line["credit_notes"])


class Payout(Aggregate):
    """One transfer to a seller: what buyers paid on its invoices, less commission and
    credit notes, with the statement lines that add up to it."""

    class Made(Aggregate.Created):
        seller_id: UUID
        currency: str
        up_to: str
        lines: list[dict[str, Any]]
        commission_tax: int
        commission_invoice_id: UUID | None
        # Version 2 added the commission invoice and the tax on the commission.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(commission_tax=0, commission_invoice_id=None)

    @event(Made)
    def __init__(
        self,
        id: UUID,
        seller_id: UUID,
        currency: str,
        up_to: str,
        lines: list[dict[str, Any]],
        commission_tax: int = 0,
        commission_invoice_id: UUID | None = None,
    ) -> None:
        self.seller_id = seller_id
        self.currency = currency
        self.up_to = up_to
        self.lines = lines
        self.commission_tax = commission_tax
        self.commission_invoice_id = commission_invoice_id

    @property
    def amount(self) -> int:
        """What buyers paid, less the commission invoice's gross and the credit notes."""
        return payout_amount(self.lines, self.commission_tax)


def payout_amount(lines: list[dict[str, Any]], commission_tax: int) -> int:
    return sum(net(line) for line in lines) - commission_tax


def commission_invoice_id(payout_id: UUID) -> UUID:
    return uuid5(payout_id, "commission-invoice")


class CommissionInvoice(Aggregate):
    """The operator's invoice to a seller for the commission a payout keeps: charged on
    net goods, taxed by where the operator and the seller are (api.md v1.2)."""

    @event("Issued")
    def __init__(
        self,
        id: UUID,
        number: int,
        payout_id: UUID,
        seller_id: UUID,
        currency: str,
        issued_on: str,
        net_total: int,
        tax_breakdown: list[dict[str, Any]],
        operator: dict[str, Any] | None,
        seller: dict[str, Any] | None,
    ) -> None:
        self.number = number
        self.payout_id = payout_id
        self.seller_id = seller_id
        self.currency = currency
        self.issued_on = issued_on
        self.net_total = net_total
        self.tax_breakdown = tax_breakdown
        self.operator = operator
        self.seller = seller

    @property
    def tax_total(self) -> int:
        return sum(int(group["tax"]) for group in self.tax_breakdown)

    @property
    def gross_total(self) -> int:
        return self.net_total + self.tax_total


class SellerOrderBook(Aggregate):
    """A seller order's invoices, and how much of each product returns have claimed, so
    that two requests at once never return more than was delivered."""

    @staticmethod
    def create_id(seller_order_id: UUID) -> UUID:
        return book_id(seller_order_id)

    @event("Opened")
    def __init__(self, seller_order_id: UUID) -> None:
        self.seller_order_id = seller_order_id
        self.invoice_ids: list[UUID] = []
        self.claims: dict[str, dict[str, int]] = {}

    # Open incidents keep what buyers paid on the seller order out of payouts (api.md v1.2);
    # books stored before incidents have none.
    open_incidents: tuple[str, ...] = ()

    @property
    def held(self) -> bool:
        return bool(self.open_incidents)

    def hold(self, incident_id: UUID) -> None:
        if str(incident_id) not in self.open_incidents:
            self._held(incident_id=str(incident_id))

    @event("Held")
    def _held(self, incident_id: str) -> None:
        self.open_incidents = (*self.open_incidents, incident_id)

    def unhold(self, incident_id: UUID) -> None:
        if str(incident_id) in self.open_incidents:
            self._unheld(incident_id=str(incident_id))

    @event("Unheld")
    def _unheld(self, incident_id: str) -> None:
        self.open_incidents = tuple(i for i in self.open_incidents if i != incident_id)

    def invoiced(self, invoice_id: UUID) -> None:
        if invoice_id not in self.invoice_ids:
            self._invoiced(invoice_id=invoice_id)

    @event("Invoiced")
    def _invoiced(self, invoice_id: UUID) -> None:
        self.invoice_ids.append(invoice_id)

    def claimed(self, product_id: UUID) -> int:
        return sum(c.get(str(product_id), 0) for c in self.claims.values())

    def claim(self, return_id: UUID, lines: dict[UUID, int], delivered: dict[UUID, int]) -> None:
        for product_id, quantity in lines.items():
            left = delivered.get(product_id, 0) - self.claimed(product_id)
            if quantity > left:
                raise Invalid(
                    f"only {max(left, 0)} of product {product_id} were delivered and not "
                    "returned yet"
                )
        self._claimed(return_id=str(return_id), lines={str(k): v for k, v in lines.items()})

    @event("Claimed")
    def _claimed(self, return_id: str, lines: dict[str, int]) -> None:
        self.claims[return_id] = lines

    def unclaim(self, return_id: UUID) -> None:
        if str(return_id) in self.claims:
            self._unclaimed(return_id=str(return_id))

    @event("Unclaimed")
    def _unclaimed(self, return_id: str) -> None:
        self.claims.pop(return_id, None)


class Ledgers(Aggregate):
    """Every seller ledger there is, so a payout cycle visits each one without waiting for a
    view."""

    @staticmethod
    def create_id() -> UUID:
        return LEDGERS_ID

    @event("Started")
    def __init__(self) -> None:
        self.ledger_ids: list[UUID] = []

    def add(self, ledger_id: UUID) -> None:
        if ledger_id not in self.ledger_ids:
            self._added(ledger_id=ledger_id)

    @event("LedgerAdded")
    def _added(self, ledger_id: UUID) -> None:
        self.ledger_ids.append(ledger_id)


class Return(Aggregate):
    """A buyer's request to send delivered lines back, which the seller decides."""

    @event("Requested")
    def __init__(
        self,
        id: UUID,
        buyer_id: UUID,
        requested_by: str,
        seller_order_id: UUID,
        order_id: UUID,
        seller_id: UUID,
        currency: str,
        lines: list[dict[str, Any]],
        reason: str,
    ) -> None:
        self.buyer_id = buyer_id
        self.requested_by = requested_by
        self.seller_order_id = seller_order_id
        self.order_id = order_id
        self.seller_id = seller_id
        self.currency = currency
        self.lines = lines
        self.reason = reason
        self.status: ReturnStatus = "requested"
        self.credit_note: dict[str, Any] | None = None
        self.restock = False
        self.refusal: str | None = None

    @property
    def net(self) -> int:
        return goods_of(self.lines)

    @property
    def tax_breakdown(self) -> list[TaxGroup]:
        """The credit note's tax: each returned line at the treatment it was sold with,
        rounded per group (no shipping comes back)."""
        return breakdown(
            [
                (treatment, int(line["quantity"]) * int(line["unit_price"]))
                for line in self.lines
                if (treatment := treatment_from(line.get("tax"))) is not None
            ]
        )

    @property
    def amount(self) -> int:
        """What the credit note gives back, gross."""
        return self.net + sum(group.tax for group in self.tax_breakdown)

    def check_requested(self) -> None:
        if self.status != "requested":
            raise Conflict(f"the return is already {self.status}")

    def accept(self, restock: bool, credit_note_id: UUID, number: int, on: str) -> None:
        self.check_requested()
        self._accepted(
            restock=restock, credit_note_id=credit_note_id, number=number, amount=self.amount, on=on
        )

    @event("Accepted")
    def _accepted(
        self, restock: bool, credit_note_id: UUID, number: int, amount: int, on: str
    ) -> None:
        self.status = "accepted"
        self.restock = restock
        self.credit_note = {
            "credit_note_id": str(credit_note_id),
            "number": number,
            "amount": amount,
            "issued_on": on,
        }

    def refuse(self, reason: str) -> None:
        self.check_requested()
        self._refused(reason=reason)

    @event("Refused")
    def _refused(self, reason: str) -> None:
        self.status = "refused"
        self.refusal = reason


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": int(amount), "currency": currency}


def charges_answer(charges: dict[str, Any], gross: int, currency: str) -> dict[str, Any]:
    """An invoice's shipping, tax and parties as answers show them (api.md v1.2); an invoice
    from before them shows its total as net, no tax, no shipping."""
    shipping = charges.get("shipping")
    tax = int(charges.get("tax_total", 0))
    return {
        "seller": charges.get("seller"),
        "buyer": charges.get("buyer"),
        "shipping": None
        if not shipping
        else {
            "method": shipping["method"],
            "name": shipping.get("name", ""),
            "amount": _money(shipping["amount"], currency),
        },
        "tax_breakdown": [
            {
                "category": g["category"],
                "rate_bps": g["rate_bps"],
                "taxable": _money(g["taxable"], currency),
                "tax": _money(g["tax"], currency),
                "exemption_note": g.get("exemption_note"),
            }
            for g in charges.get("tax_breakdown", [])
        ],
        "net_total": _money(gross - tax, currency),
        "tax_total": _money(tax, currency),
        "gross_total": _money(gross, currency),
    }


def commission_invoice_answer(data: dict[str, Any]) -> dict[str, Any]:
    """A commission invoice as answers show it, from its `Issued` event's data."""
    currency = data["currency"]
    tax = sum(int(group["tax"]) for group in data["tax_breakdown"])
    return {
        "commission_invoice_id": str(data["id"]),
        "number": data["number"],
        "payout_id": str(data["payout_id"]),
        "reseller_id": str(data["seller_id"]),
        "issued_on": data["issued_on"],
        "operator": data["operator"],
        "seller": data["seller"],
        "net_total": _money(data["net_total"], currency),
        "tax_breakdown": [
            {
                **group,
                "taxable": _money(group["taxable"], currency),
                "tax": _money(group["tax"], currency),
            }
            for group in data["tax_breakdown"]
        ],
        "tax_total": _money(tax, currency),
        "gross_total": _money(int(data["net_total"]) + tax, currency),
    }
