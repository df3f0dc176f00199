"""Payout cycles: each seller is paid, per currency, what buyers paid on its invoices up to a
date and was not paid out before, less commission and credit notes; each payout comes with
the operator's commission invoice, taxed as api.md v1.2 says."""

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from marketplace.adapters.eventstore import retrying
from marketplace.taxes.application import Taxes
from marketplace.taxes.domain import RateOf, Treatment, commission_treatment, round_half_up
from marketplace.taxes.profiles import OPERATOR, TaxProfile
from orders.billing.application import Billing
from orders.billing.domain import (
    CommissionInvoice,
    Payout,
    SellerLedger,
    commission_invoice_id,
)


class Payouts:
    def __init__(
        self, billing: Billing, taxes: Taxes | None = None, today: Callable[[], str] | None = None
    ) -> None:
        self.billing = billing
        self.taxes = taxes
        self.today = today
        # (invoice ids) -> those an open incident holds; set where incidents exist.
        self.held: Callable[[list[str]], set[str]] = lambda _: set()

    def _commission_terms(
        self, seller_id: UUID, operator: TaxProfile | None, rate_of: RateOf
    ) -> tuple[Treatment | None, dict[str, Any] | None, dict[str, Any] | None]:
        """How the commission is taxed (None: the operator has no tax profile), and who the
        operator and the seller are on its invoice."""
        if self.taxes is None:
            return None, None, None
        seller = self.taxes.profile("seller", seller_id)
        parties = (
            operator.describe() if operator else None,
            seller.describe() if seller else None,
        )
        if operator is None:
            return None, *parties
        account = self.taxes.sellers.account(seller_id)
        country = seller.country if seller else getattr(account, "country", operator.country)
        vat_id = seller.vat_id if seller else None
        return commission_treatment(operator.country, country, vat_id, rate_of), *parties

    def run(self, up_to: str) -> list[Payout]:
        """Pays every seller what is due up to `up_to`. Each ledger is paid out in one save
        with its payout and its commission invoice, so a cycle run twice (even at once) or
        cut off by a crash and run again pays each entry once."""
        made: list[Payout] = []
        today = self.today() if self.today else up_to
        # The operator and the rates, read once for the whole cycle.
        operator_profile = self.taxes.profile("operator", OPERATOR) if self.taxes else None
        rate_of = self.taxes.rate_of() if self.taxes else (lambda country, category: 0)
        for ledger_id in self.billing.ledgers().ledger_ids:

            def attempt() -> Payout | None:
                ledger = self.billing.load(ledger_id, SellerLedger, "ledger")  # noqa: B023
                treatment, operator, seller = self._commission_terms(
                    ledger.seller_id, operator_profile, rate_of
                )

                def tax_of(commission: int) -> int:
                    if treatment is None:
                        return 0
                    return round_half_up(commission * treatment.rate_bps, 10_000)

                payout_id = uuid4()
                lines = ledger.pay_out(payout_id, up_to, tax_of, self.held)
                if lines is None:
                    return None
                commission = sum(int(line["commission"]) for line in lines if not line.get("held"))
                invoice_id = commission_invoice_id(payout_id)
                series = self.billing.series(OPERATOR, "commission_invoice")
                invoice = CommissionInvoice(
                    id=invoice_id,
                    number=series.take(invoice_id),
                    payout_id=payout_id,
                    seller_id=ledger.seller_id,
                    currency=ledger.currency,
                    issued_on=today,
                    net_total=commission,
                    tax_breakdown=[]
                    if treatment is None
                    else [
                        {
                            "category": treatment.code,
                            "rate_bps": treatment.rate_bps,
                            "taxable": commission,
                            "tax": tax_of(commission),
                            "exemption_note": treatment.exemption_note,
                        }
                    ],
                    operator=operator,
                    seller=seller,
                )
                payout = Payout(
                    id=payout_id,
                    seller_id=ledger.seller_id,
                    currency=ledger.currency,
                    up_to=up_to,
                    lines=lines,
                    commission_tax=tax_of(commission),
                    commission_invoice_id=invoice_id,
                )
                self.billing.save(ledger, payout, series, invoice)
                return payout

            payout = retrying(attempt)
            if payout is not None:
                made.append(payout)
        return made
