"""The yardstick for order placement: what a CRUD shop would run instead. The same HTTP stack
(FastAPI on uvicorn, the same client), the same catalog (three resellers, ten products, the
buyer's terms), and one transaction per order on the same PostgreSQL: the offers and the
terms locked with SELECT ... FOR UPDATE, stock and credit updated, the order's rows
inserted."""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import uvicorn
from fastapi import FastAPI, HTTPException
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from tests.services import free_port, wait_for_port

SCHEMA = """
CREATE TABLE offers (reseller_id UUID, product_id UUID, price BIGINT NOT NULL,
    stock BIGINT NOT NULL, PRIMARY KEY (product_id, reseller_id));
CREATE TABLE terms (reseller_id UUID, buyer_id UUID, payment_methods TEXT[] NOT NULL,
    credit_limit BIGINT, credit_used BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (reseller_id, buyer_id));
CREATE TABLE orders (id UUID PRIMARY KEY, buyer_id UUID NOT NULL, payment_method TEXT NOT NULL,
    placed_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE seller_orders (id UUID PRIMARY KEY, order_id UUID NOT NULL REFERENCES orders,
    reseller_id UUID NOT NULL, total BIGINT NOT NULL, status TEXT NOT NULL);
CREATE TABLE order_lines (seller_order_id UUID NOT NULL REFERENCES seller_orders,
    product_id UUID NOT NULL, quantity BIGINT NOT NULL, unit_price BIGINT NOT NULL);
"""


def create(url: str, schema: str, buyer: uuid.UUID, offers: list[tuple[Any, ...]]) -> None:
    """`offers`: (reseller_id, product_id, price, stock)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"'.encode())
        conn.execute(f'SET search_path = "{schema}"'.encode())
        conn.execute(SCHEMA.encode())
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO offers VALUES (%s, %s, %s, %s)", [tuple(o) for o in offers]
            )
            cur.executemany(
                "INSERT INTO terms (reseller_id, buyer_id, payment_methods) VALUES (%s, %s, %s)",
                [(r, buyer, ["card"]) for r in {o[0] for o in offers}],
            )


def app(url: str, schema: str) -> FastAPI:
    pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
        url,
        min_size=2,
        max_size=10,
        kwargs={"row_factory": dict_row, "options": f"-c search_path={schema}"},
        connection_class=psycopg.Connection[dict[str, Any]],
        open=True,
    )
    api = FastAPI()

    @api.post("/orders", status_code=201)
    def place(body: dict[str, Any]) -> dict[str, Any]:
        buyer = uuid.UUID(body["buyer_id"])
        wanted = {uuid.UUID(line["product_id"]): int(line["quantity"]) for line in body["lines"]}
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "SELECT o.reseller_id, o.product_id, o.price, o.stock FROM offers o "
                "JOIN terms t ON t.reseller_id = o.reseller_id AND t.buyer_id = %s "
                "WHERE o.product_id = ANY(%s) AND %s = ANY(t.payment_methods) "
                "ORDER BY o.product_id, o.reseller_id FOR UPDATE OF o, t",
                [buyer, list(wanted), body["payment_method"]],
            )
            best: dict[uuid.UUID, dict[str, Any]] = {}
            for offer in cur.fetchall():
                pid = offer["product_id"]
                if offer["stock"] >= wanted[pid] and (
                    pid not in best or offer["price"] < best[pid]["price"]
                ):
                    best[pid] = offer
            if len(best) < len(wanted):
                raise HTTPException(409, "not enough stock")
            order_id = uuid.uuid4()
            cur.execute(
                "INSERT INTO orders (id, buyer_id, payment_method) VALUES (%s, %s, %s)",
                [order_id, buyer, body["payment_method"]],
            )
            by_seller: dict[uuid.UUID, list[dict[str, Any]]] = {}
            for offer in best.values():
                by_seller.setdefault(offer["reseller_id"], []).append(offer)
            seller_orders = []
            for reseller, chosen in by_seller.items():
                seller_order_id = uuid.uuid4()
                total = sum(o["price"] * wanted[o["product_id"]] for o in chosen)
                cur.execute(
                    "INSERT INTO seller_orders VALUES (%s, %s, %s, %s, 'awaiting_acceptance')",
                    [seller_order_id, order_id, reseller, total],
                )
                cur.executemany(
                    "INSERT INTO order_lines VALUES (%s, %s, %s, %s)",
                    [
                        (seller_order_id, o["product_id"], wanted[o["product_id"]], o["price"])
                        for o in chosen
                    ],
                )
                cur.executemany(
                    "UPDATE offers SET stock = stock - %s WHERE product_id = %s "
                    "AND reseller_id = %s",
                    [(wanted[o["product_id"]], o["product_id"], reseller) for o in chosen],
                )
                seller_orders.append({"seller_order_id": str(seller_order_id)})
        return {"order_id": str(order_id), "seller_orders": seller_orders}

    api.state.pool = pool
    return api


@contextmanager
def serve(url: str, schema: str) -> Iterator[str]:
    """The CRUD shop in its own process, as ours runs in its own."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.crud", url, schema, str(port)])
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    url, schema, port = sys.argv[1:4]
    uvicorn.run(app(url, schema), host="127.0.0.1", port=int(port), log_level="warning")
