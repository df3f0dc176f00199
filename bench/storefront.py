"""The storefront's catalog page (full HTML for a signed-in buyer) against the JSON catalog
endpoint, the same queries through the same server in the same run."""

import random
import re
import time
from typing import Any
from uuid import UUID

import httpx2

from bench.measure import latency_row, percentile
from bench.server import serve
from bench.world import World
from marketplace.people.application import NewPerson
from marketplace.platform import Marketplace

PAGES = 200
PASSWORD = "bench password, long enough"


def catalog_page(
    marketplace: Marketplace, world: World, ids: dict[str, list[UUID]], scale: str
) -> list[dict[str, Any]]:
    rng = random.Random(5)
    buyer = world.buyers[0]
    buyer_id = ids["buyers"][buyer["index"]]
    email = f"bench-{buyer['index']}@buyer.example"
    if marketplace.people.find(email) is None:
        marketplace.buyers.add_user(
            buyer_id,
            "Bench buyer",
            "buyer",
            None,
            f"mk_b_bench_page_{buyer['index']}",
            email,
            marketplace.people.drafting(NewPerson(email, "Bench buyer", PASSWORD), "buyer_user"),
        )
    key = f"mk_b_bench_{buyer['index']}"
    queries = [
        {
            k: v
            for k, v in {
                "q": rng.choice(["", "", "a", "pro", "1"]),
                "brand": rng.choice(["", "", "Brand1"]),
            }.items()
            if v
        }
        for _ in range(PAGES)
    ]
    html: list[float] = []
    json: list[float] = []
    with serve(marketplace) as base, httpx2.Client(base_url=base, timeout=60) as client:
        token = re.search(r'name="csrf_token" value="(\w+)"', client.get("/sign-in").text)
        assert token
        signed = client.post(
            "/sign-in", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
        )
        assert signed.status_code in (200, 303), signed.text
        for params in queries:
            # Interleaved, so that the machine's noise falls on both alike.
            started = time.perf_counter()
            page = client.get("/catalog", params=params)
            html.append(time.perf_counter() - started)
            assert page.status_code == 200, page.text
            started = time.perf_counter()
            answer = client.get(
                "/v1/buyer/catalog",
                params={**params, "limit": 20},
                headers={"Authorization": f"Bearer {key}"},
            )
            json.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    return [
        latency_row(
            "storefront_catalog_page_p50", percentile(html, 50), percentile(json, 50), scale
        ),
        latency_row(
            "storefront_catalog_page_p99", percentile(html, 99), percentile(json, 99), scale
        ),
    ]
