"""Incidents: a buyer reports a problem with a seller order; the seller resolves it; the
buyer or the operator closes it. While one is open, what buyers paid on that seller order
stays out of payouts: the incident and its seller order's book are saved together."""

from collections.abc import Callable
from uuid import UUID, uuid4

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import Conflict, Invalid, NotFound
from orders.billing.application import Billing
from orders.billing.domain import Invoice, SellerOrderBook, book_id
from orders.billing.incident import REASONS, Incident
from orders.domain import SellerOrder


class Incidents:
    def __init__(self, billing: Billing, now: Callable[[], str]) -> None:
        self.billing = billing
        self.now = now

    def incident(
        self, incident_id: UUID, buyer_id: UUID | None = None, seller_id: UUID | None = None
    ) -> Incident:
        """An incident its buyer, its seller or the operator (neither given) may see."""
        found = self.billing.find(incident_id, Incident)
        if (
            found is None
            or (buyer_id is not None and found.buyer_id != buyer_id)
            or (seller_id is not None and found.seller_id != seller_id)
        ):
            raise NotFound(f"unknown incident {incident_id}")
        return found

    def open(
        self,
        seller_order: SellerOrder,
        reason: str,
        product_ids: list[UUID],
        comment: str,
        by: dict[str, str],
    ) -> Incident:
        if reason not in REASONS:
            raise Invalid(f"reason must be one of {', '.join(REASONS)}")
        if not seller_order.released:
            raise Conflict("the order is still awaiting the buyer's approval")
        on_order = {line.product_id for line in seller_order.lines}
        stray = [p for p in product_ids if p not in on_order]
        if stray:
            raise Invalid(f"product {stray[0]} is not on this seller order")
        incident_id = uuid4()

        def attempt() -> Incident:
            book = self.billing.book(seller_order.id)
            incident = Incident(
                id=incident_id,
                seller_order_id=seller_order.id,
                order_id=seller_order.order_id,
                buyer_id=seller_order.buyer_id,
                seller_id=seller_order.reseller_id,
                reason=reason,
                product_ids=[str(p) for p in dict.fromkeys(product_ids)],
                comment=comment,
                by=by,
                at=self.now(),
            )
            book.hold(incident_id)
            self.billing.save(incident, book)
            return incident

        return retrying(attempt)

    def resolve(
        self, incident_id: UUID, seller_id: UUID, comment: str, by: dict[str, str]
    ) -> Incident:
        def attempt() -> Incident:
            incident = self.incident(incident_id, seller_id=seller_id)
            incident.resolve(comment, by, self.now())
            self.billing.save(incident)
            return incident

        return retrying(attempt)

    def close(
        self, incident_id: UUID, buyer_id: UUID | None, comment: str, by: dict[str, str]
    ) -> Incident:
        """Closes it (the buyer its own, the operator any) and lets its payments go out."""

        def attempt() -> Incident:
            incident = self.incident(incident_id, buyer_id=buyer_id)
            incident.close(comment, by, self.now())
            book = self.billing.book(incident.seller_order_id)
            book.unhold(incident_id)
            self.billing.save(incident, book)
            return incident

        return retrying(attempt)

    def held_invoices(self, invoice_ids: list[str]) -> set[str]:
        """Those of the invoices whose seller order has an open incident."""
        invoices = self.billing.find_many([UUID(i) for i in invoice_ids], Invoice)
        books = self.billing.find_many(
            list({book_id(i.seller_order_id) for i in invoices.values()}), SellerOrderBook
        )
        held = {b.seller_order_id for b in books.values() if b.held}
        return {str(i) for i, invoice in invoices.items() if invoice.seller_order_id in held}
