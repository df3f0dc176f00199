"""Buyer organisations and their users."""

from typing import Literal
from uuid import UUID

from eventsourcing.domain import event

from marketplace.kernel.accounts import Account
from marketplace.kernel.errors import Conflict, Invalid, NotFound
from marketplace.kernel.money import Money

Role = Literal["admin", "approver", "buyer"]
ROLES: tuple[Role, ...] = ("admin", "approver", "buyer")


class BuyerUser:
    def __init__(self, user_id: UUID, name: str, role: Role, spending_limit: Money | None):
        self.id = user_id
        self.name = name
        self.role = role
        self.spending_limit = spending_limit
        self.email: str | None = None
        self.disabled = False
        self.cost_centre_id: UUID | None = None

    @property
    def can_approve(self) -> bool:
        return self.role in ("admin", "approver")


class CostCentre:
    """Where a buyer organisation books what it orders, with its delivery addresses."""

    def __init__(
        self, cost_centre_id: UUID, name: str, code: str, addresses: list[dict[str, str]]
    ) -> None:
        self.id = cost_centre_id
        self.name = name
        self.code = code
        self.shipping_addresses = addresses

    def describe(self) -> dict[str, object]:
        return {
            "cost_centre_id": str(self.id),
            "name": self.name,
            "code": self.code,
            "shipping_addresses": self.shipping_addresses,
        }


MOST_KEPT = 50


class Buyer(Account):
    @event("Registered")
    def __init__(
        self, legal_name: str, tax_id: str, country: str, admin_id: UUID, admin_name: str
    ) -> None:
        self.legal_name = legal_name
        self.tax_id = tax_id
        self.country = country
        self.users: dict[UUID, BuyerUser] = {
            admin_id: BuyerUser(admin_id, admin_name, "admin", None)
        }
        self.cost_centres: dict[UUID, CostCentre] = {}
        # Addresses people typed at checkout and chose to keep for the next order.
        self.kept_addresses: list[dict[str, str]] = []

    def keep_address(self, address: dict[str, str]) -> None:
        if address not in self.kept_addresses and len(self.kept_addresses) < MOST_KEPT:
            self._address_kept(address=address)

    @event("AddressKept")
    def _address_kept(self, address: dict[str, str]) -> None:
        self.kept_addresses.append(dict(address))

    def addresses_for(
        self, user_id: UUID | None, own: dict[str, str] | None
    ) -> list[dict[str, str]]:
        """Where this user's orders may go, the default first: its cost centre's addresses,
        the organisation's own, the other cost centres', then those kept at checkout."""
        user = self.users.get(user_id) if user_id is not None else None
        mine = self.cost_centres.get(user.cost_centre_id) if user and user.cost_centre_id else None
        found: list[dict[str, str]] = []
        for address in [
            *(mine.shipping_addresses if mine else []),
            *([own] if own else []),
            *(a for c in self.cost_centres.values() if c is not mine for a in c.shipping_addresses),
            *self.kept_addresses,
        ]:
            if address not in found:
                found.append(dict(address))
        return found

    def add_cost_centre(
        self, cost_centre_id: UUID, name: str, code: str, addresses: list[dict[str, str]]
    ) -> None:
        if any(c.code == code for c in self.cost_centres.values()):
            raise Conflict(f"a cost centre with code {code!r} exists already")
        self._cost_centre_added(
            cost_centre_id=cost_centre_id, name=name, code=code, addresses=addresses
        )

    @event("CostCentreAdded")
    def _cost_centre_added(
        self, cost_centre_id: UUID, name: str, code: str, addresses: list[dict[str, str]]
    ) -> None:
        self.cost_centres[cost_centre_id] = CostCentre(cost_centre_id, name, code, addresses)

    def cost_centre(self, cost_centre_id: UUID) -> CostCentre:
        found = self.cost_centres.get(cost_centre_id)
        if found is None:
            raise NotFound(f"unknown cost centre {cost_centre_id}")
        return found

    def assign_cost_centre(self, user_id: UUID, cost_centre_id: UUID) -> None:
        user = self._known(user_id)
        self.cost_centre(cost_centre_id)
        if user.cost_centre_id != cost_centre_id:
            self._user_cost_centre_set(user_id=user_id, cost_centre_id=cost_centre_id)

    @event("UserCostCentreSet")
    def _user_cost_centre_set(self, user_id: UUID, cost_centre_id: UUID) -> None:
        self.users[user_id].cost_centre_id = cost_centre_id

    def cost_centre_for(self, user_id: UUID | None, asked: UUID | None) -> UUID | None:
        """The cost centre an order books to: the one asked for, else the placing user's."""
        if asked is not None:
            return self.cost_centre(asked).id
        user = self.users.get(user_id) if user_id is not None else None
        return None if user is None else user.cost_centre_id

    def add_user(self, user_id: UUID, name: str, role: Role, spending_limit: Money | None) -> None:
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        if spending_limit is not None and spending_limit.amount < 0:
            raise Invalid("spending_limit cannot be negative")
        self._user_added(user_id=user_id, name=name, role=role, spending_limit=spending_limit)

    @event("UserAdded")
    def _user_added(
        self, user_id: UUID, name: str, role: Role, spending_limit: Money | None
    ) -> None:
        self.users[user_id] = BuyerUser(user_id, name, role, spending_limit)

    def user(self, user_id: UUID) -> BuyerUser | None:
        return self.users.get(user_id)

    def active_user(self, user_id: UUID) -> BuyerUser | None:
        user = self.users.get(user_id)
        return None if user is None or user.disabled else user

    def give_email(self, user_id: UUID, email: str) -> None:
        self._known(user_id)
        self._user_email_set(user_id=user_id, email=email)

    @event("UserEmailSet")
    def _user_email_set(self, user_id: UUID, email: str) -> None:
        self.users[user_id].email = email

    def change_user(
        self, by: UUID, user_id: UUID, role: Role, spending_limit: Money | None
    ) -> None:
        user = self._known(user_id)
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        if spending_limit is not None and spending_limit.amount < 0:
            raise Invalid("spending_limit cannot be negative")
        if user_id == by and role != "admin":
            raise Conflict("you cannot take the admin role from yourself; ask another admin")
        if (role, spending_limit) != (user.role, user.spending_limit):
            self._user_changed(user_id=user_id, role=role, spending_limit=spending_limit)

    @event("UserChanged")
    def _user_changed(self, user_id: UUID, role: Role, spending_limit: Money | None) -> None:
        self.users[user_id].role = role
        self.users[user_id].spending_limit = spending_limit

    def disable_user(self, by: UUID, user_id: UUID) -> None:
        user = self._known(user_id)
        if user_id == by:
            raise Conflict("you cannot disable yourself; ask another admin")
        if not user.disabled:
            self._user_disabled(user_id=user_id)

    @event("UserDisabled")
    def _user_disabled(self, user_id: UUID) -> None:
        self.users[user_id].disabled = True

    def enable_user(self, user_id: UUID) -> None:
        if self._known(user_id).disabled:
            self._user_enabled(user_id=user_id)

    @event("UserEnabled")
    def _user_enabled(self, user_id: UUID) -> None:
        self.users[user_id].disabled = False

    def _known(self, user_id: UUID) -> BuyerUser:
        user = self.users.get(user_id)
        if user is None:
            raise NotFound(f"unknown user {user_id}")
        return user
