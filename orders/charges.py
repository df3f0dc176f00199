"""What one seller order charges on top of its goods, as api.md v1.2 words it: shipping by
the seller's grid to the destination, and VAT where the seller has a tax profile, each line
taxed by its treatment, shipping following the goods it ships, tax rounded once per group;
and the tax of each document a seller order is billed in (an invoice per shipment, and what
is not shipped yet), each rounded by the same rule, so that its invoices add up to it."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

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
    an empty grid ships free (a grid prices only orders in its currency), and without a
    destination goods are taxed as domestic."""
    net_goods = sum(g.net for g in goods)
    shipping = None
    if grid:
        if destination is None:
            return NotShipped(None, method)
        shipping = shipping_for(
            [rate for rate in grid if rate.first_item.currency == currency],
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
    groups = document_breakdown(
        [(treatments[g.product_id], g.net) for g in goods], shipped, weights
    )
    return Charges(
        shipping, treatments, groups, net_goods + shipped, sum(group.tax for group in groups)
    )


# A net amount of a document and how it is taxed (None: its seller has no tax profile).
Taxed = tuple[Treatment | None, int]


def document_breakdown(
    goods: Iterable[Taxed], shipping: int, basis: Mapping[Treatment, int]
) -> list[TaxGroup]:
    """The tax groups of one document: its goods by their treatments, and the shipping it
    carries shared over `basis` (the seller order's whole goods per treatment), so that
    shipping follows the goods it ships."""
    amounts = [(t, net) for t, net in goods if t is not None]
    amounts += [(t, share) for t, share in split(shipping, basis).items() if share]
    return breakdown(amounts)


def merged(groups: Iterable[TaxGroup]) -> list[TaxGroup]:
    """Groups of several documents added up per treatment, in the order they first appear."""
    sums: dict[tuple[str, int, str | None], tuple[int, int]] = {}
    for g in groups:
        key = (g.code, g.rate_bps, g.exemption_note)
        taxable, tax = sums.get(key, (0, 0))
        sums[key] = (taxable + g.taxable, tax + g.tax)
    return [TaxGroup(c, r, taxable, tax, n) for (c, r, n), (taxable, tax) in sums.items()]


def treatment_row(category: TaxCategory, treatment: Treatment) -> dict[str, Any]:
    return {
        "tax_category": category,
        "code": treatment.code,
        "rate_bps": treatment.rate_bps,
        "exemption_note": treatment.exemption_note,
    }


def treatment_from(row: Mapping[str, Any] | None) -> Treatment | None:
    if not row or "code" not in row:
        return None
    return Treatment(row["code"], int(row["rate_bps"]), row.get("exemption_note"))


def group_row(group: TaxGroup, currency: str) -> dict[str, Any]:
    """A tax group as answers show it (api.md: `{category, rate_bps, taxable, tax,
    exemption_note?}`; the note null where the group is taxed)."""
    return {
        "category": group.code,
        "rate_bps": group.rate_bps,
        "taxable": {"amount": group.taxable, "currency": currency},
        "tax": {"amount": group.tax, "currency": currency},
        "exemption_note": group.exemption_note,
    }


# A seller order's line as billing reads it: (product id, quantity, unit price).
Billed = tuple[str, int, int]


def _basis(lines: Sequence[Billed], taxes: Mapping[str, Mapping[str, Any]]) -> dict[Treatment, int]:
    basis: dict[Treatment, int] = {}
    for pid, quantity, price in lines:
        treatment = treatment_from(taxes.get(pid))
        if treatment is not None:
            basis[treatment] = basis.get(treatment, 0) + quantity * price
    return basis


def shipment_breakdown(
    lines: Sequence[Billed],
    shipping: int,
    taxes: Mapping[str, Mapping[str, Any]],
    units: Mapping[str, int],
    with_shipping: bool,
) -> list[TaxGroup]:
    """The tax of one of a seller order's documents: `units` of its lines, and its shipping
    when `with_shipping` (the first shipment's, or the whole order's before any)."""
    prices = {pid: price for pid, _, price in lines}
    goods: list[Taxed] = [
        (treatment_from(taxes.get(pid)), quantity * prices[pid]) for pid, quantity in units.items()
    ]
    return document_breakdown(goods, shipping if with_shipping else 0, _basis(lines, taxes))


def seller_order_breakdown(
    lines: Sequence[Billed],
    shipping: int,
    taxes: Mapping[str, Mapping[str, Any]],
    shipments: Sequence[Mapping[str, int]],
) -> list[TaxGroup]:
    """A seller order's tax: its shipments' invoices, and what is not shipped yet, each
    rounded by the rule; before the first shipment, the rule applied to the whole order."""
    documents = [
        shipment_breakdown(lines, shipping, taxes, units, index == 0)
        for index, units in enumerate(shipments)
    ]
    rest = {pid: quantity for pid, quantity, _ in lines}
    for units in shipments:
        for pid, quantity in units.items():
            rest[pid] = rest.get(pid, 0) - quantity
    left = {pid: quantity for pid, quantity in rest.items() if quantity}
    documents.append(shipment_breakdown(lines, shipping, taxes, left, not shipments))
    return merged(group for document in documents for group in document)
