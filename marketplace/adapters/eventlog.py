"""The contexts' event logs, read as envelopes: what projections and the relay consume."""

from collections.abc import Mapping
from uuid import UUID

from marketplace.adapters.envelope import Envelope, envelope
from marketplace.adapters.eventstore import MarketplaceApplication, heads_and_news
from marketplace.adapters.stored import to_envelope
from marketplace.kernel.position import Positions


class EventLog:
    def __init__(self, apps: Mapping[str, MarketplaceApplication]) -> None:
        self.apps = dict(apps)

    @property
    def contexts(self) -> list[str]:
        return list(self.apps)

    def read(self, context: str, after: int, limit: int) -> list[Envelope]:
        app = self.apps[context]
        notifications = app.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        return [to_envelope(app.mapper, context, n.id, n) for n in notifications]

    def read_part(
        self, context: str, after: int, up_to: int, part: int, parts: int
    ) -> list[Envelope]:
        """The events between two positions of one partition's aggregates (PostgreSQL)."""
        app = self.apps[context]
        rows = app.stored_part(after, up_to, part, parts)
        return [to_envelope(app.mapper, context, position, e) for position, e in rows]

    def index(self, context: str, after: int, limit: int) -> list[tuple[int, str, int]]:
        """Where events stand in the log, without decoding them."""
        notifications = self.apps[context].recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        return [(n.id, str(n.originator_id), int(n.originator_version)) for n in notifications]

    def contains_any(
        self, context: str, after: int, up_to: int, types: frozenset[str], most: int = 500
    ) -> bool:
        """Whether events of these types (`Class.Event`) lie between two positions; past
        `most` events it answers yes without looking."""
        notifications = self.apps[context].recorder.select_notifications(
            start=after, limit=most + 1, stop=up_to, inclusive_of_start=False
        )
        if len(notifications) > most:
            return True
        return any(n.topic.rpartition(":")[2] in types for n in notifications)

    def missing(self, context: str, aggregate_id: str, after: int, up_to: int) -> list[Envelope]:
        app = self.apps[context]
        events = app.events.get(UUID(aggregate_id), gt=after, lte=up_to)
        return [envelope(context, None, e) for e in events]

    def heads(self) -> Positions:
        together = heads_and_news(self.apps, {}, frozenset(), most=0)
        if together is not None:
            return together[0]
        return {ctx: app.position() for ctx, app in self.apps.items()}

    def heads_and_news(self, after: Positions, kinds: frozenset[str]) -> tuple[Positions, bool]:
        """Every log's last position, and whether events of these kinds (`Class.Event`) came
        after `after` in any of them; one read where the logs share a database."""
        together = heads_and_news(self.apps, after, kinds)
        if together is not None:
            return together[0], bool(together[1])
        heads = self.heads()
        news = any(
            self.contains_any(context, after.get(context, 0), head, kinds)
            for context, head in heads.items()
            if after.get(context, 0) < head
        )
        return heads, news
