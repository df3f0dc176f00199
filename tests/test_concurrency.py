"""Concurrent orders against a running server never oversell stock nor overspend credit."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import httpx2
import pytest
import uvicorn

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.services import free_port, wait_for_port
from tests.world import World, small_market

CLIENTS = 24


@pytest.fixture
def server(marketplace: Marketplace) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(marketplace), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def _race(url: str, key: str, bodies: list[dict[str, object]]) -> list[httpx2.Response]:
    def place(body: dict[str, object]) -> httpx2.Response:
        with httpx2.Client(base_url=url, timeout=60) as client:
            return client.post(
                "/v1/buyer/orders", json=body, headers={"Authorization": f"Bearer {key}"}
            )

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(place, bodies))


def test_clients_racing_for_the_last_units_never_oversell(
    world: World, marketplace: Marketplace, server: str
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    saw = world.product(m.acme, "SAW")
    world.offer(m.rhine, drill, 1_000, stock=15)
    world.offer(m.rhine, saw, 1_000, stock=15)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    bodies: list[dict[str, object]] = [
        {
            "lines": [
                {"product_id": drill, "quantity": 1 + i % 3},
                {"product_id": saw, "quantity": 1},
            ],
            "payment_method": "card",
        }
        for i in range(CLIENTS)
    ]
    responses = _race(server, m.muster.key, bodies)
    assert {r.status_code for r in responses} <= {201, 409}
    sold_drills = sum(1 + i % 3 for i, r in enumerate(responses) if r.status_code == 201)
    sold_saws = sum(1 for r in responses if r.status_code == 201)
    assert 0 < sold_drills <= 15
    assert sold_saws <= 15
    drill_offer = marketplace.offers.offer(UUID(m.rhine.id), UUID(drill))
    saw_offer = marketplace.offers.offer(UUID(m.rhine.id), UUID(saw))
    assert drill_offer.stock == 15 - sold_drills
    assert saw_offer.stock == 15 - sold_saws
    # Nothing was refused that could have been sold: every refusal wanted more than is left,
    # so concurrency alone lost no sale (48 drills asked for 15 in stock: some are refused).
    refused = [1 + i % 3 for i, r in enumerate(responses) if r.status_code == 409]
    assert refused
    for drills in refused:
        assert drill_offer.stock < drills or saw_offer.stock < 1, (drills, drill_offer.stock)
    placed = [r.json()["order_id"] for r in responses if r.status_code == 201]
    assert len(set(placed)) == len(placed)


def test_invoice_orders_racing_against_one_credit_limit_never_exceed_it(
    world: World, marketplace: Marketplace, server: str
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=1_000)
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=10_000)
    world.catalog(m.muster)
    bodies: list[dict[str, object]] = [
        {"lines": [{"product_id": drill, "quantity": 3}], "payment_method": "invoice_net_30"}
        for _ in range(CLIENTS)
    ]
    responses = _race(server, m.muster.key, bodies)
    assert {r.status_code for r in responses} <= {201, 402, 409}
    accepted = sum(1 for r in responses if r.status_code == 201)
    # 3 orders of 3000 fit in 10000; a fourth does not.
    assert accepted == 3
    terms = marketplace.offers.terms(UUID(m.rhine.id), UUID(m.muster.id))
    assert terms is not None
    assert sum(terms.credit_used.values()) == 9_000
    assert marketplace.offers.offer(UUID(m.rhine.id), UUID(drill)).stock == 1_000 - 9


def test_orders_on_the_same_offers_take_turns_in_the_order_they_came() -> None:
    """In one process, placements on the same offers wait for their turn first come, first
    served: none is passed over while later ones go ahead."""
    from offers.holds import _STRIPES, Holds

    offer = UUID(int=7)
    served: list[int] = []
    first = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with Holds.turns([offer]):
            first.set()
            release.wait(10)

    def waiter(index: int) -> None:
        with Holds.turns([offer]):
            served.append(index)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    assert first.wait(10)
    for index in range(6):
        thread = threading.Thread(target=waiter, args=(index,))
        thread.start()
        threads.append(thread)
        # Each waiter is queued before the next one asks.
        queue = _STRIPES[offer.int % len(_STRIPES)]._waiting
        for _ in range(10_000):
            if len(queue) == index + 1:
                break
            threading.Event().wait(0.001)
        assert len(queue) == index + 1
    release.set()
    for thread in threads:
        thread.join(10)
    assert served == list(range(6))
