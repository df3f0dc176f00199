"""Tax profiles (kept by each party's own context: the buyers' by buyers, the operator's and
sellers' by sellers), the operator's tax rates, and sellers' shipping grids (kept with their
offers). What orders and invoices will read to tax and ship."""

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from uuid import UUID

import pycountry

from marketplace.adapters.eventstore import (
    MarketplaceApplication,
    Read,
    read_together,
    retrying,
)
from marketplace.buyers.application import Buyers
from marketplace.kernel.errors import Invalid
from marketplace.taxes.domain import TAX_CATEGORIES, RateOf, TaxRates
from marketplace.taxes.profiles import TaxProfile, profile_problems
from marketplace.taxes.rates import EU_RATES
from offers.application import Offers
from offers.shipping import ShippingGrid, ShippingRate, grid_problems, rate_row
from sellers.application import Sellers

Party = Literal["operator", "seller", "buyer"]
MOST_RATE_BPS = 10_000


def refused(problems: list[str]) -> Invalid:
    if len(problems) == 1:
        return Invalid(problems[0])
    return Invalid([{"loc": ["body"], "msg": problem} for problem in problems])


class Taxes:
    def __init__(self, sellers: Sellers, buyers: Buyers, offers: Offers) -> None:
        self.sellers = sellers
        self.buyers = buyers
        self.offers = offers

    def _app(self, party: Party) -> MarketplaceApplication:
        return self.buyers if party == "buyer" else self.sellers

    def profile(self, party: Party, party_id: UUID) -> TaxProfile | None:
        return self._app(party).find(TaxProfile.create_id(party_id), TaxProfile)

    def of_order(
        self, buyer_id: UUID, seller_ids: Sequence[UUID]
    ) -> tuple[TaxProfile | None, dict[UUID, TaxProfile], dict[UUID, list[ShippingRate]]]:
        """The buyer's tax profile, and the sellers' profiles and shipping grids (sellers
        without one are left out), in one read where the logs share a database."""
        reads = self.order_reads(buyer_id, seller_ids)
        return self.order_found(seller_ids, read_together(reads, read_only=True))

    def order_reads(self, buyer_id: UUID, seller_ids: Sequence[UUID]) -> list[Read]:
        """What `of_order` reads, for a caller that reads it along with more."""
        return [
            (self.buyers, [TaxProfile.create_id(buyer_id)], TaxProfile),
            (self.sellers, [TaxProfile.create_id(s) for s in seller_ids], TaxProfile),
            (self.offers, [ShippingGrid.create_id(s) for s in seller_ids], ShippingGrid),
        ]

    def order_found(
        self, seller_ids: Sequence[UUID], found: Sequence[Mapping[UUID, Any]]
    ) -> tuple[TaxProfile | None, dict[UUID, TaxProfile], dict[UUID, list[ShippingRate]]]:
        """What `of_order` answers, from the results of `order_reads`."""
        buyer, profiles, grids = found
        mine = next(iter(buyer.values()), None)
        return (
            mine if isinstance(mine, TaxProfile) else None,
            {
                s: p
                for s in seller_ids
                if isinstance(p := profiles.get(TaxProfile.create_id(s)), TaxProfile)
            },
            {
                s: g.grid
                for s in seller_ids
                if isinstance(g := grids.get(ShippingGrid.create_id(s)), ShippingGrid)
            },
        )

    def set_profile(
        self,
        party: Party,
        party_id: UUID,
        legal_name: str,
        country: str,
        vat_id: str | None,
        tax_id: str | None,
        given: Mapping[str, str | None],
    ) -> TaxProfile:
        address = dict(given)
        problems = profile_problems(country, vat_id, address)
        if problems:
            raise refused(problems)
        app = self._app(party)

        def attempt() -> TaxProfile:
            found = self.profile(party, party_id)
            if found is None:
                found = TaxProfile(party_id, legal_name, country, vat_id, tax_id, address)
            else:
                found.revise(legal_name, country, vat_id, tax_id, address)
            app.save(found)
            return found

        return retrying(attempt)

    def rates(self) -> dict[str, int]:
        """Every rate by "country:category": those shipped, with the operator's over them."""
        found = self.sellers.find(TaxRates.create_id(), TaxRates)
        return {**EU_RATES, **(found.rates if found else {})}

    def rate_of(self) -> RateOf:
        """The rates as they are now, read once, as the tax rules ask for them."""
        rates = self.rates()
        return lambda country, category: rates.get(f"{country}:{category}", 0)

    def set_rates(self, rates: Sequence[tuple[str, str, int]]) -> dict[str, int]:
        problems = []
        for country, category, rate_bps in rates:
            if pycountry.countries.get(alpha_2=country) is None:
                problems.append(f"{country} is not an ISO 3166 country code")
            if category not in TAX_CATEGORIES:
                problems.append(f"{category} is not a tax category ({', '.join(TAX_CATEGORIES)})")
            if not 0 <= rate_bps <= MOST_RATE_BPS:
                problems.append(f"{country} {category}: rate_bps goes from 0 to {MOST_RATE_BPS}")
            if category == "zero" and rate_bps:
                problems.append(f"{country}: the zero category's rate is 0")
        if problems:
            raise refused(problems)

        def attempt() -> dict[str, int]:
            table = self.sellers.find(TaxRates.create_id(), TaxRates) or TaxRates()
            table.set({f"{c}:{k}": r for c, k, r in rates})
            self.sellers.save(table)
            return self.rates()

        return retrying(attempt)

    def grid(self, seller_id: UUID) -> list[ShippingRate]:
        found = self.offers.find(ShippingGrid.create_id(seller_id), ShippingGrid)
        return found.grid if found else []

    def set_grid(self, seller_id: UUID, rates: list[ShippingRate]) -> list[ShippingRate]:
        problems = grid_problems(rates)
        if problems:
            raise refused(problems)
        rows = [rate_row(rate) for rate in rates]

        def attempt() -> list[ShippingRate]:
            found = self.offers.find(ShippingGrid.create_id(seller_id), ShippingGrid)
            if found is None:
                found = ShippingGrid(seller_id, rows)
            else:
                found.replace(rows)
            self.offers.save(found)
            return found.grid

        return retrying(attempt)
