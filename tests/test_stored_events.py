"""Stored events read straight from their JSON equal the library's reading of them."""

from pathlib import Path

from fastapi.testclient import TestClient

from bench.load import load
from bench.orders import market
from bench.world import SCALES, generate
from marketplace.adapters.envelope import envelope
from marketplace.adapters.settings import Settings
from marketplace.adapters.stored import plain_state, to_envelope
from marketplace.platform import Marketplace
from marketplace.web.app import create_app


def test_every_stored_event_reads_the_same_straight_and_through_the_library(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/m.db", operator_key="op-key")
    marketplace = Marketplace(settings)
    try:
        # Products with and without MAP prices, offers with tiers, terms with fixed prices
        # and scopes, and a three-way split order with its seller orders.
        load(marketplace, generate(SCALES["tiny"]))
        key, products = market(marketplace)
        with TestClient(create_app(marketplace)) as client:
            body = {"lines": [{"product_id": p, "quantity": 2} for p in products]}
            response = client.post(
                "/v1/buyer/orders",
                json={**body, "payment_method": "card"},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == 201, response.text
        read, straight, types = 0, 0, set()
        for context, app in marketplace.projections.events.apps.items():
            for stored in app.recorder.select_notifications(start=0, limit=1_000_000):
                expected = envelope(context, stored.id, app.mapper.to_domain_event(stored))
                assert to_envelope(app.mapper, context, stored.id, stored) == expected
                read += 1
                if plain_state(app.mapper, stored) is not None:
                    straight += 1
                    types.add(expected["type"])
        assert straight == read > 1_000
        assert {"Offer.Published", "Product.Published", "CustomerTerms.Agreed"} <= types
        assert {"Order.Drafted", "SellerOrder.Drafted"} & types
    finally:
        marketplace.close()
