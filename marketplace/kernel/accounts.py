"""What every account on the platform shares: the operator's approval, and API keys."""

import hashlib
import sys
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from marketplace.kernel.errors import Conflict

AccountStatus = Literal["pending", "approved", "suspended"]
PrincipalKind = Literal["manufacturer", "reseller", "buyer_user", "sales_rep"]
StatusAction = Literal["approve", "suspend", "reinstate"]

KEYS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:api-keys")
# Events stored before the kernel had its own package name this module by its old path.
register_topic("marketplace.accounts", sys.modules[__name__])


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class Account(Aggregate):
    """An organisation that acts only once the operator approves it."""

    # Unannotated, so the library does not take it for a field of the created event.
    status = "pending"

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"

    def approve(self, reason: str | None = None) -> None:
        if self.status == "approved":
            return
        if self.status == "suspended":
            raise Conflict("the account is suspended: reinstate it instead")
        self._approved(reason=reason)

    def suspend(self, reason: str | None = None) -> None:
        if self.status != "suspended":
            self._suspended(reason=reason)

    def reinstate(self, reason: str | None = None) -> None:
        if self.status == "approved":
            return
        if self.status != "suspended":
            raise Conflict("only a suspended account can be reinstated; approve it instead")
        self._reinstated(reason=reason)

    def change_status(self, change: StatusAction, reason: str | None) -> None:
        {"approve": self.approve, "suspend": self.suspend, "reinstate": self.reinstate}[change](
            reason
        )

    @event("Approved")
    def _approved(self, reason: str | None) -> None:
        self.status = "approved"

    @event("Suspended")
    def _suspended(self, reason: str | None) -> None:
        self.status = "suspended"

    @event("Reinstated")
    def _reinstated(self, reason: str | None) -> None:
        self.status = "approved"


class ApiKey(Aggregate):
    """A key's hash, and whom it speaks for. The key itself is never stored."""

    @staticmethod
    def create_id(key_hash: str) -> UUID:
        return uuid5(KEYS_NAMESPACE, key_hash)

    @event("Issued")
    def __init__(
        self, key_hash: str, principal: PrincipalKind, account_id: UUID, user_id: UUID | None
    ) -> None:
        self.key_hash = key_hash
        self.principal = principal
        self.account_id = account_id
        self.user_id = user_id
        self.revoked = False

    @event("Revoked")
    def revoke(self) -> None:
        self.revoked = True
