"""The pure rules, without a database: pricing, catalog scope and authorization, credit, and
the seller order's lifecycle. They run in well under a second."""

from uuid import uuid4

import pytest

from marketplace.kernel.errors import Conflict, CreditExceeded, DomainError
from marketplace.kernel.money import Money
from offers.domain import CatalogScope, CustomerTerms
from offers.pricing import Tier, discounted, unit_price
from orders.domain import SellerOrder, commission, order_status, order_total, over_limit
from sellers.domain import Authorization


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


TIERS = [Tier(10, eur(900)), Tier(100, eur(800))]


def test_the_tier_for_the_quantity_sets_the_price() -> None:
    assert unit_price(eur(1_000), TIERS, 1) == eur(1_000)
    assert unit_price(eur(1_000), TIERS, 9) == eur(1_000)
    assert unit_price(eur(1_000), TIERS, 10) == eur(900)
    assert unit_price(eur(1_000), TIERS, 99) == eur(900)
    assert unit_price(eur(1_000), TIERS, 100) == eur(800)


def test_a_discount_rounds_to_the_nearest_minor_unit_halves_up() -> None:
    assert discounted(1_005, 1_000) == 905  # 904.5
    assert discounted(1_004, 1_000) == 904  # 903.6
    assert discounted(1_001, 1_000) == 901  # 900.9
    assert discounted(999, 50) == 994  # 994.005
    assert unit_price(eur(1_000), TIERS, 10, discount_bps=1_000) == eur(810)


def test_a_fixed_price_wins_over_tiers_and_discount() -> None:
    price = unit_price(eur(1_000), TIERS, 100, discount_bps=2_500, fixed_price=eur(777))
    assert price == eur(777)


def test_no_price_falls_below_the_minimum_advertised_price() -> None:
    assert unit_price(eur(1_000), TIERS, 100, discount_bps=5_000, map_price=eur(600)) == eur(600)
    assert unit_price(eur(1_000), [], 1, fixed_price=eur(100), map_price=eur(600)) == eur(600)
    assert unit_price(eur(1_000), [], 1, map_price=eur(600)) == eur(1_000)


def test_a_catalog_scope_narrows_by_every_list_given() -> None:
    drill = uuid4()
    assert CatalogScope(None).admits(drill, "Acme", "tools")
    assert CatalogScope({}).admits(drill, "Acme", "tools")
    both = CatalogScope({"brands": ["Acme"], "categories": ["tools"]})
    assert both.admits(drill, "Acme", "tools")
    assert not both.admits(drill, "Acme", "paper")
    assert not both.admits(drill, "Bolt", "tools")
    only = CatalogScope({"product_ids": [str(drill)]})
    assert only.admits(drill, "Any", "thing")
    assert not only.admits(uuid4(), "Any", "thing")
    assert not CatalogScope({"brands": []}).admits(drill, "Acme", "tools")


def test_an_authorization_covers_brands_and_categories_and_ends_when_revoked() -> None:
    everything = Authorization(uuid4(), uuid4(), None, None)
    assert everything.covers("Acme", "tools")
    narrow = Authorization(uuid4(), uuid4(), ["Acme"], ["tools"])
    assert narrow.covers("Acme", "tools")
    assert not narrow.covers("Acme", "paper")
    assert not narrow.covers("Bolt", "tools")
    narrow.revoke()
    assert not narrow.covers("Acme", "tools")


def _terms(limit: Money | None) -> CustomerTerms:
    return CustomerTerms(uuid4(), uuid4(), None, 0, {}, ["invoice_net_30"], limit)


def test_credit_is_held_once_per_order_within_the_limit_and_freed() -> None:
    terms = _terms(eur(10_000))
    terms.use_credit("so-1", eur(6_000))
    terms.use_credit("so-1", eur(6_000))  # asked twice, held once
    assert terms.credit_left == 4_000
    with pytest.raises(CreditExceeded):
        terms.use_credit("so-2", eur(4_001))
    terms.use_credit("so-2", eur(4_000))
    assert terms.credit_left == 0
    terms.free_credit("so-1")
    terms.free_credit("so-1")
    assert terms.credit_left == 6_000


def test_terms_without_a_limit_set_no_ceiling_and_a_limit_keeps_its_currency() -> None:
    unlimited = _terms(None)
    unlimited.use_credit("so-1", eur(10**12))
    assert unlimited.credit_left is None
    with pytest.raises(DomainError):
        _terms(eur(10_000)).use_credit("so-1", Money(10, "USD"))


def test_an_order_needs_approval_over_the_limit_or_in_another_currency() -> None:
    assert not over_limit(None, [eur(10**9)])
    assert not over_limit(eur(1_000), [eur(1_000)])
    assert over_limit(eur(1_000), [eur(1_001)])
    assert over_limit(eur(1_000), [Money(1, "USD")])


def test_closed_seller_orders_leave_the_total_except_on_a_rejected_order() -> None:
    seller_orders = [("accepted", eur(500)), ("refused", eur(300)), ("shipped", Money(7, "USD"))]
    assert order_total("placed", seller_orders) == [eur(500), Money(7, "USD")]
    assert order_total("rejected", seller_orders) == [eur(800), Money(7, "USD")]
    assert commission(12_345, 1_250) == 1_543  # 1543.125
    assert commission(10_004, 1_250) == 1_251  # 1250.5


def test_an_order_status_follows_its_seller_orders() -> None:
    assert order_status("placed", ["awaiting_acceptance", "accepted"]) == "placed"
    assert order_status("placed", ["shipped", "accepted"]) == "partially_shipped"
    assert order_status("placed", ["shipped", "refused"]) == "shipped"
    assert order_status("placed", ["delivered", "cancelled"]) == "delivered"
    assert order_status("placed", ["refused", "cancelled"]) == "cancelled"
    assert order_status("pending_approval", ["awaiting_acceptance"]) == "pending_approval"


def status_of(so: SellerOrder) -> str:
    return so.status


def _seller_order(*quantities: int) -> SellerOrder:
    products = [uuid4() for _ in quantities]
    so = SellerOrder(
        id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        reseller_id=uuid4(),
        payment_method="card",
        commission_bps=1_000,
        lines=[
            {"product_id": p, "quantity": q, "unit_price": eur(100), "shipped": 0}
            for p, q in zip(products, quantities, strict=True)
        ],
    )
    return so


def test_a_seller_order_moves_only_along_its_lifecycle() -> None:
    so = _seller_order(3, 2)
    [first, second] = [line.product_id for line in so.lines]
    # Nothing happens before the buyer's side releases it.
    with pytest.raises(Conflict):
        so.accept()
    so.release()
    with pytest.raises(Conflict):
        so.ship(None, None)
    so.accept()
    with pytest.raises(Conflict):
        so.accept()
    # Part of it ships; then it can no longer be cancelled, only shipped in full.
    assert so.ship({first: 1}, "T-1") == {first: 1}
    assert status_of(so) == "partially_shipped"
    with pytest.raises(Conflict):
        so.cancel("changed my mind")
    with pytest.raises(Conflict):
        so.deliver()
    assert so.ship(None, "T-2") == {first: 2, second: 2}
    assert status_of(so) == "shipped"
    with pytest.raises(Conflict):
        so.ship(None, None)
    so.deliver()
    assert status_of(so) == "delivered"
    assert so.tracking == ["T-1", "T-2"]


def test_a_seller_order_ships_no_more_than_was_ordered() -> None:
    so = _seller_order(2)
    so.release()
    so.accept()
    [product] = [line.product_id for line in so.lines]
    with pytest.raises(DomainError):
        so.ship({product: 3}, None)
    with pytest.raises(DomainError):
        so.ship({uuid4(): 1}, None)
    assert status_of(so) == "accepted"


def test_a_refused_or_cancelled_seller_order_stays_closed() -> None:
    refused = _seller_order(1)
    refused.release()
    refused.refuse("out of stock")
    with pytest.raises(Conflict):
        refused.accept()
    refused.cancel("platform", by_platform=True)
    assert refused.status == "refused"
    cancelled = _seller_order(1)
    cancelled.release()
    cancelled.cancel("buyer called")
    assert cancelled.status == "cancelled"
    with pytest.raises(Conflict):
        cancelled.refuse("too late")
