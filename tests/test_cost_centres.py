"""Cost centres: an admin defines them and assigns users; every order books to one, the one
it names or else its placing user's."""

import pytest

from tests.world import World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_orders_book_to_the_named_cost_centre_or_else_the_users(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    colleague = world.user(m.muster, "buyer")

    site = {"name": "Plant Nord", "code": "CC-100", "shipping_addresses": [{"city": "Kiel"}]}
    nord = world.ok("POST", "/v1/buyer/cost-centres", m.muster, json=site)["cost_centre_id"]
    office = world.ok(
        "POST", "/v1/buyer/cost-centres", m.muster, json={"name": "Office", "code": "CC-200"}
    )["cost_centre_id"]
    again = world.call(
        "POST", "/v1/buyer/cost-centres", m.muster, json={"name": "X", "code": "CC-100"}
    )
    assert again.status_code == 409
    not_admin = world.call(
        "POST", "/v1/buyer/cost-centres", colleague, json={"name": "Y", "code": "Y"}
    )
    assert not_admin.status_code == 403
    path = f"/v1/buyer/users/{colleague.user_id}/cost-centre"
    world.ok("PUT", path, m.muster, json={"cost_centre_id": nord})
    assert world.call("PUT", path, colleague, json={"cost_centre_id": office}).status_code == 403
    unknown = world.call("PUT", path, m.muster, json={"cost_centre_id": m.rhine.id})
    assert unknown.status_code == 404
    listed = world.ok("GET", "/v1/buyer/cost-centres", m.muster)["items"]
    assert {(c["code"], tuple(c["user_ids"])) for c in listed} == {
        ("CC-100", (colleague.user_id,)),
        ("CC-200", ()),
    }

    def order(body_extra: dict[str, str]) -> dict[str, object]:
        body = {"lines": [{"product_id": drill, "quantity": 1}], "payment_method": "card"}
        answer: dict[str, object] = world.ok(
            "POST", "/v1/buyer/orders", colleague, json={**body, **body_extra}
        )
        return answer

    assert order({})["cost_centre_id"] == nord
    assert order({"cost_centre_id": office})["cost_centre_id"] == office
    refused = world.call(
        "POST",
        "/v1/buyer/orders",
        colleague,
        json={
            "lines": [{"product_id": drill, "quantity": 1}],
            "payment_method": "card",
            "cost_centre_id": m.bolt.id,
        },
    )
    assert refused.status_code == 404
    placed = world.ok(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={"lines": [{"product_id": drill, "quantity": 1}], "payment_method": "card"},
    )
    assert placed["cost_centre_id"] is None
