"""People: the humans behind the accounts, who sign in to the web pages with an email.

A person's password is not part of its events (they are published to Kafka); only the
fact that one was set is. The hash lives in the credentials store.
"""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.errors import Invalid

PEOPLE_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:people")
PersonKind = Literal["operator", "manufacturer", "reseller", "buyer_user", "sales_rep"]
SellerRole = Literal["admin", "catalog", "orders", "finance"]
OperatorRole = Literal["admin", "support"]
# What people may stop hearing of by mail; invitations and password resets always go.
MAIL_CATEGORIES = ("orders", "approvals", "invoices", "returns", "quotes", "payouts", "messages")
RESET_VALID_S = 3600
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
# Saves the people of an account with it: (account_id, user_id) -> aggregates to save.
PeopleFor = Callable[[UUID | None, UUID | None], list[Aggregate]]
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,188}\.[^@\s.]{2,63}$")


def normal_email(email: str) -> str:
    address = email.strip().lower()
    if len(address) > 254 or not _EMAIL.match(address):
        raise Invalid("email must be an address like name@example.com")
    return address


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")


class Person(Aggregate):
    """Whom a person acts as (the same principal an API key names) and whether it may."""

    # Added after the first people were stored: their histories have no such events.
    reset_nonce: str | None = None
    reset_asked_at: str | None = None
    mail_off: tuple[str, ...] = ()

    @staticmethod
    def create_id(email: str) -> UUID:
        return uuid5(PEOPLE_NAMESPACE, normal_email(email))

    @event("Registered")
    def __init__(
        self,
        email: str,
        name: str,
        principal: PersonKind,
        account_id: UUID | None,
        user_id: UUID | None,
        role: str | None,
    ) -> None:
        self.email = normal_email(email)
        self.name = name
        self.principal = principal
        self.account_id = account_id
        self.user_id = user_id
        self.role = role
        self.has_password = False
        self.disabled = False

    @event("PasswordSet")
    def password_set(self) -> None:
        self.has_password = True

    def ask_reset(self, nonce: str, at: datetime) -> None:
        """A password reset link was asked for; only the latest one asked works."""
        self._reset_asked(nonce=nonce, at=at.isoformat())

    @event("PasswordResetAsked")
    def _reset_asked(self, nonce: str, at: str) -> None:
        self.reset_nonce = nonce
        self.reset_asked_at = at

    def check_reset(self, nonce: str, now: datetime) -> None:
        """Refuses a reset link used already, replaced by a newer one, or over an hour old."""
        if self.disabled or self.reset_nonce is None or nonce != self.reset_nonce:
            raise Invalid("this link was used already or a newer one was sent; ask again")
        asked = datetime.fromisoformat(self.reset_asked_at or "1970-01-01T00:00:00+00:00")
        if (now - asked).total_seconds() > RESET_VALID_S:
            raise Invalid("this link has expired (it is valid one hour); ask again")

    def reset(self, nonce: str, now: datetime) -> None:
        self.check_reset(nonce, now)
        self._password_reset()

    @event("PasswordReset")
    def _password_reset(self) -> None:
        self.reset_nonce = None
        self.has_password = True

    def set_mail_off(self, off: list[str]) -> None:
        unknown = sorted(set(off) - set(MAIL_CATEGORIES))
        if unknown:
            raise Invalid(f"unknown mail categories: {', '.join(unknown)}")
        chosen = tuple(c for c in MAIL_CATEGORIES if c in off)
        if chosen != tuple(self.mail_off):
            self._mail_off_set(off=list(chosen))

    @event("MailPreferencesSet")
    def _mail_off_set(self, off: list[str]) -> None:
        self.mail_off = tuple(off)

    def disable(self) -> None:
        if not self.disabled:
            self._disabled()

    @event("Disabled")
    def _disabled(self) -> None:
        self.disabled = True

    def enable(self) -> None:
        if self.disabled:
            self._enabled()

    @event("Enabled")
    def _enabled(self) -> None:
        self.disabled = False


def nobody(_account: UUID | None, _user: UUID | None) -> list[Aggregate]:
    return []
