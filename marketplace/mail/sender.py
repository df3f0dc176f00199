"""Delivers the outbox over SMTP (the standard library's smtplib): at least once, with the
same `Message-ID` on every try, retried with a doubling delay while the server refuses or
is down. A refusal for good (5xx) is recorded and not retried."""

import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from urllib.parse import parse_qs, unquote, urlsplit

from marketplace.adapters.polling import Poller
from marketplace.adapters.settings import Settings
from marketplace.mail.outbox import Mail, Outbox

log = logging.getLogger(__name__)
BATCH = 20
SMTP_TIMEOUT_S = 15.0
# (attachment reference) -> (file name, PDF bytes), or None when it can no longer be made.
Attachments = Callable[[dict[str, str]], tuple[str, bytes] | None]


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool


def server_of(url: str) -> Server:
    parts = urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise ValueError("MARKETPLACE_SMTP_URL must look like smtp://[user:password@]host:port")
    query = parse_qs(parts.query)
    return Server(
        host=parts.hostname,
        port=parts.port or 25,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
    )


def sender_address(mail_from: str) -> Address:
    [(name, address)] = getaddresses([mail_from])
    user, _, domain = address.partition("@")
    return Address(display_name=name, username=user, domain=domain)


def message(mail: Mail, mail_from: str, attachment: tuple[str, bytes] | None) -> EmailMessage:
    """The MIME message: a plain-text and an HTML part, and the PDF when there is one. The
    email package refuses a header value with a line break, so no header can be injected."""
    msg = EmailMessage()
    msg["From"] = sender_address(mail_from)
    user, _, domain = mail.to_address.partition("@")
    msg["To"] = Address(display_name=mail.to_name, username=user, domain=domain)
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = formatdate(localtime=False)
    msg.set_content(mail.text_body)
    msg.add_alternative(mail.html_body, subtype="html")
    if attachment is not None:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return msg


class Sender:
    def __init__(self, settings: Settings, outbox: Outbox, attachments: Attachments) -> None:
        assert settings.smtp_url is not None
        self.settings = settings
        self.server = server_of(settings.smtp_url)
        self.outbox = outbox
        self.attachments = attachments
        self.claim = uuid.uuid4().hex
        self.poller = Poller("mail-sender", self.send_due, settings.mail_poll_s)

    def start(self) -> None:
        self.poller.start()

    def nudge(self) -> None:
        self.poller.nudge()

    def stop(self) -> None:
        self.poller.stop(SMTP_TIMEOUT_S + 5)

    def _delay(self, attempts: int) -> float:
        return float(
            min(self.settings.mail_retry_s * 2 ** min(attempts, 20), self.settings.mail_retry_max_s)
        )

    def send_due(self) -> int:
        """Sends one batch of due mail; returns how many were claimed."""
        batch = self.outbox.claim(self.claim, self.settings.mail_lease_s, BATCH)
        if not batch:
            return 0
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            log.warning("the SMTP server cannot be reached (%r); %d mails wait", error, len(batch))
            for mail in batch:
                self._retry(mail, f"connecting: {error!r}")
            return len(batch)
        try:
            for index, mail in enumerate(batch):
                if not self._send_one(smtp, mail):
                    for rest in batch[index + 1 :]:
                        self._retry(rest, "the connection was lost before this one")
                    break
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        return len(batch)

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.server.host, self.server.port, timeout=SMTP_TIMEOUT_S)
        if self.server.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.server.user and self.server.password:
            smtp.login(self.server.user, self.server.password)
        return smtp

    def _send_one(self, smtp: smtplib.SMTP, mail: Mail) -> bool:
        """Sends one mail; False when the connection cannot carry the next one."""
        try:
            attachment = self.attachments(mail.attachment) if mail.attachment else None
            smtp.send_message(message(mail, self.settings.mail_from, attachment))
        except smtplib.SMTPRecipientsRefused as error:
            code = min(c for c, _ in error.recipients.values())
            self._refused(mail, code, str(error.recipients))
            return True
        except smtplib.SMTPResponseException as error:
            self._refused(mail, error.smtp_code, f"{error.smtp_code} {error.smtp_error!r}")
            return error.smtp_code < 400 or error.smtp_code >= 500
        except (OSError, smtplib.SMTPException) as error:
            self._retry(mail, repr(error))
            return False
        self.outbox.sent(mail.message_id, self.claim)
        return True

    def _refused(self, mail: Mail, code: int, why: str) -> None:
        if 400 <= code < 500:
            self._retry(mail, why)
        else:
            log.error("the SMTP server refused %s for good: %s", mail.message_id, why)
            self.outbox.failed(mail.message_id, self.claim, why, None)

    def _retry(self, mail: Mail, why: str) -> None:
        attempts = self.outbox.attempts(mail.message_id)
        self.outbox.failed(mail.message_id, self.claim, why, self._delay(attempts))
