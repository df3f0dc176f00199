"""Events stored under an older version of their class are still read, upcast."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent
from immutables import Map

from marketplace.adapters.settings import Settings
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.domain import ImportJob, Offer
from orders.domain import Order


def _as_stored_before(
    stored: StoredEvent, rewrite: Callable[[dict[str, Any]], None]
) -> StoredEvent:
    """The event as an older version of its class stored it: its state rewritten."""
    state = json.loads(stored.state)
    rewrite(state)
    return StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode()
    )


@pytest.fixture
def marketplace(tmp_path: Path) -> Iterator[Marketplace]:
    """The embedded marketplace alone: these tests write events as older versions stored them."""
    market = Marketplace(Settings(database_url=f"sqlite:///{tmp_path}/m.db", operator_key="op"))
    yield market
    market.close()


def test_an_offer_stored_before_minimum_quantities_existed_reads_as_one_unit(
    marketplace: Marketplace,
) -> None:
    app = marketplace.offers
    current = Offer(
        reseller_id=uuid4(),
        product_id=uuid4(),
        price=Money(500, "EUR"),
        tiers=[],
        stock=3,
        lead_time_days=2,
        min_order_qty=7,
    )
    [published] = current.collect_events()
    stored = app.mapper.to_stored_event(published)

    def version_1(state: dict[str, Any]) -> None:
        del state["min_order_qty"]
        del state["class_version"]

    app.recorder.insert_events([_as_stored_before(stored, version_1)])

    offer: Offer = app.repository.get(current.id)
    assert isinstance(offer, Offer)
    assert (offer.min_order_qty, offer.stock) == (1, 3)
    [event] = marketplace.events.read("offers", 0, 10)
    assert event["type"] == "Offer.Published"
    assert event["data"]["min_order_qty"] == 1


def test_an_import_job_stored_when_only_manufacturers_imported_reads_as_a_product_import(
    marketplace: Marketplace,
) -> None:
    app = marketplace.offers
    maker = uuid4()
    current = ImportJob(maker, "products", 12)
    [started] = current.collect_events()
    stored = app.mapper.to_stored_event(started)

    def version_1(state: dict[str, Any]) -> None:
        # It named the owner manufacturer_id and had no kind.
        state["manufacturer_id"] = state.pop("owner_id")
        del state["kind"]
        del state["class_version"]

    app.recorder.insert_events([_as_stored_before(stored, version_1)])
    job = marketplace.imports.job(current.id, maker)
    assert (job.owner_id, job.kind, job.total, job.status) == (maker, "products", 12, "running")


def test_a_long_lived_offer_loads_from_its_snapshot_with_the_same_state(tmp_path: Path) -> None:
    from uuid import UUID

    from offers.application import OfferDetails
    from offers.pricing import Tier
    from tests.distributed import Seller

    settings = Settings(database_url=f"sqlite:///{tmp_path}/m.db", operator_key="op")
    marketplace = Marketplace(settings)
    try:
        seller = Seller(marketplace, offers=1)
        product: UUID = seller.products[0]
        marketplace.offers.put_offer(
            seller.reseller,
            product,
            OfferDetails(Money(900, "EUR"), [Tier(10, Money(800, "EUR"))], 5, 2, 1),
        )
        for quantity in range(250):
            marketplace.offers.set_stock(seller.reseller, product, quantity)
            if quantity in (100, 150, 180):
                held = marketplace.offers.offer(seller.reseller, product)
                held.reserve(f"line-{quantity}", 3)
                marketplace.offers.save(held)
        shipped = marketplace.offers.offer(seller.reseller, product)
        shipped.ship("line-150", 1)
        shipped.release("line-180")
        marketplace.offers.save(shipped)
        live = marketplace.offers.offer(seller.reseller, product)
        assert live.version > 200
        assert marketplace.offers.snapshots is not None
        assert list(marketplace.offers.snapshots.get(live.id))
    finally:
        marketplace.close()
    # A new process, with no cache, rebuilds the offer from its latest snapshot onwards.
    reopened = Marketplace(settings)
    try:
        offer = reopened.offers.offer(seller.reseller, product)
        assert (offer.version, offer.stock, offer.tiers, offer.price) == (
            live.version,
            252,
            [Tier(10, Money(800, "EUR"))],
            Money(900, "EUR"),
        )
        assert dict(offer.reservations) == {"line-100": 3, "line-150": 2}
        offer.release("line-100")
        assert (offer.stock, dict(offer.reservations)) == (255, {"line-150": 2})
    finally:
        reopened.close()


def test_an_order_stored_before_cost_centres_existed_books_to_none(
    marketplace: Marketplace,
) -> None:
    app = marketplace.orders
    current = Order(
        id=uuid4(),
        buyer_id=uuid4(),
        placed_by={"kind": "buyer_user"},
        payment_method="card",
        po_number=None,
        shipping_address=None,
        lines=[],
        seller_order_ids=[],
        cost_centre_id=uuid4(),
    )
    [drafted] = current.collect_events()
    stored = app.mapper.to_stored_event(drafted)

    def version_1(state: dict[str, Any]) -> None:
        del state["cost_centre_id"]
        del state["class_version"]

    app.recorder.insert_events([_as_stored_before(stored, version_1)])
    order: Order = app.repository.get(current.id)
    assert order.cost_centre_id is None
    [event] = marketplace.events.read("orders", 0, 10)
    assert event["data"]["cost_centre_id"] is None


def test_an_offer_snapshotted_when_its_reservations_were_a_dict_holds_ships_and_releases(
    marketplace: Marketplace,
) -> None:
    from offers.application import OfferDetails
    from tests.distributed import Seller

    app = marketplace.offers
    seller = Seller(marketplace, offers=1)
    product = seller.products[0]
    app.put_offer(seller.reseller, product, OfferDetails(Money(900, "EUR"), [], 10, 2, 1))
    offer = app.offer(seller.reseller, product)
    offer.reserve("line-1", 2)
    offer.reserve("line-2", 3)
    app.save(offer)
    app.take_snapshot(offer.id)
    assert app.snapshots is not None
    [stored] = app.snapshots.recorder.select_events(offer.id, desc=True, limit=1)

    def reservations_as_a_plain_object(state: dict[str, Any]) -> None:
        reservations = state["state"]["reservations"]
        assert reservations["_type_"] == "map"
        state["state"]["reservations"] = reservations["_data_"]

    snapshot = app.mapper.to_domain_event(_as_stored_before(stored, reservations_as_a_plain_object))
    assert isinstance(snapshot, Snapshot)
    loaded = snapshot.mutate(None)
    assert isinstance(loaded, Offer)
    assert not isinstance(loaded.reservations, Map)

    loaded.ship("line-1", 1)
    loaded.release("line-2")
    loaded.reserve("line-3", 4)

    assert (loaded.stock, dict(loaded.reservations)) == (5 + 3 - 4, {"line-1": 1, "line-3": 4})
