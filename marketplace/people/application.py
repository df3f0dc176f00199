"""People: sign-up with an email, sign-in, invitations and passwords.

A person is stored in the event store of the context that holds its account (buyers for
buyer users, sellers for everyone else), saved in the same transaction as that account.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from marketplace.adapters.credentials import Credentials
from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.kernel.errors import Conflict, DomainError, Invalid
from marketplace.kernel.people import (
    PeopleFor,
    Person,
    PersonKind,
    check_password,
    nobody,
    normal_email,
)

log = logging.getLogger(__name__)
INVITATION_VALID_S = 7 * 24 * 3600


class SignInRefused(DomainError):
    """Wrong email or password; the same sentence for both, so neither is revealed."""


class TooManyAttempts(DomainError):
    def __init__(self, wait_s: float) -> None:
        minutes = max(1, round(wait_s / 60))
        super().__init__(
            f"too many failed sign-ins; try again in {minutes} minute{'s' * (minutes != 1)}"
        )


@dataclass(frozen=True)
class NewPerson:
    email: str
    name: str
    password: str | None


class People:
    def __init__(
        self,
        sellers: MarketplaceApplication,
        buyers: MarketplaceApplication,
        credentials: Credentials,
        secret: str,
    ) -> None:
        self.sellers = sellers
        self.buyers = buyers
        self.credentials = credentials
        self._invitations = URLSafeTimedSerializer(secret, salt="invitation")
        # A reset link names a person and the nonce its latest request recorded; its age
        # and its one use are checked against the person's events.
        self._resets = URLSafeSerializer(secret, salt="password-reset")

    def _app(self, principal: PersonKind) -> MarketplaceApplication:
        return self.buyers if principal == "buyer_user" else self.sellers

    def find(self, email: str) -> Person | None:
        try:
            person_id = Person.create_id(email)
        except Invalid:
            return None
        return self.person(person_id)

    def person(self, person_id: UUID) -> Person | None:
        return self.sellers.find(person_id, Person) or self.buyers.find(person_id, Person)

    def drafting(
        self, new: NewPerson | None, principal: PersonKind, role: str | None = None
    ) -> PeopleFor:
        """What an account's command saves beside it for the person behind it, if any.

        The email is checked, and the password hashed, before the account is made."""
        if new is None:
            return nobody
        email = normal_email(new.email)
        if self.find(email) is not None:
            raise Conflict(f"the email {email} is already in use")
        if new.password is not None:
            check_password(new.password)

        def draft(account_id: UUID | None, user_id: UUID | None) -> list[Aggregate]:
            person = Person(email, new.name, principal, account_id, user_id, role)
            if new.password is not None:
                # Written before the person's events: a crash between leaves a hash no one
                # can reach, never a person without the password it was given.
                self.credentials.set_password(str(person.id), new.password)
                person.password_set()
            return [person]

        return draft

    def save(self, person: Person) -> None:
        self._app(person.principal).save(person)

    def sign_in(self, email: str, password: str, address: str) -> Person:
        account = email.strip().lower()[:254]
        wait = self.credentials.locked_for(account, address)
        if wait > 0:
            raise TooManyAttempts(wait)
        person = self.find(account)
        verified = self.credentials.verify(str(person.id) if person else None, password)
        if person is None or not verified or person.disabled:
            self.credentials.failed(account, address)
            raise SignInRefused("the email or the password is not right")
        self.credentials.succeeded(account)
        return person

    def ask_reset(self, email: str, address: str) -> None:
        """Records a reset request for a known, enabled person (the notifier mails the
        link); for anyone else it does nothing, and the caller says the same either way.
        Asking is throttled as failed sign-ins are, per email and per address."""
        account = email.strip().lower()[:254]
        subject = f"reset:{account}"
        wait = self.credentials.locked_for(subject, address)
        if wait > 0:
            raise TooManyAttempts(wait)
        self.credentials.failed(subject, address)
        person = self.find(account)
        if person is None or person.disabled:
            return
        person.ask_reset(secrets.token_urlsafe(16), datetime.now(UTC))
        self.save(person)

    def reset_path(self, person_id: str, nonce: str) -> str:
        return "/reset-password?token=" + self._resets.dumps({"p": person_id, "n": nonce})

    def resetting(self, token: str) -> tuple[Person, str]:
        try:
            found = self._resets.loads(token)
            person = self.person(UUID(str(found["p"])))
            nonce = str(found["n"])
        except (BadSignature, KeyError, TypeError, ValueError) as error:
            raise Invalid("this is not a password reset link from this marketplace") from error
        if person is None:
            raise Invalid("this is not a password reset link from this marketplace")
        person.check_reset(nonce, datetime.now(UTC))
        return person, nonce

    def reset(self, token: str, password: str) -> Person:
        """Sets a new password through a reset link: once, within the hour. The link's use
        is saved first, so a crash before the new password leaves the old one and a link
        that no longer works, never a link that works twice."""
        person, nonce = self.resetting(token)
        check_password(password)
        person.reset(nonce, datetime.now(UTC))
        self.save(person)
        self.credentials.set_password(str(person.id), password)
        self.credentials.succeeded(person.email)
        return person

    def set_mail_off(self, person_id: UUID, off: list[str]) -> Person:
        person = self.person(person_id)
        if person is None:
            raise Invalid("unknown person")
        person.set_mail_off(off)
        self.save(person)
        return person

    def invitation_path(self, person_id: str) -> str | None:
        """The link a newly registered person chooses a password with, while it has none."""
        person = self.person(UUID(person_id))
        if person is None or person.disabled or person.has_password:
            return None
        return f"/invitations/{self.invitation(person)}"

    def invitation(self, person: Person) -> str:
        token = self._invitations.dumps(str(person.id))
        log.info("invitation for %s: /invitations/%s", person.email, token)
        return token

    def invited(self, token: str) -> Person:
        try:
            person_id = self._invitations.loads(token, max_age=INVITATION_VALID_S)
        except SignatureExpired as error:
            raise Invalid("this invitation has expired; ask your admin for a new one") from error
        except BadSignature as error:
            raise Invalid("this is not an invitation link from this marketplace") from error
        person = self.person(UUID(str(person_id)))
        if person is None or person.disabled:
            raise Invalid("this invitation is no longer valid; ask your admin for a new one")
        if person.has_password:
            raise Conflict("this invitation was already used; sign in with your password")
        return person

    def accept(self, token: str, password: str) -> Person:
        person = self.invited(token)
        check_password(password)
        self.credentials.set_password(str(person.id), password)
        person.password_set()
        self.save(person)
        return person
