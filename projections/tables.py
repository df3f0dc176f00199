"""What every projection built of tables shares: its tables, indexes and event handlers."""

from collections.abc import Callable, Sequence
from typing import ClassVar

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor
from projections.tracking import Fold

Handler = Callable[[Cursor, Envelope], None]


def _has_table(cur: Cursor, table: str) -> bool:
    if cur.dialect == "sqlite":
        cur.execute(
            "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = %s", [table]
        )
    else:
        cur.execute(
            "SELECT 1 AS found FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
    return cur.fetchone() is not None


def _has_column(cur: Cursor, table: str, column: str) -> bool:
    if cur.dialect == "sqlite":
        cur.execute("SELECT 1 AS found FROM pragma_table_info(%s) WHERE name = %s", [table, column])
    else:
        cur.execute(
            "SELECT 1 AS found FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND column_name = %s",
            [table, column],
        )
    return cur.fetchone() is not None


class TableProjection:
    """A projection whose rows live in tables named with a generation's prefix."""

    name: str
    TABLES: ClassVar[dict[str, str]]
    INDEXES: ClassVar[dict[str, str]]
    # Names changed, and columns added, since a generation may have been built: a live
    # generation is changed in place when it is opened, so an upgrade keeps its rows and
    # positions (renamed: old -> new; an added column's default holds for the rows before).
    RENAMED_TABLES: ClassVar[dict[str, str]] = {}
    RENAMED_COLUMNS: ClassVar[dict[str, dict[str, str]]] = {}  # new table -> old -> new
    RETIRED_INDEXES: ClassVar[tuple[str, ...]] = ()
    ADDED_COLUMNS: ClassVar[dict[str, dict[str, str]]] = {}  # table -> column -> definition

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        # A rebuild may defer rows derived from others until `finish`.
        self.deferred = False
        self._handlers = self.handlers()

    def handlers(self) -> dict[str, Handler]:
        return {}

    def create(self, cur: Cursor) -> None:
        self._rename(cur)
        for table, columns in self.TABLES.items():
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.prefix}{table} ({columns})")
        for index, target in self.INDEXES.items():
            cur.execute(f"CREATE INDEX IF NOT EXISTS {self.prefix}{index} ON {self.prefix}{target}")

    def _rename(self, cur: Cursor) -> None:
        p = self.prefix
        for old, new in self.RENAMED_TABLES.items():
            if _has_table(cur, p + old) and not _has_table(cur, p + new):
                cur.execute(f"ALTER TABLE {p}{old} RENAME TO {p}{new}")
        for table, columns in self.RENAMED_COLUMNS.items():
            for old, new in columns.items():
                if _has_table(cur, p + table) and _has_column(cur, p + table, old):
                    cur.execute(f"ALTER TABLE {p}{table} RENAME COLUMN {old} TO {new}")
        for old in self.RETIRED_INDEXES:
            cur.execute(f"DROP INDEX IF EXISTS {p}{old}")
        for table, added in self.ADDED_COLUMNS.items():
            for column, definition in added.items():
                if _has_table(cur, p + table) and not _has_column(cur, p + table, column):
                    cur.execute(f"ALTER TABLE {p}{table} ADD COLUMN {column} {definition}")

    def tables(self) -> list[str]:
        return list(self.TABLES)

    def apply_many(self, cur: Cursor, events: Sequence[Envelope]) -> None:
        for event in events:
            handler = self._handlers.get(event["type"])
            if handler is not None:
                handler(cur, event)

    def finish(self, cur: Cursor) -> None:
        """Writes what a deferred build left out."""

    def fold(self) -> Fold | None:
        """For a rebuild, the rows folded in memory; None to apply batches as they come."""
        return None

    def _t(self, name: str) -> str:
        return self.prefix + name
