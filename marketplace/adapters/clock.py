"""The platform's time. Off by default; with `MARKETPLACE_CONTROLLABLE_CLOCK=1` (tests and
demos) it can be moved, and every process on the same database sees the move."""

from datetime import UTC, datetime

from marketplace.adapters.sql import Database
from marketplace.kernel.errors import Forbidden

KEY = "clock_offset_s"


class Clock:
    def __init__(self, db: Database, controllable: bool) -> None:
        self.db = db
        self.controllable = controllable

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if not self.controllable:
            return real
        return datetime.fromtimestamp(real.timestamp() + self._offset(), UTC)

    def today(self) -> str:
        return self.now().date().isoformat()

    def set(self, now: datetime) -> datetime:
        """Moves the platform's time to `now`; from there it runs on."""
        if not self.controllable:
            raise Forbidden("the clock is not controllable here (MARKETPLACE_CONTROLLABLE_CLOCK)")
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        offset = now.timestamp() - datetime.now(UTC).timestamp()
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO marketplace_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [KEY, repr(offset)],
            )
        return self.now()

    def _offset(self) -> float:
        with self.db.transaction() as cur:
            cur.execute("SELECT value FROM marketplace_meta WHERE key = %s", [KEY])
            row = cur.fetchone()
        return float(row["value"]) if row else 0.0
