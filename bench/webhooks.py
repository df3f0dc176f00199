"""Webhook delivery: a fan-out of 1,000 events to 10 endpoints (10,000 deliveries) through the
dispatcher and the sender, against the same number of signed POSTs made by a plain loop to
the same receiver in the same run; and the p99 from an event stored to its delivery."""

import time
import uuid
from typing import Any

from bench.measure import latency_row, percentile, throughput_row
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from marketplace.webhooks.post import new_secret, post
from marketplace.webhooks.urls import parse
from offers.application import ProductDetails
from tests.receiver import Receiver

EVENTS = 1_000
ENDPOINTS = 10
PACED = 200


def run(marketplace: Marketplace, scale: str) -> list[dict[str, Any]]:
    marketplace.settings.webhooks_allow_private = True
    receiver = Receiver()
    receiver.start()
    try:
        paths = [f"/endpoint-{i}" for i in range(ENDPOINTS)]
        for path in paths:
            made = marketplace.webhooks.subscribe(
                None, receiver.url(path), ["*"], None, new_secret()
            )
            receiver.secrets[path] = made.secret
        maker = marketplace.sellers.register_manufacturer("Hooks", "DE", "mk_s_hooks_m")

        def publish(i: int) -> None:
            # One product each: many aggregates, so order per aggregate holds nothing back.
            marketplace.offers.put_product(
                maker,
                f"H-{i}",
                ProductDetails(f"Hook {i}", "B", "c", None, {}, None, Money(100, "EUR"), None),
            )

        # The fan-out: 1,000 events stored and dispatched, then delivered from the queue.
        for i in range(EVENTS):
            publish(i)
        dispatching = time.perf_counter()
        marketplace.projections.catch_up()
        dispatched = time.perf_counter() - dispatching
        wanted = (EVENTS + 1) * ENDPOINTS  # and the manufacturer's registration
        started = time.perf_counter()
        marketplace.start_sending()
        _wait(receiver, paths, wanted)
        ours = time.perf_counter() - started
        assert all(r.verified for p in paths for r in receiver.at(p))

        # The baseline: the same number of signed POSTs, one after another, from a loop.
        body = b'{"type":"Product.Published","data":{}}'
        targets = [parse(receiver.url(p), True) for p in paths]
        started = time.perf_counter()
        for i in range(wanted):
            target = targets[i % ENDPOINTS]
            answer = post(target, receiver.secrets[target.path], str(uuid.uuid4()), body, True)
            assert answer.delivered
        baseline = time.perf_counter() - started

        # Latency at a steady pace: 20 events a second, each to the 10 endpoints.
        marketplace.projections.start(interval=0.05)
        first = _delivered_count(marketplace)
        for i in range(EVENTS, EVENTS + PACED):
            publish(i)
            time.sleep(1 / 20)
        _wait(receiver, paths, wanted + PACED * ENDPOINTS)
        lags = _lags(marketplace)[first:]
    finally:
        receiver.stop()
    return [
        throughput_row("webhook_fanout_1000x10", wanted, ours, baseline, scale)
        | {"unit": "deliveries/s"},
        latency_row("webhook_dispatch_1000x10", dispatched, None, scale),
        latency_row(
            "webhook_stored_to_delivered_p99_at_20_per_s", percentile(lags, 99), None, scale
        ),
        latency_row(
            "webhook_stored_to_delivered_p50_at_20_per_s", percentile(lags, 50), None, scale
        ),
    ]


def _wait(receiver: Receiver, paths: list[str], wanted: int) -> None:
    deadline = time.monotonic() + 600
    while sum(len(receiver.at(p)) for p in paths) < wanted:
        assert time.monotonic() < deadline, "the deliveries did not all arrive"
        time.sleep(0.02)


def _delivered_count(marketplace: Marketplace) -> int:
    return len(_lags(marketplace))


def _lags(marketplace: Marketplace) -> list[float]:
    """Seconds from each event stored to its delivery, in the order delivered."""
    with marketplace.db.transaction() as cur:
        cur.execute(
            "SELECT delivered_at - stored_at AS lag FROM webhook_deliveries "
            "WHERE status = 'delivered' ORDER BY delivered_at"
        )
        return [float(r["lag"]) for r in cur.fetchall()]
