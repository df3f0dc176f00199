"""A rebuild folded in memory: the whole event store is applied to rows held in memory and
each table is written once at the end.

A rebuild reads every event once, in log order, with nothing else writing its tables, so it
needs neither the per-batch version checks nor the upserts of live delivery; keeping the
rows in memory until the end saves a lookup and a rewrite per event.
"""

import logging
from collections.abc import Sequence

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor
from projections.tracking import Fold, record_poison

log = logging.getLogger(__name__)


class Replay:
    """Exactly-once bookkeeping (versions, positions, poison) around a `Fold`."""

    def __init__(self, prefix: str, fold: Fold, track_positions: bool = True) -> None:
        self.prefix = prefix
        self.fold = fold
        self.track_positions = track_positions
        self.versions: dict[str, int] = {}
        self.positions: dict[str, int] = {}
        self.poison: list[tuple[Envelope, str]] = []

    def apply(self, events: Sequence[Envelope]) -> None:
        add, versions = self.fold.add, self.versions
        for event in events:
            try:
                add(event)
            except Exception as error:
                # As in live delivery: recorded, reported, and skipped.
                detail = f"{type(error).__name__}: {error}"
                log.error("poison event %s (%s): %s", event["event_id"], event["type"], detail)
                self.poison.append((event, detail))
            versions[event["aggregate_id"]] = event["aggregate_version"]
            if event["position"] is not None:
                self.positions[event["context"]] = event["position"]

    def write(self, cur: Cursor) -> None:
        self.fold.write(cur)
        cur.insert(
            f"{self.prefix}versions",
            ["aggregate_id", "version"],
            sorted(self.versions.items()),
        )
        if self.track_positions:
            positions = list(self.positions.items())
            cur.insert(f"{self.prefix}positions", ["context", "position"], positions)
        for event, detail in self.poison:
            record_poison(cur, self.prefix, event, detail)
