"""Manufacturers import catalogs in bulk; bad lines are reported and good ones kept."""

import json
import time
from typing import Any

from tests.world import Actor, World, eur


def _wait_for_job(world: World, acme: Actor, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = world.ok("GET", f"/v1/manufacturer/imports/{job_id}", acme)
        if job["status"] == "completed" or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_an_import_keeps_the_good_lines_and_reports_each_bad_one(world: World) -> None:
    acme = world.manufacturer()
    good = [
        {
            "sku": f"SKU-{i}",
            "name": f"Thing {i}",
            "brand": "Acme",
            "category": "tools",
            "list_price": eur(1_000 + i),
        }
        for i in range(1_200)
    ]
    lines = [json.dumps(item) for item in good]
    lines.insert(3, "{not json")
    lines.insert(
        10,
        json.dumps(
            {"sku": "BAD-PRICE", "name": "x", "brand": "b", "category": "c", "list_price": eur(-1)}
        ),
    )
    lines.insert(20, json.dumps({**good[0], "map_price": eur(99_999)}))
    lines.insert(30, "")
    body = "\n".join(lines).encode()
    response = world.call(
        "POST",
        "/v1/manufacturer/products:import",
        acme,
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202
    job = _wait_for_job(world, acme, response.json()["job_id"])
    assert job["status"] == "completed"
    assert job["total"] == 1_203
    assert job["done"] == 1_203
    assert job["imported"] == 1_200
    assert [f["line"] for f in job["failed"]] == [4, 11, 21]
    assert all(f["detail"] for f in job["failed"])
    # Every good line is a product now; the bad ones changed nothing.
    seen = []
    cursor = None
    world.position = job["position"]
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = world.view("/v1/manufacturer/products", acme, **params).json()
        seen += [item["sku"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(str(item["sku"]) for item in good)


def test_an_import_with_no_lines_is_refused(world: World) -> None:
    acme = world.manufacturer()
    response = world.call(
        "POST",
        "/v1/manufacturer/products:import",
        acme,
        content=b"\n\n",
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 422
    response = world.call(
        "POST",
        "/v1/manufacturer/products:import",
        acme,
        content=b"\xff\xfe",
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 422


def test_another_manufacturer_cannot_read_an_import(world: World) -> None:
    acme = world.manufacturer("Acme")
    other = world.manufacturer("Other")
    line = json.dumps(
        {"sku": "A", "name": "A", "brand": "A", "category": "A", "list_price": eur(5)}
    )
    job_id = world.ok("POST", "/v1/manufacturer/products:import", acme, content=line.encode())[
        "job_id"
    ]
    assert world.call("GET", f"/v1/manufacturer/imports/{job_id}", other).status_code == 404
    assert _wait_for_job(world, acme, job_id)["imported"] == 1
