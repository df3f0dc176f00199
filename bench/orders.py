"""Order figures: placing orders over HTTP, beside a CRUD shop's placement (bench/crud.py)."""

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import psycopg

from bench import crud
from bench.measure import latency_row, percentile
from bench.server import serve
from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.kernel.accounts import ApiKey, hash_key
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails
from offers.shipping import ShippingRate

ORDERS = 150
LINES = 10
CLIENTS = 8


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


def _taxed(marketplace: Marketplace) -> None:
    address = {"line1": "Weg 1", "postcode": "10115", "city": "Berlin", "country": "DE"}
    parcel = ShippingRate(
        "std", "Parcel", ("DE", "AT"), Money(490, "EUR"), Money(100, "EUR"), None, 1, 3
    )
    taxes = marketplace.taxes

    def owner(app: MarketplaceApplication, key: str) -> uuid.UUID:
        found = app.find(ApiKey.create_id(hash_key(key)), ApiKey)
        assert found is not None
        return found.account_id

    for i in range(3):
        seller = owner(marketplace.sellers, f"mk_s_ord_r{i}")
        taxes.set_profile("seller", seller, "Seller", "DE", None, None, dict(address))
        taxes.set_grid(seller, [parcel])
    buyer = owner(marketplace.buyers, "mk_b_ord")
    taxes.set_profile("buyer", buyer, "Buyer", "DE", None, None, dict(address))


Place = Callable[[httpx2.Client], None]


def _measure(base: str, place: Place) -> dict[str, Any]:
    """Sequential orders (throughput, p50, p99), then 8 clients at once on the same offers."""
    with httpx2.Client(base_url=base, timeout=120) as client:
        place(client)  # warm
        sequential: list[float] = []
        started = time.perf_counter()
        for _ in range(ORDERS):
            tick = time.perf_counter()
            place(client)
            sequential.append(time.perf_counter() - tick)
        sequential_s = time.perf_counter() - started

    def timed_place(_: int) -> float:
        with httpx2.Client(base_url=base, timeout=120) as own:
            tick = time.perf_counter()
            place(own)
            return time.perf_counter() - tick

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        contended = list(pool.map(timed_place, range(ORDERS)))
    contended_s = time.perf_counter() - started
    return {
        "throughput": ORDERS / sequential_s,
        "p50": percentile(sequential, 50),
        "p99": percentile(sequential, 99),
        "contended_throughput": ORDERS / contended_s,
        "contended_p99": percentile(contended, 99),
    }


def _crud(url: str, marketplace: Marketplace, products: list[str]) -> dict[str, Any]:
    """The same catalog and orders in the CRUD shop's tables, placed through its app."""
    buyer = uuid.uuid4()
    resellers = [uuid.uuid4() for _ in range(3)]
    offers = [
        (reseller, uuid.UUID(pid), 5_000 if i % 3 == r else 6_000, 1_000_000)
        for r, reseller in enumerate(resellers)
        for i, pid in enumerate(products)
    ]
    schema = f"crud_{uuid.uuid4().hex[:8]}"
    crud.create(url, schema, buyer, offers)
    body = {
        "buyer_id": str(buyer),
        "lines": [{"product_id": p, "quantity": 1} for p in products],
        "payment_method": "card",
    }

    def place(client: httpx2.Client) -> None:
        response = client.post("/orders", json=body)
        assert response.status_code == 201, response.text
        assert len(response.json()["seller_orders"]) == 3

    try:
        with crud.serve(url, schema) as base:
            return _measure(base, place)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())


def placement(marketplace: Marketplace, url: str, scale: str) -> list[dict[str, Any]]:
    """Placing a 10-line order split across 3 sellers, against the CRUD shop's placement
    measured in the same run on the same PostgreSQL."""
    key, products = market(marketplace)
    body = {"lines": [{"product_id": p, "quantity": 1} for p in products], "payment_method": "card"}
    headers = {"Authorization": f"Bearer {key}"}

    def place(client: httpx2.Client) -> None:
        response = client.post("/v1/buyer/orders", json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert len(response.json()["seller_orders"]) == 3

    with serve(marketplace) as base:
        ours = _measure(base, place)
        # The same orders once every seller has a tax profile and a grid and the buyer a
        # profile: three seller orders charged shipping and VAT each.
        _taxed(marketplace)
        taxed = _measure(base, place)
    theirs = _crud(url, marketplace, products)
    rows = [
        {
            "name": f"order_placement_taxed_{name}",
            "value": round(taxed[name], 1),
            "unit": "orders/s",
            "baseline": round(ours[name], 1),
            "ratio": round(taxed[name] / ours[name], 3),
            "scale": scale,
        }
        for name in ("throughput", "contended_throughput")
    ]
    for name in ("throughput", "contended_throughput"):
        rows.append(
            {
                "name": f"order_placement_{name}",
                "value": round(ours[name], 1),
                "unit": "orders/s",
                "baseline": round(theirs[name], 1),
                "ratio": round(ours[name] / theirs[name], 3),
                "scale": scale,
            }
        )
    for name in ("p50", "p99", "contended_p99"):
        rows.append(latency_row(f"order_placement_{name}", ours[name], theirs[name], scale))
    return rows
