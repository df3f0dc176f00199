"""The manufacturer's back office through its pages: products, imports, authorizations."""

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.test_people import TOKEN, sign_in
from tests.test_seller_orders_pages import person, settle
from tests.world import Market, World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
GOOD = "ACME-{n},Anchor {n},Acme,fasteners,{price},EUR,,,piece,steel"


@dataclass
class Office:
    web: TestClient
    world: World
    market: Market

    def token(self, path: str = "/manufacturer/products") -> str:
        found = TOKEN.search(self.web.get(path).text)
        assert found, path
        return found.group(1)


@pytest.fixture
def office(world: World, marketplace: Marketplace) -> Iterator[Office]:
    market = small_market(world)
    person(world, market.acme, "catalog@acme.example", "catalog")
    with TestClient(create_app(marketplace, start=False)) as web:
        assert sign_in(web, "catalog@acme.example").status_code == 303
        yield Office(web, world, market)


def _imported(office: Office, text: str, name: str = "products.csv") -> str:
    started = office.web.post(
        "/manufacturer/products:import",
        data={"csrf_token": office.token("/manufacturer/imports")},
        files={"file": (name, text.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    path = started.headers["location"]
    deadline = time.monotonic() + 20
    while "running" in (page := office.web.get(path).text) and time.monotonic() < deadline:
        time.sleep(0.1)
    return page


def test_an_import_reports_its_bad_lines_and_the_rest_are_listed(
    office: Office, marketplace: Marketplace
) -> None:
    rows = [GOOD.format(n=n, price=100 * n) for n in range(1, 6)]
    rows.insert(2, "ACME-X,,Acme,fasteners,100,EUR,,,,")  # line 4: no name
    rows.insert(4, "ACME-Y,Bolt,Acme,fasteners,ten,EUR,,,,")  # line 6: the price is no number
    header = "sku,name,brand,category,list_price,currency,map_price,gtin,unit,material"
    page = _imported(office, "\n".join([header, *rows]) + "\n")
    assert "completed" in page
    assert "5 imported" in page
    refused = re.findall(r'<td class="num">(\d+)</td><td>([^<]+)</td>', page)
    assert [line for line, _ in refused] == ["4", "6"]
    assert "name" in refused[0][1]
    assert "list_price.amount" in refused[1][1]
    settle(marketplace)
    listed = office.web.get("/manufacturer/products").text
    assert re.findall(r">(ACME-[^<]+)</a>", listed) == [f"ACME-{n}" for n in range(1, 6)]
    exported = list(csv.DictReader(io.StringIO(office.web.get("/manufacturer/products.csv").text)))
    assert [r["sku"] for r in exported] == [f"ACME-{n}" for n in range(1, 6)]
    assert exported[2]["list_price"] == "3.00"


def test_an_ndjson_import_and_a_file_with_nothing_in_it(office: Office) -> None:
    line = '{"sku": "N-1", "name": "Nut", "brand": "Acme", "category": "fasteners", '
    line += '"list_price": {"amount": 50, "currency": "EUR"}}'
    assert "1 imported" in _imported(office, line + "\n", "products.ndjson")
    empty = office.web.post(
        "/manufacturer/products:import",
        data={"csrf_token": office.token("/manufacturer/imports")},
        files={"file": ("empty.csv", b"sku,name\n", "text/csv")},
    )
    assert empty.status_code == 422
    assert "holds no product lines" in empty.text


def test_the_product_form_explains_each_bad_field_then_saves_and_discontinues(
    office: Office, marketplace: Marketplace
) -> None:
    token = office.token("/manufacturer/product")
    fields = {
        "sku": "DRILL-9",
        "name": "Drill",
        "brand": "Acme",
        "category": "power-tools",
        "list_price": "12.5x",
        "currency": "EURO",
        "map_price": "",
        "gtin": "",
        "unit": "",
    }
    bad = office.web.post("/manufacturer/product", data={"csrf_token": token, **fields})
    assert bad.status_code == 422
    assert re.search(r'id="e-list_price">[^<]*integer', bad.text)
    assert 'id="e-currency"' in bad.text
    saved = office.web.post(
        "/manufacturer/product",
        data={"csrf_token": token, **fields, "list_price": "12.50", "currency": "EUR"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    settle(marketplace)
    form = office.web.get("/manufacturer/product?sku=DRILL-9").text
    assert 'value="12.50"' in form
    office.web.post(
        "/manufacturer/products",
        data={"csrf_token": token, "action": "discontinue", "sku": ["DRILL-9"]},
    )
    settle(marketplace)
    assert "discontinued" in office.web.get("/manufacturer/products?status=discontinued").text
    assert "DRILL-9" not in office.web.get("/manufacturer/products?status=active").text


def test_authorizing_a_reseller_shows_how_many_products_it_offers(
    office: Office, marketplace: Marketplace
) -> None:
    world, market = office.world, office.market
    pid = world.product(market.acme, "AUTH-1")
    token = office.token("/manufacturer/authorizations")
    office.web.post(
        "/manufacturer/authorizations",
        data={"csrf_token": token, "reseller_id": market.rhine.id, "brands": "Acme, AcmePro"},
    )
    world.offer(market.rhine, pid, 900)
    settle(marketplace)
    page = office.web.get("/manufacturer/authorizations").text
    row = re.search(r"<td>Rhine Supply</td>(.*?)</tr>", page, re.S)
    assert row
    assert "Acme, AcmePro" in row.group(1)
    assert re.search(r'data-label="Offers">1</td>', row.group(1))


def test_another_role_or_another_seller_sees_nothing(
    office: Office, world: World, marketplace: Marketplace
) -> None:
    person(world, office.market.acme, "orders@acme.example", "orders")
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "orders@acme.example")
        assert web.get("/manufacturer/products").status_code == 403
    person(world, office.market.rhine, "admin@rhine.example", "admin")
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "admin@rhine.example")
        assert web.get("/manufacturer/products").status_code == 403
