"""Distributed mode: events leave the store for Kafka, and views follow, exactly once."""

import os
import random
import threading
import time
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from marketplace.adapters.kafka import topic
from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from tests.distributed import (
    Seller,
    caught_up,
    deliver_an_order,
    dump_view,
    read_topics,
    relay_until_done,
    spawn,
    wait_until,
)

# How many processes each kill test kills at random moments: 8 in `make test`, more in
# `make faults` (MARKETPLACE_KILLS=40).
KILLS = int(os.environ.get("MARKETPLACE_KILLS", "8"))


def _write_for(seller: Seller, seconds: float) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=seller.write, args=(stop,), daemon=True).start()
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    return stop


def test_every_stored_event_is_on_its_topic_keyed_by_aggregate_in_order(
    kafka_settings: Settings, store: Marketplace
) -> None:
    seller = Seller(store, offers=5)
    done = threading.Event()
    seller_writes = threading.Thread(target=seller.write, args=(done,))
    seller_writes.start()
    time.sleep(0.5)
    done.set()
    seller_writes.join()
    relay_until_done(kafka_settings, store)
    on_kafka = read_topics(kafka_settings, store.events.contexts)
    for context in store.events.contexts:
        stored = store.events.read(context, 0, 1_000_000)
        records = on_kafka[context]
        assert len(records) >= len(stored)
        assert {e["event_id"] for _, e, _ in records} == {e["event_id"] for e in stored}
        by_id = {e["event_id"]: e for e in stored}
        last_version: dict[tuple[int, str], int] = {}
        for key, event, partition in records:
            assert key == event["aggregate_id"].encode()
            assert event == by_id[event["event_id"]]
            assert set(event) >= {
                "event_id",
                "type",
                "aggregate_id",
                "aggregate_version",
                "position",
                "occurred_at",
                "data",
            }
            seen = last_version.get((partition, event["aggregate_id"]), 0)
            assert event["aggregate_version"] > seen, "out of order within an aggregate"
            last_version[(partition, event["aggregate_id"])] = event["aggregate_version"]


def test_killing_the_relay_at_random_moments_loses_no_event(
    kafka_settings: Settings, store: Marketplace
) -> None:
    seller = Seller(store)
    rng = random.Random(3)
    writing = _write_for(seller, 3600)
    reader = Relay(kafka_settings, store.db, store.events)
    try:
        for kill in range(KILLS):
            relay = spawn(kafka_settings, "relay")
            if kill == 0:
                # On a loaded machine a process can be killed before it has even started
                # (seen: 0 published after three kills); the first is let publish once.
                wait_until(
                    lambda: reader.positions().get("offers", 0) > 0,
                    120,
                    "the first relay to publish something",
                )
            time.sleep(rng.uniform(1.0, 3.0))
            relay.kill()
            relay.wait()
        progress = reader.positions().get("offers", 0)
    finally:
        writing.set()
    # The killed relays did publish: each resumed where the last confirmed batch ended.
    assert progress > 0
    relay_until_done(kafka_settings, store)
    on_kafka = read_topics(kafka_settings, store.events.contexts)
    for context in store.events.contexts:
        stored = {e["event_id"] for e in store.events.read(context, 0, 1_000_000)}
        published = [e["event_id"] for _, e, _ in on_kafka[context]]
        assert stored <= set(published), f"{len(stored - set(published))} events lost"


def test_killing_the_projection_at_random_moments_applies_each_event_once(
    kafka_settings: Settings, store: Marketplace, tmp_path: Path
) -> None:
    # A killed member holds its partitions until its session times out; a short session
    # lets each restarted process project something before the next kill.
    kafka_settings = kafka_settings.model_copy(
        update={"kafka_session_timeout_ms": 3000, "kafka_heartbeat_interval_ms": 500}
    )
    seller = Seller(store)
    stop = threading.Event()
    relay = threading.Thread(target=Relay(kafka_settings, store.db, store.events).run, args=(stop,))
    relay.start()
    rng = random.Random(5)
    writing = _write_for(seller, 3600)
    # Every projector logs here, so the watchdog's replacements and repairs can be counted.
    log = tmp_path / "projector.log"
    try:
        for kill in range(KILLS):
            projector = spawn(kafka_settings, "project", log=log)
            if kill == 0:
                # On a loaded machine a process may start, join and be killed before it
                # applies anything; the first one is let make progress before it dies.
                wait_until(
                    lambda: store.projections.positions("catalog").get("offers", 0) > 0,
                    120,
                    "the first projector to apply something",
                )
            time.sleep(rng.uniform(3.0, 8.0))
            projector.kill()
            projector.wait()
        progress = store.projections.positions("catalog").get("offers", 0)
    finally:
        writing.set()
    # The killed processes did project: the last one resumes, it does not start over.
    assert progress > 0
    projector = spawn(kafka_settings, "project", log=log)
    try:
        wait_until(lambda: caught_up(store), 300, "the projection to catch up")
    except AssertionError as timeout:
        positions = {n: store.projections.positions(n) for n in store.projections.names}
        tail = log.read_text(errors="replace")[-4000:]
        raise AssertionError(f"{timeout}: heads {store.heads()}, at {positions}\n{tail}") from None
    finally:
        projector.kill()
        projector.wait()
        stop.set()
        relay.join()
        said = log.read_text(errors="replace")
        print(
            f"\nwatchdog: {said.count('replacing it')} consumers replaced, "
            f"{said.count(' stalled: ')} stalls repaired from the event store"
        )
    incremental = dump_view(store)
    store.projections.rebuild("catalog")
    rebuilt = dump_view(store)
    assert rebuilt.keys() == incremental.keys()
    for table in incremental:
        assert rebuilt[table] == incremental[table], table


def test_two_projection_processes_share_the_partitions_and_one_takes_over(
    kafka_settings: Settings, store: Marketplace
) -> None:
    seller = Seller(store)
    stop = threading.Event()
    relay = threading.Thread(target=Relay(kafka_settings, store.db, store.events).run, args=(stop,))
    relay.start()
    first = spawn(kafka_settings, "project")
    second = spawn(kafka_settings, "project")
    try:
        writing = _write_for(seller, 4)
        time.sleep(2)
        # One of them dies mid-stream; the other takes over its partitions.
        first.kill()
        first.wait()
        writing.wait()
        wait_until(lambda: caught_up(store), 120, "the survivor to catch up")
    finally:
        for process in (first, second):
            process.kill()
            process.wait()
        stop.set()
        relay.join()
    incremental = dump_view(store)
    store.projections.rebuild("catalog")
    rebuilt = dump_view(store)
    assert rebuilt.keys() == incremental.keys()
    for table in incremental:
        assert rebuilt[table] == incremental[table], table


def test_every_order_step_reaches_the_orders_topic(
    kafka_settings: Settings, store: Marketplace
) -> None:
    seller = Seller(store, offers=2)
    order_id, seller_order_id = deliver_an_order(store, seller)
    relay_until_done(kafka_settings, store)
    records = read_topics(kafka_settings, ["orders"])["orders"]
    types = [event["type"] for _, event, _ in records]
    for step in (
        "Order.Drafted",
        "Order.Placed",
        "SellerOrder.Opened",
        "SellerOrder.Released",
        "SellerOrder.Accepted",
        "SellerOrder.Shipped",
        "SellerOrder.Delivered",
    ):
        assert step in types
    assert {key for key, _, _ in records} == {str(order_id).encode(), str(seller_order_id).encode()}


def test_the_relay_creates_its_topics_with_the_configured_partitions_and_replicas(
    kafka_settings: Settings, store: Marketplace
) -> None:
    settings = kafka_settings.model_copy(
        update={
            "topic_partitions": 4,
            "topic_replication_factor": 1,
            "topic_min_insync_replicas": 1,
        }
    )
    Seller(store, offers=1)
    relay_until_done(settings, store)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        names = [topic(settings, c) for c in store.events.contexts]
        described = {t["topic"]: t for t in admin.describe_topics(names)}
        for name in names:
            partitions = described[name]["partitions"]
            assert len(partitions) == 4, name
            assert all(len(p["replicas"]) == 1 for p in partitions), name
        [answer] = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, names[0])])
        [resource] = answer.resources
        # (name, value, read-only, source, ...): source 1 is the topic's own setting.
        entries = {entry[0]: (entry[1], entry[3]) for entry in resource[4]}
        assert entries["min.insync.replicas"] == ("1", 1)
    finally:
        admin.close()
