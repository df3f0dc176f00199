"""The shapes users deploy: processes started together, several API processes on one
PostgreSQL, each process within its connection budget."""

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest

from marketplace.adapters.settings import Settings
from tests.conftest import settings_for
from tests.distributed import env_for, wait_until
from tests.services import answers_ready, free_port
from tests.world import World, small_market


def _serve(settings: Settings, port: int, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {**env_for(settings), **extra}
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "marketplace", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def _processes(*procs: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _drop(postgres_url: str, schema: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def _bring_up_together(settings: Settings, log: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = env_for(settings)
    with log.open("ab") as output:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "marketplace", *command],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            for command in (["serve", "--port", str(port)], ["relay"], ["project"])
        ]
    operator = {"Authorization": f"Bearer {settings.operator_key}"}

    def projected() -> bool:
        rows = httpx2.get(f"{base}/v1/operator/projections", headers=operator).json()
        return all(r["lag_events"] == 0 and r["position"] > 0 for r in rows)

    with _processes(*procs):
        wait_until(lambda: answers_ready(base), 90, f"serve ready ({log.read_text()[-2000:]})")
        signup = httpx2.post(f"{base}/v1/manufacturers", json={"name": "Acme", "country": "DE"})
        assert signup.status_code == 201, signup.text
        wait_until(projected, 90, f"events relayed and projected ({log.read_text()[-2000:]})")
        for proc in procs:
            assert proc.poll() is None, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def test_serve_relay_and_project_started_at_once_on_an_empty_database_all_come_up(
    tmp_path: Path, postgres_url: str, kafka_bootstrap: str
) -> None:
    for attempt in range(10):
        schema = f"t_{uuid.uuid4().hex[:12]}"
        settings = settings_for("kafka", tmp_path, postgres_url, schema, kafka_bootstrap)
        try:
            _bring_up_together(settings, tmp_path / f"start-{attempt}.log")
        finally:
            _drop(postgres_url, schema)


@pytest.fixture
def two_servers(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> Iterator[tuple[Settings, str, str]]:
    settings = settings_for("postgres", tmp_path, postgres_url, pg_schema)
    ports = free_port(), free_port()
    procs = [_serve(settings, port, tmp_path / f"serve-{port}.log") for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    with _processes(*procs):
        for base in bases:
            wait_until(lambda b=base: answers_ready(b), 90, f"{base} ready")
        yield settings, bases[0], bases[1]


def _world(base: str, settings: Settings) -> World:
    client: Any = httpx2.Client(base_url=base, timeout=60)
    return World(client, settings.operator_key or "")


def _race(sides: list[World], buyer: Any, product: str, method: str, attempts: int) -> list[int]:
    """`attempts` one-drill orders at once, alternating between the API processes."""
    body = {"lines": [{"product_id": product, "quantity": 1}], "payment_method": method}

    def order(i: int) -> int:
        response = sides[i % 2].call("POST", "/v1/buyer/orders", buyer, json=body)
        assert response.status_code in (201, 402, 409), response.text
        return response.status_code

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(order, range(attempts)))


def test_clients_racing_across_two_api_processes_never_oversell_or_overspend(
    two_servers: tuple[Settings, str, str],
) -> None:
    settings, first, second = two_servers
    world = _world(first, settings)
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    saw = world.product(m.acme, "SAW-1")
    world.offer(m.rhine, drill, 1_000, stock=20)
    world.offer(m.rhine, saw, 1_000, stock=1_000)
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=5_000)
    world.terms(m.rhine, m.bolt, payment_methods=["card"])
    sides = [_world(first, settings), _world(second, settings)]
    # Stock: 40 orders for 20 drills.
    assert _race(sides, m.bolt, drill, "card", 40).count(201) == 20
    # Credit: 40 invoice orders of 1,000 against a limit of 5,000.
    on_credit = _race(sides, m.muster, saw, "invoice_net_30", 40)
    assert on_credit.count(201) == 5, on_credit
    assert set(on_credit) == {201, 402}
    stock = {
        product: world.view(f"/v1/buyer/catalog/{product}", m.bolt).json()["offers"][0]["stock"]
        for product in (drill, saw)
    }
    assert stock == {drill: 0, saw: 995}


def test_an_idempotency_key_holds_across_api_processes(
    two_servers: tuple[Settings, str, str],
) -> None:
    settings, first, second = two_servers
    world = _world(first, settings)
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 1_000, stock=100)
    world.terms(m.rhine, m.muster, payment_methods=["card"])
    sides = [_world(first, settings), _world(second, settings)]
    body = {"lines": [{"product_id": drill, "quantity": 1}], "payment_method": "card"}

    def order(i: int) -> tuple[int, Any]:
        response = sides[i % 2].call(
            "POST",
            "/v1/buyer/orders",
            m.muster,
            json=body,
            headers={"Idempotency-Key": "po-4711"},
        )
        return response.status_code, response.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(order, range(16)))
    created = {a["order_id"] for status, a in answers if status == 201}
    assert len(created) == 1, answers
    assert all(status in (201, 409) for status, _ in answers), answers
    orders = world.view("/v1/buyer/orders", m.muster).json()["items"]
    assert len(orders) == 1


def _connections(postgres_url: str, name: str) -> int:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [name]
        ).fetchone()
    return int(row[0]) if row else 0


def test_an_api_process_under_load_holds_no_more_connections_than_its_budget(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    settings = settings_for("postgres", tmp_path, postgres_url, pg_schema)
    port = free_port()
    name = f"budget-{pg_schema}"
    proc = _serve(
        settings,
        port,
        tmp_path / "serve.log",
        PGAPPNAME=name,
        MARKETPLACE_DATABASE_CONNECTIONS="4",
    )
    base = f"http://127.0.0.1:{port}"
    with _processes(proc):
        wait_until(lambda: answers_ready(base), 90, "serve ready")
        world = _world(base, settings)
        m = small_market(world)
        drill = world.product(m.acme, "DRILL-1")
        world.offer(m.rhine, drill, 1_000, stock=1_000)
        world.terms(m.rhine, m.muster, payment_methods=["card"])
        seen: list[int] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.append(_connections(postgres_url, name))
                time.sleep(0.02)

        def work(i: int) -> int:
            side = _world(base, settings)
            if i % 3:
                return side.call("GET", "/v1/buyer/catalog", m.muster).status_code
            body = {"lines": [{"product_id": drill, "quantity": 1}], "payment_method": "card"}
            return side.call("POST", "/v1/buyer/orders", m.muster, json=body).status_code

        watcher = threading.Thread(target=watch)
        watcher.start()
        with ThreadPoolExecutor(32) as pool:
            statuses = list(pool.map(work, range(300)))
        done.set()
        watcher.join()
    assert set(statuses) <= {200, 201}, statuses
    assert max(seen) > 0
    assert max(seen) <= 4, seen


def test_the_default_budgets_of_a_modest_deployment_fit_in_postgresqls_default() -> None:
    settings = Settings(database_url="postgresql://x/y")
    kinds = ["serve"] * 4 + ["relay"] + ["project"] * 2
    total = sum(
        settings.connections(kind).store + settings.connections(kind).views for kind in kinds
    )
    assert total <= 70, total
