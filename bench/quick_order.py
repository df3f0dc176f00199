"""Quick order: 200 pasted `sku,quantity` lines resolved in one request, beside the same
lines resolved one by one through `GET /v1/buyer/catalog/{product_id}`, interleaved through
the same server in the same run."""

import time
from typing import Any

import httpx2

from bench.load import load
from bench.measure import latency_row, percentile
from bench.server import serve
from bench.world import Scale, generate
from marketplace.platform import Marketplace
from projections.catalog_view import CatalogFilter

LINES = 200
ROUNDS = 30
WORLD = Scale(2, 2_000, 4, 6_000, 10, 5)


def run(marketplace: Marketplace, scale: str) -> list[dict[str, Any]]:
    world = generate(WORLD)
    ids = load(marketplace, world)
    marketplace.projections.catch_up()
    buyer = world.buyers[0]
    items, _ = marketplace.catalog.page(
        str(ids["buyers"][buyer["index"]]), CatalogFilter(), LINES, None
    )
    assert len(items) == LINES, len(items)
    text = "sku,quantity\n" + "\n".join(f"{item['sku']},1" for item in items)
    headers = {"Authorization": f"Bearer mk_b_bench_{buyer['index']}"}
    together: list[float] = []
    one_by_one: list[float] = []
    with serve(marketplace) as base, httpx2.Client(base_url=base, timeout=60) as client:
        for _ in range(ROUNDS):
            started = time.perf_counter()
            answer = client.post(
                "/v1/buyer/quick-order",
                content=text,
                headers={**headers, "Content-Type": "text/csv"},
            )
            together.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["lines"]) == LINES
            started = time.perf_counter()
            for item in items:
                found = client.get(f"/v1/buyer/catalog/{item['product_id']}", headers=headers)
                assert found.status_code == 200, found.text
            one_by_one.append(time.perf_counter() - started)
    return [
        latency_row(
            "quick_order_200_p50", percentile(together, 50), percentile(one_by_one, 50), scale
        ),
        latency_row(
            "quick_order_200_p99", percentile(together, 99), percentile(one_by_one, 99), scale
        ),
    ]
