"""Order figures: placing orders over HTTP against plain GET /health through the same client."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2

from bench.measure import latency_row, percentile
from bench.server import serve
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails

ORDERS = 150
LINES = 10


def market(marketplace: Marketplace) -> tuple[str, list[str]]:
    sellers, offers = marketplace.sellers, marketplace.offers
    maker = sellers.register_manufacturer("Maker", "DE", "mk_s_ord_m")
    resellers = [
        sellers.register_reseller(f"R{i}", "reseller", "DE", f"mk_s_ord_r{i}") for i in range(3)
    ]
    for account_id in [maker, *resellers]:
        account = sellers.account(account_id)
        assert account is not None
        account.approve()
        sellers.save(account)
    buyer_id, _ = marketplace.buyers.register("Buyer", "T", "DE", "mk_b_ord")
    buyer = marketplace.buyers.buyer(buyer_id)
    buyer.approve()
    marketplace.buyers.save(buyer)
    product_ids = []
    for i in range(LINES):
        product, _ = offers.put_product(
            maker,
            f"O-{i}",
            ProductDetails(f"Thing {i}", "B", "c", None, {}, None, Money(10_000, "EUR"), None),
        )
        product_ids.append(str(product.id))
    for r, reseller in enumerate(resellers):
        sellers.authorize(maker, reseller, None, None)
        offers.put_terms(reseller, buyer_id, CustomerTermsDetails(None, 0, {}, ["card"], None))
        for i, pid in enumerate(product_ids):
            # Each reseller is cheapest on a third of the products: orders split three ways.
            price = 5_000 if i % 3 == r else 6_000
            offers.put_offer(
                reseller, uuid.UUID(pid), OfferDetails(Money(price, "EUR"), [], 1_000_000, 2, 1)
            )
    return "mk_b_ord", product_ids


def placement(marketplace: Marketplace, scale: str) -> list[dict[str, Any]]:
    key, products = market(marketplace)
    body = {"lines": [{"product_id": p, "quantity": 1} for p in products], "payment_method": "card"}
    headers = {"Authorization": f"Bearer {key}"}
    rows: list[dict[str, Any]] = []
    with serve(marketplace) as base, httpx2.Client(base_url=base, timeout=60) as client:
        assert client.post("/v1/buyer/orders", json=body, headers=headers).status_code == 201
        health: list[float] = []
        started = time.perf_counter()
        for _ in range(ORDERS):
            tick = time.perf_counter()
            client.get("/health")
            health.append(time.perf_counter() - tick)
        health_s = time.perf_counter() - started
        placed: list[float] = []
        started = time.perf_counter()
        for _ in range(ORDERS):
            tick = time.perf_counter()
            response = client.post("/v1/buyer/orders", json=body, headers=headers)
            assert response.status_code == 201, response.text
            assert len(response.json()["seller_orders"]) == 3
            placed.append(time.perf_counter() - tick)
        orders_s = time.perf_counter() - started
        rows.append(
            {
                "name": "order_placement_throughput",
                "value": round(ORDERS / orders_s, 1),
                "unit": "orders/s",
                "baseline": round(ORDERS / health_s, 1),
                "ratio": round(health_s / orders_s, 4),
                "scale": scale,
            }
        )
        rows.append(
            latency_row(
                "order_placement_p50", percentile(placed, 50), percentile(health, 50), scale
            )
        )
        rows.append(
            latency_row(
                "order_placement_p99", percentile(placed, 99), percentile(health, 99), scale
            )
        )

        def place(_: int) -> float:
            with httpx2.Client(base_url=base, timeout=120) as own:
                tick = time.perf_counter()
                response = own.post("/v1/buyer/orders", json=body, headers=headers)
                assert response.status_code in (201, 409), response.text
                return time.perf_counter() - tick

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            contended = list(pool.map(place, range(ORDERS)))
        contended_s = time.perf_counter() - started
        rows.append(
            {
                "name": "order_placement_contended_throughput",
                "value": round(ORDERS / contended_s, 1),
                "unit": "orders/s",
                "baseline": round(ORDERS / health_s, 1),
                "ratio": round(health_s / contended_s, 4),
                "scale": scale,
            }
        )
        rows.append(
            latency_row(
                "order_placement_contended_p99",
                percentile(contended, 99),
                percentile(health, 99),
                scale,
            )
        )
    return rows
