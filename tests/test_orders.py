"""Split orders: one buyer order across resellers, fulfilled, rerouted and paid for."""

from typing import Any

from tests.world import Actor, Market, World, eur, small_market


def order(
    world: World,
    buyer: Actor,
    lines: list[tuple[str, int, Actor | None]],
    payment_method: str = "card",
    **extra: Any,
) -> Any:
    body = {
        "lines": [
            {"product_id": pid, "quantity": q, **({"reseller_id": r.id} if r is not None else {})}
            for pid, q, r in lines
        ],
        "payment_method": payment_method,
        **extra,
    }
    return world.call("POST", "/v1/buyer/orders", buyer, json=body)


def _seller_orders(placed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {so["reseller_id"]: so for so in placed["seller_orders"]}


def _stock(world: World, buyer: Actor, product_id: str) -> dict[str, int]:
    item = world.view(f"/v1/buyer/catalog/{product_id}", buyer).json()
    return {o["reseller_id"]: o["stock"] for o in item["offers"]}


def three_sellers(world: World) -> tuple[Market, Actor, list[str]]:
    m = small_market(world)
    third = world.reseller("Third Wholesale", "wholesaler")
    world.authorize(m.acme, third)
    products = [world.product(m.acme, f"P{i}", price=10_000) for i in range(6)]
    for i, pid in enumerate(products):
        world.offer(m.rhine, pid, 5_000 + i, stock=50, lead_time_days=2)
        world.offer(m.danube, pid, 5_100 + i, stock=50, lead_time_days=1)
        world.offer(third, pid, 5_200 + i, stock=50, lead_time_days=5)
    for reseller in (m.rhine, m.danube, third):
        world.terms(reseller, m.muster, credit_limit=10_000_000)
    for reseller, rate in ((m.rhine, 1_000), (m.danube, 500), (third, 250)):
        world.ok(
            "PUT",
            f"/v1/operator/resellers/{reseller.id}/commission",
            world.operator,
            json={"rate_bps": rate},
        )
    return m, third, products


def test_one_order_across_three_resellers_is_split_refused_rerouted_shipped_and_delivered(
    world: World,
) -> None:
    m, third, p = three_sellers(world)
    # Muster orders six lines: two pinned to Danube, one to Third, three left to the market.
    response = order(
        world,
        m.muster,
        [
            (p[0], 2, None),
            (p[1], 3, None),
            (p[2], 4, m.danube),
            (p[3], 1, m.danube),
            (p[4], 5, third),
            (p[5], 6, None),
        ],
        po_number="PO-77",
    )
    assert response.status_code == 201, response.text
    placed = response.json()
    assert placed["status"] == "placed"
    split = _seller_orders(placed)
    assert set(split) == {m.rhine.id, m.danube.id, third.id}
    # Unpinned lines go to Rhine, the cheapest; prices are the buyer's, frozen on the order.
    assert [
        (line["product_id"], line["quantity"], line["unit_price"])
        for line in split[m.rhine.id]["lines"]
    ] == [(p[0], 2, eur(5_000)), (p[1], 3, eur(5_001)), (p[5], 6, eur(5_005))]
    assert placed["total"] == [
        eur(2 * 5_000 + 3 * 5_001 + 6 * 5_005 + 4 * 5_102 + 5_103 + 5 * 5_204)
    ]
    assert _stock(world, m.muster, p[2]) == {m.rhine.id: 50, m.danube.id: 46, third.id: 50}
    # Danube refuses: its lines go to the next best offer that is not Danube's: Rhine's.
    danube_order = split[m.danube.id]["seller_order_id"]
    refused = world.ok(
        "POST",
        f"/v1/reseller/orders/{danube_order}/refuse",
        m.danube,
        json={"reason": "warehouse flooded"},
    )
    assert refused["status"] == "refused"
    now = world.ok("GET", f"/v1/buyer/orders/{placed['order_id']}", m.muster)
    by_status = sorted((so["reseller_id"], so["status"]) for so in now["seller_orders"])
    assert by_status == sorted(
        [
            (m.rhine.id, "awaiting_acceptance"),
            (m.danube.id, "refused"),
            (third.id, "awaiting_acceptance"),
            (m.rhine.id, "awaiting_acceptance"),
        ]
    )
    assert _stock(world, m.muster, p[2]) == {m.rhine.id: 46, m.danube.id: 50, third.id: 50}
    # Everyone still in accepts; Rhine ships its first order in two parts.
    active = [so for so in now["seller_orders"] if so["status"] != "refused"]
    owners = {m.rhine.id: m.rhine, third.id: third}
    for so in active:
        world.ok(
            "POST", f"/v1/reseller/orders/{so['seller_order_id']}/accept", owners[so["reseller_id"]]
        )
    first = next(so for so in active if so["reseller_id"] == m.rhine.id and len(so["lines"]) == 3)
    part = world.ok(
        "POST",
        f"/v1/reseller/orders/{first['seller_order_id']}/ship",
        m.rhine,
        json={
            "tracking": "DHL-1",
            "lines": [{"product_id": p[0], "quantity": 2}, {"product_id": p[5], "quantity": 1}],
        },
    )
    assert part["status"] == "partially_shipped"
    assert (
        world.ok("GET", f"/v1/buyer/orders/{placed['order_id']}", m.muster)["status"]
        == "partially_shipped"
    )
    rest = world.ok(
        "POST",
        f"/v1/reseller/orders/{first['seller_order_id']}/ship",
        m.rhine,
        json={"tracking": "DHL-2"},
    )
    assert rest["status"] == "shipped"
    assert rest["tracking"] == ["DHL-1", "DHL-2"]
    for so in active:
        if so["seller_order_id"] != first["seller_order_id"]:
            world.ok(
                "POST",
                f"/v1/reseller/orders/{so['seller_order_id']}/ship",
                owners[so["reseller_id"]],
            )
    assert (
        world.ok("GET", f"/v1/buyer/orders/{placed['order_id']}", m.muster)["status"] == "shipped"
    )
    for so in active:
        world.ok(
            "POST",
            f"/v1/reseller/orders/{so['seller_order_id']}/deliver",
            owners[so["reseller_id"]],
        )
    final = world.ok("GET", f"/v1/buyer/orders/{placed['order_id']}", m.muster)
    assert final["status"] == "delivered"
    # The lists agree, and commissions add up over delivered seller orders only.
    listed = world.view("/v1/buyer/orders", m.muster).json()["items"]
    assert [(o["order_id"], o["status"]) for o in listed] == [(placed["order_id"], "delivered")]
    rhine_gmv = 2 * 5_000 + 3 * 5_001 + 6 * 5_005 + 4 * 5_002 + 5_003
    third_gmv = 5 * 5_204
    commissions = {
        c["reseller_id"]: c for c in world.view("/v1/operator/commissions", world.operator).json()
    }
    assert commissions[m.rhine.id]["gmv"] == rhine_gmv
    # Commission is rounded per seller order: Rhine has its own and the rerouted one.
    assert commissions[m.rhine.id]["commission"] == sum(
        (gmv * 1_000 + 5_000) // 10_000
        for gmv in (2 * 5_000 + 3 * 5_001 + 6 * 5_005, 4 * 5_002 + 5_003)
    )
    assert commissions[third.id]["gmv"] == third_gmv
    assert commissions[third.id]["commission"] == (third_gmv * 250 + 5_000) // 10_000
    assert m.danube.id not in commissions
    assert world.view("/v1/reseller/orders", m.danube, status="refused").json()["items"]


def test_an_order_that_cannot_be_placed_names_each_failing_line_and_holds_nothing(
    world: World,
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    saw = world.product(m.acme, "SAW")
    hidden = world.product(m.acme, "HIDDEN")
    world.offer(m.rhine, drill, 1_000, stock=5)
    world.offer(m.rhine, saw, 1_000, stock=5, min_order_qty=10)
    world.offer(m.rhine, hidden, 1_000, stock=5)
    world.terms(m.rhine, m.muster, catalog={"product_ids": [drill, saw]})
    response = order(world, m.muster, [(drill, 6, None), (saw, 2, None), (hidden, 1, None)])
    assert response.status_code == 404
    problems = response.json()["detail"]
    assert sorted((p["line"], p["status"]) for p in problems) == [(0, 409), (1, 422), (2, 404)]
    # Only the stock problem left: 409, and still nothing held.
    response = order(world, m.muster, [(drill, 6, None)])
    assert response.status_code == 409
    assert _stock(world, m.muster, drill) == {m.rhine.id: 5}
    assert world.view("/v1/buyer/orders", m.muster).json()["items"] == []


def test_payment_methods_and_credit_limits_are_enforced(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=100)
    world.terms(m.rhine, m.muster, payment_methods=["card"])
    response = order(world, m.muster, [(drill, 1, None)], "invoice_net_30")
    assert response.status_code == 422
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=5_000)
    first = order(world, m.muster, [(drill, 3, None)], "invoice_net_30")
    assert first.status_code == 201
    # 3000 of 5000 used: another 3000 is over the limit.
    over = order(world, m.muster, [(drill, 3, None)], "invoice_net_30")
    assert over.status_code == 402
    assert _stock(world, m.muster, drill) == {m.rhine.id: 97}
    # Cancelling the first order frees its credit.
    so = first.json()["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so}/cancel", m.rhine, json={"reason": "no truck"})
    assert order(world, m.muster, [(drill, 5, None)], "invoice_net_30").status_code == 201
    assert _stock(world, m.muster, drill) == {m.rhine.id: 95}


def test_an_order_over_the_spending_limit_waits_for_an_approver(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=10)
    world.terms(m.rhine, m.muster)
    shopper = world.user(m.muster, "buyer", spending_limit=2_500)
    approver = world.user(m.muster, "approver")
    small = order(world, shopper, [(drill, 2, None)])
    assert small.json()["status"] == "placed"
    big = order(world, shopper, [(drill, 3, None)]).json()
    assert big["status"] == "pending_approval"
    assert _stock(world, m.muster, drill) == {m.rhine.id: 5}
    # The seller cannot act on it yet, and it is not in its list.
    so = big["seller_orders"][0]["seller_order_id"]
    assert world.call("POST", f"/v1/reseller/orders/{so}/accept", m.rhine).status_code == 404
    # A buyer cannot approve; the approver can.
    path = f"/v1/buyer/orders/{big['order_id']}"
    assert world.call("POST", f"{path}/approve", shopper).status_code == 403
    assert world.ok("POST", f"{path}/approve", approver)["status"] == "placed"
    assert world.call("POST", f"{path}/approve", approver).status_code == 409
    world.ok("POST", f"/v1/reseller/orders/{so}/accept", m.rhine)
    # A rejected order gives back its stock.
    again = order(world, shopper, [(drill, 4, None)]).json()
    assert again["status"] == "pending_approval"
    assert _stock(world, m.muster, drill) == {m.rhine.id: 1}
    rejected = world.ok("POST", f"/v1/buyer/orders/{again['order_id']}/reject", m.muster)
    assert rejected["status"] == "rejected"
    assert _stock(world, m.muster, drill) == {m.rhine.id: 5}
    # Another organisation never sees the order.
    assert world.call("GET", path, m.bolt).status_code == 404


def test_a_sales_rep_orders_for_its_accounts_from_its_own_reseller_only(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=10)
    world.offer(m.danube, drill, 900, stock=10)
    for reseller in (m.rhine, m.danube):
        world.terms(reseller, m.muster)
    rep = world.sales_rep(m.rhine, [m.muster])
    body = {"lines": [{"product_id": drill, "quantity": 2}], "payment_method": "card"}
    placed = world.ok("POST", f"/v1/sales-rep/accounts/{m.muster.id}/orders", rep, json=body)
    # Danube is cheaper, but the rep's order goes to Rhine, and says who placed it.
    assert [so["reseller_id"] for so in placed["seller_orders"]] == [m.rhine.id]
    assert placed["placed_by"]["kind"] == "sales_rep"
    assert placed["placed_by"]["sales_rep_id"] == rep.id
    pinned = {**body, "lines": [{"product_id": drill, "quantity": 1, "reseller_id": m.danube.id}]}
    assert (
        world.call(
            "POST", f"/v1/sales-rep/accounts/{m.muster.id}/orders", rep, json=pinned
        ).status_code
        == 403
    )
    assert (
        world.call("POST", f"/v1/sales-rep/accounts/{m.bolt.id}/orders", rep, json=body).status_code
        == 403
    )
    listed = world.view("/v1/buyer/orders", m.muster).json()["items"]
    assert [o["placed_by"]["kind"] for o in listed] == ["sales_rep"]


def test_illegal_transitions_are_conflicts_and_a_retried_order_is_placed_once(
    world: World,
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=10)
    world.terms(m.rhine, m.muster)
    body = {"lines": [{"product_id": drill, "quantity": 2}], "payment_method": "card"}
    headers = {"Idempotency-Key": "order-1"}
    first = world.call("POST", "/v1/buyer/orders", m.muster, json=body, headers=headers)
    again = world.call("POST", "/v1/buyer/orders", m.muster, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["order_id"] == again.json()["order_id"]
    assert _stock(world, m.muster, drill) == {m.rhine.id: 8}
    so = first.json()["seller_orders"][0]["seller_order_id"]
    path = f"/v1/reseller/orders/{so}"
    assert world.call("POST", f"{path}/ship", m.rhine).status_code == 409
    assert world.call("POST", f"{path}/deliver", m.rhine).status_code == 409
    world.ok("POST", f"{path}/accept", m.rhine)
    assert world.call("POST", f"{path}/accept", m.rhine).status_code == 409
    assert (
        world.call(
            "POST", f"{path}/ship", m.rhine, json={"lines": [{"product_id": drill, "quantity": 3}]}
        ).status_code
        == 422
    )
    world.ok("POST", f"{path}/ship", m.rhine)
    assert world.call("POST", f"{path}/cancel", m.rhine, json={"reason": "x"}).status_code == 409
    assert world.call("POST", f"{path}/accept", m.danube).status_code == 404


def test_an_order_a_crash_left_half_placed_is_finished_on_start(
    world: World, marketplace: Any
) -> None:
    from uuid import UUID

    from orders.choosing import LineRequest

    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=10)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    placement = marketplace.placement
    # The process dies after drafting the order, before holding any stock.
    choice = placement.chooser.choose(
        UUID(m.muster.id), 0, LineRequest(UUID(drill), 4, None), "card", None, set()
    )
    draft = placement._drafted(
        placement.chooser.lookups(),
        UUID(m.muster.id),
        {"kind": "buyer_user", "user_id": m.muster.user_id},
        "card",
        None,
        None,
        [LineRequest(UUID(drill), 4, None)],
        {UUID(m.rhine.id): [choice]},
        {},
    )
    order = placement._saved(draft).order
    assert marketplace.orders.order(order.id).stage == "placing"
    # On the next start, the marketplace finishes what it began: stock held, order placed.
    assert marketplace.projections.wait(
        "orders", marketplace.heads(), 10, deliver=marketplace.in_process
    )
    assert marketplace.recover_orders(older_than_s=0) == 1
    placed = world.ok("GET", f"/v1/buyer/orders/{order.id}", m.muster)
    assert placed["status"] == "placed"
    assert marketplace.offers.offer(UUID(m.rhine.id), UUID(drill)).stock == 6
    # Finishing it again changes nothing.
    placement.recover(order.id)
    assert marketplace.offers.offer(UUID(m.rhine.id), UUID(drill)).stock == 6
