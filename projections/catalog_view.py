"""Reading the catalog projection: each buyer's catalog at its own prices."""

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from marketplace.money import Money
from marketplace.sql import Cursor, Row
from offers.pricing import Tier, unit_price
from projections.catalog import NAME
from projections.paging import cut, decode_cursor
from projections.runner import Projections


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class CatalogFilter:
    q: str | None = None
    brand: str | None = None
    category: str | None = None
    reseller_id: str | None = None
    product_id: str | None = None


def _visible(p: str, buyer_id: str, f: CatalogFilter) -> tuple[str, list[Any]]:
    """FROM and WHERE clauses that keep exactly the offers this buyer may see."""
    sql = f"""
        FROM {p}products p
        JOIN {p}offers o ON o.product_id = p.id AND o.withdrawn = 0
        JOIN {p}sellers r ON r.id = o.reseller_id AND r.status = 'approved'
        JOIN {p}sellers m ON m.id = p.manufacturer_id AND m.status = 'approved'
        JOIN {p}authorizations a ON a.manufacturer_id = p.manufacturer_id
             AND a.reseller_id = o.reseller_id AND a.active = 1
        JOIN {p}terms t ON t.reseller_id = o.reseller_id AND t.buyer_id = %s
        WHERE p.discontinued = 0
          AND (a.brands IS NULL OR EXISTS (SELECT 1 FROM {p}scope s
               WHERE s.owner_id = a.id AND s.dim = 'brand' AND s.value = p.brand))
          AND (a.categories IS NULL OR EXISTS (SELECT 1 FROM {p}scope s
               WHERE s.owner_id = a.id AND s.dim = 'category' AND s.value = p.category))
          AND (t.scope_brands = 0 OR EXISTS (SELECT 1 FROM {p}scope s
               WHERE s.owner_id = t.id AND s.dim = 'brand' AND s.value = p.brand))
          AND (t.scope_categories = 0 OR EXISTS (SELECT 1 FROM {p}scope s
               WHERE s.owner_id = t.id AND s.dim = 'category' AND s.value = p.category))
          AND (t.scope_products = 0 OR EXISTS (SELECT 1 FROM {p}scope s
               WHERE s.owner_id = t.id AND s.dim = 'product' AND s.value = p.id))
    """
    params: list[Any] = [buyer_id]
    if f.q:
        sql += " AND p.search LIKE %s ESCAPE '\\'"
        params.append(_like(f.q))
    if f.brand:
        sql += " AND LOWER(p.brand) = %s"
        params.append(f.brand.lower())
    if f.category:
        sql += " AND LOWER(p.category) = %s"
        params.append(f.category.lower())
    if f.reseller_id:
        sql += " AND o.reseller_id = %s"
        params.append(f.reseller_id)
    if f.product_id:
        sql += " AND p.id = %s"
        params.append(f.product_id)
    return sql, params


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def priced_offer(row: Row) -> dict[str, Any]:
    """One offer as this buyer sees it, priced by the rule in offers.pricing."""
    currency = row["currency"]
    price = Money(int(row["price_amount"]), currency)
    tiers = [Tier(q, Money(a, currency)) for q, a in json.loads(row["tiers"])]
    fixed_amount = json.loads(row["fixed_prices"]).get(row["product_id"])
    fixed = None if fixed_amount is None else Money(int(fixed_amount), currency)
    floor = None if row["map_amount"] is None else Money(int(row["map_amount"]), currency)
    moq = int(row["min_order_qty"])

    def at(quantity: int) -> Money:
        return unit_price(
            price,
            tiers,
            quantity,
            discount_bps=int(row["discount_bps"]),
            fixed_price=fixed,
            map_price=floor,
        )

    return {
        "offer_id": row["offer_id"],
        "reseller_id": row["reseller_id"],
        "reseller_name": row["reseller_name"],
        "unit_price": at(moq).as_dict(),
        "tiers": [{"min_qty": t.min_qty, "unit_price": at(t.min_qty).as_dict()} for t in tiers],
        "stock": int(row["stock"]),
        "lead_time_days": int(row["lead_time_days"]),
        "min_order_qty": moq,
    }


def best_first(offer: dict[str, Any]) -> tuple[int, int, int, str]:
    return (
        offer["unit_price"]["amount"],
        0 if offer["stock"] >= offer["min_order_qty"] else 1,
        offer["lead_time_days"],
        offer["offer_id"],
    )


def product_fields(row: Row) -> dict[str, Any]:
    return {
        "product_id": row["id"],
        "sku": row["sku"],
        "name": row["name"],
        "brand": row["brand"],
        "category": row["category"],
        "gtin": row["gtin"],
        "unit": row["unit"],
        "attributes": json.loads(row["attributes"]),
        "list_price": _money(int(row["list_amount"]), row["currency"]),
        "map_price": None
        if row["map_amount"] is None
        else _money(int(row["map_amount"]), row["currency"]),
    }


class CatalogView:
    def __init__(self, projections: Projections) -> None:
        self.projections = projections

    def _prefix(self, cur: Cursor) -> str:
        return self.projections.live(cur, NAME).prefix

    def page(
        self, buyer_id: str, f: CatalogFilter, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where, params = _visible(p, buyer_id, f)
            if cursor:
                name, pid = decode_cursor(cursor, 2)
                where += " AND (p.name > %s OR (p.name = %s AND p.id > %s))"
                params += [name, name, pid]
            cur.execute(
                f"SELECT DISTINCT p.name, p.id {where} ORDER BY p.name, p.id LIMIT %s",
                [*params, limit + 1],
            )
            keys, next_cursor = cut(cur.fetchall(), limit, lambda k: [k["name"], k["id"]])
            items = self._items(cur, p, buyer_id, f, [k["id"] for k in keys])
        return items, next_cursor

    def item(self, buyer_id: str, f: CatalogFilter) -> dict[str, Any] | None:
        assert f.product_id is not None
        with self.projections.db.transaction() as cur:
            items = self._items(cur, self._prefix(cur), buyer_id, f, [f.product_id])
        return items[0] if items else None

    def resellers_offering(self, buyer_id: UUID, product_id: UUID) -> list[UUID]:
        """The resellers whose offers on a product this buyer's catalog lists."""
        item = self.item(str(buyer_id), CatalogFilter(product_id=str(product_id)))
        return [UUID(o["reseller_id"]) for o in item["offers"]] if item else []

    def _items(
        self, cur: Cursor, p: str, buyer_id: str, f: CatalogFilter, ids: list[str]
    ) -> list[dict[str, Any]]:
        if not ids:
            return []
        where, params = _visible(p, buyer_id, f)
        marks = ", ".join(["%s"] * len(ids))
        cur.execute(
            f"""SELECT p.*, o.id AS offer_id, o.reseller_id, o.product_id, o.price_amount,
                   o.tiers, o.stock, o.lead_time_days, o.min_order_qty, r.name AS reseller_name,
                   t.discount_bps, t.fixed_prices
            {where} AND p.id IN ({marks})""",
            [*params, *ids],
        )
        products: dict[str, dict[str, Any]] = {}
        for row in cur.fetchall():
            item = products.setdefault(row["id"], {**product_fields(row), "offers": []})
            item["offers"].append(priced_offer(row))
        for item in products.values():
            item["offers"].sort(key=best_first)
        return [products[i] for i in ids if i in products]

    def reseller_offers(
        self, reseller_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            params: list[Any] = [reseller_id]
            where = "WHERE o.reseller_id = %s"
            if cursor:
                where += " AND o.product_id > %s"
                params.append(decode_cursor(cursor, 1)[0])
            cur.execute(
                f"""SELECT o.*, p.sku, p.name, p.discontinued FROM {p}offers o
                JOIN {p}products p ON p.id = o.product_id {where}
                ORDER BY o.product_id LIMIT %s""",
                [*params, limit + 1],
            )
            rows, next_cursor = cut(cur.fetchall(), limit, lambda r: [r["product_id"]])
        items = [
            {
                "offer_id": r["id"],
                "product_id": r["product_id"],
                "sku": r["sku"],
                "name": r["name"],
                "price": _money(int(r["price_amount"]), r["currency"]),
                "tiers": [
                    {"min_qty": q, "price": _money(a, r["currency"])}
                    for q, a in json.loads(r["tiers"])
                ],
                "stock": int(r["stock"]),
                "lead_time_days": int(r["lead_time_days"]),
                "min_order_qty": int(r["min_order_qty"]),
                "status": "withdrawn"
                if r["withdrawn"]
                else ("discontinued" if r["discontinued"] else "active"),
            }
            for r in rows
        ]
        return items, next_cursor

    def manufacturer_products(
        self, manufacturer_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            params: list[Any] = [manufacturer_id]
            where = "WHERE manufacturer_id = %s"
            if cursor:
                where += " AND sku > %s"
                params.append(decode_cursor(cursor, 1)[0])
            cur.execute(
                f"SELECT * FROM {p}products {where} ORDER BY sku LIMIT %s", [*params, limit + 1]
            )
            rows, next_cursor = cut(cur.fetchall(), limit, lambda r: [r["sku"]])
        items = [
            {**product_fields(r), "status": "discontinued" if r["discontinued"] else "active"}
            for r in rows
        ]
        return items, next_cursor
