"""What every projection built of tables shares: its tables, indexes and event handlers."""

from collections.abc import Callable
from typing import ClassVar

from marketplace.envelope import Envelope
from marketplace.sql import Cursor

Handler = Callable[[Cursor, Envelope], None]


class TableProjection:
    """A projection whose rows live in tables named with a generation's prefix."""

    name: str
    TABLES: ClassVar[dict[str, str]]
    INDEXES: ClassVar[dict[str, str]]

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._handlers = self.handlers()

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def create(self, cur: Cursor) -> None:
        for table, columns in self.TABLES.items():
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.prefix}{table} ({columns})")
        for index, target in self.INDEXES.items():
            cur.execute(f"CREATE INDEX IF NOT EXISTS {self.prefix}{index} ON {self.prefix}{target}")

    def tables(self) -> list[str]:
        return list(self.TABLES)

    def apply(self, cur: Cursor, event: Envelope) -> None:
        handler = self._handlers.get(event["type"])
        if handler is not None:
            handler(cur, event)

    def _t(self, name: str) -> str:
        return self.prefix + name
