"""E-invoices (api.md v1.2): every document the tax scenarios produce (invoices with several
rates, shipping, exemptions K and G, credit notes, commission invoices S and AE) served as
UBL 2.1 and checked by the official rules (tests/einvoice_rules.py): the UBL XSD and the CEN
EN 16931 Schematron, with no failed rule of error level."""

import io
from typing import Any

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from tests.einvoice_rules import check, check_cii, failed_rules, figures
from tests.test_taxed_orders import (
    BASEL,
    HAMBURG,
    LYON,
    buyer_profile,
    pay_out,
    place,
    taxed_seller,
)
from tests.world import Actor, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
XML = {"Accept": "application/xml"}
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


def _xml(world: World, path: str, actor: Actor) -> bytes:
    answer = world.call("GET", path, actor, headers=XML, params={"min_position": world.position})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    return answer.content


def _pdf(world: World, path: str, actor: Actor) -> bytes:
    answer = world.call(
        "GET",
        path,
        actor,
        headers={"Accept": "application/pdf"},
        params={"min_position": world.position},
    )
    assert answer.status_code == 200, answer.text
    return answer.content


def _shipped_invoices(world: World, seller: Actor, buyer: Actor, order: Any) -> list[str]:
    so_id = order["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so_id}/accept", seller)
    world.ok("POST", f"/v1/reseller/orders/{so_id}/ship", seller, json={})
    found = world.view("/v1/buyer/invoices", buyer).json()["items"]
    return [i["invoice_id"] for i in found if i["seller_order_id"] == so_id]


def _value(document: bytes, name: str) -> str:
    found = etree.fromstring(document).find(f".//{CBC}{name}")
    assert found is not None, name
    assert found.text is not None, name
    return found.text


def test_every_taxed_document_passes_the_en16931_rules(world: World) -> None:
    m = small_market(world)
    valve, manual = taxed_seller(world, m)
    world.ok(
        "PUT",
        f"/v1/operator/resellers/{m.rhine.id}/commission",
        world.operator,
        json={"rate_bps": 1000},
    )
    world.ok(
        "PUT",
        "/v1/operator/tax-profile",
        world.operator,
        json={
            "legal_name": "Marketplace BV",
            "country": "NL",
            "vat_id": "NL004495445B01",
            "address": {
                "line1": "Damrak 1",
                "postcode": "1012",
                "city": "Amsterdam",
                "country": "NL",
            },
        },
    )
    documents: dict[str, bytes] = {}
    # Two rates and shipping shared over them, at home.
    buyer_profile(world, m.muster, HAMBURG, None)
    domestic = place(world, m.muster, [(valve, 2), (manual, 1)]).json()
    [domestic_invoice] = _shipped_invoices(world, m.rhine, m.muster, domestic)
    documents["domestic"] = _xml(world, f"/v1/buyer/invoices/{domestic_invoice}", m.muster)
    # An intra-community supply (K) to a French VAT ID, and an export (G) to Basel.
    buyer_profile(world, m.muster, LYON, "FR40303265045")
    eu = place(world, m.muster, [(valve, 1)]).json()
    [invoice] = _shipped_invoices(world, m.rhine, m.muster, eu)
    documents["intra_community"] = _xml(world, f"/v1/reseller/invoices/{invoice}", m.rhine)
    export = place(world, m.muster, [(valve, 1)], shipping_address=BASEL).json()
    [invoice] = _shipped_invoices(world, m.rhine, m.muster, export)
    documents["export"] = _xml(world, f"/v1/buyer/invoices/{invoice}", m.muster)
    # A credit note for the manual.
    asked = world.ok(
        "POST",
        "/v1/buyer/returns",
        m.muster,
        json={
            "seller_order_id": domestic["seller_orders"][0]["seller_order_id"],
            "lines": [{"product_id": manual, "quantity": 1}],
            "reason": "not needed",
        },
    )
    accepted = world.ok(
        "POST", f"/v1/reseller/returns/{asked['return_id']}/accept", m.rhine, json={}
    )
    note_id = accepted["credit_note"]["credit_note_id"]
    documents["credit_note"] = _xml(world, f"/v1/buyer/credit-notes/{note_id}", m.muster)
    operator_copy = _xml(world, f"/v1/operator/credit-notes/{note_id}", world.operator)
    assert operator_copy == documents["credit_note"]
    # The commission invoice, reverse charged from the Dutch operator to the German seller.
    payout = pay_out(world, m.rhine)
    path = f"/v1/reseller/commission-invoices/{payout['commission_invoice_id']}"
    documents["commission"] = _xml(world, path, m.rhine)

    paths = {
        "domestic": (f"/v1/buyer/invoices/{domestic_invoice}", m.muster),
        "credit_note": (f"/v1/reseller/credit-notes/{note_id}", m.rhine),
        "commission": (path, m.rhine),
    }
    for name, document in documents.items():
        try:
            check(document)
        except AssertionError as broken:
            raise AssertionError(f"{name}:\n{broken}") from None
    # The Factur-X PDFs: their factur-x.xml passes the Factur-X EN 16931 rules and holds the
    # UBL's figures; their pages still show the document.
    for name, (where, actor) in paths.items():
        pdf = _pdf(world, where, actor)
        filename, embedded = facturx.get_xml_from_pdf(pdf, check_xsd=True)
        assert filename == "factur-x.xml", name
        check_cii(embedded)
        assert figures(embedded) == figures(documents[name]), name
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert "No. " in text, name
    assert etree.fromstring(documents["credit_note"]).tag.endswith("CreditNote")
    assert _value(documents["credit_note"], "PayableAmount") == "53.50"
    assert _value(documents["intra_community"], "TaxExemptionReason") == "Intra-community supply"
    assert _value(documents["commission"], "TaxExemptionReason") == "Reverse charge"
    # 10 % of the goods paid: 150.00 + 50.00 + 50.00 less the returned 50.00.
    assert _value(documents["commission"], "PayableAmount") == "20.00"
    # A rendering of stored facts: the same document, the same bytes, whatever the catalog
    # and the buyer's profile become.
    assert _xml(world, path, m.rhine) == documents["commission"]
    world.product(m.acme, "VALVE", 5_000, name="Valve, renamed")
    buyer_profile(world, m.muster, BASEL, None)
    again = _xml(world, f"/v1/buyer/invoices/{domestic_invoice}", m.muster)
    assert again == documents["domestic"]
    assert b"Product VALVE" in again


def test_the_rules_catch_totals_that_do_not_add_up(world: World) -> None:
    m = small_market(world)
    valve, _ = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    [invoice] = _shipped_invoices(
        world, m.rhine, m.muster, place(world, m.muster, [(valve, 1)]).json()
    )
    document = _xml(world, f"/v1/buyer/invoices/{invoice}", m.muster)
    check(document)
    tree = etree.fromstring(document)
    inclusive = tree.find(f".//{CBC}TaxInclusiveAmount")
    assert inclusive is not None
    inclusive.text = "1.00"
    broken = etree.tostring(tree)
    assert any(rule.startswith("BR-CO-15") for rule in failed_rules(broken))


def test_a_seller_without_a_tax_profile_has_no_e_invoice(world: World) -> None:
    m = small_market(world)
    valve = world.product(m.acme, "VALVE", 5_000)
    world.offer(m.danube, valve, 4_000)
    world.terms(m.danube, m.muster)
    [invoice] = _shipped_invoices(
        world, m.danube, m.muster, place(world, m.muster, [(valve, 1)]).json()
    )
    answer = world.call("GET", f"/v1/buyer/invoices/{invoice}", m.muster, headers=XML)
    assert answer.status_code == 409
    assert "no tax profile" in answer.json()["detail"]
    # The JSON and the PDF stay as they were.
    assert world.ok("GET", f"/v1/buyer/invoices/{invoice}", m.muster)["total"] == eur(4_000)


def test_a_seller_profile_without_vat_id_or_tax_number_cannot_issue_one(world: World) -> None:
    m = small_market(world)
    valve = world.product(m.acme, "VALVE", 5_000)
    world.offer(m.danube, valve, 4_000)
    world.terms(m.danube, m.muster)
    world.ok(
        "PUT",
        "/v1/reseller/tax-profile",
        m.danube,
        json={"legal_name": "Danube GmbH", "country": "DE", "address": HAMBURG},
    )
    placed = place(world, m.muster, [(valve, 1)]).json()
    [invoice] = _shipped_invoices(world, m.danube, m.muster, placed)
    answer = world.call("GET", f"/v1/reseller/invoices/{invoice}", m.danube, headers=XML)
    assert answer.status_code == 409
    assert "neither a VAT ID nor a tax number" in answer.json()["detail"]
    # Its PDF is still there, without an e-invoice inside.
    assert _pdf(world, f"/v1/buyer/invoices/{invoice}", m.muster).startswith(b"%PDF")
