"""The buyers context: organisations and their users."""

from uuid import UUID, uuid4

from marketplace.adapters.eventstore import MarketplaceApplication, retrying
from marketplace.buyers.domain import Buyer, Role
from marketplace.buyers.lists import Sharing, ShoppingList
from marketplace.kernel.accounts import ApiKey, hash_key
from marketplace.kernel.errors import NotFound
from marketplace.kernel.money import Money
from marketplace.kernel.people import PeopleFor, Person, nobody


class Buyers(MarketplaceApplication):
    name = "buyers"

    def register(
        self,
        legal_name: str,
        tax_id: str,
        country: str,
        admin_api_key: str,
        email: str | None = None,
        people: PeopleFor = nobody,
    ) -> tuple[UUID, UUID]:
        admin_id = uuid4()
        buyer = Buyer(legal_name, tax_id, country, admin_id, "admin")
        if email is not None:
            buyer.give_email(admin_id, email)
        key = ApiKey(hash_key(admin_api_key), "buyer_user", buyer.id, admin_id)
        self.save(buyer, key, *people(buyer.id, admin_id))
        return buyer.id, admin_id

    def buyer(self, buyer_id: UUID) -> Buyer:
        return self.load(buyer_id, Buyer, "buyer")

    def add_user(
        self,
        buyer_id: UUID,
        name: str,
        role: Role,
        spending_limit: Money | None,
        api_key: str,
        email: str | None = None,
        people: PeopleFor = nobody,
    ) -> UUID:
        buyer = self.buyer(buyer_id)
        user_id = uuid4()
        buyer.add_user(user_id, name, role, spending_limit)
        if email is not None:
            buyer.give_email(user_id, email)
        key = ApiKey(hash_key(api_key), "buyer_user", buyer.id, user_id)
        self.save(buyer, key, *people(buyer.id, user_id))
        return user_id

    def change_user(
        self, buyer_id: UUID, by: UUID, user_id: UUID, role: Role, spending_limit: Money | None
    ) -> None:
        buyer = self.buyer(buyer_id)
        buyer.change_user(by, user_id, role, spending_limit)
        self.save(buyer)

    def set_user_disabled(self, buyer_id: UUID, by: UUID, user_id: UUID, disabled: bool) -> None:
        """Disables (or enables again) a user, and the person behind it with it."""
        buyer = self.buyer(buyer_id)
        if disabled:
            buyer.disable_user(by, user_id)
        else:
            buyer.enable_user(user_id)
        email = buyer.users[user_id].email
        person = None if email is None else self.find(Person.create_id(email), Person)
        if person is not None:
            person.disable() if disabled else person.enable()
        self.save(buyer, *([person] if person else []))

    def create_list(self, buyer_id: UUID, owner_id: UUID, name: str, sharing: Sharing) -> UUID:
        made = ShoppingList(buyer_id, owner_id, name, sharing)
        self.save(made)
        return made.id

    def shopping_list(self, list_id: UUID, buyer_id: UUID, user_id: UUID) -> ShoppingList:
        """A list the user may read: its own, or one shared in its organisation."""
        found = self.find(list_id, ShoppingList)
        if found is None or not found.readable_by(buyer_id, user_id):
            raise NotFound(f"unknown list {list_id}")
        return found

    def set_list_line(
        self, list_id: UUID, buyer_id: UUID, user_id: UUID, product_id: UUID, quantity: int
    ) -> ShoppingList:
        found = self.shopping_list(list_id, buyer_id, user_id)
        found.check_editable(buyer_id, user_id)
        found.set_line(product_id, quantity)
        self.save(found)
        return found

    def remove_list_line(
        self, list_id: UUID, buyer_id: UUID, user_id: UUID, product_id: UUID
    ) -> ShoppingList:
        found = self.shopping_list(list_id, buyer_id, user_id)
        found.check_editable(buyer_id, user_id)
        found.remove_line(product_id)
        self.save(found)
        return found

    def keep_address(self, buyer_id: UUID, address: dict[str, str]) -> None:
        def attempt() -> None:
            buyer = self.buyer(buyer_id)
            buyer.keep_address(address)
            self.save(buyer)

        retrying(attempt)

    def add_cost_centre(
        self, buyer_id: UUID, name: str, code: str, addresses: list[dict[str, str]]
    ) -> UUID:
        buyer = self.buyer(buyer_id)
        cost_centre_id = uuid4()
        buyer.add_cost_centre(cost_centre_id, name, code, addresses)
        self.save(buyer)
        return cost_centre_id

    def assign_cost_centre(self, buyer_id: UUID, user_id: UUID, cost_centre_id: UUID) -> None:
        buyer = self.buyer(buyer_id)
        buyer.assign_cost_centre(user_id, cost_centre_id)
        self.save(buyer)
