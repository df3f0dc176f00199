"""A projection cannot freeze silently: a stuck consumer is replaced, a stalled view repaired.

The stall seen in the kill test (issue 16): after many unclean exits, kafka-python 3.x left
the final projector's catalog consumer blocked in `poll(timeout_ms=200)` for good (inside
`ensure_active_group`, waiting on an event its IO thread never set), while the orders
consumer in the same process reached the head. These tests arrange that state on purpose.
"""

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from prometheus_client import REGISTRY

from marketplace.adapters.kafka import consumer
from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from projections.consumer import KafkaProjector
from projections.watchdog import StallWatch
from tests.conftest import settings_for
from tests.distributed import Seller, caught_up, dump_view, wait_until


class StuckConsumer(KafkaConsumer):  # type: ignore[misc]
    """A real consumer whose poll blocks past its timeout, as kafka-python 3.x's did, until
    someone closes it."""

    def __init__(self, *topics: str, **configs: Any) -> None:
        super().__init__(*topics, **configs)
        self.released = threading.Event()

    def poll(self, timeout_ms: int = 0, max_records: int | None = None, **_: Any) -> Any:
        self.released.wait()
        return {}

    def close(self, autocommit: bool = True, timeout_ms: int | None = None) -> None:
        self.released.set()
        super().close(autocommit=autocommit, timeout_ms=timeout_ms)


def _metric(name: str, projection: str) -> float:
    return REGISTRY.get_sample_value(name, {"projection": projection}) or 0.0


def test_a_consumer_stuck_inside_the_kafka_client_is_replaced_and_the_view_catches_up(
    kafka_settings: Settings, store: Marketplace, caplog: pytest.LogCaptureFixture
) -> None:
    # The stall watch is kept out of it: only replacing the consumer can bring the view up.
    settings = kafka_settings.model_copy(
        update={"kafka_stuck_after_s": 2.0, "projection_stall_after_s": 3600.0}
    )
    made: list[KafkaConsumer] = []

    def first_one_stuck(s: Settings, group: str, contexts: list[str]) -> KafkaConsumer:
        if not made:
            made.append(consumer(s, group, contexts, StuckConsumer))
        else:
            made.append(consumer(s, group, contexts))
        return made[-1]

    seller = Seller(store, offers=5)
    projector = KafkaProjector(settings, store.projections, "catalog", first_one_stuck)
    stop = threading.Event()
    relay = threading.Thread(target=Relay(settings, store.db, store.events).run, args=(stop,))
    running = threading.Thread(target=projector.run, args=(stop,))
    restarts = _metric("marketplace_consumer_restarts_total", "catalog")
    caplog.set_level(logging.ERROR, logger="projections.consumer")
    relay.start()
    running.start()
    try:
        # The first consumer blocks in its first poll; the projector replaces it.
        wait_until(lambda: projector.replaced >= 1, 60, "the stuck consumer to be replaced")
        # Its replacement delivers everything, and more written afterwards.
        seller.marketplace.offers.set_stock(seller.reseller, seller.products[0], 7)
        wait_until(lambda: caught_up(store, ["catalog"]), 120, "the replacement to catch up")
    finally:
        stop.set()
        running.join(timeout=30)
        relay.join(timeout=30)
    assert projector.replaced == 1
    assert _metric("marketplace_consumer_restarts_total", "catalog") == restarts + 1
    stuck = isinstance(made[0], StuckConsumer) and made[0].released.is_set()
    assert stuck, "the stuck consumer was closed, which releases its blocked call"
    [record] = [r for r in caplog.records if "replacing it" in r.getMessage()]
    # The log says which call hung and shows the stack it hung in.
    assert "has been in poll" in record.getMessage()
    assert "in poll" in record.getMessage().split("Stuck at:")[1]
    incremental = dump_view(store)
    store.projections.rebuild("catalog")
    assert dump_view(store) == incremental


def test_a_view_behind_its_log_with_no_progress_is_marked_stalled_and_repaired(
    tmp_path: Path, postgres_url: str, pg_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for("kafka", tmp_path, postgres_url, pg_schema, "127.0.0.1:9")
    store = Marketplace(settings)
    try:
        seller = Seller(store, offers=3)
        for stock in (1, 2, 3):
            store.offers.set_stock(seller.reseller, seller.products[0], stock)
        # Kafka delivered every event but the last of one offer, and nothing after it will
        # reveal the gap: a hole the watermark cannot pass.
        everything = [e for c in store.events.contexts for e in store.events.read(c, 0, 10_000)]
        hole = everything[-1]
        assert hole["context"] == "offers"
        assert hole["position"] is not None
        store.projections.apply("catalog", everything[:-1], track_positions=False)
        store.projections.advance("catalog")
        assert store.projections.positions("catalog")["offers"] == hole["position"] - 1
        now = [0.0]
        watch = StallWatch(store.projections, "catalog", stall_after=30, clock=lambda: now[0])
        stalls = _metric("marketplace_projection_stalls_total", "catalog")
        caplog.set_level(logging.WARNING, logger="projections.watchdog")
        operator = {"Authorization": f"Bearer {store.operator_key}"}

        def status() -> dict[str, Any]:
            with TestClient(create_app(store)) as client:
                answer = client.get("/v1/operator/projections", headers=operator)
            assert answer.status_code == 200
            [row] = [r for r in answer.json() if r["name"] == "catalog"]
            return dict(row)

        # Not yet: a projection may be busy for a while.
        assert watch.check() is False
        now[0] = 29.0
        assert watch.check() is False
        assert status()["status"] == "running"
        # Thirty seconds with no progress while behind: stalled, said, and repaired.
        now[0] = 31.0
        assert watch.check() is True
        row = status()
        assert row["status"] == "stalled"
        assert row["lag_events"] == 0
        assert _metric("marketplace_projection_stalls_total", "catalog") == stalls + 1
        assert _metric("marketplace_projection_stalled", "catalog") == 1
        assert any("stalled" in r.getMessage() for r in caplog.records)
        assert caught_up(store, ["catalog"])
        # The next look finds it at the head again.
        now[0] = 32.0
        assert watch.check() is False
        assert status()["status"] == "running"
        assert _metric("marketplace_projection_stalled", "catalog") == 0
        incremental = dump_view(store)
        store.projections.rebuild("catalog")
        assert dump_view(store) == incremental
    finally:
        store.close()
