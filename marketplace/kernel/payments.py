"""The payment methods a buyer may pay a seller order with: one list for every context."""

from collections.abc import Iterable
from typing import Literal, get_args

PaymentMethod = Literal["card", "invoice_net_30", "invoice_net_60"]
PAYMENT_METHODS: tuple[PaymentMethod, ...] = get_args(PaymentMethod)
# Paid after delivery against an invoice: these hold the buyer's credit with the seller.
INVOICE_METHODS: tuple[PaymentMethod, ...] = ("invoice_net_30", "invoice_net_60")
DUE_DAYS: dict[str, int] = {"card": 0, "invoice_net_30": 30, "invoice_net_60": 60}


def common_methods(accepted_by_each_seller: Iterable[Iterable[str]]) -> list[PaymentMethod]:
    """The methods one order across these sellers can be paid with: those every one of
    them accepts from the buyer, in the list's order (none for no seller)."""
    sellers = [set(methods) for methods in accepted_by_each_seller]
    if not sellers:
        return []
    return [m for m in PAYMENT_METHODS if all(m in accepted for accepted in sellers)]
