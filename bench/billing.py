"""Settlement figures: recording a payment for a buyer with many open invoices (it pays the
oldest first, so it reads them all), beside placing a one-line order, interleaved in the
same run; and one payout cycle over every entry."""

import time
import uuid
from typing import Any

from bench import orders
from bench.measure import latency_row, percentile
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import CustomerTermsDetails
from orders.billing.payments import PaymentIn
from orders.choosing import LineRequest

OPEN_INVOICES = 300
SAMPLES = 200


def run(marketplace: Marketplace, scale: str) -> list[dict[str, Any]]:
    _, products = orders.market(marketplace)
    marketplace.projections.catch_up()
    buyer = uuid.UUID(marketplace.catalog.sellers("buyer", None)[0]["id"])
    reseller = uuid.UUID(marketplace.catalog.sellers("reseller")[0]["id"])
    methods = ["card", "invoice_net_30"]
    marketplace.offers.put_terms(reseller, buyer, CustomerTermsDetails(None, 0, {}, methods, None))
    placed_by = {"kind": "buyer_user", "user_id": str(uuid.uuid4()), "name": "bench"}
    product = uuid.UUID(products[0])

    def place(method: str) -> uuid.UUID:
        order = marketplace.placement.place(
            buyer, placed_by, None, [LineRequest(product, 1, reseller)], method, None, None
        )
        return marketplace.orders.seller_orders(order)[0].id

    for _ in range(OPEN_INVOICES):
        so = place("invoice_net_30")
        marketplace.fulfilment.accept(reseller, so)
        marketplace.fulfilment.ship(reseller, so, None, None)
    paying: list[float] = []
    placing: list[float] = []
    for i in range(SAMPLES):
        # Interleaved, so that the machine's noise falls on both alike.
        started = time.perf_counter()
        marketplace.payments.record(
            PaymentIn(buyer, Money(1, "EUR"), f"BENCH-{i}", marketplace.clock.today())
        )
        paying.append(time.perf_counter() - started)
        started = time.perf_counter()
        place("card")
        placing.append(time.perf_counter() - started)
    started = time.perf_counter()
    made = marketplace.payouts.run(marketplace.clock.today())
    cycle = time.perf_counter() - started
    assert len(made) == 1
    return [
        latency_row(
            "payment_300_open_invoices_p50", percentile(paying, 50), percentile(placing, 50), scale
        ),
        latency_row(
            "payment_300_open_invoices_p99", percentile(paying, 99), percentile(placing, 99), scale
        ),
        latency_row("payout_cycle_200_payments", cycle, None, scale),
    ]
