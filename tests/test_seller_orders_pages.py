"""The reseller's seller orders as a work queue in the back office, through its pages."""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.test_people import PASSWORD, TOKEN, sign_in
from tests.world import Actor, Market, World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@dataclass
class OrdersOffice:
    web: TestClient
    world: World
    market: Market
    products: list[str]

    def token(self, path: str = "/reseller/orders") -> str:
        found = TOKEN.search(self.web.get(path).text)
        assert found, path
        return found.group(1)

    def order(self, buyer: Actor, lines: list[tuple[int, int]]) -> dict[str, Any]:
        body = {
            "lines": [{"product_id": self.products[i], "quantity": q} for i, q in lines],
            "payment_method": "card",
        }
        placed: dict[str, Any] = self.world.ok("POST", "/v1/buyer/orders", buyer, json=body)
        first: dict[str, Any] = placed["seller_orders"][0]
        return first


def person(world: World, seller: Actor, email: str, role: str) -> None:
    world.ok(
        "POST",
        "/v1/seller/users",
        seller,
        json={"name": role.title(), "email": email, "password": PASSWORD, "role": role},
    )


@pytest.fixture
def office(world: World, marketplace: Marketplace) -> Iterator[OrdersOffice]:
    market = small_market(world)
    products = [world.product(market.acme, f"P-{i}", name=f"Pump {i}") for i in range(3)]
    for pid in products:
        world.offer(market.rhine, pid, 1_000, stock=50)
        world.offer(market.danube, pid, 1_100, stock=50)
    for buyer in (market.muster, market.bolt):
        world.terms(market.rhine, buyer)
        world.terms(market.danube, buyer)
    person(world, market.rhine, "orders@rhine.example", "orders")
    with TestClient(create_app(marketplace, start=False)) as web:
        assert sign_in(web, "orders@rhine.example").status_code == 303
        yield OrdersOffice(web, world, market, products)


def settle(marketplace: Marketplace) -> None:
    for view in marketplace.projections.names:
        assert marketplace.projections.wait(view, marketplace.heads(), 10, deliver=True)


def test_the_queue_accepts_and_refuses_several_at_once(
    office: OrdersOffice, marketplace: Marketplace
) -> None:
    first = office.order(office.market.muster, [(0, 2)])
    second = office.order(office.market.bolt, [(1, 1)])
    third = office.order(office.market.muster, [(2, 3)])
    settle(marketplace)
    queue = office.web.get("/reseller/orders?status=awaiting_acceptance").text
    for so in (first, second, third):
        assert so["seller_order_id"][:8] in queue
    assert "Muster GmbH" in queue
    assert "Bolt Works" in queue
    token = office.token()
    no_reason = office.web.post(
        "/reseller/orders",
        data={
            "csrf_token": token,
            "decision": "refuse",
            "seller_order_id": [third["seller_order_id"]],
        },
    )
    assert no_reason.status_code == 422
    assert "give the buyer a reason" in no_reason.text.lower()
    accepted = office.web.post(
        "/reseller/orders",
        data={
            "csrf_token": token,
            "decision": "accept",
            "seller_order_id": [first["seller_order_id"], second["seller_order_id"]],
        },
    )
    assert accepted.status_code == 200
    assert "2 order(s) accepted." in accepted.text
    refused = office.web.post(
        "/reseller/orders",
        data={
            "csrf_token": token,
            "decision": "refuse",
            "reason": "out of pumps",
            "seller_order_id": [third["seller_order_id"], first["seller_order_id"]],
        },
    )
    assert refused.status_code == 200
    statuses = {
        so["seller_order_id"]: marketplace.orders.seller_order(UUID(so["seller_order_id"])).status
        for so in (first, second, third)
    }
    assert statuses == {
        first["seller_order_id"]: "refused",
        second["seller_order_id"]: "accepted",
        third["seller_order_id"]: "refused",
    }
    # The refused lines went to the buyer's next best offer: Danube.
    order = marketplace.orders.describe(marketplace.orders.order(UUID(third["order_id"])))
    assert {so["reseller_id"] for so in order["seller_orders"]} == {
        office.market.rhine.id,
        office.market.danube.id,
    }


def test_an_order_ships_in_parts_with_tracking_then_is_delivered(
    office: OrdersOffice, marketplace: Marketplace
) -> None:
    so = office.order(office.market.muster, [(0, 4), (1, 2)])
    path = f"/reseller/orders/{so['seller_order_id']}"
    token = office.token(path)
    assert office.web.post(f"{path}/accept", data={"csrf_token": token}).status_code == 200
    too_many = office.web.post(
        f"{path}/ship", data={"csrf_token": token, f"ship_{office.products[0]}": "5"}
    )
    assert too_many.status_code == 422
    assert "only 4" in too_many.text.lower()
    part = office.web.post(
        f"{path}/ship",
        data={"csrf_token": token, f"ship_{office.products[0]}": "3", "tracking": "DHL-1"},
    )
    assert part.status_code == 200
    assert "partially shipped" in part.text
    rest = office.web.post(
        f"{path}/ship", data={"csrf_token": token, "all": "1", "tracking": "DHL-2"}
    )
    assert "shipped" in rest.text
    delivered = office.web.post(f"{path}/deliver", data={"csrf_token": token})
    history = re.findall(r"</time> ([^<]+)</li>", delivered.text)
    times = "\N{MULTIPLICATION SIGN}"
    assert history[-4:] == [
        "Accepted by the seller",
        f"Shipped 3 {times} Pump 0 with tracking DHL-1",
        f"Shipped 1 {times} Pump 0, 2 {times} Pump 1 with tracking DHL-2",
        "Delivered",
    ]
    assert marketplace.orders.seller_order(UUID(so["seller_order_id"])).status == "delivered"


def test_the_csv_export_is_the_filtered_queue(
    office: OrdersOffice, marketplace: Marketplace
) -> None:
    for i in range(3):
        office.order(office.market.muster, [(i, i + 1)])
    settle(marketplace)
    listed = re.findall(
        r'href="/reseller/orders/([0-9a-f-]{36})"', office.web.get("/reseller/orders").text
    )
    rows = list(csv.DictReader(io.StringIO(office.web.get("/reseller/orders.csv").text)))
    assert [r["seller_order_id"] for r in rows] == listed
    assert [r["items"] for r in rows] == ["3", "2", "1"]
    assert {r["total"] for r in rows} == {"30.00", "20.00", "10.00"}
    assert (
        list(
            csv.DictReader(io.StringIO(office.web.get("/reseller/orders.csv?status=shipped").text))
        )
        == []
    )


def test_only_the_orders_role_works_the_queue_of_its_own_seller(
    office: OrdersOffice, world: World, marketplace: Marketplace
) -> None:
    so = office.order(office.market.muster, [(0, 1)])
    person(world, office.market.rhine, "catalog@rhine.example", "catalog")
    person(world, office.market.danube, "orders@danube.example", "orders")
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "catalog@rhine.example")
        assert web.get("/reseller/orders").status_code == 403
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "orders@danube.example")
        other = web.get(f"/reseller/orders/{so['seller_order_id']}")
        assert other.status_code == 404
        token = TOKEN.search(web.get("/reseller/orders").text)
        assert token
        taken = web.post(
            f"/reseller/orders/{so['seller_order_id']}/accept",
            data={"csrf_token": token.group(1)},
        )
        assert taken.status_code == 404
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "orders@rhine.example")
        assert web.get("/catalog").status_code == 403
    assert marketplace.orders.seller_order(UUID(so["seller_order_id"])).status == (
        "awaiting_acceptance"
    )


def test_finance_reads_the_commissions_and_nothing_else(
    office: OrdersOffice, world: World, marketplace: Marketplace
) -> None:
    world.ok(
        "PUT",
        f"/v1/operator/resellers/{office.market.rhine.id}/commission",
        world.operator,
        json={"rate_bps": 1000},
    )
    so = office.order(office.market.muster, [(0, 3)])
    path = f"/reseller/orders/{so['seller_order_id']}"
    token = office.token(path)
    for step, data in (("accept", {}), ("ship", {"all": "1"}), ("deliver", {})):
        office.web.post(f"{path}/{step}", data={"csrf_token": token, **data})
    person(world, office.market.rhine, "finance@rhine.example", "finance")
    settle(marketplace)
    with TestClient(create_app(marketplace, start=False)) as web:
        sign_in(web, "finance@rhine.example")
        page = web.get("/reseller/commissions").text
        assert "EUR 30.00" in page  # sales
        assert "EUR 3.00" in page  # 10 % commission
        assert "EUR 27.00" in page  # the reseller's
        rows = list(csv.DictReader(io.StringIO(web.get("/reseller/commissions.csv").text)))
        assert rows == [
            {
                "currency": "EUR",
                "seller_orders": "1",
                "gmv": "30.00",
                "commission": "3.00",
                "net": "27.00",
            }
        ]
        assert web.get("/reseller/orders").status_code == 403
        assert web.get("/reseller/offers").status_code == 403


def _needs(page: str) -> dict[str, int]:
    return {
        label.strip(): int(count)
        for count, label in re.findall(r'<strong class="count">(\d+)</strong>([^<]+)</a>', page)
    }


def test_the_home_page_counts_what_waits_for_the_seller_and_links_to_it(
    office: OrdersOffice, marketplace: Marketplace
) -> None:
    home = office.web.get("/")
    assert "still to come" not in home.text
    assert _needs(home.text)["seller orders to accept"] == 0
    assert "Nothing waits for you now." in home.text
    first = office.order(office.market.muster, [(0, 2)])
    office.order(office.market.bolt, [(1, 1)])
    settle(marketplace)
    needs = _needs(office.web.get("/").text)
    assert needs["seller orders to accept"] == 2
    assert needs["seller orders to ship"] == 0
    assert needs["quotes to answer"] == 0
    # An orders person does not see the finance figures.
    assert "invoices overdue" not in needs
    office.world.ok(
        "POST", f"/v1/reseller/orders/{first['seller_order_id']}/accept", office.market.rhine
    )
    settle(marketplace)
    needs = _needs(office.web.get("/").text)
    assert needs["seller orders to accept"] == 1
    assert needs["seller orders to ship"] == 1
    queue = office.web.get("/reseller/orders?status=awaiting_acceptance").text
    assert queue.count("<tr") - 1 == 1
