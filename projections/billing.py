"""The billing projection: invoices, payments, returns and payouts for each side of the
market, and the shipments not yet invoiced (for finishing them after a crash).

Each row is written from its own aggregate's events; a shipment row learns that it was
invoiced from either side, so the order in which the two arrive does not matter.
"""

import json
from typing import ClassVar
from uuid import UUID

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor
from orders.billing.domain import document_totals, due_on, goods_of, invoice_id, payout_amount
from projections.tables import Handler, TableProjection

NAME = "billing"

TABLES = {
    "invoices": "id TEXT PRIMARY KEY, number BIGINT NOT NULL, seller_id TEXT NOT NULL, "
    "buyer_id TEXT NOT NULL, seller_order_id TEXT NOT NULL, order_id TEXT NOT NULL, "
    "payment_method TEXT NOT NULL, po_number TEXT, issued_on TEXT NOT NULL, "
    "due_on TEXT NOT NULL, currency TEXT NOT NULL, total BIGINT NOT NULL, "
    "paid BIGINT NOT NULL, credited BIGINT NOT NULL, lines TEXT NOT NULL, "
    "commission_bps INTEGER NOT NULL, changed_at TEXT NOT NULL, "
    "charges TEXT NOT NULL DEFAULT '{}', goods BIGINT",
    "payments": "id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, amount BIGINT NOT NULL, "
    "currency TEXT NOT NULL, reference TEXT NOT NULL, received_on TEXT NOT NULL, "
    "allocations TEXT NOT NULL, unallocated BIGINT NOT NULL, recorded_at TEXT NOT NULL",
    "returns": "id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, seller_id TEXT NOT NULL, "
    "seller_order_id TEXT NOT NULL, order_id TEXT NOT NULL, status TEXT NOT NULL, "
    "currency TEXT NOT NULL, lines TEXT NOT NULL, reason TEXT NOT NULL, refusal TEXT, "
    "restock INTEGER NOT NULL, credit_note TEXT, requested_at TEXT NOT NULL, decided_at TEXT, "
    "credit_note_id TEXT",
    "payouts": "id TEXT PRIMARY KEY, seller_id TEXT NOT NULL, currency TEXT NOT NULL, "
    "up_to TEXT NOT NULL, amount BIGINT NOT NULL, lines TEXT NOT NULL, made_at TEXT NOT NULL, "
    "commission_tax BIGINT NOT NULL DEFAULT 0, commission_invoice_id TEXT",
    "commission_invoices": "id TEXT PRIMARY KEY, seller_id TEXT NOT NULL, "
    "issued_at TEXT NOT NULL, body TEXT NOT NULL",
    # The buyer's credit balance applied to an invoice (at its issue): paid like a payment.
    "balance_uses": "id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL, amount BIGINT NOT NULL",
    # Incidents (api.md v1.2): `body` is the incident as answers show it.
    "incidents": "id TEXT PRIMARY KEY, seller_order_id TEXT NOT NULL, buyer_id TEXT NOT NULL, "
    "seller_id TEXT NOT NULL, status TEXT NOT NULL, opened_at TEXT NOT NULL, body TEXT NOT NULL",
    "shipments": "invoice_id TEXT PRIMARY KEY, seller_order_id TEXT NOT NULL, "
    "shipped_at TEXT NOT NULL, invoiced INTEGER NOT NULL",
}
INDEXES = {
    "invoices_buyer": "invoices (buyer_id, issued_on)",
    "invoices_seller": "invoices (seller_id, issued_on)",
    "payments_buyer": "payments (buyer_id, recorded_at)",
    "returns_buyer": "returns (buyer_id, requested_at)",
    "returns_seller": "returns (seller_id, requested_at)",
    "payouts_seller": "payouts (seller_id, made_at)",
    "commission_invoices_seller": "commission_invoices (seller_id, issued_at)",
    "shipments_open": "shipments (invoiced, shipped_at)",
    "invoices_changed": "invoices (changed_at)",
    "returns_decided": "returns (decided_at)",
    "returns_credit_note": "returns (credit_note_id)",
    "incidents_buyer": "incidents (buyer_id, opened_at)",
    "incidents_seller": "incidents (seller_id, opened_at)",
    "incidents_opened": "incidents (opened_at)",
    "incidents_seller_order": "incidents (seller_order_id)",
}


class BillingProjection(TableProjection):
    name = NAME
    TABLES = TABLES
    INDEXES = INDEXES
    # Tax and shipping (v1.2): `charges` holds an invoice's shipping, tax breakdown and
    # parties, `goods` its net goods (what commission is charged on).
    ADDED_COLUMNS: ClassVar[dict[str, dict[str, str]]] = {
        "invoices": {"charges": "TEXT NOT NULL DEFAULT '{}'", "goods": "BIGINT"},
        "returns": {"credit_note_id": "TEXT"},
        "payouts": {
            "commission_tax": "BIGINT NOT NULL DEFAULT 0",
            "commission_invoice_id": "TEXT",
        },
    }

    def handlers(self) -> dict[str, Handler]:
        return {
            "Invoice.Issued": self._issued,
            "Invoice.PaymentApplied": self._amount("paid"),
            "Invoice.CreditApplied": self._amount("credited"),
            "Payment.Received": self._payment,
            "Return.Requested": self._return,
            "Return.Accepted": self._return_accepted,
            "Return.Refused": self._return_refused,
            "Payout.Made": self._payout,
            "Incident.Opened": self._incident,
            "Incident.Resolved": self._incident_step("resolved"),
            "Incident.Closed": self._incident_step("closed"),
            "CommissionInvoice.Issued": self._commission_invoice,
            "BuyerAccount.BalanceUsed": self._balance_used,
            "SellerOrder.Shipped": self._shipped,
        }

    def _issued(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        shipping = data.get("shipping")
        groups = data.get("tax_breakdown") or []
        net_total, tax_total = document_totals(data["lines"], shipping, groups)
        charges = {
            "shipping": shipping,
            "tax_breakdown": groups,
            "seller": data.get("seller"),
            "buyer": data.get("buyer"),
            "net_total": net_total,
            "tax_total": tax_total,
        }
        cur.execute(
            f"INSERT INTO {self._t('invoices')} (id, number, seller_id, buyer_id, "
            "seller_order_id, order_id, payment_method, po_number, issued_on, due_on, currency, "
            "total, paid, credited, lines, commission_bps, changed_at, charges, goods) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["number"],
                data["seller_id"],
                data["buyer_id"],
                data["seller_order_id"],
                data["order_id"],
                data["payment_method"],
                data["po_number"],
                data["issued_on"],
                due_on(data["issued_on"], data["payment_method"]),
                data["currency"],
                net_total + tax_total,
                json.dumps(data["lines"]),
                data["commission_bps"],
                event["occurred_at"],
                json.dumps(charges),
                goods_of(data["lines"]),
            ],
        )
        cur.execute(
            f"UPDATE {self._t('shipments')} SET invoiced = 1 WHERE invoice_id = %s",
            [event["aggregate_id"]],
        )

    def _amount(self, column: str) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            cur.execute(
                f"UPDATE {self._t('invoices')} SET {column} = {column} + %s, changed_at = %s "
                "WHERE id = %s",
                [event["data"]["amount"], event["occurred_at"], event["aggregate_id"]],
            )

        return handle

    def _payment(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.execute(
            f"INSERT INTO {self._t('payments')} (id, buyer_id, amount, currency, reference, "
            "received_on, allocations, unallocated, recorded_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["buyer_id"],
                data["amount"],
                data["currency"],
                data["reference"],
                data["received_on"],
                json.dumps(data["allocations"]),
                data["unallocated"],
                event["occurred_at"],
            ],
        )

    def _return(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.execute(
            f"INSERT INTO {self._t('returns')} (id, buyer_id, seller_id, seller_order_id, "
            "order_id, status, currency, lines, reason, restock, requested_at) VALUES "
            "(%s, %s, %s, %s, %s, 'requested', %s, %s, %s, 0, %s) ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["buyer_id"],
                data["seller_id"],
                data["seller_order_id"],
                data["order_id"],
                data["currency"],
                json.dumps(data["lines"]),
                data["reason"],
                event["occurred_at"],
            ],
        )

    def _incident(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        body = {
            "incident_id": event["aggregate_id"],
            "seller_order_id": data["seller_order_id"],
            "order_id": data["order_id"],
            "buyer_id": data["buyer_id"],
            "reseller_id": data["seller_id"],
            "reason": data["reason"],
            "product_ids": data["product_ids"],
            "comment": data["comment"],
            "status": "open",
            "opened_at": data["at"],
            "history": [
                {"status": "open", "comment": data["comment"], "by": data["by"], "at": data["at"]}
            ],
        }
        cur.upsert(
            self._t("incidents"),
            ["id", "seller_order_id", "buyer_id", "seller_id", "status", "opened_at", "body"],
            [
                [
                    event["aggregate_id"],
                    data["seller_order_id"],
                    data["buyer_id"],
                    data["seller_id"],
                    "open",
                    data["at"],
                    json.dumps(body),
                ]
            ],
            "id",
        )

    def _incident_step(self, status: str) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            data = event["data"]
            cur.execute(
                f"SELECT body FROM {self._t('incidents')} WHERE id = %s", [event["aggregate_id"]]
            )
            row = cur.fetchone()
            if row is None:
                return
            body = json.loads(row["body"])
            body["status"] = status
            body["history"].append(
                {"status": status, "comment": data["comment"], "by": data["by"], "at": data["at"]}
            )
            cur.execute(
                f"UPDATE {self._t('incidents')} SET status = %s, body = %s WHERE id = %s",
                [status, json.dumps(body), event["aggregate_id"]],
            )

        return handle

    def _return_accepted(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        note = {
            "credit_note_id": data["credit_note_id"],
            "number": data["number"],
            "amount": data["amount"],
            "issued_on": data["on"],
        }
        cur.execute(
            f"UPDATE {self._t('returns')} SET status = 'accepted', restock = %s, "
            "credit_note = %s, decided_at = %s, credit_note_id = %s WHERE id = %s",
            [
                int(bool(data["restock"])),
                json.dumps(note),
                event["occurred_at"],
                str(data["credit_note_id"]),
                event["aggregate_id"],
            ],
        )

    def _return_refused(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('returns')} SET status = 'refused', refusal = %s WHERE id = %s",
            [event["data"]["reason"], event["aggregate_id"]],
        )

    def _payout(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.execute(
            f"INSERT INTO {self._t('payouts')} (id, seller_id, currency, up_to, amount, lines, "
            "made_at, commission_tax, commission_invoice_id) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["seller_id"],
                data["currency"],
                data["up_to"],
                payout_amount(data["lines"], int(data.get("commission_tax") or 0)),
                json.dumps(data["lines"]),
                event["occurred_at"],
                int(data.get("commission_tax") or 0),
                data.get("commission_invoice_id"),
            ],
        )

    def _balance_used(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"INSERT INTO {self._t('balance_uses')} (id, invoice_id, amount) VALUES "
            "(%s, %s, %s) ON CONFLICT (id) DO NOTHING",
            [
                f"{event['aggregate_id']}:{event['aggregate_version']}",
                event["data"]["invoice_id"],
                int(event["data"]["amount"]),
            ],
        )

    def _commission_invoice(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.execute(
            f"INSERT INTO {self._t('commission_invoices')} (id, seller_id, issued_at, body) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["seller_id"],
                event["occurred_at"],
                json.dumps({**data, "id": event["aggregate_id"]}),
            ],
        )

    def _shipped(self, cur: Cursor, event: Envelope) -> None:
        iid = str(invoice_id(UUID(event["aggregate_id"]), event["aggregate_version"]))
        cur.execute(f"SELECT 1 FROM {self._t('invoices')} WHERE id = %s", [iid])
        invoiced = cur.fetchone() is not None
        cur.execute(
            f"INSERT INTO {self._t('shipments')} (invoice_id, seller_order_id, shipped_at, "
            "invoiced) VALUES (%s, %s, %s, %s) ON CONFLICT (invoice_id) DO NOTHING",
            [iid, event["aggregate_id"], event["occurred_at"], int(invoiced)],
        )
