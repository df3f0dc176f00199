"""Runs projections: their tables, positions, status, rebuilds, and in-process delivery."""

import logging
import threading
import time
from collections.abc import Callable, Mapping

from marketplace.errors import Conflict
from marketplace.position import Positions, reached
from marketplace.sql import Cursor, Database
from projections.eventlog import EventLog
from projections.tracking import (
    Lock,
    Projection,
    ProjectionTables,
    apply_batch,
    create_tracking,
    read_positions,
)

log = logging.getLogger(__name__)
BATCH = 500
ProjectionFactory = Callable[[str], Projection]
Progress = Callable[[int, int], None]


class Projections:
    def __init__(
        self, db: Database, events: EventLog, factories: Mapping[str, ProjectionFactory]
    ) -> None:
        self.db = db
        self.events = events
        self.factories = dict(factories)
        self.tables = ProjectionTables(db)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rebuilding = threading.Lock()
        for name in self.factories:
            with db.transaction() as cur:
                self._create(cur, self.live(cur, name))

    @property
    def names(self) -> list[str]:
        return list(self.factories)

    def live(self, cur: Cursor, name: str, lock: Lock = None) -> Projection:
        return self.factories[name](self.tables.live_prefix(cur, name, lock))

    def _create(self, cur: Cursor, projection: Projection) -> None:
        projection.create(cur)
        create_tracking(cur, projection.prefix)

    def positions(self, name: str) -> Positions:
        with self.db.transaction() as cur:
            return read_positions(cur, self.live(cur, name).prefix)

    # In-process delivery (the embedded mode)

    def catch_up(self, names: list[str] | None = None) -> int:
        applied = 0
        with self._lock:
            for name in names or self.names:
                applied += self._catch_up(name)
        return applied

    def _catch_up(self, name: str) -> int:
        applied = 0
        while True:
            with self.db.transaction() as cur:
                batch = self._drain(cur, self.live(cur, name, lock="share"), BATCH)
            if not batch:
                return applied
            applied += batch

    def _drain(self, cur: Cursor, projection: Projection, limit: int | None = None) -> int:
        """Applies what the event logs hold beyond the projection's positions; returns how
        many events it read."""
        applied = 0
        for context in self.events.contexts:
            while True:
                after = read_positions(cur, projection.prefix).get(context, 0)
                batch = self.events.read(context, after, BATCH)
                if batch:
                    apply_batch(cur, projection, batch, self.events.missing)
                    applied += len(batch)
                if len(batch) < BATCH or (limit is not None and applied >= limit):
                    break
        return applied

    def start(self, interval: float = 0.25) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.catch_up()
                except Exception:
                    log.exception("in-process projection failed; retrying")

        self._thread = threading.Thread(target=loop, name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait(self, name: str, wanted: Positions, timeout: float, deliver: bool) -> bool:
        """Waits until the view reflects `wanted`; in-process, it delivers while it waits."""
        deadline = time.monotonic() + timeout
        while True:
            if deliver:
                self.catch_up([name])
            if reached(self.positions(name), wanted):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    # Operator views

    def status(self) -> list[dict[str, object]]:
        heads = self.events.heads()
        rows: list[dict[str, object]] = []
        for name in self.names:
            with self.db.transaction() as cur:
                positions = read_positions(cur, self.live(cur, name).prefix)
                status, error = self.tables.status(cur, name)
            rows.append(
                {
                    "name": name,
                    "position": sum(positions.values()),
                    "lag_events": sum(max(0, heads[c] - positions.get(c, 0)) for c in heads),
                    "status": status,
                    "error": error,
                    "contexts": {
                        c: {"position": positions.get(c, 0), "head": heads[c]} for c in heads
                    },
                }
            )
        return rows

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Builds a new generation beside the live one from the event store, then swaps."""
        return self.run_rebuild(name, self.begin_rebuild(name), progress)

    def begin_rebuild(self, name: str) -> str:
        if not self._rebuilding.acquire(blocking=False):
            raise Conflict("a rebuild is already running")
        try:
            with self.db.transaction() as cur:
                prefix = self.tables.next_generation(cur, name)
                self.tables.set_status(cur, name, "rebuilding")
                fresh = self.factories[name](prefix)
                self._drop(cur, fresh)
                self._create(cur, fresh)
        except BaseException:
            self._rebuilding.release()
            raise
        return prefix

    def run_rebuild(self, name: str, prefix: str, progress: Progress | None = None) -> int:
        try:
            return self._build(name, prefix, progress)
        except BaseException:
            with self.db.transaction() as cur:
                self.tables.set_status(cur, name, "running", "the last rebuild failed")
            raise
        finally:
            self._rebuilding.release()

    def _build(self, name: str, prefix: str, progress: Progress | None) -> int:
        fresh = self.factories[name](prefix)
        total = sum(self.events.heads().values())
        applied = 0
        for context in self.events.contexts:
            while True:
                with self.db.transaction() as cur:
                    after = read_positions(cur, prefix).get(context, 0)
                    batch = self.events.read(context, after, BATCH)
                    if not batch:
                        break
                    apply_batch(cur, fresh, batch, self.events.missing)
                applied += len(batch)
                if progress:
                    progress(applied, max(total, applied))
        with self._lock, self.db.transaction() as cur:
            # Locking the live generation stops every writer of the old one while the new
            # one takes the last events and becomes live, so none falls between the two.
            old = self.live(cur, name, lock="update")
            self._drain(cur, fresh)
            self.tables.swap(cur, name, prefix)
            self.tables.set_status(cur, name, "running")
        log.info("rebuilt %s into %s (was %s)", name, prefix, old.prefix)
        return applied

    def _drop(self, cur: Cursor, projection: Projection) -> None:
        for table in [*projection.tables(), "positions", "versions"]:
            cur.execute(f"DROP TABLE IF EXISTS {projection.prefix}{table}")
