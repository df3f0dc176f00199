"""Catalog figures: event appends, the catalog view's queries against a CRUD join, rebuild."""

import random
import threading
import time
import uuid
from typing import Any
from uuid import UUID

import httpx2
import psycopg

from bench import storefront
from bench.load import load
from bench.measure import latency_row, percentile, throughput_row
from bench.reference import as_reference, reference_catalog
from bench.server import serve
from bench.world import World
from marketplace.adapters.relay import Relay
from marketplace.adapters.settings import Settings
from marketplace.kernel.money import Money
from marketplace.kernel.position import reached
from marketplace.platform import Marketplace
from offers.application import OfferDetails
from offers.domain import Product
from offers.pricing import Tier
from projections.catalog import TABLES
from projections.consumer import KafkaProjector

QUERIES = 300
EXACT_BUYERS = 8


def event_append(
    marketplace: Marketplace, url: str, schema: str, n: int, scale: str
) -> dict[str, Any]:
    products = [
        Product(
            manufacturer_id=uuid.uuid4(),
            sku=f"APPEND-{i}",
            name=f"Thing {i}",
            brand="B",
            category="c",
            gtin=None,
            attributes={},
            unit=None,
            list_price=Money(1_000, "EUR"),
            map_price=None,
        )
        for i in range(n)
    ]
    rows = [
        (
            p.id,
            1,
            "offers.domain:Product.Published",
            marketplace.offers.mapper.to_stored_event(p.pending_events[0]).state,
        )
        for p in products
    ]
    started = time.perf_counter()
    for i in range(0, n, 500):
        marketplace.offers.save(*products[i : i + 500])
    ours = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET search_path = {schema}".encode())
        # The shape of the event store's table: the key, and the log position with its index.
        conn.execute(
            "CREATE TABLE plain_events (originator_id uuid, originator_version bigint,"
            " topic text, state bytea, notification_id bigserial,"
            " PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute("CREATE UNIQUE INDEX plain_events_position ON plain_events (notification_id)")
        started = time.perf_counter()
        # One transaction a batch, as each save of ours is.
        for i in range(0, n, 500):
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO plain_events (originator_id, originator_version, topic, state)"
                    " VALUES (%s, %s, %s, %s)",
                    rows[i : i + 500],
                )
        baseline = time.perf_counter() - started
    return throughput_row("event_append", n, ours, baseline, scale)


def crud_tables(url: str, schema: str, world: World, ids: dict[str, list[UUID]]) -> None:
    """The same world in plain normalized tables, as a CRUD shop would keep it."""
    products, resellers, buyers = ids["products"], ids["resellers"], ids["buyers"]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"SET search_path = {schema}".encode())
        cur.execute("""
            CREATE TABLE c_products (id uuid PRIMARY KEY, sku text, name text, brand text,
                category text, map_amount bigint);
            CREATE TABLE c_offers (id serial PRIMARY KEY, reseller_id uuid, product_id uuid,
                price bigint, stock bigint, lead int);
            CREATE TABLE c_tiers (offer_id int, min_qty int, price bigint);
            CREATE TABLE c_terms (reseller_id uuid, buyer_id uuid, discount_bps int,
                scoped bool);
            CREATE TABLE c_terms_categories (reseller_id uuid, buyer_id uuid, category text);
            CREATE TABLE c_fixed (reseller_id uuid, buyer_id uuid, product_id uuid,
                amount bigint);
            CREATE INDEX ON c_products (name, id);
            CREATE INDEX ON c_offers (reseller_id, product_id);
            CREATE INDEX ON c_offers (product_id);
            CREATE INDEX ON c_tiers (offer_id);
            CREATE INDEX ON c_terms (buyer_id);
            CREATE INDEX ON c_terms_categories (reseller_id, buyer_id, category);
            CREATE INDEX ON c_fixed (reseller_id, buyer_id, product_id);
        """)
        cur.executemany(
            "INSERT INTO c_products VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (products[p["index"]], p["sku"], p["name"], p["brand"], p["category"], p["map"])
                for p in world.products
            ],
        )
        cur.executemany(
            "INSERT INTO c_offers VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (
                    i + 1,
                    resellers[o["reseller"]],
                    products[o["product"]],
                    o["price"],
                    o["stock"],
                    o["lead"],
                )
                for i, o in enumerate(world.offers)
            ],
        )
        cur.executemany(
            "INSERT INTO c_tiers VALUES (%s, %s, %s)",
            [(i + 1, q, a) for i, o in enumerate(world.offers) for q, a in o["tiers"]],
        )
        for b in world.buyers:
            shape = world.shapes[b["shape"]]
            for r in shape["resellers"]:
                cur.execute(
                    "INSERT INTO c_terms VALUES (%s, %s, %s, %s)",
                    (
                        resellers[r],
                        buyers[b["index"]],
                        shape["discount"],
                        shape["catalog"] is not None,
                    ),
                )
                for category in (shape["catalog"] or {}).get("categories", []):
                    cur.execute(
                        "INSERT INTO c_terms_categories VALUES (%s, %s, %s)",
                        (resellers[r], buyers[b["index"]], category),
                    )
                for p, a in b["fixed"].items():
                    cur.execute(
                        "INSERT INTO c_fixed VALUES (%s, %s, %s, %s)",
                        (resellers[r], buyers[b["index"]], products[p], a),
                    )
        cur.execute("ANALYZE")


CRUD_QUERY = """
WITH visible AS (
  SELECT p.id, p.name, p.sku, p.brand, o.reseller_id, o.stock, o.lead,
    GREATEST(COALESCE(f.amount,
      (COALESCE(t1.price, o.price) * (10000 - t.discount_bps) + 5000) / 10000),
      COALESCE(p.map_amount, 0)) AS unit_price
  FROM c_terms t
  JOIN c_offers o ON o.reseller_id = t.reseller_id
  JOIN c_products p ON p.id = o.product_id
  LEFT JOIN c_fixed f ON f.reseller_id = t.reseller_id AND f.buyer_id = t.buyer_id
       AND f.product_id = p.id
  LEFT JOIN LATERAL (SELECT price FROM c_tiers WHERE offer_id = o.id AND min_qty <= 1
       ORDER BY min_qty DESC LIMIT 1) t1 ON true
  WHERE t.buyer_id = %(buyer)s
    AND (NOT t.scoped OR EXISTS (SELECT 1 FROM c_terms_categories c
         WHERE c.reseller_id = t.reseller_id AND c.buyer_id = t.buyer_id
         AND c.category = p.category))
    AND (%(q)s::text IS NULL OR lower(p.name || ' ' || p.sku || ' ' || p.brand) LIKE %(q)s)
    AND (%(brand)s::text IS NULL OR p.brand = %(brand)s)
    AND (%(after)s::text IS NULL OR p.name > %(after)s)
)
SELECT * FROM visible WHERE id IN (
  SELECT id FROM (SELECT DISTINCT name, id FROM visible ORDER BY name, id LIMIT 50) page)
ORDER BY name, id, unit_price, lead
"""


def _mix(rng: random.Random, world: World) -> dict[str, Any]:
    kind = rng.choice(["first", "search", "brand", "deep"])
    return {
        "kind": kind,
        "buyer": rng.randrange(len(world.buyers)),
        "q": rng.choice(["drill", "pump", "valve", "sensor"]) if kind == "search" else None,
        "brand": rng.choice(world.products)["brand"] if kind == "brand" else None,
    }


def catalog_queries(
    marketplace: Marketplace,
    url: str,
    schema: str,
    world: World,
    ids: dict[str, list[UUID]],
    scale: str,
) -> list[dict[str, Any]]:
    rng = random.Random(9)
    # At B2B scale each baseline query takes seconds; fewer keep the run in bounds.
    mix = [_mix(rng, world) for _ in range(QUERIES if scale != "full" else QUERIES // 2)]
    keys = [f"mk_b_bench_{b['index']}" for b in world.buyers]
    stop = threading.Event()

    def writer() -> None:
        # A steady 20 price or stock changes a second while buyers read.
        wrng = random.Random(11)
        while not stop.wait(0.05):
            o = wrng.choice(world.offers)
            reseller, product = ids["resellers"][o["reseller"]], ids["products"][o["product"]]
            if wrng.random() < 0.5:
                marketplace.offers.set_stock(reseller, product, wrng.randrange(0, 1_000))
                continue
            # Never below the generated price, so the tiers and the MAP stay valid.
            price = o["price"] + wrng.randrange(0, 500)
            tiers = [Tier(q, Money(a, "EUR")) for q, a in o["tiers"]]
            marketplace.offers.put_offer(
                reseller,
                product,
                OfferDetails(Money(price, "EUR"), tiers, wrng.randrange(0, 1_000), o["lead"], 1),
            )

    ours: list[float] = []
    writing = threading.Thread(target=writer, daemon=True)
    writing.start()
    try:
        with serve(marketplace) as base, httpx2.Client(base_url=base, timeout=60) as client:
            for query in mix:
                headers = {"Authorization": f"Bearer {keys[query['buyer']]}"}
                params = {k: query[k] for k in ("q", "brand") if query[k]}
                started = time.perf_counter()
                response = client.get("/v1/buyer/catalog", params=params, headers=headers)
                if query["kind"] == "deep":
                    for _ in range(4):
                        cursor = response.json()["next_cursor"]
                        if not cursor:
                            break
                        response = client.get(
                            "/v1/buyer/catalog", headers=headers, params={"cursor": cursor}
                        )
                assert response.status_code == 200, response.text
                ours.append(time.perf_counter() - started)
        baseline: list[float] = []
        with psycopg.connect(url) as conn:
            conn.execute(f"SET search_path = {schema}".encode())
            for query in mix:
                args = {
                    "buyer": ids["buyers"][query["buyer"]],
                    "brand": query["brand"],
                    "q": f"%{query['q']}%" if query["q"] else None,
                    "after": None,
                }
                started = time.perf_counter()
                rows = conn.execute(CRUD_QUERY, args).fetchall()
                if query["kind"] == "deep":
                    for _ in range(4):
                        if not rows:
                            break
                        args["after"] = rows[-1][1]
                        rows = conn.execute(CRUD_QUERY, args).fetchall()
                baseline.append(time.perf_counter() - started)
    finally:
        stop.set()
        writing.join()
    return [
        latency_row("catalog_query_p50", percentile(ours, 50), percentile(baseline, 50), scale),
        latency_row("catalog_query_p99", percentile(ours, 99), percentile(baseline, 99), scale),
    ]


def view_rows(marketplace: Marketplace, world: World, scale: str) -> list[dict[str, Any]]:
    """How the view's storage grows: all its rows, and the price lists' rows, per offer."""
    counts: dict[str, int] = {}
    with marketplace.db.transaction() as cur:
        prefix = marketplace.projections.live(cur, "catalog").prefix
        for table in TABLES:
            cur.execute(f"SELECT COUNT(*) AS n FROM {prefix}{table}")
            row = cur.fetchone()
            counts[table] = int(row["n"]) if row else 0
    offers = len(world.offers)
    return [
        _row("view_rows_per_offer", round(sum(counts.values()) / offers, 3), "rows/offer", scale),
        _row("price_list_rows_per_offer", round(counts["listed"] / offers, 3), "rows/offer", scale),
        _row("price_lists", counts["price_lists"], "lists", scale),
    ]


def _row(name: str, value: float, unit: str, scale: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": None,
        "ratio": None,
        "scale": scale,
    }


def exactness(
    marketplace: Marketplace, world: World, ids: dict[str, list[UUID]], scale: str
) -> dict[str, Any]:
    """A sample of buyers' views, read through the HTTP API, against the pricing rule
    evaluated over the event store; at B2B scale on the products a search term finds."""
    rng = random.Random(5)
    sample = rng.sample(world.buyers, min(EXACT_BUYERS, len(world.buyers)))
    term = None if len(world.products) <= 20_000 else "drill"
    names = {p["index"]: p["name"].lower() for p in world.products}
    with serve(marketplace) as base, httpx2.Client(base_url=base, timeout=120) as client:
        for b in sample:
            mine = set(world.shapes[b["shape"]]["resellers"])
            pairs = [
                (ids["resellers"][o["reseller"]], ids["products"][o["product"]])
                for o in world.offers
                if o["reseller"] in mine and (term is None or term in names[o["product"]])
            ]
            expected = reference_catalog(marketplace, ids["buyers"][b["index"]], pairs)
            items: list[dict[str, Any]] = []
            params: dict[str, Any] = {"limit": 200, **({"q": term} if term else {})}
            headers = {"Authorization": f"Bearer mk_b_bench_{b['index']}"}
            while True:
                page = client.get("/v1/buyer/catalog", params=params, headers=headers).json()
                items += page["items"]
                if not page["next_cursor"]:
                    break
                params["cursor"] = page["next_cursor"]
            if as_reference(items) != expected:
                raise AssertionError(f"buyer {b['index']}'s catalog differs from the rule")
    return _row("catalog_exact_buyers", len(sample), "buyers equal to the rule", scale)


def distribute(
    marketplace: Marketplace, settings: Settings, stop: threading.Event
) -> list[threading.Thread]:
    """The relay and the catalog projection, running as their own processes would."""
    projector = KafkaProjector(settings, marketplace.projections, "catalog")
    workers = [
        threading.Thread(
            target=Relay(settings, marketplace.db, marketplace.events).run, args=(stop,)
        ),
        threading.Thread(target=projector.run, args=(stop,)),
    ]
    for worker in workers:
        worker.start()
    return workers


def caught_up(marketplace: Marketplace, timeout: float) -> None:
    wanted = marketplace.heads()
    deadline = time.monotonic() + timeout
    while not reached(marketplace.projections.positions("catalog"), wanted):
        if time.monotonic() > deadline:
            raise TimeoutError("the catalog view did not catch up")
        time.sleep(0.1)


def run(
    marketplace: Marketplace, url: str, schema: str, world: World, scale: str
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    ids = load(marketplace, world)
    load_s = time.perf_counter() - started
    events = sum(marketplace.heads().values())
    rows.append(throughput_row("world_load", events, load_s, None, scale))
    stop = threading.Event()
    started = time.perf_counter()
    workers = distribute(marketplace, marketplace.settings, stop)
    try:
        caught_up(marketplace, 3 * 3600)
        rows.append(
            throughput_row(
                "world_relay_and_projection", events, time.perf_counter() - started, None, scale
            )
        )
        started = time.perf_counter()
        rebuilt = marketplace.projections.rebuild("catalog")
        rows.append(
            throughput_row("catalog_rebuild", rebuilt, time.perf_counter() - started, None, scale)
        )
        crud_tables(url, schema, world, ids)
        rows += catalog_queries(marketplace, url, schema, world, ids, scale)
        rows += storefront.catalog_page(marketplace, world, ids, scale)
        caught_up(marketplace, 600)
        rows.append(exactness(marketplace, world, ids, scale))
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    rows += view_rows(marketplace, world, scale)
    return rows
