"""`marketplace rebuild` on PostgreSQL: worker processes fold the event store, and the new
generation holds what the old one did."""

import subprocess
import sys
from pathlib import Path

from bench.load import load
from bench.world import SCALES, generate
from marketplace.platform import Marketplace
from tests.conftest import settings_for
from tests.distributed import dump_view, env_for


def test_the_rebuild_command_swaps_in_an_equal_generation(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    settings = settings_for("postgres", tmp_path, postgres_url, pg_schema)
    marketplace = Marketplace(settings)
    try:
        # Price lists, scopes and per-buyer terms, built live.
        load(marketplace, generate(SCALES["tiny"]))
        marketplace.projections.catch_up()
        before = dump_view(marketplace)
        with marketplace.db.transaction() as cur:
            old = marketplace.projections.live(cur, "catalog").prefix
        done = subprocess.run(
            [sys.executable, "-m", "marketplace", "rebuild", "catalog"],
            env={**env_for(settings), "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        events = sum(marketplace.heads().values())
        assert f"catalog: rebuilt from {events} events" in done.stdout
        with marketplace.db.transaction() as cur:
            assert marketplace.projections.live(cur, "catalog").prefix != old
        assert dump_view(marketplace) == before
    finally:
        marketplace.close()
