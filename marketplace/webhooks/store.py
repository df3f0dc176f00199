"""Webhook subscriptions and their deliveries, in tables beside the views.

A subscription holds its signing secret, so it is never an event (events go to Kafka). A
delivery is one event for one subscription, written by the dispatcher in the same
transaction as its tracking (so once per event), then claimed, attempted and recorded by the
sender. Deliveries of one aggregate to one subscription go in the order of its versions: one
waits while an earlier one is still pending.
"""

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marketplace.adapters.sql import Cursor, Database
from marketplace.kernel.errors import NotFound

SUBSCRIPTIONS = (
    "webhooks (id TEXT PRIMARY KEY, account_id TEXT, url TEXT NOT NULL, events TEXT NOT NULL, "
    "description TEXT, secret TEXT NOT NULL, status TEXT NOT NULL, failing_since DOUBLE "
    "PRECISION, created_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0)"
)
DELIVERIES = (
    "webhook_deliveries (id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, "
    "type TEXT NOT NULL, aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, "
    "stored_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, "
    "attempts INTEGER NOT NULL, next_at DOUBLE PRECISION NOT NULL, lease_until DOUBLE "
    "PRECISION, claim TEXT, last_status_code INTEGER, last_error TEXT, delivered_at "
    "DOUBLE PRECISION, created_at DOUBLE PRECISION NOT NULL, UNIQUE (webhook_id, event_id))"
)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
ENABLED, DISABLED = "enabled", "disabled"


@dataclass(frozen=True)
class Subscription:
    id: str
    account_id: str | None
    url: str
    events: list[str]
    description: str | None
    secret: str
    status: str
    failing_since: float | None
    created_at: str

    def describe(self) -> dict[str, Any]:
        return {
            "webhook_id": self.id,
            "url": self.url,
            "events": self.events,
            "description": self.description,
            "status": self.status,
            "failing_since": None
            if self.failing_since is None
            else datetime.fromtimestamp(self.failing_since, UTC).isoformat(),
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Delivery:
    id: str
    webhook_id: str
    event_id: str
    body: bytes
    attempts: int
    # When the delivery was queued: it is given up a while after that.
    queued_at: float


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(
        id=row["id"],
        account_id=row["account_id"],
        url=row["url"],
        events=json.loads(row["events"]),
        description=row["description"],
        secret=row["secret"],
        status=row["status"],
        failing_since=row["failing_since"],
        created_at=row["created_at"],
    )


def describe_delivery(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "delivery_id": row["id"],
        "event_id": row["event_id"],
        "type": row["type"],
        "status": row["status"],
        "attempts": int(row["attempts"]),
        "last_status_code": row["last_status_code"],
        "last_error": row["last_error"],
        "next_attempt_at": datetime.fromtimestamp(float(row["next_at"]), UTC).isoformat()
        if row["status"] == PENDING
        else None,
        "delivered_at": datetime.fromtimestamp(float(row["delivered_at"]), UTC).isoformat()
        if row["delivered_at"]
        else None,
    }


class Webhooks:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {SUBSCRIPTIONS}")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {DELIVERIES}")
            cur.execute(
                "CREATE INDEX IF NOT EXISTS webhook_deliveries_due "
                "ON webhook_deliveries (status, next_at)"
            )
            cur.execute(
                "CREATE INDEX IF NOT EXISTS webhook_deliveries_order "
                "ON webhook_deliveries (webhook_id, aggregate_id, status, version)"
            )
            cur.execute(
                "CREATE INDEX IF NOT EXISTS webhook_deliveries_log "
                "ON webhook_deliveries (webhook_id, created_at)"
            )

    # Subscriptions

    def subscribe(
        self,
        account_id: str | None,
        url: str,
        events: list[str],
        description: str | None,
        secret: str,
    ) -> Subscription:
        webhook_id = str(uuid.uuid4())
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO webhooks (id, account_id, url, events, description, secret, status, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    webhook_id,
                    account_id,
                    url,
                    json.dumps(events),
                    description,
                    secret,
                    ENABLED,
                    datetime.now(UTC).isoformat(),
                ],
            )
        return self.get(webhook_id, account_id)

    def get(self, webhook_id: str, account_id: str | None) -> Subscription:
        """A subscription of the account (None: the operator's own)."""
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT * FROM webhooks WHERE id = %s AND deleted = 0 AND "
                + ("account_id IS NULL" if account_id is None else "account_id = %s"),
                [webhook_id] if account_id is None else [webhook_id, account_id],
            )
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"unknown webhook {webhook_id}")
        return _subscription(dict(row))

    def of(self, account_id: str | None) -> list[Subscription]:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT * FROM webhooks WHERE deleted = 0 AND "
                + ("account_id IS NULL" if account_id is None else "account_id = %s")
                + " ORDER BY created_at, id",
                [] if account_id is None else [account_id],
            )
            return [_subscription(dict(r)) for r in cur.fetchall()]

    def enabled(self, cur: Cursor) -> list[Subscription]:
        cur.execute("SELECT * FROM webhooks WHERE deleted = 0 AND status = %s", [ENABLED])
        return [_subscription(dict(r)) for r in cur.fetchall()]

    def delete(self, webhook_id: str, account_id: str | None) -> None:
        """Stops it at once: its pending deliveries are dropped."""
        self.get(webhook_id, account_id)
        with self.db.transaction() as cur:
            cur.execute("UPDATE webhooks SET deleted = 1 WHERE id = %s", [webhook_id])
            cur.execute(
                "DELETE FROM webhook_deliveries WHERE webhook_id = %s AND status = %s",
                [webhook_id, PENDING],
            )

    # Deliveries

    def add(self, cur: Cursor, rows: Sequence[Sequence[Any]]) -> None:
        """(webhook_id, event_id, type, aggregate_id, version, stored_at, body), in the
        caller's transaction; one already there is left as it is."""
        now = time.time()
        cur.executemany(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_id, type, aggregate_id, "
            "version, stored_at, body, status, attempts, next_at, created_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s) "
            "ON CONFLICT (webhook_id, event_id) DO NOTHING",
            [[str(uuid.uuid4()), *row, PENDING, now, now] for row in rows],
        )

    def deliveries(
        self, webhook_id: str, status: str | None, limit: int, before: float | None
    ) -> list[dict[str, Any]]:
        where = ["webhook_id = %s"]
        params: list[Any] = [webhook_id]
        if status:
            where.append("status = %s")
            params.append(status)
        if before is not None:
            where.append("created_at < %s")
            params.append(before)
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT * FROM webhook_deliveries WHERE {' AND '.join(where)} "
                "ORDER BY created_at DESC, version DESC LIMIT %s",
                [*params, limit],
            )
            return [dict(r) for r in cur.fetchall()]

    def retry(self, webhook_id: str, delivery_id: str) -> None:
        """Sends a delivery again now, whatever it came to."""
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT id FROM webhook_deliveries WHERE id = %s AND webhook_id = %s",
                [delivery_id, webhook_id],
            )
            if cur.fetchone() is None:
                raise NotFound(f"unknown delivery {delivery_id}")
            cur.execute(
                "UPDATE webhook_deliveries SET status = %s, next_at = %s, lease_until = NULL "
                "WHERE id = %s",
                [PENDING, time.time(), delivery_id],
            )

    def claim(self, claim: str, lease_s: float, limit: int) -> list[Delivery]:
        """Due deliveries of enabled subscriptions, each the earliest still pending of its
        aggregate for its subscription, claimed by no live sender."""
        now = time.time()
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                "WHERE d.status = %s AND d.next_at <= %s AND w.status = %s AND w.deleted = 0 "
                "AND (d.lease_until IS NULL OR d.lease_until < %s) AND NOT EXISTS (SELECT 1 "
                "FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND "
                "e.aggregate_id = d.aggregate_id AND e.status = %s AND e.version < d.version) "
                "ORDER BY d.next_at, d.created_at LIMIT %s",
                [PENDING, now, ENABLED, now, PENDING, limit],
            )
            ids = [r["id"] for r in cur.fetchall()]
            if not ids:
                return []
            where, args = cur.one_of("id", ids)
            cur.execute(
                f"UPDATE webhook_deliveries SET lease_until = %s, claim = %s WHERE {where} "
                "AND status = %s AND (lease_until IS NULL OR lease_until < %s)",
                [now + lease_s, claim, *args, PENDING, now],
            )
            cur.execute(
                f"SELECT * FROM webhook_deliveries WHERE claim = %s AND {where}", [claim, *args]
            )
            return [
                Delivery(
                    r["id"],
                    r["webhook_id"],
                    r["event_id"],
                    str(r["body"]).encode(),
                    int(r["attempts"]),
                    float(r["created_at"]),
                )
                for r in cur.fetchall()
            ]

    def delivered(self, done: Sequence[tuple[Delivery, int]], claim: str) -> None:
        """Records deliveries that went through (with the receiver's status), and that
        their subscriptions are no longer failing."""
        if not done:
            return
        now = time.time()
        with self.db.transaction() as cur:
            cur.executemany(
                "UPDATE webhook_deliveries SET status = %s, attempts = attempts + 1, "
                "last_status_code = %s, last_error = NULL, delivered_at = %s, lease_until = NULL "
                "WHERE id = %s AND claim = %s",
                [[DELIVERED, code, now, d.id, claim] for d, code in done],
            )
            where, args = cur.one_of("id", sorted({d.webhook_id for d, _ in done}))
            cur.execute(
                f"UPDATE webhooks SET failing_since = NULL WHERE {where} "
                "AND failing_since IS NOT NULL",
                args,
            )

    def attempt_failed(
        self,
        delivery: Delivery,
        claim: str,
        http_status: int | None,
        error: str | None,
        retry_in: float | None,
    ) -> float:
        """Records a failed attempt, to try again after `retry_in` seconds or never (None);
        returns since when its subscription has been failing."""
        now = time.time()
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE webhook_deliveries SET status = %s, attempts = attempts + 1, "
                "last_status_code = %s, last_error = %s, next_at = %s, lease_until = NULL "
                "WHERE id = %s AND claim = %s",
                [
                    PENDING if retry_in is not None else FAILED,
                    http_status,
                    (error or "")[:300],
                    now + (retry_in or 0),
                    delivery.id,
                    claim,
                ],
            )
            cur.execute(
                "UPDATE webhooks SET failing_since = %s WHERE id = %s AND failing_since IS NULL",
                [now, delivery.webhook_id],
            )
            cur.execute("SELECT failing_since FROM webhooks WHERE id = %s", [delivery.webhook_id])
            row = cur.fetchone()
        return float(row["failing_since"]) if row and row["failing_since"] else now

    def disable(self, webhook_id: str) -> bool:
        """Disables it; whether it was enabled until now."""
        with self.db.transaction() as cur:
            cur.execute("SELECT status FROM webhooks WHERE id = %s AND deleted = 0", [webhook_id])
            row = cur.fetchone()
            if row is None or row["status"] != ENABLED:
                return False
            cur.execute("UPDATE webhooks SET status = %s WHERE id = %s", [DISABLED, webhook_id])
            return True

    def replay(self, subscription: Subscription, rows: Sequence[Sequence[Any]]) -> int:
        """Delivers these events again (or for the first time), and enables the
        subscription again."""
        now = time.time()
        with self.db.transaction() as cur:
            cur.executemany(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_id, type, aggregate_id, "
                "version, stored_at, body, status, attempts, next_at, created_at) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s) "
                "ON CONFLICT (webhook_id, event_id) DO UPDATE SET status = excluded.status, "
                "next_at = excluded.next_at, lease_until = NULL",
                [[str(uuid.uuid4()), *row, PENDING, now, now] for row in rows],
            )
            cur.execute(
                "UPDATE webhooks SET status = %s, failing_since = NULL WHERE id = %s",
                [ENABLED, subscription.id],
            )
        return len(rows)

    def by_id(self, webhook_id: str) -> Subscription:
        with self.db.transaction() as cur:
            cur.execute("SELECT * FROM webhooks WHERE id = %s", [webhook_id])
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"unknown webhook {webhook_id}")
        return _subscription(dict(row))
