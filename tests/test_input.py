"""Bad input gets a clear 4xx and changes nothing."""

from typing import Any

import pytest

from marketplace.platform import Marketplace
from tests.world import World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)

GOOD_PRODUCT = {"name": "Drill", "brand": "Acme", "category": "tools", "list_price": eur(1_000)}
GOOD_OFFER = {"price": eur(1_000), "stock": 5, "lead_time_days": 2}
BAD_PRODUCTS: list[Any] = [
    {**GOOD_PRODUCT, "list_price": {"amount": "1000", "currency": "EUR"}},
    {**GOOD_PRODUCT, "list_price": {"amount": 10.5, "currency": "EUR"}},
    {**GOOD_PRODUCT, "list_price": eur(0)},
    {**GOOD_PRODUCT, "list_price": eur(-5)},
    {**GOOD_PRODUCT, "list_price": {"amount": 100, "currency": "XXY"}},
    {**GOOD_PRODUCT, "list_price": {"amount": 100, "currency": "eur"}},
    {**GOOD_PRODUCT, "list_price": {"amount": 10**15, "currency": "EUR"}},
    {**GOOD_PRODUCT, "map_price": eur(2_000)},
    {**GOOD_PRODUCT, "map_price": {"amount": 500, "currency": "USD"}},
    {**GOOD_PRODUCT, "name": ""},
    {**GOOD_PRODUCT, "name": "x" * 5_000},
    {**GOOD_PRODUCT, "gtin": "not-a-gtin"},
    {**GOOD_PRODUCT, "surprise": True},
    {k: v for k, v in GOOD_PRODUCT.items() if k != "brand"},
    [],
]
BAD_OFFERS: list[dict[str, Any]] = [
    {**GOOD_OFFER, "stock": -1},
    {**GOOD_OFFER, "stock": "5"},
    {**GOOD_OFFER, "price": eur(0)},
    {**GOOD_OFFER, "price": {"amount": 1_000, "currency": "USD"}},
    {**GOOD_OFFER, "lead_time_days": -1},
    {**GOOD_OFFER, "min_order_qty": 0},
    {
        **GOOD_OFFER,
        "tiers": [{"min_qty": 10, "price": eur(900)}, {"min_qty": 5, "price": eur(800)}],
    },
    {
        **GOOD_OFFER,
        "tiers": [{"min_qty": 10, "price": eur(900)}, {"min_qty": 10, "price": eur(800)}],
    },
    {**GOOD_OFFER, "tiers": [{"min_qty": 1, "price": eur(900)}]},
    {**GOOD_OFFER, "tiers": [{"min_qty": 10, "price": eur(1_100)}]},
    {**GOOD_OFFER, "tiers": [{"min_qty": 0, "price": eur(900)}]},
]


def test_bad_products_and_offers_are_refused_and_change_nothing(
    world: World, marketplace: Marketplace
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    before = marketplace.heads()
    for body in BAD_PRODUCTS:
        response = world.call("PUT", "/v1/manufacturer/products/NEW-1", m.acme, json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["detail"]
    for body in BAD_OFFERS:
        response = world.call("PUT", f"/v1/reseller/offers/{drill}", m.rhine, json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["detail"]
    assert marketplace.heads() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/v1/manufacturer/products/bad%20sku", GOOD_PRODUCT),
        ("PUT", "/v1/reseller/offers/not-a-uuid", GOOD_OFFER),
        ("PUT", "/v1/reseller/customers/not-a-uuid", {"catalog": None, "payment_methods": []}),
        ("POST", "/v1/manufacturers", {"name": "A", "country": "Germany"}),
        ("POST", "/v1/manufacturers", {"name": "A", "country": "ZZ"}),
        ("POST", "/v1/resellers", {"name": "A", "kind": "broker", "country": "DE"}),
        ("POST", "/v1/buyers", {"legal_name": "A", "country": "DE"}),
    ],
)
def test_malformed_requests_get_a_4xx_with_a_detail(
    world: World, marketplace: Marketplace, method: str, path: str, body: Any
) -> None:
    m = small_market(world)
    actor = m.rhine if "reseller" in path else m.acme
    before = marketplace.heads()
    response = world.call(method, path, actor, json=body)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]
    assert marketplace.heads() == before


def test_unknown_ids_are_404_and_bodies_that_are_not_json_are_4xx(
    world: World, marketplace: Marketplace
) -> None:
    m = small_market(world)
    unknown = "00000000-0000-0000-0000-000000000009"
    before = marketplace.heads()
    assert (
        world.call("PUT", f"/v1/reseller/offers/{unknown}", m.rhine, json=GOOD_OFFER).status_code
        == 404
    )
    terms = {"catalog": None, "payment_methods": ["card"]}
    assert (
        world.call("PUT", f"/v1/reseller/customers/{unknown}", m.rhine, json=terms).status_code
        == 404
    )
    assert world.call("DELETE", "/v1/manufacturer/products/NOPE", m.acme).status_code == 404
    assert (
        world.call("DELETE", f"/v1/manufacturer/authorizations/{unknown}", m.acme).status_code
        == 404
    )
    assert (
        world.call("PUT", f"/v1/manufacturer/authorizations/{unknown}", m.acme, json={}).status_code
        == 404
    )
    response = world.call(
        "PUT",
        "/v1/manufacturer/products/X",
        m.acme,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert marketplace.heads() == before


def test_terms_are_checked_before_they_are_agreed(world: World, marketplace: Marketplace) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    path = f"/v1/reseller/customers/{m.muster.id}"
    unknown = "00000000-0000-0000-0000-000000000009"
    before = marketplace.heads()
    for body in [
        {"catalog": None, "payment_methods": []},
        {"catalog": None, "payment_methods": ["cash"]},
        {"catalog": None, "payment_methods": ["card"], "discount_bps": 10_000},
        {"catalog": None, "payment_methods": ["card"], "discount_bps": -1},
        {"catalog": None, "payment_methods": ["card"], "credit_limit": eur(-1)},
        {"catalog": None, "payment_methods": ["card"], "fixed_prices": {drill: eur(0)}},
        {
            "catalog": None,
            "payment_methods": ["card"],
            "fixed_prices": {drill: {"amount": 5, "currency": "USD"}},
        },
        {"catalog": None, "payment_methods": ["card"], "fixed_prices": {unknown: eur(5)}},
        {"catalog": {"colours": ["red"]}, "payment_methods": ["card"]},
    ]:
        response = world.call("PUT", path, m.rhine, json=body)
        assert response.status_code == 422, (body, response.text)
    assert marketplace.heads() == before


def test_a_huge_body_is_refused_before_it_is_read(world: World, marketplace: Marketplace) -> None:
    m = small_market(world)
    before = marketplace.heads()
    body = {**GOOD_PRODUCT, "attributes": {"blob": "x" * (2 << 20)}}
    response = world.call("PUT", "/v1/manufacturer/products/BIG", m.acme, json=body)
    assert response.status_code == 413
    assert marketplace.heads() == before


def test_a_product_keeps_its_currency(world: World) -> None:
    m = small_market(world)
    world.product(m.acme, "DRILL-1")
    body = {**GOOD_PRODUCT, "list_price": {"amount": 1_000, "currency": "USD"}}
    response = world.call("PUT", "/v1/manufacturer/products/DRILL-1", m.acme, json=body)
    assert response.status_code == 422
    assert "currency" in response.json()["detail"]


def test_putting_a_product_again_updates_it_and_bumps_its_version(world: World) -> None:
    m = small_market(world)
    first = world.call("PUT", "/v1/manufacturer/products/DRILL-1", m.acme, json=GOOD_PRODUCT)
    assert first.status_code == 201
    same = world.call("PUT", "/v1/manufacturer/products/DRILL-1", m.acme, json=GOOD_PRODUCT)
    assert same.status_code == 200
    assert same.json()["version"] == first.json()["version"]
    changed = world.call(
        "PUT",
        "/v1/manufacturer/products/DRILL-1",
        m.acme,
        json={**GOOD_PRODUCT, "name": "Better drill"},
    )
    assert changed.json()["version"] == first.json()["version"] + 1
    assert changed.json()["product_id"] == first.json()["product_id"]
    items = world.view("/v1/manufacturer/products", m.acme).json()["items"]
    assert [(i["sku"], i["name"]) for i in items] == [("DRILL-1", "Better drill")]
