"""Idempotency-Key records: the first answer to a creating POST, kept for its retries."""

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from marketplace.adapters.sql import Database
from marketplace.kernel.errors import Conflict

# A request that has held its key this long without answering is taken to have died.
STALE_AFTER_S = 60.0


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, "
                "request_hash TEXT NOT NULL, owner TEXT NOT NULL, started_at DOUBLE PRECISION "
                "NOT NULL, status_code INTEGER, body TEXT, PRIMARY KEY (scope, key))"
            )

    def begin(self, scope: str, key: str, request_hash: str) -> Answer | str:
        """The stored answer for a retry, or a claim token for a first request."""
        owner = secrets.token_hex(8)
        now = time.time()
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO idempotency (scope, key, request_hash, owner, started_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (scope, key) DO NOTHING",
                [scope, key, request_hash, owner, now],
            )
            cur.execute("SELECT * FROM idempotency WHERE scope = %s AND key = %s", [scope, key])
            row = cur.fetchone()
            assert row is not None
            if row["request_hash"] != request_hash:
                raise Conflict("this Idempotency-Key was already used with another request")
            if row["owner"] == owner:
                return owner
            if row["status_code"] is not None:
                return Answer(int(row["status_code"]), json.loads(row["body"]))
            if now - float(row["started_at"]) < STALE_AFTER_S:
                raise Conflict("a request with this Idempotency-Key is still being processed")
            cur.execute(
                "UPDATE idempotency SET owner = %s, started_at = %s WHERE scope = %s AND key = %s",
                [owner, now, scope, key],
            )
            return owner

    def finish(self, scope: str, key: str, owner: str, answer: Answer) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE idempotency SET status_code = %s, body = %s "
                "WHERE scope = %s AND key = %s AND owner = %s",
                [answer.status_code, json.dumps(answer.body), scope, key, owner],
            )

    def abandon(self, scope: str, key: str, owner: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM idempotency WHERE scope = %s AND key = %s AND owner = %s",
                [scope, key, owner],
            )
