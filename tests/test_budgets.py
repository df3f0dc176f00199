"""Budgets per cost centre through the API: `block` refuses an order beyond it (402 with what
remains), `require_approval` sends it to approval, `warn` places it flagged; the ledger's
numbers after refusal, cancellation, rejection and delivery; and orders racing for the last
of a budget never overspend it."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from marketplace.kernel.errors import DomainError
from marketplace.platform import Marketplace
from orders.budgets import Budget
from orders.choosing import LineRequest
from tests.world import Actor, Market, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)
DAY0 = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)


def budgeted(world: World, enforcement: str, amount: int) -> tuple[Market, str, Actor, str]:
    """A buyer user booking to a cost centre with a budget; drills at 10.00 from Rhine."""
    world.ok("PUT", "/v1/operator/clock", world.operator, json={"now": DAY0.isoformat()})
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 10_00, stock=1_000)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    user = world.user(m.muster, "buyer")
    centre = world.ok(
        "POST", "/v1/buyer/cost-centres", m.muster, json={"name": "Plant", "code": "P"}
    )
    centre_id = centre["cost_centre_id"]
    world.ok(
        "PUT",
        f"/v1/buyer/users/{user.user_id}/cost-centre",
        m.muster,
        json={"cost_centre_id": centre_id},
    )
    made = world.ok(
        "POST",
        "/v1/buyer/budgets",
        m.muster,
        json={
            "cost_centre_id": centre_id,
            "amount": eur(amount),
            "starts_on": "2027-05-01",
            "ends_on": "2027-05-31",
            "enforcement": enforcement,
        },
    )
    return m, drill, user, made["budget_id"]


def order(world: World, user: Actor, drill: str, quantity: int) -> Any:
    body = {"lines": [{"product_id": drill, "quantity": quantity}], "payment_method": "card"}
    return world.call("POST", "/v1/buyer/orders", user, json=body)


def figures(world: World, m: Market, budget_id: str) -> tuple[int, int, int]:
    b = world.ok("GET", f"/v1/buyer/budgets/{budget_id}", m.muster)
    return b["reserved"]["amount"], b["consumed"]["amount"], b["remaining"]["amount"]


def test_a_block_budget_refuses_beyond_it_and_its_ledger_follows_the_orders(world: World) -> None:
    m, drill, user, budget_id = budgeted(world, "block", 50_00)

    # 30.00 is reserved; 30.00 more would go beyond the 20.00 left: 402, saying so.
    first = order(world, user, drill, 3)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "placed"
    refused = order(world, user, drill, 3)
    assert refused.status_code == 402
    assert "20.00 EUR remains" in refused.json()["detail"]
    assert figures(world, m, budget_id) == (30_00, 0, 20_00)

    # The seller cancels: the reservation is released.
    so = first.json()["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so}/cancel", m.rhine, json={"reason": "gone"})
    assert figures(world, m, budget_id) == (0, 0, 50_00)

    # Delivered: consumed. Refused (and not rerouted): released.
    second = order(world, user, drill, 2).json()["seller_orders"][0]["seller_order_id"]
    for step in ("accept", "ship", "deliver"):
        world.ok("POST", f"/v1/reseller/orders/{second}/{step}", m.rhine)
    third = order(world, user, drill, 1).json()["seller_orders"][0]["seller_order_id"]
    assert figures(world, m, budget_id) == (10_00, 20_00, 20_00)
    world.ok("POST", f"/v1/reseller/orders/{third}/refuse", m.rhine, json={"reason": "no"})
    assert figures(world, m, budget_id) == (0, 20_00, 30_00)

    # A credit note for a returned drill gives its amount back to the budget.
    asked = world.ok(
        "POST",
        "/v1/buyer/returns",
        user,
        json={
            "seller_order_id": second,
            "lines": [{"product_id": drill, "quantity": 1}],
            "reason": "broken",
        },
    )
    world.ok("POST", f"/v1/reseller/returns/{asked['return_id']}/accept", m.rhine, json={})
    assert figures(world, m, budget_id) == (0, 10_00, 40_00)

    entries = world.ok("GET", f"/v1/buyer/budgets/{budget_id}", m.muster)["entries"]
    assert [e["kind"] for e in entries] == [
        "reserve",
        "release",
        "reserve",
        "consume",
        "reserve",
        "release",
        "credit",
    ]
    # Nothing is stored that the entries do not add up to.
    sign = {"reserve": 1, "release": -1, "consume": -1, "credit": 0}
    assert sum(e["amount"]["amount"] * sign[e["kind"]] for e in entries) == 0

    # Only admins set budgets; a buyer user cannot read them.
    assert world.call("GET", f"/v1/buyer/budgets/{budget_id}", user).status_code == 403
    other = world.buyer("Other AG")
    assert world.call("GET", f"/v1/buyer/budgets/{budget_id}", other).status_code == 404


def test_require_approval_sends_an_order_over_budget_to_approval_and_a_rejection_releases(
    world: World,
) -> None:
    m, drill, user, budget_id = budgeted(world, "require_approval", 10_00)
    within = order(world, user, drill, 1).json()
    assert within["status"] == "placed"
    over = order(world, user, drill, 2).json()
    assert over["status"] == "pending_approval"
    assert figures(world, m, budget_id) == (30_00, 0, -20_00)
    world.ok("POST", f"/v1/buyer/orders/{over['order_id']}/reject", m.muster)
    assert figures(world, m, budget_id) == (10_00, 0, 0)


def test_a_warn_budget_places_the_order_and_flags_it(world: World) -> None:
    m, drill, user, budget_id = budgeted(world, "warn", 10_00)
    placed = order(world, user, drill, 3)
    assert placed.status_code == 201
    assert placed.json()["status"] == "placed"
    entries = world.ok("GET", f"/v1/buyer/budgets/{budget_id}", m.muster)["entries"]
    assert [(e["kind"], e["over_budget"]) for e in entries] == [("reserve", True)]


def test_budgets_refuse_bad_terms_and_overlaps(world: World) -> None:
    m, _, user, _ = budgeted(world, "block", 10_00)
    centre = world.ok("GET", "/v1/buyer/cost-centres", m.muster)["items"][0]["cost_centre_id"]
    base = {
        "cost_centre_id": centre,
        "amount": eur(10_00),
        "starts_on": "2027-06-01",
        "ends_on": "2027-06-30",
        "enforcement": "block",
    }

    def status(body: dict[str, Any], who: Actor | None = None) -> int:
        code: int = world.call("POST", "/v1/buyer/budgets", who or m.muster, json=body).status_code
        return code

    assert status({**base, "starts_on": "2027-05-20"}) == 409
    assert status({**base, "ends_on": "2027-05-01"}) == 422
    assert status({**base, "amount": eur(0)}) == 422
    assert status({**base, "enforcement": "maybe"}) == 422
    assert status({**base, "cost_centre_id": str(uuid4())}) == 404
    assert status(base, user) == 403
    assert status(base) == 201


def test_orders_racing_for_the_last_of_a_budget_never_overspend_it(
    world: World, marketplace: Marketplace
) -> None:
    m, drill, user, budget_id = budgeted(world, "block", 100_00)

    def place(_: int) -> str:
        try:
            marketplace.placement.place(
                UUID(m.muster.id),
                {"kind": "buyer_user", "user_id": user.user_id or "", "name": "racer"},
                None,
                [LineRequest(UUID(drill), 1, None)],
                "card",
                None,
                None,
            )
            return "placed"
        except DomainError as error:
            return error.reason.value

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(place, range(16)))
    assert outcomes.count("placed") == 10, outcomes
    assert set(outcomes) == {"placed", "credit"}
    budget = marketplace.orders.find(UUID(budget_id), Budget)
    assert budget is not None
    assert (budget.reserved, budget.remaining) == (100_00, 0)
