"""Mail to people (api.md v1.2), received by a real SMTP server (aiosmtpd), in both runtime
modes: who hears of what, with which subject, link and parts, and that a retried or
redelivered send keeps its `Message-ID`."""

import re
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.mailbox import Mailbox, html_of, text_of, use_smtp
from tests.world import Actor, Market, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "kafka"], indirect=True)
PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def _smtp(mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    use_smtp(monkeypatch, mailbox)
    monkeypatch.setenv("MARKETPLACE_MAIL_FROM", "Test Market <mail@market.example>")
    monkeypatch.setenv("MARKETPLACE_PUBLIC_URL", "https://market.example")


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

    invoices = world.view("/v1/reseller/invoices", m.rhine).json()["items"]
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
        [commission] = list(paid.iter_attachments())
        assert str(commission.get_filename()).startswith("commission-invoice-")
        assert commission.get_content().startswith(b"%PDF")
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


def shipped_order(world: World, m: Market, buyer: Actor) -> tuple[str, str, str]:
    """An order of two valves by the buyer (under its limit), accepted and shipped by Rhine:
    (order id, seller order id, product id)."""
    valve = world.product(m.acme, "VALVE", 2_000)
    world.offer(m.rhine, valve, 2_000)
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=1_000_000)
    placed = order(world, m, buyer, valve, 2)
    [so] = placed["seller_orders"]
    so_id = so["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so_id}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{so_id}/ship", m.rhine, json={})
    return placed["order_id"], so_id, valve


def test_buyer_and_seller_talk_on_a_seller_order_and_an_incident_holds_its_payout(
    world: World, mailbox: Mailbox
) -> None:
    m, buyer, _ = people(world)
    order_id, so_id, valve = shipped_order(world, m, buyer)
    short = order_id[:8].upper()

    posted = world.ok(
        "POST",
        f"/v1/buyer/seller-orders/{so_id}/messages",
        buyer,
        json={"body": "Can you deliver before 9 am? <b>gate 3</b>"},
    )
    assert posted["message_id"]
    note = arrives(mailbox, "orders@rhine.example", f"New message on order {so_id[:8].upper()}")
    assert "Can you deliver before 9 am? <b>gate 3</b>" in text_of(note)
    assert "&lt;b&gt;gate 3&lt;/b&gt;" in html_of(note)
    world.ok("POST", f"/v1/reseller/orders/{so_id}/messages", m.rhine, json={"body": "Yes, at 8."})
    reply = arrives(mailbox, "buyer@muster.example", f"New message on order {short}")
    assert "Yes, at 8." in text_of(reply)
    world.ok(
        "POST",
        f"/v1/operator/seller-orders/{so_id}/messages",
        world.operator,
        json={"body": "Noted by the marketplace."},
    )
    for path, actor in (
        (f"/v1/buyer/seller-orders/{so_id}/messages", buyer),
        (f"/v1/reseller/orders/{so_id}/messages", m.rhine),
        (f"/v1/operator/seller-orders/{so_id}/messages", world.operator),
    ):
        thread = world.ok("GET", path, actor)["items"]
        assert [(t["author"]["kind"], t["body"]) for t in thread] == [
            ("buyer_user", "Can you deliver before 9 am? <b>gate 3</b>"),
            ("reseller", "Yes, at 8."),
            ("operator", "Noted by the marketplace."),
        ]
        assert set(thread[0]["author"]) == {"kind", "name"}
    # Nobody else's seller order, nothing empty, nothing unbounded.
    other = world.buyer("Other Buyer")
    assert world.call("GET", f"/v1/buyer/seller-orders/{so_id}/messages", other).status_code == 404
    assert world.call("GET", f"/v1/reseller/orders/{so_id}/messages", m.danube).status_code == 404
    for bad in ({"body": "   "}, {"body": "x" * 4001}, {"body": "hi", "extra": 1}):
        refused = world.call("POST", f"/v1/buyer/seller-orders/{so_id}/messages", buyer, json=bad)
        assert refused.status_code == 422, bad
    assert len(world.ok("GET", f"/v1/buyer/seller-orders/{so_id}/messages", buyer)["items"]) == 3

    # The buyer pays the invoice; an incident keeps the payment out of the payout.
    [invoice] = world.view("/v1/reseller/invoices", m.rhine).json()["items"]
    today = date.today().isoformat()
    world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": m.muster.id,
            "amount": invoice["total"],
            "reference": "b1",
            "received_on": today,
        },
    )
    wrong = world.call(
        "POST",
        f"/v1/buyer/seller-orders/{so_id}/incidents",
        buyer,
        json={"reason": "damaged", "product_ids": [m.rhine.id], "comment": "x"},
    )
    assert wrong.status_code == 422
    opened = world.ok(
        "POST",
        f"/v1/buyer/seller-orders/{so_id}/incidents",
        buyer,
        json={"reason": "damaged", "product_ids": [valve], "comment": "One valve arrived cracked."},
    )
    assert opened["status"] == "open"
    incident_id = opened["incident_id"]
    seller_short = so_id[:8].upper()
    told = arrives(mailbox, "orders@rhine.example", f"Incident on order {seller_short}: damaged")
    assert "One valve arrived cracked." in text_of(told)
    for path, actor in (
        ("/v1/buyer/incidents", buyer),
        ("/v1/reseller/incidents", m.rhine),
        ("/v1/operator/incidents", world.operator),
    ):
        [seen] = world.view(path, actor, status="open").json()["items"]
        assert (seen["incident_id"], seen["reason"], seen["product_ids"]) == (
            incident_id,
            "damaged",
            [valve],
        )
    assert world.view("/v1/reseller/incidents", m.danube).json()["items"] == []

    # A second seller order, paid too, goes out; the first shows as held on its statement.
    second = order(world, m, buyer, valve, 1)["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{second}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{second}/ship", m.rhine, json={})
    [later] = [
        i
        for i in world.view("/v1/reseller/invoices", m.rhine).json()["items"]
        if i["invoice_id"] != invoice["invoice_id"]
    ]
    world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": m.muster.id,
            "amount": later["total"],
            "reference": "b2",
            "received_on": today,
        },
    )
    cycle = world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": today})
    [first] = [p for p in cycle["payouts"] if p["reseller_id"] == m.rhine.id]
    lines = world.ok("GET", f"/v1/reseller/payouts/{first['payout_id']}", m.rhine)["lines"]
    assert {(line["invoice_id"], line["held"]) for line in lines} == {
        (later["invoice_id"], False),
        (invoice["invoice_id"], True),
    }
    [kept] = [line for line in lines if line["held"]]
    assert kept["net"]["amount"] == 0
    assert first["amount"]["amount"] == sum(line["net"]["amount"] for line in lines)

    resolved = world.ok(
        "POST",
        f"/v1/reseller/incidents/{incident_id}/resolve",
        m.rhine,
        json={"comment": "A new valve is on its way."},
    )
    assert resolved["status"] == "resolved"
    arrives(mailbox, "buyer@muster.example", f"Incident on order {short} resolved")
    again = world.call(
        "POST", f"/v1/reseller/incidents/{incident_id}/resolve", m.rhine, json={"comment": "x"}
    )
    assert again.status_code == 409
    assert world.call("POST", f"/v1/buyer/incidents/{incident_id}/close", other).status_code in (
        403,
        404,
    )
    still = world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": today})
    assert [p for p in still["payouts"] if p["reseller_id"] == m.rhine.id] == []

    closed = world.ok("POST", f"/v1/buyer/incidents/{incident_id}/close", buyer, json={})
    assert closed["status"] == "closed"
    assert [h["status"] for h in closed["history"]] == ["open", "resolved", "closed"]
    arrives(mailbox, "admin@rhine.example", f"Incident on order {seller_short} closed")
    paid = world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": today})
    [payout] = [p for p in paid["payouts"] if p["reseller_id"] == m.rhine.id]
    statement = world.ok("GET", f"/v1/reseller/payouts/{payout['payout_id']}", m.rhine)
    assert [line["invoice_id"] for line in statement["lines"]] == [invoice["invoice_id"]]
    assert statement["lines"][0]["held"] is False
    assert world.view("/v1/operator/incidents", world.operator, status="open").json()["items"] == []


def test_invitations_resets_returns_quotes_refusals_and_rejections_are_mailed_as_chosen(
    world: World, mailbox: Mailbox, marketplace: Marketplace
) -> None:
    m, buyer, approver = people(world)
    # An invitation: a buyer user with an email and no password.
    invited = world.ok(
        "POST",
        "/v1/buyer/users",
        m.muster,
        json={"name": "New Colleague", "role": "buyer", "email": "new@muster.example"},
    )
    invitation = arrives(mailbox, "new@muster.example", "You are invited")
    token = invited["invitation_url"].rsplit("/", 1)[1]
    assert "/invitations/" in text_of(invitation)
    assert "New Colleague" in str(invitation["To"])
    assert token  # the answer's link and the mailed one both work until a password is set

    # A password reset: the same page for a known and an unknown email; the known gets a link.
    with TestClient(create_app(marketplace, start=False)) as web:
        for email in ("buyer@muster.example", "nobody@muster.example"):
            page = web.get("/forgot-password")
            sent = web.post(
                "/forgot-password",
                data={"csrf_token": csrf_of(page.text), "email": email},
            )
            assert sent.status_code == 200
            assert "If an account has this email" in sent.text
    reset = arrives(mailbox, "buyer@muster.example", "Reset your password")
    assert "https://market.example/reset-password?token=" in text_of(reset)
    assert not mailbox.messages("nobody@muster.example")

    # A refused seller order and a rejected order reach their placer.
    valve = world.product(m.acme, "VALVE", 2_000)
    world.offer(m.rhine, valve, 2_000)
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=1_000_000)
    refused = order(world, m, buyer, valve, 1)
    so_id = refused["seller_orders"][0]["seller_order_id"]
    world.ok(
        "POST",
        f"/v1/reseller/orders/{so_id}/refuse",
        m.rhine,
        json={"reason": "out of stock in the warehouse"},
    )
    no = arrives(
        mailbox, "buyer@muster.example", f"Order {refused['order_id'][:8].upper()} refused"
    )
    assert "out of stock in the warehouse" in text_of(no)
    over = order(world, m, buyer, valve, 9)
    world.ok("POST", f"/v1/buyer/orders/{over['order_id']}/reject", approver)
    arrives(mailbox, "buyer@muster.example", f"Order {over['order_id'][:8].upper()} rejected")

    # A quote asked for reaches the seller's orders and admin people; offered, its requester.
    asked = world.ok(
        "POST",
        "/v1/buyer/quotes",
        buyer,
        json={"reseller_id": m.rhine.id, "lines": [{"product_id": valve, "quantity": 50}]},
    )
    quote = asked["quote_id"][:8].upper()
    for person in ("orders@rhine.example", "admin@rhine.example"):
        arrives(mailbox, person, f"Quote {quote} asked for")
    world.ok(
        "POST",
        f"/v1/reseller/quotes/{asked['quote_id']}/offer",
        m.rhine,
        json={
            "lines": [
                {"product_id": valve, "quantity": 50, "unit_price": eur(1_900), "lead_time_days": 3}
            ],
            "valid_to": f"{(date.today() + timedelta(days=14)).isoformat()}T00:00:00+00:00",
        },
    )
    offered = arrives(mailbox, "buyer@muster.example", f"Quote {quote} offered")
    assert f"/quotes/{asked['quote_id']}" in text_of(offered)

    # The orders person turns order mail off; the admin still hears of returns.
    orders_person = marketplace.people.find("orders@rhine.example")
    assert orders_person is not None
    marketplace.people.set_mail_off(orders_person.id, ["orders", "returns"])
    _, shipped_so, _ = shipped_order_of(world, m, buyer, valve)
    world.ok("POST", f"/v1/reseller/orders/{shipped_so}/deliver", m.rhine)
    world.ok(
        "POST",
        "/v1/buyer/returns",
        buyer,
        json={
            "seller_order_id": shipped_so,
            "lines": [{"product_id": valve, "quantity": 1}],
            "reason": "one too many",
        },
    )
    back = arrives(
        mailbox, "admin@rhine.example", f"Return asked for on order {shipped_so[:8].upper()}"
    )
    assert "one too many" in text_of(back)
    arrives(mailbox, "admin@rhine.example", f"New order {shipped_so[:8].upper()}")
    assert not to(mailbox.messages(), "orders@rhine.example", "Return asked for")
    assert not to(mailbox.messages(), "orders@rhine.example", f"New order {shipped_so[:8].upper()}")


def shipped_order_of(world: World, m: Market, buyer: Actor, valve: str) -> tuple[str, str, str]:
    placed = order(world, m, buyer, valve, 2)
    so_id = placed["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so_id}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{so_id}/ship", m.rhine, json={})
    return placed["order_id"], so_id, valve


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found, page
    return found.group(1)
