"""An invoice as a PDF a person would accept: seller, buyer, number, dates, PO number, lines,
totals. Made with fpdf2 (pure Python, no system libraries) as PDF/A-3B, its font (DejaVu
Sans, shipped in `fonts/`) embedded so every character prints and the file can carry a
Factur-X XML."""

from pathlib import Path
from typing import Any
from uuid import UUID

from fpdf import FPDF

from marketplace.platform import Marketplace
from offers.domain import Product

PDF = "application/pdf"


FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"


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


def _party(market: Marketplace, party: dict[str, Any] | None, account_id: str) -> list[str]:
    """Who a party is on the document: its tax profile's name, address and VAT ID (or tax
    number) when it has one, else its account's name."""
    if not party:
        return [account_name(market, account_id)]
    address = party.get("address") or {}
    lines = [party["legal_name"], address.get("line1") or ""]
    if address.get("line2"):
        lines.append(address["line2"])
    lines.append(f"{address.get('postcode', '')} {address.get('city', '')}, {party['country']}")
    if party.get("vat_id"):
        lines.append(f"VAT ID {party['vat_id']}")
    elif party.get("tax_id"):
        lines.append(f"Tax number {party['tax_id']}")
    return [line for line in lines if line.strip()]


def invoice_pdf(market: Marketplace, invoice: dict[str, Any], title: str = "Invoice") -> bytes:
    """An invoice (or, with `title`, a credit note) as answers describe it: its parties, its
    lines with their VAT rate, its shipping, its tax breakdown with the exemption wording,
    and its totals."""
    currency = invoice["currency"]
    products = market.offers.get_many(
        [UUID(line["product_id"]) for line in invoice["lines"] if "product_id" in line], Product
    )
    taxed = bool(invoice.get("tax_breakdown"))
    pdf = FPDF(format="A4", enforce_compliance="PDFA_3B")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FONT, "I", str(FONTS / "DejaVuSans.ttf"))
    pdf.set_title(f"{title} {invoice['number']}")
    pdf.set_author("marketplace")
    pdf.add_page()
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, f"{title} No. {invoice['number']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for label, party in (
        ("Seller", _party(market, invoice.get("seller"), invoice["reseller_id"])),
        ("Bill to", _party(market, invoice.get("buyer"), invoice["buyer_id"])),
    ):
        pdf.set_font(FONT, "B", 10)
        pdf.cell(35, 6, label)
        pdf.set_font(FONT, size=10)
        pdf.multi_cell(0, 5, "\n".join(party), new_x="LMARGIN", new_y="NEXT")
    rows = [("Issued on", invoice["issued_on"])]
    if "due_on" in invoice:
        rows += [
            ("Due on", invoice["due_on"]),
            ("PO number", invoice.get("po_number") or "-"),
            ("Payment", invoice["payment_method"].replace("_", " ")),
            ("Status", invoice["status"]),
        ]
    if invoice.get("invoice_ids"):
        rows.append(("Corrects invoice", ", ".join(invoice["invoice_ids"])))
    if invoice.get("order_id"):
        rows.append(("Order", invoice["order_id"]))
    if invoice.get("payout_id"):
        rows.append(("Payout", invoice["payout_id"]))
    for label, value in rows:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(35, 6, label)
        pdf.set_font(FONT, size=10)
        pdf.cell(0, 6, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (20, 60, 18, 34, 18, 40) if taxed else (20, 70, 20, 40, 40)
    align = ("LEFT", "LEFT", *(["RIGHT"] * (len(widths) - 2)))
    with pdf.table(col_widths=widths, text_align=align) as table:
        table.row(
            ["SKU", "Product", "Quantity", "Unit price", *(["VAT"] if taxed else []), "Amount"]
        )
        for line in invoice["lines"]:
            product = products.get(UUID(line["product_id"])) if "product_id" in line else None
            unit = int(line["unit_price"]["amount"])
            rate = int(line.get("tax_rate_bps") or 0)
            table.row(
                [
                    str(line.get("sku") or (product.sku if product else "-")),
                    str(line.get("name") or (product.name if product else line.get("product_id"))),
                    str(line["quantity"]),
                    _amount(unit, currency),
                    *([f"{rate / 100:g} %"] if taxed else []),
                    _amount(unit * int(line["quantity"]), currency),
                ]
            )
        shipping = invoice.get("shipping")
        if shipping:
            amount = int(shipping["amount"]["amount"])
            name = f"Shipping: {shipping.get('name') or shipping['method']}"
            table.row(
                [
                    "",
                    name,
                    "1",
                    _amount(amount, currency),
                    *([""] if taxed else []),
                    _amount(amount, currency),
                ]
            )
    pdf.ln(4)
    for group in invoice.get("tax_breakdown", []):
        label = f"VAT {group['category']} {group['rate_bps'] / 100:g} % on "
        label += _amount(int(group["taxable"]["amount"]), currency)
        if group.get("exemption_note"):
            label += f" ({group['exemption_note']})"
        pdf.cell(150, 6, label, align="R")
        pdf.cell(
            0,
            6,
            _amount(int(group["tax"]["amount"]), currency),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    totals = []
    if taxed or invoice.get("shipping"):
        totals += [
            ("Net", invoice["net_total"]["amount"]),
            ("VAT", invoice["tax_total"]["amount"]),
        ]
    totals.append(("Total", invoice["total"]["amount"]))
    if "balance" in invoice:
        totals += [
            ("Paid", invoice["paid"]["amount"]),
            ("Credited", invoice["credited"]["amount"]),
            ("Balance due", invoice["balance"]["amount"]),
        ]
    for label, minor in totals:
        pdf.set_font(FONT, "B" if label in ("Balance due", "Total") else "", 10)
        pdf.cell(150, 6, label, align="R")
        pdf.cell(0, 6, _amount(int(minor), currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "I", 9)
    wording = "" if taxed else "Prices exclusive of tax. "
    pdf.multi_cell(
        0,
        5,
        f"{wording}Collected by the marketplace on behalf of the seller; quote the "
        f"{title.lower()} number with your payment.",
    )
    return bytes(pdf.output())
