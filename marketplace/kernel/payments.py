"""The payment methods a buyer may pay a seller order with: one list for every context."""

from typing import Literal, get_args

PaymentMethod = Literal["card", "invoice_net_30", "invoice_net_60"]
PAYMENT_METHODS: tuple[PaymentMethod, ...] = get_args(PaymentMethod)
# Paid after delivery against an invoice: these hold the buyer's credit with the seller.
INVOICE_METHODS: tuple[PaymentMethod, ...] = ("invoice_net_30", "invoice_net_60")
DUE_DAYS: dict[str, int] = {"card": 0, "invoice_net_30": 30, "invoice_net_60": 60}
