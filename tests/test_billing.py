"""Money after the order, told as the story the issue asks for: invoices per shipment, credit
released as they are paid, overdue invoices stopping orders on invoice, a return's credit
note, and a payout cycle that pays once. Both runtime modes."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.world import Actor, World, eur, small_market

DAY0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def set_clock(world: World, when: datetime) -> None:
    world.ok("PUT", "/v1/operator/clock", world.operator, json={"now": when.isoformat()})


def order(world: World, buyer: Actor, lines: list[tuple[str, int]], method: str) -> Any:
    return world.call(
        "POST",
        "/v1/buyer/orders",
        buyer,
        json={
            "lines": [{"product_id": p, "quantity": q} for p, q in lines],
            "payment_method": method,
            "po_number": "PO-77",
        },
    )


def invoices(world: World, actor: Actor, path: str, **params: Any) -> list[dict[str, Any]]:
    response = world.view(path, actor, **params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def credit_with(world: World, buyer: Actor, reseller: Actor) -> dict[str, Any]:
    rows = world.ok("GET", "/v1/buyer/credit", buyer)["items"]
    return next(r for r in rows if r["reseller_id"] == reseller.id)


def test_a_net_30_buyer_is_invoiced_pays_returns_and_its_seller_is_paid_out(world: World) -> None:
    m = small_market(world)
    set_clock(world, DAY0)
    world.ok(
        "PUT",
        f"/v1/operator/resellers/{m.rhine.id}/commission",
        world.operator,
        json={"rate_bps": 1000},
    )
    drill = world.product(m.acme, "DRILL")
    saw = world.product(m.acme, "SAW")
    world.offer(m.rhine, drill, 400_00, stock=50)
    world.offer(m.rhine, saw, 200_00, stock=100)
    world.terms(
        m.rhine, m.muster, payment_methods=["card", "invoice_net_30"], credit_limit=10_000_00
    )
    world.catalog(m.muster)

    # The buyer orders 8,000 on invoice, within its 10,000 limit.
    placed = order(world, m.muster, [(drill, 10), (saw, 20)], "invoice_net_30")
    assert placed.status_code == 201, placed.text
    seller_order = placed.json()["seller_orders"][0]["seller_order_id"]
    assert credit_with(world, m.muster, m.rhine)["remaining"] == eur(2_000_00)

    # The seller ships in two parts, ten days apart: two invoices, numbered 1 and 2.
    world.ok("POST", f"/v1/reseller/orders/{seller_order}/accept", m.rhine)
    world.ok(
        "POST",
        f"/v1/reseller/orders/{seller_order}/ship",
        m.rhine,
        json={"lines": [{"product_id": drill, "quantity": 10}], "tracking": "T1"},
    )
    set_clock(world, DAY0 + timedelta(days=10))
    world.ok("POST", f"/v1/reseller/orders/{seller_order}/ship", m.rhine, json={"tracking": "T2"})
    issued = sorted(invoices(world, m.muster, "/v1/buyer/invoices"), key=lambda i: i["number"])
    assert [i["number"] for i in issued] == [1, 2]
    first, second = issued
    assert first["total"] == eur(4_000_00)
    assert second["total"] == eur(4_000_00)
    assert first["due_on"] == "2027-03-31"
    assert second["due_on"] == "2027-04-10"
    assert {i["status"] for i in issued} == {"open"}
    # A seller with no tax profile invoices untaxed lines, as before tax and shipping.
    assert first["lines"] == [
        {
            "product_id": drill,
            "quantity": 10,
            "unit_price": eur(400_00),
            "tax_category": None,
            "tax_rate_bps": 0,
        }
    ]
    assert (first["tax_breakdown"], first["shipping"]) == ([], None)
    assert first["gross_total"] == first["net_total"] == first["total"]

    # Invoices hold the credit until paid: an order of 3,000 is refused.
    refused = order(world, m.muster, [(saw, 15)], "invoice_net_30")
    assert refused.status_code == 402, refused.text
    credit = credit_with(world, m.muster, m.rhine)
    assert credit["unpaid"] == eur(8_000_00)
    assert credit["remaining"] == eur(2_000_00)

    # The operator records the payment of the first invoice; the same order now goes through.
    payment = world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": m.muster.id,
            "amount": eur(4_000_00),
            "reference": "BANK-1",
            "received_on": "2027-03-12",
        },
    )
    assert payment["allocated"] == [{"invoice_id": first["invoice_id"], "amount": eur(4_000_00)}]
    assert payment["unallocated"] == eur(0)
    assert credit_with(world, m.muster, m.rhine)["remaining"] == eur(6_000_00)
    again = order(world, m.muster, [(saw, 15)], "invoice_net_30")
    assert again.status_code == 201, again.text

    # Past the second invoice's due date, orders on invoice are refused as overdue...
    set_clock(world, DAY0 + timedelta(days=45))
    assert invoices(world, m.muster, "/v1/buyer/invoices", status="overdue")[0]["number"] == 2
    late = order(world, m.muster, [(saw, 1)], "invoice_net_30")
    assert late.status_code == 402, late.text
    assert "invoice 2" in late.text
    assert credit_with(world, m.muster, m.rhine)["overdue"] is True
    # ...while card orders still go through.
    assert order(world, m.muster, [(saw, 1)], "card").status_code == 201

    # ...until the bank statement import pays it.
    statement = (
        "buyer_id,amount,currency,reference,received_on,invoice_number\n"
        f"{m.muster.id},400000,EUR,BANK-2,2027-04-14,2\n"
    )
    job = world.ok(
        "POST",
        "/v1/operator/payments:import",
        world.operator,
        content=statement,
        headers={"Content-Type": "text/csv"},
    )
    status = world.ok("GET", f"/v1/operator/imports/{job['job_id']}", world.operator)
    for _ in range(200):
        if status["status"] != "running":
            break
        time.sleep(0.05)
        status = world.ok("GET", f"/v1/operator/imports/{job['job_id']}", world.operator)
    assert status["status"] == "completed", status
    assert status["imported"] == 1, status
    assert order(world, m.muster, [(saw, 1)], "invoice_net_30").status_code == 201
    paid = invoices(world, m.muster, "/v1/buyer/invoices", status="paid")
    assert sorted(i["number"] for i in paid) == [1, 2]

    # The order is delivered and one drill goes back: a credit note of 400, stock restocked.
    world.ok("POST", f"/v1/reseller/orders/{seller_order}/deliver", m.rhine)
    asked = world.ok(
        "POST",
        "/v1/buyer/returns",
        m.muster,
        json={
            "seller_order_id": seller_order,
            "lines": [{"product_id": drill, "quantity": 1}],
            "reason": "arrived broken",
        },
    )
    assert asked["status"] == "requested"
    accepted = world.ok(
        "POST", f"/v1/reseller/returns/{asked['return_id']}/accept", m.rhine, json={"restock": True}
    )
    assert accepted["status"] == "accepted"
    assert accepted["credit_note"]["amount"] == eur(400_00)
    # Both invoices were paid: the credit note is the buyer's balance, for its next invoices.
    assert world.ok("GET", "/v1/buyer/credit", m.muster)["credit_balance"] == [eur(400_00)]
    offers = world.view("/v1/reseller/offers", m.rhine).json()["items"]
    assert next(o for o in offers if o["product_id"] == drill)["stock"] == 41

    # The commission report takes the return off the GMV and reverses its commission.
    report = world.view("/v1/operator/commissions", world.operator, reseller_id=m.rhine.id)
    [row] = report.json()
    assert (row["gmv"], row["commission"], row["returned"]) == (7_600_00, 760_00, 400_00)

    # The payout cycle pays what was paid, less commission and the credit note.
    cycle = world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": "2027-04-15"})
    rhine_payouts = [p for p in cycle["payouts"] if p["reseller_id"] == m.rhine.id]
    assert len(rhine_payouts) == 1
    expected = 8_000_00 - (800_00 - 40_00) - 400_00
    assert rhine_payouts[0]["amount"] == eur(expected)
    lines = {line["invoice_id"]: line for line in rhine_payouts[0]["lines"]}
    assert lines[first["invoice_id"]]["credit_notes"] == eur(400_00)
    assert lines[first["invoice_id"]]["commission"] == eur(360_00)
    assert lines[second["invoice_id"]]["paid"] == eur(4_000_00)

    # Running the same cycle again pays nothing twice.
    rerun = world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": "2027-04-15"})
    assert rerun["payouts"] == []
    seen = world.view("/v1/reseller/payouts", m.rhine).json()["items"]
    assert [p["amount"] for p in seen] == [eur(expected)]

    # The invoice renders as a PDF.
    pdf = world.call(
        "GET",
        f"/v1/buyer/invoices/{first['invoice_id']}",
        m.muster,
        headers={"Accept": "application/pdf"},
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
