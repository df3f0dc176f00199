"""Runs projections: their tables, positions, status, rebuilds, and in-process delivery."""

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError as StoreUnavailable

from marketplace.adapters import metrics
from marketplace.adapters.envelope import Envelope
from marketplace.adapters.eventlog import EventLog
from marketplace.adapters.sql import Cursor, Database
from marketplace.kernel.errors import Conflict
from marketplace.kernel.position import Positions, reached
from projections.replay import Replay
from projections.statistics import refresh_statistics
from projections.tracking import (
    Fold,
    Lock,
    Projection,
    ProjectionTables,
    advance_positions,
    apply_batch,
    create_tracking,
    poison_count,
    poison_events,
    read_positions,
    record_poison,
    skip_version,
)

log = logging.getLogger(__name__)
BATCH = 500
REBUILD_BATCH = 5_000
ProjectionFactory = Callable[[str], Projection]
# (projection, prefix, bounds, part, parts) -> events read: `replay_part` in another process.
PartReplayer = Callable[[str, str, Positions, int, int], int]
Progress = Callable[[int, int], None]
# Failures of the machinery, not of one event: retried, never recorded as poison.
TRANSIENT = (psycopg.OperationalError, sqlite3.OperationalError, StoreUnavailable)


class ProjectionRunner:
    def __init__(
        self, db: Database, events: EventLog, factories: Mapping[str, ProjectionFactory]
    ) -> None:
        self.db = db
        self.events = events
        self.factories = dict(factories)
        self.tables = ProjectionTables(db)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # One rebuild at a time per projection; different projections rebuild side by side.
        self._rebuilding = {name: threading.Lock() for name in self.names}
        # Set where the event store can be read in partitions from other processes.
        self.replay_parts: PartReplayer | None = None
        self.parts = min(4, os.cpu_count() or 1)
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

    # Applying events, whichever way they are delivered

    def apply(
        self,
        name: str,
        events: Sequence[Envelope],
        track_positions: bool = True,
        prefix: str | None = None,
        deferred: bool = False,
        exclusive: bool = False,
    ) -> None:
        """Applies a batch exactly once, to the live generation unless `prefix` names one;
        `exclusive` keeps every other writer of the live generation waiting meanwhile.

        An event the projection cannot apply is poison: it is recorded, reported, and
        skipped (its aggregate's version moves past it), so one bad event neither stops the
        projection nor loops forever. Fixing the cause and rebuilding repairs the view.
        """

        def target(cur: Cursor) -> Projection:
            if prefix is None:
                return self.live(cur, name, lock="update" if exclusive else "share")
            projection = self.factories[name](prefix)
            projection.deferred = deferred
            return projection

        try:
            with self.db.transaction() as cur:
                projection = target(cur)
                if prefix is None:
                    refresh_statistics(cur, projection.prefix)
                apply_batch(cur, projection, events, self.events.missing, track_positions)
        except TRANSIENT:
            raise
        except Exception:
            log.warning("a batch of %d events failed; applying them one by one", len(events))
            self._apply_one_by_one(name, target, events, track_positions)
        metrics.EVENTS_PROJECTED.labels(name).inc(len(events))

    def _apply_one_by_one(
        self,
        name: str,
        target: Callable[[Cursor], Projection],
        events: Sequence[Envelope],
        track_positions: bool,
    ) -> None:
        with self.db.transaction() as cur:
            projection = target(cur)
            for event in events:
                cur.execute("SAVEPOINT one_event")
                try:
                    apply_batch(cur, projection, [event], self.events.missing, track_positions)
                    cur.execute("RELEASE SAVEPOINT one_event")
                except TRANSIENT:
                    raise
                except Exception as error:
                    cur.execute("ROLLBACK TO SAVEPOINT one_event")
                    detail = f"{type(error).__name__}: {error}"
                    log.error(
                        "poison event %s (%s %s v%d): %s",
                        event["event_id"],
                        event["type"],
                        event["aggregate_id"],
                        event["aggregate_version"],
                        detail,
                    )
                    record_poison(cur, projection.prefix, event, detail)
                    skip_version(
                        cur, projection.prefix, event["aggregate_id"], event["aggregate_version"]
                    )
                    if track_positions and event["position"] is not None:
                        cur.execute(
                            f"INSERT INTO {projection.prefix}positions (context, position) "
                            "VALUES (%s, %s) ON CONFLICT (context) DO UPDATE SET position = "
                            "excluded.position",
                            [event["context"], event["position"]],
                        )
                    self.tables.set_status(cur, name, "degraded", detail[:500])
                    metrics.POISON_EVENTS.labels(name).inc()

    def advance(self, name: str) -> None:
        """Moves positions over what Kafka delivered out of log order (see tracking)."""
        with self.db.transaction() as cur:
            projection = self.live(cur, name, lock="share")
            advance_positions(cur, projection.prefix, self.events.contexts, self.events.index)

    # In-process delivery (the embedded mode)

    def catch_up(self, names: list[str] | None = None) -> int:
        """Applies what the store holds past the views' watermarks. Several API processes
        may do so at once on one database: each batch holds the live generation
        exclusively, so the same event is never applied twice."""
        read = 0
        with self._lock:
            # Read once for every view: a context a view has reached is not read again, so
            # an idle marketplace costs a query per context and one per view each round.
            heads = self.events.heads()
            for name in names or self.names:
                read += self._catch_up(name, exclusive=True, heads=heads)
        return read

    def _catch_up(
        self,
        name: str,
        prefix: str | None = None,
        exclusive: bool = False,
        heads: Positions | None = None,
    ) -> int:
        read = 0
        if heads is not None:
            with self.db.transaction() as cur:
                reached_now = read_positions(cur, self.live(cur, name).prefix)
        for context in self.events.contexts:
            if heads is not None and reached_now.get(context, 0) >= heads.get(context, 0):
                continue
            while True:
                with self.db.transaction() as cur:
                    projection = self.factories[name](prefix) if prefix else self.live(cur, name)
                    after = read_positions(cur, projection.prefix).get(context, 0)
                batch = self.events.read(context, after, BATCH)
                if batch:
                    self.apply(name, batch, prefix=prefix, exclusive=exclusive)
                    read += len(batch)
                if len(batch) < BATCH:
                    break
        return read

    def repair(self, name: str) -> int:
        """Applies what the event store holds past the view's watermark, whatever Kafka
        delivered: each batch holds the live generation exclusively, so a consumer applying
        the same events meanwhile waits and then finds them applied. Returns events read."""
        with self._lock:
            return self._catch_up(name, exclusive=True)

    def mark_stalled(self, name: str, why: str) -> bool:
        with self.db.transaction() as cur:
            return self.tables.change_status(cur, name, ["running", "degraded"], "stalled", why)

    def clear_stalled(self, name: str) -> bool:
        with self.db.transaction() as cur:
            status = "degraded" if poison_count(cur, self.live(cur, name).prefix) else "running"
            return self.tables.change_status(cur, name, ["stalled"], status, None)

    def nudge(self) -> None:
        self._wake.set()

    def start(self, interval: float = 0.25) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self._wake.wait(interval)
                self._wake.clear()
                if self._stop.is_set():
                    return
                try:
                    self.catch_up()
                except Exception:
                    log.exception("in-process projection failed; retrying")

        self._thread = threading.Thread(target=loop, name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

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
            time.sleep(0.02)

    # Operator views

    def status(self) -> list[dict[str, object]]:
        heads = self.events.heads()
        rows: list[dict[str, object]] = []
        for name in self.names:
            with self.db.transaction() as cur:
                prefix = self.live(cur, name).prefix
                positions = read_positions(cur, prefix)
                status, error = self.tables.status(cur, name)
                poison = poison_count(cur, prefix)
            lag = sum(max(0, heads[c] - positions.get(c, 0)) for c in heads)
            metrics.PROJECTION_LAG.labels(name).set(lag)
            rows.append(
                {
                    "name": name,
                    "position": sum(positions.values()),
                    "lag_events": lag,
                    "status": status,
                    "error": error,
                    "poison_events": poison,
                    "contexts": {
                        c: {"position": positions.get(c, 0), "head": heads[c]} for c in heads
                    },
                }
            )
        return rows

    def poisoned(self, name: str) -> list[dict[str, Any]]:
        """The live generation's poison events, with their errors."""
        with self.db.transaction() as cur:
            return poison_events(cur, self.live(cur, name).prefix)

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Builds a new generation beside the live one from the event store, then swaps."""
        return self.run_rebuild(name, self.begin_rebuild(name), progress)

    def begin_rebuild(self, name: str) -> str:
        if not self._rebuilding[name].acquire(blocking=False):
            raise Conflict(f"a rebuild of {name} is already running")
        try:
            with self.db.transaction() as cur:
                prefix = self.tables.next_generation(cur, name)
                self.tables.set_status(cur, name, "rebuilding")
                fresh = self.factories[name](prefix)
                fresh.deferred = True
                self._drop(cur, fresh)
                self._create(cur, fresh)
        except BaseException:
            self._rebuilding[name].release()
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
            self._rebuilding[name].release()

    def _build(self, name: str, prefix: str, progress: Progress | None) -> int:
        started = time.monotonic()
        fresh = self.factories[name](prefix)
        fresh.deferred = True
        fold = fresh.fold()
        if fold is not None and self.replay_parts is not None and self.parts > 1:
            read = self._replay_in_parts(name, prefix, progress)
        else:
            read = self._replay_here(name, prefix, fold, progress)
        replayed = time.monotonic()
        with self.db.transaction() as cur:
            fresh.finish(cur)
        finished = time.monotonic()
        with self._lock, self.db.transaction() as cur:
            # Locking the live generation stops every writer of the old one while the new
            # one takes the last events and becomes live, so none falls between the two.
            old = self.live(cur, name, lock="update")
            for context in self.events.contexts:
                while True:
                    after = read_positions(cur, prefix).get(context, 0)
                    batch = self.events.read(context, after, BATCH)
                    apply_batch(cur, fresh, batch, self.events.missing)
                    read += len(batch)
                    if len(batch) < BATCH:
                        break
            self.tables.swap(cur, name, prefix)
            status = "degraded" if poison_count(cur, prefix) else "running"
            self.tables.set_status(cur, name, status)
        log.info(
            "rebuilt %s into %s (was %s) from %d events: replay %.1f s, finish %.1f s, swap %.1f s",
            name,
            prefix,
            old.prefix,
            read,
            replayed - started,
            finished - replayed,
            time.monotonic() - finished,
        )
        metrics.REBUILDS.labels(name).inc()
        return read

    def _replay_here(
        self, name: str, prefix: str, fold: Fold | None, progress: Progress | None
    ) -> int:
        total = sum(self.events.heads().values())
        replay = None if fold is None else Replay(prefix, fold)
        with self.db.transaction() as cur:
            start = read_positions(cur, prefix)
        read = 0

        def batch_after(context: str, after: int) -> tuple[list[Envelope], int | None]:
            batch = self.events.read(context, after, REBUILD_BATCH)
            more = len(batch) == REBUILD_BATCH
            return batch, int(batch[-1]["position"] or after) if more else None

        for batch in _read_ahead(self.events.contexts, start, batch_after):
            if replay is None:
                self.apply(name, batch, prefix=prefix, deferred=True)
            else:
                replay.apply(batch)
            read += len(batch)
            if progress:
                progress(read, max(total, read))
        if replay is not None:
            with self.db.transaction() as cur:
                replay.write(cur)
        return read

    def _replay_in_parts(self, name: str, prefix: str, progress: Progress | None) -> int:
        """Each process folds the events of one partition of the aggregates and writes their
        rows; the positions are those of the log when they started."""
        assert self.replay_parts is not None
        bounds = self.events.heads()
        total = sum(bounds.values())
        read = 0
        parts = self.parts
        with ProcessPoolExecutor(parts, mp_context=get_context("spawn")) as pool:
            jobs = [
                pool.submit(self.replay_parts, name, prefix, bounds, part, parts)
                for part in range(parts)
            ]
            for job in as_completed(jobs):
                read += job.result()
                if progress:
                    progress(read, total)
        with self.db.transaction() as cur:
            reached = [(context, end) for context, end in bounds.items() if end > 0]
            cur.insert(f"{prefix}positions", ["context", "position"], reached)
        return read

    def _drop(self, cur: Cursor, projection: Projection) -> None:
        for table in [*projection.tables(), "positions", "versions", "poison"]:
            cur.execute(f"DROP TABLE IF EXISTS {projection.prefix}{table}")


def fold_part(
    db: Database,
    events: EventLog,
    projection: Projection,
    bounds: Positions,
    part: int,
    parts: int,
) -> int:
    """Folds one partition of the aggregates, up to `bounds`, into `projection`'s new
    generation (its positions are the caller's to write); returns the events read."""
    projection.deferred = True
    fold = projection.fold()
    assert fold is not None, f"{projection.name} has no fold"
    replay = Replay(projection.prefix, fold, track_positions=False)
    read = 0

    def window_after(context: str, after: int) -> tuple[list[Envelope], int | None]:
        # A window of positions, not a LIMIT: the partition's rows are found by range.
        end = min(after + REBUILD_BATCH * parts, bounds[context])
        batch = events.read_part(context, after, end, part, parts)
        return batch, end if end < bounds[context] else None

    started = time.monotonic()
    for batch in _read_ahead(events.contexts, {}, window_after):
        replay.apply(batch)
        read += len(batch)
    folded = time.monotonic()
    with db.transaction() as cur:
        replay.write(cur)
    log.info(
        "part %d of %d: %d events folded in %.1f s, written in %.1f s",
        part,
        parts,
        read,
        folded - started,
        time.monotonic() - folded,
    )
    return read


# (context, after) -> (the next batch, where the one after it starts or None at the end)
BatchReader = Callable[[str, int], tuple[list[Envelope], int | None]]


def _read_ahead(
    contexts: Sequence[str], start: Positions, read: BatchReader
) -> Iterator[list[Envelope]]:
    """Each context's log from `start`, in batches; the next batch is read and decoded in a
    thread while the caller applies the last."""
    batches: queue.Queue[list[Envelope] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: list[Envelope] | BaseException | None) -> None:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def reader() -> None:
        try:
            for context in contexts:
                after: int | None = start.get(context, 0)
                while after is not None and not stop.is_set():
                    batch, after = read(context, after)
                    if batch:
                        put(batch)
            put(None)
        except BaseException as error:
            put(error)

    thread = threading.Thread(target=reader, name="rebuild-reader", daemon=True)
    thread.start()
    try:
        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)
