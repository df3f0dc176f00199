"""What DAC7 asks a platform to report of each seller for a year, read from the billing view:
per quarter, the consideration buyers paid on the seller's invoices (bank payments by the day
they were received, card orders paid when invoiced, a credit balance left by an overpayment
or a credit note by the day it paid an invoice at its issue), how many seller orders it paid
for, and the commission charged on it (net)."""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from orders.billing.domain import commission_on
from projections.billing import NAME
from projections.runner import ProjectionRunner


@dataclass
class Quarter:
    activities: set[str] = field(default_factory=set)
    consideration: int = 0
    fees: int = 0


def quarter_of(day: str) -> int:
    return (int(day[5:7]) - 1) // 3 + 1


class Dac7:
    def __init__(self, projections: ProjectionRunner) -> None:
        self.projections = projections

    def year(self, year: int) -> dict[str, list[dict[str, Any]]]:
        """Per seller id: its quarters of `year` with a payment, each per currency."""
        first, last = f"{year:04d}-01-01", f"{year:04d}-12-31"
        with self.projections.db.transaction() as cur:
            p = self.projections.live(cur, NAME).prefix
            cur.execute(
                f"SELECT received_on, allocations FROM {p}payments "
                "WHERE received_on >= %s AND received_on <= %s",
                [first, last],
            )
            received = [
                (row["received_on"], a["invoice_id"], int(a["amount"]))
                for row in cur.fetchall()
                for a in json.loads(row["allocations"])
            ]
            cur.execute(
                f"SELECT id, issued_on, total FROM {p}invoices WHERE payment_method = 'card' "
                "AND issued_on >= %s AND issued_on <= %s",
                [first, last],
            )
            received += [(r["issued_on"], r["id"], int(r["total"])) for r in cur.fetchall()]
            cur.execute(
                f"SELECT i.issued_on, b.invoice_id, b.amount FROM {p}balance_uses b "
                f"JOIN {p}invoices i ON i.id = b.invoice_id "
                "WHERE i.issued_on >= %s AND i.issued_on <= %s",
                [first, last],
            )
            received += [
                (r["issued_on"], r["invoice_id"], int(r["amount"])) for r in cur.fetchall()
            ]
            ids = sorted({invoice_id for _, invoice_id, _ in received})
            invoices = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(
                    "SELECT id, seller_id, seller_order_id, currency, commission_bps, total, "
                    f"goods FROM {p}invoices WHERE id IN ({marks})",
                    chunk,
                )
                invoices.update({r["id"]: r for r in cur.fetchall()})
        quarters: dict[tuple[str, int, str], Quarter] = defaultdict(Quarter)
        for day, invoice_id, amount in received:
            invoice = invoices.get(invoice_id)
            if invoice is None:
                continue
            q = quarters[(invoice["seller_id"], quarter_of(day), invoice["currency"])]
            q.activities.add(invoice["seller_order_id"])
            q.consideration += amount
            total = int(invoice["total"])
            goods = total if invoice["goods"] is None else int(invoice["goods"])
            q.fees += commission_on(amount, goods, total, int(invoice["commission_bps"]))
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (seller_id, quarter, currency), q in sorted(quarters.items()):
            found[seller_id].append(
                {
                    "quarter": quarter,
                    "activities": len(q.activities),
                    "consideration": {"amount": q.consideration, "currency": currency},
                    "fees": {"amount": q.fees, "currency": currency},
                }
            )
        return dict(found)
