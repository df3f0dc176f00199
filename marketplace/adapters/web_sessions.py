"""Signed-in browsers' sessions, in the database so that any API process can serve them.

Only a hash of each session's token is stored; the cookie carries the token, signed.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from marketplace.adapters.sql import Database

IDLE_S = 12 * 3600
LONGEST_S = 7 * 24 * 3600
# A session's last use is written at most this often, not on every page.
TOUCH_S = 60


@dataclass(frozen=True)
class WebSession:
    token: str
    person_id: str
    acting_for: str | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebSessions:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS web_sessions (token_hash TEXT PRIMARY KEY, "
                "person_id TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, "
                "seen_at DOUBLE PRECISION NOT NULL, acting_for TEXT)"
            )

    def open(self, person_id: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM web_sessions WHERE seen_at < %s OR created_at < %s",
                [now - IDLE_S, now - LONGEST_S],
            )
            cur.execute(
                "INSERT INTO web_sessions (token_hash, person_id, created_at, seen_at) "
                "VALUES (%s, %s, %s, %s)",
                [_hash(token), person_id, now, now],
            )
        return token

    def find(self, token: str) -> WebSession | None:
        now = time.time()
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT person_id, acting_for, created_at, seen_at FROM web_sessions "
                "WHERE token_hash = %s",
                [_hash(token)],
            )
            row = cur.fetchone()
            if row is None:
                return None
            if float(row["seen_at"]) < now - IDLE_S or float(row["created_at"]) < now - LONGEST_S:
                return None
            if now - float(row["seen_at"]) > TOUCH_S:
                cur.execute(
                    "UPDATE web_sessions SET seen_at = %s WHERE token_hash = %s",
                    [now, _hash(token)],
                )
        return WebSession(token, str(row["person_id"]), row["acting_for"])

    def act_for(self, token: str, buyer_id: str | None) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE web_sessions SET acting_for = %s WHERE token_hash = %s",
                [buyer_id, _hash(token)],
            )

    def close(self, token: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM web_sessions WHERE token_hash = %s", [_hash(token)])

    def close_all(self, person_id: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM web_sessions WHERE person_id = %s", [person_id])
