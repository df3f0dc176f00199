"""Notices a projection whose watermark stays behind its log's head, says so, and repairs it.

Kafka is a transport, not the source of truth: whatever it did (a consumer stuck inside the
client library, a partition held by a member that no longer reads, an event lost in transit
with nothing later to reveal the gap), the events are in the event store. A projection whose
watermark has not moved for `stall_after` seconds while its logs hold more is `stalled`: that
is logged, counted, shown by `GET /v1/operator/projections`, and the missing positions are
read from the event store and applied, exactly once, like any other delivery.
"""

import logging
import time
from collections.abc import Callable

from marketplace.adapters import metrics
from marketplace.kernel.position import Positions
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)
Clock = Callable[[], float]


class StallWatch:
    def __init__(
        self,
        projections: ProjectionRunner,
        name: str,
        stall_after: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.projections = projections
        self.name = name
        self.stall_after = stall_after
        self.clock = clock
        self._seen: Positions | None = None
        self._since = clock()
        # Unknown at start: a process that died while stalled left the status behind.
        self._stalled = True

    def check(self) -> bool:
        """One look; returns whether the projection was found stalled (and repaired)."""
        heads = self.projections.events.heads()
        positions = self.projections.positions(self.name)
        behind = {c: (positions.get(c, 0), h) for c, h in heads.items() if positions.get(c, 0) < h}
        now = self.clock()
        if not behind or positions != self._seen:
            self._seen, self._since = positions, now
            if self._stalled and not behind:
                self._recovered()
            return False
        if now - self._since < self.stall_after:
            return False
        where = ", ".join(f"{c} at {at} of {head}" for c, (at, head) in behind.items())
        log.warning(
            "projection %s stalled: no progress for %.0f s while behind its logs (%s); "
            "reading the missing events from the event store",
            self.name,
            now - self._since,
            where,
        )
        if self.projections.mark_stalled(self.name, f"no progress for {now - self._since:.0f} s"):
            self._stalled = True
            metrics.PROJECTION_STALLS.labels(self.name).inc()
            metrics.PROJECTION_STALLED.labels(self.name).set(1)
        read = self.projections.repair(self.name)
        log.info("projection %s: %d events read from the event store", self.name, read)
        self._since = self.clock()
        return True

    def _recovered(self) -> None:
        self._stalled = False
        metrics.PROJECTION_STALLED.labels(self.name).set(0)
        if self.projections.clear_stalled(self.name):
            log.info("projection %s has caught up again", self.name)
