"""Mail as people read it: one Jinja2 template for the plain-text part and one for the HTML
part (autoescaped), a subject of one line, a link to the page, and a `Message-ID` that is
the same however often the event that caused it is delivered."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from email_validator import EmailNotValidError, validate_email
from jinja2 import Environment, PackageLoader, select_autoescape

from marketplace.adapters.settings import Settings
from marketplace.mail.outbox import Mail
from marketplace.mail.sender import sender_address

MAIL_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:mail")
MAX_SUBJECT = 200
MAX_NAME = 100
CATEGORY_WORDS = {
    "orders": "orders",
    "approvals": "approvals",
    "invoices": "invoices",
    "returns": "returns",
    "quotes": "quotes",
    "payouts": "payouts",
    "messages": "messages and incidents",
}


def one_line(text: str, most: int) -> str:
    """Text fit for a header: line breaks and runs of blanks become one space."""
    return " ".join(text.split())[:most]


def deliverable(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@dataclass(frozen=True)
class Recipient:
    person_id: str
    email: str
    name: str
    # The mail categories the person turned off.
    off: tuple[str, ...] = ()


@dataclass(frozen=True)
class Letter:
    kind: str
    # None: always sent (invitations, password resets).
    category: str | None
    subject: str
    paragraphs: list[str]
    path: str
    link_label: str
    attachment: dict[str, str] | None = None


class Letters:
    def __init__(
        self,
        settings: Settings,
        invitation_path: Callable[[str], str | None],
        reset_path: Callable[[str, str], str],
    ) -> None:
        self.keep = settings.smtp_url is None
        self.base = settings.public_url.rstrip("/")
        self.domain = sender_address(settings.mail_from).domain or "marketplace.example"
        self.marketplace = sender_address(settings.mail_from).display_name or "The marketplace"
        self.invitation_path = invitation_path
        self.reset_path = reset_path
        self._env = Environment(
            loader=PackageLoader("marketplace.mail", "templates"),
            autoescape=select_autoescape(["html"]),
            keep_trailing_newline=True,
        )

    def message_id(self, event_id: str, kind: str, person_id: str) -> str:
        return f"<{uuid5(MAIL_NAMESPACE, f'{event_id}:{kind}:{person_id}')}@{self.domain}>"

    def mail(self, event_id: str, letter: Letter, to: Recipient) -> Mail | None:
        """The mail of a letter to one person; None when the address cannot take mail."""
        if not deliverable(to.email):
            return None
        subject = one_line(letter.subject, MAX_SUBJECT)
        context: dict[str, Any] = {
            "name": one_line(to.name, MAX_NAME) or to.email,
            "subject": subject,
            "paragraphs": letter.paragraphs,
            "link": self.base + letter.path,
            "link_label": letter.link_label,
            "attachment": letter.attachment,
            "marketplace": self.marketplace,
            "category": CATEGORY_WORDS.get(letter.category or ""),
            "account_link": self.base + "/account",
        }
        return Mail(
            message_id=self.message_id(event_id, letter.kind, to.person_id),
            event_id=event_id,
            kind=letter.kind,
            category=letter.category or "account",
            to_address=to.email,
            to_name=one_line(to.name, MAX_NAME),
            subject=subject,
            text_body=self._env.get_template("letter.txt").render(context),
            html_body=self._env.get_template("letter.html").render(context),
            link=self.base + letter.path,
            attachment=letter.attachment,
        )
