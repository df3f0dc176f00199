"""Settlement refuses bad input and changes nothing; payments and payout cycles that race
never allocate or pay twice."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from marketplace.kernel.errors import DomainError
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.holds import Holds
from orders.billing.domain import Allocation, Invoice
from orders.billing.invoicing import Invoicing
from orders.billing.payments import PaymentIn, Payments
from orders.billing.returns import Returns
from orders.domain import SellerOrder
from orders.fulfilment import Fulfilment
from projections.billing import TABLES as BILLING_TABLES
from tests.test_seller_orders_pages import settle
from tests.world import Actor, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@dataclass
class Billed:
    buyer: Actor
    seller: Actor
    drill: str
    seller_order: str
    invoice: dict[str, Any]


def billed(world: World, quantity: int = 4, deliver: bool = True) -> Billed:
    """A buyer with one delivered invoice order of drills at 100.00 each."""
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    world.offer(m.rhine, drill, 100_00)
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=1_000_000)
    world.catalog(m.muster)
    placed = world.ok(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={
            "lines": [{"product_id": drill, "quantity": quantity}],
            "payment_method": "invoice_net_30",
        },
    )
    so = placed["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{so}/ship", m.rhine)
    if deliver:
        world.ok("POST", f"/v1/reseller/orders/{so}/deliver", m.rhine)
    [invoice] = world.view("/v1/buyer/invoices", m.muster).json()["items"]
    return Billed(m.muster, m.rhine, drill, so, invoice)


def unchanged(market: Marketplace, act: Callable[[], Any]) -> Any:
    before = market.heads()
    result = act()
    assert market.heads() == before
    return result


def test_payments_in_the_wrong_currency_negative_or_to_unknown_invoices_record_nothing(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world)

    def pay(body: dict[str, Any]) -> int:
        status: int = world.call(
            "POST", "/v1/operator/payments", world.operator, json=body
        ).status_code
        return status

    good = {
        "buyer_id": b.buyer.id,
        "amount": eur(100_00),
        "reference": "R",
        "received_on": "2026-01-01",
    }
    assert (
        unchanged(
            marketplace, lambda: pay({**good, "amount": {"amount": 100_00, "currency": "USD"}})
        )
        == 422
    )
    assert unchanged(marketplace, lambda: pay({**good, "amount": eur(-5)})) == 422
    assert unchanged(marketplace, lambda: pay({**good, "amount": eur(0)})) == 422
    assert unchanged(marketplace, lambda: pay({**good, "received_on": "yesterday"})) == 422
    unknown = {**good, "allocations": [{"invoice_id": str(UUID(int=7)), "amount": 100_00}]}
    assert unchanged(marketplace, lambda: pay(unknown)) == 404
    too_much = {**good, "allocations": [{"invoice_id": b.invoice["invoice_id"], "amount": 500_00}]}
    assert unchanged(marketplace, lambda: pay(too_much)) == 422
    stranger = {**good, "buyer_id": str(UUID(int=9))}
    assert unchanged(marketplace, lambda: pay(stranger)) == 404
    usd = {"amount": 100_00, "currency": "USD"}
    mixed = {**good, "allocations": [{"invoice_id": b.invoice["invoice_id"], "amount": usd}]}
    assert unchanged(marketplace, lambda: pay(mixed)) == 422
    # An allocation's amount may be given as money too.
    as_money = {
        **good,
        "allocations": [{"invoice_id": b.invoice["invoice_id"], "amount": eur(100_00)}],
    }
    paid = world.ok("POST", "/v1/operator/payments", world.operator, json=as_money)
    assert paid["allocated"] == [{"invoice_id": b.invoice["invoice_id"], "amount": eur(100_00)}]
    # Another buyer's invoice is unknown to this buyer's payment.
    other = world.buyer("Other AG")
    theirs = {**unknown, "buyer_id": other.id}
    theirs["allocations"] = [{"invoice_id": b.invoice["invoice_id"], "amount": 100_00}]
    assert unchanged(marketplace, lambda: pay(theirs)) == 404


def test_a_retried_payment_with_its_idempotency_key_is_recorded_once(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world)
    body = {
        "buyer_id": b.buyer.id,
        "amount": eur(150_00),
        "reference": "R",
        "received_on": "2026-01-01",
    }
    headers = {"Idempotency-Key": "pay-1"}
    first = world.ok("POST", "/v1/operator/payments", world.operator, json=body, headers=headers)
    again = world.ok("POST", "/v1/operator/payments", world.operator, json=body, headers=headers)
    assert again == first
    [invoice] = world.view("/v1/buyer/invoices", b.buyer).json()["items"]
    assert invoice["paid"] == eur(150_00)
    assert invoice["balance"] == eur(250_00)


def test_returns_of_more_than_was_delivered_or_not_delivered_are_refused(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world, quantity=4)

    def ask(lines: list[dict[str, Any]], so: str | None = None) -> int:
        body = {"seller_order_id": so or b.seller_order, "lines": lines, "reason": "broken"}
        status: int = world.call("POST", "/v1/buyer/returns", b.buyer, json=body).status_code
        return status

    assert unchanged(marketplace, lambda: ask([{"product_id": b.drill, "quantity": 5}])) == 422
    assert (
        unchanged(marketplace, lambda: ask([{"product_id": str(UUID(int=3)), "quantity": 1}]))
        == 422
    )
    assert (
        unchanged(
            marketplace, lambda: ask([{"product_id": b.drill, "quantity": 1}], str(UUID(int=4)))
        )
        == 404
    )
    # Three returned, then only one more may be asked for.
    assert ask([{"product_id": b.drill, "quantity": 3}]) == 201
    assert unchanged(marketplace, lambda: ask([{"product_id": b.drill, "quantity": 2}])) == 422
    assert ask([{"product_id": b.drill, "quantity": 1}]) == 201


def test_a_return_is_decided_once_and_only_by_its_seller(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world)
    asked = world.ok(
        "POST",
        "/v1/buyer/returns",
        b.buyer,
        json={
            "seller_order_id": b.seller_order,
            "lines": [{"product_id": b.drill, "quantity": 1}],
            "reason": "x",
        },
    )
    path = f"/v1/reseller/returns/{asked['return_id']}"
    other = world.reseller("Other Seller")
    assert world.call("POST", f"{path}/accept", other, json={}).status_code == 404
    accepted = world.ok("POST", f"{path}/accept", b.seller, json={})
    # The invoice was not paid: the credit note lowers its balance.
    assert accepted["credit_note"]["amount"] == eur(100_00)
    assert (
        world.call("POST", f"{path}/refuse", b.seller, json={"reason": "late"}).status_code == 409
    )
    assert world.call("POST", f"{path}/accept", b.seller, json={}).status_code == 409
    [invoice] = world.view("/v1/buyer/invoices", b.buyer).json()["items"]
    assert invoice["credited"] == eur(100_00)
    assert invoice["balance"] == eur(300_00)


def test_the_clock_moves_only_where_it_is_controllable(
    world: World, marketplace: Marketplace
) -> None:
    marketplace.clock.controllable = False
    refused = world.call(
        "PUT", "/v1/operator/clock", world.operator, json={"now": "2030-01-01T00:00:00Z"}
    )
    assert refused.status_code == 403
    marketplace.clock.controllable = True
    buyer = world.buyer("Clockless")
    assert (
        world.call(
            "PUT", "/v1/operator/clock", buyer, json={"now": "2030-01-01T00:00:00Z"}
        ).status_code
        == 403
    )


def test_two_payments_racing_for_one_invoice_never_allocate_more_than_its_balance(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world)
    invoice_id = UUID(b.invoice["invoice_id"])
    outcomes: list[str] = []

    def pay(reference: str) -> None:
        payment = PaymentIn(
            UUID(b.buyer.id),
            Money(300_00, "EUR"),
            reference,
            "2026-01-01",
            [Allocation(invoice_id, 300_00)],
        )
        try:
            marketplace.payments.record(payment)
            outcomes.append("recorded")
        except DomainError as error:
            outcomes.append(str(error.detail))

    racers = [threading.Thread(target=pay, args=(f"R{i}",)) for i in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert outcomes.count("recorded") == 1, outcomes
    invoice = marketplace.billing.invoice(invoice_id)
    assert invoice.paid == 300_00
    assert invoice.balance == 100_00


def test_two_payout_cycles_at_once_pay_once(world: World, marketplace: Marketplace) -> None:
    b = billed(world)
    world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": b.buyer.id,
            "amount": eur(400_00),
            "reference": "R",
            "received_on": "2026-01-01",
        },
    )
    made: list[int] = []

    def cycle() -> None:
        made.extend(p.amount for p in marketplace.payouts.run("2026-12-31"))

    racers = [threading.Thread(target=cycle) for _ in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert made == [400_00]
    payouts = world.view("/v1/operator/payouts", world.operator).json()["items"]
    assert [p["amount"] for p in payouts] == [eur(400_00)]


class CutOffInvoicing(Invoicing):
    """Invoicing as a crash leaves it: the payment saved, the credit not yet released."""

    def settle_credit(self, seller_order_ids: list[UUID]) -> None:
        pass


class CutOffReturns(Returns):
    """Returns as a crash leaves them: accepted, the goods not yet back in stock."""

    def finish(self, return_id: UUID) -> None:
        pass


def test_housekeeping_releases_credit_and_restocks_what_a_crash_cut_off(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world)
    so = UUID(b.seller_order)
    terms = marketplace.offers.terms(UUID(b.seller.id), UUID(b.buyer.id))
    assert terms is not None
    assert terms.credit_used[str(so)] == 400_00
    stock = marketplace.offers.offer(UUID(b.seller.id), UUID(b.drill)).stock
    holds = Holds(marketplace.offers)
    cut_off = CutOffInvoicing(
        marketplace.billing, marketplace.orders, holds, marketplace.clock.today
    )
    payment = PaymentIn(UUID(b.buyer.id), Money(150_00, "EUR"), "R", "2026-01-01")
    Payments(marketplace.billing, cut_off).record(payment)
    asked = marketplace.returns.request(UUID(b.buyer.id), "u", so, {UUID(b.drill): 1}, "broken")
    returns = CutOffReturns(marketplace.billing, marketplace.orders, holds, cut_off, cut_off.today)
    returns.accept(UUID(b.seller.id), asked.id, restock=True)
    settle(marketplace)
    terms = marketplace.offers.terms(UUID(b.seller.id), UUID(b.buyer.id))
    assert terms is not None
    assert terms.credit_used[str(so)] == 400_00
    assert marketplace.offers.offer(UUID(b.seller.id), UUID(b.drill)).stock == stock

    # The next housekeeping round finishes both, and a second one changes nothing more.
    marketplace.resettle(timedelta(minutes=10))
    marketplace.resettle(timedelta(minutes=10))
    terms = marketplace.offers.terms(UUID(b.seller.id), UUID(b.buyer.id))
    assert terms is not None
    assert terms.credit_used[str(so)] == 400_00 - 150_00 - 100_00
    assert marketplace.offers.offer(UUID(b.seller.id), UUID(b.drill)).stock == stock + 1


class NoInvoices(Invoicing):
    """Invoicing as a crash leaves it: the shipment saved, its invoice not yet issued."""

    def invoice_shipment(self, so: SellerOrder, version: int, shipped: dict[str, int]) -> Invoice:
        raise SystemExit("the process died here")


def test_a_shipment_whose_invoice_a_crash_cut_off_is_invoiced_once_by_housekeeping(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world, quantity=4, deliver=False)
    placed = world.ok(
        "POST",
        "/v1/buyer/orders",
        b.buyer,
        json={
            "lines": [{"product_id": b.drill, "quantity": 2}],
            "payment_method": "invoice_net_30",
        },
    )
    so = UUID(placed["seller_orders"][0]["seller_order_id"])
    marketplace.fulfilment.accept(UUID(b.seller.id), so)
    dying = Fulfilment(
        marketplace.orders,
        marketplace.sellers,
        marketplace.fulfilment.chooser,
        marketplace.fulfilment.holds,
        lambda: None,
        NoInvoices(marketplace.billing, marketplace.orders, marketplace.fulfilment.holds, str),
    )
    with pytest.raises(SystemExit):
        dying.ship(UUID(b.seller.id), so, None, "T-9")
    settle(marketplace)
    assert marketplace.billing.invoices_of(so) == []
    marketplace.recover_orders(0)
    marketplace.recover_orders(0)
    [invoice] = marketplace.billing.invoices_of(so)
    assert invoice.total == 2 * 100_00
    numbers = sorted(
        i.number for i in [*marketplace.billing.invoices_of(UUID(b.seller_order)), invoice]
    )
    assert numbers == [1, 2]


def _billing_rows(marketplace: Marketplace) -> dict[str, list[tuple[Any, ...]]]:
    with marketplace.db.transaction() as cur:
        prefix = marketplace.projections.live(cur, "billing").prefix
        dumped = {}
        for table in BILLING_TABLES:
            cur.execute(f"SELECT * FROM {prefix}{table}")
            dumped[table] = sorted(tuple(sorted(row.items())) for row in cur.fetchall())
        return dumped


def test_the_billing_view_rebuilt_from_the_events_equals_the_one_built_as_they_came(
    world: World, marketplace: Marketplace
) -> None:
    b = billed(world)
    pay = {
        "buyer_id": b.buyer.id,
        "amount": eur(250_00),
        "reference": "R",
        "received_on": "2026-01-01",
    }
    world.ok("POST", "/v1/operator/payments", world.operator, json=pay)
    asked = world.ok(
        "POST",
        "/v1/buyer/returns",
        b.buyer,
        json={
            "seller_order_id": b.seller_order,
            "lines": [{"product_id": b.drill, "quantity": 2}],
            "reason": "x",
        },
    )
    world.ok(
        "POST",
        f"/v1/reseller/returns/{asked['return_id']}/accept",
        b.seller,
        json={"restock": True},
    )
    world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": "2099-01-01"})
    settle(marketplace)
    incremental = _billing_rows(marketplace)
    assert all(incremental[t] for t in ("invoices", "payments", "returns", "payouts", "shipments"))
    marketplace.projections.rebuild("billing")
    assert _billing_rows(marketplace) == incremental
