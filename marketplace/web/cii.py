"""A billing document as UN/CEFACT Cross Industry Invoice (D16B) at the Factur-X EN 16931
profile: the `factur-x.xml` a Factur-X PDF carries, with the same figures as its UBL. Built
with lxml; the element order is the CII schema's."""

from lxml import etree

from marketplace.web.edocument import (
    Document,
    Party,
    amount,
    payment_means,
    payment_terms,
    percent,
)

GUIDELINE = "urn:cen.eu:en16931:2017"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def _el(parent: etree._Element, prefix: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}")
    if text is not None:
        element.text = text
    return element


def _ram(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    return _el(parent, "ram", name, text)


def _date(parent: etree._Element, name: str, iso: str, prefix: str = "udt") -> None:
    holder = _ram(parent, name)
    _el(holder, prefix, "DateTimeString", iso.replace("-", "")).set("format", "102")


def _party(parent: etree._Element, role: str, who: Party) -> None:
    party = _ram(parent, role)
    if who.tax_id and not who.vat_id:
        _ram(party, "ID", who.tax_id)
    _ram(party, "Name", who.legal_name)
    address = _ram(party, "PostalTradeAddress")
    for name, key in (("PostcodeCode", "postcode"), ("LineOne", "line1"), ("LineTwo", "line2")):
        if who.address.get(key):
            _ram(address, name, str(who.address[key]))
    if who.address.get("city"):
        _ram(address, "CityName", str(who.address["city"]))
    _ram(address, "CountryID", str(who.address.get("country") or who.country))
    for number, scheme in ((who.vat_id, "VA"), (who.tax_id, "FC")):
        if number:
            compact = "".join(ch for ch in number if ch.isalnum()) if scheme == "VA" else number
            _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", compact).set("schemeID", scheme)


def _tax(
    parent: etree._Element,
    name: str,
    code: str,
    rate_bps: int,
    calculated: tuple[int, int, str | None] | None = None,
    currency: str = "",
) -> None:
    """An ApplicableTradeTax (or CategoryTradeTax); with `calculated` = (tax, basis, note),
    a header group."""
    tax = _ram(parent, name)
    if calculated is not None:
        _ram(tax, "CalculatedAmount", amount(calculated[0]))
    _ram(tax, "TypeCode", "VAT")
    if calculated is not None and calculated[2]:
        _ram(tax, "ExemptionReason", calculated[2])
    if calculated is not None:
        _ram(tax, "BasisAmount", amount(calculated[1]))
    _ram(tax, "CategoryCode", code)
    _ram(tax, "RateApplicablePercent", percent(rate_bps))


def cii(doc: Document) -> bytes:
    """The document as CII XML (UTF-8, with its declaration)."""
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = _el(root, "rsm", "ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINE)
    header = _el(root, "rsm", "ExchangedDocument")
    _ram(header, "ID", doc.number)
    _ram(header, "TypeCode", "381" if doc.kind == "CreditNote" else "380")
    _date(header, "IssueDateTime", doc.issued_on)
    for note in doc.notes:
        _ram(_ram(header, "IncludedNote"), "Content", note)
    transaction = _el(root, "rsm", "SupplyChainTradeTransaction")
    for index, line in enumerate(doc.lines, 1):
        item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
        _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", str(index))
        product = _ram(item, "SpecifiedTradeProduct")
        if line.sku:
            _ram(product, "SellerAssignedID", line.sku)
        _ram(product, "Name", line.name)
        agreement = _ram(item, "SpecifiedLineTradeAgreement")
        price = _ram(agreement, "NetPriceProductTradePrice")
        _ram(price, "ChargeAmount", amount(line.unit_price))
        delivery = _ram(item, "SpecifiedLineTradeDelivery")
        _ram(delivery, "BilledQuantity", str(line.quantity)).set("unitCode", "C62")
        settlement = _ram(item, "SpecifiedLineTradeSettlement")
        _tax(settlement, "ApplicableTradeTax", line.code, line.rate_bps)
        summation = _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        _ram(summation, "LineTotalAmount", amount(line.quantity * line.unit_price))
    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    if doc.buyer_reference:
        _ram(agreement, "BuyerReference", doc.buyer_reference)
    _party(agreement, "SellerTradeParty", doc.seller)
    _party(agreement, "BuyerTradeParty", doc.buyer)
    if doc.order_reference:
        _ram(
            _ram(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", doc.order_reference
        )
    delivery = _ram(transaction, "ApplicableHeaderTradeDelivery")
    if doc.delivered is not None:
        ship_to = _ram(_ram(delivery, "ShipToTradeParty"), "PostalTradeAddress")
        _ram(ship_to, "CountryID", doc.delivered[1])
        event = _ram(delivery, "ActualDeliverySupplyChainEvent")
        _date(event, "OccurrenceDateTime", doc.delivered[0])
    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    _ram(settlement, "PaymentReference", doc.number)
    _ram(settlement, "InvoiceCurrencyCode", doc.currency)
    if doc.payment_method is not None:
        means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _ram(means, "TypeCode", payment_means(doc.payment_method))
    for group in doc.groups:
        calculated = (group.tax, group.taxable, group.exemption_note)
        _tax(settlement, "ApplicableTradeTax", group.code, group.rate_bps, calculated)
    for charge in doc.charges:
        element = _ram(settlement, "SpecifiedTradeAllowanceCharge")
        _el(_ram(element, "ChargeIndicator"), "udt", "Indicator", "true")
        _ram(element, "ActualAmount", amount(charge.amount))
        _ram(element, "Reason", charge.reason)
        _tax(element, "CategoryTradeTax", charge.code, charge.rate_bps)
    terms = _ram(settlement, "SpecifiedTradePaymentTerms")
    _ram(terms, "Description", payment_terms(doc))
    if doc.due_on:
        _date(terms, "DueDateDateTime", doc.due_on)
    goods = sum(line.quantity * line.unit_price for line in doc.lines)
    charged = sum(charge.amount for charge in doc.charges)
    tax = sum(group.tax for group in doc.groups)
    summation = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(summation, "LineTotalAmount", amount(goods))
    if doc.charges:
        _ram(summation, "ChargeTotalAmount", amount(charged))
    _ram(summation, "TaxBasisTotalAmount", amount(goods + charged))
    _ram(summation, "TaxTotalAmount", amount(tax)).set("currencyID", doc.currency)
    _ram(summation, "GrandTotalAmount", amount(goods + charged + tax))
    _ram(summation, "DuePayableAmount", amount(goods + charged + tax))
    for number, issued_on in doc.corrects:
        reference = _ram(settlement, "InvoiceReferencedDocument")
        _ram(reference, "IssuerAssignedID", number)
        _date(reference, "FormattedIssueDateTime", issued_on, "qdt")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
