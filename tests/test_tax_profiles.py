"""Tax profiles, the operator's tax rates and a seller's shipping grid through the API
(api.md v1.2): what is kept, and nonsense refused with a sentence and nothing changed."""

from typing import Any

import pytest

from tests.world import World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)

ADDRESS = {"line1": "Hafenstraße 1", "postcode": "20457", "city": "Hamburg", "country": "DE"}
RHINE = {
    "legal_name": "Rhine Supply GmbH",
    "country": "DE",
    "vat_id": "DE136695976",
    "address": ADDRESS,
}


def test_a_seller_keeps_its_tax_profile_and_a_wrong_vat_id_changes_nothing(world: World) -> None:
    m = small_market(world)
    assert world.call("GET", "/v1/reseller/tax-profile", m.rhine).status_code == 404
    kept = world.ok("PUT", "/v1/reseller/tax-profile", m.rhine, json=RHINE)
    assert kept == {**RHINE, "tax_id": None, "address": {**ADDRESS, "line2": None}}
    wrong = world.call(
        "PUT", "/v1/reseller/tax-profile", m.rhine, json={**RHINE, "vat_id": "DE136695977"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"].startswith("DE136695977 is not a valid VAT ID of DE")
    greek = world.call(
        "PUT",
        "/v1/reseller/tax-profile",
        m.rhine,
        json={**RHINE, "country": "GR", "vat_id": "GR094259216"},
    )
    assert greek.status_code == 422
    assert greek.json()["detail"] == "a VAT ID of GR starts with EL"
    assert world.ok("GET", "/v1/reseller/tax-profile", m.rhine) == kept
    # A profile of another country, with its own prefix, is taken.
    athens = {**RHINE, "country": "GR", "vat_id": "EL094259216", "address": {**ADDRESS}}
    assert world.ok("PUT", "/v1/reseller/tax-profile", m.rhine, json=athens)["vat_id"] == (
        "EL094259216"
    )
    # Each party reads its own profile only.
    assert world.call("GET", "/v1/reseller/tax-profile", m.danube).status_code == 404
    assert world.call("GET", "/v1/reseller/tax-profile", m.muster).status_code == 403
    assert world.call("GET", "/v1/reseller/tax-profile").status_code == 401


def test_only_a_buyers_admin_sets_its_profile_and_the_operator_keeps_its_own(
    world: World,
) -> None:
    m = small_market(world)
    clerk = world.user(m.muster, "buyer")
    muster = {**RHINE, "legal_name": "Muster GmbH", "vat_id": None, "tax_id": "DE-12/345"}
    assert world.call("PUT", "/v1/buyer/tax-profile", clerk, json=muster).status_code == 403
    assert world.ok("PUT", "/v1/buyer/tax-profile", m.muster, json=muster)["tax_id"] == "DE-12/345"
    assert world.ok("GET", "/v1/buyer/tax-profile", clerk)["legal_name"] == "Muster GmbH"
    no_city = {**muster, "address": {**ADDRESS, "city": ""}}
    refused = world.call("PUT", "/v1/buyer/tax-profile", m.muster, json=no_city)
    assert refused.status_code == 422
    operator = {**RHINE, "legal_name": "Marketplace Operator GmbH"}
    assert world.ok("PUT", "/v1/operator/tax-profile", world.operator, json=operator)[
        "legal_name"
    ] == ("Marketplace Operator GmbH")
    assert world.call("GET", "/v1/operator/tax-profile", m.rhine).status_code == 403


def _rates(world: World) -> dict[tuple[str, str], int]:
    items = world.ok("GET", "/v1/operator/tax-rates", world.operator)["items"]
    return {(r["country"], r["category"]): r["rate_bps"] for r in items}


def test_the_operator_starts_with_the_eu_rates_and_replaces_the_ones_it_names(
    world: World,
) -> None:
    shipped = _rates(world)
    assert len(shipped) == 27 * 3
    assert shipped[("DE", "standard")] == 1900
    assert shipped[("FR", "reduced")] == 550
    assert shipped[("GR", "zero")] == 0
    changed = {"rates": [{"country": "DE", "category": "reduced", "rate_bps": 750}]}
    world.ok("PUT", "/v1/operator/tax-rates", world.operator, json=changed)
    assert _rates(world) == {**shipped, ("DE", "reduced"): 750}
    for nonsense in (
        {"country": "XX", "category": "standard", "rate_bps": 1900},
        {"country": "DE", "category": "luxury", "rate_bps": 1900},
        {"country": "DE", "category": "standard", "rate_bps": 19_000},
        {"country": "DE", "category": "standard", "rate_bps": -1},
        {"country": "DE", "category": "zero", "rate_bps": 500},
    ):
        answer = world.call(
            "PUT", "/v1/operator/tax-rates", world.operator, json={"rates": [nonsense]}
        )
        assert answer.status_code == 422, nonsense
    assert _rates(world) == {**shipped, ("DE", "reduced"): 750}


def _parcel(**change: Any) -> dict[str, Any]:
    return {
        "method": "std",
        "name": "Parcel",
        "countries": ["DE", "AT"],
        "first_item": eur(490),
        "additional_item": eur(100),
        "free_over": eur(15_000),
        "min_days": 1,
        "max_days": 3,
        **change,
    }


def test_a_seller_replaces_its_shipping_grid_and_nonsense_is_refused(world: World) -> None:
    m = small_market(world)
    assert world.ok("GET", "/v1/reseller/shipping-rates", m.rhine) == {"rates": []}
    grid = [_parcel(), _parcel(method="exp", name="Express", free_over=None, max_days=1)]
    kept = world.ok("PUT", "/v1/reseller/shipping-rates", m.rhine, json={"rates": grid})
    assert kept == {"rates": grid}
    assert world.ok("GET", "/v1/reseller/shipping-rates", m.rhine) == kept
    assert world.ok("GET", "/v1/reseller/shipping-rates", m.danube) == {"rates": []}
    twice = world.call(
        "PUT", "/v1/reseller/shipping-rates", m.rhine, json={"rates": [_parcel(), _parcel()]}
    )
    assert twice.status_code == 422
    assert twice.json()["detail"] == [
        {"loc": ["body"], "msg": "rate 2 (std): std to DE is given twice"},
        {"loc": ["body"], "msg": "rate 2 (std): std to AT is given twice"},
    ]
    for nonsense in (
        _parcel(countries=["XX"]),
        _parcel(countries=[]),
        _parcel(first_item={"amount": -1, "currency": "EUR"}),
        _parcel(additional_item={"amount": 100, "currency": "USD"}),
        _parcel(min_days=5, max_days=2),
        _parcel(max_days=4_000),
    ):
        answer = world.call(
            "PUT", "/v1/reseller/shipping-rates", m.rhine, json={"rates": [nonsense]}
        )
        assert answer.status_code == 422, nonsense
    assert world.ok("GET", "/v1/reseller/shipping-rates", m.rhine) == kept
    assert world.call("GET", "/v1/reseller/shipping-rates", m.acme).status_code == 403


def test_a_product_carries_its_tax_category_into_the_catalog(world: World) -> None:
    m = small_market(world)
    book = world.product(m.acme, "BOOK-1", tax_category="reduced")
    tool = world.product(m.acme, "TOOL-1")
    world.offer(m.rhine, book, 1_000)
    world.offer(m.rhine, tool, 1_000)
    world.terms(m.rhine, m.muster)
    assert {i["sku"]: i["tax_category"] for i in world.catalog(m.muster)} == {
        "BOOK-1": "reduced",
        "TOOL-1": "standard",
    }
    listed = world.ok("GET", "/v1/manufacturer/products", m.acme)["items"]
    assert {p["sku"]: p["tax_category"] for p in listed} == {
        "BOOK-1": "reduced",
        "TOOL-1": "standard",
    }
    # Changing only the category is a change; an unknown one is refused and changes nothing.
    world.product(m.acme, "TOOL-1", tax_category="zero")
    wrong = world.call(
        "PUT",
        "/v1/manufacturer/products/BOOK-1",
        m.acme,
        json={
            "name": "B",
            "brand": "Acme",
            "category": "tools",
            "list_price": eur(100),
            "tax_category": "luxury",
        },
    )
    assert wrong.status_code == 422
    assert {i["sku"]: i["tax_category"] for i in world.catalog(m.muster)} == {
        "BOOK-1": "reduced",
        "TOOL-1": "zero",
    }
