"""Sellers: manufacturers, resellers, their sales reps, and manufacturers' authorizations."""

from functools import lru_cache
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.accounts import Account
from marketplace.kernel.errors import Invalid

ResellerKind = Literal["reseller", "distributor", "wholesaler"]
AUTHORIZATIONS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:authorizations")
DEFAULT_COMMISSION_BPS = 0


class Manufacturer(Account):
    @event("Registered")
    def __init__(self, name: str, country: str) -> None:
        self.name = name
        self.country = country


class Reseller(Account):
    @event("Registered")
    def __init__(self, name: str, kind: ResellerKind, country: str) -> None:
        self.name = name
        self.kind = kind
        self.country = country
        self.commission_bps = DEFAULT_COMMISSION_BPS

    def set_commission(self, rate_bps: int) -> None:
        if not 0 <= rate_bps <= 10_000:
            raise Invalid("rate_bps must be between 0 and 10000")
        if rate_bps != self.commission_bps:
            self._commission_set(rate_bps=rate_bps)

    @event("CommissionSet")
    def _commission_set(self, rate_bps: int) -> None:
        self.commission_bps = rate_bps


class SalesRep(Aggregate):
    @event("Appointed")
    def __init__(self, reseller_id: UUID, name: str) -> None:
        self.reseller_id = reseller_id
        self.name = name
        self.buyer_ids: list[UUID] = []

    def assign(self, buyer_ids: list[UUID]) -> None:
        unique = sorted(set(buyer_ids), key=str)
        if unique != self.buyer_ids:
            self._accounts_assigned(buyer_ids=unique)

    @event("AccountsAssigned")
    def _accounts_assigned(self, buyer_ids: list[UUID]) -> None:
        self.buyer_ids = list(buyer_ids)

    def serves(self, buyer_id: UUID) -> bool:
        return buyer_id in self.buyer_ids


# Asked many times per order for the same pairs; uuid5 hashes each time.
@lru_cache(maxsize=65_536)
def authorization_id(manufacturer_id: UUID, reseller_id: UUID) -> UUID:
    return uuid5(AUTHORIZATIONS_NAMESPACE, f"{manufacturer_id}:{reseller_id}")


class Authorization(Aggregate):
    """A manufacturer's permission for one reseller to sell some of its products.

    Each given list narrows what is authorized; an absent list authorizes all.
    """

    @staticmethod
    def create_id(manufacturer_id: UUID, reseller_id: UUID) -> UUID:
        return authorization_id(manufacturer_id, reseller_id)

    @event("Granted")
    def __init__(
        self,
        manufacturer_id: UUID,
        reseller_id: UUID,
        brands: list[str] | None,
        categories: list[str] | None,
    ) -> None:
        self.manufacturer_id = manufacturer_id
        self.reseller_id = reseller_id
        self.brands = brands
        self.categories = categories
        self.active = True

    def regrant(self, brands: list[str] | None, categories: list[str] | None) -> None:
        if not self.active or (brands, categories) != (self.brands, self.categories):
            self._changed(brands=brands, categories=categories)

    @event("Changed")
    def _changed(self, brands: list[str] | None, categories: list[str] | None) -> None:
        self.brands = brands
        self.categories = categories
        self.active = True

    def revoke(self) -> None:
        if self.active:
            self._revoked()

    @event("Revoked")
    def _revoked(self) -> None:
        self.active = False

    def covers(self, brand: str, category: str) -> bool:
        return (
            self.active
            and (self.brands is None or brand in self.brands)
            and (self.categories is None or category in self.categories)
        )
