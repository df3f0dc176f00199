"""No input makes the server answer 5xx, and every answer fits the OpenAPI document the app
publishes: schemathesis over every operation, as every role.

In `make test` the examples are derandomized: the same inputs every run, so main's CI is no
lottery; what a run ever found stays as an explicit case in the tests of its area (a bare CR
in a bank statement: tests/test_csv_inputs.py). `make fuzz` explores with fresh randomness
and more examples."""

import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.world import World, small_market

EXPLORE = os.environ.get("MARKETPLACE_FUZZ") == "explore"
EXAMPLES = 150 if EXPLORE else 30
# Every other role tries each operation too, with fewer examples: mostly refusals.
OTHER_ROLE_EXAMPLES = 10 if EXPLORE else 3
CHECKS = [not_a_server_error, response_schema_conformance]


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
            "": None,
        }
        yield {"app": app, "keys": keys, "marketplace": marketplace}
    marketplace.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'.encode())


def test_no_request_fails_or_answers_outside_its_schema_for_any_role(
    fuzzed: dict[str, Any],
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed["app"])
    failures: list[tuple[str, str, str, str]] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 40
    keys: dict[str, str | None] = fuzzed["keys"]
    for operation in operations:
        own = next(prefix for prefix in keys if operation.path.startswith(prefix))
        for prefix, key in keys.items():
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            examples = EXAMPLES if prefix == own else OTHER_ROLE_EXAMPLES
            _fuzz(operation, prefix or "anonymous", headers, examples, failures)
    assert failures == []


def _fuzz(
    operation: Any, role: str, headers: dict[str, str], examples: int, failures: list[Any]
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not EXPLORE,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failure:
            failures.append((role, case.method, case.formatted_path, str(failure)[:300]))

    check()
