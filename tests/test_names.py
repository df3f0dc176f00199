"""Pages show accounts by name: one read of the views for a whole list, sellers and buyers
alike, and the aggregate for an account the views do not hold."""

import uuid

import pytest

from marketplace.pages.names import names_of
from marketplace.platform import Marketplace
from tests.test_seller_orders_pages import settle
from tests.world import World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_a_list_of_accounts_is_named_in_one_read_of_the_views(
    world: World, marketplace: Marketplace
) -> None:
    m = small_market(world)
    settle(marketplace)
    ids = [m.acme.id, m.rhine.id, m.danube.id, m.muster.id, m.bolt.id]
    expected = {
        m.acme.id: "Acme",
        m.rhine.id: "Rhine Supply",
        m.danube.id: "Danube Distribution",
        m.muster.id: "Muster GmbH",
        m.bolt.id: "Bolt Works",
    }
    assert marketplace.catalog.account_names(ids) == expected
    assert marketplace.catalog.account_names([]) == {}
    # An id the views do not hold falls back to the event store (here: nobody at all).
    stranger = str(uuid.uuid4())
    assert names_of(marketplace, [*ids, stranger, m.rhine.id]) == {**expected, stranger: stranger}
