"""`make soak`: the distributed mode (serve, relay, project as processes, a Kafka-protocol
broker, PostgreSQL) under a mixed load at a fixed rate for SOAK_SECONDS (600 by default):
browsing 90 %, orders 10 %, and writers changing stock and prices. Reports throughput, p50
and p99 per kind, errors, the API process's memory at the start and the end, and whether
the views equal a rebuild at the end. Writes bench/soak.json."""

import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from rich.console import Console
from rich.table import Table

from bench.measure import percentile
from bench.orders import market
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from tests.distributed import caught_up, dump_view, spawn, wait_until
from tests.kafka_broker import ApacheKafka
from tests.services import answers_ready, ensure_postgres, free_port

console = Console()
RATE = float(os.environ.get("SOAK_RATE", "40"))  # requests a second, all kinds together
WRITES_PER_S = 2.0
RSS_EVERY_S = 30.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Load:
    def __init__(self, base: str, key: str, reseller_keys: list[str], products: list[str]):
        self.base = base
        self.headers = {"Authorization": f"Bearer {key}"}
        self.resellers = [{"Authorization": f"Bearer {k}"} for k in reseller_keys]
        self.products = products
        self.samples: dict[str, list[float]] = {"browse": [], "order": [], "write": []}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def _client(self) -> httpx2.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx2.Client(base_url=self.base, timeout=30)
        return client

    def _timed(self, kind: str, call: Callable[[httpx2.Client], httpx2.Response]) -> None:
        tick = time.perf_counter()
        try:
            response = call(self._client())
            ok = response.status_code < 400 or response.status_code == 409
            detail = f"{kind} {response.status_code} {response.text[:200]}"
        except httpx2.HTTPError as error:
            ok, detail = False, f"{kind} {error!r}"
        elapsed = time.perf_counter() - tick
        with self._lock:
            self.samples[kind].append(elapsed)
            if not ok:
                self.errors.append(detail)

    def browse(self) -> None:
        params: dict[str, Any] = random.choice(
            [{}, {"q": "Thing"}, {"category": "c"}, {"limit": 5}]
        )
        self._timed(
            "browse", lambda c: c.get("/v1/buyer/catalog", params=params, headers=self.headers)
        )

    def order(self) -> None:
        lines = random.sample(self.products, 3)
        body = {
            "lines": [{"product_id": p, "quantity": 1} for p in lines],
            "payment_method": "card",
        }
        self._timed("order", lambda c: c.post("/v1/buyer/orders", json=body, headers=self.headers))

    def write(self) -> None:
        reseller = random.choice(self.resellers)
        product = random.choice(self.products)
        body = {
            "price": {"amount": random.randint(4_000, 7_000), "currency": "EUR"},
            "stock": random.randint(100_000, 1_000_000),
            "lead_time_days": 2,
        }
        self._timed(
            "write",
            lambda c: c.put(f"/v1/reseller/offers/{product}", json=body, headers=reseller),
        )


def run_load(load: Load, seconds: float, sample: Callable[[], None] = lambda: None) -> None:
    """Requests started at a fixed rate, whatever their answers' pace (an open model);
    `sample` is called every RSS_EVERY_S seconds."""
    deadline = time.monotonic() + seconds
    next_request = next_write = next_sample = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        while (now := time.monotonic()) < deadline:
            if now >= next_sample:
                sample()
                next_sample += RSS_EVERY_S
            if now >= next_write:
                pool.submit(load.write)
                next_write += 1 / WRITES_PER_S
            if now >= next_request:
                pool.submit(load.browse if random.random() < 0.9 else load.order)
                next_request += 1 / RATE
            time.sleep(max(0.0, min(next_request, next_write) - time.monotonic()))


def main() -> None:
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    url = ensure_postgres()
    broker = ApacheKafka()
    broker.start()
    schema = f"soak_{uuid.uuid4().hex[:8]}"
    settings = Settings(
        database_url=url,
        database_schema=schema,
        operator_key="soak-op",
        kafka_bootstrap=broker.bootstrap,
        topic_prefix=schema,
        topic_partitions=6,
    )
    logs = Path("var/soak")
    logs.mkdir(parents=True, exist_ok=True)
    setup = Marketplace(settings)
    port = free_port()
    procs = [
        spawn(settings, "serve", "--port", str(port), log=logs / "serve.log"),
        spawn(settings, "relay", log=logs / "relay.log"),
        spawn(settings, "project", log=logs / "project.log"),
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        key, products = market(setup)
        reseller_keys = [f"mk_s_ord_r{i}" for i in range(3)]
        wait_until(lambda: answers_ready(base), 120, "serve ready")
        wait_until(lambda: caught_up(setup), 120, "views caught up with the set-up")
        load = Load(base, key, reseller_keys, products)
        run_load(load, min(30.0, seconds / 10))  # warm-up, not counted
        load.samples = {k: [] for k in load.samples}
        load.errors.clear()
        rss: list[float] = []
        started = time.monotonic()
        run_load(load, seconds, lambda: rss.append(rss_mb(procs[0].pid)))
        elapsed = time.monotonic() - started
        rss.append(rss_mb(procs[0].pid))
        wait_until(lambda: caught_up(setup), 300, "views caught up after the load")
        live = dump_view(setup)
        setup.projections.rebuild("catalog")
        rebuilt_equal = dump_view(setup) == live
        report(load, elapsed, rss, rebuilt_equal)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        setup.close()
        broker.stop()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def report(load: Load, elapsed: float, rss: list[float], equal: bool) -> None:
    table = Table(title=f"Soak: {elapsed:.0f} s at {RATE:.0f} requests/s + {WRITES_PER_S} writes/s")
    for column in ("kind", "requests", "per s", "p50 ms", "p99 ms"):
        table.add_column(column)
    figures: dict[str, Any] = {"seconds": round(elapsed), "kinds": {}}
    for kind, samples in load.samples.items():
        if not samples:
            continue
        row = {
            "requests": len(samples),
            "per_s": round(len(samples) / elapsed, 1),
            "p50_ms": round(percentile(samples, 50) * 1000, 1),
            "p99_ms": round(percentile(samples, 99) * 1000, 1),
        }
        figures["kinds"][kind] = row
        table.add_row(kind, *(str(v) for v in row.values()))
    console.print(table)
    figures.update(
        errors=len(load.errors),
        error_examples=load.errors[:5],
        serve_rss_mb_start=round(rss[0], 1),
        serve_rss_mb_end=round(rss[-1], 1),
        # Caches fill in the first half; growth in the second half would be a leak.
        serve_rss_mb_second_half_growth=round(rss[-1] - rss[len(rss) // 2], 1),
        serve_rss_mb_every_30_s=[round(r, 1) for r in rss],
        views_equal_a_rebuild=equal,
    )
    console.print(
        f"errors: {len(load.errors)}; serve RSS {rss[0]:.1f} MB -> {rss[-1]:.1f} MB "
        f"({figures['serve_rss_mb_second_half_growth']:+.1f} MB in the second half); "
        f"views equal a rebuild: {equal}"
    )
    for example in load.errors[:5]:
        console.print(f"  {example}")
    Path("bench/soak.json").write_text(json.dumps(figures, indent=2) + "\n")
    if load.errors or not equal:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
