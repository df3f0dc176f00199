"""The back office in a real browser (see tests/browsing.py): a manufacturer, resellers and
the operator at work, and what they must not be able to do, in both runtime modes."""

import re
import uuid
from typing import Any

from playwright.sync_api import Browser, expect

from marketplace import demo
from marketplace.kernel.money import Money
from marketplace.pages.render import money
from marketplace.people.application import NewPerson
from offers.application import CustomerTermsDetails, OfferDetails
from offers.domain import Offer
from offers.pricing import unit_price
from orders.choosing import LineRequest
from projections.catalog_view import CatalogFilter
from tests.browsing import TAKEN, Demo, Pages, another_tab

ADDRESS = {"name": "Goods in", "street": "Weg 1", "postcode": "1", "city": "Ulm", "country": "DE"}


def seller_id(site: Demo, name: str) -> uuid.UUID:
    found = [s["id"] for s in site.market.catalog.sellers("reseller", None) if s["name"] == name]
    found += [
        s["id"] for s in site.market.catalog.sellers("manufacturer", None) if s["name"] == name
    ]
    return uuid.UUID(found[0])


def place(site: Demo, buyer: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    order = site.market.placement.place(
        uuid.UUID(site.buyer_id(buyer)),
        {"kind": "buyer_user", "user_id": str(uuid.uuid4()), "name": f"{buyer} buyer"},
        None,
        [LineRequest(uuid.UUID(pid), quantity, None) for pid, quantity in lines],
        "card",
        "PO-1",
        ADDRESS,
    )
    return site.market.orders.describe(order)


def only_rhine(site: Demo) -> dict[str, Any]:
    return site.product(
        "Muster GmbH",
        lambda offers: (
            len(offers) == 1
            and offers[0]["reseller_name"] == "Rhine Supply"
            and offers[0]["stock"] >= 5
        ),
        TAKEN,
    )


def test_a_manufacturer_imports_a_file_with_two_bad_lines_and_authorizes_a_reseller(
    tab: Pages, site: Demo
) -> None:
    tab.sign_in(*site.person("Acme Industrial"))
    page = tab.go("/manufacturer/imports")
    tab.check("backoffice-import")
    mode = site.mode.upper()
    rows = [
        f"IMP-{mode}-1,Import Bolt 1,Acme,fasteners,1200,EUR,,,piece",
        f"IMP-{mode}-2,,Acme,fasteners,1200,EUR,,,piece",
        f"IMP-{mode}-3,Import Bolt 3,Acme,fasteners,12.00,EUR,,,piece",
        f"IMP-{mode}-4,Import Bolt 4,Acme,fasteners,1400,EUR,,,piece",
    ]
    text = "sku,name,brand,category,list_price,currency,map_price,gtin,unit\n" + "\n".join(rows)
    page.get_by_label("File").set_input_files(
        {"name": "products.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("completed")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("2 imported")).to_be_visible()
    refused = page.get_by_role("table").locator("tbody tr")
    expect(refused).to_have_count(2)
    expect(refused.nth(0)).to_contain_text("3")
    expect(refused.nth(0)).to_contain_text("name")
    expect(refused.nth(1)).to_contain_text("4")
    expect(refused.nth(1)).to_contain_text("list_price.amount")
    tab.check("backoffice-import-job")
    page = tab.go(f"/manufacturer/products?q=IMP-{mode}")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("link", name=f"IMP-{mode}-4")).to_be_visible()
    tab.check("backoffice-products")

    page = tab.go("/manufacturer/authorizations")
    page.get_by_label("Reseller").select_option(label="BulkHouse")
    page.get_by_label("Brands").fill("Acme")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Reseller authorized")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="BulkHouse")
    expect(row).to_contain_text("Acme")
    tab.check("backoffice-authorizations")


def test_a_reseller_adds_offers_edits_stock_inline_and_sets_terms_the_buyer_sees(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    market = site.market
    bulk = seller_id(site, "BulkHouse")
    nordic = seller_id(site, "Nordic Office")
    paper = site.buyer_id("Paper Palace SARL")
    listed, _ = market.catalog.page(paper, CatalogFilter(reseller_id=str(bulk)), 200, None)
    item = next(i for i in listed if i["sku"] not in TAKEN)
    TAKEN.add(item["sku"])
    products, _ = market.catalog.manufacturer_products(
        str(nordic), 500, None, CatalogFilter(categories=("paper",))
    )
    fresh = next(
        p
        for p in products
        if market.offers.find(Offer.create_id(bulk, uuid.UUID(p["product_id"])), Offer) is None
    )
    before = market.offers.offer(bulk, uuid.UUID(item["product_id"]))
    raised = before.price.amount + 100

    tab.sign_in(*site.person("BulkHouse"))
    page = tab.go(f"/reseller/offers?q={item['sku']}")
    row = page.locator(f"#offer-{item['product_id']}")
    row.get_by_label(re.compile("Price")).fill(f"{raised / 100:.2f}")
    row.get_by_label("Stock").fill("77")
    row.get_by_role("button", name=re.compile("Save")).click()
    saved = page.locator(f"#offer-{item['product_id']}")
    expect(saved.get_by_label("Stock")).to_have_value("77")
    # The row says so, and the keyboard stays where it was.
    expect(saved.get_by_role("status")).to_have_text("Saved.")
    expect(saved.get_by_role("button", name=re.compile("Save"))).to_be_focused()
    assert page.url.endswith(f"/reseller/offers?q={item['sku']}")  # saved in place, by htmx
    tab.check("backoffice-offers")

    page.get_by_label("Product SKU").fill(fresh["sku"])
    page.get_by_label("Price, like 12.50").fill(f"{fresh['list_price']['amount'] / 100:.2f}")
    page.locator("#add-stock").fill("50")
    page.get_by_label("Minimum order quantity").fill("10")
    page.get_by_role("button", name="Add the offer").click()
    expect(page.get_by_text(f"Offer on {fresh['sku']} saved")).to_be_visible()

    page = tab.go("/reseller/customers")
    tab.check("backoffice-customers")
    page.get_by_role("link", name="Paper Palace SARL").click()
    page.get_by_label("Discount, percent").fill("10")
    page.get_by_role("button", name="Save the terms").click()
    expect(page.get_by_text("Terms for Paper Palace SARL saved")).to_be_visible()

    site.settle()
    buyer = another_tab(browser, site, axe_source)
    buyer.sign_in(*site.person("Paper Palace SARL", "buyer"))
    # What the pricing rule gives at this buyer's new terms, worked out here from the offers.
    for product in (item, fresh):
        offer = market.offers.offer(bulk, uuid.UUID(product["product_id"]))
        floor = product["map_price"]
        expected = unit_price(
            offer.price,
            offer.tiers,
            offer.min_order_qty,
            discount_bps=1000,
            map_price=Money(floor["amount"], "EUR") if floor else None,
        )
        page = buyer.go(f"/catalog?q={product['sku']}")
        expect(page.locator("#results")).to_contain_text(
            f"{money(expected.as_dict())} from BulkHouse"
        )
    assert market.offers.offer(bulk, uuid.UUID(item["product_id"])).price.amount == raised


def test_a_reseller_refuses_one_order_and_ships_part_of_another_and_the_buyer_sees_both(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    shipped_item, refused_item = only_rhine(site), only_rhine(site)
    shipped = place(site, "Muster GmbH", [(shipped_item["product_id"], 2)])
    refused = place(site, "Muster GmbH", [(refused_item["product_id"], 1)])
    shipped_so = shipped["seller_orders"][0]["seller_order_id"]
    refused_so = refused["seller_orders"][0]["seller_order_id"]
    site.settle()

    tab.sign_in(*site.person("Rhine Supply"))
    # The home page says what waits, with counts, and leads to it.
    page = tab.go("/")
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    waiting = page.get_by_role("link", name=re.compile(r"^\d+ seller orders to accept$"))
    assert int(waiting.inner_text().split()[0]) >= 2
    tab.check("backoffice-home")
    waiting.click()
    page.wait_for_url(re.compile(r"/reseller/orders\?status=awaiting_acceptance$"))
    tab.check("backoffice-seller-orders")
    page.get_by_label(f"Select order {refused_so[:8]}").check()
    page.get_by_label("Reason for a refusal").fill("out of stock in our warehouse")
    page.get_by_role("button", name="Refuse selected").click()
    expect(page.get_by_text("1 order(s) refused.")).to_be_visible()

    page = tab.go(f"/reseller/orders/{shipped_so}")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("The order is accepted.")).to_be_visible()
    page.get_by_label(re.compile("Quantity of .* to ship")).fill("1")
    page.get_by_label("Tracking").fill("TRK-9")
    page.get_by_role("button", name="Ship these quantities").click()
    expect(page.get_by_text("The shipment is recorded.")).to_be_visible()
    expect(page.get_by_role("list").last).to_contain_text("Shipped 1")
    tab.check("backoffice-seller-order")

    site.settle()
    buyer = another_tab(browser, site, axe_source)
    buyer.sign_in(*site.person("Muster GmbH", "buyer"))
    page = buyer.go(f"/orders/{shipped['order_id']}")
    expect(page.get_by_text("partially shipped").first).to_be_visible()
    expect(page.get_by_text("TRK-9")).to_be_visible()
    page = buyer.go(f"/orders/{refused['order_id']}")
    expect(page.get_by_text("refused").first).to_be_visible()


def test_the_operator_approves_suspends_reads_commissions_and_rebuilds(
    tab: Pages, site: Demo
) -> None:
    market = site.market
    fresh = market.sellers.register_reseller(
        f"Fresh Supply {site.mode}", "reseller", "DE", f"mk_s_fresh_{uuid.uuid4().hex}"
    )
    site.settle()
    tab.sign_in(*site.person(demo.OPERATOR, "admin"))
    page = tab.go("/operator")
    tab.check("backoffice-dashboard")
    page.get_by_role("link", name=f"Fresh Supply {site.mode}").click()
    page.get_by_label("Reason").fill("papers checked")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("The account is approved")).to_be_visible()
    tab.check("backoffice-account")

    acme = seller_id(site, "Acme Industrial")
    muster = uuid.UUID(site.buyer_id("Muster GmbH"))
    item = only_rhine(site)
    pid = uuid.UUID(item["product_id"])
    market.sellers.authorize(acme, fresh, None, None)
    market.offers.put_offer(
        fresh, pid, OfferDetails(Money(item["list_price"]["amount"], "EUR"), [], 5, 1, 1)
    )
    market.offers.put_terms(fresh, muster, CustomerTermsDetails(None, 0, {}, ["card"], None))
    site.settle()
    offering = market.catalog.resellers_offering(muster, [pid])[pid]
    assert fresh in offering
    page.get_by_label("Reason").fill("complaints")
    page.get_by_role("button", name="Suspend").click()
    expect(page.get_by_text("The account is suspended")).to_be_visible()
    expect(page.get_by_role("list").last).to_contain_text("Suspended: complaints")
    site.settle()
    assert fresh not in market.catalog.resellers_offering(muster, [pid])[pid]

    page = tab.go("/operator/commissions")
    expect(page.get_by_role("heading", name="Rates")).to_be_visible()
    tab.check("backoffice-commissions")
    page = tab.go("/operator/projections")
    tab.check("backoffice-projections")
    page.get_by_role("button", name="Rebuild catalog").click()
    expect(page.get_by_role("button", name="Rebuild catalog")).to_be_visible(timeout=60_000)
    assert {r["name"]: r["status"] for r in market.projections.status()}["catalog"] != "rebuilding"
    assert fresh not in market.catalog.resellers_offering(muster, [pid])[pid]
    page = tab.go("/operator/tax-rates")
    expect(page.get_by_role("heading", name="Tax rates")).to_be_visible()
    expect(page.get_by_label("DE standard rate, percent")).to_have_value("19.00")
    tab.check("backoffice-tax-rates")
    page = tab.go("/operator/reports/dac7")
    expect(page.get_by_role("heading", name=re.compile("DAC7 report"))).to_be_visible()
    tab.check()


def test_support_reads_the_back_office_and_every_form_post_is_refused(
    tab: Pages, site: Demo
) -> None:
    email = f"support.{site.mode}@marketplace.example"
    password = "a long enough password"
    site.market.sellers.add_people(
        None,
        site.market.people.drafting(
            NewPerson(email, "Sam Support", password), "operator", "support"
        ),
    )
    before = site.market.heads()
    tab.sign_in(email, password)
    rhine = seller_id(site, "Rhine Supply")
    for path in (
        "/operator",
        "/operator/accounts",
        "/operator/orders",
        "/operator/commissions",
        "/operator/projections",
        f"/operator/accounts/{rhine}",
        "/team",
    ):
        page = tab.go(path)
        expect(page.get_by_role("heading").first).to_be_visible()
        tab.check()
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    for form in (
        f"/operator/accounts/{rhine}/suspend",
        f"/operator/commissions/{rhine}",
        "/operator/projections/orders/rebuild",
        "/team",
    ):
        answer = tab.page.request.post(
            site.base + form,
            form={
                "csrf_token": token,
                "rate": "1",
                "reason": "x",
                "name": "X",
                "email": "x@x.example",
                "role": "admin",
            },
        )
        assert answer.status == 403, form
    assert site.market.heads() == before


def test_a_seller_cannot_open_another_sellers_order(tab: Pages, site: Demo) -> None:
    order = place(site, "Muster GmbH", [(only_rhine(site)["product_id"], 1)])
    tab.sign_in(*site.person("EuroDist"))
    answer = tab.page.goto(
        f"{site.base}/reseller/orders/{order['seller_orders'][0]['seller_order_id']}"
    )
    assert answer is not None
    assert answer.status == 404
    expect(tab.page.get_by_role("heading", name="Not found")).to_be_visible()
    tab.check()


def test_the_other_back_office_pages_pass_axe(
    tab: Pages, site: Demo, browser: Browser, axe_source: str
) -> None:
    tab.sign_in(*site.person("Acme Industrial"))
    for path in ("/manufacturer/product", "/manufacturer/product?sku=ACME-0001", "/team"):
        page = tab.go(path)
        expect(page.get_by_role("heading").first).to_be_visible()
        tab.check()
    reseller = another_tab(browser, site, axe_source)
    reseller.sign_in(*site.person("EuroDist"))
    muster = site.buyer_id("Muster GmbH")
    shots = {"/reseller/reps": "backoffice-reps", "/reseller/shipping": "backoffice-shipping"}
    for path in (
        "/reseller/imports",
        f"/reseller/customers/{muster}",
        "/reseller/reps",
        "/team",
        "/tax-profile",
        "/reseller/shipping",
    ):
        page = reseller.go(path)
        expect(page.get_by_role("heading").first).to_be_visible()
        reseller.check(shots.get(path))
