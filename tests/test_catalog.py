"""Buyers shop from their own catalog, at their own prices."""

import pytest

from tests.world import World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_a_buyer_sees_an_offer_only_once_its_reseller_gives_it_terms(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 9_000)
    # Without terms with Rhine, Muster sees nothing at all.
    assert world.catalog(m.muster) == []
    # Rhine agrees terms with Muster: the drill appears at Rhine's price.
    world.terms(m.rhine, m.muster)
    [item] = world.catalog(m.muster)
    assert item["sku"] == "DRILL-1"
    assert [o["reseller_id"] for o in item["offers"]] == [m.rhine.id]
    assert item["offers"][0]["unit_price"] == eur(9_000)
    # Bolt has no terms, so it still sees nothing.
    assert world.catalog(m.bolt) == []


def test_offers_come_best_first_price_then_stock_then_lead_time(world: World) -> None:
    m = small_market(world)
    third = world.reseller("Third")
    world.authorize(m.acme, third)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 9_000, stock=5, lead_time_days=9)
    world.offer(m.danube, drill, 8_000, stock=0, lead_time_days=1)
    world.offer(third, drill, 8_000, stock=50, lead_time_days=5)
    for reseller in (m.rhine, m.danube, third):
        world.terms(reseller, m.muster)
    [item] = world.catalog(m.muster)
    # Cheapest first; between equal prices the one with stock beats the one without.
    assert [o["reseller_id"] for o in item["offers"]] == [third.id, m.danube.id, m.rhine.id]


def test_each_buyer_gets_its_own_contract_price(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1", map_price=6_000)
    saw = world.product(m.acme, "SAW-1")
    world.offer(m.rhine, drill, 10_000, tiers=[(10, 9_000), (100, 8_000)])
    world.offer(m.rhine, saw, 5_000)
    # Muster gets 10% off; Bolt has a fixed price on the saw.
    world.terms(m.rhine, m.muster, discount_bps=1_000)
    world.terms(m.rhine, m.bolt, fixed_prices={saw: 4_321})
    muster = {i["sku"]: i["offers"][0] for i in world.catalog(m.muster)}
    bolt = {i["sku"]: i["offers"][0] for i in world.catalog(m.bolt)}
    assert muster["DRILL-1"]["unit_price"] == eur(9_000)
    assert muster["DRILL-1"]["tiers"] == [
        {"min_qty": 10, "unit_price": eur(8_100)},
        # 8000 less 10% is 7200, still above the minimum advertised price of 6000.
        {"min_qty": 100, "unit_price": eur(7_200)},
    ]
    assert muster["SAW-1"]["unit_price"] == eur(4_500)
    assert bolt["SAW-1"]["unit_price"] == eur(4_321)
    assert bolt["DRILL-1"]["unit_price"] == eur(10_000)


def test_no_buyer_ever_sees_a_price_below_the_minimum_advertised_price(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1", map_price=9_500)
    world.offer(m.rhine, drill, 10_000, tiers=[(5, 9_600)])
    world.terms(m.rhine, m.muster, discount_bps=2_000)
    world.terms(m.rhine, m.bolt, fixed_prices={drill: 100})
    for buyer in (m.muster, m.bolt):
        [item] = world.catalog(buyer)
        offer = item["offers"][0]
        assert offer["unit_price"] == eur(9_500)
        assert offer["tiers"] == [{"min_qty": 5, "unit_price": eur(9_500)}]


def test_an_offer_priced_below_the_minimum_advertised_price_is_refused(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1", map_price=9_500)
    body = {"price": eur(9_000), "stock": 1, "lead_time_days": 1}
    response = world.call("PUT", f"/v1/reseller/offers/{drill}", m.rhine, json=body)
    assert response.status_code == 422
    assert "minimum advertised price" in response.json()["detail"]
    tiered = {**body, "price": eur(9_900), "tiers": [{"min_qty": 10, "price": eur(9_000)}]}
    assert (
        world.call("PUT", f"/v1/reseller/offers/{drill}", m.rhine, json=tiered).status_code == 422
    )
    assert world.view("/v1/reseller/offers", m.rhine).json()["items"] == []


def test_catalog_scope_narrows_what_a_buyer_sees(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1", brand="Acme", category="power-tools")
    world.product(m.acme, "BOLT-1", brand="Acme", category="fasteners")
    glove = world.product(m.acme, "GLOVE-1", brand="SafeCo", category="safety")
    for pid in world.products.values():
        world.offer(m.rhine, pid, 1_000)
    world.terms(m.rhine, m.muster, catalog={"categories": ["power-tools", "safety"]})
    assert world.catalog_skus(m.muster) == ["DRILL-1", "GLOVE-1"]
    world.terms(m.rhine, m.muster, catalog={"brands": ["Acme"], "categories": ["power-tools"]})
    assert world.catalog_skus(m.muster) == ["DRILL-1"]
    world.terms(m.rhine, m.muster, catalog={"product_ids": [glove, drill]})
    assert world.catalog_skus(m.muster) == ["DRILL-1", "GLOVE-1"]
    world.terms(m.rhine, m.muster, catalog={"brands": []})
    assert world.catalog_skus(m.muster) == []
    world.terms(m.rhine, m.muster, catalog=None)
    assert world.catalog_skus(m.muster) == ["BOLT-1", "DRILL-1", "GLOVE-1"]


def test_offers_leave_the_catalog_when_withdrawn_discontinued_or_unauthorized(
    world: World,
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    saw = world.product(m.acme, "SAW-1", brand="AcmePro")
    for pid in (drill, saw):
        world.offer(m.rhine, pid, 1_000)
    world.terms(m.rhine, m.muster)
    assert world.catalog_skus(m.muster) == ["DRILL-1", "SAW-1"]
    # Withdrawn, then published again.
    world.ok("DELETE", f"/v1/reseller/offers/{drill}", m.rhine)
    assert world.catalog_skus(m.muster) == ["SAW-1"]
    world.offer(m.rhine, drill, 1_100)
    assert world.catalog_skus(m.muster) == ["DRILL-1", "SAW-1"]
    # The manufacturer narrows Rhine's authorization to the Acme brand.
    world.authorize(m.acme, m.rhine, brands=["Acme"])
    assert world.catalog_skus(m.muster) == ["DRILL-1"]
    # A new offer on a product outside the authorization is refused.
    body = {"price": eur(1_000), "stock": 1, "lead_time_days": 1}
    assert world.call("PUT", f"/v1/reseller/offers/{saw}", m.rhine, json=body).status_code == 403
    # The manufacturer revokes Rhine entirely.
    world.ok("DELETE", f"/v1/manufacturer/authorizations/{m.rhine.id}", m.acme)
    assert world.catalog_skus(m.muster) == []
    # Authorized again; then the product is discontinued.
    world.authorize(m.acme, m.rhine)
    assert world.catalog_skus(m.muster) == ["DRILL-1", "SAW-1"]
    assert world.ok("DELETE", "/v1/manufacturer/products/DRILL-1", m.acme) == {
        "sku": "DRILL-1",
        "status": "discontinued",
    }
    assert world.catalog_skus(m.muster) == ["SAW-1"]


def test_a_suspended_sellers_offers_leave_every_catalog_until_reinstated(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 1_000)
    world.offer(m.danube, drill, 1_200)
    world.terms(m.rhine, m.muster)
    world.terms(m.danube, m.muster)
    world.ok(
        "POST",
        f"/v1/operator/accounts/{m.rhine.id}/suspend",
        world.operator,
        json={"reason": "fraud check"},
    )
    [item] = world.catalog(m.muster)
    assert [o["reseller_id"] for o in item["offers"]] == [m.danube.id]
    # A suspended reseller cannot act either.
    assert world.call("GET", "/v1/reseller/offers", m.rhine).status_code == 403
    world.ok("POST", f"/v1/operator/accounts/{m.rhine.id}/reinstate", world.operator)
    [item] = world.catalog(m.muster)
    assert [o["reseller_id"] for o in item["offers"]] == [m.rhine.id, m.danube.id]


def test_search_filters_and_cursor_pagination(world: World) -> None:
    m = small_market(world)
    for i in range(7):
        pid = world.product(m.acme, f"DRL-{i}", name=f"Cordless Drill {i}", category="drills")
        world.offer(m.rhine, pid, 1_000 + i)
    for i in range(3):
        pid = world.product(
            m.acme, f"SAW-{i}", name=f"Hand Saw {i}", brand="Sawyer", category="saws"
        )
        world.offer(m.danube, pid, 2_000)
    world.terms(m.rhine, m.muster)
    world.terms(m.danube, m.muster)
    assert len(world.catalog_skus(m.muster, q="drill")) == 7
    assert world.catalog_skus(m.muster, q="SAW-1") == ["SAW-1"]
    assert world.catalog_skus(m.muster, brand="sawyer") == ["SAW-0", "SAW-1", "SAW-2"]
    assert world.catalog_skus(m.muster, category="saws", q="2") == ["SAW-2"]
    assert len(world.catalog_skus(m.muster, reseller_id=m.danube.id)) == 3
    assert world.catalog_skus(m.muster, q="100%_") == []
    # Walk the whole catalog three items at a time.
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = world.view("/v1/buyer/catalog", m.muster, **params).json()
        seen += [item["sku"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 10
    assert len(set(seen)) == 10
    assert world.view("/v1/buyer/catalog", m.muster, cursor="garbage!").status_code == 400


def test_one_product_of_the_catalog_and_invisible_ones_are_404(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    hidden = world.product(m.acme, "HIDDEN-1")
    world.offer(m.rhine, drill, 1_000)
    world.offer(m.rhine, hidden, 1_000)
    world.terms(m.rhine, m.muster, catalog={"product_ids": [drill]})
    item = world.view(f"/v1/buyer/catalog/{drill}", m.muster).json()
    assert item["sku"] == "DRILL-1"
    assert item["offers"][0]["unit_price"] == eur(1_000)
    assert world.view(f"/v1/buyer/catalog/{hidden}", m.muster).status_code == 404
    assert world.view(f"/v1/buyer/catalog/{hidden}", m.bolt).status_code == 404


def test_a_buyer_never_learns_another_buyers_prices(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 10_000)
    world.terms(m.rhine, m.muster, fixed_prices={drill: 7_777})
    world.terms(m.rhine, m.bolt)
    [bolt_item] = world.catalog(m.bolt)
    assert bolt_item["offers"][0]["unit_price"] == eur(10_000)
    assert "7777" not in world.view("/v1/buyer/catalog", m.bolt).text
    assert "7777" not in world.view(f"/v1/buyer/catalog/{drill}", m.bolt).text


def test_each_offer_says_which_payment_methods_its_seller_accepts_from_this_buyer(
    world: World,
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 9_000)
    world.offer(m.danube, drill, 9_500)
    # Rhine takes card only from Muster; Danube extends net-60 terms to it.
    world.terms(m.rhine, m.muster, payment_methods=["card"])
    world.terms(m.danube, m.muster, payment_methods=["card", "invoice_net_60"])
    world.terms(m.rhine, m.bolt, payment_methods=["invoice_net_30"])
    [item] = world.catalog(m.muster)
    methods = {o["reseller_id"]: o["payment_methods"] for o in item["offers"]}
    assert methods == {m.rhine.id: ["card"], m.danube.id: ["card", "invoice_net_60"]}
    # Bolt sees Rhine's offer with its own terms, not Muster's.
    [item] = world.catalog(m.bolt)
    assert [o["payment_methods"] for o in item["offers"]] == [["invoice_net_30"]]
