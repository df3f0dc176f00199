"""The tax settings in the pages: a seller's finance person keeps its tax profile and its
orders person the shipping grid, the operator's admin the rates (support only reads), and
what the API refuses is refused here with the same sentence."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import facturx
import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.einvoice_rules import check, check_cii
from tests.test_operator_office import operator_person
from tests.test_people import TOKEN, buyer_with_person, sign_in
from tests.test_seller_orders_pages import person
from tests.test_taxed_orders import HAMBURG, buyer_profile, pay_out, place, taxed_seller
from tests.world import Market, World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
EMAILS = ("finance@rhine.example", "orders@rhine.example", "ops@market.example", "help@ops.ex")


@dataclass
class Office:
    world: World
    market: Market
    web: dict[str, TestClient]

    def post(self, who: str, path: str, **data: str) -> Any:
        web = self.web[who]
        token = TOKEN.search(web.get(path).text)
        assert token, path
        return web.post(path, data={"csrf_token": token.group(1), **data}, follow_redirects=False)


@pytest.fixture
def office(world: World, marketplace: Marketplace) -> Iterator[Office]:
    m = small_market(world)
    person(world, m.rhine, EMAILS[0], "finance")
    person(world, m.rhine, EMAILS[1], "orders")
    operator_person(world, EMAILS[2], "admin")
    operator_person(world, EMAILS[3], "support")
    web = {}
    for email in EMAILS:
        web[email] = TestClient(create_app(marketplace, start=False))
        assert sign_in(web[email], email).status_code == 303
    yield Office(world, m, web)
    for client in web.values():
        client.close()


PROFILE = {
    "legal_name": "Rhine Supply GmbH",
    "country": "de",
    "vat_id": "DE 136 695 976",
    "address_line1": "Hafenstraße 1",
    "address_postcode": "20457",
    "address_city": "Hamburg",
    "address_country": "DE",
}


def test_finance_keeps_the_sellers_tax_profile_and_a_wrong_vat_id_is_explained(
    office: Office,
) -> None:
    finance = EMAILS[0]
    wrong = office.post(finance, "/tax-profile", **{**PROFILE, "vat_id": "DE136695977"})
    assert wrong.status_code == 422
    assert "DE136695977 is not a valid VAT ID of DE" in wrong.text
    assert office.post(finance, "/tax-profile", **PROFILE).status_code == 303
    assert 'value="Rhine Supply GmbH"' in office.web[finance].get("/tax-profile").text
    kept = office.world.ok("GET", "/v1/reseller/tax-profile", office.market.rhine)
    assert kept["country"] == "DE"
    assert kept["vat_id"] == "DE 136 695 976"
    assert kept["address"]["city"] == "Hamburg"
    # The orders person keeps the shipping grid, not the tax profile.
    assert office.web[EMAILS[1]].get("/tax-profile").status_code == 403


def test_the_orders_person_writes_the_shipping_grid_line_by_line(office: Office) -> None:
    orders = EMAILS[1]
    page = office.web[orders].get("/reseller/shipping").text
    assert "Without a grid you ship anywhere" in page
    grid = "std, Parcel, DE AT, 4.90, 1.00, 150.00, 1, 3\nexp, Express, DE, 15, 0, , 0, 1"
    assert office.post(orders, "/reseller/shipping", grid=grid, currency="EUR").status_code == 303
    kept = office.world.ok("GET", "/v1/reseller/shipping-rates", office.market.rhine)["rates"]
    assert [(r["method"], r["countries"], r["first_item"]["amount"]) for r in kept] == [
        ("std", ["DE", "AT"], 490),
        ("exp", ["DE"], 1_500),
    ]
    assert kept[0]["free_over"] == {"amount": 15_000, "currency": "EUR"}
    assert kept[1]["free_over"] is None
    for bad, said in (
        ("std, Parcel, DE, 4.90", "line 1: write it as method, name, countries"),
        ("std, Parcel, DE, lots, 1, , 1, 3", "line 1: the first item is not an amount"),
        ("std, Parcel, XX, 1, 1, , 1, 3", "rate 1 (std): XX is not an ISO 3166 country code"),
    ):
        refused = office.post(orders, "/reseller/shipping", grid=bad, currency="EUR")
        assert refused.status_code == 422
        assert said.lower() in refused.text.lower()
    assert office.world.ok("GET", "/v1/reseller/shipping-rates", office.market.rhine)["rates"] == (
        kept
    )
    assert office.web[EMAILS[0]].get("/reseller/shipping").status_code == 403


def test_the_operator_changes_a_rate_and_support_only_reads_them(office: Office) -> None:
    admin, support = EMAILS[2], EMAILS[3]
    page = office.web[admin].get("/operator/tax-rates").text
    assert 'name="DE:standard" value="19.00"' in page
    assert office.post(admin, "/operator/tax-rates", **{"DE:reduced": "7.5"}).status_code == 303
    rates = office.world.ok("GET", "/v1/operator/tax-rates", office.world.operator)["items"]
    found = {(r["country"], r["category"]): r["rate_bps"] for r in rates}
    assert found[("DE", "reduced")] == 750
    assert found[("DE", "standard")] == 1900
    refused = office.post(admin, "/operator/tax-rates", **{"DE:reduced": "lots"})
    assert refused.status_code == 422
    assert "DE reduced: lots is not a percentage" in refused.text
    assert "readonly" in office.web[support].get("/operator/tax-rates").text
    assert office.post(support, "/operator/tax-rates", **{"DE:reduced": "7"}).status_code == 403
    # The operator keeps its own tax profile too.
    assert office.post(admin, "/tax-profile", **PROFILE).status_code == 303
    profile = office.world.ok("GET", "/v1/operator/tax-profile", office.world.operator)
    assert profile["legal_name"] == "Rhine Supply GmbH"


def test_a_buyers_admin_keeps_its_companys_profile_and_a_buyer_cannot(
    office: Office, marketplace: Marketplace
) -> None:
    pia = buyer_with_person(office.world, "Pia AG", "pia@pia.example")
    clerk = office.world.user(pia, "buyer")
    with TestClient(create_app(marketplace, start=False)) as web:
        assert sign_in(web, "pia@pia.example").status_code == 303
        assert '<a href="/tax-profile">Tax profile</a>' in web.get("/catalog").text
        office.web["pia"] = web
        french = {**PROFILE, "legal_name": "Pia AG", "country": "FR", "vat_id": "FR40303265045"}
        assert office.post("pia", "/tax-profile", **french).status_code == 303
    kept = office.world.ok("GET", "/v1/buyer/tax-profile", clerk)
    assert (kept["legal_name"], kept["vat_id"]) == ("Pia AG", "FR40303265045")


def test_the_operator_reads_the_dac7_report_and_downloads_it(office: Office) -> None:
    admin = office.web[EMAILS[2]]
    page = admin.get("/operator/reports/dac7?year=2026")
    assert page.status_code == 200
    assert "No seller was paid anything in 2026." in page.text
    assert 'href="/operator/reports/dac7.csv?year=2026"' in page.text
    download = admin.get("/operator/reports/dac7.csv?year=2026")
    assert download.headers["content-disposition"] == 'attachment; filename="dac7-2026.csv"'
    assert download.text.splitlines()[0].startswith("reseller_id,legal_name,country,vat_id")
    assert office.web[EMAILS[0]].get("/operator/reports/dac7").status_code == 403


def test_finance_and_the_operator_read_the_commission_invoice_of_a_payout(
    office: Office,
) -> None:
    world, m = office.world, office.market
    valve, _ = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
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
            "legal_name": "Marketplace GmbH",
            "country": "DE",
            "tax_id": "22/815/08150",
            "address": HAMBURG,
        },
    )
    placed = place(world, m.muster, [(valve, 2)]).json()
    so_id = placed["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so_id}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{so_id}/ship", m.rhine, json={})
    payout = pay_out(world, m.rhine)
    # The orders person sees what the seller order charges: 2 x 50.00 + 5.90 shipping, 19 %.
    seller_order = office.web[EMAILS[1]].get(f"/reseller/orders/{so_id}").text
    assert "Parcel" in seller_order
    assert "126.02" in seller_order
    finance = office.web[EMAILS[0]]
    # 10 % of the 100.00 goods: 10.00, and 19 % VAT on it: 1.90.
    listed = finance.get("/reseller/commission-invoices").text
    assert "No. 1" in listed
    for figure in ("10.00", "1.90", "11.90"):
        assert figure in listed, figure
    shown = finance.get(f"/reseller/commission-invoices/{payout['commission_invoice_id']}")
    assert "Marketplace GmbH" in shown.text
    assert "VAT ID DE136695976" in shown.text
    # Its e-invoice and its Factur-X PDF, downloaded from the page.
    base = f"/reseller/commission-invoices/{payout['commission_invoice_id']}"
    assert f'href="{base}.xml"' in shown.text
    xml = finance.get(f"{base}.xml")
    assert xml.headers["content-type"].startswith("application/xml")
    check(xml.content)
    _, embedded = facturx.get_xml_from_pdf(finance.get(f"{base}.pdf").content)
    check_cii(embedded)
    statement = finance.get(f"/reseller/payouts/{payout['payout_id']}").text
    assert "VAT on the commission" in statement
    assert payout["commission_invoice_id"] in statement
    operator = office.web[EMAILS[3]].get("/operator/commission-invoices").text
    assert "Rhine Supply" in operator
    # The seller's orders person is not finance: the page is not theirs.
    assert office.web[EMAILS[1]].get("/reseller/commission-invoices").status_code == 403
