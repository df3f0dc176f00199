"""The sellers context: load, command, save."""

from uuid import UUID

from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.kernel.accounts import Account, ApiKey, hash_key
from marketplace.kernel.errors import NotFound
from marketplace.kernel.people import PeopleFor, nobody
from sellers.domain import (
    Authorization,
    Manufacturer,
    Reseller,
    ResellerKind,
    SalesRep,
    authorization_id,
)


class Sellers(MarketplaceApplication):
    name = "sellers"

    def register_manufacturer(
        self, name: str, country: str, api_key: str, people: PeopleFor = nobody
    ) -> UUID:
        manufacturer = Manufacturer(name=name, country=country)
        key = ApiKey(hash_key(api_key), "manufacturer", manufacturer.id, None)
        self.save(manufacturer, key, *people(manufacturer.id, None))
        return manufacturer.id

    def register_reseller(
        self,
        name: str,
        kind: ResellerKind,
        country: str,
        api_key: str,
        people: PeopleFor = nobody,
    ) -> UUID:
        reseller = Reseller(name=name, kind=kind, country=country)
        key = ApiKey(hash_key(api_key), "reseller", reseller.id, None)
        self.save(reseller, key, *people(reseller.id, None))
        return reseller.id

    def add_people(self, account_id: UUID | None, people: PeopleFor) -> UUID:
        """People of a seller (or, with no account, of the operator) who have no API key."""
        added = people(account_id, None)
        self.save(*added)
        return added[0].id

    def account(self, account_id: UUID) -> Account | None:
        return self.find(account_id, Account)

    def manufacturer(self, manufacturer_id: UUID) -> Manufacturer:
        return self.load(manufacturer_id, Manufacturer, "manufacturer")

    def reseller(self, reseller_id: UUID) -> Reseller:
        return self.load(reseller_id, Reseller, "reseller")

    def set_commission(self, reseller_id: UUID, rate_bps: int) -> None:
        reseller = self.reseller(reseller_id)
        reseller.set_commission(rate_bps)
        self.save(reseller)

    def authorize(
        self,
        manufacturer_id: UUID,
        reseller_id: UUID,
        brands: list[str] | None,
        categories: list[str] | None,
    ) -> UUID:
        self.reseller(reseller_id)
        authorization = self.authorization(manufacturer_id, reseller_id)
        if authorization is None:
            authorization = Authorization(manufacturer_id, reseller_id, brands, categories)
        else:
            authorization.regrant(brands, categories)
        self.save(authorization)
        return authorization.id

    def revoke_authorization(self, manufacturer_id: UUID, reseller_id: UUID) -> None:
        authorization = self.authorization(manufacturer_id, reseller_id)
        if authorization is None or not authorization.active:
            raise NotFound(f"no authorization for reseller {reseller_id}")
        authorization.revoke()
        self.save(authorization)

    def authorization(self, manufacturer_id: UUID, reseller_id: UUID) -> Authorization | None:
        return self.find(authorization_id(manufacturer_id, reseller_id), Authorization)

    def appoint_sales_rep(
        self, reseller_id: UUID, name: str, api_key: str, people: PeopleFor = nobody
    ) -> UUID:
        rep = SalesRep(reseller_id=reseller_id, name=name)
        key = ApiKey(hash_key(api_key), "sales_rep", rep.id, None)
        self.save(rep, key, *people(rep.id, None))
        return rep.id

    def sales_rep(self, rep_id: UUID, reseller_id: UUID | None = None) -> SalesRep:
        rep = self.find(rep_id, SalesRep)
        if rep is None or (reseller_id is not None and rep.reseller_id != reseller_id):
            raise NotFound(f"unknown sales rep {rep_id}")
        return rep

    def assign_accounts(self, reseller_id: UUID, rep_id: UUID, buyer_ids: list[UUID]) -> None:
        rep = self.sales_rep(rep_id, reseller_id)
        rep.assign(buyer_ids)
        self.save(rep)
