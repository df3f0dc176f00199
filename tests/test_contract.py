"""Every JSON operation in /openapi.json states what it answers and how it refuses, so the
fuzzer checks every answer against a schema and the next route cannot slip."""

from typing import Any

import pytest

from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from marketplace.web.app import create_app


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("contract")
    market = Marketplace(Settings(database_url=f"sqlite:///{path}/m.db", operator_key="op"))
    try:
        return create_app(market).openapi()
    finally:
        market.close()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    found: dict[str, Any] = spec
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def _states_its_answer(spec: dict[str, Any], op: dict[str, Any]) -> bool:
    successes = {c: r for c, r in op["responses"].items() if c.startswith("2")}
    for response in successes.values():
        content = response.get("content")
        if content is None:
            continue  # 204: nothing to state
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            return any(kind != "application/json" for kind in content)
        resolved = _resolve(spec, schema)
        if not (resolved.get("properties") or resolved.get("items") or resolved.get("anyOf")):
            return False
    return bool(successes)


def test_every_json_operation_declares_its_answer_model(spec: dict[str, Any]) -> None:
    loose = [
        f"{method.upper()} {path}"
        for method, path, op in _operations(spec)
        if not _states_its_answer(spec, op)
    ]
    assert loose == []


def test_every_operation_declares_how_it_refuses(spec: dict[str, Any]) -> None:
    # Every /v1 input is checked (422); a key is refused when missing or unknown (401).
    unstated = []
    for method, path, op in _operations(spec):
        if not path.startswith("/v1/"):
            continue
        statuses = {int(c) for c in op["responses"] if c[0] in "45"}
        needed = {401, 422} if op.get("security") else {422}
        if not needed <= statuses:
            unstated.append(f"{method.upper()} {path}: {sorted(statuses)}")
    assert unstated == []


def test_the_check_fails_on_a_route_that_declares_nothing(spec: dict[str, Any]) -> None:
    bare: dict[str, Any] = {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}}
    loose_dict = {
        "responses": {
            "200": {
                "content": {
                    "application/json": {"schema": {"type": "object", "additionalProperties": True}}
                }
            }
        }
    }
    assert not _states_its_answer(spec, bare)
    assert not _states_its_answer(spec, loose_dict)
