"""Manufacturers import catalogs in bulk; bad lines are reported and good ones kept."""

import json
import time
from typing import Any

import pytest

from tests.world import Actor, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def _wait_for_job(
    world: World, owner: Actor, job_id: str, path: str = "/v1/manufacturer/imports"
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = world.ok("GET", f"{path}/{job_id}", owner)
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


def _offer_line(product_id: str, price: int, **extra: Any) -> str:
    return json.dumps(
        {"product_id": product_id, "price": eur(price), "stock": 7, "lead_time_days": 2, **extra}
    )


def test_a_reseller_imports_offers_and_each_line_is_checked_as_a_put_would_be(
    world: World,
) -> None:
    market = small_market(world)
    other_maker = world.manufacturer("Other")
    unauthorized = world.product(other_maker, "OTHER-1")
    floored = world.product(market.acme, "MAP-1", price=10_000, map_price=8_000)
    discontinued = world.product(market.acme, "GONE-1")
    world.ok("DELETE", "/v1/manufacturer/products/GONE-1", market.acme)
    good = [world.product(market.acme, f"IMP-{i}", price=5_000 + i) for i in range(600)]
    world.offer(market.rhine, good[0], 9_999)
    lines = [
        _offer_line(pid, 4_000 + i, tiers=[{"min_qty": 10, "price": eur(3_000)}])
        for i, pid in enumerate(good)
    ]
    lines.insert(2, _offer_line(unauthorized, 1_000))
    lines.insert(5, _offer_line(floored, 7_000))
    lines.insert(9, _offer_line(discontinued, 7_000))
    lines.insert(12, _offer_line(good[1], 1_000))
    lines.insert(15, '{"product_id": "not-a-uuid"}')
    lines.insert(18, _offer_line("7f1c0b52-1d0e-4bde-9b3a-111111111111", 1_000))
    world.terms(market.rhine, market.muster)
    response = world.call(
        "POST",
        "/v1/reseller/offers:import",
        market.rhine,
        content="\n".join(lines).encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202, response.text
    job = _wait_for_job(world, market.rhine, response.json()["job_id"], "/v1/reseller/imports")
    assert (job["status"], job["kind"], job["total"], job["done"]) == (
        "completed",
        "offers",
        606,
        606,
    )
    assert job["imported"] == 600
    assert [f["line"] for f in job["failed"]] == [3, 6, 10, 13, 16, 19]
    # The buyer sees every imported offer at its imported price; the refused lines changed
    # nothing, and the earlier offer on the first product was revised, not duplicated.
    world.position = job["position"]
    prices: dict[str, int] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = world.view("/v1/buyer/catalog", market.muster, **params).json()
        for item in page["items"]:
            (offer,) = item["offers"]
            prices[item["product_id"]] = offer["unit_price"]["amount"]
            assert offer["tiers"] == [{"min_qty": 10, "unit_price": eur(3_000)}]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert prices == {pid: 4_000 + i for i, pid in enumerate(good)}
    # Another reseller cannot read the job.
    assert (
        world.call("GET", f"/v1/reseller/imports/{job['job_id']}", market.danube).status_code == 404
    )
