"""The operator's back office through its pages: dashboard charts, accounts, commissions,
orders and projections; and a support person who can change nothing."""

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from projections.catalog_view import CatalogFilter
from tests.test_people import PASSWORD, TOKEN, sign_in
from tests.test_seller_orders_pages import _needs, settle
from tests.world import Market, World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


def operator_person(world: World, email: str, role: str) -> None:
    world.ok(
        "POST",
        "/v1/operator/users",
        world.operator,
        json={"name": role.title(), "email": email, "password": PASSWORD, "role": role},
    )


@pytest.fixture
def office(world: World, marketplace: Marketplace) -> Iterator[tuple[TestClient, Market]]:
    market = small_market(world)
    operator_person(world, "ops@market.example", "admin")
    with TestClient(create_app(marketplace, start=False)) as web:
        assert sign_in(web, "ops@market.example").status_code == 303
        yield web, market


def token(web: TestClient, path: str) -> str:
    found = TOKEN.search(web.get(path).text)
    assert found, path
    return found.group(1)


def _orders(world: World, market: Market) -> list[dict[str, Any]]:
    product = world.product(market.acme, "CH-1")
    world.offer(market.rhine, product, 1_250)
    world.offer(market.danube, product, 1_300)
    world.terms(market.rhine, market.muster)
    world.terms(market.danube, market.bolt)
    placed = []
    for buyer, quantity in ((market.muster, 2), (market.bolt, 3), (market.muster, 1)):
        body = {"lines": [{"product_id": product, "quantity": quantity}], "payment_method": "card"}
        placed.append(world.ok("POST", "/v1/buyer/orders", buyer, json=body))
    return placed


def test_the_charts_are_the_views_figures(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    web, market = office
    _orders(world, market)
    settle(marketplace)
    page = web.get("/operator").text
    today = datetime.now(UTC).date().isoformat()
    day = re.search(rf'id="gmv-day-EUR".*?data-label="{today}" data-value="(\d+)"', page, re.S)
    assert day
    sellers = re.search(r'id="gmv-seller-EUR"(.*?)</svg>', page, re.S)
    assert sellers
    per_seller = dict(re.findall(r'data-label="([^"]+)" data-value="(\d+)"', sellers.group(1)))
    expected = {
        r["key"]: r["gmv"]
        for r in marketplace.order_lists.per_seller(today)
        if r["currency"] == "EUR"
    }
    assert int(day.group(1)) == sum(expected.values()) == 2 * 1_250 + 3 * 1_300 + 1_250
    assert per_seller == {
        "Rhine Supply": str(expected[market.rhine.id]),
        "Danube Distribution": str(expected[market.danube.id]),
    }
    orders = re.search(
        rf'id="orders-day-EUR".*?data-label="{today}" data-value="(\d+)"', page, re.S
    )
    assert orders
    assert orders.group(1) == "3"
    # Each chart has its axes: the value axis from zero to the top bar, in the chart's
    # unit; the days below the bars by date; the sellers below theirs by name.
    axis = dict.fromkeys(("gmv-day-EUR", "gmv-seller-EUR", "orders-day-EUR"), "")
    for chart in axis:
        found = re.search(rf'id="{chart}"(.*?)</svg>', page, re.S)
        assert found
        axis[chart] = found.group(1)
    labels = {c: re.findall(r"<text[^>]*>([^<]+)</text>", svg) for c, svg in axis.items()}
    top = max(expected.values())
    assert labels["gmv-seller-EUR"][:3] == [
        "EUR 0.00",
        f"EUR {top / 200:.2f}",
        f"EUR {top / 100:.2f}",
    ]
    assert set(labels["gmv-seller-EUR"][3:]) == {"Rhine Supply", "Danube Distribution"}
    assert labels["orders-day-EUR"][:3] == ["0", "2", "3"]
    assert today in labels["orders-day-EUR"][3:]
    assert len(labels["gmv-day-EUR"][3:]) >= 4  # a date every week and the last day


def test_an_account_is_approved_then_suspended_and_its_offers_leave(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    web, market = office
    pending = world.reseller("Late Supply", kind="wholesaler", approve=False)
    settle(marketplace)
    dashboard = web.get("/operator").text
    assert "Late Supply" in dashboard
    listed = web.get("/operator/accounts?status=pending").text
    assert "Late Supply" in listed
    path = f"/operator/accounts/{pending.id}"
    # The account says what kind of seller it signed up as.
    assert "<dt>Kind</dt><dd>wholesaler</dd>" in web.get(path).text
    csrf = token(web, path)
    web.post(f"{path}/approve", data={"csrf_token": csrf, "reason": "papers checked"})
    world.authorize(market.acme, pending)
    product = world.product(market.acme, "LATE-1")
    world.offer(pending, product, 990)
    world.terms(pending, market.muster)
    settle(marketplace)
    items = marketplace.catalog.page(market.muster.id, CatalogFilter(), 10, None)[0]
    assert [i["sku"] for i in items] == ["LATE-1"]
    suspended = web.post(f"{path}/suspend", data={"csrf_token": csrf, "reason": "fraud"})
    assert "The account is suspended" in suspended.text
    history = re.findall(r"</time> ([^<]+)</li>", suspended.text)
    assert history == ["Signed up", "Approved: papers checked", "Suspended: fraud"]
    settle(marketplace)
    assert marketplace.catalog.page(market.muster.id, CatalogFilter(), 10, None)[0] == []
    again = web.post(f"{path}/approve", data={"csrf_token": csrf})
    assert "reinstate it instead" in again.text


def test_commissions_are_read_set_and_exported(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    web, market = office
    csrf = token(web, "/operator/commissions")
    web.post(f"/operator/commissions/{market.rhine.id}", data={"csrf_token": csrf, "rate": "8"})
    bad = web.post(
        f"/operator/commissions/{market.rhine.id}", data={"csrf_token": csrf, "rate": "200"}
    )
    assert "a percentage from 0 to 100" in bad.text
    placed = _orders(world, market)
    for order in placed[:1]:
        [so] = order["seller_orders"]
        path = f"/v1/reseller/orders/{so['seller_order_id']}"
        for step in ("accept", "ship", "deliver"):
            world.ok("POST", f"{path}/{step}", market.rhine)
    settle(marketplace)
    page = web.get("/operator/commissions").text
    assert "EUR 25.00" in page  # GMV of the delivered order
    assert "EUR 2.00" in page  # 8 % of it
    rows = list(csv.DictReader(io.StringIO(web.get("/operator/commissions.csv").text)))
    assert rows == [
        {
            "reseller_id": market.rhine.id,
            "reseller": "Rhine Supply",
            "currency": "EUR",
            "gmv": "25.00",
            "commission": "2.00",
            "seller_orders": "1",
        }
    ]
    assert "Muster GmbH" in web.get("/operator/orders").text


def test_a_projection_is_rebuilt_from_the_button(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    web, market = office
    _orders(world, market)
    settle(marketplace)
    before = marketplace.order_lists.orders(50, None)[0]
    csrf = token(web, "/operator/projections")
    started = web.post("/operator/projections/orders/rebuild", data={"csrf_token": csrf})
    assert started.status_code == 200
    deadline = time.monotonic() + 60
    while "rebuilding" in web.get("/operator/projections").text:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    settle(marketplace)
    assert marketplace.order_lists.orders(50, None)[0] == before
    statuses = {row["name"]: row["status"] for row in marketplace.projections.status()}
    assert statuses["orders"] != "rebuilding"


def test_support_reads_everything_and_changes_nothing(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    _, market = office
    pending = world.reseller("Late Supply", approve=False)
    operator_person(world, "support@market.example", "support")
    before = marketplace.heads()
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "support@market.example")
        for page in (
            "/operator",
            "/operator/accounts",
            "/operator/orders",
            "/operator/commissions",
            "/operator/projections",
            f"/operator/accounts/{pending.id}",
        ):
            assert web.get(page).status_code == 200, page
        csrf = token(web, "/operator")
        for form in (
            f"/operator/accounts/{pending.id}/approve",
            f"/operator/accounts/{market.rhine.id}/suspend",
            f"/operator/commissions/{market.rhine.id}",
            "/operator/projections/catalog/rebuild",
        ):
            refused = web.post(form, data={"csrf_token": csrf, "rate": "5", "reason": "x"})
            assert refused.status_code == 403, form
            assert "support role reads" in refused.text
    assert marketplace.heads() == before
    assert marketplace.sellers.reseller(UUID(pending.id)).status == "pending"


def test_admins_invite_and_disable_their_people(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    web, market = office
    csrf = token(web, "/team")
    invited = web.post(
        "/team",
        data={"csrf_token": csrf, "name": "Sue", "email": "sue@market.example", "role": "support"},
    )
    link = re.search(r'id="invitation-link" href="[^"]*(/invitations/[^"]+)"', invited.text)
    assert link
    taken = web.post(
        "/team",
        data={"csrf_token": csrf, "name": "Sue", "email": "SUE@market.example", "role": "support"},
    )
    assert taken.status_code == 422
    assert "already in use" in taken.text
    with TestClient(create_app(marketplace, start=False)) as sue:
        form = TOKEN.search(sue.get(link.group(1)).text)
        assert form
        sue.post(
            link.group(1),
            data={"csrf_token": form.group(1), "password": PASSWORD, "password_again": PASSWORD},
        )
        assert "ops@market.example" in sue.get("/team").text
        refused = sue.post(
            "/team",
            data={
                "csrf_token": token(sue, "/team"),
                "name": "X",
                "email": "x@market.example",
                "role": "admin",
            },
        )
        assert refused.status_code == 403
    settle(marketplace)
    page = web.get("/team").text
    sue_id = re.search(r'action="/team/([0-9a-f-]{36})/disable"', page)
    assert sue_id
    assert re.search(r"sue@market.example</td>.*?active", page, re.S)
    web.post(f"/team/{sue_id.group(1)}/disable", data={"csrf_token": csrf})
    with TestClient(create_app(marketplace, start=False)) as sue:
        assert sign_in(sue, "sue@market.example").status_code == 401
    # A seller's admin manages only its own people.
    world.ok(
        "POST",
        "/v1/seller/users",
        market.rhine,
        json={"name": "Rolf", "email": "rolf@rhine.example", "password": PASSWORD, "role": "admin"},
    )
    with TestClient(create_app(marketplace, start=False)) as rolf:
        sign_in(rolf, "rolf@rhine.example")
        assert "sue@market.example" not in rolf.get("/team").text
        other = rolf.post(
            f"/team/{sue_id.group(1)}/enable", data={"csrf_token": token(rolf, "/team")}
        )
        assert other.status_code == 404


def test_the_accounts_and_orders_exports_are_the_filtered_lists(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    web, market = office
    world.reseller("Late Supply", approve=False)
    _orders(world, market)
    settle(marketplace)
    listed = re.findall(
        r'href="/operator/accounts/([0-9a-f-]{36})"',
        web.get("/operator/accounts?role=reseller").text,
    )
    rows = list(csv.DictReader(io.StringIO(web.get("/operator/accounts.csv?role=reseller").text)))
    assert [r["id"] for r in rows] == listed
    assert {(r["name"], r["status"]) for r in rows} == {
        ("Danube Distribution", "approved"),
        ("Late Supply", "pending"),
        ("Rhine Supply", "approved"),
    }
    orders = list(csv.DictReader(io.StringIO(web.get("/operator/orders.csv").text)))
    assert len(orders) == 3
    assert sorted(r["total"] for r in orders) == ["12.50", "25.00", "39.00"]
    shown = re.findall(r"<td>([0-9a-f]{8})</td>", web.get("/operator/orders").text)
    assert [r["order_id"][:8] for r in orders] == shown


def test_the_home_page_counts_accounts_to_approve_and_orders_waiting(
    office: tuple[TestClient, Market], world: World, marketplace: Marketplace
) -> None:
    web, market = office
    settle(marketplace)
    before = _needs(web.get("/").text)
    world.reseller("Elbe Trade", approve=False)
    world.buyer("Pending Buyer AG", approve=False)
    _orders(world, market)
    settle(marketplace)
    after = _needs(web.get("/").text)
    assert after["accounts to approve"] == before["accounts to approve"] + 2
    assert after["seller orders waiting for their seller"] == 3
    assert after["invoices overdue"] == 0
    pending = web.get("/operator/accounts?status=pending").text
    assert "Elbe Trade" in pending
    assert "Pending Buyer AG" in pending
