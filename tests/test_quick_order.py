"""Quick order through the API: a buyer pastes `sku, quantity` lines from its ERP, learns per
line what it would get or why not, and places what resolved as one split order."""

from typing import Any

import pytest

from tests.world import World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_a_50_line_csv_reports_three_bad_lines_and_the_rest_is_placed_as_one_split_order(
    world: World,
) -> None:
    m = small_market(world)
    skus = [f"Q-{i:02d}" for i in range(47)]
    for i, sku in enumerate(skus):
        pid = world.product(m.acme, sku)
        # Rhine is cheaper on even products, Danube on odd ones: the order splits in two.
        world.offer(m.rhine, pid, 1_000 if i % 2 == 0 else 1_200, stock=100)
        world.offer(m.danube, pid, 1_200 if i % 2 == 0 else 1_000, stock=100)
    scarce = world.product(m.acme, "SCARCE")
    world.offer(m.rhine, scarce, 1_000, stock=2)
    bulky = world.product(m.acme, "BULKY")
    world.offer(m.rhine, bulky, 1_000, stock=500, min_order_qty=50)
    world.terms(m.rhine, m.muster)
    world.terms(m.danube, m.muster)
    world.catalog(m.muster)
    rows = ["sku,quantity", *[f"{sku},3" for sku in skus], "NOPE-1,1", "SCARCE,5", "BULKY,10"]

    # One answer per line, the three bad ones explained.
    answer = world.ok(
        "POST",
        "/v1/buyer/quick-order",
        m.muster,
        content="\n".join(rows),
        headers={"Content-Type": "text/csv"},
        params={"min_position": world.position},
    )
    lines: list[dict[str, Any]] = answer["lines"]
    assert len(lines) == 50
    problems = {line["sku"]: line["problem"] for line in lines if "problem" in line}
    assert problems == {
        "NOPE-1": "unknown SKU",
        "SCARCE": "not enough stock: at most 2 available from one seller",
        "BULKY": "below the minimum quantity: at least 50",
    }
    first = next(line for line in lines if line["sku"] == "Q-00")
    assert first["line"] == 2
    assert first["reseller_id"] == m.rhine.id
    assert first["unit_price"] == {"amount": 1_000, "currency": "EUR"}

    # What resolved is placed as it stands: one order, split between the two sellers.
    placed = world.ok(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={"lines": answer["order_lines"], "payment_method": "card"},
    )
    assert len(answer["order_lines"]) == 47
    assert sorted(so["reseller_id"] for so in placed["seller_orders"]) == sorted(
        [m.rhine.id, m.danube.id]
    )
    assert placed["total"] == [{"amount": 47 * 3 * 1_000, "currency": "EUR"}]


def test_json_lines_are_summed_checked_and_limited(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 2_500, stock=10, tiers=[(5, 2_000)])
    hidden = world.product(m.acme, "HIDDEN")
    world.offer(m.danube, hidden, 100)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)

    def quick(body: Any) -> Any:
        return world.call("POST", "/v1/buyer/quick-order", m.muster, json=body)

    answer = quick(
        {
            "lines": [
                {"sku": "DRILL", "quantity": 3},
                {"sku": "HIDDEN", "quantity": 1},
                {"sku": "DRILL", "quantity": 2},
            ]
        }
    ).json()
    # The same SKU twice is summed onto its first line, and the tier price applies to it.
    assert answer["lines"] == [
        {
            "line": 1,
            "sku": "DRILL",
            "quantity": 5,
            "product_id": drill,
            "reseller_id": m.rhine.id,
            "reseller_name": "Rhine Supply",
            "unit_price": {"amount": 2_000, "currency": "EUR"},
        },
        {"line": 2, "sku": "HIDDEN", "quantity": 1, "problem": "not in your catalog"},
    ]
    assert quick({"lines": []}).status_code == 422
    assert quick({"lines": [{"sku": "DRILL", "quantity": 0}]}).status_code == 422
    too_many = {"lines": [{"sku": f"S{i}", "quantity": 1} for i in range(1001)]}
    assert quick(too_many).status_code == 422
    seller = world.call("POST", "/v1/buyer/quick-order", m.rhine, json={"lines": []})
    assert seller.status_code == 403
    bad_text = world.call(
        "POST",
        "/v1/buyer/quick-order",
        m.muster,
        content=b"\xff\xfe",
        headers={"Content-Type": "text/plain"},
    )
    assert bad_text.status_code == 422


def test_with_a_payment_method_each_line_names_the_seller_placement_chooses_for_it(
    world: World,
) -> None:
    m = small_market(world)
    pid = world.product(m.acme, "PAY-1")
    # Rhine is cheaper but takes cards only from this buyer; Danube also takes invoices.
    world.offer(m.rhine, pid, 1_000, stock=10)
    world.offer(m.danube, pid, 1_100, stock=10)
    world.terms(m.rhine, m.muster, payment_methods=["card"])
    world.terms(m.danube, m.muster, payment_methods=["card", "invoice_net_30"])
    world.catalog(m.muster)

    def quick(**how: Any) -> dict[str, Any]:
        answer: dict[str, Any] = world.ok(
            "POST",
            "/v1/buyer/quick-order",
            m.muster,
            params={"min_position": world.position},
            **how,
        )
        return answer

    lines = [{"sku": "PAY-1", "quantity": 2}]
    assert quick(json={"lines": lines})["lines"][0]["reseller_id"] == m.rhine.id
    by_invoice = quick(json={"lines": lines, "payment_method": "invoice_net_30"})
    assert by_invoice["lines"][0]["reseller_id"] == m.danube.id
    assert by_invoice["lines"][0]["unit_price"] == {"amount": 1_100, "currency": "EUR"}
    as_csv = world.ok(
        "POST",
        "/v1/buyer/quick-order",
        m.muster,
        content="PAY-1,2",
        headers={"Content-Type": "text/csv"},
        params={"min_position": world.position, "payment_method": "invoice_net_30"},
    )
    assert as_csv["order_lines"] == by_invoice["order_lines"]
    placed = world.ok(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={"lines": [{"product_id": pid, "quantity": 2}], "payment_method": "invoice_net_30"},
    )
    assert placed["seller_orders"][0]["reseller_id"] == m.danube.id
    # No seller takes the method: the line says so, and placement refuses it.
    world.terms(m.danube, m.muster, payment_methods=["card"])
    refused = quick(json={"lines": lines, "payment_method": "invoice_net_30"})["lines"][0]
    assert refused["problem"] == "no seller of it accepts invoice_net_30 from you"
    assert (
        world.call(
            "POST",
            "/v1/buyer/quick-order",
            m.muster,
            json={"lines": lines, "payment_method": "cash"},
        ).status_code
        == 422
    )
