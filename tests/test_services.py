"""The order rules through the application services alone, on in-memory stores: placing and
splitting, credit, approval, rerouting, shipping and invoicing, budgets, quotes, payments and
returns. The same rules are tested end to end over HTTP on SQLite and PostgreSQL; here each
is tested where it lives, in milliseconds."""

from uuid import UUID

import pytest

from marketplace.kernel.errors import DomainError, Refusal
from orders.billing.payments import PaymentIn
from tests.memory import Services
from tests.seeding import eur


@pytest.fixture
def m() -> Services:
    return Services()


def _two_sellers(m: Services) -> tuple[UUID, UUID, list[UUID], tuple[UUID, UUID]]:
    rhine, danube = m.reseller("Rhine"), m.reseller("Danube")
    valve, pump = m.product("VALVE"), m.product("PUMP")
    m.offer(rhine, valve, 1_000, stock=10)
    m.offer(danube, valve, 1_100, stock=10)
    m.offer(danube, pump, 5_000, stock=3)
    buyer = m.buyer()
    m.terms(rhine, buyer[0])
    m.terms(danube, buyer[0])
    return rhine, danube, [valve, pump], buyer


def test_one_order_splits_into_a_seller_order_per_reseller_and_holds_their_stock(
    m: Services,
) -> None:
    rhine, danube, (valve, pump), buyer = _two_sellers(m)
    order = m.place(buyer, [(valve, 4), (pump, 2)])
    described = m.described(order)
    assert described["status"] == "placed"
    by_seller = {so["reseller_id"]: so for so in described["seller_orders"]}
    assert set(by_seller) == {str(rhine), str(danube)}
    assert by_seller[str(rhine)]["total"] == {"amount": 4_000, "currency": "EUR"}
    assert by_seller[str(danube)]["total"] == {"amount": 10_000, "currency": "EUR"}
    assert m.stock(rhine, valve) == 6
    assert m.stock(danube, pump) == 1
    # Asking for more than any one seller has is refused whole, and holds nothing.
    with pytest.raises(DomainError) as refused:
        m.place(buyer, [(valve, 1), (pump, 2)])
    assert refused.value.reason == Refusal.CONFLICT
    assert m.stock(rhine, valve) == 6


def test_orders_on_invoice_stop_at_the_credit_limit_and_card_orders_do_not(m: Services) -> None:
    rhine = m.reseller("Rhine")
    valve = m.product("VALVE")
    m.offer(rhine, valve, 1_000)
    buyer = m.buyer()
    m.terms(rhine, buyer[0], credit_limit=5_000)
    m.place(buyer, [(valve, 3)], "invoice_net_30")
    with pytest.raises(DomainError) as refused:
        m.place(buyer, [(valve, 3)], "invoice_net_30")
    assert refused.value.reason == Refusal.CREDIT
    assert m.stock(rhine, valve) == 97
    m.place(buyer, [(valve, 3)], "card")
    m.place(buyer, [(valve, 2)], "invoice_net_30")
    assert m.terms_of(rhine, buyer[0]).credit_left == 0


def test_an_order_over_the_spending_limit_waits_and_a_rejection_gives_the_stock_back(
    m: Services,
) -> None:
    rhine, _, (valve, _), buyer = _two_sellers(m)
    approver = m.buyers.add_user(buyer[0], "Approver", "approver", None, "mk_b_approver")
    waiting = m.place(buyer, [(valve, 5)], spending_limit=4_000)
    assert m.described(waiting)["status"] == "pending_approval"
    [so] = m.orders.seller_orders(m.orders.order(waiting.id))
    assert not so.released
    assert so.actions == []
    assert m.stock(rhine, valve) == 5
    m.approvals.reject(waiting.id, buyer[0], approver)
    assert m.described(waiting)["status"] == "rejected"
    assert m.stock(rhine, valve) == 10
    approved = m.place(buyer, [(valve, 2)], spending_limit=1_000)
    m.approvals.approve(approved.id, buyer[0], approver)
    [so] = m.orders.seller_orders(m.orders.order(approved.id))
    assert so.released
    assert so.actions == ["accept", "refuse", "cancel"]


def test_a_refused_seller_order_is_rerouted_to_the_next_best_offer(m: Services) -> None:
    rhine, danube, (valve, _), buyer = _two_sellers(m)
    order = m.place(buyer, [(valve, 4)])
    [first] = m.orders.seller_orders(m.orders.order(order.id))
    assert first.reseller_id == rhine
    m.fulfilment.refuse(rhine, first.id, "out of stock after all")
    described = m.described(order)
    statuses = {so["reseller_id"]: so["status"] for so in described["seller_orders"]}
    assert statuses == {str(rhine): "refused", str(danube): "awaiting_acceptance"}
    assert m.stock(rhine, valve) == 10
    assert m.stock(danube, valve) == 6
    [rerouted] = [so for so in described["seller_orders"] if so["reseller_id"] == str(danube)]
    assert rerouted["total"] == {"amount": 4_400, "currency": "EUR"}


def test_each_shipment_is_invoiced_once_and_a_seller_order_moves_only_as_its_table_allows(
    m: Services,
) -> None:
    rhine, _, (valve, _), buyer = _two_sellers(m)
    order = m.place(buyer, [(valve, 5)], "invoice_net_30")
    [so] = m.orders.seller_orders(m.orders.order(order.id))
    with pytest.raises(DomainError) as early:
        m.fulfilment.ship(rhine, so.id, None, None)
    assert early.value.reason == Refusal.CONFLICT
    m.fulfilment.accept(rhine, so.id)
    m.fulfilment.ship(rhine, so.id, {valve: 2}, "DHL-1")
    assert m.orders.seller_order(so.id, rhine).actions == ["ship"]
    m.fulfilment.ship(rhine, so.id, None, "DHL-2")
    shipped = m.orders.seller_order(so.id, rhine)
    assert shipped.status == "shipped"
    assert shipped.actions == ["deliver"]
    invoices = m.billing.invoices_of(so.id)
    assert sorted(i.total for i in invoices) == [2_000, 3_000]
    assert {i.due_on for i in invoices} == {"2026-12-31"}
    m.fulfilment.deliver(rhine, so.id)
    assert m.described(order)["status"] == "delivered"


def test_a_blocking_budget_refuses_what_it_cannot_cover_and_counts_what_it_did(
    m: Services,
) -> None:
    rhine, _, (valve, _), buyer = _two_sellers(m)
    centre = m.buyers.add_cost_centre(buyer[0], "Plant", "P1", [])
    budget = m.budgeting.create(buyer[0], centre, eur(5_000), "2026-12-01", "2026-12-31", "block")
    m.place(buyer, [(valve, 3)], cost_centre_id=centre)
    with pytest.raises(DomainError):
        m.place(buyer, [(valve, 3)], cost_centre_id=centre)
    figures = m.budgeting.budget(budget.id, buyer[0]).describe()
    assert figures["reserved"]["amount"] + figures["consumed"]["amount"] == 3_000
    assert figures["remaining"] == {"amount": 2_000, "currency": "EUR"}
    assert m.stock(rhine, valve) == 7


def test_an_accepted_quote_is_placed_at_the_quoted_price(m: Services) -> None:
    rhine, _, (valve, _), buyer = _two_sellers(m)
    quote = m.quoting.request(buyer[0], str(buyer[1]), rhine, [(valve, 8)], "bulk", None)
    m.quoting.offer(
        rhine,
        quote.id,
        [{"product_id": str(valve), "quantity": 8, "unit_price": eur(900), "lead_time_days": 5}],
        "2026-12-10T00:00:00+00:00",
        None,
    )
    order = m.quoting.accept(
        buyer[0],
        {"kind": "buyer_user", "user_id": str(buyer[1]), "name": "Buyer"},
        None,
        quote.id,
        "card",
        None,
        None,
    )
    [so] = m.described(order)["seller_orders"]
    assert so["reseller_id"] == str(rhine)
    assert so["lines"][0]["unit_price"] == {"amount": 900, "currency": "EUR"}
    assert m.quoting.quote(quote.id, buyer_id=buyer[0]).stage == "ordered"
    # Past its validity a quote can no longer be accepted.
    late = m.quoting.request(buyer[0], str(buyer[1]), rhine, [(valve, 1)], None, None)
    m.quoting.offer(
        rhine,
        late.id,
        [{"product_id": str(valve), "quantity": 1, "unit_price": eur(950), "lead_time_days": 5}],
        "2026-12-02T00:00:00+00:00",
        None,
    )
    m.later(5)
    with pytest.raises(DomainError):
        m.quoting.accept(
            buyer[0],
            {"kind": "buyer_user", "user_id": str(buyer[1]), "name": "Buyer"},
            None,
            late.id,
            "card",
            None,
            None,
        )


def test_a_payment_pays_the_oldest_invoice_first_and_keeps_the_rest_as_credit(
    m: Services,
) -> None:
    rhine, _, (valve, _), buyer = _two_sellers(m)
    m.terms(rhine, buyer[0], credit_limit=10_000)
    invoices = []
    for quantity in (2, 3):
        order = m.place(buyer, [(valve, quantity)], "invoice_net_30")
        [so] = m.orders.seller_orders(m.orders.order(order.id))
        m.fulfilment.accept(rhine, so.id)
        m.fulfilment.ship(rhine, so.id, None, None)
        invoices += m.billing.invoices_of(so.id)
        m.later(1)
    assert m.terms_of(rhine, buyer[0]).credit_exposure == 5_000
    payment, _ = m.payments.record(PaymentIn(buyer[0], eur(2_500), "BANK-1", "2026-12-05"))
    assert payment.unallocated == 0
    first, second = (m.billing.invoice(i.id) for i in invoices)
    assert first.balance == 0
    assert second.balance == 2_500
    more, _ = m.payments.record(PaymentIn(buyer[0], eur(3_000), "BANK-2", "2026-12-06"))
    assert m.billing.invoice(second.id).balance == 0
    assert more.unallocated == 500
    # The credit hold came down as the invoices were paid.
    assert m.terms_of(rhine, buyer[0]).credit_exposure == 0


def test_an_accepted_return_credits_the_invoice_and_restocks(m: Services) -> None:
    rhine, _, (valve, _), buyer = _two_sellers(m)
    order = m.place(buyer, [(valve, 4)], "invoice_net_30")
    [so] = m.orders.seller_orders(m.orders.order(order.id))
    m.fulfilment.accept(rhine, so.id)
    m.fulfilment.ship(rhine, so.id, None, None)
    m.fulfilment.deliver(rhine, so.id)
    asked = m.returns.request(buyer[0], str(buyer[1]), so.id, {valve: 1}, "cracked")
    with pytest.raises(DomainError):
        m.returns.request(buyer[0], str(buyer[1]), so.id, {valve: 4}, "all of them")
    accepted = m.returns.accept(rhine, asked.id, restock=True)
    assert accepted.status == "accepted"
    [invoice] = m.billing.invoices_of(so.id)
    assert m.billing.invoice(invoice.id).credited == 1_000
    assert m.stock(rhine, valve) == 7
