"""Mail, a password reset and a seller order's conversation in a real browser (see
tests/browsing.py), on the demo world, where no SMTP server is set and the operator reads
the mail that would have been sent."""

import re

from playwright.sync_api import Browser, expect

from marketplace.demo import OPERATOR
from tests.browsing import Demo, Pages, another_tab

NEW_PASSWORD = "a brand new password 42"
ASKED = "Can you pick up the wrong size on Friday? <b>Gate 3</b>"


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    email, old_password = site.person("Muster GmbH", "buyer")
    # Signed in elsewhere before the reset: that session ends with it.
    elsewhere = another_tab(browser, site, axe_source)
    elsewhere.sign_in(email, old_password)

    page = tab.go("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    tab.check()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("If an account has this email")).to_be_visible()
    page.get_by_label("Email").fill("nobody@muster-gmbh.example")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("If an account has this email")).to_be_visible()
    tab.check("forgot-password")

    # The operator reads the kept mail and finds the link in it.
    site.settle()
    operator = another_tab(browser, site, axe_source)
    operator.sign_in(*site.person(OPERATOR, "admin"))
    mail = operator.go("/operator/mail")
    expect(mail.get_by_text("No SMTP server is set")).to_be_visible()
    operator.check("operator-mail")
    mail.get_by_role("row", name=re.compile(re.escape(email))).get_by_role(
        "link", name="Reset your password"
    ).click()
    text = mail.locator("pre.mail").inner_text()
    assert "nobody@" not in mail.content()
    link = re.search(r"https?://\S+/reset-password\?token=\S+", text)
    assert link, text
    path = link.group(0).split("/reset-password", 1)[1]

    page = tab.go("/reset-password" + path)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill("not the same one at all")
    page.get_by_role("button", name="Set the new password and sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not the same")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password and sign in").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    tab.check()

    # The other session is over; the link works once; the new password signs in.
    elsewhere.go("/orders")
    expect(elsewhere.page.get_by_role("button", name="Sign in")).to_be_visible()
    again = tab.go("/reset-password" + path)
    expect(again.get_by_role("alert")).to_contain_text("used already")
    tab.go("/account").get_by_role("button", name="Sign out").click()
    tab.sign_in(email, NEW_PASSWORD)


def test_buyer_and_seller_write_on_an_order_and_settle_an_incident(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    rhine_email, rhine_password = site.person("Rhine Supply")
    rhine = site.market.people.find(rhine_email)
    assert rhine is not None
    assert rhine.account_id is not None
    # The demo's card order: shipped, with no conversation yet.
    items, _ = site.market.order_lists.seller_orders(str(rhine.account_id), 50, None, "shipped")
    found = [so for so in items if so["payment_method"] == "card"]
    assert found
    so_id, order_id = found[0]["seller_order_id"], found[0]["order_id"]

    tab.sign_in(*site.person("Muster GmbH", "admin"))
    page = tab.go(f"/orders/{order_id}")
    page.get_by_label("Your message").fill(
        "Can you pick up the wrong size on Friday? <b>Gate 3</b>"
    )
    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_text("Your message is sent")).to_be_visible()
    expect(page.get_by_text(ASKED)).to_be_visible()
    tab.check("storefront-messages")

    seller = another_tab(browser, site, axe_source)
    seller.sign_in(rhine_email, rhine_password)
    sp = seller.go(f"/reseller/orders/{so_id}")
    expect(sp.get_by_text(ASKED)).to_be_visible()
    # The demo's incident on this order is open: the seller resolves it.
    expect(sp.get_by_text("We received a different size than ordered.")).to_be_visible()
    sp.get_by_label("Your message").fill("Yes, our driver comes on Friday morning.")
    sp.get_by_role("button", name="Send the message").click()
    expect(sp.get_by_text("Your message is sent")).to_be_visible()
    sp.get_by_label("What you did").fill("The right size ships today; the driver takes the other.")
    sp.get_by_role("button", name="Resolve").click()
    expect(sp.get_by_text("The incident is resolved")).to_be_visible()
    seller.check("backoffice-messages")

    page = tab.go(f"/orders/{order_id}")
    expect(page.get_by_text("Yes, our driver comes on Friday morning.")).to_be_visible()
    expect(page.locator(".incidents .status").first).to_have_text("resolved")
    page.get_by_role("button", name="Close the incident").click()
    expect(page.get_by_text("The incident is closed")).to_be_visible()
    page = tab.go("/incidents?status=closed")
    expect(page.get_by_role("cell", name="wrong item")).to_be_visible()
    tab.check()

    # The operator sees the same thread and may write in it.
    site.settle()
    operator = another_tab(browser, site, axe_source)
    operator.sign_in(*site.person(OPERATOR, "admin"))
    op = operator.go("/operator/incidents")
    op.get_by_role("link", name=so_id[:8]).first.click()
    expect(op.get_by_text("Yes, our driver comes on Friday morning.")).to_be_visible()
    op.get_by_label("Your message").fill("Thank you both.")
    op.get_by_role("button", name="Send the message").click()
    expect(op.get_by_text("Thank you both.")).to_be_visible()
    operator.check()
