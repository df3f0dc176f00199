"""The DAC7 report (api.md v1.2): per seller and quarter, what buyers paid on its invoices
(bank payments on the day received, card orders when invoiced), the seller orders paid, and
the commission on them; figures worked out here from the orders placed."""

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.world import Actor, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def _at(world: World, day: str) -> None:
    now = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=UTC)
    world.ok("PUT", "/v1/operator/clock", world.operator, json={"now": now.isoformat()})


def _shipped(world: World, buyer: Actor, seller: Actor, pid: str, qty: int, method: str) -> str:
    body = {"lines": [{"product_id": pid, "quantity": qty, "reseller_id": seller.id}]}
    placed = world.ok("POST", "/v1/buyer/orders", buyer, json={**body, "payment_method": method})
    seller_order: str = placed["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{seller_order}/accept", seller)
    world.ok("POST", f"/v1/reseller/orders/{seller_order}/ship", seller, json={})
    return seller_order


def test_each_sellers_quarters_hold_what_was_paid_on_its_invoices(world: World) -> None:
    m = small_market(world)
    _at(world, "2026-01-05")
    commission = {"rate_bps": 1_000}
    world.ok(
        "PUT", f"/v1/operator/resellers/{m.rhine.id}/commission", world.operator, json=commission
    )
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=100)
    world.offer(m.danube, drill, 1_100, stock=100)
    for seller in (m.rhine, m.danube):
        world.terms(seller, m.muster, payment_methods=["card", "invoice_net_30"])
    world.ok(
        "PUT",
        "/v1/reseller/tax-profile",
        m.rhine,
        json={
            "legal_name": "Rhine Supply GmbH",
            "country": "DE",
            "vat_id": "DE136695976",
            "address": {"line1": "Kai 1", "postcode": "20457", "city": "Hamburg", "country": "DE"},
        },
    )
    world.catalog(m.muster)

    # Q1: two on invoice from Rhine, which has a tax profile: 20.00 + 19 % = 23.80, paid by
    # bank in February; the commission is on the goods only (20.00 at 10 %: 2.00).
    _shipped(world, m.muster, m.rhine, drill, 2, "invoice_net_30")
    world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": m.muster.id,
            "amount": eur(2_380),
            "reference": "BANK-1",
            "received_on": "2026-02-10",
        },
    )
    # Q2: one by card from Rhine (11.90 gross) and three by card from Danube (untaxed, no
    # commission), invoiced in May.
    _at(world, "2026-05-05")
    _shipped(world, m.muster, m.rhine, drill, 1, "card")
    _shipped(world, m.muster, m.danube, drill, 3, "card")
    # The year after is not this year's.
    _at(world, "2027-01-03")
    _shipped(world, m.muster, m.rhine, drill, 4, "card")

    report = world.ok(
        "GET",
        "/v1/operator/reports/dac7",
        world.operator,
        params={"year": 2026, "min_position": world.position},
    )
    sellers = {s["reseller_id"]: s for s in report["items"]}
    assert report["year"] == 2026
    assert set(sellers) == {m.rhine.id, m.danube.id}
    rhine = sellers[m.rhine.id]
    assert (rhine["legal_name"], rhine["vat_id"], rhine["address"]["city"]) == (
        "Rhine Supply GmbH",
        "DE136695976",
        "Hamburg",
    )
    quarters = [
        (q["quarter"], q["activities"], q["consideration"], q["fees"]) for q in rhine["quarters"]
    ]
    assert quarters == [(1, 1, eur(2_380), eur(200)), (2, 1, eur(1_190), eur(100))]
    danube: dict[str, Any] = sellers[m.danube.id]
    assert danube["vat_id"] is None
    assert [(q["quarter"], q["consideration"], q["fees"]) for q in danube["quarters"]] == [
        (2, eur(3_300), eur(0))
    ]
    # As CSV: a row per seller and quarter, amounts in major units.
    answer = world.call(
        "GET",
        "/v1/operator/reports/dac7",
        world.operator,
        params={"year": 2026, "min_position": world.position},
        headers={"Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted((r["legal_name"], r["quarter"], r["consideration"], r["fees"]) for r in rows) == [
        ("Danube Distribution", "2", "33.00", "0.00"),
        ("Rhine Supply GmbH", "1", "23.80", "2.00"),
        ("Rhine Supply GmbH", "2", "11.90", "1.00"),
    ]
    assert world.ok("GET", "/v1/operator/reports/dac7", world.operator, params={"year": 2025}) == {
        "year": 2025,
        "items": [],
    }
    assert (
        world.call(
            "GET",
            "/v1/operator/reports/dac7",
            m.rhine,
            params={"year": 2026, "min_position": world.position},
        ).status_code
        == 403
    )
    assert world.call("GET", "/v1/operator/reports/dac7", world.operator).status_code == 422


def test_an_overpayment_counts_in_the_quarter_it_pays_an_invoice(world: World) -> None:
    m = small_market(world)
    _at(world, "2026-01-05")
    world.ok(
        "PUT",
        f"/v1/operator/resellers/{m.rhine.id}/commission",
        world.operator,
        json={"rate_bps": 1_000},
    )
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=100)
    world.terms(m.rhine, m.muster, payment_methods=["card", "invoice_net_30"])
    world.catalog(m.muster)
    # January: an invoice of 10.00; February: 30.00 arrives for it. 10.00 pays it (Q1), 20.00
    # stays as the buyer's credit balance, which pays no seller yet.
    _shipped(world, m.muster, m.rhine, drill, 1, "invoice_net_30")
    world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": m.muster.id,
            "amount": eur(3_000),
            "reference": "BANK-9",
            "received_on": "2026-02-10",
        },
    )
    # May: an invoice of 20.00 is paid from that balance when it is issued (10 %: 2.00).
    _at(world, "2026-05-05")
    _shipped(world, m.muster, m.rhine, drill, 2, "invoice_net_30")
    report = world.ok(
        "GET",
        "/v1/operator/reports/dac7",
        world.operator,
        params={"year": 2026, "min_position": world.position},
    )
    [rhine] = report["items"]
    assert [(q["quarter"], q["consideration"], q["fees"]) for q in rhine["quarters"]] == [
        (1, eur(1_000), eur(100)),
        (2, eur(2_000), eur(200)),
    ]
