"""Mail to people (api.md v1.2), received by a real SMTP server (aiosmtpd), in both runtime
modes: who hears of what, with which subject, link and parts, and that a retried or
redelivered send keeps its `Message-ID`."""

from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from marketplace.platform import Marketplace
from tests.mailbox import Mailbox, html_of, text_of
from tests.world import Actor, Market, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "kafka"], indirect=True)
PASSWORD = "a long enough password"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture(autouse=True)
def _smtp(mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPLACE_SMTP_URL", mailbox.url)
    monkeypatch.setenv("MARKETPLACE_MAIL_FROM", "Test Market <mail@market.example>")
    monkeypatch.setenv("MARKETPLACE_PUBLIC_URL", "https://market.example")
    monkeypatch.setenv("MARKETPLACE_MAIL_RETRY_S", "0.2")
    monkeypatch.setenv("MARKETPLACE_MAIL_RETRY_MAX_S", "1")
    monkeypatch.setenv("MARKETPLACE_MAIL_POLL_S", "0.1")


def to(found: list[EmailMessage], address: str, kind_words: str) -> list[EmailMessage]:
    return [m for m in found if address in str(m["To"]) and kind_words in str(m["Subject"])]


def arrives(mailbox: Mailbox, address: str, words: str, count: int = 1) -> EmailMessage:
    found = mailbox.wait_for(lambda ms: len(to(ms, address, words)) >= count)
    return to(found, address, words)[-1]


def staff(world: World, seller: Actor, role: str, email: str) -> None:
    world.ok(
        "POST",
        "/v1/seller/users",
        seller,
        json={"name": f"{role} person", "email": email, "password": PASSWORD, "role": role},
    )


def people(world: World) -> tuple[Market, Actor, Actor]:
    """The small market with people behind its keys: Rhine's admin, orders and finance
    people; Muster's admin, an approver, and a buyer with a 100.00 spending limit."""
    m = small_market(world)
    staff(world, m.rhine, "admin", "admin@rhine.example")
    staff(world, m.rhine, "orders", "orders@rhine.example")
    staff(world, m.rhine, "finance", "finance@rhine.example")
    staff(world, m.rhine, "catalog", "catalog@rhine.example")
    users: dict[str, Actor] = {}
    for role, email, limit in (
        ("admin", "boss@muster.example", None),
        ("approver", "approver@muster.example", None),
        ("buyer", "buyer@muster.example", 10_000),
    ):
        body: dict[str, Any] = {"name": f"{role} at Muster", "role": role, "email": email}
        body["password"] = PASSWORD
        if limit is not None:
            body["spending_limit"] = eur(limit)
        made = world.ok("POST", "/v1/buyer/users", m.muster, json=body)
        users[role] = Actor(m.muster.id, made["api_key"], made["id"])
    return m, users["buyer"], users["approver"]


def order(world: World, m: Market, buyer: Actor, product: str, quantity: int) -> dict[str, Any]:
    placed: dict[str, Any] = world.ok(
        "POST",
        "/v1/buyer/orders",
        buyer,
        json={
            "lines": [{"product_id": product, "quantity": quantity}],
            "payment_method": "invoice_net_30",
        },
    )
    return placed


def test_an_order_from_placing_to_payout_mails_each_person_who_must_hear_of_it(
    world: World, mailbox: Mailbox, marketplace: Marketplace
) -> None:
    m, buyer, approver = people(world)
    valve = world.product(m.acme, "VALVE", 5_000)
    world.offer(m.rhine, valve, 5_000)
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=1_000_000)

    placed = order(world, m, buyer, valve, 3)
    assert placed["status"] == "pending_approval"
    short = placed["order_id"][:8].upper()
    mine = arrives(mailbox, "buyer@muster.example", f"Order {short} placed")
    assert "waiting for approval" in str(mine["Subject"])
    assert f"https://market.example/orders/{placed['order_id']}" in text_of(mine)
    asked = [
        arrives(mailbox, a, f"Order {short} is waiting")
        for a in ("approver@muster.example", "boss@muster.example")
    ]
    assert all("/approvals" in text_of(m_) for m_ in asked)

    world.ok("POST", f"/v1/buyer/orders/{placed['order_id']}/approve", approver)
    arrives(mailbox, "buyer@muster.example", f"Order {short} approved")
    [so] = placed["seller_orders"]
    for seller_person in ("admin@rhine.example", "orders@rhine.example"):
        new = arrives(mailbox, seller_person, f"New order {so['seller_order_id'][:8].upper()}")
        assert f"/reseller/orders/{so['seller_order_id']}" in html_of(new)
    assert not to(mailbox.messages(), "finance@rhine.example", "New order")
    assert not to(mailbox.messages(), "catalog@rhine.example", "New order")

    world.ok("POST", f"/v1/reseller/orders/{so['seller_order_id']}/accept", m.rhine)
    arrives(mailbox, "buyer@muster.example", f"Order {short} accepted")
    world.ok(
        "POST",
        f"/v1/reseller/orders/{so['seller_order_id']}/ship",
        m.rhine,
        json={"tracking": "DHL 00340434161234567890"},
    )
    shipped = arrives(mailbox, "buyer@muster.example", f"Order {short} shipped")
    assert "DHL 00340434161234567890" in text_of(shipped)

    invoice = arrives(mailbox, "boss@muster.example", f"for order {short}")
    assert str(invoice["Subject"]).startswith("Invoice ")
    [pdf] = [p for p in invoice.iter_attachments()]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF")
    assert not to(mailbox.messages(), "buyer@muster.example", "Invoice")

    invoices = world.ok("GET", "/v1/reseller/invoices", m.rhine)["items"]
    [issued] = invoices
    due = date.fromisoformat(issued["due_on"])
    world.ok(
        "PUT",
        "/v1/operator/clock",
        world.operator,
        json={"now": f"{(due + timedelta(days=1)).isoformat()}T09:00:00+00:00"},
    )
    marketplace.notice_overdue()
    overdue = arrives(mailbox, "boss@muster.example", f"Invoice {issued['number']} is overdue")
    assert issued["due_on"] in text_of(overdue)
    marketplace.notice_overdue()

    world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": m.muster.id,
            "amount": issued["total"],
            "reference": "bank 1",
            "received_on": (due + timedelta(days=1)).isoformat(),
        },
    )
    cycle = world.ok(
        "POST",
        "/v1/operator/payouts",
        world.operator,
        json={"up_to": (due + timedelta(days=1)).isoformat()},
    )
    [payout] = cycle["payouts"]
    for person in ("finance@rhine.example", "admin@rhine.example"):
        paid = arrives(mailbox, person, f"Payout {payout['payout_id'][:8].upper()} made")
        assert f"/reseller/payouts/{payout['payout_id']}" in text_of(paid)
    assert not to(mailbox.messages(), "orders@rhine.example", "Payout")

    # Each mail once, with its own Message-ID, however the events were delivered.
    everything = mailbox.messages()
    ids = [str(m_["Message-ID"]) for m_ in everything]
    assert len(ids) == len(set(ids))
    assert len(to(everything, "boss@muster.example", "overdue")) == 1
    for message in everything:
        assert message["Message-ID"].endswith("@market.example>")
        assert "Test Market" in str(message["From"])
        assert message.get_body(preferencelist=("plain",)) is not None
        assert message.get_body(preferencelist=("html",)) is not None
