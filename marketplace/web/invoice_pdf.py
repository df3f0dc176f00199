"""An invoice as a PDF a person would accept: seller, buyer, number, dates, PO number, lines,
totals. Made with fpdf2 (pure Python, no system libraries)."""

from typing import Any
from uuid import UUID

from fpdf import FPDF

from marketplace.platform import Marketplace
from offers.domain import Product


def _latin(text: str) -> str:
    # The PDF core fonts hold Latin-1; other characters print as "?" rather than fail.
    return text.encode("latin-1", "replace").decode("latin-1")


def _amount(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100:,}.{abs(minor) % 100:02d} {currency}"


def account_name(market: Marketplace, account_id: str) -> str:
    """A seller's name or a buyer's legal name."""
    for app in (market.sellers, market.buyers):
        account = app.find(UUID(account_id), object)  # type: ignore[type-var]
        if account is not None:
            return str(getattr(account, "name", None) or getattr(account, "legal_name", ""))
    return account_id


def invoice_pdf(market: Marketplace, invoice: dict[str, Any]) -> bytes:
    currency = invoice["currency"]
    products = market.offers.get_many(
        [UUID(line["product_id"]) for line in invoice["lines"]], Product
    )
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice['number']}")
    pdf.set_author("marketplace")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, f"Invoice No. {invoice['number']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    seller = account_name(market, invoice["reseller_id"])
    buyer = account_name(market, invoice["buyer_id"])
    rows = [
        ("Seller", seller),
        ("Bill to", buyer),
        ("Issued on", invoice["issued_on"]),
        ("Due on", invoice["due_on"]),
        ("PO number", invoice["po_number"] or "-"),
        ("Payment", invoice["payment_method"].replace("_", " ")),
        ("Order", invoice["order_id"]),
        ("Status", invoice["status"]),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(35, 6, label)
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, 6, _latin(str(value)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(
        col_widths=(20, 70, 20, 40, 40), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
    ) as table:
        table.row(["SKU", "Product", "Quantity", "Unit price", "Amount"])
        for line in invoice["lines"]:
            product = products.get(UUID(line["product_id"]))
            unit = int(line["unit_price"]["amount"])
            table.row(
                [
                    _latin(product.sku if product else "-"),
                    _latin(product.name if product else line["product_id"]),
                    str(line["quantity"]),
                    _amount(unit, currency),
                    _amount(unit * int(line["quantity"]), currency),
                ]
            )
    pdf.ln(4)
    totals = [
        ("Total", invoice["total"]["amount"]),
        ("Paid", invoice["paid"]["amount"]),
        ("Credited", invoice["credited"]["amount"]),
        ("Balance due", invoice["balance"]["amount"]),
    ]
    for label, minor in totals:
        pdf.set_font("Helvetica", "B" if label == "Balance due" else "", 10)
        pdf.cell(150, 6, label, align="R")
        pdf.cell(0, 6, _amount(int(minor), currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(
        0,
        5,
        "Prices exclusive of tax. Collected by the marketplace on behalf of the seller; "
        "quote the invoice number with your payment.",
    )
    return bytes(pdf.output())
