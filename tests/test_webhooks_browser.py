"""Webhooks in a real browser (see tests/browsing.py): a seller's admin subscribes its
receiver, reads the delivery log, sends a delivery again and replays; a buyer's admin has
the same page; a buyer's other users do not."""

import re
from collections.abc import Iterator
from uuid import UUID

import pytest
from playwright.sync_api import Browser, expect

from tests.browsing import Demo, Pages, another_tab
from tests.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    box.start()
    yield box
    box.stop()


def test_a_seller_subscribes_reads_its_deliveries_and_replays(
    tab: Pages, site: Demo, receiver: Receiver, browser: Browser, axe_source: str
) -> None:
    site.market.settings.webhooks_allow_private = True
    email, password = site.person("Rhine Supply")
    rhine = site.market.people.find(email)
    assert rhine is not None
    assert rhine.account_id is not None
    tab.sign_in(email, password)
    page = tab.go("/webhooks")
    page.get_by_label("URL (https)").fill(receiver.url("/erp"))
    page.get_by_label(re.compile("^Events")).fill("SellerOrder.*")
    page.get_by_label("Description (optional)").fill("Our ERP")
    page.get_by_role("button", name="Subscribe").click()
    secret = page.locator("#webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    receiver.secrets["/erp"] = secret
    tab.check("backoffice-webhooks")

    # An event of one of Rhine's seller orders reaches the receiver, signed.
    items, _ = site.market.order_lists.seller_orders(str(rhine.account_id), 5, None, None)
    so_id = UUID(items[0]["seller_order_id"])
    author = {"kind": "reseller", "name": "Rhine Supply", "id": str(rhine.account_id)}
    site.market.conversation.post(so_id, author, "Packed today.", seller_id=rhine.account_id)
    [got] = receiver.wait_for("/erp", lambda f: len(f) == 1)
    assert got.verified
    assert got.event["type"] == "SellerOrder.MessagePosted"

    page.get_by_role("link", name=receiver.url("/erp")).click()
    expect(page.get_by_role("cell", name="delivered")).to_be_visible()
    page.get_by_role("button", name=re.compile("Send again SellerOrder.MessagePosted")).click()
    expect(page.get_by_text("The delivery is sent again.")).to_be_visible()
    receiver.wait_for("/erp", lambda f: len(f) == 2)
    tab.check("backoffice-webhook")
    page.get_by_label("Deliver again every event since").fill("2020-01-01T00:00")
    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_text("The events are queued again.")).to_be_visible()
    receiver.wait_for("/erp", lambda f: len(f) >= 3)
    assert len({r.webhook_id for r in receiver.at("/erp")}) < len(receiver.at("/erp"))

    # A buyer's admin has the page; its other users do not.
    admin = another_tab(browser, site, axe_source)
    admin.sign_in(*site.person("Muster GmbH", "admin"))
    expect(admin.go("/webhooks").get_by_role("heading", name="Webhooks")).to_be_visible()
    admin.check()
    buyer = another_tab(browser, site, axe_source)
    buyer.sign_in(*site.person("Muster GmbH", "buyer"))
    assert buyer.page.goto(site.base + "/webhooks").status == 403  # type: ignore[union-attr]
