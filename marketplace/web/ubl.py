"""Invoices, credit notes and commission invoices as UBL 2.1 documents following EN 16931
with the Peppol BIS Billing 3.0 identifiers (api.md v1.2 "E-invoices"): a rendering of the
stored facts, the same bytes for the same document every time. Built with lxml; the element
order is the UBL schema's."""

from lxml import etree

from marketplace.web.edocument import (
    Document,
    Party,
    amount,
    payment_means,
    payment_terms,
    percent,
)

CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


class _Builder:
    def __init__(self, currency: str) -> None:
        self.currency = currency

    def cbc(self, parent: etree._Element, name: str, text: str, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{NS['cbc']}}}{name}", attrs)
        element.text = text
        return element

    def money(self, parent: etree._Element, name: str, minor: int) -> None:
        self.cbc(parent, name, amount(minor), currencyID=self.currency)

    def cac(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{NS['cac']}}}{name}")

    def tax_category(
        self, parent: etree._Element, name: str, code: str, rate_bps: int, note: str | None = None
    ) -> None:
        category = self.cac(parent, name)
        self.cbc(category, "ID", code)
        self.cbc(category, "Percent", percent(rate_bps))
        if note:
            self.cbc(category, "TaxExemptionReason", note)
        self.cbc(self.cac(category, "TaxScheme"), "ID", "VAT")

    def party(self, parent: etree._Element, role: str, who: Party) -> None:
        party = self.cac(self.cac(parent, role), "Party")
        if who.tax_id and not who.vat_id:
            # Without a VAT ID, the tax number is how a buyer's system tells who it is.
            self.cbc(self.cac(party, "PartyIdentification"), "ID", who.tax_id)
        address = self.cac(party, "PostalAddress")
        parts = (
            ("StreetName", "line1"),
            ("AdditionalStreetName", "line2"),
            ("CityName", "city"),
            ("PostalZone", "postcode"),
        )
        for name, key in parts:
            if who.address.get(key):
                self.cbc(address, name, str(who.address[key]))
        country = str(who.address.get("country") or who.country)
        self.cbc(self.cac(address, "Country"), "IdentificationCode", country)
        if who.vat_id:
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", "".join(ch for ch in who.vat_id if ch.isalnum()))
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        if who.tax_id:
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", who.tax_id)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "FC")
        self.cbc(self.cac(party, "PartyLegalEntity"), "RegistrationName", who.legal_name)


def ubl(doc: Document) -> bytes:
    """The document as UBL 2.1 XML (UTF-8, with its declaration)."""
    b = _Builder(doc.currency)
    credit = doc.kind == "CreditNote"
    root = etree.Element(
        f"{{{NS[doc.kind]}}}{doc.kind}",
        nsmap={None: NS[doc.kind], "cac": NS["cac"], "cbc": NS["cbc"]},  # type: ignore[dict-item]
    )
    b.cbc(root, "CustomizationID", CUSTOMIZATION)
    b.cbc(root, "ProfileID", PROFILE)
    b.cbc(root, "ID", doc.number)
    b.cbc(root, "IssueDate", doc.issued_on)
    if doc.due_on and not credit:
        b.cbc(root, "DueDate", doc.due_on)
    b.cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    for note in doc.notes:
        b.cbc(root, "Note", note)
    b.cbc(root, "DocumentCurrencyCode", doc.currency)
    if doc.buyer_reference:
        b.cbc(root, "BuyerReference", doc.buyer_reference)
    if doc.order_reference:
        b.cbc(b.cac(root, "OrderReference"), "ID", doc.order_reference)
    for number, issued_on in doc.corrects:
        reference = b.cac(b.cac(root, "BillingReference"), "InvoiceDocumentReference")
        b.cbc(reference, "ID", number)
        b.cbc(reference, "IssueDate", issued_on)
    b.party(root, "AccountingSupplierParty", doc.seller)
    b.party(root, "AccountingCustomerParty", doc.buyer)
    if doc.delivered is not None:
        delivery = b.cac(root, "Delivery")
        b.cbc(delivery, "ActualDeliveryDate", doc.delivered[0])
        location = b.cac(b.cac(delivery, "DeliveryLocation"), "Address")
        b.cbc(b.cac(location, "Country"), "IdentificationCode", doc.delivered[1])
    if doc.payment_method is not None:
        means = b.cac(root, "PaymentMeans")
        b.cbc(means, "PaymentMeansCode", payment_means(doc.payment_method))
        b.cbc(means, "PaymentID", doc.number)
    b.cbc(b.cac(root, "PaymentTerms"), "Note", payment_terms(doc))
    for charge in doc.charges:
        element = b.cac(root, "AllowanceCharge")
        b.cbc(element, "ChargeIndicator", "true")
        b.cbc(element, "AllowanceChargeReason", charge.reason)
        b.money(element, "Amount", charge.amount)
        b.tax_category(element, "TaxCategory", charge.code, charge.rate_bps)
    total = b.cac(root, "TaxTotal")
    b.money(total, "TaxAmount", sum(g.tax for g in doc.groups))
    for group in doc.groups:
        sub = b.cac(total, "TaxSubtotal")
        b.money(sub, "TaxableAmount", group.taxable)
        b.money(sub, "TaxAmount", group.tax)
        b.tax_category(sub, "TaxCategory", group.code, group.rate_bps, group.exemption_note)
    goods = sum(line.quantity * line.unit_price for line in doc.lines)
    charged = sum(charge.amount for charge in doc.charges)
    gross = goods + charged + sum(g.tax for g in doc.groups)
    monetary = b.cac(root, "LegalMonetaryTotal")
    b.money(monetary, "LineExtensionAmount", goods)
    b.money(monetary, "TaxExclusiveAmount", goods + charged)
    b.money(monetary, "TaxInclusiveAmount", gross)
    if doc.charges:
        b.money(monetary, "ChargeTotalAmount", charged)
    b.money(monetary, "PayableAmount", gross)
    for index, line in enumerate(doc.lines, 1):
        element = b.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        b.cbc(element, "ID", str(index))
        quantity = "CreditedQuantity" if credit else "InvoicedQuantity"
        b.cbc(element, quantity, str(line.quantity), unitCode="C62")
        b.money(element, "LineExtensionAmount", line.quantity * line.unit_price)
        item = b.cac(element, "Item")
        b.cbc(item, "Name", line.name)
        if line.sku:
            b.cbc(b.cac(item, "SellersItemIdentification"), "ID", line.sku)
        b.tax_category(item, "ClassifiedTaxCategory", line.code, line.rate_bps)
        b.money(b.cac(element, "Price"), "PriceAmount", line.unit_price)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
