"""A second client family reads the stream: confluent-kafka (librdkafka, the C client behind
kcat and the Go, .NET and Node clients integrators use) sees every stored event on its topic,
keyed by its aggregate, with CloudEvents headers and the event as JSON, in order per key."""

import json
import uuid
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from marketplace.adapters.kafka import topic
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from tests.distributed import Seller, deliver_an_order, relay_until_done


def _read_with_librdkafka(settings: Settings, name: str) -> list[Any]:
    """Every record of the topic, partition by partition, through librdkafka."""
    reader = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"librdkafka-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        partitions = reader.list_topics(name, timeout=30).topics[name].partitions
        assigned = [TopicPartition(name, p, 0) for p in partitions]
        ends = {
            p: reader.get_watermark_offsets(TopicPartition(name, p), timeout=30)[1]
            for p in partitions
        }
        reader.assign(assigned)
        records: list[Any] = []
        seen = dict.fromkeys(partitions, 0)
        while any(seen[p] < ends[p] for p in partitions):
            message = reader.poll(5.0)
            assert message is not None, f"librdkafka stopped short of the end of {name}"
            assert message.error() is None, message.error()
            records.append(message)
            partition, offset = message.partition(), message.offset()
            assert partition is not None
            assert offset is not None
            seen[partition] = offset + 1
        return records
    finally:
        reader.close()


def test_librdkafka_reads_every_event_with_its_key_headers_and_order(
    kafka_settings: Settings, store: Marketplace
) -> None:
    seller = Seller(store, offers=4)
    deliver_an_order(store, seller)
    for quantity in range(5):
        store.offers.set_stock(seller.reseller, seller.products[1], quantity)
    relay_until_done(kafka_settings, store)
    for context in store.events.contexts:
        stored = {e["event_id"]: e for e in store.events.read(context, 0, 1_000_000)}
        records = _read_with_librdkafka(kafka_settings, topic(kafka_settings, context))
        assert len(records) >= len(stored)
        assert {dict(r.headers())["ce_id"].decode() for r in records} == set(stored), context
        last_version: dict[bytes, int] = {}
        for record in records:
            headers = dict(record.headers())
            event = stored[headers["ce_id"].decode()]
            # The key is the aggregate; the value is the stored event as JSON.
            assert record.key() == event["aggregate_id"].encode()
            assert json.loads(record.value()) == event
            assert headers["ce_specversion"] == b"1.0"
            assert headers["ce_type"].decode() == event["type"]
            assert headers["ce_subject"].decode() == event["aggregate_id"]
            assert headers["ce_source"].decode() == f"/{kafka_settings.topic_prefix}/{context}"
            assert headers["content-type"] == b"application/json"
            # Within a key, versions only go up.
            assert event["aggregate_version"] > last_version.get(record.key(), 0)
            last_version[record.key()] = event["aggregate_version"]
    # The order's steps all arrived, in the order they were taken.
    orders = _read_with_librdkafka(kafka_settings, topic(kafka_settings, "orders"))
    assert [dict(r.headers())["ce_type"] for r in orders].count(b"SellerOrder.Delivered") == 1
