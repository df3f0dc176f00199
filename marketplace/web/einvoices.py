"""The e-invoice of each billing document (api.md v1.2 "E-invoices"): its answer read as an
EN 16931 document, served as UBL on `Accept: application/xml` and as a Factur-X PDF (the
PDF/A-3 people read, `factur-x.xml` in CII embedded by the factur-x package) on
`Accept: application/pdf`. Only a document whose seller has a tax profile has one (409 for
the XML; the PDF is then the plain one, as before): without it there is no seller to name."""

from collections.abc import Callable
from contextlib import suppress
from functools import partial
from typing import Any, Literal
from uuid import UUID

import facturx
from fastapi.responses import JSONResponse, Response

from marketplace.kernel.errors import Conflict
from marketplace.platform import Marketplace
from marketplace.web.cii import cii
from marketplace.web.edocument import Charge, Document, Group, Line, Party
from marketplace.web.invoice_pdf import PDF, invoice_pdf
from marketplace.web.ubl import ubl
from offers.domain import Product
from orders.billing.application import describe_commission_invoice, describe_invoice
from orders.billing.domain import CommissionInvoice, Invoice

XML = "application/xml"
NO_PROFILE = "the seller has no tax profile on this document: it has no e-invoice"


def wants_xml(accept: str) -> bool:
    return XML in accept or "text/xml" in accept


def xml_response(
    document: Callable[[], Document], name: str, disposition: str = "inline"
) -> Response:
    return Response(
        ubl(document()),
        media_type=XML,
        headers={
            "Content-Disposition": f'{disposition}; filename="{name}.xml"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def facturx_pdf(pdf: bytes, document: Document) -> bytes:
    """The PDF with the document's CII embedded as `factur-x.xml`, profile EN 16931."""
    made = facturx.generate_from_binary(
        pdf,
        cii(document),
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        lang="en-GB",
    )
    return bytes(made)


def pdf_response(pdf: bytes, name: str, disposition: str = "inline") -> Response:
    return Response(
        pdf,
        media_type=PDF,
        headers={
            "Content-Disposition": f'{disposition}; filename="{name}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def document_pdf(
    market: Marketplace, answer: dict[str, Any], document: Callable[[], Document], title: str
) -> bytes:
    """The document as people read it, with its e-invoice inside when it has one."""
    pdf = invoice_pdf(market, answer, title)
    try:
        found = document()
    except Conflict:
        return pdf
    return facturx_pdf(pdf, found)


def _seller(found: dict[str, Any] | None, who: str = "seller") -> Party:
    """The party that issues the document: EN 16931 wants its VAT ID or its tax number."""
    party = _party(found)
    if party is None:
        raise Conflict(NO_PROFILE if who == "seller" else f"the {who} has no tax profile")
    if not party.vat_id and not party.tax_id:
        raise Conflict(
            f"the {who}'s tax profile has neither a VAT ID nor a tax number, which an "
            "e-invoice must name"
        )
    return party


def _party(found: dict[str, Any] | None) -> Party | None:
    if not found:
        return None
    return Party(
        found["legal_name"],
        found["country"],
        found.get("vat_id"),
        found.get("tax_id"),
        dict(found.get("address") or {}),
    )


def _buyer(market: Marketplace, found: dict[str, Any] | None, buyer_id: str) -> Party:
    """The buyer's tax profile, else its account: its legal name and country."""
    party = _party(found)
    if party is not None:
        return party
    buyer = market.buyers.buyer(UUID(buyer_id))
    return Party(buyer.legal_name, buyer.country, None, None, {"country": buyer.country})


def _groups(rows: list[dict[str, Any]]) -> list[Group]:
    return [
        Group(
            g["category"],
            int(g["rate_bps"]),
            int(g["taxable"]["amount"]),
            int(g["tax"]["amount"]),
            g.get("exemption_note"),
        )
        for g in rows
    ]


def _lines(market: Marketplace, rows: list[dict[str, Any]], groups: list[Group]) -> list[Line]:
    products = market.offers.get_many([UUID(r["product_id"]) for r in rows], Product)
    rates = {g.rate_bps: g.code for g in groups}
    lines = []
    for row in rows:
        product = products.get(UUID(row["product_id"]))
        rate = int(row.get("tax_rate_bps") or 0)
        lines.append(
            Line(
                row.get("name") or (product.name if product else row["product_id"]),
                row.get("sku") or (product.sku if product else None),
                int(row["quantity"]),
                int(row["unit_price"]["amount"]),
                _code_of(row, rates, groups),
                rate,
            )
        )
    return lines


def _code_of(row: dict[str, Any], rates: dict[int, str], groups: list[Group]) -> str:
    """The EN 16931 category of a line: its group's (exempt groups all have rate 0)."""
    rate = int(row.get("tax_rate_bps") or 0)
    if rate:
        return rates.get(rate, "S")
    zero = [g.code for g in groups if g.rate_bps == 0]
    return zero[0] if zero else "Z"


def _shipping(lines: list[Line], groups: list[Group], name: str) -> list[Charge]:
    """The shipping as one charge per tax group: what a group is taxed on beyond its lines."""
    charges = []
    for group in groups:
        goods = sum(
            ln.quantity * ln.unit_price
            for ln in lines
            if (ln.code, ln.rate_bps) == (group.code, group.rate_bps)
        )
        if group.taxable > goods:
            charges.append(Charge(name, group.taxable - goods, group.code, group.rate_bps))
    return charges


def _delivered(
    market: Marketplace, order_id: str, issued_on: str, buyer: Party, groups: list[Group]
) -> tuple[str, str] | None:
    """Where and when the goods went, which an exempt supply must state (BR-IC-11, -12)."""
    if not any(g.code in ("K", "G") for g in groups):
        return None
    address = market.orders.order(UUID(order_id)).shipping_address or {}
    country = str(address.get("country") or buyer.address.get("country") or buyer.country)
    return issued_on, country.strip().upper()


def invoice_document(market: Marketplace, invoice: dict[str, Any]) -> Document:
    seller = _seller(invoice.get("seller"))
    buyer = _buyer(market, invoice.get("buyer"), invoice["buyer_id"])
    groups = _groups(invoice["tax_breakdown"])
    lines = _lines(market, invoice["lines"], groups)
    shipping = invoice.get("shipping")
    reason = f"Shipping: {shipping.get('name') or shipping['method']}" if shipping else ""
    return Document(
        kind="Invoice",
        number=str(invoice["number"]),
        issued_on=invoice["issued_on"],
        currency=invoice["currency"],
        seller=seller,
        buyer=buyer,
        lines=lines,
        groups=groups,
        charges=_shipping(lines, groups, reason) if shipping else [],
        due_on=invoice["due_on"],
        buyer_reference=invoice.get("po_number") or invoice["order_id"],
        order_reference=invoice.get("po_number"),
        payment_method=invoice["payment_method"],
        delivered=_delivered(market, invoice["order_id"], invoice["issued_on"], buyer, groups),
    )


def credit_note_document(market: Marketplace, note: dict[str, Any]) -> Document:
    seller = _seller(note.get("seller"))
    buyer = _buyer(market, note.get("buyer"), note["buyer_id"])
    groups = _groups(note["tax_breakdown"])
    corrected = [market.billing.invoice(UUID(i)) for i in note["invoice_ids"]]
    return Document(
        kind="CreditNote",
        number=str(note["number"]),
        issued_on=note["issued_on"],
        currency=note["currency"],
        seller=seller,
        buyer=buyer,
        lines=_lines(market, note["lines"], groups),
        groups=groups,
        buyer_reference=note["order_id"],
        corrects=[(str(i.number), i.issued_on) for i in corrected],
        delivered=_delivered(market, note["order_id"], note["issued_on"], buyer, groups),
    )


def commission_document(invoice: dict[str, Any]) -> Document:
    """The operator's invoice for a payout's commission: one line, the commission."""
    operator = _seller(invoice.get("operator"), "operator")
    seller = _party(invoice.get("seller"))
    if seller is None:
        raise Conflict("the seller has no tax profile on this commission invoice")
    groups = _groups(invoice["tax_breakdown"])
    group = groups[0] if groups else Group("O", 0, 0, 0, "Not subject to VAT")
    net = int(invoice["net_total"]["amount"])
    name = f"Commission on payout {invoice['payout_id']}"
    line = Line(name, None, 1, net, group.code, group.rate_bps)
    return Document(
        kind="Invoice",
        number=f"C-{invoice['number']}",
        issued_on=invoice["issued_on"],
        currency=invoice["net_total"]["currency"],
        seller=operator,
        buyer=seller,
        lines=[line],
        groups=groups or [Group(group.code, 0, net, 0, group.exemption_note)],
        due_on=invoice["issued_on"],
        buyer_reference=invoice["payout_id"],
        payment_method="netted",
    )


def commission_pdf_answer(invoice: dict[str, Any]) -> dict[str, Any]:
    """A commission invoice as the PDF renders documents: one line, the commission."""
    return {
        **invoice,
        "number": f"C-{invoice['number']}",
        "currency": invoice["net_total"]["currency"],
        "buyer": invoice["seller"],
        "seller": invoice["operator"],
        "buyer_id": invoice["reseller_id"],
        "lines": [
            {
                "name": f"Commission on payout {invoice['payout_id']}",
                "quantity": 1,
                "unit_price": invoice["net_total"],
                "tax_rate_bps": invoice["tax_breakdown"][0]["rate_bps"]
                if invoice["tax_breakdown"]
                else 0,
            }
        ],
        "total": invoice["gross_total"],
    }


FileKind = Literal["pdf", "xml"]


def invoice_file(
    market: Marketplace, invoice: dict[str, Any], kind: FileKind, disposition: str = "inline"
) -> Response:
    """An invoice as UBL, or as its PDF (Factur-X where its seller has a tax profile)."""
    name = f"invoice-{invoice['number']}"
    document = partial(invoice_document, market, invoice)
    if kind == "xml":
        return xml_response(document, name, disposition)
    return pdf_response(document_pdf(market, invoice, document, "Invoice"), name, disposition)


def credit_note_file(
    market: Marketplace, note: dict[str, Any], kind: FileKind, disposition: str = "inline"
) -> Response:
    name = f"credit-note-{note['number']}"
    document = partial(credit_note_document, market, note)
    if kind == "xml":
        return xml_response(document, name, disposition)
    return pdf_response(document_pdf(market, note, document, "Credit note"), name, disposition)


def commission_file(
    market: Marketplace, invoice: dict[str, Any], kind: FileKind, disposition: str = "inline"
) -> Response:
    """A commission invoice as UBL or Factur-X; 409 while a party has no tax profile."""
    name = f"commission-invoice-{invoice['number']}"
    document = partial(commission_document, invoice)
    if kind == "xml":
        return xml_response(document, name, disposition)
    shown = invoice_pdf(market, commission_pdf_answer(invoice), "Commission invoice")
    return pdf_response(facturx_pdf(shown, document()), name, disposition)


DocumentFile = Callable[[Marketplace, dict[str, Any], FileKind], Response]


def negotiated(
    market: Marketplace, accept: str, answer: dict[str, Any], file: DocumentFile
) -> Response:
    """The document as its JSON answer, or as the file `Accept` asks for (XML or PDF)."""
    if wants_xml(accept):
        return file(market, answer, "xml")
    if PDF in accept:
        return file(market, answer, "pdf")
    return JSONResponse(answer)


def mail_attachment(market: Marketplace, ref: dict[str, str]) -> tuple[str, bytes] | None:
    """The PDF a mail carries (see marketplace.mail.sender): an invoice's, or a commission
    invoice's (Factur-X where both parties have tax profiles, else the plain PDF)."""
    if ref.get("kind") == "invoice":
        found = market.billing.find(UUID(ref["id"]), Invoice)
        if found is None:
            return None
        invoice = describe_invoice(found, market.clock.today())
        pdf = document_pdf(market, invoice, partial(invoice_document, market, invoice), "Invoice")
        return ref.get("name") or f"invoice-{invoice['number']}.pdf", pdf
    if ref.get("kind") == "commission_invoice":
        commission = market.billing.find(UUID(ref["id"]), CommissionInvoice)
        if commission is None:
            return None
        answer = describe_commission_invoice(commission)
        shown = invoice_pdf(market, commission_pdf_answer(answer), "Commission invoice")
        with suppress(Conflict):
            shown = facturx_pdf(shown, commission_document(answer))
        return f"commission-invoice-{answer['number']}.pdf", shown
    return None
