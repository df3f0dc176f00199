"""Reading the catalog projection: each buyer's catalog at its own prices."""

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from marketplace.adapters.sql import Cursor, Row
from marketplace.kernel.money import Money
from offers.choice import Candidate, shelf_order
from offers.pricing import Tier, unit_price
from projections.catalog import NAME
from projections.paging import cut, decode_cursor
from projections.runner import ProjectionRunner


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


@dataclass(frozen=True)
class PriceList:
    """One of a buyer's price lists, with that buyer's own terms on it."""

    id: str
    reseller_name: str
    discount_bps: int
    fixed_prices: str
    payment_methods: str


def _buyer_lists(p: str, cur: Cursor, buyer_id: str, f: CatalogFilter) -> list[PriceList]:
    sql = f"""SELECT t.list_id, t.discount_bps, t.fixed_prices, t.payment_methods, r.name
        FROM {p}terms t
        JOIN {p}accounts r ON r.id = t.reseller_id AND r.status = 'approved'
        WHERE t.buyer_id = %s"""
    params: list[Any] = [buyer_id]
    if f.reseller_id:
        sql += " AND t.reseller_id = %s"
        params.append(f.reseller_id)
    cur.execute(sql + " ORDER BY t.list_id", params)
    return [
        PriceList(
            r["list_id"],
            r["name"],
            int(r["discount_bps"]),
            r["fixed_prices"],
            r["payment_methods"],
        )
        for r in cur.fetchall()
    ]


def _listed(p: str, f: CatalogFilter) -> tuple[str, list[Any]]:
    """FROM and WHERE clauses for one price list's visible rows (the list id comes first)."""
    sql = f"""FROM {p}listed x
        JOIN {p}accounts m ON m.id = x.manufacturer_id AND m.status = 'approved'
        WHERE x.list_id = %s"""
    params: list[Any] = []
    if f.q:
        sql += " AND x.search LIKE %s ESCAPE '\\'"
        params.append(_like(f.q))
    if f.brand:
        sql += " AND x.brand_key = %s"
        params.append(f.brand.lower())
    if f.category:
        sql += " AND x.category_key = %s"
        params.append(f.category.lower())
    if f.product_id:
        sql += " AND x.product_id = %s"
        params.append(f.product_id)
    return sql, params


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def priced_offer(row: Row, price_list: PriceList) -> dict[str, Any]:
    """One offer as this buyer sees it, priced by the rule in offers.pricing."""
    currency = row["currency"]
    price = Money(int(row["price_amount"]), currency)
    tiers = [Tier(q, Money(a, currency)) for q, a in json.loads(row["tiers"])]
    fixed_amount = json.loads(price_list.fixed_prices).get(row["product_id"])
    fixed = None if fixed_amount is None else Money(int(fixed_amount), currency)
    floor = None if row["map_amount"] is None else Money(int(row["map_amount"]), currency)
    moq = int(row["min_order_qty"])

    def at(quantity: int) -> Money:
        return unit_price(
            price,
            tiers,
            quantity,
            discount_bps=price_list.discount_bps,
            fixed_price=fixed,
            map_price=floor,
        )

    return {
        "offer_id": row["offer_id"],
        "reseller_id": row["reseller_id"],
        "reseller_name": price_list.reseller_name,
        "unit_price": at(moq).as_dict(),
        "tiers": [{"min_qty": t.min_qty, "unit_price": at(t.min_qty).as_dict()} for t in tiers],
        "stock": int(row["stock"]),
        "lead_time_days": int(row["lead_time_days"]),
        "min_order_qty": moq,
        "payment_methods": json.loads(price_list.payment_methods),
    }


def price_at(offer: dict[str, Any], quantity: int) -> dict[str, Any]:
    """The unit price at a quantity: the highest tier it reaches (prices are steps)."""
    price: dict[str, Any] = offer["unit_price"]
    for tier in offer["tiers"]:
        if offer["min_order_qty"] < tier["min_qty"] <= quantity:
            price = tier["unit_price"]
    return price


def candidate(offer: dict[str, Any], quantity: int) -> Candidate[dict[str, Any]]:
    return Candidate(
        offer,
        offer["reseller_id"],
        price_at(offer, quantity)["amount"],
        offer["lead_time_days"],
        offer["min_order_qty"],
        offer["stock"],
        frozenset(offer["payment_methods"]),
    )


def best_first(offer: dict[str, Any]) -> tuple[int, bool, int, str]:
    return shelf_order(candidate(offer, offer["min_order_qty"]))


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
        "tax_category": row["tax_category"],
    }


class CatalogView:
    def __init__(self, projections: ProjectionRunner) -> None:
        self.projections = projections

    def _prefix(self, cur: Cursor) -> str:
        return self.projections.live(cur, NAME).prefix

    def page(
        self, buyer_id: str, f: CatalogFilter, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        after = decode_cursor(cursor, 2) if cursor else None
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            lists = _buyer_lists(p, cur, buyer_id, f)
            if not lists:
                return [], None
            where, params = _listed(p, f)
            if after:
                where += " AND (x.name, x.product_id) > (%s, %s)"
                params += after
            # Each list is an index range scan in page order; the pages merge here.
            one = (
                f"SELECT * FROM (SELECT x.name, x.product_id {where} "
                "ORDER BY x.name, x.product_id LIMIT %s) page"
            )
            cur.execute(
                f"SELECT DISTINCT name, product_id FROM "
                f"({' UNION ALL '.join([one] * len(lists))}) pages "
                "ORDER BY name, product_id LIMIT %s",
                [v for pl in lists for v in (pl.id, *params, limit + 1)] + [limit + 1],
            )
            keys, next_cursor = cut(cur.fetchall(), limit, lambda k: [k["name"], k["product_id"]])
            items = self._items(cur, p, lists, [k["product_id"] for k in keys])
        return items, next_cursor

    def item(self, buyer_id: str, f: CatalogFilter) -> dict[str, Any] | None:
        assert f.product_id is not None
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            items = self._items(cur, p, _buyer_lists(p, cur, buyer_id, f), [f.product_id])
        return items[0] if items else None

    def items(
        self, buyer_id: str, product_ids: list[str], reseller_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """The given products of a buyer's catalog that it lists, by id."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            lists = _buyer_lists(p, cur, buyer_id, CatalogFilter(reseller_id=reseller_id))
            found = self._items(cur, p, lists, list(dict.fromkeys(product_ids)))
        return {item["product_id"]: item for item in found}

    def resellers(self, buyer_id: str) -> list[dict[str, str]]:
        """The approved resellers a buyer has terms with, by name."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"""SELECT r.id, r.name FROM {p}terms t
                JOIN {p}accounts r ON r.id = t.reseller_id AND r.status = 'approved'
                WHERE t.buyer_id = %s ORDER BY r.name, r.id""",
                [buyer_id],
            )
            return [{"id": r["id"], "name": r["name"]} for r in cur.fetchall()]

    def with_skus(self, skus: list[str]) -> dict[str, list[str]]:
        """The products carrying each SKU (manufacturers may share one), listed or not."""
        if not skus:
            return {}
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where, params = cur.one_of("sku", skus)
            cur.execute(f"SELECT id, sku FROM {p}products WHERE {where} ORDER BY id", params)
            found: dict[str, list[str]] = {}
            for row in cur.fetchall():
                found.setdefault(row["sku"], []).append(row["id"])
        return found

    def names(self, product_ids: list[str]) -> dict[str, dict[str, str]]:
        """Each product's SKU and name, for showing order lines."""
        if not product_ids:
            return {}
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where, params = cur.one_of("id", list(dict.fromkeys(product_ids)))
            cur.execute(f"SELECT id, sku, name FROM {p}products WHERE {where}", params)
            return {r["id"]: {"sku": r["sku"], "name": r["name"]} for r in cur.fetchall()}

    def account_names(self, account_ids: list[str]) -> dict[str, str]:
        """Sellers' names and buyers' legal names by id, in one read, for showing lists."""
        if not account_ids:
            return {}
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where, params = cur.one_of("id", list(dict.fromkeys(account_ids)))
            cur.execute(f"SELECT id, name FROM {p}accounts WHERE {where}", params)
            return {r["id"]: r["name"] for r in cur.fetchall()}

    def resellers_offering(self, buyer_id: UUID, product_ids: list[UUID]) -> dict[UUID, list[UUID]]:
        """For each product, the resellers whose offers on it this buyer's catalog lists."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            lists = _buyer_lists(p, cur, str(buyer_id), CatalogFilter())
            items = self._items(cur, p, lists, [str(i) for i in dict.fromkeys(product_ids)])
        return {
            UUID(item["product_id"]): [UUID(o["reseller_id"]) for o in item["offers"]]
            for item in items
        }

    def _items(
        self, cur: Cursor, p: str, lists: list[PriceList], ids: list[str]
    ) -> list[dict[str, Any]]:
        if not ids or not lists:
            return []
        by_id = {pl.id: pl for pl in lists}
        cur.execute(
            f"""SELECT x.list_id, p.*, o.id AS offer_id, o.reseller_id, o.product_id,
                   o.price_amount, o.tiers, o.stock, o.lead_time_days, o.min_order_qty
            FROM {p}listed x
            JOIN {p}accounts m ON m.id = x.manufacturer_id AND m.status = 'approved'
            JOIN {p}offers o ON o.id = x.offer_id
            JOIN {p}products p ON p.id = x.product_id
            WHERE x.list_id IN ({", ".join(["%s"] * len(by_id))})
              AND x.product_id IN ({", ".join(["%s"] * len(ids))})""",
            [*by_id, *ids],
        )
        products: dict[str, dict[str, Any]] = {}
        for row in cur.fetchall():
            terms = by_id[row["list_id"]]
            item = products.setdefault(row["id"], {**product_fields(row), "offers": []})
            item["offers"].append(priced_offer(row, terms))
        for item in products.values():
            item["offers"].sort(key=best_first)
        return [products[i] for i in ids if i in products]

    def reseller_offers(
        self,
        reseller_id: str,
        limit: int,
        cursor: str | None,
        q: str | None = None,
        status: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A reseller's offers by product; `q` searches the products' text, `status` is
        "active" or "withdrawn"."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            params: list[Any] = [reseller_id]
            where = "WHERE o.reseller_id = %s"
            if q:
                where += " AND p.search LIKE %s ESCAPE '\\'"
                params.append(_like(q))
            if status:
                where += " AND o.withdrawn = %s"
                params.append(1 if status == "withdrawn" else 0)
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
        self,
        manufacturer_id: str,
        limit: int,
        cursor: str | None,
        f: CatalogFilter | None = None,
        status: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A manufacturer's products by SKU; `f` filters by text, brand and category, and
        `status` ("active" or "discontinued") by state."""
        f = f or CatalogFilter()
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            params: list[Any] = [manufacturer_id]
            where = "WHERE manufacturer_id = %s"
            if f.q:
                where += " AND search LIKE %s ESCAPE '\\'"
                params.append(_like(f.q))
            if f.brand:
                where += " AND LOWER(brand) = %s"
                params.append(f.brand.lower())
            if f.category:
                where += " AND LOWER(category) = %s"
                params.append(f.category.lower())
            if status:
                where += " AND discontinued = %s"
                params.append(1 if status == "discontinued" else 0)
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

    def sellers(self, role: str, status: str | None = "approved") -> list[dict[str, str]]:
        """Manufacturers or resellers by name, in one status (or any)."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            sql = f"SELECT id, name, status FROM {p}accounts WHERE role = %s"
            params: list[Any] = [role]
            if status:
                sql += " AND status = %s"
                params.append(status)
            cur.execute(sql + " ORDER BY name, id", params)
            return [
                {"id": r["id"], "name": r["name"], "status": r["status"]} for r in cur.fetchall()
            ]

    def authorizations_of(self, manufacturer_id: str) -> list[dict[str, Any]]:
        """The resellers a manufacturer authorizes, what for, and how many of its products
        each offers now."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"""SELECT a.reseller_id, a.brands, a.categories, r.name, r.status,
                    (SELECT COUNT(*) FROM {p}offers o JOIN {p}products x ON x.id = o.product_id
                     WHERE o.reseller_id = a.reseller_id AND x.manufacturer_id = %s
                       AND o.withdrawn = 0) AS offers
                FROM {p}authorizations a JOIN {p}accounts r ON r.id = a.reseller_id
                WHERE a.manufacturer_id = %s AND a.active = 1 ORDER BY r.name, r.id""",
                [manufacturer_id, manufacturer_id],
            )
            return [
                {
                    "reseller_id": r["reseller_id"],
                    "name": r["name"],
                    "status": r["status"],
                    "brands": json.loads(r["brands"]) if r["brands"] else None,
                    "categories": json.loads(r["categories"]) if r["categories"] else None,
                    "offers": int(r["offers"]),
                }
                for r in cur.fetchall()
            ]

    def customers_of(self, reseller_id: str) -> list[dict[str, Any]]:
        """A reseller's buyers and the terms it gave each."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT * FROM {p}terms WHERE reseller_id = %s ORDER BY buyer_id", [reseller_id]
            )
            return [
                {
                    "buyer_id": r["buyer_id"],
                    "catalog": json.loads(r["catalog"]) if r["catalog"] else None,
                    "discount_bps": int(r["discount_bps"]),
                    "fixed_prices": json.loads(r["fixed_prices"]),
                    "payment_methods": json.loads(r["payment_methods"]),
                    "credit_limit": json.loads(r["credit_limit"]) if r["credit_limit"] else None,
                }
                for r in cur.fetchall()
            ]

    def reps_of(self, reseller_id: str) -> list[dict[str, Any]]:
        """A reseller's sales reps by name, with the buyer accounts each serves."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            cur.execute(
                f"SELECT * FROM {p}reps WHERE reseller_id = %s ORDER BY name, id", [reseller_id]
            )
            return [
                {"id": r["id"], "name": r["name"], "buyer_ids": json.loads(r["buyer_ids"])}
                for r in cur.fetchall()
            ]

    def accounts(
        self, role: str | None, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every account (manufacturers, resellers, buyers) by name, filtered."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            where, params = ["1 = 1"], []
            if role:
                where.append("role = %s")
                params.append(role)
            if status:
                where.append("status = %s")
                params.append(status)
            if cursor:
                name, after = decode_cursor(cursor, 2)
                where.append("(name, id) > (%s, %s)")
                params += [name, after]
            cur.execute(
                f"SELECT id, role, name, status FROM {p}accounts WHERE {' AND '.join(where)} "
                "ORDER BY name, id LIMIT %s",
                [*params, limit + 1],
            )
            rows, next_cursor = cut(cur.fetchall(), limit, lambda r: [r["name"], r["id"]])
        return [dict(r) for r in rows], next_cursor

    def people_of(self, principals: list[str], account_id: str | None) -> list[dict[str, Any]]:
        """The people of an organisation (the operator's have no account), by email."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            kinds, params = cur.one_of("principal", principals)
            where = "account_id IS NULL" if account_id is None else "account_id = %s"
            cur.execute(
                f"SELECT * FROM {p}people WHERE {kinds} AND {where} ORDER BY email",
                params + ([] if account_id is None else [account_id]),
            )
            return [
                {
                    "id": r["id"],
                    "email": r["email"],
                    "name": r["name"],
                    "role": r["role"],
                    "state": "disabled"
                    if r["disabled"]
                    else ("active" if r["has_password"] else "invited"),
                }
                for r in cur.fetchall()
            ]
