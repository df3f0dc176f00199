"""The buyers context: organisations and their users."""

from uuid import UUID, uuid4

from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.buyers.domain import Buyer, Role
from marketplace.kernel.accounts import ApiKey, hash_key
from marketplace.kernel.money import Money


class Buyers(MarketplaceApplication):
    name = "buyers"

    def register(
        self, legal_name: str, tax_id: str, country: str, admin_api_key: str
    ) -> tuple[UUID, UUID]:
        admin_id = uuid4()
        buyer = Buyer(legal_name, tax_id, country, admin_id, "admin")
        key = ApiKey(hash_key(admin_api_key), "buyer_user", buyer.id, admin_id)
        self.save(buyer, key)
        return buyer.id, admin_id

    def buyer(self, buyer_id: UUID) -> Buyer:
        return self.load(buyer_id, Buyer, "buyer")

    def add_user(
        self, buyer_id: UUID, name: str, role: Role, spending_limit: Money | None, api_key: str
    ) -> UUID:
        buyer = self.buyer(buyer_id)
        user_id = uuid4()
        buyer.add_user(user_id, name, role, spending_limit)
        key = ApiKey(hash_key(api_key), "buyer_user", buyer.id, user_id)
        self.save(buyer, key)
        return user_id
