"""Distributed-mode figures: relay and projection against raw kafka-python, freshness."""

import threading
import time
import uuid
from typing import Any

import httpx2
from kafka import KafkaConsumer

from bench.measure import latency_row, percentile, throughput_row
from bench.server import serve
from marketplace.adapters.envelope import encode
from marketplace.adapters.kafka import producer, topic
from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import ProductDetails
from projections.consumer import KafkaProjector
from tests.distributed import Seller

EVENTS = 20_000


def _fill(marketplace: Marketplace, n: int) -> None:
    maker = uuid.uuid4()
    rows = [
        (
            i,
            f"K-{i}",
            ProductDetails(
                name=f"Thing {i}",
                brand="B",
                category="c",
                gtin=None,
                attributes={"a": "b"},
                unit="piece",
                list_price=Money(1_000 + i, "EUR"),
                map_price=None,
            ),
        )
        for i in range(n)
    ]
    job = marketplace.imports.create(maker, "products", n, [])
    marketplace.imports.run_products(job, rows)


def relay_and_projection(
    marketplace: Marketplace, settings: Settings, scale: str
) -> list[dict[str, Any]]:
    _fill(marketplace, EVENTS)
    events = marketplace.events.read("offers", 0, 1_000_000)
    payloads = [(e["aggregate_id"].encode(), encode(e)) for e in events]
    # Baseline: kafka-python's producer sending the same messages, same settings.
    raw_settings = settings.model_copy(update={"topic_prefix": settings.topic_prefix + "raw"})
    from marketplace.adapters.kafka import ensure_topics

    ensure_topics(raw_settings, ["offers"])
    kafka = producer(raw_settings)
    started = time.perf_counter()
    for key, value in payloads:
        kafka.send(topic(raw_settings, "offers"), key=key, value=value)
    kafka.flush()
    raw_produce = time.perf_counter() - started
    kafka.close()
    relay = Relay(settings, marketplace.db, marketplace.events)
    relay.publish_once()  # connect and create topics outside the timing
    started = time.perf_counter()
    while relay.publish_once():
        pass
    ours_relay = time.perf_counter() - started
    relay.close()
    published = sum(marketplace.heads().values())
    rows = [throughput_row("relay_throughput", len(payloads), ours_relay, raw_produce, scale)]
    # Baseline: a raw consumer in its own group reading the same topic to the end.
    consumer = KafkaConsumer(
        topic(settings, "offers"),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    started = time.perf_counter()
    seen = 0
    while seen < len(payloads):
        for batch in consumer.poll(timeout_ms=500, max_records=1000).values():
            seen += len(batch)
    consumer.commit()
    raw_consume = time.perf_counter() - started
    consumer.close()
    stop = threading.Event()
    projector = threading.Thread(
        target=KafkaProjector(settings, marketplace.projections, "catalog").run, args=(stop,)
    )
    started = time.perf_counter()
    projector.start()
    while sum(marketplace.projections.positions("catalog").values()) < published:
        time.sleep(0.02)
    ours_projection = time.perf_counter() - started
    stop.set()
    projector.join()
    rows.append(
        throughput_row("projection_throughput", len(payloads), ours_projection, raw_consume, scale)
    )
    return rows


def freshness(marketplace: Marketplace, settings: Settings, scale: str) -> list[dict[str, Any]]:
    """Command accepted to visible in the buyer's view, at a steady 10 commands a second."""
    seller = Seller(marketplace, offers=5)
    buyer_id, _ = marketplace.buyers.register("Fresh", "T", "DE", "mk_b_fresh")
    buyer = marketplace.buyers.buyer(buyer_id)
    buyer.approve()
    marketplace.buyers.save(buyer)
    from offers.application import CustomerTermsDetails

    marketplace.offers.put_terms(
        seller.reseller, buyer_id, CustomerTermsDetails(None, 0, {}, ["card"], None)
    )
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=Relay(settings, marketplace.db, marketplace.events).run, args=(stop,)
        ),
        threading.Thread(
            target=KafkaProjector(settings, marketplace.projections, "catalog").run, args=(stop,)
        ),
    ]
    for worker in workers:
        worker.start()
    samples: list[float] = []
    try:
        with serve(marketplace) as base, httpx2.Client(base_url=base, timeout=30) as client:
            headers = {"Authorization": "Bearer mk_b_fresh"}
            product = seller.products[0]
            deadline = time.monotonic() + 30
            while client.get(f"/v1/buyer/catalog/{product}", headers=headers).status_code != 200:
                assert time.monotonic() < deadline, "the view never caught up"
                time.sleep(0.1)
            for i in range(100):
                tick = time.perf_counter()
                marketplace.offers.set_stock(seller.reseller, product, 1_000 + i)
                while True:
                    item = client.get(f"/v1/buyer/catalog/{product}", headers=headers).json()
                    if item["offers"][0]["stock"] == 1_000 + i:
                        break
                    time.sleep(0.005)
                samples.append(time.perf_counter() - tick)
                time.sleep(max(0.0, 0.1 - (time.perf_counter() - tick)))
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    return [
        latency_row("freshness_p50", percentile(samples, 50), None, scale),
        latency_row("freshness_p99", percentile(samples, 99), None, scale),
    ]
