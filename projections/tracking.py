"""Exactly-once application of events to a projection.

Per aggregate, the projection keeps the last version it applied, in the same transaction
as the rows it wrote. An older version is a duplicate and is skipped; a gap means events
were lost in transit, and the missing ones are read from the event store first.
"""

import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor, Database
from marketplace.kernel.position import Positions

log = logging.getLogger(__name__)

Lock = Literal["share", "update"] | None
# (context, aggregate_id, after_version, up_to_version) -> the missing events, in order
EventSource = Callable[[str, str, int, int], list[Envelope]]


class Fold(Protocol):
    """A rebuild's rows, folded in memory (see replay)."""

    def add(self, event: Envelope) -> None:
        """Applies one event to the rows in memory, or raises and changes nothing."""
        ...

    def write(self, cur: Cursor) -> None:
        """Writes the rows into the projection's empty tables."""
        ...


class Projection(Protocol):
    name: str
    prefix: str

    deferred: bool

    def create(self, cur: Cursor) -> None: ...
    def tables(self) -> list[str]: ...
    def apply_many(self, cur: Cursor, events: Sequence[Envelope]) -> None: ...
    def finish(self, cur: Cursor) -> None: ...
    def fold(self) -> Fold | None: ...


META = (
    "CREATE TABLE IF NOT EXISTS projections (name TEXT PRIMARY KEY, prefix TEXT NOT NULL, "
    "generation INTEGER NOT NULL, status TEXT NOT NULL, error TEXT)"
)


def create_tracking(cur: Cursor, prefix: str) -> None:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {prefix}poison (event_id TEXT PRIMARY KEY, "
        "context TEXT NOT NULL, aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, "
        "type TEXT NOT NULL, error TEXT NOT NULL, position BIGINT)"
    )
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {prefix}positions "
        "(context TEXT PRIMARY KEY, position BIGINT NOT NULL)"
    )
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {prefix}versions "
        "(aggregate_id TEXT PRIMARY KEY, version BIGINT NOT NULL)"
    )


def read_positions(cur: Cursor, prefix: str) -> Positions:
    cur.execute(f"SELECT context, position FROM {prefix}positions")
    return {row["context"]: int(row["position"]) for row in cur.fetchall()}


def apply_batch(
    cur: Cursor,
    projection: Projection,
    events: Sequence[Envelope],
    source: EventSource,
    track_positions: bool = True,
) -> int:
    """Applies what is new in `events` inside the caller's transaction; returns how many.

    With `track_positions`, the events come in log order and each context's position moves
    to the last one seen; otherwise (from Kafka) positions move by `advance_positions`.
    """
    prefix = projection.prefix
    ids = sorted({e["aggregate_id"] for e in events})
    versions: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        where, args = cur.one_of("aggregate_id", ids[start : start + 500])
        cur.execute(f"SELECT aggregate_id, version FROM {prefix}versions WHERE {where}", args)
        versions.update({r["aggregate_id"]: int(r["version"]) for r in cur.fetchall()})
    before = dict(versions)
    positions = read_positions(cur, prefix)
    moved: Positions = {}
    todo: list[Envelope] = []
    for event in events:
        aggregate_id = event["aggregate_id"]
        last = versions.get(aggregate_id, 0)
        version = event["aggregate_version"]
        position = event["position"]
        context = event["context"]
        if (
            track_positions
            and position is not None
            and position > max(positions.get(context, 0), moved.get(context, 0))
        ):
            moved[context] = position
        if version <= last:
            continue
        pending = [event]
        if version > last + 1:
            log.warning(
                "gap in %s before version %d; reading the event store", aggregate_id, version
            )
            pending = [*source(event["context"], aggregate_id, last, version - 1), event]
        todo += pending
        versions[aggregate_id] = version
    projection.apply_many(cur, todo)
    changed = [(k, v) for k, v in versions.items() if before.get(k) != v]
    if changed:
        cur.upsert(f"{prefix}versions", ["aggregate_id", "version"], changed, "aggregate_id")
    if moved:
        cur.executemany(
            f"INSERT INTO {prefix}positions (context, position) VALUES (%s, %s) "
            "ON CONFLICT (context) DO UPDATE SET position = excluded.position",
            list(moved.items()),
        )
    return len(todo)


class ProjectionTables:
    """Which generation of tables is live for each projection, and its status."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(META)

    def live_prefix(self, cur: Cursor, name: str, lock: Lock = None) -> str:
        suffix = f" FOR {lock.upper()}" if lock and self.db.dialect == "postgresql" else ""
        cur.execute(f"SELECT prefix FROM projections WHERE name = %s{suffix}", [name])
        row = cur.fetchone()
        if row is None:
            prefix = f"{name}_g1_"
            cur.execute(
                "INSERT INTO projections (name, prefix, generation, status) "
                "VALUES (%s, %s, 1, 'running') ON CONFLICT (name) DO NOTHING",
                [name, prefix],
            )
            return self.live_prefix(cur, name, lock)
        return str(row["prefix"])

    def status(self, cur: Cursor, name: str) -> tuple[str, str | None]:
        cur.execute("SELECT status, error FROM projections WHERE name = %s", [name])
        row = cur.fetchone()
        return ("running", None) if row is None else (row["status"], row["error"])

    def set_status(self, cur: Cursor, name: str, status: str, error: str | None = None) -> None:
        cur.execute(
            "UPDATE projections SET status = %s, error = %s WHERE name = %s",
            [status, error, name],
        )

    def change_status(
        self, cur: Cursor, name: str, before: Sequence[str], status: str, error: str | None
    ) -> bool:
        """Moves the status from one of `before` to `status`; says whether it did."""
        marks = ", ".join(["%s"] * len(before))
        cur.execute(
            f"UPDATE projections SET status = %s, error = %s WHERE name = %s "
            f"AND status IN ({marks}) RETURNING name",
            [status, error, name, *before],
        )
        return cur.fetchone() is not None

    def next_generation(self, cur: Cursor, name: str) -> str:
        cur.execute("SELECT generation FROM projections WHERE name = %s", [name])
        row = cur.fetchone()
        generation = (int(row["generation"]) if row else 1) + 1
        return f"{name}_g{generation}_"

    def swap(self, cur: Cursor, name: str, prefix: str) -> None:
        generation = int(prefix.rstrip("_").rsplit("_g", 1)[1])
        cur.execute(
            "UPDATE projections SET prefix = %s, generation = %s WHERE name = %s",
            [prefix, generation, name],
        )


def skip_version(cur: Cursor, prefix: str, aggregate_id: str, version: int) -> None:
    cur.execute(
        f"INSERT INTO {prefix}versions (aggregate_id, version) VALUES (%s, %s) "
        "ON CONFLICT (aggregate_id) DO UPDATE SET version = excluded.version",
        [aggregate_id, version],
    )


def record_poison(cur: Cursor, prefix: str, event: Envelope, error: str) -> None:
    cur.execute(
        f"INSERT INTO {prefix}poison (event_id, context, aggregate_id, version, type, error, "
        "position) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
        [
            event["event_id"],
            event["context"],
            event["aggregate_id"],
            event["aggregate_version"],
            event["type"],
            error[:2000],
            event["position"],
        ],
    )


def poison_count(cur: Cursor, prefix: str) -> int:
    cur.execute(f"SELECT COUNT(*) AS n FROM {prefix}poison")
    row = cur.fetchone()
    return int(row["n"]) if row else 0


def poison_events(cur: Cursor, prefix: str, limit: int = 100) -> list[dict[str, Any]]:
    """The events a projection could not apply, with why, latest first."""
    cur.execute(
        f"SELECT event_id, context, aggregate_id, version, type, error, position "
        f"FROM {prefix}poison ORDER BY position DESC LIMIT %s",
        [limit],
    )
    return [dict(row) for row in cur.fetchall()]


# (context, after_position, limit) -> [(position, aggregate_id, version)] from the event store
IndexSource = Callable[[str, int, int], list[tuple[int, str, int]]]


def advance_positions(
    cur: Cursor, prefix: str, contexts: Sequence[str], index: IndexSource
) -> None:
    """Moves each context's position over every event whose effect the view holds.

    Kafka keeps order per partition only, so the events applied are not a prefix of the log;
    the position is the end of the longest prefix that is, which `min_position` relies on.
    """
    positions = read_positions(cur, prefix)
    for context in contexts:
        start = position = positions.get(context, 0)
        while True:
            entries = index(context, position, 500)
            ids = sorted({aggregate_id for _, aggregate_id, _ in entries})
            if not ids:
                break
            marks = ", ".join(["%s"] * len(ids))
            cur.execute(
                f"SELECT aggregate_id, version FROM {prefix}versions "
                f"WHERE aggregate_id IN ({marks})",
                ids,
            )
            applied = {r["aggregate_id"]: int(r["version"]) for r in cur.fetchall()}
            stalled = False
            for entry_position, aggregate_id, version in entries:
                if applied.get(aggregate_id, 0) < version:
                    stalled = True
                    break
                position = entry_position
            if stalled or len(entries) < 500:
                break
        if position != start:
            cur.execute(
                f"INSERT INTO {prefix}positions (context, position) VALUES (%s, %s) "
                "ON CONFLICT (context) DO UPDATE SET position = excluded.position",
                [context, position],
            )
