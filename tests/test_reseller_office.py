"""The reseller's back office through its pages: offers, imports, customers and terms."""

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.test_people import PASSWORD, TOKEN, sign_in
from tests.test_seller_orders_pages import person, settle
from tests.world import Market, World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@dataclass
class Office:
    web: TestClient
    world: World
    market: Market
    products: list[str]

    def token(self, path: str = "/reseller/offers") -> str:
        found = TOKEN.search(self.web.get(path).text)
        assert found, path
        return found.group(1)


@pytest.fixture
def office(world: World, marketplace: Marketplace) -> Iterator[Office]:
    market = small_market(world)
    products = [world.product(market.acme, f"V-{i}", 5_000, name=f"Valve {i}") for i in range(3)]
    person(world, market.rhine, "admin@rhine.example", "admin")
    with TestClient(create_app(marketplace, start=False)) as web:
        assert sign_in(web, "admin@rhine.example").status_code == 303
        yield Office(web, world, market, products)


def _add(office: Office, sku: str, price: str, stock: str = "10") -> int:
    answer = office.web.post(
        "/reseller/offers",
        data={
            "csrf_token": office.token(),
            "sku": sku,
            "price": price,
            "currency": "EUR",
            "stock": stock,
            "lead_time_days": "2",
            "min_order_qty": "1",
        },
        follow_redirects=False,
    )
    return answer.status_code


def test_offers_are_added_edited_inline_withdrawn_and_exported(
    office: Office, marketplace: Marketplace
) -> None:
    assert _add(office, "V-0", "40.00") == 303
    assert _add(office, "V-1", "41.50") == 303
    assert _add(office, "NOPE", "1.00") == 422
    settle(marketplace)
    pid = office.products[0]
    row = office.web.post(
        f"/reseller/offers/{pid}",
        data={"price": "39.90", "stock": "7"},
        headers={"HX-Request": "true", "X-CSRF-Token": office.token()},
    )
    assert row.status_code == 200
    assert row.text.lstrip().startswith(f'<tr id="offer-{pid}">')
    assert 'value="39.90"' in row.text
    assert 'value="7"' in row.text
    # The row says it saved, and each field names its product for a screen reader.
    assert '<span class="notice-inline" role="status">Saved.</span>' in row.text
    assert '<span class="sr-only"> of V-0</span></label>' in row.text
    bad = office.web.post(
        f"/reseller/offers/{pid}",
        data={"price": "cheap", "stock": "7"},
        headers={"HX-Request": "true", "X-CSRF-Token": office.token()},
    )
    assert bad.status_code == 422
    assert "Write the price like 12.50." in bad.text
    assert "Saved." not in bad.text
    offer = marketplace.offers.offer(UUID(office.market.rhine.id), UUID(pid))
    assert (offer.price.amount, offer.stock) == (3_990, 7)
    history = re.findall(
        r"</time> ([^<]+)</li>", office.web.get(f"/reseller/offers/{pid}/history").text
    )
    assert history == ["Published", "Revised"]
    office.web.post(
        "/reseller/offers",
        data={
            "csrf_token": office.token(),
            "action": "withdraw",
            "product_id": [office.products[1]],
        },
    )
    settle(marketplace)
    rows = list(csv.DictReader(io.StringIO(office.web.get("/reseller/offers.csv").text)))
    listed_order = re.findall(
        r'<tr id="offer-([0-9a-f-]{36})">', office.web.get("/reseller/offers").text
    )
    assert [r["product_id"] for r in rows] == listed_order
    assert sorted((r["sku"], r["price"], r["stock"], r["status"]) for r in rows) == [
        ("V-0", "39.90", "7", "active"),
        ("V-1", "41.50", "10", "withdrawn"),
    ]
    listed = office.web.get("/reseller/offers?status=active").text
    assert "Valve 0" in listed
    assert "Valve 1" not in listed


def test_an_offer_import_reports_its_bad_lines(office: Office, marketplace: Marketplace) -> None:
    a, b, c = office.products
    text = (
        "product_id,price,currency,stock,lead_time_days,min_order_qty\n"
        f"{a},4000,EUR,5,2,1\n"
        f"{b},-1,EUR,5,2,1\n"
        f"{c},4100,EUR,5,2,1\n"
    )
    started = office.web.post(
        "/reseller/offers:import",
        data={"csrf_token": office.token("/reseller/imports")},
        files={"file": ("offers.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert started.status_code == 303
    deadline = time.monotonic() + 20
    while "running" in (page := office.web.get(started.headers["location"]).text):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "2 imported" in page
    assert re.findall(r'<td class="num">(\d+)</td>', page) == ["3"]


def test_a_customers_terms_change_the_prices_in_its_storefront(
    office: Office, world: World, marketplace: Marketplace
) -> None:
    _add(office, "V-2", "50.00")
    muster = office.market.muster
    world.ok(
        "POST",
        "/v1/buyer/users",
        muster,
        json={
            "name": "Anna",
            "role": "buyer",
            "email": "anna@muster.example",
            "password": PASSWORD,
        },
    )
    token = office.token("/reseller/customers")
    start = office.web.post(
        "/reseller/customers",
        data={"csrf_token": token, "buyer_id": muster.id},
        follow_redirects=False,
    )
    assert start.headers["location"] == f"/reseller/customers/{muster.id}"
    bad = office.web.post(
        f"/reseller/customers/{muster.id}",
        data={"csrf_token": token, "discount": "150", "credit_limit": "x"},
    )
    assert bad.status_code == 422
    assert "percentage from 0 to 99.99" in bad.text
    assert "allow at least one payment method" in bad.text.lower()
    saved = office.web.post(
        f"/reseller/customers/{muster.id}",
        data={
            "csrf_token": token,
            "discount": "10",
            "payment_methods": ["card", "invoice_net_30"],
            "credit_limit": "1000.00",
            "currency": "EUR",
            "fixed": "",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    settle(marketplace)
    listed = office.web.get("/reseller/customers").text
    assert "Muster GmbH" in listed
    assert "EUR 1,000.00" in listed
    with TestClient(create_app(marketplace, start=False)) as buyer:
        sign_in(buyer, "anna@muster.example")
        assert "EUR 45.00" in buyer.get("/catalog?q=V-2").text
    office.web.post(
        f"/reseller/customers/{muster.id}",
        data={
            "csrf_token": token,
            "discount": "10",
            "payment_methods": ["card"],
            "fixed": "V-2, 30.00",
            "currency": "EUR",
        },
    )
    settle(marketplace)
    with TestClient(create_app(marketplace, start=False)) as buyer:
        sign_in(buyer, "anna@muster.example")
        assert "EUR 30.00" in buyer.get("/catalog?q=V-2").text


def test_the_orders_role_cannot_touch_offers(
    office: Office, world: World, marketplace: Marketplace
) -> None:
    person(world, office.market.rhine, "orders@rhine.example", "orders")
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "orders@rhine.example")
        assert web.get("/reseller/offers").status_code == 403
        assert web.get("/reseller/customers").status_code == 403


def test_a_sales_rep_is_appointed_invited_and_given_accounts(
    office: Office, world: World, marketplace: Marketplace
) -> None:
    world.terms(office.market.rhine, office.market.muster)
    token = office.token("/reseller/reps")
    appointed = office.web.post(
        "/reseller/reps",
        data={"csrf_token": token, "name": "Erika", "email": "erika@rhine.example"},
    )
    assert appointed.status_code == 200
    link = re.search(r'id="invitation-link" href="[^"]*(/invitations/[^"]+)"', appointed.text)
    assert link
    settle(marketplace)
    page = office.web.get("/reseller/reps").text
    rep_id = re.search(r'action="/reseller/reps/([0-9a-f-]{36})"', page)
    assert rep_id
    office.web.post(
        f"/reseller/reps/{rep_id.group(1)}",
        data={"csrf_token": token, "buyer_id": [office.market.muster.id]},
    )
    settle(marketplace)
    assert re.search(
        rf'value="{office.market.muster.id}" checked', office.web.get("/reseller/reps").text
    )
    with TestClient(create_app(marketplace, start=False)) as rep:
        form = rep.get(link.group(1)).text
        csrf = TOKEN.search(form)
        assert csrf
        rep.post(
            link.group(1),
            data={"csrf_token": csrf.group(1), "password": PASSWORD, "password_again": PASSWORD},
        )
        assert "Order for Muster GmbH" in rep.get("/accounts").text
