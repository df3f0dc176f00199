"""Replaying a subscription's events from a date: every event stored since then that it
asked for and may see is delivered again (or for the first time)."""

from datetime import datetime
from typing import cast

from marketplace.adapters.eventlog import EventLog
from marketplace.webhooks.dispatcher import NAME, WebhookDispatch, delivery_row
from marketplace.webhooks.scope import matches, may_see
from marketplace.webhooks.store import Subscription, Webhooks
from projections.runner import ProjectionRunner

BATCH = 2000


def replay(
    events: EventLog,
    projections: ProjectionRunner,
    webhooks: Webhooks,
    subscription: Subscription,
    since: datetime,
) -> int:
    """Reads every context's log (positions do not follow time closely enough to seek by
    it) and queues what matches, a batch at a time; returns how many it queued."""
    queued = 0
    for context in events.contexts:
        after = 0
        while True:
            batch = events.read(context, after, BATCH)
            if not batch:
                break
            after = int(batch[-1]["position"] or after)
            recent = [
                e
                for e in batch
                if datetime.fromisoformat(e["occurred_at"]) >= since
                and matches(subscription.events, e["type"])
            ]
            if recent:
                with projections.db.transaction() as cur:
                    view = cast(WebhookDispatch, projections.live(cur, NAME))
                    owners = view.owners(cur, recent)
                rows = [
                    delivery_row(
                        subscription, e, datetime.fromisoformat(e["occurred_at"]).timestamp()
                    )
                    for e in recent
                    if may_see(subscription.account_id, owners[e["aggregate_id"]])
                ]
                queued += webhooks.replay(subscription, rows)
            if len(batch) < BATCH:
                break
    return queued
