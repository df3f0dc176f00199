"""What the money after an order answers (invoices, payments, returns, payouts, credit): the
fields api.md names, typed; extra fields are kept, as in `answers`."""

from marketplace.web.answers import Answer, MoneyPublic, Page, TaxGroupPublic


class PricedLine(Answer):
    product_id: str
    quantity: int
    unit_price: MoneyPublic
    tax_category: str | None = None
    tax_rate_bps: int = 0


class TaxParty(Answer):
    legal_name: str
    country: str
    vat_id: str | None
    tax_id: str | None
    address: dict[str, str | None]


class InvoiceShipping(Answer):
    method: str
    name: str
    amount: MoneyPublic


class InvoicePublic(Answer):
    invoice_id: str
    number: int | str
    reseller_id: str
    buyer_id: str
    seller_order_id: str
    order_id: str
    payment_method: str
    issued_on: str
    due_on: str
    status: str
    currency: str
    total: MoneyPublic
    paid: MoneyPublic
    credited: MoneyPublic
    balance: MoneyPublic
    lines: list[PricedLine]
    seller: TaxParty | None = None
    buyer: TaxParty | None = None
    shipping: InvoiceShipping | None = None
    tax_breakdown: list[TaxGroupPublic] = []
    net_total: MoneyPublic
    tax_total: MoneyPublic
    gross_total: MoneyPublic


class Allocation(Answer):
    invoice_id: str
    amount: MoneyPublic


class PaymentPublic(Answer):
    payment_id: str
    buyer_id: str
    amount: MoneyPublic
    reference: str | None
    received_on: str
    allocated: list[Allocation]
    unallocated: MoneyPublic


class CreditNotePublic(Answer):
    credit_note_id: str
    number: int | str
    issued_on: str
    amount: MoneyPublic


class ReturnPublic(Answer):
    return_id: str
    status: str
    buyer_id: str
    reseller_id: str
    seller_order_id: str
    order_id: str
    reason: str
    restock: bool
    requested_at: str
    lines: list[PricedLine]
    credit_note: CreditNotePublic | None


class PayoutLine(Answer):
    invoice_id: str
    paid: MoneyPublic
    commission: MoneyPublic
    credit_notes: MoneyPublic
    net: MoneyPublic
    # An open incident on its seller order keeps it for a later payout (api.md v1.2).
    held: bool = False


class PayoutPublic(Answer):
    payout_id: str
    reseller_id: str
    amount: MoneyPublic
    made_at: str
    lines: list[PayoutLine]
    commission_tax: MoneyPublic | None = None
    commission_invoice_id: str | None = None


class CommissionInvoicePublic(Answer):
    commission_invoice_id: str
    number: int
    payout_id: str
    reseller_id: str
    issued_on: str
    operator: TaxParty | None
    seller: TaxParty | None
    net_total: MoneyPublic
    tax_breakdown: list[TaxGroupPublic]
    tax_total: MoneyPublic
    gross_total: MoneyPublic


class PayoutsMade(Answer):
    payouts: list[PayoutPublic]


class Receivable(Answer):
    buyer_id: str
    currency: str


class CreditLine(Answer):
    reseller_id: str
    reseller_name: str
    credit_limit: MoneyPublic | None
    held: MoneyPublic
    unpaid: MoneyPublic
    remaining: MoneyPublic | None
    payment_methods: list[str]


class CreditAnswer(Page[CreditLine]):
    credit_balance: list[MoneyPublic]


class ClockAnswer(Answer):
    now: str


class CreditNoteDocument(Answer):
    credit_note_id: str
    number: int
    issued_on: str
    return_id: str
    reseller_id: str
    buyer_id: str
    seller_order_id: str
    invoice_id: str | None
    invoice_ids: list[str]
    lines: list[PricedLine]
    seller: TaxParty | None = None
    buyer: TaxParty | None = None
    tax_breakdown: list[TaxGroupPublic] = []
    total: MoneyPublic
    net_total: MoneyPublic
    tax_total: MoneyPublic
    gross_total: MoneyPublic
