"""An incident: a buyer reports a problem with a seller order; the seller resolves it; the
buyer or the operator closes it (api.md v1.2)."""

from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.errors import Conflict

Reason = Literal["not_received", "damaged", "wrong_item", "other"]
REASONS: tuple[str, ...] = ("not_received", "damaged", "wrong_item", "other")
Status = Literal["open", "resolved", "closed"]


class Incident(Aggregate):
    @event("Opened")
    def __init__(
        self,
        id: UUID,
        seller_order_id: UUID,
        order_id: UUID,
        buyer_id: UUID,
        seller_id: UUID,
        reason: str,
        product_ids: list[str],
        comment: str,
        by: dict[str, str],
        at: str,
    ) -> None:
        self.seller_order_id = seller_order_id
        self.order_id = order_id
        self.buyer_id = buyer_id
        self.seller_id = seller_id
        self.reason = reason
        self.product_ids = product_ids
        self.comment = comment
        self.opened_at = at
        self.status: Status = "open"
        self.history: list[dict[str, Any]] = [
            {"status": "open", "comment": comment, "by": by, "at": at}
        ]

    def resolve(self, comment: str, by: dict[str, str], at: str) -> None:
        if self.status != "open":
            raise Conflict(f"an incident that is {self.status} cannot be resolved")
        self._resolved(comment=comment, by=by, at=at)

    @event("Resolved")
    def _resolved(self, comment: str, by: dict[str, str], at: str) -> None:
        self.status = "resolved"
        self.history.append({"status": "resolved", "comment": comment, "by": by, "at": at})

    def close(self, comment: str, by: dict[str, str], at: str) -> None:
        if self.status == "closed":
            raise Conflict("the incident is closed already")
        self._closed(comment=comment, by=by, at=at)

    @event("Closed")
    def _closed(self, comment: str, by: dict[str, str], at: str) -> None:
        self.status = "closed"
        self.history.append({"status": "closed", "comment": comment, "by": by, "at": at})


def describe_incident(incident: Incident) -> dict[str, Any]:
    return {
        "incident_id": str(incident.id),
        "seller_order_id": str(incident.seller_order_id),
        "order_id": str(incident.order_id),
        "buyer_id": str(incident.buyer_id),
        "reseller_id": str(incident.seller_id),
        "reason": incident.reason,
        "product_ids": incident.product_ids,
        "comment": incident.comment,
        "status": incident.status,
        "opened_at": incident.opened_at,
        "history": incident.history,
    }
