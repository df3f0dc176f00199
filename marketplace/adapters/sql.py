"""The view database: one small interface over SQLite and PostgreSQL.

Statements use `%s` placeholders and portable SQL (upserts with ON CONFLICT, row values).
"""

import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from marketplace.adapters.settings import Settings, sqlite_path

Row = dict[str, Any]
# From this many rows an upsert goes through COPY into a staging table.
COPY_FROM = 200
_STAGES = itertools.count()


class Cursor(Protocol):
    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchall(self) -> list[Row]: ...
    def fetchone(self) -> Row | None: ...
    def upsert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str
    ) -> None: ...
    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Inserts many rows into a table known to hold none of their keys."""
        ...

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition that `column` is one of `values`, and its parameters."""
        ...


def _upsert_sql(table: str, columns: Sequence[str], key: str, source: str) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return f"INSERT INTO {table} ({', '.join(columns)}) {source} ON CONFLICT ({key}) {action}"


class Database(Protocol):
    dialect: str

    def transaction(self) -> Any: ...
    def reading(self) -> Any: ...
    def close(self) -> None: ...


class _SqliteCursor:
    dialect = "sqlite"

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("%s", "?"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("%s", "?"), [tuple(r) for r in rows])

    def fetchall(self) -> list[Row]:
        return [dict(r) for r in self._cursor.fetchall()]

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

    def upsert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str
    ) -> None:
        source = f"VALUES ({', '.join(['?'] * len(columns))})"
        self._cursor.executemany(_upsert_sql(table, columns, key, source), rows)

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        marks = ", ".join(["?"] * len(columns))
        self._cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return None if row is None else dict(row)


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        # SQLite has one writer; serializing writers here avoids busy-loop retries.
        self._write_lock = threading.RLock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def reading(self) -> AbstractContextManager[Cursor]:
        return self.transaction()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteCursor(conn.cursor())
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class _PostgresCursor:
    dialect = "postgresql"

    def __init__(self, cursor: psycopg.Cursor[Row]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.encode(), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.encode(), [tuple(r) for r in rows])

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        # One array parameter keeps the statement text the same whatever the count.
        return f"{column} = ANY(%s)", [list(values)]

    def upsert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str
    ) -> None:
        """Inserts or replaces rows by `key`; many rows travel by COPY, a few by statement."""
        if len(rows) < COPY_FROM:
            source = f"VALUES ({', '.join(['%s'] * len(columns))})"
            self.executemany(_upsert_sql(table, columns, key, source), rows)
            return
        stage = f"stage_{next(_STAGES)}"
        names = ", ".join(columns)
        self.execute(
            f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table} LIMIT 0"
        )
        self.insert(stage, columns, rows)
        self.execute(_upsert_sql(table, columns, key, f"SELECT {names} FROM {stage}"))

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self._cursor.copy(copy_sql.encode()) as copy:
            for row in rows:
                copy.write_row(row)

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone()


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(
        self, url: str, schema: str | None = None, min_size: int = 1, max_size: int = 10
    ) -> None:
        # Views grow from empty while a connection's prepared statements live on; a plan
        # cached while a table was empty would scan it whole ever after.
        options = ["-c plan_cache_mode=force_custom_plan"]
        if schema:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'.encode())
            options.append(f"-c search_path={schema}")
        kwargs: dict[str, Any] = {"row_factory": dict_row, "options": " ".join(options)}
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs=kwargs,
            open=True,
            connection_class=psycopg.Connection[Row],
        )

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield _PostgresCursor(cur)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor outside any transaction, each statement on its own: for reads on a hot
        path that need no snapshot across statements (two round trips fewer). A generation
        swapped out meanwhile is still whole, never dropped."""
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    yield _PostgresCursor(cur)
            finally:
                conn.autocommit = False

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection[Row]]:
        """A connection of the pool outside any transaction, for session-level locks."""
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                conn.autocommit = False

    def close(self) -> None:
        self.pool.close()


def open_database(settings: Settings, process: str = "serve") -> SqliteDatabase | PostgresDatabase:
    url = settings.database_url
    if urlparse(url).scheme == "sqlite":
        return SqliteDatabase(sqlite_path(url))
    return PostgresDatabase(url, settings.database_schema, 1, settings.connections(process).views)


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Serializes creating tables across processes started together: PostgreSQL's
    `CREATE ... IF NOT EXISTS` races with itself (duplicate keys in its catalogs)."""
    if urlparse(settings.database_url).scheme == "sqlite":
        yield
        return
    key = f"marketplace-schema:{settings.database_schema or 'public'}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
