"""Faults of the broker itself, not of our processes: Apache Kafka killed with `kill -9` and
started again on the same log directory, paused past the consumers' session timeout, and a
broker that is away while the API keeps taking commands. Relay and projections resume by
themselves; nothing is lost, nothing is applied twice, and the views equal a rebuild."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from tests.conftest import settings_for, start_workers
from tests.distributed import Seller, caught_up, dump_view, read_topics, wait_until
from tests.kafka_broker import ApacheKafka


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ApacheKafka]:
    """A broker of the test's own, to be killed or paused without touching the others'."""
    kafka = ApacheKafka(tmp_path / "kafka")
    kafka.start()
    yield kafka
    kafka.stop()


@pytest.fixture
def running(
    tmp_path: Path, postgres_url: str, pg_schema: str, broker: ApacheKafka
) -> Iterator[tuple[Settings, Marketplace]]:
    """The API side with the relay and every projection running against `broker`."""
    settings = settings_for("kafka", tmp_path, postgres_url, pg_schema, broker.bootstrap)
    marketplace = Marketplace(settings)
    stop = threading.Event()
    workers = start_workers(settings, marketplace, stop)
    yield settings, marketplace
    stop.set()
    for worker in workers:
        worker.join(timeout=60)
    marketplace.close()


def _projecting(marketplace: Marketplace) -> None:
    """Waits until the views have reached where the logs were when called."""
    heads = marketplace.heads()

    def reached() -> bool:
        return all(
            marketplace.projections.positions(name).get(c, 0) >= h
            for name in marketplace.projections.names
            for c, h in heads.items()
        )

    wait_until(reached, 60, "the views to follow the writes")


@contextmanager
def _a_stream_of_writes(marketplace: Marketplace) -> Iterator[None]:
    """Stock writes all along the block, which starts once the views follow them."""
    seller = Seller(marketplace, offers=10)
    stop = threading.Event()
    writer = threading.Thread(target=seller.write, args=(stop, 0.005), daemon=True)
    writer.start()
    try:
        _projecting(marketplace)
        yield
    finally:
        stop.set()
        writer.join()


def _applied(marketplace: Marketplace, name: str) -> int:
    """Events the projection has applied: the sum of its per-aggregate versions (each
    aggregate's events are applied in order, each version once)."""
    with marketplace.db.transaction() as cur:
        prefix = marketplace.projections.live(cur, name).prefix
        cur.execute(f"SELECT COALESCE(SUM(version), 0) AS applied FROM {prefix}versions")
        row = cur.fetchone()
    assert row is not None
    return int(row["applied"])


def _converged_exactly_once(settings: Settings, marketplace: Marketplace) -> dict[str, int]:
    """Waits for the views to reach the heads, then checks what Kafka holds and what the
    views applied against the event store; returns the figures."""
    wait_until(lambda: caught_up(marketplace), 180, "the views to reach the heads")
    relay = Relay(settings, marketplace.db, marketplace.events)
    heads = marketplace.heads()
    wait_until(
        lambda: all(relay.positions().get(c, 0) >= h for c, h in heads.items()),
        180,
        "the relay to publish every event",
    )
    contexts = marketplace.events.contexts
    stored = {
        c: [e["event_id"] for e in marketplace.events.read(c, 0, 10_000_000)] for c in contexts
    }
    on_kafka = read_topics(settings, contexts)
    written = sum(len(ids) for ids in stored.values())
    records = sum(len(on_kafka[c]) for c in contexts)
    distinct = {e["event_id"] for c in contexts for _, e, _ in on_kafka[c]}
    lost = sum(1 for ids in stored.values() for i in ids if i not in distinct)
    figures = {
        "written": written,
        "records_on_kafka": records,
        "distinct_on_kafka": len(distinct),
        "republished": records - len(distinct),
        "lost": lost,
    }
    for name in marketplace.projections.names:
        figures[f"applied_{name}"] = _applied(marketplace, name)
    print(f"\nbroker fault figures: {figures}")
    assert lost == 0
    for name in marketplace.projections.names:
        # Each stored event applied once: not skipped (fewer) and not twice (more).
        assert figures[f"applied_{name}"] == written, name
    incremental = dump_view(marketplace)
    marketplace.projections.rebuild("catalog")
    assert dump_view(marketplace) == incremental
    return figures


def test_a_broker_killed_mid_stream_and_restarted_on_its_log_loses_nothing(
    running: tuple[Settings, Marketplace], broker: ApacheKafka
) -> None:
    settings, marketplace = running
    with _a_stream_of_writes(marketplace):
        # The broker dies without a word, in the middle of the stream of writes.
        broker.kill()
        time.sleep(3)
        # It comes back on the same log directory; writes never stopped meanwhile.
        broker.start()
        time.sleep(3)
    figures = _converged_exactly_once(settings, marketplace)
    assert figures["written"] > 500


def test_a_broker_paused_past_the_session_timeout_resumes_and_loses_nothing(
    running: tuple[Settings, Marketplace], broker: ApacheKafka
) -> None:
    settings, marketplace = running
    with _a_stream_of_writes(marketplace):
        # SIGSTOP: the broker holds its sockets open and answers nothing, for longer than
        # the consumers' session timeout.
        broker.pause()
        time.sleep(settings.kafka_session_timeout_ms / 1000 * 2)
        broker.resume()
        time.sleep(3)
    _converged_exactly_once(settings, marketplace)


def test_the_api_accepts_commands_while_the_broker_is_down_and_views_converge(
    running: tuple[Settings, Marketplace], broker: ApacheKafka
) -> None:
    settings, marketplace = running
    seller = Seller(marketplace, offers=5)
    wait_until(lambda: caught_up(marketplace), 60, "the first catch-up")
    broker.kill()
    # With no broker at all, commands are still stored.
    for quantity in range(10):
        marketplace.offers.set_stock(seller.reseller, seller.products[0], quantity)
    assert not caught_up(marketplace)
    time.sleep(2)
    broker.start()
    _converged_exactly_once(settings, marketplace)
