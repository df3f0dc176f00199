"""Quotes accepted into orders at the quoted prices, through the same placement as any order
(service level; the HTTP routes and pages are still to come)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from marketplace.kernel.errors import Conflict, DomainError, Invalid
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.test_people import PASSWORD, csrf, sign_in
from tests.test_seller_orders_pages import settle
from tests.world import World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_a_quote_negotiated_over_two_versions_is_ordered_at_the_quoted_price(
    world: World, marketplace: Marketplace
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL", map_price=700)
    world.offer(m.rhine, drill, 1_000, stock=500)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    buyer, rhine, pid = UUID(m.muster.id), UUID(m.rhine.id), UUID(drill)
    quoting = marketplace.quoting
    asked = quoting.request(buyer, "u", rhine, [(pid, 200)], "site build", None)
    later = (datetime.now(UTC) + timedelta(days=7)).isoformat()

    def line(price: int) -> dict[str, object]:
        return {
            "product_id": drill,
            "quantity": 200,
            "unit_price": Money(price, "EUR"),
            "lead_time_days": 4,
        }

    with pytest.raises(Invalid, match="minimum advertised price"):
        quoting.offer(rhine, asked.id, [line(600)], later, None)
    quoting.offer(rhine, asked.id, [line(900)], later, "volume price")
    renegotiating = quoting.quote(asked.id)
    renegotiating.renegotiate("850?", datetime.now(UTC).isoformat())
    marketplace.orders.save(renegotiating)
    quoting.offer(rhine, asked.id, [line(850)], later, "deal")

    def accept(_: int) -> str:
        try:
            quoting.accept(
                buyer,
                {"kind": "buyer_user", "user_id": m.muster.user_id or ""},
                None,
                asked.id,
                "card",
                None,
                None,
            )
            return "ordered"
        except DomainError as error:
            return error.reason.value

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(accept, range(4)))
    assert outcomes.count("ordered") == 1, outcomes
    quote = quoting.quote(asked.id)
    assert quote.stage == "ordered"
    assert quote.order_id is not None
    order = marketplace.orders.describe(marketplace.orders.order(quote.order_id))
    [so] = order["seller_orders"]
    assert so["lines"][0]["unit_price"] == {"amount": 850, "currency": "EUR"}
    assert so["lines"][0]["quantity"] == 200
    with pytest.raises(Conflict):
        quoting.accept(buyer, {"kind": "buyer_user"}, None, asked.id, "card", None, None)


def test_a_quote_negotiated_over_the_api_and_one_that_expires(world: World) -> None:
    world.ok("PUT", "/v1/operator/clock", world.operator, json={"now": "2027-05-10T09:00:00+00:00"})
    m = small_market(world)
    drill = world.product(m.acme, "DRILL", map_price=700)
    world.offer(m.rhine, drill, 1_000, stock=500)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    rep = world.sales_rep(m.rhine, [m.muster])
    asked = world.ok(
        "POST",
        "/v1/buyer/quotes",
        m.muster,
        json={
            "reseller_id": m.rhine.id,
            "lines": [{"product_id": drill, "quantity": 300}],
            "comment": "site",
        },
    )
    assert asked["status"] == "submitted"
    path = asked["quote_id"]

    def offer(actor: object, prefix: str, price: int, valid_to: str) -> Any:
        return world.call(
            "POST",
            f"/v1/{prefix}/quotes/{path}/offer",
            actor,  # type: ignore[arg-type]
            json={
                "lines": [
                    {
                        "product_id": drill,
                        "quantity": 300,
                        "unit_price": eur(price),
                        "lead_time_days": 6,
                    }
                ],
                "valid_to": valid_to,
                "comment": f"at {price}",
            },
        )

    assert offer(m.rhine, "reseller", 650, "2027-05-20T00:00:00+00:00").status_code == 422
    first = offer(m.rhine, "reseller", 900, "2027-05-20T00:00:00+00:00")
    assert first.json() == {"quote_id": path, "status": "offered", "version": 1}
    world.ok("POST", f"/v1/buyer/quotes/{path}/renegotiate", m.muster, json={"comment": "850?"})
    assert offer(rep, "sales-rep", 850, "2027-05-20T00:00:00+00:00").json()["version"] == 2
    seen = world.view("/v1/sales-rep/quotes", rep).json()["items"]
    assert [q["quote_id"] for q in seen] == [path]
    placed = world.ok(
        "POST", f"/v1/buyer/quotes/{path}/accept", m.muster, json={"payment_method": "card"}
    )
    assert placed["seller_orders"][0]["lines"][0]["unit_price"] == eur(850)
    got = world.ok("GET", f"/v1/buyer/quotes/{path}", m.muster)
    assert (got["status"], got["version"], got["order_id"]) == ("ordered", 2, placed["order_id"])
    assert [v["lines"][0]["unit_price"] for v in got["versions"]] == [eur(900), eur(850)]
    again = world.call(
        "POST", f"/v1/buyer/quotes/{path}/accept", m.muster, json={"payment_method": "card"}
    )
    assert again.status_code == 409
    assert (
        world.call("POST", f"/v1/buyer/quotes/{path}/cancel", m.muster, json={}).status_code == 409
    )

    # An offer past its valid_to has expired: it cannot be accepted.
    other = world.ok(
        "POST",
        "/v1/buyer/quotes",
        m.muster,
        json={"reseller_id": m.rhine.id, "lines": [{"product_id": drill, "quantity": 10}]},
    )["quote_id"]
    path = other
    offer(m.rhine, "reseller", 950, "2027-05-11T00:00:00+00:00")
    world.ok("PUT", "/v1/operator/clock", world.operator, json={"now": "2027-05-12T09:00:00+00:00"})
    late = world.call(
        "POST", f"/v1/buyer/quotes/{other}/accept", m.muster, json={"payment_method": "card"}
    )
    assert late.status_code == 409
    expired = world.view("/v1/buyer/quotes", m.muster, status="expired").json()["items"]
    assert [q["quote_id"] for q in expired] == [other]
    stranger = world.buyer("Other AG")
    assert world.call("GET", f"/v1/buyer/quotes/{other}", stranger).status_code == 404


def test_a_sales_rep_answers_its_accounts_quotes_in_the_pages(
    world: World, marketplace: Marketplace
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=500)
    world.terms(m.rhine, m.muster)
    world.terms(m.rhine, m.bolt)
    made = world.ok(
        "POST",
        "/v1/reseller/sales-reps",
        m.rhine,
        json={"name": "Erika", "email": "erika@rhine.example", "password": PASSWORD},
    )
    world.ok(
        "PUT",
        f"/v1/reseller/sales-reps/{made['id']}/accounts",
        m.rhine,
        json={"buyer_ids": [m.muster.id]},
    )
    mine = world.ok(
        "POST",
        "/v1/buyer/quotes",
        m.muster,
        json={"reseller_id": m.rhine.id, "lines": [{"product_id": drill, "quantity": 5}]},
    )["quote_id"]
    theirs = world.ok(
        "POST",
        "/v1/buyer/quotes",
        m.bolt,
        json={"reseller_id": m.rhine.id, "lines": [{"product_id": drill, "quantity": 5}]},
    )["quote_id"]
    settle(marketplace)
    web = TestClient(create_app(marketplace, start=False))
    web.__enter__()
    assert sign_in(web, "erika@rhine.example").status_code == 303
    listed = web.get("/rep/quotes").text
    assert mine[:8] in listed
    assert theirs[:8] not in listed
    assert web.get(f"/rep/quotes/{theirs}").status_code == 403
    path = f"/rep/quotes/{mine}"
    sent = web.post(
        f"{path}/offer",
        data={
            "csrf_token": csrf(web, path),
            f"price_{drill}": "9.50",
            f"quantity_{drill}": "5",
            f"lead_{drill}": "3",
            "valid_to": "2999-01-01",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    got = world.ok("GET", f"/v1/buyer/quotes/{mine}", m.muster)
    assert (got["status"], got["lines"][0]["unit_price"]) == ("offered", eur(950))
