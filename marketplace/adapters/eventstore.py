"""The event store: one eventsourcing Application per context, on SQLite or PostgreSQL."""

import hashlib
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from copy import deepcopy
from pathlib import Path
from typing import Any, ClassVar, LiteralString, TypeVar
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    OperationalError,
    Recording,
    StoredEvent,
    Transcoding,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import retry
from immutables import Map
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier, Literal

from marketplace.adapters.settings import Settings, sqlite_path
from marketplace.kernel.errors import Conflict, NotFound
from marketplace.kernel.money import Money

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


class MoneyAsDict(Transcoding):
    type = Money
    name = "money"

    def encode(self, obj: Money) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Money:
        return Money.from_dict(data)


class MapAsDict(Transcoding):
    """Persistent maps in snapshots (an offer's reservations)."""

    type = Map
    name = "map"

    def encode(self, obj: Map[str, Any]) -> dict[str, Any]:
        return dict(obj)

    def decode(self, data: dict[str, Any]) -> Map[str, Any]:
        return Map(data)


class ArrayRecorder(PostgresApplicationRecorder):
    """The library's recorder, recording a save with one call of its log's function: the
    library's table lock, NOTIFY and rows, in one statement (its own transaction) instead of
    a transaction of five, with the events sent as four binary arrays instead of one array
    of composites sent as text (which escapes every state byte)."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.record_function = Identifier(f"{events_table_name}_record")
        # `after`, the notification ids recorded before, lets saves across logs nest their
        # calls in one statement (`save_together`): a call in another's arguments runs first.
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(after bigint[], "
                "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
                "RETURNS bigint[] LANGUAGE plpgsql AS $BODY$ "
                "DECLARE recorded bigint[]; BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "WITH inserted AS (INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id) "
                "SELECT array_agg(notification_id ORDER BY notification_id) INTO recorded "
                "FROM inserted; "
                "RETURN after || recorded; "
                "END $BODY$"
            ).format(
                schema=Identifier(datastore.schema),
                function=self.record_function,
                id_type=Identifier(datastore.originator_id_type),
                lock_timeout=datastore.lock_timeout,
                table=Identifier(events_table_name),
                channel=Identifier(self.channel_name),
            )
        )

    def record_call(self, after: Composable) -> Composable:
        """A call of this log's function, recording after what `after` recorded."""
        return SQL(
            "{schema}.{function}({after}, %b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
        ).format(
            schema=Identifier(self.datastore.schema),
            function=self.record_function,
            after=after,
            id_type=Identifier(self.datastore.originator_id_type),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **_: Any) -> Sequence[int]:
        if not stored_events:
            return []
        statement = _record_statement(self.datastore, [self], None)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(statement, _columns(stored_events), binary=True)
            row = cur.fetchone()
        assert row is not None
        recorded: list[int] = row[0]
        return recorded


def _columns(stored_events: Sequence[StoredEvent]) -> list[list[Any]]:
    """A record function's arguments: the events as four arrays."""
    return [
        [e.originator_id for e in stored_events],
        [e.originator_version for e in stored_events],
        [e.topic for e in stored_events],
        [e.state for e in stored_events],
    ]


class MarketplaceApplication(Application[UUID]):
    """What every context's application shares."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._many: OrderedDict[UUID, Aggregate] = OrderedDict()
        # Aggregates `get_many` keeps, to fast-forward instead of folding again.
        self._many_size = int(self.env.get("AGGREGATE_CACHE_MAXSIZE") or 1000)
        self._many_lock = threading.Lock()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, collecting our aggregates' events with a plain class check:
        its check against runtime Protocols costs more than encoding the events."""
        processing = ProcessingEvent[UUID]()
        others = []
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            elif obj is not None:
                others.append(obj)
        processing.collect_events(*others, **kwargs)
        _heads_outdated()
        recordings = self._record(processing)
        self._keep_saved(a for a in processing.aggregates.values() if isinstance(a, Aggregate))
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(MoneyAsDict())
        transcoder.register(MapAsDict())

    def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def load(self, aggregate_id: UUID, cls: type[A], what: str) -> A:
        aggregate = self.find(aggregate_id, cls)
        if aggregate is None:
            raise NotFound(f"unknown {what} {aggregate_id}")
        return aggregate

    def get_many(self, ids: Iterable[UUID], cls: type[A]) -> dict[UUID, A]:
        """What `find` gives for each id, read with one query for them all: aggregates read
        before are fast-forwarded by the events recorded since, the others folded from
        their histories. For commands on hot aggregates (an order's offers, terms and
        accounts), whose histories grow with every order."""
        found: dict[UUID, Any] = read_together([(self, ids, cls)])[0]
        return found

    def _fold(
        self,
        wanted: list[UUID],
        known: dict[UUID, Aggregate],
        records: list[StoredEvent],
        cls: type[A],
        read_only: bool = False,
    ) -> dict[UUID, A]:
        """Folds the records read since the versions `known` (see `_kept`) onto them."""
        newer: dict[UUID, list[StoredEvent]] = {}
        for record in records:
            newer.setdefault(UUID(str(record.originator_id)), []).append(record)
        found: dict[UUID, A] = {}
        for aggregate_id in wanted:
            base = known.get(aggregate_id)
            since = newer.get(aggregate_id, [])
            aggregate = base
            if since:
                events = [self.mapper.to_domain_event(e) for e in since]
                aggregate = project_aggregate(deepcopy(base), events)
                if aggregate is not None:
                    self._remember(aggregate_id, aggregate)
            if isinstance(aggregate, cls):
                found[aggregate_id] = aggregate if read_only else deepcopy(aggregate)
        return found

    def _kept(self, wanted: list[UUID]) -> dict[UUID, Aggregate]:
        """The aggregates kept of those wanted, to read only what came after them; never
        mutated once kept (readers copy them)."""
        with self._many_lock:
            return {i: self._many[i] for i in wanted if i in self._many}

    def kept_copies(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate] | None:
        """Copies of the kept aggregates, if every one is kept (None otherwise): for a
        command that relies on its save failing if any has changed since."""
        wanted = list(dict.fromkeys(ids))
        kept = self._kept(wanted)
        if len(kept) < len(wanted):
            return None
        return {i: deepcopy(a) for i, a in kept.items()}

    def _keep_saved(self, saved: Iterable[Aggregate]) -> None:
        """Keeps the versions just saved of aggregates kept before, so the next command on
        them here starts from what it wrote rather than fail on it."""
        with self._many_lock:
            hot = [a for a in saved if a.id in self._many]
        for aggregate in hot:
            self._remember(aggregate.id, deepcopy(aggregate))

    def _remember(self, aggregate_id: UUID, aggregate: Aggregate) -> None:
        """Keeps the latest version read, never mutated once kept (readers copy it)."""
        with self._many_lock:
            kept = self._many.get(aggregate_id)
            if kept is None or kept.version < aggregate.version:
                self._many[aggregate_id] = aggregate
            self._many.move_to_end(aggregate_id)
            while len(self._many) > self._many_size:
                self._many.popitem(last=False)

    def find_many(self, ids: Iterable[UUID], cls: type[A]) -> dict[UUID, A]:
        """Aggregates of one class read with one query instead of one each, for bulk work.

        They are folded from their whole histories (snapshots are a shortcut, not state),
        so the answer is what `find` would give.
        """
        wanted = list(dict.fromkeys(ids))
        histories: dict[UUID, list[StoredEvent]] = {}
        for start in range(0, len(wanted), 500):
            for stored in self._select_many(wanted[start : start + 500]):
                histories.setdefault(UUID(str(stored.originator_id)), []).append(stored)
        found: dict[UUID, A] = {}
        for aggregate_id, history in histories.items():
            events = [self.mapper.to_domain_event(e) for e in history]
            aggregate = project_aggregate(None, events)
            if isinstance(aggregate, cls):
                found[aggregate_id] = aggregate
        return found

    def _select_many(self, ids: list[UUID]) -> list[StoredEvent]:
        recorder: Any = self.recorder
        order = "ORDER BY originator_id, originator_version"
        if isinstance(recorder, PostgresAggregateRecorder):
            rows = _query(
                recorder,
                "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
                "WHERE originator_id = ANY(%s) " + order,
                [ids],
            )
        else:
            marks = ", ".join("?" * len(ids))
            with recorder.datastore.transaction(commit=False) as cur:
                cur.execute(
                    "SELECT originator_id, originator_version, topic, state FROM "
                    f"{recorder.events_table_name} WHERE originator_id IN ({marks}) {order}",
                    [i.hex for i in ids],
                )
                rows = cur.fetchall()
        return [_stored(r) for r in rows]

    def stored_part(
        self, after: int, up_to: int, part: int, parts: int
    ) -> list[tuple[int, StoredEvent]]:
        """The log between two positions, only the aggregates of one of `parts` partitions
        (PostgreSQL), with each event's position: for building a view in several processes."""
        recorder: Any = self.recorder
        if not isinstance(recorder, PostgresAggregateRecorder):
            raise NotImplementedError("partitioned reads need PostgreSQL")
        rows = _query(
            recorder,
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id > %s AND notification_id <= %s "
            "AND get_byte(uuid_send(originator_id), 15) %% %s = %s "
            "ORDER BY notification_id",
            [after, up_to, parts, part],
        )
        return [
            (
                int(r["notification_id"]),
                _stored(r),
            )
            for r in rows
        ]

    def position(self) -> int:
        return self.recorder.max_notification_id() or 0


def _query(recorder: Any, text: LiteralString, params: list[Any]) -> list[dict[str, Any]]:
    """Runs a statement over a context's events table, named `{schema}.{table}` in `text`."""
    statement = SQL(text).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        rows: list[dict[str, Any]] = cur.fetchall()
    return rows


def _stored(row: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        originator_id=UUID(str(row["originator_id"])),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


# Aggregates stay cached between commands; each read still fetches the events recorded
# since (fast-forward), so several processes never see stale state.
def _cache(settings: Settings) -> dict[str, str]:
    return {
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }


def persistence_env(settings: Settings, context: str, process: str = "serve") -> dict[str, str]:
    """The eventsourcing environment for one context's event log."""
    return {**_store_env(settings, context, process), **_cache(settings)}


def _store_env(settings: Settings, context: str, process: str) -> dict[str, str]:
    url = urlparse(settings.database_url)
    if url.scheme == "sqlite":
        base = Path(sqlite_path(settings.database_url))
        base.parent.mkdir(parents=True, exist_ok=True)
        # SQLite keeps one event log per file, so each context gets its own file.
        path = base.with_name(f"{base.stem}.{context}{base.suffix or '.db'}")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if url.scheme in ("postgresql", "postgres"):
        env = {
            "PERSISTENCE_MODULE": "marketplace.adapters.eventstore:SharedPostgresFactory",
            "POSTGRES_DBNAME": (url.path or "/postgres").lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": str(settings.connections(process).store - 1),
            # How long work waits for a free connection of the budget.
            "POSTGRES_CONNECT_TIMEOUT": "30",
            "POSTGRES_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "marketplace.adapters.eventstore:ArrayRecorder",
        }
        if settings.database_schema:
            env["POSTGRES_SCHEMA"] = settings.database_schema
        return env
    raise ValueError(f"unsupported database url {settings.database_url!r}")


class SharedPostgresFactory(PostgresFactory):
    """The library's factory, with one connection pool per process for every context's
    event log (instead of one each), so a process holds the connections it was budgeted."""

    _shared: ClassVar[dict[tuple[str, ...], tuple[PostgresDatastore, int]]] = {}
    _lock = threading.Lock()

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        names = ("DBNAME", "HOST", "PORT", "USER", "SCHEMA", "POOL_SIZE", "MAX_OVERFLOW")
        self._key = tuple(self.env.get(f"POSTGRES_{n}") or "" for n in names)
        with self._lock:
            found = self._shared.get(self._key)
            if found is None:
                self._shared[self._key] = (self.datastore, 1)
                return
            unused, self.datastore = self.datastore, found[0]
            self._shared[self._key] = (found[0], found[1] + 1)
        unused.close()

    def close(self) -> None:
        with self._lock:
            if self._key not in self._shared:
                return
            datastore, users = self._shared[self._key]
            if users > 1:
                self._shared[self._key] = (datastore, users - 1)
                return
            del self._shared[self._key]
        datastore.close()


Saves = Sequence[tuple[MarketplaceApplication, Sequence[Aggregate | None]]]


def shared_datastore(apps: Iterable[MarketplaceApplication]) -> PostgresDatastore | None:
    """The one PostgreSQL datastore these contexts' event logs share, if they do: their
    events can then be recorded in one transaction."""
    recorders = [app.recorder for app in apps]
    if not all(isinstance(r, ArrayRecorder) for r in recorders):
        return None
    stores = {id(r.datastore): r.datastore for r in recorders}  # type: ignore[attr-defined]
    return next(iter(stores.values())) if len(stores) == 1 else None


def save_together(saves: Saves) -> None:
    """Records the new events of aggregates of several contexts in one transaction: all of
    them or none. A concurrent change to any of them fails it all (IntegrityError), as one
    context's save does. Event tables are locked in name order, so two such saves touching
    the same tables never deadlock."""
    datastore = shared_datastore(app for app, _ in saves)
    if datastore is None:
        raise TypeError("these event logs cannot be written in one transaction")
    batches: list[tuple[ArrayRecorder, list[StoredEvent]]] = []
    for app, objs in saves:
        events = [e for obj in objs if obj is not None for e in obj.collect_events()]
        if events:
            recorder: ArrayRecorder = app.recorder  # type: ignore[assignment]
            batches.append((recorder, [app.mapper.to_stored_event(e) for e in events]))
    batches.sort(key=lambda batch: batch[0].events_table_name)
    note = _NOTE.get()
    noted = note if note is not None and shared_datastore(note.apps.values()) is datastore else None
    _heads_outdated()
    if not batches:
        return
    # Composed before taking a connection: the first composing defines a function with one.
    statement = _record_statement(
        datastore,
        [recorder for recorder, _ in batches],
        noted.apps if noted is not None else None,
    )
    params = [column for _, stored in batches for column in _columns(stored)]
    with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(statement, params, binary=True)
        if noted is not None:
            noted.heads = _positions(cur.fetchall())
    for app, objs in saves:
        app._keep_saved(obj for obj in objs if isinstance(obj, Aggregate))


_RECORDS: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], bytes] = {}


def _record_statement(
    datastore: PostgresDatastore,
    recorders: list[ArrayRecorder],
    heads_of: Mapping[str, MarketplaceApplication] | None,
) -> bytes:
    """One statement, its own transaction: a call of each log's record function, each nested
    in the next's arguments (the first log's runs, and locks, first), and with `heads_of`,
    those logs' heads after them (what `last_positions` reads)."""
    logs = _logs(heads_of) if heads_of is not None else ()
    key = (datastore.schema, tuple(r.events_table_name for r in recorders), logs)
    statement = _RECORDS.get(key)
    if statement is None:
        call: Composable = SQL("'{}'::bigint[]")
        for recorder in recorders:
            call = recorder.record_call(call)
        if heads_of is None:
            statement = (SQL("SELECT ") + call).as_bytes()
        else:
            heads = _heads_function(datastore, heads_of)
            query = SQL("SELECT * FROM {heads}({call})").format(heads=heads, call=call)
            statement = query.as_bytes()
        _RECORDS[key] = statement
    return statement


def _heads_function(
    datastore: PostgresDatastore, apps: Mapping[str, MarketplaceApplication]
) -> Composable:
    """Defines a function answering these logs' heads, once per process, one process at a
    time. Called with a save's record calls as its argument, it runs after them, and its
    query sees their events: the statement's own snapshot, taken before, would not."""
    logs = _logs(apps)
    defined = _HEADS.get((datastore.schema, logs))
    if defined is not None:
        return defined
    digest = hashlib.sha256(repr(logs).encode()).hexdigest()[:10]
    name = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(f"heads_{digest}"))
    with _DEFINING, datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"heads:{digest}"])
        cur.execute(
            SQL(
                "CREATE OR REPLACE FUNCTION {name}(after bigint[]) "
                "RETURNS TABLE (log text, head bigint) LANGUAGE plpgsql AS $BODY$ "
                "BEGIN RETURN QUERY {positions}; END $BODY$"
            ).format(name=name, positions=_positions_query(datastore, apps, None))
        )
    _HEADS[(datastore.schema, logs)] = name
    return name


_HEADS: dict[tuple[str, tuple[tuple[str, str], ...]], Composable] = {}


class HeadsAfter:
    """The event logs' heads as read in the round trip that recorded a request's last
    events: what its answer's position names, without a read of its own. None until events
    are recorded that way, and again once any are recorded otherwise."""

    def __init__(self, apps: Mapping[str, "MarketplaceApplication"]) -> None:
        self.apps = apps
        self.heads: dict[str, int] | None = None


_NOTE: ContextVar[HeadsAfter | None] = ContextVar("heads_after", default=None)


@contextmanager
def noting_heads(apps: Mapping[str, "MarketplaceApplication"]) -> Iterator[HeadsAfter]:
    """While inside, saving together also reads these logs' heads after its commit."""
    note = HeadsAfter(apps)
    reset = _NOTE.set(note)
    try:
        yield note
    finally:
        _NOTE.reset(reset)


def _heads_outdated() -> None:
    note = _NOTE.get()
    if note is not None:
        note.heads = None


Read = tuple["MarketplaceApplication", Iterable[UUID], type[Aggregate]]


def read_together(reads: Sequence[Read], read_only: bool = False) -> list[dict[UUID, Aggregate]]:
    """What `find` gives for each id of each (context, ids, class), in one query where the
    contexts' logs share a PostgreSQL datastore: aggregates read before are fast-forwarded
    by the events recorded since, the others folded from their histories. `read_only`
    answers the kept aggregates themselves instead of copies: for callers that only look,
    never command them."""
    wanted = [list(dict.fromkeys(ids)) for _, ids, _ in reads]
    datastore = shared_datastore(app for app, _, _ in reads)
    if datastore is None:
        return [
            {i: a for i in ids if (a := app.find(i, cls)) is not None}
            for (app, _, cls), ids in zip(reads, wanted, strict=True)
        ]
    known = [app._kept(ids) for (app, _, _), ids in zip(reads, wanted, strict=True)]
    after = [
        {i: known[index][i].version if i in known[index] else 0 for i in ids}
        for index, ids in enumerate(wanted)
    ]
    statement, params = newer_events_statement(
        datastore.schema, [(app, ids) for (app, _, _), ids in zip(reads, after, strict=True)]
    )
    records: list[list[StoredEvent]] = [[] for _ in reads]
    if statement is not None:
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(statement, params, binary=True)
            for read, originator_id, version, topic, state in cur.fetchall():
                records[read].append(StoredEvent(originator_id, version, topic, state))
    return [
        app._fold(ids, kept, found, cls, read_only)
        for (app, _, cls), ids, kept, found in zip(reads, wanted, known, records, strict=True)
    ]


def newer_events_statement(
    schema: str, reads: Sequence[tuple[MarketplaceApplication, Mapping[UUID, int]]]
) -> tuple[bytes | None, list[Any]]:
    """One query of each read's events past the version given per id, tagged with the
    read's index (None: nothing to read)."""
    tables: list[str] = []
    params: list[Any] = []
    for index, (app, after) in enumerate(reads):
        if after:
            tables.append(app.recorder.events_table_name)  # type: ignore[attr-defined]
            params += [index, list(after), list(after.values())]
    if not tables:
        return None, params
    key = (schema, tuple(tables))
    statement = _NEWER_EVENTS.get(key)
    if statement is None:
        statement = _newer_events(schema, tables)
        _NEWER_EVENTS[key] = statement
    return statement, params


_NEWER_EVENTS: dict[tuple[str, tuple[str, ...]], bytes] = {}


def _newer_events(schema: str, tables: list[str]) -> bytes:
    # The OFFSET 0 keeps the lateral subquery from being flattened into a join, which the
    # planner answered with a scan of the whole log: this way each id is an index probe.
    parts = [
        SQL(
            "SELECT %b::int AS read, e.originator_id, e.originator_version, e.topic, "
            "e.state FROM unnest(%b::uuid[], %b::bigint[]) AS w(id, after) "
            "CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} e WHERE "
            "e.originator_id = w.id AND e.originator_version > w.after OFFSET 0) e"
        ).format(schema=Identifier(schema), table=Identifier(table))
        for table in tables
    ]
    ordered = SQL(" ORDER BY read, originator_id, originator_version")
    return (SQL(" UNION ALL ").join(parts) + ordered).as_bytes()


def heads_of(apps: Mapping[str, MarketplaceApplication]) -> dict[str, int] | None:
    """Each log's last position, in one statement where the logs share a PostgreSQL
    datastore (None where they do not)."""
    return _last_positions(apps, None)


def last_of_kinds(
    apps: Mapping[str, MarketplaceApplication], kinds: frozenset[str]
) -> dict[str, int] | None:
    """The position of each log's last event of these kinds (`Class.Event`; 0: none), in
    one statement where the logs share a PostgreSQL datastore (None where they do not).
    Each log gets a partial index of just those events, so the answer costs one index probe
    however long the log and however far behind its readers are."""
    return _last_positions(apps, kinds)


_INDEXED: set[tuple[str, str, str]] = set()
# One definition (an index, a function) at a time in this process.
_DEFINING = threading.Lock()


def _last_positions(
    apps: Mapping[str, MarketplaceApplication], kinds: frozenset[str] | None
) -> dict[str, int] | None:
    datastore = shared_datastore(apps.values())
    if datastore is None:
        return None
    # Composed before taking a connection: the first composing creates the index with one.
    statement = _positions_statement(datastore, apps, kinds)
    with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(statement)
        rows = cur.fetchall()
    return _positions(rows)


def _positions(rows: Iterable[tuple[str, int | None]]) -> dict[str, int]:
    """Each log's position from a positions statement's rows (no events yet: 0)."""
    return {context: int(last or 0) for context, last in rows}


_STATEMENTS: dict[tuple[str, tuple[tuple[str, str], ...], frozenset[str] | None], bytes] = {}


def _logs(apps: Mapping[str, MarketplaceApplication]) -> tuple[tuple[str, str], ...]:
    """Each context with its log's table."""
    return tuple(
        (context, app.recorder.events_table_name)  # type: ignore[attr-defined]
        for context, app in apps.items()
    )


def _positions_statement(
    datastore: PostgresDatastore,
    apps: Mapping[str, MarketplaceApplication],
    kinds: frozenset[str] | None,
) -> bytes:
    """Each log's last position (of these kinds of events), composed once per process:
    composing it cost more than PostgreSQL's answering it."""
    key = (datastore.schema, _logs(apps), kinds)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _positions_query(datastore, apps, kinds).as_bytes()
    return statement


def _positions_query(
    datastore: PostgresDatastore,
    apps: Mapping[str, MarketplaceApplication],
    kinds: frozenset[str] | None,
) -> Composable:
    tables = _logs(apps)
    where: Composable = SQL("")
    if kinds is not None:
        # Written out, not a parameter, so the planner matches it to the partial index.
        predicate = SQL("split_part(topic, ':', 2) = ANY({})").format(Literal(sorted(kinds)))
        where = SQL(" WHERE ") + predicate
        _index_kinds(datastore, [table for _, table in tables], kinds, predicate)
    parts = [
        SQL("SELECT {context}::text AS context, max(notification_id) AS last FROM {table}").format(
            context=Literal(context),
            table=SQL("{}.{}").format(Identifier(datastore.schema), Identifier(table)),
        )
        + where
        for context, table in tables
    ]
    return SQL(" UNION ALL ").join(parts)


def _index_kinds(
    datastore: PostgresDatastore, tables: list[str], kinds: frozenset[str], predicate: Composable
) -> None:
    """Creates each table's partial index of these kinds of events once, whichever process
    gets there first (an upgrade builds it over the existing log, blocking its writers
    meanwhile)."""
    digest = hashlib.sha256(",".join(sorted(kinds)).encode()).hexdigest()[:10]
    wanted = [t for t in tables if (datastore.schema, t, digest) not in _INDEXED]
    if not wanted:
        return
    with _DEFINING, datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"kinds:{digest}"])
        for table in wanted:
            cur.execute(
                SQL("CREATE INDEX IF NOT EXISTS {name} ON {table} (notification_id) WHERE ").format(
                    name=Identifier(f"{table}_kinds_{digest}"),
                    table=SQL("{}.{}").format(Identifier(datastore.schema), Identifier(table)),
                )
                + predicate
            )
    _INDEXED.update((datastore.schema, t, digest) for t in wanted)


def retrying(attempt: Callable[[], T]) -> T:
    """Optimistic concurrency: a concurrent change to the same aggregates makes the save
    fail; the whole attempt is then made again on fresh state."""
    for _ in range(50):
        try:
            return attempt()
        except IntegrityError:
            time.sleep(random.uniform(0.001, 0.02))
    raise Conflict("too many concurrent changes to the same records; retry")
