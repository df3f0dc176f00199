"""Helpers for the distributed-mode tests: processes, writers, and what Kafka holds."""

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx2
from kafka import KafkaConsumer, TopicPartition

from marketplace.adapters.envelope import Envelope, decode
from marketplace.adapters.kafka import topic
from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.adapters.sql import Cursor
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails
from orders.choosing import LineRequest
from projections.catalog import TABLES
from projections.tracking import read_positions
from tests.services import answers_ready, free_port
from tests.world import World


def env_for(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "MARKETPLACE_DATABASE_URL": settings.database_url,
        "MARKETPLACE_DATABASE_SCHEMA": settings.database_schema or "",
        "MARKETPLACE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "MARKETPLACE_TOPIC_PREFIX": settings.topic_prefix,
        "MARKETPLACE_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "MARKETPLACE_OPERATOR_KEY": settings.operator_key or "",
        "MARKETPLACE_KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka_session_timeout_ms),
        "MARKETPLACE_KAFKA_HEARTBEAT_INTERVAL_MS": str(settings.kafka_heartbeat_interval_ms),
        "MARKETPLACE_KAFKA_STUCK_AFTER_S": str(settings.kafka_stuck_after_s),
        "MARKETPLACE_PROJECTION_STALL_AFTER_S": str(settings.projection_stall_after_s),
    }
    return env


def spawn(settings: Settings, *command: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """The marketplace's command in its own process; its log goes to `log` if given."""
    output = log.open("ab") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "marketplace", *command],
            env=env_for(settings),
            stdout=output,
            stderr=output,
        )
    finally:
        if log and not isinstance(output, int):
            output.close()


class Seller:
    """A manufacturer and a reseller with offers whose stock keeps changing."""

    def __init__(self, marketplace: Marketplace, offers: int = 20) -> None:
        self.marketplace = marketplace
        sellers, catalog = marketplace.sellers, marketplace.offers
        maker = sellers.register_manufacturer("Acme", "DE", "mk_s_writer_m")
        self.reseller = sellers.register_reseller("Rhine", "reseller", "DE", "mk_s_writer_r")
        for account_id in (maker, self.reseller):
            account = sellers.account(account_id)
            assert account is not None
            account.approve()
            sellers.save(account)
        sellers.authorize(maker, self.reseller, None, None)
        self.products: list[UUID] = []
        for i in range(offers):
            product, _ = catalog.put_product(
                maker,
                f"SKU-{i}",
                ProductDetails(
                    name=f"Thing {i}",
                    brand="Acme",
                    category="tools",
                    gtin=None,
                    attributes={},
                    unit=None,
                    list_price=Money(10_000, "EUR"),
                    map_price=None,
                ),
            )
            catalog.put_offer(
                self.reseller, product.id, OfferDetails(Money(9_000, "EUR"), [], 100, 2, 1)
            )
            self.products.append(product.id)

    def write(self, stop: threading.Event, pause: float = 0.002) -> int:
        rng = random.Random(1)
        written = 0
        while not stop.is_set():
            product = rng.choice(self.products)
            self.marketplace.offers.set_stock(self.reseller, product, rng.randrange(0, 1_000))
            written += 1
            time.sleep(pause)
        return written


def deliver_an_order(store: Marketplace, seller: Seller) -> tuple[UUID, UUID]:
    """A buyer with card terms orders one of the seller's products, which is accepted,
    shipped and delivered; returns the order's and the seller order's ids."""
    buyer_id, admin_id = store.buyers.register("Muster", "DE1", "DE", "mk_b_topic")
    buyer = store.buyers.buyer(buyer_id)
    buyer.approve()
    store.buyers.save(buyer)
    store.offers.put_terms(
        seller.reseller, buyer_id, CustomerTermsDetails(None, 0, {}, ["card"], None)
    )
    store.projections.catch_up()
    order = store.placement.place(
        buyer_id,
        {"kind": "buyer_user", "user_id": str(admin_id)},
        None,
        [LineRequest(seller.products[0], 2, None)],
        "card",
        None,
        None,
    )
    [seller_order_id] = order.seller_order_ids
    store.fulfilment.accept(seller.reseller, seller_order_id)
    store.fulfilment.ship(seller.reseller, seller_order_id, None, "T-1")
    store.fulfilment.deliver(seller.reseller, seller_order_id)
    return order.id, seller_order_id


def relay_until_done(settings: Settings, marketplace: Marketplace) -> None:
    """Publishes everything stored so far."""
    relay = Relay(settings, marketplace.db, marketplace.events)
    try:
        while relay.publish_once():
            pass
    finally:
        relay.close()


def read_topics(
    settings: Settings, contexts: list[str]
) -> dict[str, list[tuple[bytes, Envelope, int]]]:
    """Everything on the contexts' topics: (key, envelope, partition) in partition order."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    result: dict[str, list[tuple[bytes, Envelope, int]]] = {}
    try:
        for context in contexts:
            name = topic(settings, context)
            partitions = consumer.partitions_for_topic(name) or set()
            assigned = [TopicPartition(name, p) for p in partitions]
            consumer.assign(assigned)
            consumer.seek_to_beginning(*assigned)
            ends = consumer.end_offsets(assigned)
            records: list[tuple[bytes, Envelope, int]] = []
            while any(consumer.position(tp) < ends[tp] for tp in assigned):
                for tp, batch in consumer.poll(timeout_ms=1000).items():
                    records += [(r.key, decode(r.value), tp.partition) for r in batch]
            result[context] = records
    finally:
        consumer.close()
    return result


def wait_until(condition: Any, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def caught_up(marketplace: Marketplace, names: list[str] | None = None) -> bool:
    """Whether the projections (all unless named) reflect every event stored so far."""
    heads = marketplace.heads()
    return all(
        marketplace.projections.positions(name).get(c, 0) >= h
        for name in names or marketplace.projections.names
        for c, h in heads.items()
    )


def dump_view(marketplace: Marketplace) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the live catalog generation, in a canonical order."""
    with marketplace.db.transaction() as cur:
        prefix = marketplace.projections.live(cur, "catalog").prefix
        return _dump(cur, prefix)


def _dump(cur: Cursor, prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in [*TABLES, "versions"]:
        cur.execute(f"SELECT * FROM {prefix}{table}")
        tables[table] = sorted(tuple(sorted(row.items())) for row in cur.fetchall())
    tables["positions"] = sorted(read_positions(cur, prefix).items())
    return tables


class ServeProcess:
    """`marketplace serve` in its own process, to be killed like a real one."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **env_for(settings),
            "MARKETPLACE_RECOVER_AFTER_S": "0",
            "MARKETPLACE_CONTROLLABLE_CLOCK": "1",
        }
        with log.open("ab") as output:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "marketplace", "serve", "--port", str(self.port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: answers_ready(self.base), 90, f"serve on {self.port} ready")

    def world(self, settings: Settings) -> World:
        client: Any = httpx2.Client(base_url=self.base, timeout=60)
        return World(client, settings.operator_key or "")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def kill_among(
    server: ServeProcess, requests: list[Callable[[], httpx2.Response]], most_delay: float
) -> list[httpx2.Response | None]:
    """Sends the requests at once and kills the server as the first one answers (and up to
    `most_delay` seconds more), while the others are under way; each request's answer, or
    None where the kill cut it off."""
    answered = threading.Event()
    answers: list[httpx2.Response | None] = [None] * len(requests)

    def send(index: int) -> None:
        with contextlib.suppress(httpx2.HTTPError):  # the server is killed under it
            answers[index] = requests[index]()
            answered.set()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    answered.wait(30)
    threading.Event().wait(random.uniform(0, most_delay))
    server.kill()
    for thread in threads:
        thread.join()
    return answers
