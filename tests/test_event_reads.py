"""Reading aggregates on PostgreSQL costs index probes however long the event log grows."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from marketplace.adapters import eventstore
from marketplace.adapters.eventstore import newer_events_statement, read_together
from marketplace.platform import Marketplace
from offers.domain import Offer, offer_id
from tests.conftest import settings_for
from tests.distributed import Seller


@pytest.fixture
def store(tmp_path: Path, postgres_url: str, pg_schema: str) -> Iterator[Marketplace]:
    marketplace = Marketplace(settings_for("postgres", tmp_path, postgres_url, pg_schema))
    try:
        yield marketplace
    finally:
        marketplace.close()


def _plan(url: str, statement: bytes | None, params: list[Any]) -> str:
    assert statement is not None
    with psycopg.connect(url) as conn:
        rows = conn.execute(b"EXPLAIN " + statement, params).fetchall()
    return "\n".join(row[0] for row in rows)


def test_reading_a_few_offers_probes_the_index_of_a_long_log(
    store: Marketplace, postgres_url: str, pg_schema: str
) -> None:
    seller = Seller(store, offers=10)
    hot = store.offers.offer(seller.reseller, seller.products[0])
    for quantity in range(5_000):
        hot.set_stock(quantity)
    store.offers.save(hot)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'ANALYZE "{pg_schema}".offers_events'.encode())
    ids = [offer_id(seller.reseller, p) for p in seller.products]
    store.offers.find(ids[0], Offer)  # kept, so the next read asks only for what is newer

    statement, params = newer_events_statement(
        pg_schema, [(store.offers, {i: 5_000 if i == ids[0] else 0 for i in ids})]
    )
    plan = _plan(postgres_url, statement, params)

    assert "offers_events_pkey" in plan, plan
    assert "Seq Scan on offers_events" not in plan, plan
    (found,) = read_together([(store.offers, ids, Offer)])
    assert {i: found[i].version for i in ids} == {
        i: store.offers.offer(seller.reseller, p).version
        for i, p in zip(ids, seller.products, strict=True)
    }
    hot_read = found[ids[0]]
    assert isinstance(hot_read, Offer)
    assert hot_read.stock == 4_999


def test_many_first_reads_of_the_last_events_of_new_kinds_share_the_connections(
    store: Marketplace,
) -> None:
    """The first read of new kinds creates their partial index with a connection of its
    own. Many such reads at once, more than the process has connections, must not each
    hold a connection while they wait their turn to create it: that starved the pool."""
    kinds = frozenset({"Offer.StockSet", "Offer.Withdrawn"})
    seller = Seller(store, offers=1)
    store.offers.set_stock(seller.reseller, seller.products[0], 3)
    threads = 4 * store.settings.connections("serve").store
    with ThreadPoolExecutor(threads) as pool:
        # Every read is under way, and waiting its turn, before the first creates the index.
        with eventstore._DEFINING:
            reads = [pool.submit(store.events.last_of, kinds) for _ in range(threads)]
            time.sleep(1)
        answers = [read.result() for read in reads]

    offers_last = store.events.heads()["offers"]
    assert [a["offers"] if a else None for a in answers] == [offers_last] * threads
