"""The mail outbox: what the notifier decided to send, written in the same transaction as its
tracking, and what the sender has done with it.

A sender claims a few rows with a lease, sends them, and marks each one sent; a sender that
dies mid-batch leaves its claims to expire, and the next one sends them again with the same
`Message-ID`. Rows are kept after sending: they are the operator's record, and a rebuilt
notifier finds its mail already there.
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marketplace.adapters.sql import Cursor, Database

TABLE = "mail_outbox"
COLUMNS = (
    "message_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, kind TEXT NOT NULL, "
    "category TEXT NOT NULL, to_address TEXT NOT NULL, to_name TEXT NOT NULL, "
    "subject TEXT NOT NULL, text_body TEXT NOT NULL, html_body TEXT NOT NULL, "
    "link TEXT NOT NULL, attachment TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL, "
    "next_at DOUBLE PRECISION NOT NULL, lease_until DOUBLE PRECISION, claim TEXT, "
    "created_at TEXT NOT NULL, sent_at TEXT, last_error TEXT"
)
KEPT = "kept"
PENDING = "pending"
SENT = "sent"
FAILED = "failed"


@dataclass(frozen=True)
class Mail:
    message_id: str
    event_id: str
    kind: str
    category: str
    to_address: str
    to_name: str
    subject: str
    text_body: str
    html_body: str
    link: str
    attachment: dict[str, str] | None = None


def create(db: Database) -> None:
    with db.transaction() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({COLUMNS})")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_due ON {TABLE} (status, next_at)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_created ON {TABLE} (created_at)")


def add(cur: Cursor, mails: list[Mail], keep: bool) -> None:
    """Adds mail in the caller's transaction; mail already there (a redelivered event, a
    rebuild) is left as it is, so nothing is sent twice."""
    now = datetime.now(UTC).isoformat()
    cur.executemany(
        f"INSERT INTO {TABLE} (message_id, event_id, kind, category, to_address, to_name, "
        "subject, text_body, html_body, link, attachment, status, attempts, next_at, "
        "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, %s) "
        "ON CONFLICT (message_id) DO NOTHING",
        [
            [
                m.message_id,
                m.event_id,
                m.kind,
                m.category,
                m.to_address,
                m.to_name,
                m.subject,
                m.text_body,
                m.html_body,
                m.link,
                json.dumps(m.attachment) if m.attachment else None,
                KEPT if keep else PENDING,
                now,
            ]
            for m in mails
        ],
    )


def _mail(row: dict[str, Any]) -> Mail:
    return Mail(
        message_id=row["message_id"],
        event_id=row["event_id"],
        kind=row["kind"],
        category=row["category"],
        to_address=row["to_address"],
        to_name=row["to_name"],
        subject=row["subject"],
        text_body=row["text_body"],
        html_body=row["html_body"],
        link=row["link"],
        attachment=json.loads(row["attachment"]) if row["attachment"] else None,
    )


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db
        create(db)

    def claim(self, claim: str, lease_s: float, limit: int) -> list[Mail]:
        """Pending mail that is due and claimed by no live sender, oldest first."""
        now = time.time()
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT message_id FROM {TABLE} WHERE status = %s AND next_at <= %s "
                "AND (lease_until IS NULL OR lease_until < %s) ORDER BY created_at, message_id "
                "LIMIT %s",
                [PENDING, now, now, limit],
            )
            ids = [r["message_id"] for r in cur.fetchall()]
            if not ids:
                return []
            where, args = cur.one_of("message_id", ids)
            # Claimed only where no other sender claimed it in between.
            cur.execute(
                f"UPDATE {TABLE} SET lease_until = %s, claim = %s WHERE {where} "
                "AND status = %s AND (lease_until IS NULL OR lease_until < %s)",
                [now + lease_s, claim, *args, PENDING, now],
            )
            cur.execute(f"SELECT * FROM {TABLE} WHERE claim = %s AND {where}", [claim, *args])
            return sorted((_mail(r) for r in cur.fetchall()), key=lambda m: ids.index(m.message_id))

    def sent(self, message_id: str, claim: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {TABLE} SET status = %s, sent_at = %s, lease_until = NULL, "
                "attempts = attempts + 1, last_error = NULL WHERE message_id = %s AND claim = %s",
                [SENT, datetime.now(UTC).isoformat(), message_id, claim],
            )

    def failed(self, message_id: str, claim: str, error: str, retry_in: float | None) -> None:
        """A send that failed: tried again after `retry_in` seconds, or never (None)."""
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {TABLE} SET status = %s, attempts = attempts + 1, next_at = %s, "
                "lease_until = NULL, last_error = %s WHERE message_id = %s AND claim = %s",
                [
                    PENDING if retry_in is not None else FAILED,
                    time.time() + (retry_in or 0),
                    error[:500],
                    message_id,
                    claim,
                ],
            )

    def attempts(self, message_id: str) -> int:
        with self.db.transaction() as cur:
            cur.execute(f"SELECT attempts FROM {TABLE} WHERE message_id = %s", [message_id])
            row = cur.fetchone()
        return int(row["attempts"]) if row else 0

    def recent(self, limit: int, before: str | None = None) -> list[dict[str, Any]]:
        """The newest mail first, for the operator."""
        with self.db.transaction() as cur:
            where = "WHERE created_at < %s" if before else ""
            cur.execute(
                f"SELECT message_id, kind, category, to_address, to_name, subject, status, "
                f"attempts, created_at, sent_at, last_error FROM {TABLE} {where} "
                "ORDER BY created_at DESC, message_id LIMIT %s",
                [before, limit] if before else [limit],
            )
            return [dict(r) for r in cur.fetchall()]

    def one(self, message_id: str) -> dict[str, Any] | None:
        with self.db.transaction() as cur:
            cur.execute(f"SELECT * FROM {TABLE} WHERE message_id = %s", [message_id])
            row = cur.fetchone()
        return None if row is None else dict(row)

    def counts(self) -> dict[str, int]:
        with self.db.transaction() as cur:
            cur.execute(f"SELECT status, COUNT(*) AS n FROM {TABLE} GROUP BY status")
            return {r["status"]: int(r["n"]) for r in cur.fetchall()}
