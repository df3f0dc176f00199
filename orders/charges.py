"""What one seller order charges on top of its goods, as api.md v1.2 words it: shipping by
the seller's grid to the destination, and VAT where the seller has a tax profile, each line
taxed by its treatment, shipping following the goods it ships, tax rounded once per group.
Not yet read by placement (#24): the rule first, with its figures tested."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from marketplace.kernel.money import Money
from marketplace.taxes.domain import (
    RateOf,
    TaxCategory,
    TaxGroup,
    Treatment,
    breakdown,
    goods_treatment,
    split,
)
from offers.shipping import Shipping, ShippingRate, shipping_for


@dataclass(frozen=True)
class Goods:
    """One line of the seller order: its net amount (unit price x quantity)."""

    product_id: str
    units: int
    net: int
    category: TaxCategory
    lead_time_days: int


@dataclass(frozen=True)
class Charges:
    shipping: Shipping | None
    treatments: dict[str, Treatment]  # by product id
    tax_breakdown: list[TaxGroup]
    net_total: int  # goods and shipping
    tax_total: int

    @property
    def gross_total(self) -> int:
        return self.net_total + self.tax_total


@dataclass(frozen=True)
class NotShipped:
    """The seller's grid has no way to the destination (or not the one asked for)."""

    country: str | None
    method: str | None


def seller_order_charges(
    goods: Sequence[Goods],
    currency: str,
    placed_on: date,
    seller_country: str | None,
    destination: str | None,
    buyer_vat_id: str | None,
    rate_of: RateOf,
    grid: list[ShippingRate],
    method: str | None = None,
) -> Charges | NotShipped:
    """The charges of a seller order; `seller_country` None (no tax profile) taxes nothing,
    an empty grid ships free, and without a destination goods are taxed as domestic."""
    net_goods = sum(g.net for g in goods)
    shipping = None
    if grid:
        if destination is None:
            return NotShipped(None, method)
        shipping = shipping_for(
            grid,
            destination,
            sum(g.units for g in goods),
            Money(net_goods, currency),
            placed_on,
            max((g.lead_time_days for g in goods), default=0),
            method,
        )
        if shipping is None:
            return NotShipped(destination, method)
    shipped = shipping.amount.amount if shipping else 0
    if seller_country is None:
        return Charges(shipping, {}, [], net_goods + shipped, 0)
    where = destination or seller_country
    treatments = {
        g.product_id: goods_treatment(seller_country, where, buyer_vat_id, g.category, rate_of)
        for g in goods
    }
    weights: dict[Treatment, int] = {}
    for g in goods:
        weights[treatments[g.product_id]] = weights.get(treatments[g.product_id], 0) + g.net
    amounts = [(treatments[g.product_id], g.net) for g in goods]
    amounts += [(t, share) for t, share in split(shipped, weights).items() if share]
    groups = breakdown(amounts)
    return Charges(
        shipping, treatments, groups, net_goods + shipped, sum(group.tax for group in groups)
    )
