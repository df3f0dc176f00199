"""Requests for quote, one per seller: the buyer asks a price for lines, the seller answers
with versioned offers, and an accepted offer becomes an order at the quoted prices.

    submitted ──offer──► offered ──accept──► ordered
        │                 │  ▲
        │                 │  └─offer── renegotiation_requested ◄─renegotiate─┐
        │                 └──────────────────────────────────────────────────┘
    cancelled (buyer, before an offer is accepted), rejected (seller), declined (buyer, an
    offer), withdrawn (seller, an offer), expired (an offer past its valid_to, when read).
"""

from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.errors import Conflict, Invalid

QuoteStatus = Literal[
    "submitted",
    "offered",
    "renegotiation_requested",
    "ordered",
    "cancelled",
    "rejected",
    "declined",
    "withdrawn",
    "expired",
]
OPEN_TO_BUYER = ("submitted", "offered", "renegotiation_requested")


class Quote(Aggregate):
    @event("Requested")
    def __init__(
        self,
        buyer_id: UUID,
        requested_by: str,
        reseller_id: UUID,
        lines: list[dict[str, Any]],
        comment: str | None,
        requested_delivery_on: str | None,
    ) -> None:
        self.buyer_id = buyer_id
        self.requested_by = requested_by
        self.reseller_id = reseller_id
        self.lines = lines
        self.comment = comment
        self.requested_delivery_on = requested_delivery_on
        self.stage: QuoteStatus = "submitted"
        self.versions: list[dict[str, Any]] = []
        self.thread: list[dict[str, Any]] = []
        self.order_id: UUID | None = None

    def status(self, now: str) -> QuoteStatus:
        """The stage, or `expired` for an offer read past its valid_to."""
        if self.stage == "offered" and self.versions and self.versions[-1]["valid_to"] < now:
            return "expired"
        return self.stage

    def _check(self, now: str, *allowed: str) -> None:
        status = self.status(now)
        if status not in allowed:
            raise Conflict(f"a quote that is {status.replace('_', ' ')} cannot do that")

    @property
    def offer_version(self) -> int:
        return len(self.versions)

    def offer(
        self, lines: list[dict[str, Any]], valid_to: str, comment: str | None, now: str
    ) -> None:
        """The seller's answer, as the next version: per line the unit price, the quantity
        it will deliver and the lead time."""
        self._check(now, "submitted", "renegotiation_requested")
        asked = {str(line["product_id"]) for line in self.lines}
        offered = [str(line["product_id"]) for line in lines]
        if len(set(offered)) != len(offered) or not set(offered) <= asked or not offered:
            raise Invalid("an offer prices some of the requested products, each once")
        if valid_to <= now:
            raise Invalid("valid_to must be in the future")
        self._offered(lines=lines, valid_to=valid_to, comment=comment, at=now)

    @event("Offered")
    def _offered(
        self, lines: list[dict[str, Any]], valid_to: str, comment: str | None, at: str
    ) -> None:
        self.versions.append(
            {
                "version": len(self.versions) + 1,
                "lines": lines,
                "valid_to": valid_to,
                "comment": comment,
                "at": at,
            }
        )
        self.stage = "offered"

    def renegotiate(self, comment: str | None, now: str) -> None:
        self._check(now, "offered")
        self._moved(stage="renegotiation_requested", by="buyer", comment=comment, at=now)

    def cancel(self, comment: str | None, now: str) -> None:
        if self.stage in OPEN_TO_BUYER:
            self._moved(stage="cancelled", by="buyer", comment=comment, at=now)
            return
        self._check(now, *OPEN_TO_BUYER)

    def decline(self, comment: str | None, now: str) -> None:
        self._check(now, "offered")
        self._moved(stage="declined", by="buyer", comment=comment, at=now)

    def reject(self, reason: str | None, now: str) -> None:
        self._check(now, "submitted", "renegotiation_requested")
        self._moved(stage="rejected", by="seller", comment=reason, at=now)

    def withdraw(self, reason: str | None, now: str) -> None:
        self._check(now, "offered")
        self._moved(stage="withdrawn", by="seller", comment=reason, at=now)

    @event("Moved")
    def _moved(self, stage: QuoteStatus, by: str, comment: str | None, at: str) -> None:
        self.stage = stage
        self.thread.append({"stage": stage, "by": by, "comment": comment, "at": at})

    def accept(self, order_id: UUID, now: str) -> list[dict[str, Any]]:
        """Marks the offer ordered (saved with the order's draft); returns its lines."""
        self._check(now, "offered")
        self._ordered(order_id=order_id, offer_version=self.offer_version, at=now)
        return list(self.versions[-1]["lines"])

    @event("Ordered")
    def _ordered(self, order_id: UUID, offer_version: int, at: str) -> None:
        self.stage = "ordered"
        self.order_id = order_id

    def order_failed(self, reason: str, now: str) -> None:
        """The order could not be placed (stock, credit): the offer stands again."""
        if self.stage == "ordered":
            self._order_failed(reason=reason, at=now)

    @event("OrderFailed")
    def _order_failed(self, reason: str, at: str) -> None:
        self.stage = "offered"
        self.order_id = None
        self.thread.append({"stage": "offered", "by": "platform", "comment": reason, "at": at})
