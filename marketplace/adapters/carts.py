"""Carts, kept on the server per person and buyer account, so they outlive a sign-out and
follow a person to another device. A cart is a draft, not a record: it is a table, and what
is ordered from it becomes events."""

import time
from dataclasses import dataclass

from marketplace.adapters.sql import Database
from marketplace.kernel.errors import Invalid

MAX_LINES = 500
BEST = ""  # the reseller column's value when the buyer left the choice to the platform


@dataclass(frozen=True)
class CartLine:
    product_id: str
    reseller_id: str | None
    quantity: int


class Carts:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS carts (owner TEXT NOT NULL, buyer_id TEXT NOT NULL, "
                "product_id TEXT NOT NULL, reseller_id TEXT NOT NULL, quantity BIGINT NOT NULL, "
                "added_at DOUBLE PRECISION NOT NULL, "
                "PRIMARY KEY (owner, buyer_id, product_id, reseller_id))"
            )

    def lines(self, owner: str, buyer_id: str) -> list[CartLine]:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT product_id, reseller_id, quantity FROM carts "
                "WHERE owner = %s AND buyer_id = %s ORDER BY added_at, product_id",
                [owner, buyer_id],
            )
            return [
                CartLine(r["product_id"], r["reseller_id"] or None, int(r["quantity"]))
                for r in cur.fetchall()
            ]

    def add(self, owner: str, buyer_id: str, lines: list[CartLine]) -> None:
        """Adds quantities to the cart's lines (a line already there grows)."""
        now = time.time()
        with self.db.transaction() as cur:
            for line in lines:
                cur.execute(
                    "INSERT INTO carts (owner, buyer_id, product_id, reseller_id, quantity, "
                    "added_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT "
                    "(owner, buyer_id, product_id, reseller_id) "
                    "DO UPDATE SET quantity = carts.quantity + excluded.quantity",
                    [
                        owner,
                        buyer_id,
                        line.product_id,
                        line.reseller_id or BEST,
                        line.quantity,
                        now,
                    ],
                )
            cur.execute(
                "SELECT COUNT(*) AS n FROM carts WHERE owner = %s AND buyer_id = %s",
                [owner, buyer_id],
            )
            row = cur.fetchone()
            if row is not None and int(row["n"]) > MAX_LINES:
                raise Invalid(f"a cart holds at most {MAX_LINES} lines; order these first")

    def set_quantity(
        self, owner: str, buyer_id: str, product_id: str, reseller_id: str | None, quantity: int
    ) -> None:
        with self.db.transaction() as cur:
            key = [owner, buyer_id, product_id, reseller_id or BEST]
            if quantity <= 0:
                cur.execute(
                    "DELETE FROM carts WHERE owner = %s AND buyer_id = %s AND product_id = %s "
                    "AND reseller_id = %s",
                    key,
                )
            else:
                cur.execute(
                    "UPDATE carts SET quantity = %s WHERE owner = %s AND buyer_id = %s "
                    "AND product_id = %s AND reseller_id = %s",
                    [quantity, *key],
                )

    def empty(self, owner: str, buyer_id: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM carts WHERE owner = %s AND buyer_id = %s", [owner, buyer_id])
