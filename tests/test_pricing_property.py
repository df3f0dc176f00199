"""The prices in the view equal a plain reading of the pricing rule, over random worlds."""

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from projections.catalog_view import CatalogFilter
from tests import seeding

BRANDS = ["A", "B"]
CATEGORIES = ["x", "y"]


def reference_price(
    price: int,
    tiers: list[tuple[int, int]],
    quantity: int,
    discount_bps: int,
    fixed: int | None,
    map_price: int | None,
) -> int:
    """The rule as api.md words it, written independently of offers.pricing."""
    if fixed is not None:
        amount = fixed
    else:
        base = price
        for min_qty, tier_price in tiers:
            if quantity >= min_qty:
                base = tier_price
        exact = Decimal(base) * (Decimal(1) - Decimal(discount_bps) / Decimal(10_000))
        amount = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(amount, map_price or 0)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    products: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        list_price = draw(st.integers(100, 100_000))
        map_price = draw(st.none() | st.integers(1, list_price))
        products.append(
            {
                "sku": f"P{i}",
                "brand": draw(st.sampled_from(BRANDS)),
                "category": draw(st.sampled_from(CATEGORIES)),
                "list": list_price,
                "map": map_price,
            }
        )
    offers = []
    for reseller in range(2):
        for index, product in enumerate(products):
            if not draw(st.booleans()):
                continue
            floor: int = product["map"] or 1
            price = draw(st.integers(floor, floor + 50_000))
            tiers = []
            last_qty, last_price = 1, price
            for _ in range(draw(st.integers(0, 3))):
                last_qty = draw(st.integers(last_qty + 1, last_qty + 50))
                last_price = draw(st.integers(floor, last_price))
                tiers.append((last_qty, last_price))
            offers.append(
                {
                    "reseller": reseller,
                    "product": index,
                    "price": price,
                    "tiers": tiers,
                    "moq": draw(st.integers(1, 60)),
                    "stock": draw(st.integers(0, 100)),
                }
            )
    terms: list[dict[str, Any] | None] = []
    for _ in range(2):
        if not draw(st.booleans()):
            terms.append(None)
            continue
        scope = draw(
            st.none()
            | st.fixed_dictionaries(
                {},
                optional={
                    "brands": st.lists(st.sampled_from(BRANDS), unique=True),
                    "categories": st.lists(st.sampled_from(CATEGORIES), unique=True),
                },
            )
        )
        fixed = {
            i: draw(st.integers(1, 200_000)) for i in range(len(products)) if draw(st.booleans())
        }
        terms.append({"scope": scope, "discount": draw(st.integers(0, 9_999)), "fixed": fixed})
    return {"products": products, "offers": offers, "terms": terms}


def expected_catalog(w: dict[str, Any], reseller_ids: list[str]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for offer in w["offers"]:
        terms = w["terms"][offer["reseller"]]
        product = w["products"][offer["product"]]
        if terms is None:
            continue
        scope = terms["scope"]
        if scope is not None and (
            ("brands" in scope and product["brand"] not in scope["brands"])
            or ("categories" in scope and product["category"] not in scope["categories"])
        ):
            continue
        fixed = terms["fixed"].get(offer["product"])

        def price(
            quantity: int,
            offer: dict[str, Any] = offer,
            fixed: int | None = fixed,
            terms: dict[str, Any] = terms,
            product: dict[str, Any] = product,
        ) -> int:
            return reference_price(
                offer["price"], offer["tiers"], quantity, terms["discount"], fixed, product["map"]
            )

        result.setdefault(product["sku"], {})[reseller_ids[offer["reseller"]]] = {
            "unit_price": price(offer["moq"]),
            "tiers": [(q, price(q)) for q, _ in offer["tiers"]],
        }
    return result


def test_view_prices_follow_the_pricing_rule(tmp_path: Path) -> None:
    marketplace = Marketplace(
        Settings(database_url=f"sqlite:///{tmp_path}/m.db", operator_key="op")
    )
    runs = iter(range(10_000))

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(w=worlds())
    def check(w: dict[str, Any]) -> None:
        run = next(runs)
        sellers, offers, buyers = marketplace.sellers, marketplace.offers, marketplace.buyers
        maker, resellers = seeding.approved_sellers(sellers, f"p{run}", 2)
        product_ids = [
            seeding.product(offers, maker, p["sku"], p["list"], p["map"], p["brand"], p["category"])
            for p in w["products"]
        ]
        for o in w["offers"]:
            seeding.offer(
                offers,
                resellers[o["reseller"]],
                product_ids[o["product"]],
                o["price"],
                o["tiers"],
                o["stock"],
                1,
                o["moq"],
            )
        buyer_id, _ = buyers.register(f"B{run}", "T", "DE", f"mk_b_{run}")
        for reseller_id, t in zip(resellers, w["terms"], strict=True):
            if t is not None:
                fixed = {product_ids[i]: amount for i, amount in t["fixed"].items()}
                seeding.terms(
                    offers, reseller_id, buyer_id, ["card"], t["discount"], fixed, t["scope"]
                )
        marketplace.projections.catch_up()
        items, _ = marketplace.catalog.page(str(buyer_id), CatalogFilter(), 500, None)
        seen = {
            item["sku"]: {
                o["reseller_id"]: {
                    "unit_price": o["unit_price"]["amount"],
                    "tiers": [(t["min_qty"], t["unit_price"]["amount"]) for t in o["tiers"]],
                }
                for o in item["offers"]
            }
            for item in items
        }
        assert seen == expected_catalog(w, [str(r) for r in resellers])
        for item in items:
            amounts = [o["unit_price"]["amount"] for o in item["offers"]]
            assert amounts == sorted(amounts)

    try:
        check()
    finally:
        marketplace.close()
    assert next(runs) >= 100
