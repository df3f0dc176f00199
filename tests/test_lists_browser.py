"""Shopping lists and "order again" in a real browser (see tests/browsing.py), on the demo
world, in both runtime modes."""

import re

from playwright.sync_api import expect

from tests.browsing import TAKEN, Demo, Pages


def _orderable(offers: list[dict[str, object]]) -> bool:
    return any(
        o["stock"] >= 10 and o["min_order_qty"] == 1 and "card" in o["payment_methods"]  # type: ignore[operator]
        for o in offers
    )


def test_a_buyer_keeps_a_list_orders_it_and_orders_a_past_order_again(
    tab: Pages, site: Demo
) -> None:
    first = site.product("Muster GmbH", _orderable, TAKEN)
    second = site.product("Muster GmbH", _orderable, TAKEN)
    tab.sign_in(*site.person("Muster GmbH", "admin"))
    page = tab.go("/lists")
    page.get_by_label("Name").fill("Monthly restock")
    page.get_by_label("Shared with your organisation").select_option("read")
    page.get_by_role("button", name="Create the list").click()
    expect(page.get_by_role("heading", name="Monthly restock")).to_be_visible()
    for item, quantity in ((first, "2"), (second, "3")):
        page.get_by_label("SKU").fill(item["sku"])
        page.get_by_label("Quantity", exact=True).fill(quantity)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.get_by_role("cell", name=item["name"], exact=True)).to_be_visible()
    page.get_by_label(f"Quantity of {second['name']} (0 removes it)").fill("4")
    page.get_by_role("row").filter(has_text=second["name"]).get_by_role(
        "button", name="Save"
    ).click()
    expect(page.get_by_label(f"Quantity of {second['name']} (0 removes it)")).to_have_value("4")
    tab.check("storefront-list")
    page.get_by_label("Pay by").select_option("card")
    page.get_by_role("button", name="Order this list").click()
    expect(page.get_by_text("Your order was placed.")).to_be_visible()
    placed = page.url.split("/orders/")[1].split("?")[0]

    page.get_by_role("button", name="Order again").click()
    expect(page.get_by_text("Your order was placed.")).to_be_visible()
    assert placed not in page.url
    page = tab.go("/lists")
    expect(page.get_by_role("link", name="Monthly restock")).to_be_visible()
    tab.check("storefront-lists")
    assert re.match(r"[0-9a-f-]{36}", placed)
