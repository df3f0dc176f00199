"""Quotes in a real browser (see tests/browsing.py), on the demo world: a buyer asks Rhine
Supply for a price, Rhine offers, the buyer asks for better, Rhine offers again, and the
buyer accepts into an order at the quoted price; in both runtime modes."""

import re
from datetime import date, timedelta

from playwright.sync_api import Browser, expect

from marketplace.pages.render import money
from tests.browsing import TAKEN, Demo, Pages, another_tab


def test_a_quote_is_negotiated_in_two_versions_and_ordered(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    item = site.product(
        "Muster GmbH",
        lambda offers: any(
            o["reseller_name"] == "Rhine Supply" and o["stock"] >= 50 and o["min_order_qty"] == 1
            for o in offers
        ),
        TAKEN,
    )
    tab.sign_in(*site.person("Muster GmbH", "admin"))
    page = tab.go("/quotes")
    page.get_by_label("Seller").select_option(label="Rhine Supply")
    page.get_by_label("Lines of").fill(f"{item['sku']}, 40")
    page.get_by_label("Comment").fill("Site build in June")
    page.get_by_role("button", name="Ask for the quote").click()
    expect(page.get_by_role("heading", name=re.compile("submitted"))).to_be_visible()
    quote_url = page.url.split("/quotes/")[1]

    seller = another_tab(browser, site, axe_source)
    seller.sign_in(*site.person("Rhine Supply"))
    until = (date.fromisoformat(site.market.clock.today()) + timedelta(days=10)).isoformat()

    def offer(price: str) -> None:
        sp = seller.go(f"/reseller/quotes/{quote_url}")
        sp.get_by_label("Unit price (EUR)").fill(price)
        sp.get_by_label("Holds until").fill(until)
        sp.get_by_role("button", name="Send the offer").click()
        expect(sp.get_by_text("Offer sent")).to_be_visible()

    rhine = next(o for o in item["offers"] if o["reseller_name"] == "Rhine Supply")
    price = int(rhine["unit_price"]["amount"])

    def euros(minor: int) -> str:
        return f"{minor // 100}.{minor % 100:02d}"

    offer(euros(price + 100))
    seller.check("backoffice-quote")
    page = tab.go(f"/quotes/{quote_url}")
    page.get_by_label("What would make it work").fill("a bit less and we sign today")
    page.get_by_role("button", name="Ask for a better offer").click()
    expect(page.get_by_role("heading", name=re.compile("renegotiation requested"))).to_be_visible()
    offer(euros(price))
    page = tab.go(f"/quotes/{quote_url}")
    expect(page.get_by_role("heading", name="Offer, version 2")).to_be_visible()
    tab.check("storefront-quote")
    page.get_by_label("Pay by").select_option("card")
    page.get_by_role("button", name="Accept and order").click()
    expect(page.get_by_text("Your order was placed.")).to_be_visible()
    expect(
        page.get_by_role("cell", name=money({"amount": price, "currency": "EUR"}))
    ).to_be_visible()
