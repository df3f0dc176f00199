"""What a seller order holds while it is open: stock per line, and credit (what it
costs gross) when on invoice."""

from uuid import UUID

from marketplace.kernel.payments import INVOICE_METHODS
from offers.holds import CreditHold, StockHold
from orders.domain import SellerOrder


def stock_ref(seller_order_id: UUID, product_id: UUID) -> str:
    return f"{seller_order_id}:{product_id}"


def holds_of(so: SellerOrder) -> tuple[list[StockHold], list[CreditHold]]:
    stock = [
        StockHold(
            stock_ref(so.id, line.product_id),
            so.reseller_id,
            line.product_id,
            line.quantity - line.shipped,
            index,
        )
        for index, line in enumerate(so.lines)
    ]
    credit = (
        [CreditHold(str(so.id), so.reseller_id, so.buyer_id, so.gross_total)]
        if so.payment_method in INVOICE_METHODS
        else []
    )
    return stock, credit
