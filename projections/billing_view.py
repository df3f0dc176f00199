"""Reading the billing projection: invoices, payments, returns and payouts, receivables
ageing, and shipments still without an invoice."""

import json
from typing import Any

from marketplace.adapters.sql import Cursor, Row
from orders.billing.domain import (
    AGEING,
    ageing_bucket,
    charges_answer,
    commission_invoice_answer,
    net,
)
from projections.billing import NAME
from projections.paging import cut, decode_cursor
from projections.runner import ProjectionRunner

Page = tuple[list[dict[str, Any]], str | None]
INVOICE_STATUS = {
    "paid": "i.total - i.paid - i.credited <= 0",
    "open": "i.total - i.paid - i.credited > 0 AND i.due_on >= %s",
    "overdue": "i.total - i.paid - i.credited > 0 AND i.due_on < %s",
}


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": int(amount), "currency": currency}


def invoice_row(row: Row, today: str) -> dict[str, Any]:
    balance = int(row["total"]) - int(row["paid"]) - int(row["credited"])
    currency = row["currency"]
    return {
        "invoice_id": row["id"],
        "number": int(row["number"]),
        "reseller_id": row["seller_id"],
        "buyer_id": row["buyer_id"],
        "seller_order_id": row["seller_order_id"],
        "order_id": row["order_id"],
        "payment_method": row["payment_method"],
        "po_number": row["po_number"],
        "issued_on": row["issued_on"],
        "due_on": row["due_on"],
        "status": "paid" if balance <= 0 else ("overdue" if row["due_on"] < today else "open"),
        "currency": currency,
        "total": _money(row["total"], currency),
        "paid": _money(row["paid"], currency),
        "credited": _money(row["credited"], currency),
        "balance": _money(balance, currency),
        "lines": [
            {
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "unit_price": _money(line["unit_price"], currency),
                "tax_category": (line.get("tax") or {}).get("tax_category"),
                "tax_rate_bps": (line.get("tax") or {}).get("rate_bps", 0),
                **{k: line[k] for k in ("name", "sku") if k in line},
            }
            for line in json.loads(row["lines"])
        ],
        **charges_answer(json.loads(row["charges"] or "{}"), int(row["total"]), currency),
    }


def return_row(row: Row) -> dict[str, Any]:
    currency = row["currency"]
    note = json.loads(row["credit_note"]) if row["credit_note"] else None
    return {
        "return_id": row["id"],
        "status": row["status"],
        "buyer_id": row["buyer_id"],
        "reseller_id": row["seller_id"],
        "seller_order_id": row["seller_order_id"],
        "order_id": row["order_id"],
        "reason": row["reason"],
        "refusal": row["refusal"],
        "restock": bool(row["restock"]),
        "requested_at": row["requested_at"],
        "lines": [
            {
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "unit_price": _money(line["unit_price"], currency),
            }
            for line in json.loads(row["lines"])
        ],
        "credit_note": None
        if note is None
        else {**note, "amount": _money(note["amount"], currency)},
    }


def payout_row(row: Row) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "payout_id": row["id"],
        "reseller_id": row["seller_id"],
        "up_to": row["up_to"],
        "made_at": row["made_at"],
        "amount": _money(row["amount"], currency),
        "commission_tax": _money(row["commission_tax"], currency),
        "commission_invoice_id": row["commission_invoice_id"],
        "lines": [
            {
                "invoice_id": line["invoice_id"],
                "paid": _money(line["paid"], currency),
                "commission": _money(line["commission"], currency),
                "credit_notes": _money(line["credit_notes"], currency),
                "net": _money(net(line), currency),
                "held": bool(line.get("held")),
            }
            for line in json.loads(row["lines"])
        ],
    }


def payment_row(row: Row) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "payment_id": row["id"],
        "buyer_id": row["buyer_id"],
        "amount": _money(row["amount"], currency),
        "reference": row["reference"],
        "received_on": row["received_on"],
        "recorded_at": row["recorded_at"],
        "allocated": [
            {"invoice_id": a["invoice_id"], "amount": _money(a["amount"], currency)}
            for a in json.loads(row["allocations"])
        ],
        "unallocated": _money(row["unallocated"], currency),
    }


class BillingView:
    def __init__(self, projections: ProjectionRunner) -> None:
        self.projections = projections

    def _prefix(self, cur: Cursor) -> str:
        return self.projections.live(cur, NAME).prefix

    def _page(
        self,
        table: str,
        alias: str,
        at: str,
        limit: int,
        cursor: str | None,
        filters: dict[str, Any],
        extra: list[tuple[str, list[Any]]] | None = None,
    ) -> tuple[list[Row], str | None]:
        """Rows newest first by `at`, filtered by equal columns and extra conditions."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where: list[str] = ["1 = 1"]
            params: list[Any] = []
            for column, value in filters.items():
                if value is not None:
                    where.append(f"{alias}.{column} = %s")
                    params.append(value)
            for condition, values in extra or []:
                where.append(condition)
                params += values
            if cursor:
                key, rid = decode_cursor(cursor, 2)
                where.append(f"({alias}.{at} < %s OR ({alias}.{at} = %s AND {alias}.id < %s))")
                params += [key, key, rid]
            cur.execute(
                f"SELECT * FROM {p}{table} {alias} WHERE {' AND '.join(where)} "
                f"ORDER BY {alias}.{at} DESC, {alias}.id DESC LIMIT %s",
                [*params, limit + 1],
            )
            return cut(cur.fetchall(), limit, lambda r: [str(r[at]), r["id"]])

    def overdue_since(self, since: str, today: str) -> list[str]:
        """Invoices unpaid past a due date between `since` and today."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT id FROM {p}invoices i WHERE {INVOICE_STATUS['overdue']} "
                "AND i.due_on >= %s ORDER BY i.due_on, i.id",
                [today, since],
            )
            return [r["id"] for r in cur.fetchall()]

    def invoices(
        self,
        limit: int,
        cursor: str | None,
        today: str,
        *,
        buyer_id: str | None = None,
        seller_id: str | None = None,
        status: str | None = None,
    ) -> Page:
        extra: list[tuple[str, list[Any]]] = []
        if status:
            extra.append((INVOICE_STATUS[status], [] if status == "paid" else [today]))
        # Issue dates tie within a day; the number breaks ties in issuing order per seller.
        rows, next_cursor = self._page(
            "invoices",
            "i",
            "issued_on",
            limit,
            cursor,
            {"buyer_id": buyer_id, "seller_id": seller_id},
            extra,
        )
        return [invoice_row(r, today) for r in rows], next_cursor

    def payments(self, limit: int, cursor: str | None, *, buyer_id: str | None = None) -> Page:
        rows, next_cursor = self._page(
            "payments", "p", "recorded_at", limit, cursor, {"buyer_id": buyer_id}
        )
        return [payment_row(r) for r in rows], next_cursor

    def returns(
        self,
        limit: int,
        cursor: str | None,
        *,
        buyer_id: str | None = None,
        seller_id: str | None = None,
        status: str | None = None,
    ) -> Page:
        rows, next_cursor = self._page(
            "returns",
            "r",
            "requested_at",
            limit,
            cursor,
            {"buyer_id": buyer_id, "seller_id": seller_id, "status": status},
        )
        return [return_row(r) for r in rows], next_cursor

    def payouts(self, limit: int, cursor: str | None, *, seller_id: str | None = None) -> Page:
        rows, next_cursor = self._page(
            "payouts", "o", "made_at", limit, cursor, {"seller_id": seller_id}
        )
        return [payout_row(r) for r in rows], next_cursor

    def commission_invoices(
        self, limit: int, cursor: str | None, *, seller_id: str | None = None
    ) -> Page:
        rows, next_cursor = self._page(
            "commission_invoices", "c", "issued_at", limit, cursor, {"seller_id": seller_id}
        )
        return [commission_invoice_answer(json.loads(r["body"])) for r in rows], next_cursor

    def incidents(
        self,
        limit: int,
        cursor: str | None,
        *,
        buyer_id: str | None = None,
        seller_id: str | None = None,
        status: str | None = None,
    ) -> Page:
        rows, next_cursor = self._page(
            "incidents",
            "n",
            "opened_at",
            limit,
            cursor,
            {"buyer_id": buyer_id, "seller_id": seller_id, "status": status},
        )
        return [json.loads(r["body"]) for r in rows], next_cursor

    def incidents_of(self, seller_order_ids: list[str]) -> list[dict[str, Any]]:
        """The incidents on some seller orders, oldest first, for their order pages."""
        if not seller_order_ids:
            return []
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where, args = cur.one_of("seller_order_id", seller_order_ids)
            cur.execute(f"SELECT body FROM {p}incidents WHERE {where} ORDER BY opened_at, id", args)
            return [json.loads(r["body"]) for r in cur.fetchall()]

    def return_of_credit_note(self, credit_note_id: str) -> str | None:
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(f"SELECT id FROM {p}returns WHERE credit_note_id = %s", [credit_note_id])
            row = cur.fetchone()
        return None if row is None else str(row["id"])

    def receivables(self, seller_id: str, today: str) -> list[dict[str, Any]]:
        """What each buyer owes the seller, per currency, by how long it is overdue."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT buyer_id, currency, due_on, total - paid - credited AS balance "
                f"FROM {p}invoices WHERE seller_id = %s AND total - paid - credited > 0",
                [seller_id],
            )
            rows = cur.fetchall()
        ages: dict[tuple[str, str], dict[str, int]] = {}
        for row in rows:
            buckets = ages.setdefault((row["buyer_id"], row["currency"]), dict.fromkeys(AGEING, 0))
            buckets[ageing_bucket(row["due_on"], today)] += int(row["balance"])
        return [
            {
                "buyer_id": buyer_id,
                "currency": currency,
                **{k: _money(v, currency) for k, v in buckets.items()},
            }
            for (buyer_id, currency), buckets in sorted(ages.items())
        ]

    def currencies_of(self, buyer_id: str) -> list[str]:
        """The currencies the buyer was invoiced or paid in."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT currency FROM {p}invoices WHERE buyer_id = %s UNION "
                f"SELECT currency FROM {p}payments WHERE buyer_id = %s ORDER BY currency",
                [buyer_id, buyer_id],
            )
            return [r["currency"] for r in cur.fetchall()]

    def currency_with(self, buyer_id: str, seller_id: str) -> str:
        """The currency of the buyer's latest invoice from the seller (EUR if none)."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT currency FROM {p}invoices WHERE buyer_id = %s AND seller_id = %s "
                "ORDER BY issued_on DESC LIMIT 1",
                [buyer_id, seller_id],
            )
            row = cur.fetchone()
        return str(row["currency"]) if row else "EUR"

    def settled_since(self, since: str) -> list[str]:
        """Seller orders whose invoices were paid or credited since `since`."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT DISTINCT seller_order_id FROM {p}invoices WHERE changed_at >= %s "
                "AND payment_method <> 'card' ORDER BY seller_order_id",
                [since],
            )
            return [r["seller_order_id"] for r in cur.fetchall()]

    def accepted_since(self, since: str) -> list[str]:
        """Returns accepted since `since`."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT id FROM {p}returns WHERE decided_at >= %s ORDER BY id",
                [since],
            )
            return [r["id"] for r in cur.fetchall()]

    def uninvoiced_since(self, before: str, since: str) -> list[str]:
        """Seller orders with a shipment between `since` and `before` that has no invoice."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT DISTINCT seller_order_id FROM {p}shipments "
                "WHERE invoiced = 0 AND shipped_at < %s AND shipped_at >= %s "
                "ORDER BY seller_order_id",
                [before, since],
            )
            return [r["seller_order_id"] for r in cur.fetchall()]
