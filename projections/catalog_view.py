"""Reading the catalog projection: each buyer's catalog at its own prices."""

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from marketplace.adapters.sql import Cursor, Row
from marketplace.kernel.money import Money
from offers.choice import Candidate, shelf_order
from offers.pricing import Tier, unit_price
from offers.search import SearchTerms, parse
from projections import catalog_search
from projections.catalog import NAME
from projections.catalog_search import terms_for
from projections.paging import BadCursor, cut, decode_cursor
from projections.runner import ProjectionRunner

FACETS = ("brand", "category", "seller")
SUGGESTING_WORDS = 4


@dataclass(frozen=True)
class CatalogFilter:
    """What a catalog page shows. `reseller_id` is the one seller a caller is limited to (a
    sales rep's own); `sellers`, `brands` and `categories` are the buyer's filters, each
    matching any of its values."""

    q: str | None = None
    brands: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    reseller_id: str | None = None
    product_id: str | None = None
    sellers: tuple[str, ...] = ()
    in_stock: bool = False
    price_min: int | None = None
    price_max: int | None = None

    @property
    def priced(self) -> bool:
        return self.price_min is not None or self.price_max is not None


@dataclass(frozen=True)
class SearchResult:
    items: list[dict[str, Any]]
    next_cursor: str | None
    facets: dict[str, list[dict[str, Any]]] | None = None
    # Queries one or two edits away that would find something, when nothing was found.
    suggestions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PriceList:
    """One of a buyer's price lists, with that buyer's own terms on it."""

    id: str
    reseller_id: str
    reseller_name: str
    discount_bps: int
    fixed_prices: str
    payment_methods: str


def buyer_lists(p: str, cur: Cursor, buyer_id: str, f: CatalogFilter) -> list[PriceList]:
    sql = f"""SELECT t.list_id, t.reseller_id, t.discount_bps, t.fixed_prices,
            t.payment_methods, r.name
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
            r["reseller_id"],
            r["name"],
            int(r["discount_bps"]),
            r["fixed_prices"],
            r["payment_methods"],
        )
        for r in cur.fetchall()
    ]


def _keys(values: Sequence[str]) -> list[str]:
    return sorted({v.strip().lower() for v in values if v.strip()})


def _listed(cur: Cursor, p: str, f: CatalogFilter) -> tuple[str, list[Any]]:
    """FROM and WHERE clauses for one price list's visible rows (the list id comes first)."""
    sql = f"""FROM {p}listed x
        JOIN {p}accounts m ON m.id = x.manufacturer_id AND m.status = 'approved'
        WHERE x.list_id = %s"""
    params: list[Any] = []
    for column, values in (("x.brand_key", f.brands), ("x.category_key", f.categories)):
        if values:
            condition, args = cur.one_of(column, _keys(values))
            sql += f" AND {condition}"
            params += args
    if f.product_id:
        sql += " AND x.product_id = %s"
        params.append(f.product_id)
    return sql, params


def _chosen(lists: list[PriceList], f: CatalogFilter) -> list[PriceList]:
    wanted = set(f.sellers)
    return [pl for pl in lists if not wanted or pl.reseller_id in wanted]


def _price(lists: list[PriceList]) -> str:
    """A list row's unit price for this buyer at the offer's minimum quantity, before the
    product's minimum advertised price (offers.pricing, in SQL). Every number in it is the
    projection's own integer."""
    cases = []
    for pl in lists:
        own = f"(o.moq_amount * {10_000 - int(pl.discount_bps)} + 5000) / 10000"
        fixed = json.loads(pl.fixed_prices)
        if fixed:
            whens = " ".join(
                f"WHEN '{UUID(pid)}' THEN {int(amount)}" for pid, amount in sorted(fixed.items())
            )
            own = f"CASE x.product_id {whens} ELSE {own} END"
        cases.append(f"WHEN '{UUID(pl.id)}' THEN {own}")
    return f"CASE x.list_id {' '.join(cases)} END"


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
        # The generation last seen live, for reads that check it in their own statement.
        self._last_live: str | None = None

    def _prefix(self, cur: Cursor) -> str:
        return self.projections.live(cur, NAME).prefix

    def page(
        self, buyer_id: str, f: CatalogFilter, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        found = self.search(buyer_id, f, limit, cursor)
        return found.items, found.next_cursor

    def search(
        self,
        buyer_id: str,
        f: CatalogFilter,
        limit: int,
        cursor: str | None,
        facets: Sequence[str] = (),
    ) -> SearchResult:
        """A page of a buyer's catalog: by relevance when there is a query, else by name;
        with the requested facets counted over the whole result."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            lists = buyer_lists(p, cur, buyer_id, f)
            terms = terms_for(cur, p, f.q) if f.q else None
            if terms is not None and terms.empty:
                terms = None
            counted = None
            if terms is None and not f.in_stock and not f.priced:
                items, next_cursor = self._by_name(cur, p, _chosen(lists, f), f, limit, cursor)
                if facets:
                    counted = _Search(cur, p, lists, f, terms).run(0, None, facets)[2]
            else:
                search = _Search(cur, p, lists, f, terms)
                ids, next_cursor, counted = search.run(limit, cursor, facets)
                items = self._items(cur, p, _chosen(lists, f), ids)
            suggestions: list[str] = []
            if not items and not cursor and terms is not None and lists:
                suggestions = _suggest(cur, p, lists, f, terms)
        return SearchResult(items, next_cursor, counted, suggestions)

    def _by_name(
        self,
        cur: Cursor,
        p: str,
        lists: list[PriceList],
        f: CatalogFilter,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        after = decode_cursor(cursor, 2) if cursor else None
        if not lists:
            return [], None
        where, params = _listed(cur, p, f)
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
            items = self._items(cur, p, buyer_lists(p, cur, buyer_id, f), [f.product_id])
        return items[0] if items else None

    def items(
        self, buyer_id: str, product_ids: list[str], reseller_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """The given products of a buyer's catalog that it lists, by id."""
        with self.projections.db.transaction() as cur:
            p = self._prefix(cur)
            lists = buyer_lists(p, cur, buyer_id, CatalogFilter(reseller_id=reseller_id))
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
        ids = [str(i) for i in dict.fromkeys(product_ids)]
        if not ids:
            return {}
        with self.projections.db.reading() as cur:
            prefix = self._last_live or self._prefix(cur)
            for _ in range(3):  # a rebuild may swap generations between two statements
                found, live = self._resellers(cur, prefix, buyer_id, ids)
                if live == prefix:
                    break
                prefix = live or self._prefix(cur)
        self._last_live = live
        return found

    def _resellers(
        self, cur: Cursor, p: str, buyer_id: UUID, ids: list[str]
    ) -> tuple[dict[UUID, list[UUID]], str | None]:
        """The resellers listing each product in generation `p` if it is the live one, and
        the live one's prefix, in one statement: no round trip of its own to ask which is
        live. Generations only grow, so one seen live before still has its tables."""
        listed, params = cur.one_of("x.product_id", ids)
        # A price list is one reseller's: the terms' reseller is the listed offers'.
        cur.execute(
            f"""SELECT DISTINCT x.product_id, t.reseller_id, NULL AS live
            FROM {p}terms t
            JOIN {p}accounts r ON r.id = t.reseller_id AND r.status = 'approved'
            JOIN {p}listed x ON x.list_id = t.list_id
            JOIN {p}accounts m ON m.id = x.manufacturer_id AND m.status = 'approved'
            WHERE t.buyer_id = %s AND {listed}
              AND (SELECT prefix FROM projections WHERE name = %s) = %s
            UNION ALL SELECT NULL, NULL, prefix FROM projections WHERE name = %s
            ORDER BY 1, 2""",
            [str(buyer_id), *params, NAME, p, NAME],
        )
        found: dict[UUID, list[UUID]] = {}
        live = None
        for row in cur.fetchall():
            if row["live"] is not None:
                live = str(row["live"])
            else:
                found.setdefault(UUID(row["product_id"]), []).append(UUID(row["reseller_id"]))
        return found, live

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
            where = "o.reseller_id = %s"
            if status:
                where += " AND o.withdrawn = %s"
                params.append(1 if status == "withdrawn" else 0)
            rows, next_cursor = _ranked(
                cur,
                p,
                f"""o.*, p.sku, p.name, p.discontinued FROM {p}offers o
                JOIN {p}products p ON p.id = o.product_id""",
                (where, params),
                q,
                "product_id",
                (limit, cursor),
            )
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
            where = "p.manufacturer_id = %s"
            for column, values in (("p.brand", f.brands), ("p.category", f.categories)):
                if values:
                    condition, args = cur.one_of(f"LOWER({column})", _keys(values))
                    where += f" AND {condition}"
                    params += args
            if status:
                where += " AND p.discontinued = %s"
                params.append(1 if status == "discontinued" else 0)
            rows, next_cursor = _ranked(
                cur, p, f"p.* FROM {p}products p", (where, params), f.q, "sku", (limit, cursor)
            )
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


class _Search:
    """One search's SQL over a buyer's price lists. The rows the query and the stock filter
    keep are gathered once; the page and each facet narrow them by the other filters."""

    def __init__(
        self,
        cur: Cursor,
        p: str,
        lists: list[PriceList],
        f: CatalogFilter,
        terms: SearchTerms | None,
    ) -> None:
        self.cur, self.p, self.lists, self.f, self.terms = cur, p, lists, f, terms
        self.names = {pl.id: (pl.reseller_id, pl.reseller_name) for pl in lists}

    def _base(self) -> tuple[str, list[Any]]:
        p, f = self.p, self.f
        within, params = self.cur.one_of("x.list_id", [pl.id for pl in self.lists])
        # The list rows give only their key, so their primary key index alone can answer.
        columns = (
            "x.product_id, x.list_id, p.name, LOWER(p.brand) AS brand_key, p.brand, "
            "LOWER(p.category) AS category_key, p.category"
        )
        if f.priced:
            columns += f", {_price(self.lists) if self.lists else '0'} AS price, p.map_amount"
        rank, rank_args = "0", list[Any]()
        if self.terms is not None:
            rank, rank_args = catalog_search.tier(self.cur, p, self.terms)
            condition, args = catalog_search.condition(self.cur, p, self.terms)
            within += f" AND {condition}"
            params += args
        sql = f"""SELECT {columns}, {rank} AS tier FROM {p}listed x
            JOIN {p}products p ON p.id = x.product_id
            JOIN {p}accounts m ON m.id = p.manufacturer_id AND m.status = 'approved'
            {f"JOIN {p}offers o ON o.id = x.offer_id" if f.in_stock or f.priced else ""}
            WHERE {within}"""
        if f.in_stock:
            sql += " AND o.stock > 0 AND o.stock >= o.min_order_qty"
        if f.product_id:
            sql += " AND x.product_id = %s"
            params.append(f.product_id)
        return sql, rank_args + params

    def _narrowed(self, skip: str | None = None) -> tuple[str, list[Any]]:
        """The gathered rows `h` under every filter but `skip`'s own."""
        conditions, params = ["1 = 1"], list[Any]()
        for facet, column, values in (
            ("brand", "h.brand_key", _keys(self.f.brands)),
            ("category", "h.category_key", _keys(self.f.categories)),
            ("seller", "h.list_id", [pl.id for pl in _chosen(self.lists, self.f)]),
        ):
            if facet != skip and (values or (facet == "seller" and self.f.sellers)):
                condition, args = self.cur.one_of(column, values)
                conditions.append(condition)
                params += args
        return " AND ".join(conditions), params

    def _having(self) -> tuple[str, list[Any]]:
        f = self.f
        best = "MIN(CASE WHEN h.map_amount > h.price THEN h.map_amount ELSE h.price END)"
        conditions, params = [], list[Any]()
        if f.price_min is not None:
            conditions.append(f"{best} >= %s")
            params.append(f.price_min)
        if f.price_max is not None:
            conditions.append(f"{best} <= %s")
            params.append(f.price_max)
        return (" HAVING " + " AND ".join(conditions), params) if conditions else ("", [])

    def run(
        self, limit: int, cursor: str | None, facets: Sequence[str]
    ) -> tuple[list[str], str | None, dict[str, list[dict[str, Any]]] | None]:
        """Product ids by tier, then name, then id; and the facets asked for."""
        after = decode_cursor(cursor, 3) if cursor else None
        if after is not None and after[0] not in {"0", "1", "2", "3"}:
            raise BadCursor("cursor is not one this marketplace issued")
        base, params = self._base()
        having, having_args = self._having()
        where, where_args = self._narrowed()
        name = 'name COLLATE "C"' if self.cur.dialect == "postgresql" else "name"
        page = f"""SELECT product_id, name, tier FROM (
                SELECT h.product_id, MIN(h.name) AS name, MIN(h.tier) AS tier FROM h
                WHERE {where} GROUP BY h.product_id{having}) r"""
        branch_args = where_args + having_args
        if after is not None:
            page += f" WHERE (tier, {name}, product_id) > (%s, %s, %s)"
            branch_args += [int(after[0]), after[1], after[2]]
        page += f" ORDER BY tier, {name}, product_id LIMIT %s"
        branch_args.append(limit + 1)
        branches = [
            f"SELECT 'page' AS kind, product_id AS k, name AS label, tier AS n FROM ({page}) pg"
        ]
        if limit < 1:  # the facets alone
            branches, branch_args = [], []
        for facet in (f for f in FACETS if f in facets):
            where, where_args = self._narrowed(skip=facet)
            if facet == "seller":
                inner = f"""SELECT h.product_id, h.list_id AS k, '' AS label FROM h WHERE {where}
                    GROUP BY h.product_id, h.list_id{having}"""
            else:
                inner = f"""SELECT h.product_id, MIN(h.{facet}_key) AS k, MIN(h.{facet}) AS label
                    FROM h WHERE {where} GROUP BY h.product_id{having}"""
            branches.append(
                f"SELECT '{facet}' AS kind, g.k, g.label, COUNT(*) AS n FROM ({inner}) g "
                "GROUP BY g.k, g.label"
            )
            branch_args += where_args + having_args
        if self.cur.dialect == "postgresql":
            # The counts group a whole catalog's rows; at PostgreSQL's 4 MB they spill to disk.
            self.cur.execute("SET LOCAL work_mem = '32MB'")
        self.cur.execute(
            f"WITH h AS MATERIALIZED ({base}) {' UNION ALL '.join(branches)}",
            params + branch_args,
        )
        rows = self.cur.fetchall()
        ranked = sorted(
            ([str(r["n"]), r["label"], r["k"]] for r in rows if r["kind"] == "page"),
            key=lambda key: (int(key[0]), key[1], key[2]),
        )
        shown: list[dict[str, Any]] = []
        next_cursor = None
        if ranked:
            shown, next_cursor = cut([{"key": k} for k in ranked], limit, lambda r: r["key"])
        counted = None
        if facets:
            counted = {f: self._counts(f, [r for r in rows if r["kind"] == f]) for f in facets}
        return [r["key"][2] for r in shown], next_cursor, counted

    def _counts(self, facet: str, rows: list[Row]) -> list[dict[str, Any]]:
        if facet != "seller":
            return _labelled(rows)
        sellers = [
            {
                "reseller_id": self.names[r["k"]][0],
                "name": self.names[r["k"]][1],
                "count": int(r["n"]),
            }
            for r in rows
        ]
        return sorted(sellers, key=lambda v: (-v["count"], v["name"], v["reseller_id"]))

    def any(self) -> bool:
        base, params = self._base()
        having, having_args = self._having()
        where, where_args = self._narrowed()
        self.cur.execute(
            f"WITH h AS ({base}) SELECT h.product_id FROM h WHERE {where} "
            f"GROUP BY h.product_id{having} LIMIT 1",
            params + where_args + having_args,
        )
        return self.cur.fetchone() is not None


def _labelled(rows: list[Row]) -> list[dict[str, Any]]:
    """Counts by key, each shown as its most common spelling (the same in both stores)."""
    by_key: dict[str, dict[str, int]] = {}
    for r in rows:
        by_key.setdefault(r["k"], {})[r["label"]] = int(r["n"])
    values = [
        {
            "value": min(spellings, key=lambda s: (-spellings[s], s)),
            "count": sum(spellings.values()),
        }
        for spellings in by_key.values()
    ]
    return sorted(values, key=lambda v: (-v["count"], v["value"]))


def _suggest(
    cur: Cursor, p: str, lists: list[PriceList], f: CatalogFilter, terms: SearchTerms
) -> list[str]:
    """Queries with each word that finds nothing here replaced by a near one that does, the
    nearest first; only those that find something in this buyer's catalog."""

    def finds(text: str) -> bool:
        return _Search(cur, p, lists, f, parse(text)).any()

    if len(terms.words) > SUGGESTING_WORDS:
        return []  # each word costs a few reads; a long query is not worth them
    choices: list[list[str]] = []
    for word in terms.words:
        near = [w for w in catalog_search.nearest(cur, p, word, 4) if finds(w)][:3]
        kept = [word] if finds(word) else []
        if not kept + near:
            return []
        choices.append(kept + near)
    found: list[str] = []
    for combination in itertools.islice(itertools.product(*choices), 9):
        text = " ".join(combination)
        if text not in found and finds(text):
            found.append(text)
        if len(found) == 3:
            break
    return found


def _ranked(
    cur: Cursor,
    p: str,
    source: str,
    where: tuple[str, list[Any]],
    q: str | None,
    key: str,
    window: tuple[int, str | None],
) -> tuple[list[Row], str | None]:
    """A page of `SELECT source WHERE where` (products aliased `p`) by `key`; with a query,
    only the products it matches, the best tier first."""
    limit, cursor = window
    condition, params = where
    terms = terms_for(cur, p, q) if q else None
    if terms is None or terms.empty:
        rank, rank_args = "0", list[Any]()
    else:
        rank, rank_args = catalog_search.tier(cur, p, terms)
        matched, matched_args = catalog_search.condition(cur, p, terms)
        condition, params = f"{condition} AND {matched}", params + matched_args
    sql = f"SELECT * FROM (SELECT {rank} AS tier, {source} WHERE {condition}) r"
    params = rank_args + params
    if cursor:
        after = decode_cursor(cursor, 2)
        if after[0] not in {"0", "1", "2", "3"}:
            raise BadCursor("cursor is not one this marketplace issued")
        sql += f" WHERE (r.tier, r.{key}) > (%s, %s)"
        params += [int(after[0]), after[1]]
    cur.execute(f"{sql} ORDER BY r.tier, r.{key} LIMIT %s", [*params, limit + 1])
    return cut(cur.fetchall(), limit, lambda r: [str(r["tier"]), r[key]])
