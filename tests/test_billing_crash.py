"""A kill -9 in the middle of a payment import or of a payout cycle, then a restart and the
same work again, leaves every payment and every payout recorded exactly once."""

import contextlib
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx2

from tests.conftest import settings_for
from tests.distributed import ServeProcess
from tests.world import Actor, World, eur

PAYMENTS = 300
SELLERS = 12


def _seller_with_customer(world: World, maker: Actor, buyer: Actor, index: int) -> Actor:
    seller = world.reseller(f"Seller {index}")
    world.authorize(maker, seller)
    product = world.product(maker, f"P-{index}")
    world.offer(seller, product, 1_00 * (index + 1))
    world.terms(seller, buyer, payment_methods=["invoice_net_30"])
    world.catalog(buyer)
    placed = world.ok(
        "POST",
        "/v1/buyer/orders",
        buyer,
        json={
            "lines": [{"product_id": product, "quantity": 10, "reseller_id": seller.id}],
            "payment_method": "invoice_net_30",
        },
    )
    so = placed["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so}/accept", seller)
    world.ok("POST", f"/v1/reseller/orders/{so}/ship", seller)
    return seller


def _statement(buyer: Actor) -> str:
    rows = [f"{buyer.id},1,EUR,BANK-{i},2027-01-02," for i in range(PAYMENTS)]
    return "buyer_id,amount,currency,reference,received_on,invoice_number\n" + "\n".join(rows)


def _import(world: World, statement: str) -> dict[str, Any]:
    started: dict[str, Any] = world.ok(
        "POST",
        "/v1/operator/payments:import",
        world.operator,
        content=statement,
        headers={"Content-Type": "text/csv"},
    )
    return started


def _wait_for_job(world: World, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        status: dict[str, Any] = world.ok("GET", f"/v1/operator/imports/{job_id}", world.operator)
        if status["status"] != "running" or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def _all(world: World, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        answer = world.view(path, world.operator, **params).json()
        items += answer["items"]
        cursor = answer["next_cursor"]
        if not cursor:
            return items


def test_a_kill_during_a_payment_import_or_a_payout_cycle_records_each_once(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    settings = settings_for("postgres", tmp_path, postgres_url, pg_schema)
    log = tmp_path / "serve.log"
    server = ServeProcess(settings, log)
    try:
        world = server.world(settings)
        maker = world.manufacturer("Maker")
        buyer = world.buyer("Payer GmbH")
        sellers = [_seller_with_customer(world, maker, buyer, i) for i in range(SELLERS)]
        owed = sum(10 * 1_00 * (i + 1) for i in range(SELLERS))

        # A bank statement of 300 one-cent payments, cut off by a kill while it imports.
        statement = _statement(buyer)
        _import(world, statement)
        time.sleep(random.uniform(0.05, 0.5))
        server.kill()
        server = ServeProcess(settings, log)
        world = server.world(settings)
        # The operator imports the same statement again: each payment is recorded once.
        again = _wait_for_job(world, _import(world, statement)["job_id"])
        assert again["status"] == "completed", again
        payments = _all(world, "/v1/operator/payments")
        assert len(payments) == PAYMENTS
        assert len({p["reference"] for p in payments}) == PAYMENTS
        invoices = _all(world, "/v1/operator/invoices")
        assert sum(i["paid"]["amount"] for i in invoices) == PAYMENTS

        # The rest is paid, then a payout cycle is cut off by a kill and run again.
        body = {"buyer_id": buyer.id, "amount": eur(owed - PAYMENTS), "reference": "REST"}
        world.ok(
            "POST",
            "/v1/operator/payments",
            world.operator,
            json={**body, "received_on": "2027-01-03"},
        )
        cycle = {"up_to": "2027-01-31"}

        def run_cycle() -> None:
            with contextlib.suppress(httpx2.HTTPError):
                httpx2.post(
                    f"{server.base}/v1/operator/payouts",
                    json=cycle,
                    headers=world.operator.headers,
                    timeout=60,
                )

        runner = threading.Thread(target=run_cycle)
        runner.start()
        time.sleep(random.uniform(0.0, 0.15))
        server.kill()
        runner.join()
        server = ServeProcess(settings, log)
        world = server.world(settings)
        world.ok("POST", "/v1/operator/payouts", world.operator, json=cycle)
        payouts = _all(world, "/v1/operator/payouts")
        by_seller = {p["reseller_id"]: p["amount"]["amount"] for p in payouts}
        assert len(payouts) == SELLERS
        assert by_seller == {s.id: 10 * 1_00 * (i + 1) for i, s in enumerate(sellers)}
        assert world.ok("POST", "/v1/operator/payouts", world.operator, json=cycle)["payouts"] == []
    finally:
        server.stop()
