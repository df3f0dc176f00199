"""The storefront in a real browser (see tests/browsing.py): buyers, approvers, admins and
sales reps at work, in both runtime modes."""

import re
import uuid

from playwright.sync_api import Browser, expect

from tests.browsing import PHONE, TAKEN, Demo, Pages, another_tab, checkout, only_from


def test_a_buyer_finds_what_they_mean_and_narrows_it_down(tab: Pages, site: Demo) -> None:
    tab.sign_in(*site.person("Muster GmbH", "buyer"))
    page = tab.page
    rows = page.locator("#results tbody tr")
    # Two typos, one in each long word: a letter pair swapped, a letter dropped.
    page.get_by_label("Search").fill("angel grindr")
    expect(rows.first).to_contain_text("Angle Grinder")
    expect(rows.filter(has_not_text="Angle Grinder")).to_have_count(0)
    brands = page.get_by_role("group", name="Brand").get_by_role("checkbox")
    expect(brands.first).to_be_visible()
    first = brands.first
    counted = int(re.findall(r"\((\d+)\)", first.evaluate("e => e.labels[0].textContent"))[0])
    first.check()
    expect(page).to_have_url(re.compile(r"\?q=angel\+grindr&brand="))
    expect(rows).to_have_count(min(counted, 20))
    page.get_by_role("checkbox", name="In stock").check()
    expect(page).to_have_url(re.compile(r"&in_stock=true"))
    page.reload()  # the filters come back from the URL
    expect(page.get_by_role("checkbox", name="In stock")).to_be_checked()
    expect(page.get_by_role("group", name="Brand").get_by_role("checkbox").first).to_be_checked()
    page.get_by_label("From").fill("twelve")
    page.get_by_label("From").press("Enter")
    expect(page.get_by_text("Enter a price as a number, like 12.50.")).to_be_visible()
    tab.check("storefront-search")

    page = tab.go("/catalog?q=dril")
    expect(page.get_by_text("No products match")).to_be_visible()
    page.get_by_role("link", name="drill").click()
    expect(page).to_have_url(f"{site.base}/catalog?q=drill")
    expect(rows.first).to_contain_text("Drill")
    tab.check()


def test_a_buyer_searches_filters_adds_and_checks_out_across_two_resellers(
    tab: Pages, site: Demo
) -> None:
    rhine = site.product("Muster GmbH", only_from("Rhine Supply", 5, 30_000), TAKEN)
    euro = site.product("Muster GmbH", only_from("EuroDist", 5, 30_000), TAKEN)
    tab.sign_in(*site.person("Muster GmbH", "buyer"))
    page = tab.page
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    tab.check("storefront-catalog")

    page.get_by_label("Search").fill(rhine["sku"])
    expect(page.get_by_role("link", name=rhine["name"])).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    brand = page.get_by_role("group", name="Brand").get_by_role(
        "checkbox", name=f"{rhine['brand']} (1)"
    )
    brand.check()
    expect(page).to_have_url(f"{site.base}/catalog?q={rhine['sku']}&brand={rhine['brand']}")
    page.reload()  # a filtered page is a bookmark: the filters come back from the URL
    expect(
        page.get_by_role("group", name="Brand").get_by_role("checkbox", name=rhine["brand"])
    ).to_be_checked()
    expect(page.locator("#results tbody tr")).to_have_count(1)

    page.get_by_role("link", name=rhine["name"]).click()
    expect(page.get_by_role("heading", name=rhine["name"])).to_be_visible()
    tab.check("storefront-product")
    page.get_by_label("Quantity").first.fill("0")
    page.get_by_role("button", name="Add to cart, best offer").click()
    expect(page.get_by_text("Enter a whole number of at least 1.")).to_be_visible()
    page.locator("#qty-best").fill("2")
    page.get_by_role("button", name="Add to cart, best offer").click()
    expect(page.get_by_text("Added 2 to your cart.")).to_be_visible()

    page = tab.go("/quick-order")
    page.get_by_label("Lines of SKU, quantity").fill(
        f"{euro['sku']}, 1\nNO-SUCH-SKU, 3\n{euro['sku']}; 2\n"
    )
    page.get_by_role("button", name="Check the lines").click()
    expect(page.get_by_text("Unknown SKU")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows.first).to_contain_text(euro["sku"])
    expect(rows.first).to_contain_text("3")  # the same SKU twice is summed
    tab.check("storefront-quick-order")
    page.get_by_role("button", name="Add the 1 ready line to the cart").click()

    expect(page).to_have_url(site.base + "/cart")
    expect(page.get_by_role("heading", name="To Rhine Supply")).to_be_visible()
    expect(page.get_by_role("heading", name="To EuroDist")).to_be_visible()
    tab.check("storefront-cart")

    order_id = checkout(tab, "storefront-checkout")
    page = tab.page
    expect(page.get_by_role("heading", name="Split into 2 seller orders")).to_be_visible()
    expect(page.get_by_text("Placed by").locator("..")).to_contain_text("Muster GmbH buyer")
    tab.check("storefront-order")
    page = tab.go("/orders")
    expect(page.get_by_role("link", name=order_id[:8])).to_be_visible()
    tab.check("storefront-orders")
    placed = site.market.orders.describe(site.market.orders.order(uuid.UUID(order_id)))
    assert {so["reseller_id"] for so in placed["seller_orders"]} == {
        rhine["offers"][0]["reseller_id"],
        euro["offers"][0]["reseller_id"],
    }
    assert sorted(ln["quantity"] for so in placed["seller_orders"] for ln in so["lines"]) == [2, 3]


def test_an_order_over_the_spending_limit_is_approved_in_the_inbox(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    item = site.product(
        "Muster GmbH",
        lambda offers: offers[0]["stock"] >= 40 and offers[0]["unit_price"]["amount"] >= 5_000,
        TAKEN,
    )
    tab.sign_in(*site.person("Muster GmbH", "buyer"))
    page = tab.go("/quick-order")
    page.get_by_label("Lines of SKU, quantity").fill(f"{item['sku']}, 30")
    page.get_by_role("button", name="Check the lines").click()
    page.get_by_role("button", name="Add the 1 ready line to the cart").click()
    order_id = checkout(tab)
    expect(tab.page.get_by_text("pending approval").first).to_be_visible()

    site.settle()
    approver = another_tab(browser, site, axe_source)
    approver.sign_in(*site.person("Muster GmbH", "approver"))
    page = approver.go("/approvals")
    row = page.get_by_role("row").filter(has_text=order_id[:8])
    expect(row).to_be_visible()
    approver.check("storefront-approvals")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_text("1 order(s) approved.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=order_id[:8])).to_have_count(0)
    assert (
        site.market.orders.describe(site.market.orders.order(uuid.UUID(order_id)))["status"]
        == "placed"
    )


def test_an_admin_invites_a_colleague_who_sets_a_password_and_signs_in(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    tab.sign_in(*site.person("Muster GmbH", "admin"))
    page = tab.go("/users")
    email = f"new.{site.mode}@muster-gmbh.example"
    page.get_by_label("Name", exact=True).fill("Nina Neu")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Role", exact=True).select_option("buyer")
    page.get_by_label("Spending limit per order").fill("750.00")
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").get_attribute("href")
    assert link
    assert "/invitations/" in link
    expect(page.get_by_role("row").filter(has_text=email)).to_contain_text("invited")
    tab.check("storefront-users")

    invitee = another_tab(browser, site, axe_source)
    page = invitee.go(link[link.index("/invitations/") :])
    expect(page.get_by_text(email)).to_be_visible()
    invitee.check("storefront-invitation")
    page.get_by_label("New password", exact=True).fill("a long enough password")
    page.get_by_label("New password, again").fill("a long enough password")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    invitee.sign_in(email, "a long enough password")
    page = tab.go("/users")
    expect(page.get_by_role("row").filter(has_text=email)).to_contain_text("active")


def test_a_sales_rep_orders_for_an_assigned_account_and_the_buyer_sees_who(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    item = site.product("Muster GmbH", only_from("EuroDist", 5, 30_000), TAKEN)
    tab.sign_in(*site.person("EuroDist", "erika"))
    page = tab.page
    expect(page.get_by_role("heading", name="Accounts assigned to Erika")).to_be_visible()
    tab.check("storefront-accounts")
    page.get_by_role("button", name="Order for Muster GmbH").click()
    expect(page.get_by_role("status").filter(has_text="on behalf of")).to_contain_text(
        "Muster GmbH"
    )
    page.get_by_label("Search").fill(item["sku"])
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).not_to_contain_text("Rhine Supply")
    tab.check("storefront-catalog-sales-rep")
    page.get_by_role("button", name=f"Add {item['name']} to the cart").click()
    order_id = checkout(tab)
    expect(tab.page.get_by_text("Placed by").locator("..")).to_contain_text("Erika")

    site.settle()
    buyer = another_tab(browser, site, axe_source)
    buyer.sign_in(*site.person("Muster GmbH", "buyer"))
    page = buyer.go("/orders")
    row = page.get_by_role("row").filter(has_text=order_id[:8])
    expect(row).to_contain_text("Erika")
    expect(row).to_contain_text("sales rep, on your behalf")


def test_another_companys_order_is_not_found_and_a_form_without_its_token_is_refused(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    item = site.product("Muster GmbH", only_from("Rhine Supply", 2, 30_000), TAKEN)
    tab.sign_in(*site.person("Muster GmbH", "admin"))
    page = tab.go(f"/products/{item['product_id']}")
    page.locator("#qty-best").fill("1")
    page.get_by_role("button", name="Add to cart, best offer").click()
    order_id = checkout(tab)

    other = another_tab(browser, site, axe_source)
    other.sign_in(*site.person("Bolt Works Ltd", "admin"))
    answer = other.page.goto(f"{site.base}/orders/{order_id}")
    assert answer is not None
    assert answer.status == 404
    expect(other.page.get_by_role("heading", name="Not found")).to_be_visible()
    other.check()
    forged = other.page.request.post(
        f"{site.base}/cart/lines",
        form={"product_id": item["product_id"], "quantity": "5"},
    )
    assert forged.status == 403
    assert "did not come from this page" in forged.text()
    bolt = site.market.people.find(site.person("Bolt Works Ltd", "admin")[0])
    assert bolt is not None
    assert site.market.carts.lines(str(bolt.id), str(bolt.account_id)) == []


def test_sign_in_by_keyboard_alone_and_pages_fit_a_phone(
    site: Demo, browser: Browser, axe_source: str
) -> None:
    phone = another_tab(browser, site, axe_source, viewport=PHONE)
    page = phone.go("/sign-in")
    email, password = site.person("Paper Palace SARL", "buyer")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    phone.check("storefront-catalog-phone")
    for path in ("/catalog", "/quick-order", "/cart", "/orders", "/sign-in"):
        phone.go(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is wider than a phone by {overflow} px"
