"""Catalog search as a buyer means it: a relevance test set run against both stores.

Each query names the products that must come back, in order. Both persistence modes run
the same set, so they answer the same results in the same order.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.world import Actor, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)

PRODUCTS: list[dict[str, Any]] = [
    {"sku": "BC1010", "name": "Ball valve brass DN15", "brand": "Bosch", "category": "Valves"},
    {"sku": "BC1011", "name": "Ball valve steel DN20", "brand": "Bosch", "category": "Valves"},
    {"sku": "BC1010-X", "name": "Valve key", "brand": "Bosch", "category": "Valves"},
    {"sku": "M8X20", "name": "Hex bolt M8x20 zinc", "brand": "Würth", "category": "Fasteners"},
    {"sku": "M8X25", "name": "Hex bolt M8x25 zinc", "brand": "Würth", "category": "Fasteners"},
    {
        "sku": "DR-500",
        "name": "Cordless drill 18V",
        "brand": "Makita",
        "category": "Power tools",
        "gtin": "4006381333931",
        "attributes": {"colour": "Teal", "chuck": "13 mm"},
    },
    {"sku": "DR-501", "name": "Hammer drills set", "brand": "Makita", "category": "Power tools"},
    {
        "sku": "DRILL-GUIDE",
        "name": "Guide for straight holes",
        "brand": "Wolfcraft",
        "category": "Hand tools",
    },
    {"sku": "MX-9", "name": "Drall mixer paddle", "brand": "Collomix", "category": "Power tools"},
    {"sku": "SD-2", "name": "Schraubendreher Größe 2", "brand": "Wera", "category": "Hand tools"},
    {"sku": "GL-1", "name": "Nitrile gloves", "brand": "Ansell", "category": "Safety"},
    {"sku": "BX-1", "name": "Storage boxes", "brand": "Raaco", "category": "Storage"},
    # Offered only by a seller the buyer has no terms with, and only outside its scope.
    {"sku": "SEC-1", "name": "Secret drill prototype", "brand": "Hidden", "category": "Lab"},
    {"sku": "CH-1", "name": "Chemical drill cleaner", "brand": "Hidden", "category": "Chemicals"},
]


@dataclass
class Shop:
    world: World
    buyer: Actor
    rhine: Actor
    danube: Actor
    acme: Actor
    ids: dict[str, str]
    rep: Actor

    def search(self, **params: Any) -> dict[str, Any]:
        response = self.world.view("/v1/buyer/catalog", self.buyer, **params)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def skus(self, q: str, **params: Any) -> list[str]:
        return [i["sku"] for i in self.search(q=q, limit=100, **params)["items"]]


def _put(world: World, maker: Actor, product: dict[str, Any]) -> str:
    body = {k: v for k, v in product.items() if k != "sku"}
    body["list_price"] = eur(10_000)
    answer = world.ok("PUT", f"/v1/manufacturer/products/{product['sku']}", maker, json=body)
    product_id: str = answer["product_id"]
    return product_id


@pytest.fixture
def shop(world: World) -> Shop:
    market = small_market(world)
    acme, rhine, danube, buyer = market.acme, market.rhine, market.danube, market.muster
    hidden = world.reseller("Elsewhere Trading")
    world.authorize(acme, hidden)
    ids = {p["sku"]: _put(world, acme, p) for p in PRODUCTS}
    for n, product in enumerate(PRODUCTS):
        sku = product["sku"]
        if product["brand"] == "Hidden":
            continue
        world.offer(rhine, ids[sku], 1_000 + 100 * n, stock=0 if sku == "DR-501" else 50)
        if product["category"] in ("Power tools", "Valves"):
            world.offer(danube, ids[sku], 900 + 100 * n, stock=5)
    world.offer(hidden, ids["SEC-1"], 500)
    world.offer(rhine, ids["CH-1"], 500)
    world.terms(
        rhine,
        buyer,
        catalog={"categories": [c for c in {p["category"] for p in PRODUCTS} if c != "Chemicals"]},
        discount_bps=1_000,
    )
    world.terms(danube, buyer)
    rep = world.sales_rep(danube, [buyer])
    return Shop(world, buyer, rhine, danube, acme, ids, rep)


RELEVANCE = [
    # An exact SKU first, then SKUs that start with it; a code is never matched fuzzily.
    ("BC1010", ["BC1010", "BC1010-X"]),
    ("bc-1010", ["BC1010", "BC1010-X"]),
    ("m8x20", ["M8X20"]),
    ("M8x20 zinc", ["M8X20"]),
    # A GTIN finds its product.
    ("4006381333931", ["DR-500"]),
    # SKU prefix, then every word, then one typo: each tier in its own place.
    ("drill", ["DRILL-GUIDE", "DR-500", "DR-501", "MX-9"]),
    # Every word, in any order, case and plural ignored.
    ("DRILLS cordless", ["DR-500"]),
    ("valve BALL", ["BC1010", "BC1011"]),
    ("glove", ["GL-1"]),
    ("box", ["BX-1"]),
    # Accents and ß folded on both sides.
    ("schraubendreher grosse", ["SD-2"]),
    ("Größe", ["SD-2"]),
    # Brand, category and attributes hold words too.
    ("makita", ["DR-500", "DR-501"]),
    ("power tools hammer", ["DR-501"]),
    ("teal", ["DR-500"]),
    # One typo in a word of five letters or more: changed, dropped, added or swapped.
    ("cordles drill", ["DR-500"]),
    ("cordlesss", ["DR-500"]),
    ("cordelss", ["DR-500"]),
    ("nitrlie", ["GL-1"]),
    # Not in a word of four letters, not twice in one word, never in a code; a SKU's start
    # is a prefix, not a word.
    ("glov", []),
    ("dril", ["DRILL-GUIDE"]),
    ("cordlss drl", []),
    ("crodlsess", []),
    ("m8x21", []),
    # What the buyer may not see is never found.
    ("secret", []),
    ("chemical cleaner", []),
]


@pytest.mark.parametrize(("q", "expected"), RELEVANCE, ids=[q for q, _ in RELEVANCE])
def test_relevance(shop: Shop, q: str, expected: list[str]) -> None:
    assert shop.skus(q) == expected


def test_facets_count_the_whole_visible_result_under_the_other_filters(shop: Shop) -> None:
    answer = shop.search(q="drill", facets="brand,category,seller", limit=1)
    assert len(answer["items"]) == 1
    assert answer["next_cursor"]
    facets = answer["facets"]
    assert facets["brand"] == [
        {"value": "Makita", "count": 2},
        {"value": "Collomix", "count": 1},
        {"value": "Wolfcraft", "count": 1},
    ]
    assert facets["category"] == [
        {"value": "Power tools", "count": 3},
        {"value": "Hand tools", "count": 1},
    ]
    assert facets["seller"] == [
        {"reseller_id": shop.rhine.id, "name": "Rhine Supply", "count": 4},
        {"reseller_id": shop.danube.id, "name": "Danube Distribution", "count": 3},
    ]
    # Nothing the buyer may not see is counted: no "Hidden" brand, no third seller.
    filtered = shop.search(q="drill", brand=["makita", "Collomix"], facets="brand,category,seller")
    assert [i["sku"] for i in filtered["items"]] == ["DR-500", "DR-501", "MX-9"]
    assert {v["value"]: v["count"] for v in filtered["facets"]["brand"]} == {
        "Makita": 2,
        "Collomix": 1,
        "Wolfcraft": 1,
    }
    assert filtered["facets"]["category"] == [{"value": "Power tools", "count": 3}]
    assert [s["count"] for s in filtered["facets"]["seller"]] == [3, 3]
    only_danube = shop.search(q="drill", reseller_id=shop.danube.id, facets="seller,brand")
    assert [i["sku"] for i in only_danube["items"]] == ["DR-500", "DR-501", "MX-9"]
    assert all(
        o["reseller_id"] == shop.danube.id for i in only_danube["items"] for o in i["offers"]
    )
    assert len(only_danube["facets"]["seller"]) == 2


def test_stock_and_price_filters_read_the_buyers_own_best_price(shop: Shop) -> None:
    in_stock = shop.skus("drill", in_stock="true", reseller_id=shop.rhine.id)
    assert in_stock == ["DRILL-GUIDE", "DR-500", "MX-9"]  # DR-501 has no stock at Rhine
    assert shop.skus("drill", in_stock="true") == ["DRILL-GUIDE", "DR-500", "DR-501", "MX-9"]
    catalog = {i["sku"]: i for i in shop.search(q="drill", limit=100)["items"]}
    best = {sku: item["offers"][0]["unit_price"]["amount"] for sku, item in catalog.items()}
    # Rhine's 10 % discount and Danube's list prices make each product's best unit price.
    assert best["DR-500"] == min((1_000 + 500) * 9 // 10, 900 + 500)
    low, high = sorted(best.values())[1], sorted(best.values())[2]
    chosen = shop.skus("drill", price_min=low, price_max=high)
    assert chosen == [
        s for s in ["DRILL-GUIDE", "DR-500", "DR-501", "MX-9"] if low <= best[s] <= high
    ]
    assert len(chosen) == 2
    facets = shop.search(q="drill", price_min=low, price_max=high, facets="brand")["facets"]
    assert sum(v["count"] for v in facets["brand"]) == 2


def test_pages_follow_the_relevance_order(shop: Shop) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"q": "drill", "limit": 1}
    while True:
        page = shop.search(**params)
        seen += [i["sku"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["DRILL-GUIDE", "DR-500", "DR-501", "MX-9"]


def test_nothing_found_suggests_near_words_that_would_match(shop: Shop) -> None:
    answer = shop.search(q="valv")
    assert answer["items"] == []
    assert answer["suggestions"][0] == "valve"
    assert shop.search(q="cordlss dril")["suggestions"] == ["cordless drill"]
    # "secret" is a word only a product this buyer may not see holds.
    assert "secret" not in shop.search(q="secrat")["suggestions"]
    assert shop.search(q="drill")["suggestions"] == []


def test_bad_search_input_is_refused_clearly(shop: Shop) -> None:
    for params in (
        {"facets": "brand,colour"},
        {"price_min": -1},
        {"price_min": 500, "price_max": 100},
        {"in_stock": "perhaps"},
        {"reseller_id": "not-a-uuid"},
        {"brand": ["x"] * 51},
    ):
        response = shop.world.view("/v1/buyer/catalog", shop.buyer, **params)
        assert response.status_code == 422, (params, response.text)
    other = shop.search(q="drill", limit=1)["next_cursor"]
    plain = shop.world.view("/v1/buyer/catalog", shop.buyer, cursor=other)
    assert plain.status_code == 400


def test_sales_reps_search_an_accounts_catalog_within_their_seller(shop: Shop) -> None:
    response = shop.world.view(
        f"/v1/sales-rep/accounts/{shop.buyer.id}/catalog",
        shop.rep,
        q="cordles drill",
        facets="brand,seller",
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [i["sku"] for i in answer["items"]] == ["DR-500"]
    assert [s["reseller_id"] for s in answer["facets"]["seller"]] == [shop.danube.id]


def test_sellers_lists_search_the_same_way(shop: Shop) -> None:
    offers = shop.world.view("/v1/reseller/offers", shop.rhine, q="drill").json()["items"]
    names = {shop.ids[p["sku"]]: p["sku"] for p in PRODUCTS}
    assert [names[o["product_id"]] for o in offers][:1] == ["DRILL-GUIDE"]
    assert {names[o["product_id"]] for o in offers} == {
        "DRILL-GUIDE",
        "DR-500",
        "DR-501",
        "MX-9",
        "CH-1",
    }
    products = shop.world.view("/v1/manufacturer/products", shop.acme, q="BC1010").json()
    assert [p["sku"] for p in products["items"]] == ["BC1010", "BC1010-X"]
