"""No input makes the server answer 5xx: schemathesis against the app's own OpenAPI document."""

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.world import World, small_market

EXAMPLES = 30


@schemathesis.serializer("application/x-ndjson")
def ndjson(_: Any, value: Any) -> bytes:
    return str(value).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def fuzzed(postgres_url: str) -> Iterator[dict[str, Any]]:
    schema_name = f"t_fuzz_{uuid.uuid4().hex[:8]}"
    marketplace = Marketplace(
        Settings(
            database_url=postgres_url, database_schema=schema_name, operator_key="fuzz-operator"
        )
    )
    app = create_app(marketplace)
    with TestClient(app) as client:
        world = World(client, marketplace.operator_key)
        m = small_market(world)
        drill = world.product(m.acme, "DRILL-1")
        world.offer(m.rhine, drill, 1_000)
        world.terms(m.rhine, m.muster)
        rep = world.sales_rep(m.rhine, [m.muster])
        keys = {
            "/v1/operator": marketplace.operator_key,
            "/v1/manufacturer": m.acme.key,
            "/v1/reseller": m.rhine.key,
            "/v1/buyer": m.muster.key,
            "/v1/sales-rep": rep.key,
        }
        yield {"app": app, "keys": keys, "marketplace": marketplace}
    marketplace.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'.encode())


def test_no_request_makes_the_server_fail(fuzzed: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed["app"])
    failures: list[tuple[str, str, int, str]] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 20
    for operation in operations:
        _fuzz(operation, _auth(fuzzed["keys"], operation.path), failures)
    assert failures == []


def _auth(keys: dict[str, str], path: str) -> dict[str, str]:
    key = next((k for prefix, k in keys.items() if path.startswith(prefix)), None)
    return {"Authorization": f"Bearer {key}"} if key else {}


def _fuzz(operation: Any, headers: dict[str, str], failures: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                (case.method, case.formatted_path, response.status_code, response.text[:200])
            )

    check()
