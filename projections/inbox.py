"""What waits for someone now, counted from the views: the figures each person's home page
opens with (seller orders to accept, returns to decide, quotes to answer, approvals, overdue
invoices, accounts to approve)."""

from typing import Any

from marketplace.adapters.sql import Cursor
from orders.domain import SELLER_ORDER_ACTIONS
from orders.quoting.domain import OPEN_TO_BUYER
from projections import billing, catalog, orders
from projections.runner import ProjectionRunner

# The quote stages the seller answers next (the buyer asked, or asked again).
TO_ANSWER = tuple(s for s in OPEN_TO_BUYER if s != "offered")


class Inbox:
    def __init__(self, projections: ProjectionRunner) -> None:
        self.projections = projections

    def _count(self, cur: Cursor, sql: str, params: list[Any]) -> int:
        cur.execute(f"SELECT COUNT(*) AS n FROM {sql}", params)
        row = cur.fetchone()
        return int(row["n"]) if row else 0

    def _prefixes(self, cur: Cursor) -> tuple[str, str, str]:
        live = self.projections.live
        return (
            live(cur, orders.NAME).prefix,
            live(cur, billing.NAME).prefix,
            live(cur, catalog.NAME).prefix,
        )

    @staticmethod
    def _in(values: tuple[str, ...]) -> str:
        return "(" + ", ".join(["%s"] * len(values)) + ")"

    def seller(self, seller_id: str, today: str) -> dict[str, int]:
        accept, ship = SELLER_ORDER_ACTIONS["accept"], SELLER_ORDER_ACTIONS["ship"]
        with self.projections.db.transaction() as cur:
            o, b, _ = self._prefixes(cur)
            released = f"{o}seller_orders WHERE reseller_id = %s AND released = 1 AND status IN "
            return {
                "to_accept": self._count(cur, released + self._in(accept), [seller_id, *accept]),
                "to_ship": self._count(cur, released + self._in(ship), [seller_id, *ship]),
                "quotes_to_answer": self._count(
                    cur,
                    f"{o}quotes WHERE reseller_id = %s AND stage IN {self._in(TO_ANSWER)}",
                    [seller_id, *TO_ANSWER],
                ),
                "returns_to_decide": self._count(
                    cur,
                    f"{b}returns WHERE seller_id = %s AND status = 'requested'",
                    [seller_id],
                ),
                "invoices_overdue": self._count(
                    cur,
                    f"{b}invoices WHERE seller_id = %s AND due_on < %s AND total > paid + credited",
                    [seller_id, today],
                ),
            }

    def buyer(self, buyer_id: str, today: str, now: str) -> dict[str, int]:
        with self.projections.db.transaction() as cur:
            o, b, _ = self._prefixes(cur)
            return {
                "approvals_waiting": self._count(
                    cur,
                    f"{o}orders WHERE buyer_id = %s AND status = 'pending_approval'",
                    [buyer_id],
                ),
                "quotes_offered": self._count(
                    cur,
                    f"{o}quotes WHERE buyer_id = %s AND stage = 'offered' AND valid_to >= %s",
                    [buyer_id, now],
                ),
                "invoices_overdue": self._count(
                    cur,
                    f"{b}invoices WHERE buyer_id = %s AND due_on < %s AND total > paid + credited",
                    [buyer_id, today],
                ),
            }

    def operator(self, today: str) -> dict[str, int]:
        with self.projections.db.transaction() as cur:
            o, b, c = self._prefixes(cur)
            return {
                "accounts_to_approve": self._count(
                    cur, f"{c}accounts WHERE status = 'pending'", []
                ),
                "orders_waiting_for_sellers": self._count(
                    cur,
                    f"{o}seller_orders WHERE released = 1 AND status = 'awaiting_acceptance'",
                    [],
                ),
                "invoices_overdue": self._count(
                    cur, f"{b}invoices WHERE due_on < %s AND total > paid + credited", [today]
                ),
            }
