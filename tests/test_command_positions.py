"""A command's answer names the event logs' heads as they stood once it was done. Where its
events are saved together, the heads are read in the same round trip as the commit; any
other write after that makes the answer read them afresh."""

from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from marketplace.adapters.eventstore import noting_heads, save_together
from marketplace.platform import Marketplace
from tests.world import World, small_market

pytestmark = pytest.mark.parametrize("settings", ["postgres"], indirect=True)


def test_an_orders_answer_names_the_heads_read_in_its_saves_round_trip(
    world: World, marketplace: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=5)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    fresh_reads: list[str] = []
    token_of = marketplace.position_token

    def position_token(heads: dict[str, int] | None = None) -> str:
        if heads is None:
            fresh_reads.append("heads read for the answer")
        return token_of(heads)

    monkeypatch.setattr(marketplace, "position_token", position_token)

    placed = world.call(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={"lines": [{"product_id": drill, "quantity": 2}], "payment_method": "card"},
    )

    assert placed.status_code == 201, placed.text
    assert fresh_reads == []
    token = placed.headers["X-Marketplace-Position"]
    assert marketplace.tokens.open(token) == marketplace.heads()
    listed = world.call("GET", "/v1/buyer/orders", m.muster, params={"min_position": token})
    assert [o["order_id"] for o in listed.json()["items"]] == [placed.json()["order_id"]]


def _offer_of(world: World, marketplace: Marketplace) -> tuple[UUID, UUID]:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 1_000, stock=5)
    return UUID(m.rhine.id), UUID(drill)


def test_a_write_after_the_saves_round_trip_drops_the_heads_it_read(
    world: World, marketplace: Marketplace
) -> None:
    reseller, drill = _offer_of(world, marketplace)
    offers = marketplace.offers
    with noting_heads(marketplace.contexts) as note:
        offer = offers.offer(reseller, drill)
        offer.set_stock(7)
        save_together([(offers, [offer])])
        assert note.heads == marketplace.heads()

        offers.set_stock(reseller, drill, 8)

        assert note.heads is None
    assert offers.offer(reseller, drill).stock == 8


def test_a_conflicting_save_reads_no_heads_and_leaves_its_connection_usable(
    world: World, marketplace: Marketplace
) -> None:
    reseller, drill = _offer_of(world, marketplace)
    offers = marketplace.offers
    stale = offers.offer(reseller, drill)
    offers.set_stock(reseller, drill, 9)
    before = marketplace.heads()
    with noting_heads(marketplace.contexts) as note:
        stale.set_stock(1)
        with pytest.raises(IntegrityError):
            save_together([(offers, [stale])])
        assert note.heads is None
        assert marketplace.heads() == before

        fresh = offers.offer(reseller, drill)
        fresh.set_stock(3)
        save_together([(offers, [fresh])])
        assert note.heads == marketplace.heads() != before
    assert offers.offer(reseller, drill).stock == 3
