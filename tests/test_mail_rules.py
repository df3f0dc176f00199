"""How a mail is written, without a server: headers that no name or subject can break,
bodies escaped in HTML, addresses checked, and a Message-ID that depends only on the event,
the kind of mail and the person."""

import pytest

from marketplace.adapters.settings import Settings
from marketplace.mail.letters import Letter, Letters, Recipient, deliverable
from marketplace.mail.sender import message, server_of


def letters() -> Letters:
    settings = Settings(
        smtp_url="smtp://127.0.0.1:2525",
        mail_from="Test Market <mail@market.example>",
        public_url="https://market.example/",
    )
    return Letters(settings, lambda _: None, lambda p, n: f"/reset-password?token={p}.{n}")


LETTER = Letter(
    "new_message",
    "messages",
    "New message on order 1A2B\r\nBcc: victim@evil.example",
    ["<script>alert(1)</script> & more"],
    "/orders/1",
    "Open the conversation",
)


def test_no_name_or_subject_can_add_a_header() -> None:
    eve = Recipient("p1", "eve@muster.example", "Eve\r\nBcc: spy@evil.example\nX-Evil: 1")
    mail = letters().mail("event-1", LETTER, eve)
    assert mail is not None
    sent = message(mail, "Test Market <mail@market.example>", None)
    raw = sent.as_string()
    assert "Bcc" not in sent
    assert "X-Evil" not in sent
    assert all(not line.startswith(("Bcc:", "X-Evil:")) for line in raw.splitlines())
    assert str(sent["Subject"]) == "New message on order 1A2B Bcc: victim@evil.example"
    assert sent["To"].addresses[0].addr_spec == "eve@muster.example"


def test_the_html_part_escapes_what_people_wrote_and_the_text_part_keeps_it() -> None:
    mail = letters().mail("event-1", LETTER, Recipient("p1", "eve@muster.example", "Eve"))
    assert mail is not None
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in mail.html_body
    assert "<script>" not in mail.html_body
    assert "<script>alert(1)</script> & more" in mail.text_body
    assert "https://market.example/orders/1" in mail.text_body
    assert 'href="https://market.example/orders/1"' in mail.html_body


def test_a_message_id_is_the_same_for_the_same_event_kind_and_person_only() -> None:
    made = letters()
    to = Recipient("p1", "eve@muster.example", "Eve")
    first = made.mail("event-1", LETTER, to)
    again = made.mail("event-1", LETTER, to)
    other = made.mail("event-1", LETTER, Recipient("p2", "bob@muster.example", "Bob"))
    later = made.mail("event-2", LETTER, to)
    ids = [m.message_id if m else None for m in (first, again, other, later)]
    assert None not in ids
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3
    assert str(ids[0]).endswith("@market.example>")


@pytest.mark.parametrize(
    "address", ["not-an-address", "a@b", "eve@localhost", "eve@muster.example\r\nBcc: x@y.z"]
)
def test_an_address_that_cannot_take_mail_gets_none(address: str) -> None:
    assert not deliverable(address)
    assert letters().mail("event-1", LETTER, Recipient("p1", address, "Eve")) is None


def test_the_smtp_url_is_read_and_a_wrong_one_refused() -> None:
    server = server_of("smtp://user%40x:p%3Ass@mail.example:587?starttls=1")
    assert (server.host, server.port, server.user, server.password, server.starttls) == (
        "mail.example",
        587,
        "user@x",
        "p:ss",
        True,
    )
    assert server_of("smtp://mail.example").port == 25
    with pytest.raises(ValueError, match="smtp://"):
        server_of("http://mail.example")
