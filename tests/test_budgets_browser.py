"""Cost centres and budgets in a real browser (see tests/browsing.py), on the demo world: the
admin adds a cost centre, assigns a user and sets a budget; an order beyond a `block` budget
is refused with what remains; the ledger shows the order's reservation."""

import re

from playwright.sync_api import expect

from tests.browsing import TAKEN, Demo, Pages


def test_an_admin_sets_a_budget_and_an_order_beyond_it_is_refused(tab: Pages, site: Demo) -> None:
    tab.sign_in(*site.person("Muster GmbH", "admin"))
    page = tab.go("/budgets")
    page.get_by_label("Name").fill(f"Workshop {site.mode}")
    page.get_by_label("Code").fill("WS-1")
    page.get_by_role("button", name="Add the cost centre").click()
    expect(page.get_by_text("Cost centre WS-1 added")).to_be_visible()
    page.get_by_label("User").select_option(index=0)
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("User assigned")).to_be_visible()
    today = site.market.clock.today()
    page.get_by_label("Amount").fill("5.00")
    page.get_by_label("From").fill(today)
    page.get_by_label("To").fill(today)
    page.get_by_label("Beyond the budget").select_option("block")
    page.get_by_role("button", name="Set the budget").click()
    expect(page.get_by_text("Budget set")).to_be_visible()
    tab.check("storefront-budgets")

    item = site.product(
        "Muster GmbH",
        lambda offers: any(
            o["stock"] >= 5 and o["min_order_qty"] == 1 and o["unit_price"]["amount"] > 500
            for o in offers
        ),
        TAKEN,
    )
    page = tab.go(f"/products/{item['product_id']}")
    page.get_by_role("button", name=re.compile("Add to cart")).first.click()
    page = tab.go("/checkout")
    page.get_by_label("PO number").fill("PO-B1")
    for label, value in (
        ("Company or person", "Muster GmbH"),
        ("Street and number", "Hafenstrasse 1"),
        ("Postcode", "20457"),
        ("City", "Hamburg"),
        ("Country", "DE"),
    ):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_text(re.compile(r"5\.00 EUR remains"))).to_be_visible()
