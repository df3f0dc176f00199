"""Accounts act only once approved, and each principal only within its rights."""

from typing import Any

import pytest

from tests.world import Actor, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_an_account_acts_only_once_the_operator_approves_it(world: World) -> None:
    # A manufacturer signs up and gets a key, but is pending.
    created = world.ok("POST", "/v1/manufacturers", json={"name": "Acme", "country": "DE"})
    assert created["status"] == "pending"
    acme = Actor(created["id"], created["api_key"])
    body = {"name": "Drill", "brand": "Acme", "category": "tools", "list_price": eur(100)}
    assert world.call("PUT", "/v1/manufacturer/products/D1", acme, json=body).status_code == 403
    # The operator approves it; now it can publish.
    approved = world.ok("POST", f"/v1/operator/accounts/{acme.id}/approve", world.operator)
    assert approved == {"id": acme.id, "status": "approved"}
    assert world.call("PUT", "/v1/manufacturer/products/D1", acme, json=body).status_code == 201
    # Suspended, it can do nothing; approving does not lift a suspension, reinstating does.
    world.ok(
        "POST",
        f"/v1/operator/accounts/{acme.id}/suspend",
        world.operator,
        json={"reason": "unpaid fees"},
    )
    assert world.call("PUT", "/v1/manufacturer/products/D1", acme, json=body).status_code == 403
    assert (
        world.call("POST", f"/v1/operator/accounts/{acme.id}/approve", world.operator).status_code
        == 409
    )
    assert (
        world.ok("POST", f"/v1/operator/accounts/{acme.id}/reinstate", world.operator)["status"]
        == "approved"
    )
    assert world.call("PUT", "/v1/manufacturer/products/D1", acme, json=body).status_code == 200


def test_reinstating_an_account_that_was_never_suspended_is_a_conflict(world: World) -> None:
    buyer = world.buyer(approve=False)
    assert (
        world.call(
            "POST", f"/v1/operator/accounts/{buyer.id}/reinstate", world.operator
        ).status_code
        == 409
    )
    assert (
        world.call(
            "POST", f"/v1/operator/accounts/{world.operator_key}/approve", world.operator
        ).status_code
        == 422
    )
    unknown = "00000000-0000-0000-0000-000000000000"
    assert (
        world.call("POST", f"/v1/operator/accounts/{unknown}/approve", world.operator).status_code
        == 404
    )


def test_only_a_buyer_admin_adds_users_and_each_user_has_a_role(world: World) -> None:
    admin = world.buyer()
    approver = world.user(admin, "approver")
    buyer = world.user(admin, "buyer", spending_limit=50_000)
    for user in (approver, buyer):
        assert (
            world.call(
                "POST", "/v1/buyer/users", user, json={"name": "x", "role": "buyer"}
            ).status_code
            == 403
        )
    assert (
        world.call(
            "POST", "/v1/buyer/users", admin, json={"name": "x", "role": "owner"}
        ).status_code
        == 422
    )
    # Every user of the organisation can shop.
    for user in (admin, approver, buyer):
        assert world.call("GET", "/v1/buyer/catalog", user).status_code == 200


def test_the_commission_is_set_by_the_operator_in_basis_points(world: World) -> None:
    rhine = world.reseller()
    path = f"/v1/operator/resellers/{rhine.id}/commission"
    assert world.ok("PUT", path, world.operator, json={"rate_bps": 850})["rate_bps"] == 850
    assert world.call("PUT", path, world.operator, json={"rate_bps": 10_001}).status_code == 422
    assert world.call("PUT", path, rhine, json={"rate_bps": 0}).status_code == 403
    acme = world.manufacturer()
    assert (
        world.call(
            "PUT",
            f"/v1/operator/resellers/{acme.id}/commission",
            world.operator,
            json={"rate_bps": 100},
        ).status_code
        == 404
    )


def test_a_reseller_can_never_touch_another_resellers_offer(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 1_000, stock=10)
    world.terms(m.rhine, m.muster)
    # Danube addresses the same product: it can only ever reach its own (absent) offer.
    assert world.call("DELETE", f"/v1/reseller/offers/{drill}", m.danube).status_code == 404
    assert (
        world.call(
            "PUT", f"/v1/reseller/offers/{drill}/stock", m.danube, json={"quantity": 0}
        ).status_code
        == 404
    )
    [item] = world.catalog(m.muster)
    assert item["offers"][0]["stock"] == 10
    assert world.view("/v1/reseller/offers", m.danube).json()["items"] == []
    mine = world.view("/v1/reseller/offers", m.rhine).json()["items"]
    assert [(o["product_id"], o["stock"], o["status"]) for o in mine] == [(drill, 10, "active")]


def test_a_sales_rep_serves_only_its_assigned_buyers_and_sees_only_its_resellers_offers(
    world: World,
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 1_000)
    world.offer(m.danube, drill, 900)
    for reseller in (m.rhine, m.danube):
        world.terms(reseller, m.muster)
        world.terms(reseller, m.bolt)
    rep = world.sales_rep(m.rhine, [m.muster])
    accounts = world.ok("GET", "/v1/sales-rep/accounts", rep)["items"]
    assert [(a["buyer_id"], a["has_terms"]) for a in accounts] == [(m.muster.id, True)]
    response = world.view(f"/v1/sales-rep/accounts/{m.muster.id}/catalog", rep)
    assert response.status_code == 200
    [item] = response.json()["items"]
    # Danube is cheaper, but the rep only ever sees (and shows) its own reseller's offers.
    assert [o["reseller_id"] for o in item["offers"]] == [m.rhine.id]
    assert world.view(f"/v1/sales-rep/accounts/{m.bolt.id}/catalog", rep).status_code == 403
    # A rep of another reseller cannot be reassigned by Rhine.
    other = world.sales_rep(m.danube, [m.bolt])
    assert (
        world.call(
            "PUT",
            f"/v1/reseller/sales-reps/{other.id}/accounts",
            m.rhine,
            json={"buyer_ids": [m.muster.id]},
        ).status_code
        == 404
    )
    # Suspending the reseller silences its reps too.
    world.ok("POST", f"/v1/operator/accounts/{m.rhine.id}/suspend", world.operator)
    assert world.call("GET", "/v1/sales-rep/accounts", rep).status_code == 403


# The matrix: every endpoint in scope, called by every kind of caller.

UNKNOWN = "00000000-0000-0000-0000-000000000001"
ROLES = [
    "operator",
    "manufacturer",
    "reseller",
    "admin",
    "approver",
    "buyer",
    "sales_rep",
    "none",
    "unknown",
    "suspended_reseller",
    "pending_manufacturer",
]


@pytest.fixture
def cast(world: World) -> dict[str, Any]:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 1_000)
    world.terms(m.rhine, m.muster)
    suspended = world.reseller("Suspended")
    world.ok("POST", f"/v1/operator/accounts/{suspended.id}/suspend", world.operator)
    # Every view has taken in the set-up, so the calls below see it whatever the runtime mode.
    assert world.catalog(m.muster)
    return {
        "m": m,
        "drill": drill,
        "actors": {
            "operator": world.operator,
            "manufacturer": m.acme,
            "reseller": m.rhine,
            "admin": m.muster,
            "approver": world.user(m.muster, "approver"),
            "buyer": world.user(m.muster, "buyer", 10_000),
            "sales_rep": world.sales_rep(m.rhine, [m.muster]),
            "none": None,
            "unknown": Actor("x", "mk_s_" + "0" * 40),
            "suspended_reseller": suspended,
            "pending_manufacturer": world.manufacturer("Pending", approve=False),
        },
    }


def _endpoints(c: dict[str, Any]) -> list[tuple[str, str, Any, set[str], int]]:
    """(method, path, body, the roles allowed, the status an allowed role gets)"""
    m, drill = c["m"], c["drill"]
    product = {"name": "D", "brand": "Acme", "category": "tools", "list_price": eur(100)}
    offer = {"price": eur(1_000), "stock": 1, "lead_time_days": 1}
    terms = {"catalog": None, "payment_methods": ["card"]}
    buyers = {"admin", "approver", "buyer"}
    return [
        ("POST", f"/v1/operator/accounts/{m.bolt.id}/approve", {}, {"operator"}, 200),
        (
            "PUT",
            f"/v1/operator/resellers/{m.rhine.id}/commission",
            {"rate_bps": 5},
            {"operator"},
            200,
        ),
        ("GET", "/v1/operator/projections", None, {"operator"}, 200),
        ("PUT", "/v1/manufacturer/products/NEW-1", product, {"manufacturer"}, 201),
        ("GET", "/v1/manufacturer/products", None, {"manufacturer"}, 200),
        ("GET", f"/v1/manufacturer/imports/{UNKNOWN}", None, {"manufacturer"}, 404),
        ("PUT", f"/v1/manufacturer/authorizations/{m.danube.id}", {}, {"manufacturer"}, 200),
        ("PUT", f"/v1/reseller/offers/{drill}", offer, {"reseller"}, 200),
        ("PUT", f"/v1/reseller/offers/{drill}/stock", {"quantity": 3}, {"reseller"}, 200),
        ("GET", "/v1/reseller/offers", None, {"reseller"}, 200),
        ("PUT", f"/v1/reseller/customers/{m.bolt.id}", terms, {"reseller"}, 200),
        ("POST", "/v1/reseller/sales-reps", {"name": "Rep"}, {"reseller"}, 201),
        ("POST", "/v1/buyer/users", {"name": "U", "role": "buyer"}, {"admin"}, 201),
        ("GET", "/v1/buyer/catalog", None, buyers, 200),
        ("GET", f"/v1/buyer/catalog/{drill}", None, buyers, 200),
        ("GET", "/v1/sales-rep/accounts", None, {"sales_rep"}, 200),
        ("GET", f"/v1/sales-rep/accounts/{m.muster.id}/catalog", None, {"sales_rep"}, 200),
        ("DELETE", "/v1/manufacturer/products/NEW-1", None, {"manufacturer"}, 200),
        ("DELETE", f"/v1/reseller/offers/{drill}", None, {"reseller"}, 200),
        ("DELETE", f"/v1/manufacturer/authorizations/{m.danube.id}", None, {"manufacturer"}, 200),
    ]


def test_every_principal_gets_only_what_the_contract_allows(
    world: World, cast: dict[str, Any]
) -> None:
    failures = []
    for method, path, body, allowed, answer in _endpoints(cast):
        for role in ROLES:
            actor = cast["actors"][role]
            kwargs = {"json": body} if body is not None else {}
            status = world.call(method, path, actor, **kwargs).status_code
            if role in ("none", "unknown"):
                expected_ok = status == 401
            elif role in allowed:
                # Allowed through, to the endpoint's own answer (a 404 for an unknown job).
                expected_ok = status == answer
            else:
                expected_ok = status == 403
            if not expected_ok:
                failures.append((method, path, role, status))
    assert failures == []
