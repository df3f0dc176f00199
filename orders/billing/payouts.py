"""Payout cycles: each seller is paid, per currency, what buyers paid on its invoices up to a
date and was not paid out before, less commission and credit notes."""

from uuid import uuid4

from marketplace.adapters.eventstore import retrying
from orders.billing.application import Billing
from orders.billing.domain import Payout, SellerLedger


class Payouts:
    def __init__(self, billing: Billing) -> None:
        self.billing = billing

    def run(self, up_to: str) -> list[Payout]:
        """Pays every seller what is due up to `up_to`. Each ledger is paid out in one save
        with its payout, so a cycle run twice (even at once) or cut off by a crash and run
        again pays each entry once."""
        made: list[Payout] = []
        for ledger_id in self.billing.ledgers().ledger_ids:

            def attempt() -> Payout | None:
                ledger = self.billing.load(ledger_id, SellerLedger, "ledger")  # noqa: B023
                payout_id = uuid4()
                lines = ledger.pay_out(payout_id, up_to)
                if lines is None:
                    return None
                payout = Payout(
                    id=payout_id,
                    seller_id=ledger.seller_id,
                    currency=ledger.currency,
                    up_to=up_to,
                    lines=lines,
                )
                self.billing.save(ledger, payout)
                return payout

            payout = retrying(attempt)
            if payout is not None:
                made.append(payout)
        return made
