"""Quotes accepted into orders at the quoted prices, through the same placement as any order
(service level; the HTTP routes and pages are still to come)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from marketplace.kernel.errors import Conflict, DomainError, Invalid
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from tests.world import World, small_market

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
