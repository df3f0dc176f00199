"""Every buyer's catalog equals the pricing rule evaluated over the event-sourced state, in a
generated world, after the changes that move offers in and out of shared price lists."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.load import load
from bench.reference import Catalog, as_reference, reference_catalog
from bench.world import SCALES, generate
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails

# The distributed mode keeps its view in PostgreSQL, so it covers the view's SQL there too.
pytestmark = pytest.mark.parametrize("settings", ["sqlite", "kafka"], indirect=True)


def _view(client: TestClient, marketplace: Marketplace, key: str, **params: Any) -> Catalog:
    items: list[dict[str, Any]] = []
    cursor = None
    position = marketplace.position_token()
    while True:
        query = {"limit": 37, "min_position": position, **params}
        if cursor:
            query["cursor"] = cursor
        response = client.get(
            "/v1/buyer/catalog", params=query, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    names = [(item["name"], item["product_id"]) for item in items]
    assert names == sorted(names), "pages out of order"
    assert len(set(names)) == len(names), "a product on two pages"
    return as_reference(items)


def test_every_buyers_catalog_equals_the_rule_over_the_event_store(
    marketplace: Marketplace, client: TestClient
) -> None:
    world = generate(SCALES["tiny"], seed=7)
    ids = load(marketplace, world)
    offers, sellers = marketplace.offers, marketplace.sellers
    resellers, products, makers = ids["resellers"], ids["products"], ids["makers"]
    pairs = [(resellers[o["reseller"]], products[o["product"]]) for o in world.offers]

    # Offers leave and come back, prices and stock move.
    for reseller_id, product_id in pairs[:12]:
        offers.withdraw(reseller_id, product_id)
    for i, (reseller_id, product_id) in enumerate(pairs[:4] + pairs[40:50]):
        offers.put_offer(
            reseller_id, product_id, OfferDetails(Money(90_000 + i, "EUR"), [], 5 + i, 2, 1)
        )
    for reseller_id, product_id in pairs[60:70]:
        offers.set_stock(reseller_id, product_id, 0)
    # Products are discontinued, or change category (in and out of scoped lists).
    offers.discontinue(makers[0], world.products[0]["sku"])
    for p in world.products[1:6]:
        offers.put_product(
            makers[p["manufacturer"]],
            p["sku"],
            ProductDetails(
                name=f"Renamed {p['sku']}",
                brand=p["brand"],
                category="cat-0",
                gtin=None,
                attributes={},
                unit=None,
                list_price=Money(p["list"], "EUR"),
                map_price=None,
            ),
        )
    # Authorizations narrow and go; a reseller and a manufacturer are suspended.
    sellers.authorize(makers[0], resellers[0], ["Brand0", "Brand2"], None)
    sellers.revoke_authorization(makers[1], resellers[1])
    reseller = sellers.account(resellers[2])
    assert reseller is not None
    reseller.suspend()
    sellers.save(reseller)
    # Buyers move between price lists, and one list loses its last buyer.
    moved = world.buyers[:3]
    for b in moved:
        for r in world.shapes[b["shape"]]["resellers"]:
            offers.put_terms(
                resellers[r],
                ids["buyers"][b["index"]],
                CustomerTermsDetails({"brands": ["Brand1", "Brand3"]}, 1_234, {}, ["card"], None),
            )

    def every_buyer_sees_the_rule() -> None:
        for b in world.buyers:
            buyer_id = ids["buyers"][b["index"]]
            key = f"mk_b_bench_{b['index']}"
            expected = reference_catalog(marketplace, buyer_id, pairs)
            assert expected, "a buyer with nothing to compare"
            assert _view(client, marketplace, key) == expected

    every_buyer_sees_the_rule()
    # Rebuilt from the event store, the view gives the same answers.
    marketplace.projections.rebuild("catalog")
    every_buyer_sees_the_rule()
    # Filters and search narrow the same answer.
    buyer_id = ids["buyers"][1]
    expected = reference_catalog(marketplace, buyer_id, pairs)
    names = {str(products[p["index"]]): p for p in world.products}
    by_brand = {pid: o for pid, o in expected.items() if names[pid]["brand"] == "Brand1"}
    assert _view(client, marketplace, "mk_b_bench_1", brand="brand1") == by_brand
    drills = {pid: o for pid, o in expected.items() if "drill" in names[pid]["name"].lower()}
    assert _view(client, marketplace, "mk_b_bench_1", q="DRILL") == drills
    reseller = next(iter(expected.values()))[0]["reseller_id"]
    by_reseller = {
        pid: kept
        for pid, found in expected.items()
        if (kept := [o for o in found if o["reseller_id"] == reseller])
    }
    assert by_reseller != expected
    assert _view(client, marketplace, "mk_b_bench_1", reseller_id=reseller) == by_reseller
