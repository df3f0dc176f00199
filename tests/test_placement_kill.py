"""Placing is crash-safe at any instant: an API process killed (SIGKILL) while orders with
Idempotency-Keys are being placed leaves each of them placed whole or not at all, and the
retries after a restart place each key's order exactly once."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import psycopg

from tests.conftest import settings_for
from tests.distributed import ServeProcess as Server
from tests.distributed import kill_among
from tests.world import World, small_market

ORDERS = 12
ROUNDS = 4
STOCK = 1_000
CREDIT = 10_000_000


def _place_all(server: Server, buyer: Any, bodies: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Places every keyed order at once and kills the server as the first one answers,
    while the others are under way; returns the order ids answered before the kill."""

    def placing(key: str) -> Callable[[], httpx2.Response]:
        return lambda: httpx2.post(
            f"{server.base}/v1/buyer/orders",
            json=bodies[key],
            headers={**buyer.headers, "Idempotency-Key": key},
            timeout=30,
        )

    keys = list(bodies)
    answers = kill_among(server, [placing(key) for key in keys], 0.03)
    placed: dict[str, str] = {}
    for key, answer in zip(keys, answers, strict=True):
        if answer is not None:
            assert answer.status_code == 201, answer.text
            placed[key] = answer.json()["order_id"]
    return placed


def _claims_go_stale(postgres_url: str, schema: str) -> None:
    """What a dead process held of its Idempotency-Keys, aged past the wait for it."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            f'UPDATE "{schema}".idempotency SET started_at = started_at - 3600 '.encode()
            + b"WHERE status_code IS NULL"
        )


def test_orders_cut_off_by_a_kill_are_placed_exactly_once_by_their_retries(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    settings = settings_for("postgres", tmp_path, postgres_url, pg_schema)
    log = tmp_path / "serve.log"
    server = Server(settings, log)
    world = server.world(settings)
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    saw = world.product(m.acme, "SAW")
    world.offer(m.rhine, drill, 1_000, stock=STOCK)
    world.offer(m.danube, saw, 1_000, stock=STOCK)
    for seller in (m.rhine, m.danube):
        world.terms(seller, m.muster, payment_methods=["invoice_net_30"], credit_limit=CREDIT)
    ordered = {drill: 0, saw: 0}
    orders: set[str] = set()
    first_answers = 0
    try:
        for round_ in range(ROUNDS):
            bodies: dict[str, dict[str, Any]] = {
                f"r{round_}-{i}": {
                    "payment_method": "invoice_net_30",
                    "lines": [
                        {"product_id": drill, "quantity": 1 + i % 3},
                        {"product_id": saw, "quantity": 1 + i % 2},
                    ],
                }
                for i in range(ORDERS)
            }
            answers = _place_all(server, m.muster, bodies)
            first_answers += len(answers)
            server = Server(settings, log)
            world = server.world(settings)
            _claims_go_stale(postgres_url, pg_schema)
            for key, body in bodies.items():
                again = world.call(
                    "POST",
                    "/v1/buyer/orders",
                    m.muster,
                    json=body,
                    headers={"Idempotency-Key": key},
                )
                assert again.status_code == 201, again.text
                assert answers.get(key, again.json()["order_id"]) == again.json()["order_id"]
                orders.add(again.json()["order_id"])
                for line in body["lines"]:
                    ordered[line["product_id"]] += line["quantity"]
        assert len(orders) == ROUNDS * ORDERS
        _check(world, m, drill, saw, ordered, orders)
    finally:
        server.stop()
    # The kills fell among the orders: some were answered before, some cut off.
    assert 0 < first_answers < ROUNDS * ORDERS


def _check(
    world: World, m: Any, drill: str, saw: str, ordered: dict[str, int], orders: set[str]
) -> None:
    """Each key's order holds its stock and credit once; nothing else holds any."""
    listed: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = world.view("/v1/buyer/orders", m.muster, **params)
        assert page.status_code == 200, page.text
        listed += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert {o["order_id"] for o in listed} == orders
    for product, seller in ((drill, m.rhine), (saw, m.danube)):
        item = world.view(f"/v1/buyer/catalog/{product}", m.muster).json()
        stock = {o["reseller_id"]: o["stock"] for o in item["offers"]}
        assert stock[seller.id] == STOCK - ordered[product], (product, item)
    credit = world.ok("GET", "/v1/buyer/credit", m.muster)["items"]
    held = sum(int(line["held"]["amount"]) for line in credit)
    assert held == sum(int(o["gross_total"][0]["amount"]) for o in listed), credit
