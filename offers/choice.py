"""Which offer a line goes to, for placement, quick order, the cart and the catalog's order
of offers alike: those the buyer may pay as it asks, then enough quantity and stock, then the
lowest price for the quantity, the shortest lead time and, last, the reseller's id."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """One visible offer as the buyer sees it; `held` is the caller's own record of it."""

    held: T
    reseller_id: str
    unit_amount: int  # the buyer's unit price at the quantity asked, in minor units
    lead_time_days: int
    min_order_qty: int
    stock: int
    payment_methods: frozenset[str] = field(default_factory=frozenset)

    def payable(self, payment_method: str | None) -> bool:
        return payment_method is None or payment_method in self.payment_methods


class Why(Enum):
    NO_OFFER = "no_offer"
    NOT_PAYABLE = "not_payable"
    BELOW_MINIMUM = "below_minimum"
    SHORT_OF_STOCK = "short_of_stock"


@dataclass(frozen=True)
class Unavailable:
    why: Why
    figure: int = 0  # the least minimum quantity, or the most stock one seller has


def rank(candidate: Candidate[T]) -> tuple[int, int, str]:
    return (candidate.unit_amount, candidate.lead_time_days, candidate.reseller_id)


def shelf_order(candidate: Candidate[T]) -> tuple[int, bool, int, str]:
    """The catalog's order of a product's offers, priced at each one's minimum quantity:
    the one placement would choose first, those out of stock after their price."""
    amount, lead_time, reseller = rank(candidate)
    return (amount, candidate.stock < candidate.min_order_qty, lead_time, reseller)


def problem(
    candidate: Candidate[T], quantity: int, payment_method: str | None
) -> Unavailable | None:
    """Why this one offer cannot take the line, or None."""
    if not candidate.payable(payment_method):
        return Unavailable(Why.NOT_PAYABLE)
    if quantity < candidate.min_order_qty:
        return Unavailable(Why.BELOW_MINIMUM, candidate.min_order_qty)
    if quantity > candidate.stock:
        return Unavailable(Why.SHORT_OF_STOCK, candidate.stock)
    return None


def choose(
    candidates: Sequence[Candidate[T]], quantity: int, payment_method: str | None
) -> Candidate[T] | Unavailable:
    """The offer this line goes to, or why none can take it (the first failing step)."""
    if not candidates:
        return Unavailable(Why.NO_OFFER)
    payable = [c for c in candidates if c.payable(payment_method)]
    if not payable:
        return Unavailable(Why.NOT_PAYABLE)
    enough = [c for c in payable if quantity >= c.min_order_qty]
    if not enough:
        return Unavailable(Why.BELOW_MINIMUM, min(c.min_order_qty for c in payable))
    in_stock = [c for c in enough if c.stock >= quantity]
    if not in_stock:
        return Unavailable(Why.SHORT_OF_STOCK, max(c.stock for c in enough))
    return min(in_stock, key=rank)
