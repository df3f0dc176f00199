"""Quotes between a buyer and one seller: asked, offered in versions, accepted into an order
at the quoted prices through the same placement as any order."""

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import Invalid, NotFound
from marketplace.kernel.money import Money
from offers.application import Offers
from orders.application import Orders
from orders.choosing import LineRequest
from orders.domain import Order
from orders.placement import Placement, Quoted
from orders.quoting.domain import Quote

Now = Callable[[], str]


class Quoting:
    def __init__(self, orders: Orders, offers: Offers, placement: Placement, now: Now) -> None:
        self.orders = orders
        self.offers = offers
        self.placement = placement
        self.now = now

    def request(
        self,
        buyer_id: UUID,
        requested_by: str,
        reseller_id: UUID,
        lines: list[tuple[UUID, int]],
        comment: str | None,
        requested_delivery_on: str | None,
    ) -> Quote:
        if self.offers.terms(reseller_id, buyer_id) is None:
            raise NotFound(f"unknown reseller {reseller_id}")
        quote = Quote(
            buyer_id,
            requested_by,
            reseller_id,
            [{"product_id": str(p), "quantity": q} for p, q in lines],
            comment,
            requested_delivery_on,
        )
        self.orders.save(quote)
        return quote

    def quote(
        self, quote_id: UUID, buyer_id: UUID | None = None, reseller_id: UUID | None = None
    ) -> Quote:
        found = self.orders.find(quote_id, Quote)
        if (
            found is None
            or (buyer_id is not None and found.buyer_id != buyer_id)
            or (reseller_id is not None and found.reseller_id != reseller_id)
        ):
            raise NotFound(f"unknown quote {quote_id}")
        return found

    def offer(
        self,
        reseller_id: UUID,
        quote_id: UUID,
        lines: list[dict[str, Any]],
        valid_to: str,
        comment: str | None,
    ) -> Quote:
        """The seller's next version; never below a product's minimum advertised price."""
        for line in lines:
            product = self.offers.product(UUID(str(line["product_id"])))
            price: Money = line["unit_price"]
            if product.map_price is not None and price.amount < product.map_price.amount:
                raise Invalid(
                    f"{product.sku}: {price.amount} is below its minimum advertised price "
                    f"{product.map_price.amount} {product.map_price.currency}"
                )

        def attempt() -> Quote:
            quote = self.quote(quote_id, reseller_id=reseller_id)
            quote.offer(
                [
                    {
                        "product_id": str(line["product_id"]),
                        "quantity": int(line["quantity"]),
                        "unit_price": line["unit_price"].amount,
                        "currency": line["unit_price"].currency,
                        "lead_time_days": int(line["lead_time_days"]),
                    }
                    for line in lines
                ],
                valid_to,
                comment,
                self.now(),
            )
            self.orders.save(quote)
            return quote

        return retrying(attempt)

    def move(
        self,
        quote_id: UUID,
        move: str,
        said: str | None,
        buyer_id: UUID | None = None,
        reseller_id: UUID | None = None,
    ) -> Quote:
        """A buyer's decline, cancel or renegotiate; a seller's reject or withdraw."""

        def attempt() -> Quote:
            quote = self.quote(quote_id, buyer_id=buyer_id, reseller_id=reseller_id)
            getattr(quote, move)(said, self.now())
            self.orders.save(quote)
            return quote

        return retrying(attempt)

    def accept(
        self,
        buyer_id: UUID,
        placed_by: dict[str, str],
        spending_limit: Money | None,
        quote_id: UUID,
        payment_method: str,
        po_number: str | None,
        cost_centre_id: UUID | None,
        shipping_address: dict[str, str] | None = None,
        shipping_methods: Mapping[UUID, str] | None = None,
    ) -> Order:
        quote = self.quote(quote_id, buyer_id=buyer_id)
        now = self.now()
        quote.accept(UUID(int=0), now)  # checks it can be accepted; nothing is saved here
        offered = quote.versions[-1]["lines"]
        return self.placement.place(
            buyer_id,
            placed_by,
            spending_limit,
            [
                LineRequest(UUID(line["product_id"]), int(line["quantity"]), quote.reseller_id)
                for line in offered
            ],
            payment_method,
            po_number,
            shipping_address,
            cost_centre_id=cost_centre_id,
            shipping_methods=shipping_methods,
            quoted=Quoted(
                quote.id,
                {
                    UUID(line["product_id"]): Money(int(line["unit_price"]), line["currency"])
                    for line in offered
                },
                now,
            ),
        )


def describe_quote(quote: Quote, now: str) -> dict[str, Any]:
    def priced(line: dict[str, Any]) -> dict[str, Any]:
        return {
            "product_id": line["product_id"],
            "quantity": line["quantity"],
            "unit_price": {"amount": int(line["unit_price"]), "currency": line["currency"]},
            "lead_time_days": line["lead_time_days"],
        }

    versions = [
        {
            "version": v["version"],
            "lines": [priced(line) for line in v["lines"]],
            "valid_to": v["valid_to"],
            "comment": v["comment"],
            "at": v["at"],
        }
        for v in quote.versions
    ]
    return {
        "quote_id": str(quote.id),
        "buyer_id": str(quote.buyer_id),
        "reseller_id": str(quote.reseller_id),
        "status": quote.status(now),
        "version": quote.offer_version,
        "valid_to": versions[-1]["valid_to"] if versions else None,
        "comment": quote.comment,
        "requested_delivery_on": quote.requested_delivery_on,
        "requested_lines": quote.lines,
        "lines": versions[-1]["lines"] if versions else quote.lines,
        "versions": versions,
        "thread": quote.thread,
        "order_id": str(quote.order_id) if quote.order_id else None,
    }
