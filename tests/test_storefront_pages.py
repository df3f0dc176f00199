"""The storefront's pages over HTTP, without a browser: what each form does and refuses,
the CSV export, and paging (the browser tests drive the main journeys)."""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from marketplace.pages.catalog import PAGE_SIZE
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.einvoice_rules import check
from tests.test_people import PASSWORD, TOKEN, sign_in
from tests.world import Actor, World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@dataclass
class Shop:
    web: TestClient
    world: World
    muster: Actor
    rhine: Actor
    danube: Actor
    products: list[str]

    def token(self, path: str = "/cart") -> str:
        found = TOKEN.search(self.web.get(path).text)
        assert found
        return found.group(1)

    def settle(self, marketplace: Marketplace) -> None:
        """Lets the views take in what was done through the API (not this browser, whose own
        changes the pages wait for)."""
        for view in marketplace.projections.names:
            assert marketplace.projections.wait(view, marketplace.heads(), 10, deliver=True)

    def post(self, path: str, **data: Any) -> Any:
        return self.web.post(path, data={"csrf_token": self.token(), **data})


@pytest.fixture
def shop(world: World, marketplace: Marketplace) -> Iterator[Shop]:
    market = small_market(world)
    products = [world.product(market.acme, f"SKU-{i:02d}", name=f"Bolt {i:02d}") for i in range(25)]
    for pid in products:
        world.offer(market.rhine, pid, 1_000, stock=10, min_order_qty=2, tiers=[(5, 800)])
    world.offer(market.danube, products[0], 1_200, stock=100)
    world.terms(market.rhine, market.muster, payment_methods=["card", "invoice_net_30"])
    world.terms(market.danube, market.muster, payment_methods=["card"])
    world.ok(
        "POST",
        "/v1/buyer/users",
        market.muster,
        json={
            "name": "Anna",
            "role": "admin",
            "email": "anna@muster.example",
            "password": PASSWORD,
        },
    )
    with TestClient(create_app(marketplace, start=False)) as web:
        assert sign_in(web, "anna@muster.example").status_code == 303
        yield Shop(web, world, market.muster, market.rhine, market.danube, products)


def test_the_catalog_shows_one_page_of_rows_and_links_the_next(shop: Shop) -> None:
    first = shop.web.get("/catalog")
    names = re.findall(r">Bolt (\d\d)</a>", first.text)
    assert len(names) == PAGE_SIZE
    following = re.search(r'href="(/catalog\?cursor=[^"]+)" rel="next"', first.text)
    assert following
    rest = shop.web.get(following.group(1).replace("&amp;", "&"))
    more = re.findall(r">Bolt (\d\d)</a>", rest.text)
    assert sorted(names + more) == [f"{i:02d}" for i in range(25)]
    assert 'rel="next"' not in rest.text
    filtered = shop.web.get("/catalog?q=SKU-07&brand=&category=", follow_redirects=False)
    assert filtered.headers["location"] == "/catalog?q=SKU-07"


def test_the_cart_groups_by_seller_and_edits_quantities(shop: Shop) -> None:
    first, second = shop.products[0], shop.products[1]
    below = shop.post(f"/products/{second}/cart", quantity="1")
    assert below.status_code == 422
    assert "Below the minimum quantity: at least 2." in below.text
    too_many = shop.post(f"/products/{second}/cart", quantity="11")
    assert "Not enough stock" in too_many.text
    assert shop.post(f"/products/{second}/cart", quantity="5").status_code == 200
    chosen = shop.post(f"/products/{first}/cart", quantity="3", reseller_id=shop.danube.id)
    assert chosen.status_code == 200
    cart = shop.web.get("/cart").text
    assert "To Rhine Supply" in cart
    assert "To Danube Distribution" in cart
    assert "EUR 40.00" in cart  # 5 at the 5+ tier of EUR 8.00
    assert "EUR 36.00" in cart  # 3 at Danube's EUR 12.00, though Rhine is cheaper
    edited = shop.web.post(
        "/cart/lines",
        data={"product_id": second, "quantity": "2", "reseller_id": ""},
        headers={"HX-Request": "true", "X-CSRF-Token": shop.token()},
    )
    assert edited.status_code == 200
    assert edited.text.lstrip().startswith('<div id="cart">')
    assert "EUR 20.00" in edited.text
    bad = shop.web.post(
        "/cart/lines",
        data={"product_id": second, "quantity": "two", "reseller_id": ""},
        headers={"HX-Request": "true", "X-CSRF-Token": shop.token()},
    )
    assert bad.status_code == 422
    assert "Enter a whole number" in bad.text
    shop.post("/cart/lines", product_id=second, quantity="0", reseller_id="")
    assert "To Rhine Supply" not in shop.web.get("/cart").text


def test_quick_order_explains_each_line_and_sums_the_same_sku(shop: Shop) -> None:
    upload = "sku,quantity\nSKU-03,2\nSKU-03,3\nNOPE,1\nSKU-04,1\nSKU-05,50\nSKU-06\n"
    answer = shop.web.post(
        "/quick-order",
        data={"csrf_token": shop.token("/quick-order"), "lines": ""},
        files={"file": ("order.csv", upload.encode(), "text/csv")},
    )
    assert answer.status_code == 200
    rows = re.findall(r"<tr>\s*<td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>", answer.text)
    assert rows == [
        ("2", "SKU-03", "5"),
        ("4", "NOPE", "1"),
        ("5", "SKU-04", "1"),
        ("6", "SKU-05", "50"),
        ("7", "SKU-06", ""),
    ]
    for problem in (
        "Unknown SKU",
        "Below the minimum quantity: at least 2",
        "Not enough stock",
        "Write it as: SKU, quantity",
    ):
        assert problem in answer.text
    assert "Add the 1 ready line to the cart" in answer.text


def test_checkout_offers_only_shared_payment_methods_and_shows_refusals(
    shop: Shop, marketplace: Marketplace
) -> None:
    first = shop.products[0]
    shop.post(f"/products/{first}/cart", quantity="4", reseller_id=shop.danube.id)
    shop.post(f"/products/{shop.products[2]}/cart", quantity="4")
    page = shop.web.get("/checkout").text
    assert re.findall(r'<option value="(\w+)"', page) == ["card"]
    key = re.search(r'name="checkout_key" value="(\w+)"', page)
    assert key
    address = {
        "address_name": "Muster",
        "address_street": "Weg 1",
        "address_postcode": "1",
        "address_city": "Ulm",
        "address_country": "DE",
    }
    refused = shop.post("/checkout", payment_method="invoice_net_30", **address)
    assert refused.status_code == 422
    assert "Choose one of the payment methods offered." in refused.text
    # Stock taken by someone else after the cart was filled: the line is refused, by name.
    shop.world.ok(
        "PUT", f"/v1/reseller/offers/{shop.products[2]}/stock", shop.rhine, json={"quantity": 1}
    )
    refused = shop.post("/checkout", payment_method="card", checkout_key=key.group(1), **address)
    assert refused.status_code == 422
    assert "The order was not placed" in refused.text
    assert "Bolt 02:" in refused.text
    # The same form sent again (a double click) is refused again from what was kept, even
    # with the stock back: as the API answers a retried Idempotency-Key.
    shop.world.ok(
        "PUT", f"/v1/reseller/offers/{shop.products[2]}/stock", shop.rhine, json={"quantity": 50}
    )
    again = shop.post("/checkout", payment_method="card", checkout_key=key.group(1), **address)
    assert again.status_code == 422
    assert "Bolt 02:" in again.text
    fresh = re.search(r'name="checkout_key" value="(\w+)"', refused.text)
    assert fresh
    assert fresh.group(1) != key.group(1)
    shop.post("/cart/lines", product_id=shop.products[2], quantity="0", reseller_id="")
    placed = shop.post("/checkout", payment_method="card", checkout_key=fresh.group(1), **address)
    assert placed.status_code == 200
    assert "Split into 1 seller order" in placed.text
    again = shop.post("/checkout", payment_method="card", checkout_key=fresh.group(1), **address)
    assert "your cart is empty" in again.text.lower()
    shop.settle(marketplace)
    orders, _ = marketplace.order_lists.orders(10, None, buyer_id=shop.muster.id)
    assert len(orders) == 1


def test_the_csv_export_is_the_filtered_list(shop: Shop, marketplace: Marketplace) -> None:
    for pid in shop.products[:3]:
        shop.world.ok(
            "POST",
            "/v1/buyer/orders",
            shop.muster,
            json={"lines": [{"product_id": pid, "quantity": 2}], "payment_method": "card"},
        )
    shop.settle(marketplace)
    listed = shop.web.get("/orders?status=placed").text
    ids = re.findall(r'href="/orders/([0-9a-f-]{36})"', listed)
    exported = shop.web.get("/orders.csv?status=placed")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["order_id"] for r in rows] == ids
    assert len(ids) == 3
    assert {r["total"] for r in rows} == {"20.00"}
    assert list(csv.DictReader(io.StringIO(shop.web.get("/orders.csv?status=shipped").text))) == []
    day = rows[0]["placed_at"][:10]
    assert (
        len(re.findall(r'href="/orders/', shop.web.get(f"/orders?from={day}&to={day}").text)) == 3
    )
    assert 'href="/orders/' not in shop.web.get("/orders?to=2000-01-01").text
    bad = shop.web.get("/orders?from=yesterday")
    assert bad.status_code == 422
    assert "Write the date as YYYY-MM-DD." in bad.text


def test_approvers_decide_several_orders_at_once(shop: Shop, marketplace: Marketplace) -> None:
    limited = shop.world.user(shop.muster, "buyer", spending_limit=100)
    waiting = [
        shop.world.ok(
            "POST",
            "/v1/buyer/orders",
            limited,
            json={"lines": [{"product_id": pid, "quantity": 2}], "payment_method": "card"},
        )["order_id"]
        for pid in shop.products[:3]
    ]
    shop.settle(marketplace)
    # The approver's start page says what waits, and links to it.
    home = shop.web.get("/").text
    assert re.search(
        r'<a href="/approvals"><strong class="count">3</strong> orders waiting for approval', home
    )
    inbox = shop.web.get("/approvals").text
    assert all(order_id in inbox for order_id in waiting)
    token = shop.token("/approvals")
    done = shop.web.post(
        "/approvals",
        data={"csrf_token": token, "decision": "approve", "order_id": waiting[:2]},
    )
    assert done.status_code == 200
    assert "2 order(s) approved." in done.text
    assert waiting[2] in done.text
    assert waiting[0] not in done.text
    nothing = shop.web.post("/approvals", data={"csrf_token": token, "decision": "approve"})
    assert nothing.status_code == 422
    statuses = {
        order_id: marketplace.orders.describe(marketplace.orders.order(UUID(order_id)))["status"]
        for order_id in waiting
    }
    assert statuses == {waiting[0]: "placed", waiting[1]: "placed", waiting[2]: "pending_approval"}
    shop.settle(marketplace)
    assert '<strong class="count">1</strong> orders waiting for approval' in shop.web.get("/").text


def test_the_cart_outlives_sign_out_and_follows_to_another_device(
    shop: Shop, marketplace: Marketplace
) -> None:
    shop.post(f"/products/{shop.products[4]}/cart", quantity="3")
    token = shop.token()
    assert shop.web.post("/sign-out", data={"csrf_token": token}).status_code == 200
    with TestClient(create_app(marketplace, start=False)) as other_device:
        assert sign_in(other_device, "anna@muster.example").status_code == 303
        cart = other_device.get("/cart").text
        assert "Bolt 04" in cart
        assert 'value="3"' in cart


def test_the_order_page_shows_shipments_and_tracking(shop: Shop) -> None:
    order = shop.world.ok(
        "POST",
        "/v1/buyer/orders",
        shop.muster,
        json={
            "lines": [
                {"product_id": shop.products[5], "quantity": 4},
                {"product_id": shop.products[6], "quantity": 2},
            ],
            "payment_method": "card",
        },
    )
    [so] = order["seller_orders"]
    path = f"/v1/reseller/orders/{so['seller_order_id']}"
    shop.world.ok("POST", f"{path}/accept", shop.rhine)
    shop.world.ok(
        "POST",
        f"{path}/ship",
        shop.rhine,
        json={"tracking": "DHL-123", "lines": [{"product_id": shop.products[5], "quantity": 3}]},
    )
    page = shop.web.get(f"/orders/{order['order_id']}").text
    assert "partially shipped" in page
    assert "DHL-123" in page
    assert "3 \N{MULTIPLICATION SIGN} Bolt 05" in page
    assert re.search(r"Bolt 05</td>\s*<td class=\"num\">4</td><td class=\"num\">3</td>", page)


def test_forged_quick_order_lines_change_nothing(shop: Shop) -> None:
    answer = shop.web.post(
        "/quick-order/cart",
        data={
            "csrf_token": shop.token(),
            "product_id": ["not-a-uuid", shop.products[7], shop.products[8]],
            "quantity": ["2", "-1", "0"],
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "Bolt 0" not in shop.web.get("/cart").text


def test_checkout_offers_the_organisations_addresses_and_keeps_a_new_one(
    shop: Shop, marketplace: Marketplace
) -> None:
    # The organisation's own address (its tax profile) and a cost centre's, the latter the
    # placing person's, so chosen by default.
    own = {"line1": "Weg 1", "postcode": "10115", "city": "Berlin", "country": "DE"}
    shop.world.ok(
        "PUT",
        "/v1/buyer/tax-profile",
        shop.muster,
        json={"legal_name": "Muster GmbH", "country": "DE", "address": own},
    )
    plant = {
        "name": "Muster Plant 2",
        "street": "Werkstr. 9",
        "postcode": "89073",
        "city": "Ulm",
        "country": "DE",
    }
    centre = shop.world.ok(
        "POST",
        "/v1/buyer/cost-centres",
        shop.muster,
        json={"name": "Plant 2", "code": "P2", "shipping_addresses": [plant]},
    )["cost_centre_id"]
    anna = next(
        u for u in marketplace.buyers.buyer(UUID(shop.muster.id)).users.values() if u.name == "Anna"
    )
    shop.world.ok(
        "PUT",
        f"/v1/buyer/users/{anna.id}/cost-centre",
        shop.muster,
        json={"cost_centre_id": centre},
    )
    shop.post(f"/products/{shop.products[1]}/cart", quantity="2")
    page = shop.web.get("/checkout").text
    choices = re.findall(
        r'name="address_choice" value="(\w+)" ?(checked)?>\s*<label[^>]*>([^<]+)<', page
    )
    assert [(value, checked, label.strip()) for value, checked, label in choices] == [
        ("0", "checked", "Muster Plant 2, Werkstr. 9, 89073 Ulm, DE"),
        ("1", "", "Muster GmbH, Weg 1, 10115 Berlin, DE"),
        ("new", "", "A new address:"),
    ]
    # The default goes through as it is; nothing needs typing.
    placed = shop.post("/checkout", payment_method="card", address_choice="0")
    assert placed.status_code == 200
    [order] = marketplace.order_lists.orders(10, None, buyer_id=shop.muster.id)[0]
    assert marketplace.orders.order(UUID(order["order_id"])).shipping_address == plant
    # A new one, kept: the next checkout offers it.
    shop.post(f"/products/{shop.products[2]}/cart", quantity="2")
    dock = {"name": "Dock 4", "street": "Kai 2", "postcode": "20457", "city": "Hamburg"}
    typed = {f"address_{k}": v for k, v in {**dock, "country": "DE"}.items()}
    kept = shop.post(
        "/checkout", payment_method="card", address_choice="new", keep_address="1", **typed
    )
    assert kept.status_code == 200
    shop.post(f"/products/{shop.products[3]}/cart", quantity="2")
    assert "Dock 4, Kai 2, 20457 Hamburg, DE" in shop.web.get("/checkout").text
    # A new address left half empty is refused, and nothing is ordered.
    half = shop.post("/checkout", payment_method="card", address_choice="new", address_name="X")
    assert half.status_code == 422
    assert "Fill in every line of the new shipping address" in half.text


def test_checkout_shows_each_sellers_shipping_tax_and_gross_before_placing(
    shop: Shop, marketplace: Marketplace
) -> None:
    berlin = {"line1": "Weg 1", "postcode": "10115", "city": "Berlin", "country": "DE"}
    shop.world.ok(
        "PUT",
        "/v1/reseller/tax-profile",
        shop.rhine,
        json={
            "legal_name": "Rhine GmbH",
            "country": "DE",
            "vat_id": "DE136695976",
            "address": berlin,
        },
    )
    parcel = {
        "method": "std",
        "name": "Parcel",
        "countries": ["DE"],
        "first_item": {"amount": 490, "currency": "EUR"},
        "additional_item": {"amount": 100, "currency": "EUR"},
        "min_days": 1,
        "max_days": 3,
    }
    express = {
        **parcel,
        "method": "exp",
        "name": "Express",
        "first_item": {"amount": 1_500, "currency": "EUR"},
    }
    shop.world.ok(
        "PUT", "/v1/reseller/shipping-rates", shop.rhine, json={"rates": [parcel, express]}
    )
    shop.world.ok(
        "PUT",
        "/v1/buyer/tax-profile",
        shop.muster,
        json={"legal_name": "Muster GmbH", "country": "DE", "address": berlin},
    )
    shop.post(f"/products/{shop.products[1]}/cart", quantity="2")
    page = shop.web.get("/checkout").text
    # 2 x 10.00 + parcel 4.90 + 1.00 = 25.90 net; 19 %: 4.921 -> 4.92; 30.82 gross.
    assert "Shipping (Parcel)" in page
    for figure in ("5.90", "25.90", "4.92", "30.82"):
        assert figure in page, figure
    # Choosing express and asking for the figures again: 15.00 + 1.00 shipping, 36.00 net,
    # 6.84 tax, 42.84 gross.
    key = re.search(r'name="checkout_key" value="(\w+)"', page)
    assert key
    form = {
        "payment_method": "card",
        "address_choice": "0",
        "checkout_key": key.group(1),
        f"shipping_method_{shop.rhine.id}": "exp",
    }
    again = shop.post("/checkout", action="preview", **form)
    assert again.status_code == 200
    assert "Shipping (Express)" in again.text
    assert "42.84" in again.text
    placed = shop.post("/checkout", action="place", **form)
    assert "Split into 1 seller order" in placed.text
    # The order page shows what it charges: the method, the tax and the gross.
    assert "Express: EUR 16.00" in placed.text
    assert "VAT S 19 %" in placed.text
    assert "42.84" in placed.text
    order_id = str(placed.url).split("/orders/")[1].split("?")[0]
    order = shop.world.ok("GET", f"/v1/buyer/orders/{order_id}", shop.muster)
    assert order["gross_total"] == [{"amount": 4_284, "currency": "EUR"}]
    assert order["seller_orders"][0]["shipping"]["method"] == "exp"
    # Shipped and invoiced: the order page offers the invoice as PDF and as e-invoice.
    so_id = order["seller_orders"][0]["seller_order_id"]
    shop.world.ok("POST", f"/v1/reseller/orders/{so_id}/accept", shop.rhine)
    shop.world.ok("POST", f"/v1/reseller/orders/{so_id}/ship", shop.rhine, json={})
    shop.settle(marketplace)
    shown = shop.web.get(f"/orders/{order_id}").text
    found = re.search(r'href="/invoices/([0-9a-f-]{36})\.xml"', shown)
    assert found, "no e-invoice link"
    xml = shop.web.get(f"/invoices/{found.group(1)}.xml")
    assert xml.status_code == 200
    check(xml.content)


def test_a_quote_is_accepted_to_the_address_and_by_the_method_chosen(shop: Shop) -> None:
    berlin = {"line1": "Weg 1", "postcode": "10115", "city": "Berlin", "country": "DE"}
    world = shop.world
    world.ok(
        "PUT",
        "/v1/buyer/tax-profile",
        shop.muster,
        json={"legal_name": "Muster GmbH", "country": "DE", "address": berlin},
    )
    parcel = {
        "method": "std",
        "name": "Parcel",
        "countries": ["DE"],
        "first_item": {"amount": 490, "currency": "EUR"},
        "additional_item": {"amount": 0, "currency": "EUR"},
        "min_days": 1,
        "max_days": 3,
    }
    express = {**parcel, "method": "exp", "name": "Express"}
    express["first_item"] = {"amount": 1_500, "currency": "EUR"}
    world.ok("PUT", "/v1/reseller/shipping-rates", shop.rhine, json={"rates": [parcel, express]})
    product = shop.products[3]
    asked = world.ok(
        "POST",
        "/v1/buyer/quotes",
        shop.muster,
        json={"reseller_id": shop.rhine.id, "lines": [{"product_id": product, "quantity": 5}]},
    )["quote_id"]
    world.ok(
        "POST",
        f"/v1/reseller/quotes/{asked}/offer",
        shop.rhine,
        json={
            "lines": [
                {
                    "product_id": product,
                    "quantity": 5,
                    "unit_price": {"amount": 700, "currency": "EUR"},
                    "lead_time_days": 2,
                }
            ],
            "valid_to": "2100-01-01T00:00:00+00:00",
        },
    )
    page = shop.web.get(f"/quotes/{asked}").text
    assert '<option value="exp">Express</option>' in page
    assert "Berlin, DE" in page
    placed = shop.post(
        f"/quotes/{asked}/accept",
        payment_method="card",
        address_choice="0",
        shipping_method="exp",
    )
    assert "Split into 1 seller order" in placed.text
    order_id = str(placed.url).split("/orders/")[1].split("?")[0]
    order = world.ok("GET", f"/v1/buyer/orders/{order_id}", shop.muster)
    shipping = order["seller_orders"][0]["shipping"]
    assert (shipping["method"], shipping["amount"]["amount"]) == ("exp", 1_500)
    assert order["shipping_address"]["city"] == "Berlin"
