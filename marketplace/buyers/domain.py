"""Buyer organisations and their users."""

from typing import Literal
from uuid import UUID

from eventsourcing.domain import event

from marketplace.kernel.accounts import Account
from marketplace.kernel.errors import Invalid
from marketplace.kernel.money import Money

Role = Literal["admin", "approver", "buyer"]
ROLES: tuple[Role, ...] = ("admin", "approver", "buyer")


class BuyerUser:
    def __init__(self, user_id: UUID, name: str, role: Role, spending_limit: Money | None):
        self.id = user_id
        self.name = name
        self.role = role
        self.spending_limit = spending_limit

    @property
    def can_approve(self) -> bool:
        return self.role in ("admin", "approver")


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
