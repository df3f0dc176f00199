import gc
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from projections.consumer import KafkaProjector
from tests.kafka_broker import ApacheKafka
from tests.mailbox import Mailbox
from tests.services import ensure_postgres
from tests.world import World

# The suite runs in tiers, fastest first (`make test`): `rules` (pure rules and application
# services, no store the tests must start), then the HTTP and page tests on SQLite, then what
# needs PostgreSQL or Kafka, and `last` the kill, deployment, fuzz and browser tests.
# `embedded` marks every test that runs with PostgreSQL refused to it.
LAST = {
    "test_broker_faults",
    "test_deployment",
    "test_distributed",
    "test_fuzz",
    "test_librdkafka",
    "test_reroute_crash",
    "test_placement_kill",
    "test_serve",
    "test_billing_crash",
    "test_stall",
    "test_mail_faults",
}
SERVICES = {"postgres_url", "kafka_bootstrap", "kafka_settings", "pg_schema", "store"}
BROWSER = {"site", "tab"}


def pytest_configure(config: pytest.Config) -> None:
    for marker in (
        "rules: pure rules and application services, no store to start (the first tier)",
        "embedded: runs with PostgreSQL refused to it (SQLite and in-memory only)",
        "last: kill, deployment, fuzz and browser tests (the last tier)",
    ):
        config.addinivalue_line("markers", marker)


def _mode(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    mode = params.get("settings", params.get("site"))
    return mode if isinstance(mode, str) else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        mode = _mode(item)
        embedded = mode == "sqlite" or (mode is None and not names & SERVICES)
        if embedded:
            item.add_marker("embedded")
        if item.path.stem in LAST or names & BROWSER:
            item.add_marker("last")
        elif embedded and mode is None and not names & {"settings", "client", "world"}:
            item.add_marker("rules")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The whole suite leaves gigabytes of objects behind, and the interpreter's last
    collection over them took 1.5 minutes after the summary (py-spy: gc_collect_main).
    Frozen, they are left to the operating system, which frees them at once."""
    gc.freeze()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return ensure_postgres()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Apache Kafka for the session, or the broker MARKETPLACE_TEST_KAFKA names."""
    external = os.environ.get("MARKETPLACE_TEST_KAFKA")
    if external:
        yield external
        return
    broker = ApacheKafka()
    broker.start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def settings_for(
    mode: str, tmp_path: Path, postgres_url: str, schema: str, kafka: str | None = None
) -> Settings:
    if mode == "sqlite":
        return Settings(
            database_url=f"sqlite:///{tmp_path}/marketplace.db",
            operator_key="test-operator-key",
            kafka_bootstrap=None,
            controllable_clock=True,
        )
    return Settings(
        database_url=postgres_url,
        database_schema=schema,
        operator_key="test-operator-key",
        controllable_clock=True,
        kafka_bootstrap=kafka if mode == "kafka" else None,
        topic_prefix=schema,
        topic_partitions=3,
        kafka_session_timeout_ms=6000,
        kafka_heartbeat_interval_ms=1000,
        kafka_stuck_after_s=20.0,
        projection_stall_after_s=10.0,
    )


@pytest.fixture(params=["sqlite", "postgres", "kafka"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        # The embedded mode needs no PostgreSQL (see `make test-sqlite`).
        return settings_for("sqlite", tmp_path, "", "")
    postgres_url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("pg_schema")
    kafka = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else None
    return settings_for(request.param, tmp_path, postgres_url, schema, kafka)


def start_workers(
    settings: Settings, mp: Marketplace, stop: threading.Event
) -> list[threading.Thread]:
    """The relay and the projections, running as their own processes would."""
    projectors = [KafkaProjector(settings, mp.projections, name) for name in mp.projections.names]
    workers = [
        threading.Thread(target=Relay(settings, mp.db, mp.events).run, args=(stop,)),
        *[threading.Thread(target=p.run, args=(stop,)) for p in projectors],
    ]
    for worker in workers:
        worker.start()
    # Tests start once every projection's consumer has joined its group.
    for projector in projectors:
        assert projector.ready.wait(60), f"{projector.name} never joined its group"
    mp.start_sending()  # as `project` does, beside the notifier
    return workers


@pytest.fixture
def kafka_settings(
    tmp_path: Path, postgres_url: str, pg_schema: str, kafka_bootstrap: str
) -> Settings:
    return settings_for("kafka", tmp_path, postgres_url, pg_schema, kafka_bootstrap)


@pytest.fixture
def store(kafka_settings: Settings) -> Iterator[Marketplace]:
    """The API side alone in Kafka mode: commands into the event store, nothing relayed or
    projected unless a test starts it."""
    marketplace = Marketplace(kafka_settings)
    yield marketplace
    marketplace.close()


@pytest.fixture
def marketplace(settings: Settings) -> Iterator[Marketplace]:
    mp = Marketplace(settings)
    stop = threading.Event()
    workers = start_workers(settings, mp, stop) if settings.kafka_bootstrap else []
    yield mp
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    mp.close()


@pytest.fixture
def client(marketplace: Marketplace) -> Iterator[TestClient]:
    with TestClient(create_app(marketplace)) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, marketplace: Marketplace) -> World:
    return World(client, marketplace.operator_key)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port, for the mail tests."""
    box = Mailbox()
    box.start()
    yield box
    box.stop()


# The browser tests' fixtures (tests/browsing.py), for every module that drives Chromium.
from tests.browsing import axe_source, browser_type_launch_args, site, tab  # noqa: E402,F401
