"""The event stream as integrators meet it: CloudEvents headers, and the README's consumer."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from marketplace.adapters.kafka import topic
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from tests.distributed import Seller, deliver_an_order, relay_until_done

README = Path(__file__).resolve().parent.parent / "README.md"


def _headers_on(settings: Settings, context: str) -> list[dict[str, bytes]]:
    reader = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        name = topic(settings, context)
        partitions = [TopicPartition(name, p) for p in reader.partitions_for_topic(name)]
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        ends = reader.end_offsets(partitions)
        headers: list[dict[str, bytes]] = []
        while any(reader.position(p) < ends[p] for p in partitions):
            for batch in reader.poll(timeout_ms=1000).values():
                headers += [dict(record.headers) for record in batch]
        return headers
    finally:
        reader.close()


def test_every_record_carries_cloudevents_attributes_of_its_event(
    kafka_settings: Settings, store: Marketplace
) -> None:
    seller = Seller(store, offers=3)
    deliver_an_order(store, seller)
    relay_until_done(kafka_settings, store)
    for context in ("offers", "orders"):
        stored = {e["event_id"]: e for e in store.events.read(context, 0, 10_000)}
        records = _headers_on(kafka_settings, context)
        assert len(records) == len(stored)
        for headers in records:
            event = stored[headers["ce_id"].decode()]
            assert headers["ce_specversion"] == b"1.0"
            assert headers["ce_type"].decode() == event["type"]
            assert headers["ce_source"].decode() == f"/{kafka_settings.topic_prefix}/{context}"
            assert headers["ce_subject"].decode() == event["aggregate_id"]
            assert headers["ce_time"].decode() == event["occurred_at"]
            assert re.fullmatch(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", event["occurred_at"]
            )
            assert headers["content-type"] == b"application/json"


def test_the_readme_consumer_dispatches_on_ce_type(
    kafka_settings: Settings, store: Marketplace, tmp_path: Path
) -> None:
    seller = Seller(store, offers=2)
    _, seller_order_id = deliver_an_order(store, seller)
    relay_until_done(kafka_settings, store)
    section = README.read_text().split("## Consuming the event stream", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "consumer.py"
    script.write_text(example)
    env = {
        **os.environ,
        "TOPIC": topic(kafka_settings, "orders"),
        "BOOTSTRAP": kafka_settings.kafka_bootstrap or "",
        "GROUP": f"readme-{uuid.uuid4().hex[:8]}",
        "IDLE_MS": "30000",
    }
    run = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    product = str(seller.products[0])
    wanted = [f"ship {seller_order_id} {{'{product}': 2}}", f"delivered {seller_order_id}"]
    assert lines == wanted, run.stderr[-2000:]
