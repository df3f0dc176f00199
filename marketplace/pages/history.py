"""An aggregate's history as a timeline in plain words: every change is an event, so the
whole story of an order, an offer or an account can be read back."""

from typing import Any
from uuid import UUID

from marketplace.adapters.eventstore import MarketplaceApplication

# Event type (class name without the aggregate) -> what happened, from the event's fields.
WORDS: dict[str, str] = {
    "Opened": "Opened for {total_words}",
    "Released": "Sent to the seller",
    "Accepted": "Accepted by the seller",
    "Refused": "Refused by the seller: {reason}",
    "Shipped": "Shipped {lines_words}{tracking_words}",
    "Delivered": "Delivered",
    "Cancelled": "Cancelled by the seller: {reason}",
    "Drafted": "Drafted",
    "Placed": "Placed",
    "Approved": "Approved{reason_words}",
    "Rejected": "Rejected",
    "Failed": "Could not be placed",
    "Rerouted": "A refused seller order was rerouted",
    "RerouteStarted": "Rerouting a refused seller order",
    "RerouteFinished": "Rerouting finished",
    "Registered": "Signed up",
    "Suspended": "Suspended{reason_words}",
    "Reinstated": "Reinstated{reason_words}",
    "CommissionSet": "Commission set to {rate_bps} bps",
    "Published": "Published",
    "Revised": "Revised",
    "StockSet": "Stock set to {quantity}",
    "Withdrawn": "Withdrawn",
    "StockReserved": "Stock reserved",
    "StockReleased": "Reserved stock released",
    "ReservationShipped": "Reserved stock shipped",
}


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _words(kind: str, fields: dict[str, Any], names: dict[str, str]) -> str:
    lines = fields.get("lines")
    extra = {
        "lines_words": ", ".join(
            f"{q} \N{MULTIPLICATION SIGN} {names.get(str(p), str(p)[:8])}" for p, q in lines.items()
        )
        if isinstance(lines, dict)
        else "",
        "tracking_words": f" with tracking {fields['tracking']}" if fields.get("tracking") else "",
        "reason_words": f": {fields['reason']}" if fields.get("reason") else "",
        "total_words": _total(fields),
    }
    template = WORDS.get(kind)
    if template is None:
        return kind
    return template.format_map(_Fields({**fields, **extra}))


def _total(fields: dict[str, Any]) -> str:
    lines = fields.get("lines")
    if not isinstance(lines, list):
        return "its lines"
    count = sum(int(line.get("quantity", 0)) for line in lines if isinstance(line, dict))
    return f"{len(lines)} line{'s' * (len(lines) != 1)}, {count} items"


def timeline(
    app: MarketplaceApplication, aggregate_id: UUID, names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Each event of the aggregate, oldest first: when, its type, and what it means."""
    story = []
    for event in app.repository.event_store.get(aggregate_id):
        kind = type(event).__qualname__.split(".")[-1]
        fields = {k: v for k, v in vars(event).items() if k not in ("originator_id",)}
        story.append(
            {
                "at": str(getattr(event, "timestamp", "")),
                "version": getattr(event, "originator_version", None),
                "type": kind,
                "what": _words(kind, fields, names or {}),
            }
        )
    return story
