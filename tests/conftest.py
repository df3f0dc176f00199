import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from marketplace.http import create_app
from marketplace.platform import Marketplace
from marketplace.settings import Settings
from tests.services import Tansu, ensure_postgres
from tests.world import World


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return ensure_postgres()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("MARKETPLACE_TEST_KAFKA")
    if external:
        yield external
        return
    broker = Tansu()
    broker.start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def settings_for(mode: str, tmp_path: Path, postgres_url: str, schema: str) -> Settings:
    if mode == "sqlite":
        return Settings(
            database_url=f"sqlite:///{tmp_path}/marketplace.db",
            operator_key="test-operator-key",
            kafka_bootstrap=None,
        )
    return Settings(
        database_url=postgres_url,
        database_schema=schema,
        operator_key="test-operator-key",
        kafka_bootstrap=None,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, pg_schema: str
) -> Settings:
    return settings_for(request.param, tmp_path, postgres_url, pg_schema)


@pytest.fixture
def marketplace(settings: Settings) -> Iterator[Marketplace]:
    mp = Marketplace(settings)
    yield mp
    mp.close()


@pytest.fixture
def client(marketplace: Marketplace) -> Iterator[TestClient]:
    with TestClient(create_app(marketplace)) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, marketplace: Marketplace) -> World:
    return World(client, marketplace.operator_key)
