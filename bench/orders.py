"""Order figures: placing orders over HTTP, beside a CRUD shop's placement (bench/crud.py)."""

import statistics
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import psycopg

from bench import crud
from bench.measure import latency_row, percentile
from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.adapters.settings import Settings
from marketplace.kernel.accounts import ApiKey, hash_key
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails
from offers.shipping import ShippingRate
from tests.distributed import spawn, wait_until
from tests.services import answers_ready, free_port

ORDERS = 300
# Rounds of ours and the CRUD shop's placement, taken in turns.
ROUNDS = 5
CONTENDED = 400
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


class Deployment:
    """The marketplace as compose.yaml runs it, each part in its own process on PostgreSQL
    and Kafka: the relay and the projections (the pipeline), and API processes."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.pipeline: list[subprocess.Popen[bytes]] = []
        self.apis: list[subprocess.Popen[bytes]] = []
        self.bases: list[str] = []

    def start_pipeline(self) -> None:
        self.pipeline = [spawn(self.settings, name, log=self.log) for name in ("relay", "project")]

    def stop_pipeline(self) -> None:
        """The events placed meanwhile stay in the store, delivered when it starts again."""
        _stop(self.pipeline)
        self.pipeline = []

    def add_api(self) -> list[str]:
        port = free_port()
        self.apis.append(spawn(self.settings, "serve", "--port", str(port), log=self.log))
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers_ready(base), 90, f"{base} ready")
        self.bases.append(base)
        return list(self.bases)

    def stop(self) -> None:
        _stop(self.pipeline + self.apis)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def _measure(bases: list[str], place: Place) -> dict[str, Any]:
    """Sequential orders (throughput, p50, p99), then 8 clients at once on the same offers,
    spread over the API processes."""
    with httpx2.Client(base_url=bases[0], timeout=120) as client:
        for _ in range(10):
            place(client)  # warm
        sequential: list[float] = []
        started = time.perf_counter()
        for _ in range(ORDERS):
            tick = time.perf_counter()
            place(client)
            sequential.append(time.perf_counter() - tick)
        sequential_s = time.perf_counter() - started
    clients = [httpx2.Client(base_url=bases[i % len(bases)], timeout=120) for i in range(CLIENTS)]
    for client in clients:
        place(client)  # warm: each client's connection, each process

    def timed_place(i: int) -> float:
        tick = time.perf_counter()
        place(clients[i % CLIENTS])
        return time.perf_counter() - tick

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        contended = list(pool.map(timed_place, range(CONTENDED)))
    contended_s = time.perf_counter() - started
    for client in clients:
        client.close()
    return {
        "throughput": ORDERS / sequential_s,
        "p50": percentile(sequential, 50),
        "p99": percentile(sequential, 99),
        "contended_throughput": CONTENDED / contended_s,
        "contended_p99": percentile(contended, 99),
    }


@contextmanager
def _crud(url: str, products: list[str]) -> Iterator[Callable[[], dict[str, Any]]]:
    """The same catalog and orders in the CRUD shop's tables, placed through its app: a
    measurement to take, as often as wanted, while the shop is up."""
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
            yield lambda: _measure([base], place)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def _first_order(base: str, place: Place) -> None:
    """Waits for the projections to list the catalog, which the first order needs."""
    with httpx2.Client(base_url=base, timeout=120) as client:

        def placed() -> bool:
            try:
                place(client)
            except AssertionError:
                return False
            return True

        wait_until(placed, 120, "the first order placed")


def _rates(
    prefix: str, ours: dict[str, Any], baseline: dict[str, Any], scale: str
) -> list[dict[str, Any]]:
    """The sequential and contended throughputs beside the baseline's."""
    return [
        {
            "name": f"{prefix}_{name}",
            "value": round(ours[name], 1),
            "unit": "orders/s",
            "baseline": round(baseline[name], 1),
            "ratio": round(ours[name] / baseline[name], 3),
            "scale": scale,
        }
        for name in ("throughput", "contended_throughput")
    ]


def placement(marketplace: Marketplace, url: str, scale: str) -> list[dict[str, Any]]:
    """Placing a 10-line order split across 3 sellers, on the marketplace deployed as
    compose.yaml runs it (one API process, then two), against the CRUD shop's placement
    measured in the same run on the same PostgreSQL."""
    key, products = market(marketplace)
    body = {"lines": [{"product_id": p, "quantity": 1} for p in products], "payment_method": "card"}
    headers = {"Authorization": f"Bearer {key}"}

    def place(client: httpx2.Client) -> None:
        response = client.post("/v1/buyer/orders", json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert len(response.json()["seller_orders"]) == 3

    log = Path("var/bench-orders.log")
    log.parent.mkdir(exist_ok=True)
    deployment = Deployment(marketplace.settings, log)
    try:
        deployment.start_pipeline()
        bases = deployment.add_api()
        _first_order(bases[0], place)
        # With the relay and the projections busy on the same two cores.
        piped = _measure(bases, place)
        # Placement itself: API processes alone, as when the pipeline runs elsewhere.
        deployment.stop_pipeline()
        # Ours and the CRUD shop's in turns, each figure the median of its rounds: when a
        # shared machine's speed drifts during the run, both are measured through it.
        with _crud(url, products) as measure_theirs:
            runs = [(_measure(bases, place), measure_theirs()) for _ in range(ROUNDS)]
        ours = _medians([mine for mine, _ in runs])
        theirs = _medians([other for _, other in runs])
        # The same orders once every seller has a tax profile and a grid and the buyer a
        # profile: three seller orders charged shipping and VAT each.
        _taxed(marketplace)
        taxed = _measure(bases, place)
        two = _measure(deployment.add_api(), place)
    finally:
        deployment.stop()
    rows = _rates("order_placement_taxed", taxed, ours, scale)
    rows += _rates("order_placement", ours, theirs, scale)
    for name in ("p50", "p99", "contended_p99"):
        rows.append(latency_row(f"order_placement_{name}", ours[name], theirs[name], scale))
    rows += _rates("order_placement_with_pipeline", piped, theirs, scale)
    # Two API processes against one, same workload, same run (the second measured after the
    # first's taxed orders: both taxed).
    rows += _rates("order_placement_two_processes", two, taxed, scale)
    rows.append(
        latency_row(
            "order_placement_two_processes_contended_p99",
            two["contended_p99"],
            taxed["contended_p99"],
            scale,
        )
    )
    return rows
