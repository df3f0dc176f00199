"""A seller's shipping grid, as api.md v1.2 states it: methods by destination country, each
priced for a seller order as `first_item + additional_item * (units - 1)`, free from a net
goods total on, with its delivery days; and the checks a grid must pass to be saved."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pycountry
from eventsourcing.domain import Aggregate, event

from marketplace.kernel.money import Money

# Beyond these a figure is a typing error, not a price or a delivery time.
MOST_AMOUNT = 100_000_000  # one million in major units
MOST_DAYS = 365


@dataclass(frozen=True)
class ShippingRate:
    method: str
    name: str
    countries: tuple[str, ...]
    first_item: Money
    additional_item: Money
    free_over: Money | None
    min_days: int
    max_days: int

    def cost(self, units: int, net_goods: int) -> int:
        if self.free_over is not None and net_goods >= self.free_over.amount:
            return 0
        return self.first_item.amount + self.additional_item.amount * max(units - 1, 0)


@dataclass(frozen=True)
class Shipping:
    """What shipping one seller order costs and when it arrives."""

    method: str
    amount: Money
    earliest_delivery_on: date
    latest_delivery_on: date
    name: str = ""


def grid_problems(rates: list[ShippingRate]) -> list[str]:
    """Every reason the grid cannot be saved, in a sentence each (none: it can)."""
    problems = []
    seen: set[tuple[str, str]] = set()
    for index, rate in enumerate(rates):
        where = f"rate {index + 1} ({rate.method})"
        if not rate.method.strip() or not rate.name.strip():
            problems.append(f"{where}: a method needs a code and a name")
        if not rate.countries:
            problems.append(f"{where}: name at least one country")
        for country in rate.countries:
            if pycountry.countries.get(alpha_2=country) is None:
                problems.append(f"{where}: {country} is not an ISO 3166 country code")
            elif (country, rate.method) in seen:
                problems.append(f"{where}: {rate.method} to {country} is given twice")
            seen.add((country, rate.method))
        prices = [rate.first_item, rate.additional_item]
        prices += [rate.free_over] if rate.free_over is not None else []
        if len({p.currency for p in prices}) > 1:
            problems.append(f"{where}: give every amount in one currency")
        if any(not 0 <= p.amount <= MOST_AMOUNT for p in prices):
            problems.append(f"{where}: amounts go from 0 to {MOST_AMOUNT // 100:,}")
        if not 0 <= rate.min_days <= rate.max_days <= MOST_DAYS:
            problems.append(f"{where}: days go from min_days to max_days, 0 to {MOST_DAYS}")
    return problems


def shipping_for(
    grid: list[ShippingRate],
    country: str,
    units: int,
    net_goods: Money,
    placed_on: date,
    lead_time_days: int,
    method: str | None = None,
) -> Shipping | None:
    """The seller order's shipping to `country` by `method` (the cheapest for this order
    when none is asked), or None when the grid does not ship there that way."""
    offered = [r for r in grid if country in r.countries and (method is None or r.method == method)]
    if not offered:
        return None
    rate = min(offered, key=lambda r: (r.cost(units, net_goods.amount), r.max_days, r.method))
    start = placed_on + timedelta(days=lead_time_days)
    return Shipping(
        rate.method,
        Money(rate.cost(units, net_goods.amount), net_goods.currency),
        start + timedelta(days=rate.min_days),
        start + timedelta(days=rate.max_days),
        rate.name,
    )


GRIDS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:shipping-grids")


def rate_from(row: dict[str, Any]) -> ShippingRate:
    free_over = row.get("free_over")
    return ShippingRate(
        row["method"],
        row["name"],
        tuple(row["countries"]),
        Money.from_dict(row["first_item"]),
        Money.from_dict(row["additional_item"]),
        Money.from_dict(free_over) if free_over else None,
        int(row["min_days"]),
        int(row["max_days"]),
    )


def rate_row(rate: ShippingRate) -> dict[str, Any]:
    return {
        "method": rate.method,
        "name": rate.name,
        "countries": list(rate.countries),
        "first_item": rate.first_item.as_dict(),
        "additional_item": rate.additional_item.as_dict(),
        "free_over": rate.free_over.as_dict() if rate.free_over else None,
        "min_days": rate.min_days,
        "max_days": rate.max_days,
    }


class ShippingGrid(Aggregate):
    """A seller's shipping grid, replaced whole each time it is set."""

    @staticmethod
    def create_id(seller_id: UUID) -> UUID:
        return uuid5(GRIDS_NAMESPACE, str(seller_id))

    @event("Set")
    def __init__(self, seller_id: UUID, rates: list[dict[str, Any]]) -> None:
        self.seller_id = seller_id
        self.rates = rates

    def replace(self, rates: list[dict[str, Any]]) -> None:
        if rates != self.rates:
            self._replaced(rates=rates)

    @event("Replaced")
    def _replaced(self, rates: list[dict[str, Any]]) -> None:
        self.rates = rates

    @property
    def grid(self) -> list[ShippingRate]:
        return [rate_from(row) for row in self.rates]
