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
        marketplace.projections.start(interval=0.05)
        marketplace.start_sending()
        started = time.perf_counter()
        for i in range(EVENTS):
            # One product each: 1,000 aggregates, so order per aggregate holds nothing back.
            marketplace.offers.put_product(
                maker,
                f"H-{i}",
                ProductDetails(f"Hook {i}", "B", "c", None, {}, None, Money(100, "EUR"), None),
            )
        wanted = (EVENTS + 1) * ENDPOINTS  # and the manufacturer's registration
        deadline = time.monotonic() + 600
        while sum(len(receiver.at(p)) for p in paths) < wanted:
            assert time.monotonic() < deadline, "the deliveries did not all arrive"
            time.sleep(0.05)
        ours = time.perf_counter() - started
        assert all(r.verified for p in paths for r in receiver.at(p))
        lags = _lags(marketplace)

        # The baseline: the same number of signed POSTs, one after another, from a loop.
        body = b'{"type":"Product.Published","data":{}}'
        targets = [parse(receiver.url(p), True) for p in paths]
        started = time.perf_counter()
        for i in range(wanted):
            target = targets[i % ENDPOINTS]
            answer = post(target, receiver.secrets[target.path], str(uuid.uuid4()), body, True)
            assert answer.delivered
        baseline = time.perf_counter() - started
    finally:
        receiver.stop()
    return [
        throughput_row("webhook_fanout_1000x10", wanted, ours, baseline, scale)
        | {"unit": "deliveries/s"},
        latency_row("webhook_stored_to_delivered_p99", percentile(lags, 99), None, scale),
        latency_row("webhook_stored_to_delivered_p50", percentile(lags, 50), None, scale),
    ]


def _lags(marketplace: Marketplace) -> list[float]:
    with marketplace.db.transaction() as cur:
        cur.execute(
            "SELECT delivered_at - stored_at AS lag FROM webhook_deliveries "
            "WHERE status = 'delivered'"
        )
        return [float(r["lag"]) for r in cur.fetchall()]
