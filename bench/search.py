"""Catalog search at scale: a word query with three facets, against the same query read
through the `LIKE` search that came before it, in the same run, on the same catalog view.

Both are timed in-process on the view (no HTTP), each over the same buyers and queries.
"""

import random
import time
from typing import Any

from bench.load import load
from bench.measure import latency_row, percentile
from bench.world import WORDS, World
from marketplace.adapters.sql import Cursor
from marketplace.platform import Marketplace
from projections.catalog_view import FACETS, CatalogFilter, buyer_lists

QUERIES = 200


def _like_page_and_facets(cur: Cursor, p: str, buyer_id: str, word: str) -> int:
    """What the `LIKE` search did for a page (each list's rows by name, merged), and the
    three facet counts the same way: grouped over the rows `LIKE` finds."""
    lists = buyer_lists(p, cur, buyer_id, CatalogFilter())
    pattern = f"%{word.lower()}%"
    where = f"""FROM {p}listed x
        JOIN {p}accounts m ON m.id = x.manufacturer_id AND m.status = 'approved'
        WHERE x.list_id = %s AND x.search LIKE %s"""
    one = (
        f"SELECT * FROM (SELECT x.name, x.product_id {where} "
        "ORDER BY x.name, x.product_id LIMIT 51) page"
    )
    cur.execute(
        f"SELECT DISTINCT name, product_id FROM ({' UNION ALL '.join([one] * len(lists))}) pages "
        "ORDER BY name, product_id LIMIT 51",
        [v for pl in lists for v in (pl.id, pattern)],
    )
    found = len(cur.fetchall())
    marks = ", ".join(["%s"] * len(lists))
    for column in ("x.brand_key", "x.category_key", "x.list_id"):
        cur.execute(
            f"""SELECT {column} AS k, COUNT(DISTINCT x.product_id) AS n FROM {p}listed x
            JOIN {p}accounts m ON m.id = x.manufacturer_id AND m.status = 'approved'
            WHERE x.list_id IN ({marks}) AND x.search LIKE %s GROUP BY {column}""",
            [*(pl.id for pl in lists), pattern],
        )
        cur.fetchall()
    return found


def run(marketplace: Marketplace, world: World, scale: str) -> list[dict[str, Any]]:
    ids = load(marketplace, world)
    marketplace.projections.rebuild("catalog")
    skus = [p["sku"] for p in world.products]
    return measure(marketplace, [str(b) for b in ids["buyers"]], skus, scale)


def measure(
    marketplace: Marketplace, buyer_ids: list[str], skus: list[str], scale: str
) -> list[dict[str, Any]]:
    rng = random.Random(17)
    buyers = [rng.choice(buyer_ids) for _ in range(QUERIES)]
    words = [rng.choice(WORDS).lower() for _ in range(QUERIES)]
    catalog = marketplace.catalog
    for buyer, word in zip(buyers[:10], words[:10], strict=True):  # warm the caches
        catalog.search(buyer, CatalogFilter(q=word), 50, None, FACETS)

    def timed(queries: list[tuple[str, str]], read: Any) -> list[float]:
        samples = []
        for buyer, q in queries:
            started = time.perf_counter()
            read(buyer, q)
            samples.append(time.perf_counter() - started)
        return samples

    def ours(buyer: str, q: str) -> None:
        found = catalog.search(buyer, CatalogFilter(q=q), 50, None, FACETS)
        assert found.items
        assert found.facets

    def like(buyer: str, q: str) -> None:
        with marketplace.db.transaction() as cur:
            prefix = marketplace.projections.live(cur, "catalog").prefix
            assert _like_page_and_facets(cur, prefix, buyer, q) > 0

    pairs = list(zip(buyers, words, strict=True))
    new = timed(pairs, ours)
    old = timed(pairs, like)
    # A typo in every query, and two words: the tiers the `LIKE` search never had.
    typos = [(b, w[:2] + w[3] + w[2] + w[4:] if len(w) >= 5 else w + "s") for b, w in pairs]
    two = [(b, f"{w} {rng.choice(WORDS).lower()}") for b, w in pairs]
    prefixes = [(b, rng.choice(skus)[:9]) for b in buyers]
    rows = [
        latency_row("search_word_3_facets_p50", percentile(new, 50), percentile(old, 50), scale),
        latency_row("search_word_3_facets_p99", percentile(new, 99), percentile(old, 99), scale),
    ]
    browse = [(b, "") for b in buyers]
    for name, queries in (
        ("typo", typos),
        ("two_words", two),
        ("sku_prefix", prefixes),
        ("no_query", browse),
    ):
        samples = timed(
            queries, lambda b, q: catalog.search(b, CatalogFilter(q=q or None), 50, None, FACETS)
        )
        rows.append(
            latency_row(f"search_{name}_3_facets_p99", percentile(samples, 99), None, scale)
        )
    return rows
