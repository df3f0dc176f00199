"""Reading the orders projection: lists for each side of the market, and commissions."""

import json
from typing import Any

from marketplace.adapters.sql import Cursor
from marketplace.kernel.money import Money
from orders.domain import order_total
from projections.orders import NAME, seller_order_row
from projections.paging import cut, decode_cursor
from projections.runner import ProjectionRunner

Page = tuple[list[dict[str, Any]], str | None]


class OrdersView:
    def __init__(self, projections: ProjectionRunner) -> None:
        self.projections = projections

    def _prefix(self, cur: Cursor) -> str:
        return self.projections.live(cur, NAME).prefix

    def orders(
        self,
        limit: int,
        cursor: str | None,
        *,
        buyer_id: str | None = None,
        reseller_id: str | None = None,
        status: str | None = None,
        placed_from: str | None = None,
        placed_before: str | None = None,
    ) -> Page:
        """`placed_from` and `placed_before` bound the placing time (ISO, UTC; from is
        inclusive, before is not)."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where = ["o.stage <> 'failed'"]
            params: list[Any] = []
            if placed_from:
                where.append("o.placed_at >= %s")
                params.append(placed_from)
            if placed_before:
                where.append("o.placed_at < %s")
                params.append(placed_before)
            if buyer_id:
                where.append("o.buyer_id = %s")
                params.append(buyer_id)
            if status:
                where.append("o.status = %s")
                params.append(status)
            if reseller_id:
                where.append(
                    f"EXISTS (SELECT 1 FROM {p}seller_orders s WHERE s.order_id = o.id"
                    " AND s.reseller_id = %s)"
                )
                params.append(reseller_id)
            if cursor:
                at, oid = decode_cursor(cursor, 2)
                where.append("(o.placed_at < %s OR (o.placed_at = %s AND o.id < %s))")
                params += [at, at, oid]
            cur.execute(
                f"SELECT o.* FROM {p}orders o WHERE {' AND '.join(where)} "
                "ORDER BY o.placed_at DESC, o.id DESC LIMIT %s",
                [*params, limit + 1],
            )
            rows, next_cursor = cut(cur.fetchall(), limit, lambda r: [r["placed_at"], r["id"]])
            seller_orders: dict[str, list[dict[str, Any]]] = {}
            ids = [r["id"] for r in rows]
            if ids:
                marks = ", ".join(["%s"] * len(ids))
                cur.execute(
                    f"SELECT * FROM {p}seller_orders WHERE order_id IN ({marks}) "
                    "ORDER BY placed_at, id",
                    ids,
                )
                for so in cur.fetchall():
                    seller_orders.setdefault(so["order_id"], []).append(seller_order_row(so))
        items = []
        for row in rows:
            sos = seller_orders.get(row["id"], [])

            def summed(figure: str) -> list[dict[str, Any]]:
                found = order_total(
                    row["stage"],  # noqa: B023
                    [(so["status"], Money.from_dict(so[figure])) for so in sos],  # noqa: B023
                )
                return [money.as_dict() for money in found]

            items.append(
                {
                    "order_id": row["id"],
                    "buyer_id": row["buyer_id"],
                    "status": row["status"],
                    "total": summed("total"),
                    "net_total": summed("net_total"),
                    "tax_total": summed("tax_total"),
                    "gross_total": summed("gross_total"),
                    "payment_method": row["payment_method"],
                    "po_number": row["po_number"],
                    "placed_by": json.loads(row["placed_by"]),
                    "placed_at": row["placed_at"],
                    "seller_orders": sos,
                }
            )
        return items, next_cursor

    def seller_orders(
        self, reseller_id: str, limit: int, cursor: str | None, status: str | None = None
    ) -> Page:
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where = ["reseller_id = %s", "released = 1"]
            params: list[Any] = [reseller_id]
            if status:
                where.append("status = %s")
                params.append(status)
            if cursor:
                at, sid = decode_cursor(cursor, 2)
                where.append("(placed_at < %s OR (placed_at = %s AND id < %s))")
                params += [at, at, sid]
            cur.execute(
                f"SELECT * FROM {p}seller_orders WHERE {' AND '.join(where)} "
                "ORDER BY placed_at DESC, id DESC LIMIT %s",
                [*params, limit + 1],
            )
            rows, next_cursor = cut(cur.fetchall(), limit, lambda r: [r["placed_at"], r["id"]])
        return [seller_order_row(r) for r in rows], next_cursor

    def placing_since(self, before: str) -> list[str]:
        """Orders still being placed that were drafted before `before` (ISO time)."""
        with self.projections.db.transaction() as cur:
            cur.execute(
                f"SELECT id FROM {self._prefix(cur)}orders WHERE stage = 'placing' "
                "AND placed_at < %s ORDER BY placed_at",
                [before],
            )
            return [r["id"] for r in cur.fetchall()]

    def reroutes_since(self, before: str) -> list[tuple[str, str]]:
        """(order id, refused seller order id) of reroutes started before `before` and not
        finished."""
        with self.projections.db.transaction() as cur:
            cur.execute(
                f"SELECT order_id, refused_id FROM {self._prefix(cur)}reroutes "
                "WHERE started_at < %s ORDER BY started_at",
                [before],
            )
            return [(r["order_id"], r["refused_id"]) for r in cur.fetchall()]

    def commissions(self, reseller_id: str | None = None) -> list[dict[str, Any]]:
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where = "s.status = 'delivered'"
            params: list[Any] = []
            if reseller_id:
                where += " AND s.reseller_id = %s"
                params.append(reseller_id)
            # Accepted returns come off the GMV, and their commission is reversed (half-up,
            # as `orders.domain.commission` rounds).
            cur.execute(
                f"""SELECT s.reseller_id, s.currency, SUM(s.total) AS gmv,
                SUM(s.commission) AS commission, COUNT(*) AS seller_orders,
                COALESCE(SUM(r.returned), 0) AS returned,
                COALESCE(SUM((r.returned * s.commission_bps + 5000) / 10000), 0) AS reversed
                FROM {p}seller_orders s LEFT JOIN (
                    SELECT seller_order_id, SUM(amount) AS returned FROM {p}returns
                    WHERE accepted = 1 GROUP BY seller_order_id
                ) r ON r.seller_order_id = s.id
                WHERE {where} GROUP BY s.reseller_id, s.currency
                ORDER BY s.reseller_id, s.currency""",
                params,
            )
            rows = cur.fetchall()
        return [
            {
                "reseller_id": r["reseller_id"],
                "currency": r["currency"],
                "gmv": int(r["gmv"]) - int(r["returned"]),
                "commission": int(r["commission"]) - int(r["reversed"]),
                "returned": int(r["returned"]),
                "delivered_seller_orders": int(r["seller_orders"]),
            }
            for r in rows
        ]

    def lists(self, buyer_id: str, user_id: str, limit: int, cursor: str | None) -> Page:
        """The shopping lists a user may see: its own and those shared in its organisation."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where = "buyer_id = %s AND (owner_id = %s OR sharing <> 'private')"
            params: list[Any] = [buyer_id, user_id]
            if cursor:
                at, lid = decode_cursor(cursor, 2)
                where += " AND (created_at < %s OR (created_at = %s AND id < %s))"
                params += [at, at, lid]
            cur.execute(
                f"SELECT * FROM {p}shopping_lists WHERE {where} "
                "ORDER BY created_at DESC, id DESC LIMIT %s",
                [*params, limit + 1],
            )
            rows, next_cursor = cut(cur.fetchall(), limit, lambda r: [r["created_at"], r["id"]])
        return [
            {
                "list_id": r["id"],
                "name": r["name"],
                "owner_id": r["owner_id"],
                "sharing": r["sharing"],
                "lines": [
                    {"product_id": pid, "quantity": q} for pid, q in json.loads(r["lines"]).items()
                ],
            }
            for r in rows
        ], next_cursor

    def quotes(
        self,
        limit: int,
        cursor: str | None,
        now: str,
        *,
        buyer_id: str | None = None,
        reseller_id: str | None = None,
        buyer_ids: list[str] | None = None,
        status: str | None = None,
    ) -> tuple[list[str], str | None]:
        """Quote ids, newest first, for a buyer, a seller or a sales rep's accounts."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where, params = ["1 = 1"], []
            for column, value in (("buyer_id", buyer_id), ("reseller_id", reseller_id)):
                if value:
                    where.append(f"{column} = %s")
                    params.append(value)
            if buyer_ids is not None:
                marks = ", ".join(["%s"] * len(buyer_ids)) or "NULL"
                where.append(f"buyer_id IN ({marks})")
                params += buyer_ids
            if status == "expired":
                where.append("stage = 'offered' AND valid_to < %s")
                params.append(now)
            elif status == "offered":
                where.append("stage = 'offered' AND valid_to >= %s")
                params.append(now)
            elif status:
                where.append("stage = %s")
                params.append(status)
            if cursor:
                at, qid = decode_cursor(cursor, 2)
                where.append("(requested_at < %s OR (requested_at = %s AND id < %s))")
                params += [at, at, qid]
            cur.execute(
                f"SELECT id, requested_at FROM {p}quotes WHERE {' AND '.join(where)} "
                "ORDER BY requested_at DESC, id DESC LIMIT %s",
                [*params, limit + 1],
            )
            rows, next_cursor = cut(cur.fetchall(), limit, lambda r: [r["requested_at"], r["id"]])
        return [r["id"] for r in rows], next_cursor

    def daily(self, since: str) -> list[dict[str, Any]]:
        """Per day since `since` (ISO date) and currency: seller orders placed and their
        value (GMV), refused and cancelled ones left out."""
        return self._sums("SUBSTR(placed_at, 1, 10)", since)

    def per_seller(self, since: str) -> list[dict[str, Any]]:
        """The same sums per reseller."""
        return self._sums("reseller_id", since)

    def _sums(self, key: str, since: str) -> list[dict[str, Any]]:
        with self.projections.db.transaction() as cur:
            cur.execute(
                f"SELECT {key} AS k, currency, COUNT(*) AS n, SUM(total) AS gmv "
                f"FROM {self._prefix(cur)}seller_orders WHERE released = 1 AND placed_at >= %s "
                "AND status NOT IN ('refused', 'cancelled') "
                f"GROUP BY {key}, currency ORDER BY {key}, currency",
                [since],
            )
            return [
                {
                    "key": r["k"],
                    "currency": r["currency"],
                    "orders": int(r["n"]),
                    "gmv": int(r["gmv"]),
                }
                for r in cur.fetchall()
            ]
