"""The webhook dispatcher: a projection that writes, for each event, one delivery per
enabled subscription that asked for its type and may see it, in the same transaction as its
tracking (so once per event, however often it is delivered). Its own table remembers the
accounts each aggregate belongs to, for the events that name none. A subscription gets the
events stored from its creation on; a rebuild finds its deliveries already written."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor
from marketplace.webhooks.scope import matches, may_see, owners_named
from marketplace.webhooks.store import Subscription, Webhooks
from projections.tables import TableProjection

NAME = "webhooks"


def payload(event: Envelope) -> str:
    """The event as Kafka carries it, without the context the topic names."""
    return json.dumps(
        {
            "event_id": event["event_id"],
            "type": event["type"],
            "aggregate_id": event["aggregate_id"],
            "aggregate_version": event["aggregate_version"],
            "position": event["position"],
            "occurred_at": event["occurred_at"],
            "data": event["data"],
        },
        separators=(",", ":"),
    )


def delivery_row(subscription: Subscription, event: Envelope, stored_at: float) -> list[Any]:
    return [
        subscription.id,
        event["event_id"],
        event["type"],
        event["aggregate_id"],
        event["aggregate_version"],
        stored_at,
        payload(event),
    ]


class WebhookDispatch(TableProjection):
    name = NAME
    TABLES: ClassVar[dict[str, str]] = {
        "owners": "aggregate_id TEXT PRIMARY KEY, owners TEXT NOT NULL",
    }
    INDEXES: ClassVar[dict[str, str]] = {}

    def __init__(self, prefix: str, webhooks: Webhooks | None = None) -> None:
        super().__init__(prefix)
        self.webhooks = webhooks

    def owners(self, cur: Cursor, events: Sequence[Envelope]) -> dict[str, set[str]]:
        """The accounts of each event's aggregate, remembered and extended by the events."""
        ids = sorted({e["aggregate_id"] for e in events})
        known: dict[str, set[str]] = {}
        for start in range(0, len(ids), 500):
            where, args = cur.one_of("aggregate_id", ids[start : start + 500])
            cur.execute(f"SELECT aggregate_id, owners FROM {self._t('owners')} WHERE {where}", args)
            known.update({r["aggregate_id"]: set(json.loads(r["owners"])) for r in cur.fetchall()})
        changed: dict[str, set[str]] = {}
        for event in events:
            named = owners_named(event["type"], event["aggregate_id"], event["data"])
            had = known.setdefault(event["aggregate_id"], set())
            if not named <= had:
                had |= named
                changed[event["aggregate_id"]] = had
        if changed:
            cur.upsert(
                self._t("owners"),
                ["aggregate_id", "owners"],
                [[k, json.dumps(sorted(v))] for k, v in changed.items()],
                "aggregate_id",
            )
        return known

    def apply_many(self, cur: Cursor, events: Sequence[Envelope]) -> None:
        if not events:
            return
        owners = self.owners(cur, events)
        if self.webhooks is None:
            return
        subscriptions = self.webhooks.enabled(cur)
        if not subscriptions:
            return
        since = {s.id: datetime.fromisoformat(s.created_at) for s in subscriptions}
        rows = []
        for event in events:
            stored_at = datetime.fromisoformat(event["occurred_at"])
            for subscription in subscriptions:
                if (
                    stored_at >= since[subscription.id]
                    and matches(subscription.events, event["type"])
                    and may_see(subscription.account_id, owners[event["aggregate_id"]])
                ):
                    rows.append(delivery_row(subscription, event, stored_at.timestamp()))
        if rows:
            self.webhooks.add(cur, rows)
