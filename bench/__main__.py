"""`make bench`: every figure beside its baseline from the same run; BENCH_SCALE=full for B2B
scale. Prints a table and writes bench/results.json."""

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from bench import billing, catalog, imports, kafka, orders, quick_order, search, webhooks
from bench.world import SCALES, generate
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from tests.kafka_broker import ApacheKafka
from tests.services import ensure_postgres

console = Console()


@contextmanager
def fresh(url: str, kafka_bootstrap: str | None = None) -> Iterator[tuple[Marketplace, str]]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = Settings(
        database_url=url,
        database_schema=schema,
        operator_key="bench-op",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=schema,
        topic_partitions=6,
        kafka_session_timeout_ms=6000,
        kafka_heartbeat_interval_ms=1000,
    )
    marketplace = Marketplace(settings)
    try:
        yield marketplace, schema
    finally:
        marketplace.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def main() -> None:
    scale_name = os.environ.get("BENCH_SCALE", "default")
    scale = SCALES[scale_name]
    # BENCH_ONLY=append,catalog,search,kafka,orders,imports,billing,quick,webhooks runs some
    # (all by default).
    default = "append,catalog,search,kafka,orders,imports,billing,quick,webhooks"
    only = set(os.environ.get("BENCH_ONLY", default).split(","))
    url = ensure_postgres()
    rows: list[dict[str, Any]] = []
    broker = ApacheKafka()
    broker.start()
    try:
        if "append" in only:
            with console.status("event appends"), fresh(url) as (mp, schema):
                rows.append(catalog.event_append(mp, url, schema, 20_000, scale_name))
        if "catalog" in only:
            with console.status("catalog at scale"), fresh(url, broker.bootstrap) as (mp, schema):
                rows += catalog.run(mp, url, schema, generate(scale), scale_name)
        if "orders" in only:
            with console.status("orders"), fresh(url, broker.bootstrap) as (marketplace, _):
                rows += orders.placement(marketplace, url, scale_name)
        if "kafka" in only:
            with console.status("relay and projection"), fresh(url, broker.bootstrap) as (mp, _):
                rows += kafka.relay_and_projection(mp, mp.settings, scale_name)
            with console.status("freshness"), fresh(url, broker.bootstrap) as (mp, _):
                rows += kafka.freshness(mp, mp.settings, scale_name)
    finally:
        broker.stop()
    if "imports" in only:
        with console.status("an import at the size limit"), fresh(url) as (marketplace, _):
            Path("var").mkdir(exist_ok=True)
            rows.append(
                imports.peak_rss(marketplace.settings, Path("var/bench-import.log"), scale_name)
            )
    if "billing" in only:
        with console.status("billing"), fresh(url) as (marketplace, _):
            rows += billing.run(marketplace, scale_name)
    if "quick" in only:
        with console.status("quick order"), fresh(url) as (marketplace, _):
            rows += quick_order.run(marketplace, scale_name)
    if "search" in only:
        with console.status("catalog search at scale"), fresh(url) as (marketplace, _):
            rows += search.run(marketplace, generate(scale), scale_name)
    if "webhooks" in only:
        with console.status("webhooks"), fresh(url) as (marketplace, _):
            rows += webhooks.run(marketplace, scale_name)
    table = Table(title=f"Benchmarks ({scale_name} scale)")
    for column in ("name", "value", "unit", "baseline", "ratio"):
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(row[c]) for c in ("name", "value", "unit", "baseline", "ratio")])
    console.print(table)
    # A partial run updates its own rows and keeps the others.
    path = Path("bench/results.json")
    kept = json.loads(path.read_text()) if path.exists() else []
    # Rows are kept per scale: a full-scale run does not replace the default figures.
    names = {(row["name"], row["scale"]) for row in rows}
    merged = [row for row in kept if (row["name"], row["scale"]) not in names] + rows
    path.write_text(json.dumps(merged, indent=2) + "\n")


main()
