"""A view's tables carry planner statistics as they grow, with or without autovacuum."""

import time
from pathlib import Path

from bench.load import load
from bench.world import SCALES, generate
from marketplace.platform import Marketplace
from tests.conftest import settings_for


def _planned_rows(marketplace: Marketplace, table: str) -> float:
    with marketplace.db.transaction() as cur:
        prefix = marketplace.projections.live(cur, "catalog").prefix
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [prefix + table])
        row = cur.fetchone()
        assert row is not None
        return float(row["reltuples"])


def test_the_catalog_analyzes_its_tables_as_they_grow(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    marketplace = Marketplace(settings_for("postgres", tmp_path, postgres_url, pg_schema))
    try:
        with marketplace.db.transaction() as cur:
            # As in CI: nothing else gathers statistics for these tables.
            prefix = marketplace.projections.live(cur, "catalog").prefix
            for table in ("offers", "listed"):
                cur.execute(f"ALTER TABLE {prefix}{table} SET (autovacuum_enabled = off)")
        world = generate(SCALES["tiny"])
        ids = load(marketplace, world)
        marketplace.projections.catch_up()
        offers = len(world.offers)
        first = world.offers[0]
        reseller, product = ids["resellers"][first["reseller"]], ids["products"][first["product"]]
        deadline = time.monotonic() + 30
        stock = 1_000
        # Counts of changed rows reach PostgreSQL's statistics a moment after each commit;
        # each later batch analyzes what is due.
        while _planned_rows(marketplace, "offers") < offers * 0.9:
            assert time.monotonic() < deadline, "the offers table was never analyzed"
            stock += 1
            marketplace.offers.set_stock(reseller, product, stock)
            marketplace.projections.catch_up()
            time.sleep(0.2)
        assert _planned_rows(marketplace, "offers") <= offers * 1.1
        assert _planned_rows(marketplace, "listed") > 0
    finally:
        marketplace.close()
