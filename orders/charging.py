"""What placing (and rerouting) reads to charge seller orders their shipping and tax: the
seller's and the buyer's tax profiles, the operator's rates and the seller's shipping grid;
and what it records on each seller order it opens."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from marketplace.adapters.eventstore import Read
from marketplace.kernel.errors import Refusal
from marketplace.taxes.application import Taxes
from marketplace.taxes.domain import RateOf, TaxCategory
from marketplace.taxes.profiles import TaxProfile
from offers.shipping import ShippingRate
from orders.charges import Charges, Goods, NotShipped, seller_order_charges, treatment_row
from orders.choosing import Choice, problem
from orders.domain import SellerOrder


def destination_of(shipping_address: Mapping[str, str] | None) -> str | None:
    country = (shipping_address or {}).get("country")
    return country.strip().upper() if country and country.strip() else None


@dataclass(frozen=True)
class Charged:
    """A seller order's charges, with what its lines are, for recording them."""

    charges: Charges
    categories: dict[str, TaxCategory]  # by product id

    def record(self, so: SellerOrder) -> None:
        shipping = self.charges.shipping
        so.charged(
            shipping=None
            if shipping is None
            else {
                "method": shipping.method,
                "name": shipping.name,
                "amount": shipping.amount.amount,
                "earliest_delivery_on": shipping.earliest_delivery_on.isoformat(),
                "latest_delivery_on": shipping.latest_delivery_on.isoformat(),
            },
            taxes={
                pid: treatment_row(self.categories[pid], treatment)
                for pid, treatment in self.charges.treatments.items()
            },
        )


class Charger:
    """Charges the seller orders of one order: the buyer, its destination and the rates are
    read once."""

    def __init__(
        self,
        taxes: Taxes,
        buyer_id: UUID,
        destination: str | None,
        today: str,
        seller_ids: Sequence[UUID] = (),
        found: Sequence[Mapping[UUID, Any]] | None = None,
    ) -> None:
        self.taxes = taxes
        if found is None:
            buyer, self._profiles, self._grids = taxes.of_order(buyer_id, seller_ids)
        else:
            buyer, self._profiles, self._grids = taxes.order_found(seller_ids, found)
        self._read = set(seller_ids)
        self.destination = destination or (
            destination_of(buyer.address) if buyer is not None else None  # type: ignore[arg-type]
        )
        self.buyer_vat_id = buyer.vat_id if buyer is not None else None
        self.today = date.fromisoformat(today)
        self._rate_of: RateOf | None = None

    def rate_of(self, country: str, category: TaxCategory) -> int:
        # Read when a seller order is first taxed: an order of untaxed sellers reads none.
        if self._rate_of is None:
            self._rate_of = self.taxes.rate_of()
        return self._rate_of(country, category)

    def charge(
        self,
        reseller_id: UUID,
        group: list[Choice],
        quantities: Mapping[int, int],
        method: str | None = None,
    ) -> Charged | NotShipped | None:
        """The group's charges; None when its seller has neither a tax profile nor a grid
        (its seller order is charged as before: untaxed, shipped free)."""
        seller, grid = self._seller(reseller_id)
        if seller is None and not grid:
            return None
        goods = [
            Goods(
                str(c.product.id),
                quantities[c.line],
                quantities[c.line] * c.price.amount,
                c.product.tax_category,
                c.offer.lead_time_days,
            )
            for c in group
        ]
        found = seller_order_charges(
            goods,
            group[0].price.currency,
            self.today,
            seller.country if seller is not None else None,
            self.destination,
            self.buyer_vat_id,
            self.rate_of,
            grid,
            method,
        )
        if isinstance(found, NotShipped):
            return found
        return Charged(found, {str(c.product.id): c.product.tax_category for c in group})

    def _seller(self, reseller_id: UUID) -> tuple[TaxProfile | None, list[ShippingRate]]:
        if reseller_id not in self._read:
            return self.taxes.profile("seller", reseller_id), self.taxes.grid(reseller_id)
        return self._profiles.get(reseller_id), self._grids.get(reseller_id, [])

    def methods(self, reseller_id: UUID, currency: str) -> list[tuple[str, str]]:
        """(method, name) of each way the seller ships to the destination in `currency`."""
        if self.destination is None:
            return []
        return [
            (rate.method, rate.name)
            for rate in self._seller(reseller_id)[1]
            if self.destination in rate.countries and rate.first_item.currency == currency
        ]


def not_shipped(refused: NotShipped, seller_name: str, group: list[Choice]) -> list[dict[str, Any]]:
    """Each line of the group, refused with why its seller cannot ship it."""
    if refused.country is None:
        msg = f"{seller_name} ships only to the countries of its shipping grid: give a "
        msg += "shipping_address with its country"
    elif refused.method is not None:
        msg = f"{seller_name} has no shipping method {refused.method} to {refused.country}"
    else:
        msg = f"{seller_name} does not ship to {refused.country}"
    return [problem(c.line, c.product.id, msg, Refusal.INVALID) for c in group]


class Charging:
    def __init__(self, taxes: Taxes, today: Callable[[], str]) -> None:
        self.taxes = taxes
        self.today = today

    def charger(
        self,
        buyer_id: UUID,
        shipping_address: Mapping[str, str] | None,
        seller_ids: Sequence[UUID] = (),
        found: Sequence[Mapping[UUID, Any]] | None = None,
    ) -> Charger:
        """A charger for one order, having read at once what charging these sellers needs
        (`found`: the results of `reads` for them, read along with something else)."""
        return Charger(
            self.taxes,
            buyer_id,
            destination_of(shipping_address),
            self.today(),
            seller_ids,
            found,
        )

    def reads(self, buyer_id: UUID, seller_ids: Sequence[UUID]) -> list[Read]:
        return self.taxes.order_reads(buyer_id, seller_ids)
