"""Shopping lists and "order again" through the API: a list shared with the organisation is
ordered by a colleague, lines that cannot be ordered are reported, and a past order is placed
again at today's offers."""

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.test_people import PASSWORD, csrf, sign_in
from tests.test_seller_orders_pages import settle
from tests.world import World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_a_shared_list_is_ordered_by_a_colleague_and_what_left_the_catalog_is_skipped(
    world: World,
) -> None:
    m = small_market(world)
    drill, saw, glue = (world.product(m.acme, sku) for sku in ("DRILL", "SAW", "GLUE"))
    for pid in (drill, saw, glue):
        world.offer(m.rhine, pid, 1_000)
    world.terms(m.rhine, m.muster)
    colleague = world.user(m.muster, "buyer")

    # The admin keeps a monthly list, shared read-only with the organisation.
    made = world.ok(
        "POST", "/v1/buyer/lists", m.muster, json={"name": "Monthly", "sharing": "read"}
    )
    path = f"/v1/buyer/lists/{made['list_id']}"
    for pid, quantity in ((drill, 2), (saw, 5), (glue, 1)):
        world.ok("PUT", f"{path}/lines/{pid}", m.muster, json={"quantity": quantity})
    world.ok("PUT", f"{path}/lines/{saw}", m.muster, json={"quantity": 4})
    mine = world.ok("POST", "/v1/buyer/lists", m.muster, json={"name": "Mine"})

    # The colleague sees it (not the private one), cannot change it, and orders it.
    seen = world.view("/v1/buyer/lists", colleague).json()["items"]
    assert [(x["name"], x["sharing"], x["owner_id"]) for x in seen] == [
        ("Monthly", "read", m.muster.user_id)
    ]
    assert sorted((x["product_id"], x["quantity"]) for x in seen[0]["lines"]) == sorted(
        [(drill, 2), (saw, 4), (glue, 1)]
    )
    assert world.call("GET", f"/v1/buyer/lists/{mine['list_id']}", colleague).status_code == 404
    changed = world.call("PUT", f"{path}/lines/{drill}", colleague, json={"quantity": 9})
    assert changed.status_code == 403
    world.ok("DELETE", f"/v1/reseller/offers/{glue}", m.rhine)
    world.catalog(m.muster)
    placed = world.ok("POST", f"{path}/order", colleague, json={"payment_method": "card"})
    assert placed["skipped"] == [{"product_id": glue, "problem": "not in your catalog"}]
    [so] = placed["seller_orders"]
    assert sorted((ln["product_id"], ln["quantity"]) for ln in so["lines"]) == sorted(
        [(drill, 2), (saw, 4)]
    )
    assert placed["placed_by"]["user_id"] == colleague.user_id

    # Some products only; a product not on the list is refused.
    some = world.ok(
        "POST", f"{path}/order", colleague, json={"payment_method": "card", "product_ids": [saw]}
    )
    assert [ln["product_id"] for ln in some["seller_orders"][0]["lines"]] == [saw]
    stranger = {"payment_method": "card", "product_ids": [m.rhine.id]}
    assert world.call("POST", f"{path}/order", colleague, json=stranger).status_code == 422
    nothing = world.call(
        "POST", f"{path}/order", colleague, json={"payment_method": "card", "product_ids": [glue]}
    )
    assert nothing.status_code == 422


def test_an_editable_list_is_changed_by_colleagues_and_a_past_order_is_placed_again(
    world: World,
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    saw = world.product(m.acme, "SAW")
    world.offer(m.rhine, drill, 1_000)
    world.offer(m.danube, saw, 700)
    world.terms(m.rhine, m.muster)
    world.terms(m.danube, m.muster)
    world.catalog(m.muster)
    colleague = world.user(m.muster, "buyer")
    shared = world.ok("POST", "/v1/buyer/lists", m.muster, json={"name": "Site", "sharing": "edit"})
    path = f"/v1/buyer/lists/{shared['list_id']}"
    world.ok("PUT", f"{path}/lines/{drill}", colleague, json={"quantity": 3})
    world.ok("DELETE", f"{path}/lines/{drill}", m.muster)
    assert world.ok("GET", path, colleague)["lines"] == []
    assert world.call("DELETE", f"{path}/lines/{drill}", m.muster).status_code == 404
    bad = world.call("PUT", f"{path}/lines/{drill}", m.muster, json={"quantity": 0})
    assert bad.status_code == 422

    first = world.ok(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={
            "lines": [{"product_id": drill, "quantity": 2}, {"product_id": saw, "quantity": 6}],
            "payment_method": "card",
        },
    )
    again = world.ok(
        "POST",
        f"/v1/buyer/orders/{first['order_id']}/reorder",
        colleague,
        json={"payment_method": "card"},
    )
    assert again["order_id"] != first["order_id"]
    assert again["skipped"] == []
    assert again["total"] == first["total"]
    assert len(again["seller_orders"]) == 2
    other = world.buyer("Other AG")
    elsewhere = world.call(
        "POST",
        f"/v1/buyer/orders/{first['order_id']}/reorder",
        other,
        json={"payment_method": "card"},
    )
    assert elsewhere.status_code == 404


def test_the_list_pages_let_only_the_owner_change_a_read_only_list(
    world: World, marketplace: Marketplace
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000)
    world.terms(m.rhine, m.muster)
    for name, email in (("Ada", "ada@muster.example"), ("Bo", "bo@muster.example")):
        body = {"name": name, "role": "buyer", "email": email, "password": PASSWORD}
        world.ok("POST", "/v1/buyer/users", m.muster, json=body)
    settle(marketplace)
    ada = TestClient(create_app(marketplace, start=False))
    bo = TestClient(create_app(marketplace, start=False))
    for client, email in ((ada, "ada@muster.example"), (bo, "bo@muster.example")):
        client.__enter__()
        assert sign_in(client, email).status_code == 303
    made = ada.post(
        "/lists",
        data={"csrf_token": csrf(ada, "/lists"), "name": "Shelf", "sharing": "read"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    path = made.headers["location"]
    added = ada.post(
        f"{path}/lines",
        data={"csrf_token": csrf(ada, path), "sku": "DRILL", "quantity": "2"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    unknown = ada.post(
        f"{path}/lines", data={"csrf_token": csrf(ada, path), "sku": "NOPE", "quantity": "1"}
    )
    assert unknown.status_code == 422
    settle(marketplace)
    assert "Shelf" in bo.get("/lists").text
    seen = bo.get(path).text
    assert "Order this list" in seen
    assert "Save" not in seen
    refused = bo.post(
        f"{path}/lines",
        data={"csrf_token": csrf(bo, path), "product_id": drill, "quantity": "5"},
    )
    assert refused.status_code == 403
    ordered = bo.post(
        f"{path}/order",
        data={"csrf_token": csrf(bo, path), "payment_method": "card"},
        follow_redirects=False,
    )
    assert ordered.status_code == 303
    assert "Your order was placed." in bo.get(ordered.headers["location"]).text
