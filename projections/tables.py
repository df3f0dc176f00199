"""What every projection built of tables shares: its tables, indexes and event handlers."""

from collections.abc import Callable, Sequence
from typing import ClassVar

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor
from projections.tracking import Fold

Handler = Callable[[Cursor, Envelope], None]


class TableProjection:
    """A projection whose rows live in tables named with a generation's prefix."""

    name: str
    TABLES: ClassVar[dict[str, str]]
    INDEXES: ClassVar[dict[str, str]]

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        # A rebuild may defer rows derived from others until `finish`.
        self.deferred = False
        self._handlers = self.handlers()

    def handlers(self) -> dict[str, Handler]:
        return {}

    def create(self, cur: Cursor) -> None:
        for table, columns in self.TABLES.items():
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.prefix}{table} ({columns})")
        for index, target in self.INDEXES.items():
            cur.execute(f"CREATE INDEX IF NOT EXISTS {self.prefix}{index} ON {self.prefix}{target}")

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
