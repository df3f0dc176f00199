"""The contexts' event logs, read as envelopes: what projections and the relay consume."""

from collections.abc import Mapping
from uuid import UUID

from marketplace.adapters.envelope import Envelope, envelope
from marketplace.adapters.eventstore import (
    MarketplaceApplication,
    heads_of,
    last_of_kinds,
)
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
        found = heads_of(self.apps)
        if found is not None:
            return found
        return {ctx: app.position() for ctx, app in self.apps.items()}

    def last_of(self, kinds: frozenset[str]) -> Positions | None:
        """Each log's last event of these kinds (`Class.Event`), in one read where the logs
        share a database (None where they do not)."""
        return last_of_kinds(self.apps, kinds)

    def news(
        self, after: Positions, kinds: frozenset[str], last: Positions | None = None
    ) -> Positions:
        """The last position of each log holding events of these kinds (`Class.Event`) after
        `after`: what a view must reach to reflect them. One read where the logs share a
        database (none when `last`, from `last_of`, is given)."""
        last = last if last is not None else self.last_of(kinds)
        if last is not None:
            return {context: at for context, at in last.items() if at > after.get(context, 0)}
        return {
            context: head
            for context, head in self.heads().items()
            if after.get(context, 0) < head
            and self.contains_any(context, after.get(context, 0), head, kinds)
        }
