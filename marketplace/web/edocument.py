"""A billing document as EN 16931 sees it, whatever its syntax (UBL, CII): its parties,
lines, document-level charges, tax groups and references, amounts in minor units."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

# UNCL 4461 payment means: card for card orders; for orders on terms "instrument not
# defined", since a credit transfer (30, 58) must name the payee's account (BR-61) and the
# operator's bank account is not yet a setting.
PAYMENT_MEANS = {"card": "54"}
NOT_DEFINED = "1"


@dataclass(frozen=True)
class Party:
    legal_name: str
    country: str
    vat_id: str | None
    tax_id: str | None
    address: dict[str, Any]


@dataclass(frozen=True)
class Line:
    name: str
    sku: str | None
    quantity: int
    unit_price: int
    code: str
    rate_bps: int


@dataclass(frozen=True)
class Charge:
    """A document-level charge (shipping), in one tax group."""

    reason: str
    amount: int
    code: str
    rate_bps: int


@dataclass(frozen=True)
class Group:
    code: str
    rate_bps: int
    taxable: int
    tax: int
    exemption_note: str | None


@dataclass(frozen=True)
class Document:
    kind: Literal["Invoice", "CreditNote"]
    number: str
    issued_on: str
    currency: str
    seller: Party
    buyer: Party
    lines: Sequence[Line]
    groups: Sequence[Group]
    charges: Sequence[Charge] = ()
    due_on: str | None = None
    buyer_reference: str | None = None
    order_reference: str | None = None
    payment_method: str | None = None
    corrects: Sequence[tuple[str, str]] = ()  # (invoice number, issued on)
    delivered: tuple[str, str] | None = None  # (date, country)
    notes: Sequence[str] = field(default_factory=tuple)


def amount(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def percent(rate_bps: int) -> str:
    return format(Decimal(rate_bps) / 100, "f").rstrip("0").rstrip(".") or "0"


def payment_means(method: str | None) -> str:
    return PAYMENT_MEANS.get(method or "", NOT_DEFINED)


def payment_terms(doc: Document) -> str:
    if doc.due_on:
        return f"Due on {doc.due_on}"
    return "Settled against the invoices it corrects"
