"""The orders projection: order lists for buyers, resellers and the operator, and commissions.

Each order's status is derived from its own row and its seller orders' rows, recomputed on
every event of either, so the order in which their events arrive does not matter.
"""

import json
from collections.abc import Callable
from typing import Any, ClassVar

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor
from orders.charges import seller_order_breakdown
from orders.domain import commission, order_status
from projections.tables import Handler, TableProjection

NAME = "orders"

TABLES = {
    "orders": "id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, stage TEXT NOT NULL, "
    "status TEXT NOT NULL, placed_by TEXT NOT NULL, payment_method TEXT NOT NULL, "
    "po_number TEXT, placed_at TEXT NOT NULL, seller_order_ids TEXT NOT NULL",
    "seller_orders": "id TEXT PRIMARY KEY, order_id TEXT NOT NULL, buyer_id TEXT NOT NULL, "
    "reseller_id TEXT NOT NULL, status TEXT NOT NULL, released INTEGER NOT NULL, "
    "payment_method TEXT NOT NULL, commission_bps INTEGER NOT NULL, currency TEXT NOT NULL, "
    "total BIGINT NOT NULL, commission BIGINT NOT NULL, lines TEXT NOT NULL, "
    "placed_at TEXT NOT NULL, charges TEXT NOT NULL DEFAULT '{}', "
    "shipments TEXT NOT NULL DEFAULT '[]', net_total BIGINT, tax_total BIGINT",
    # Reroutes started and not yet finished, for finishing them after a crash.
    "reroutes": "refused_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, started_at TEXT NOT NULL",
    # Quotes, for each side's lists; `expired` is read from valid_to, not stored.
    "quotes": "id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, reseller_id TEXT NOT NULL, "
    "stage TEXT NOT NULL, version INTEGER NOT NULL, valid_to TEXT, order_id TEXT, "
    "requested_at TEXT NOT NULL",
    # Buyers' shopping lists, for listing those a user may see.
    "shopping_lists": "id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, owner_id TEXT NOT NULL, "
    "name TEXT NOT NULL, sharing TEXT NOT NULL, lines TEXT NOT NULL, created_at TEXT NOT NULL",
    # Returns of delivered goods: accepted ones come off the GMV and the commission.
    "returns": "id TEXT PRIMARY KEY, seller_order_id TEXT NOT NULL, amount BIGINT NOT NULL, "
    "accepted INTEGER NOT NULL",
}
INDEXES = {
    "orders_buyer": "orders (buyer_id, placed_at)",
    "orders_status": "orders (status, placed_at)",
    "seller_orders_order": "seller_orders (order_id)",
    "seller_orders_reseller": "seller_orders (reseller_id, placed_at)",
    "returns_seller_order": "returns (seller_order_id)",
    "shopping_lists_buyer": "shopping_lists (buyer_id, created_at)",
    "quotes_buyer": "quotes (buyer_id, requested_at)",
    "quotes_reseller": "quotes (reseller_id, requested_at)",
}


class OrdersProjection(TableProjection):
    name = NAME
    TABLES = TABLES
    INDEXES = INDEXES
    # `lists` was a second name in use (the catalog's price lists).
    RENAMED_TABLES: ClassVar[dict[str, str]] = {"lists": "shopping_lists"}
    RETIRED_INDEXES = ("lists_buyer",)
    # Tax and shipping (v1.2): a seller order's charges and shipments, and the net and tax
    # worked out from them as the aggregate does (NULL: untaxed and unshipped).
    ADDED_COLUMNS: ClassVar[dict[str, dict[str, str]]] = {
        "seller_orders": {
            "charges": "TEXT NOT NULL DEFAULT '{}'",
            "shipments": "TEXT NOT NULL DEFAULT '[]'",
            "net_total": "BIGINT",
            "tax_total": "BIGINT",
        }
    }

    def handlers(self) -> dict[str, Handler]:
        return {
            "Order.Drafted": self._drafted,
            "Order.Placed": self._stage,
            "Order.Failed": self._stage,
            "Order.Approved": self._stage,
            "Order.Rejected": self._stage,
            "Order.Rerouted": self._rerouted,
            "Order.RerouteStarted": self._reroute_started,
            "Order.RerouteFinished": self._reroute_finished,
            "SellerOrder.Opened": self._opened,
            "SellerOrder.Charged": self._charged,
            "SellerOrder.Released": self._released,
            "SellerOrder.Accepted": self._seller_status("accepted"),
            "SellerOrder.Refused": self._seller_status("refused"),
            "SellerOrder.Cancelled": self._seller_status("cancelled"),
            "SellerOrder.Shipped": self._shipped,
            "SellerOrder.Delivered": self._delivered,
            "Return.Requested": self._return_requested,
            "ShoppingList.Started": self._list_created,
            "Quote.Requested": self._quote_requested,
            "Quote.Offered": self._quote_offered,
            "Quote.Moved": self._quote_stage,
            "Quote.Ordered": self._quote_stage,
            "Quote.OrderFailed": self._quote_stage,
            "ShoppingList.LineSet": self._list_line(set_it=True),
            "ShoppingList.LineRemoved": self._list_line(set_it=False),
            "Return.Accepted": self._return_accepted,
        }

    def _quote_requested(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.execute(
            f"INSERT INTO {self._t('quotes')} (id, buyer_id, reseller_id, stage, version, "
            "requested_at) VALUES (%s, %s, %s, 'submitted', 0, %s) ON CONFLICT (id) DO NOTHING",
            [event["aggregate_id"], data["buyer_id"], data["reseller_id"], event["occurred_at"]],
        )

    def _quote_offered(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('quotes')} SET stage = 'offered', version = version + 1, "
            "valid_to = %s WHERE id = %s",
            [event["data"]["valid_to"], event["aggregate_id"]],
        )

    def _quote_stage(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        stage = {"Quote.Ordered": "ordered", "Quote.OrderFailed": "offered"}.get(
            event["type"], data.get("stage")
        )
        cur.execute(
            f"UPDATE {self._t('quotes')} SET stage = %s, order_id = %s WHERE id = %s",
            [stage, data.get("order_id"), event["aggregate_id"]],
        )

    def _list_created(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.execute(
            f"INSERT INTO {self._t('shopping_lists')} (id, buyer_id, owner_id, name, sharing, "
            "lines, created_at) VALUES (%s, %s, %s, %s, %s, '{}', %s) ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["buyer_id"],
                data["owner_id"],
                data["name"],
                data["sharing"],
                event["occurred_at"],
            ],
        )

    def _list_line(self, set_it: bool) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            cur.execute(
                f"SELECT lines FROM {self._t('shopping_lists')} WHERE id = %s",
                [event["aggregate_id"]],
            )
            row = cur.fetchone()
            if row is None:
                return
            lines = json.loads(row["lines"])
            if set_it:
                lines[event["data"]["product_id"]] = event["data"]["quantity"]
            else:
                lines.pop(event["data"]["product_id"], None)
            cur.execute(
                f"UPDATE {self._t('shopping_lists')} SET lines = %s WHERE id = %s",
                [json.dumps(lines), event["aggregate_id"]],
            )

        return handle

    def _return_requested(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        amount = sum(int(x["quantity"]) * int(x["unit_price"]) for x in data["lines"])
        cur.execute(
            f"INSERT INTO {self._t('returns')} (id, seller_order_id, amount, accepted) "
            "VALUES (%s, %s, %s, 0) ON CONFLICT (id) DO NOTHING",
            [event["aggregate_id"], data["seller_order_id"], amount],
        )

    def _return_accepted(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('returns')} SET accepted = 1 WHERE id = %s", [event["aggregate_id"]]
        )

    def _drafted(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.execute(
            f"INSERT INTO {self._t('orders')} (id, buyer_id, stage, status, placed_by, "
            "payment_method, po_number, placed_at, seller_order_ids) "
            "VALUES (%s, %s, 'placing', 'placing', %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["buyer_id"],
                json.dumps(data["placed_by"]),
                data["payment_method"],
                data["po_number"],
                event["occurred_at"],
                json.dumps(data["seller_order_ids"]),
            ],
        )
        self._restatus(cur, event["aggregate_id"])

    def _stage(self, cur: Cursor, event: Envelope) -> None:
        stage = {
            "Order.Placed": "pending_approval" if event["data"].get("needs_approval") else "placed",
            "Order.Failed": "failed",
            "Order.Approved": "placed",
            "Order.Rejected": "rejected",
        }[event["type"]]
        cur.execute(
            f"UPDATE {self._t('orders')} SET stage = %s WHERE id = %s",
            [stage, event["aggregate_id"]],
        )
        self._restatus(cur, event["aggregate_id"])

    def _rerouted(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"SELECT seller_order_ids FROM {self._t('orders')} WHERE id = %s",
            [event["aggregate_id"]],
        )
        row = cur.fetchone()
        if row is None:
            return
        ids = json.loads(row["seller_order_ids"]) + event["data"]["seller_order_ids"]
        cur.execute(
            f"UPDATE {self._t('orders')} SET seller_order_ids = %s WHERE id = %s",
            [json.dumps(ids), event["aggregate_id"]],
        )

    def _reroute_started(self, cur: Cursor, event: Envelope) -> None:
        self._rerouted(cur, event)
        cur.execute(
            f"INSERT INTO {self._t('reroutes')} (refused_id, order_id, started_at) "
            "VALUES (%s, %s, %s) ON CONFLICT (refused_id) DO NOTHING",
            [event["data"]["refused_id"], event["aggregate_id"], event["occurred_at"]],
        )

    def _reroute_finished(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"DELETE FROM {self._t('reroutes')} WHERE refused_id = %s",
            [event["data"]["refused_id"]],
        )

    def _opened(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        lines = [
            {
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
                "shipped": 0,
            }
            for line in data["lines"]
        ]
        total = sum(line["quantity"] * line["unit_price"]["amount"] for line in lines)
        cur.execute(
            f"INSERT INTO {self._t('seller_orders')} (id, order_id, buyer_id, reseller_id, "
            "status, released, payment_method, commission_bps, currency, total, commission, "
            "lines, placed_at) VALUES (%s, %s, %s, %s, 'awaiting_acceptance', 0, %s, %s, %s, "
            "%s, 0, %s, %s) ON CONFLICT (id) DO NOTHING",
            [
                event["aggregate_id"],
                data["order_id"],
                data["buyer_id"],
                data["reseller_id"],
                data["payment_method"],
                data["commission_bps"],
                lines[0]["unit_price"]["currency"],
                total,
                json.dumps(lines),
                event["occurred_at"],
            ],
        )
        self._restatus_for(cur, event["aggregate_id"])

    def _charged(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        charges = {"shipping": data["shipping"], "taxes": data["taxes"]}
        cur.execute(
            f"UPDATE {self._t('seller_orders')} SET charges = %s WHERE id = %s",
            [json.dumps(charges), event["aggregate_id"]],
        )
        self._figures(cur, event["aggregate_id"])

    def _figures(self, cur: Cursor, seller_order_id: str) -> None:
        """Its net and tax, from its lines, charges and shipments."""
        cur.execute(
            f"SELECT lines, charges, shipments FROM {self._t('seller_orders')} WHERE id = %s",
            [seller_order_id],
        )
        row = cur.fetchone()
        if row is None:
            return
        charges = json.loads(row["charges"] or "{}")
        if not charges:
            return
        lines = [
            (ln["product_id"], int(ln["quantity"]), int(ln["unit_price"]["amount"]))
            for ln in json.loads(row["lines"])
        ]
        shipping = int((charges.get("shipping") or {}).get("amount", 0))
        groups = seller_order_breakdown(
            lines, shipping, charges.get("taxes") or {}, json.loads(row["shipments"] or "[]")
        )
        cur.execute(
            f"UPDATE {self._t('seller_orders')} SET net_total = %s, tax_total = %s WHERE id = %s",
            [
                sum(q * price for _, q, price in lines) + shipping,
                sum(g.tax for g in groups),
                seller_order_id,
            ],
        )

    def _released(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('seller_orders')} SET released = 1 WHERE id = %s",
            [event["aggregate_id"]],
        )

    def _seller_status(self, status: str) -> Callable[[Cursor, Envelope], None]:
        def handle(cur: Cursor, event: Envelope) -> None:
            cur.execute(
                f"UPDATE {self._t('seller_orders')} SET status = %s WHERE id = %s",
                [status, event["aggregate_id"]],
            )
            self._restatus_for(cur, event["aggregate_id"])

        return handle

    def _shipped(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"SELECT lines, shipments FROM {self._t('seller_orders')} WHERE id = %s",
            [event["aggregate_id"]],
        )
        row = cur.fetchone()
        if row is None:
            return
        shipped = event["data"]["lines"]
        lines = json.loads(row["lines"])
        for line in lines:
            line["shipped"] += shipped.get(line["product_id"], 0)
        done = all(line["shipped"] == line["quantity"] for line in lines)
        shipments = [*json.loads(row["shipments"] or "[]"), shipped]
        cur.execute(
            f"UPDATE {self._t('seller_orders')} SET lines = %s, status = %s, shipments = %s "
            "WHERE id = %s",
            [
                json.dumps(lines),
                "shipped" if done else "partially_shipped",
                json.dumps(shipments),
                event["aggregate_id"],
            ],
        )
        self._figures(cur, event["aggregate_id"])
        self._restatus_for(cur, event["aggregate_id"])

    def _delivered(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"SELECT total, commission_bps FROM {self._t('seller_orders')} WHERE id = %s",
            [event["aggregate_id"]],
        )
        row = cur.fetchone()
        if row is None:
            return
        cur.execute(
            f"UPDATE {self._t('seller_orders')} SET status = 'delivered', commission = %s "
            "WHERE id = %s",
            [commission(int(row["total"]), int(row["commission_bps"])), event["aggregate_id"]],
        )
        self._restatus_for(cur, event["aggregate_id"])

    def _restatus_for(self, cur: Cursor, seller_order_id: str) -> None:
        cur.execute(
            f"SELECT order_id FROM {self._t('seller_orders')} WHERE id = %s", [seller_order_id]
        )
        row = cur.fetchone()
        if row is not None:
            self._restatus(cur, row["order_id"])

    def _restatus(self, cur: Cursor, order_id: str) -> None:
        cur.execute(f"SELECT stage FROM {self._t('orders')} WHERE id = %s", [order_id])
        row = cur.fetchone()
        if row is None:
            return
        cur.execute(
            f"SELECT status FROM {self._t('seller_orders')} WHERE order_id = %s", [order_id]
        )
        statuses = [r["status"] for r in cur.fetchall()]
        cur.execute(
            f"UPDATE {self._t('orders')} SET status = %s WHERE id = %s",
            [order_status(row["stage"], statuses), order_id],
        )


def seller_order_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seller_order_id": row["id"],
        "order_id": row["order_id"],
        "buyer_id": row["buyer_id"],
        "reseller_id": row["reseller_id"],
        "status": row["status"],
        "payment_method": row["payment_method"],
        "total": {"amount": int(row["total"]), "currency": row["currency"]},
        **_figures_of(row),
        "lines": json.loads(row["lines"]),
        "placed_at": row["placed_at"],
    }


def _figures_of(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    charges = json.loads(row.get("charges") or "{}")
    shipping = charges.get("shipping")
    net = int(row["total"]) if row.get("net_total") is None else int(row["net_total"])
    tax = int(row.get("tax_total") or 0)
    return {
        "shipping": None
        if not shipping
        else {**shipping, "amount": {"amount": int(shipping["amount"]), "currency": currency}},
        "net_total": {"amount": net, "currency": currency},
        "tax_total": {"amount": tax, "currency": currency},
        "gross_total": {"amount": net + tax, "currency": currency},
    }
