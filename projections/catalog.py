"""The catalog projection: the state of every seller, product, offer, authorization and terms,
and the price lists that buyers' catalogs are read from.

A price list is one reseller's offers as one catalog scope lets a buyer see them. Buyers
whose terms with a reseller have the same scope share the list, whatever their discounts
and fixed prices (those are applied when a page is read), so the lists grow with distinct
(reseller, scope) pairs times offers, not with buyers times offers. Each list's rows carry
the product's name, brand, category and search text, so a page is an index range scan.

Every list row is derived from the state rows alone: whichever order the events of
different aggregates arrive in, each change re-derives the rows that depend on it.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

import orjson

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor, Row
from marketplace.kernel.money import Money
from offers.pricing import Tier, tier_price
from offers.search import code_key, gtin_key, index_words
from projections import catalog_index as search_index
from projections.catalog_index import SearchIndex
from projections.tables import TableProjection
from projections.tracking import Fold

NAME = "catalog"
LISTS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:price-lists")

LISTED_KEY = "list_id, product_id, offer_id"
TABLES = {
    "accounts": "id TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL",
    "products": "id TEXT PRIMARY KEY, manufacturer_id TEXT NOT NULL, sku TEXT NOT NULL, "
    "name TEXT NOT NULL, brand TEXT NOT NULL, category TEXT NOT NULL, gtin TEXT, unit TEXT, "
    "attributes TEXT NOT NULL, currency TEXT NOT NULL, list_amount BIGINT NOT NULL, "
    "map_amount BIGINT, discontinued INTEGER NOT NULL, search TEXT NOT NULL, "
    "tax_category TEXT NOT NULL DEFAULT 'standard', sku_key TEXT NOT NULL DEFAULT '', "
    "gtin_key TEXT NOT NULL DEFAULT '', words TEXT",
    "offers": "id TEXT PRIMARY KEY, reseller_id TEXT NOT NULL, product_id TEXT NOT NULL, "
    "currency TEXT NOT NULL, price_amount BIGINT NOT NULL, tiers TEXT NOT NULL, "
    "stock BIGINT NOT NULL, lead_time_days INTEGER NOT NULL, min_order_qty INTEGER NOT NULL, "
    "withdrawn INTEGER NOT NULL, moq_amount BIGINT",
    "authorizations": "id TEXT PRIMARY KEY, manufacturer_id TEXT NOT NULL, "
    "reseller_id TEXT NOT NULL, brands TEXT, categories TEXT, active INTEGER NOT NULL",
    "terms": "id TEXT PRIMARY KEY, reseller_id TEXT NOT NULL, buyer_id TEXT NOT NULL, "
    "catalog TEXT, discount_bps INTEGER NOT NULL, fixed_prices TEXT NOT NULL, "
    "payment_methods TEXT NOT NULL, credit_limit TEXT, list_id TEXT NOT NULL",
    "price_lists": "id TEXT PRIMARY KEY, reseller_id TEXT NOT NULL, scope_brands INTEGER NOT NULL, "
    "scope_categories INTEGER NOT NULL, scope_products INTEGER NOT NULL, "
    "buyer_count INTEGER NOT NULL",
    "scope": "owner_id TEXT NOT NULL, dim TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY (owner_id, dim, value)",
    # Sales reps and the buyer accounts each serves, for the back office.
    "reps": "id TEXT PRIMARY KEY, reseller_id TEXT NOT NULL, name TEXT NOT NULL, "
    "buyer_ids TEXT NOT NULL",
    # The people of each organisation, for its admins' list (no password here, or anywhere).
    "people": "id TEXT PRIMARY KEY, account_id TEXT, principal TEXT NOT NULL, "
    "email TEXT NOT NULL, name TEXT NOT NULL, role TEXT, has_password INTEGER NOT NULL, "
    "disabled INTEGER NOT NULL",
    "listed": "list_id TEXT NOT NULL, offer_id TEXT NOT NULL, product_id TEXT NOT NULL, "
    "manufacturer_id TEXT NOT NULL, name TEXT NOT NULL, brand_key TEXT NOT NULL, "
    "category_key TEXT NOT NULL, search TEXT NOT NULL, "
    f"PRIMARY KEY ({LISTED_KEY})",
    **search_index.TABLES,
}
INDEXES = {
    "products_name": "products (name, id)",
    "products_manufacturer": "products (manufacturer_id, sku)",
    "products_sku": "products (sku)",
    "products_sku_key": "products (sku_key)",
    "products_gtin_key": "products (gtin_key)",
    "offers_product": "offers (product_id)",
    "offers_reseller": "offers (reseller_id, product_id)",
    "authorizations_pair": "authorizations (manufacturer_id, reseller_id)",
    "terms_buyer": "terms (buyer_id, reseller_id)",
    "price_lists_reseller": "price_lists (reseller_id)",
    "reps_reseller": "reps (reseller_id, name)",
    "people_account": "people (account_id, principal, email)",
    "listed_name": "listed (list_id, name, product_id)",
    "listed_brand": "listed (list_id, brand_key, name, product_id)",
    "listed_category": "listed (list_id, category_key, name, product_id)",
}
COLUMNS = {
    table: [c.split()[0] for c in spec.split(", PRIMARY KEY (")[0].split(",")]
    for table, spec in TABLES.items()
}
# Which state table each event changes, and whether the event creates the row.
EVENTS: dict[str, tuple[str, bool]] = {
    "Manufacturer.Registered": ("accounts", True),
    "Reseller.Registered": ("accounts", True),
    # Buyers' accounts share the table (role "buyer"), for the operator's list of accounts.
    "Buyer.Registered": ("accounts", True),
    "SalesRep.Appointed": ("reps", True),
    "SalesRep.AccountsAssigned": ("reps", False),
    "Person.Registered": ("people", True),
    "Person.PasswordSet": ("people", False),
    "Person.Disabled": ("people", False),
    "Person.Enabled": ("people", False),
    "Account.Approved": ("accounts", False),
    "Account.Reinstated": ("accounts", False),
    "Account.Suspended": ("accounts", False),
    "Authorization.Granted": ("authorizations", True),
    "Authorization.Changed": ("authorizations", False),
    "Authorization.Revoked": ("authorizations", False),
    "Product.Published": ("products", True),
    "Product.Revised": ("products", False),
    "Product.Discontinued": ("products", False),
    "Product.TaxCategorySet": ("products", False),
    "Offer.Published": ("offers", True),
    "Offer.Revised": ("offers", False),
    "Offer.StockSet": ("offers", False),
    "Offer.StockReserved": ("offers", False),
    "Offer.StockReleased": ("offers", False),
    "Offer.Restocked": ("offers", False),
    "Offer.Withdrawn": ("offers", False),
    "CustomerTerms.Agreed": ("terms", True),
    "CustomerTerms.Revised": ("terms", False),
}
# What changes which offers a buyer's catalog lists; stock moves change only the numbers.
LISTING_EVENTS = frozenset(EVENTS) - {
    "Buyer.Registered",
    "SalesRep.Appointed",
    "SalesRep.AccountsAssigned",
    "Person.Registered",
    "Person.PasswordSet",
    "Person.Disabled",
    "Person.Enabled",
    "Offer.StockSet",
    "Offer.StockReserved",
    "Offer.StockReleased",
    "Offer.Restocked",
}
# Events after which the rows listing an offer, product or authorization are derived again.
RELISTS = {
    "Offer.Published",
    "Offer.Revised",
    "Offer.Withdrawn",
    "Product.Published",
    "Product.Revised",
    "Product.Discontinued",
    "Authorization.Granted",
    "Authorization.Changed",
    "Authorization.Revoked",
}
CHUNK = 500


def _text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _json(value: Any) -> str | None:
    return None if value is None else _text(value)


def list_scope(catalog: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """A terms' catalog scope in one canonical form: equal scopes share a price list."""
    return {dim: sorted(set(v)) for dim, v in sorted((catalog or {}).items()) if v is not None}


def list_id(reseller_id: str, catalog: dict[str, list[str]] | None) -> str:
    key = json.dumps([reseller_id, list_scope(catalog)], separators=(",", ":"))
    return str(uuid5(LISTS_NAMESPACE, key))


# Each reducer takes a row (None if absent) and one event, and returns the row after it.
Reducer = Callable[[Row | None, Envelope], Row | None]


def _seller(role: str) -> Reducer:
    def reduce(_: Row | None, event: Envelope) -> Row:
        data = event["data"]
        name = data["legal_name"] if role == "buyer" else data["name"]
        return {"id": event["aggregate_id"], "role": role, "name": name, "status": "pending"}

    return reduce


def _status(status: str) -> Reducer:
    def reduce(row: Row | None, _: Envelope) -> Row | None:
        # Buyers' accounts have the same events; only sellers have rows here.
        return None if row is None else {**row, "status": status}

    return reduce


def _rep(_: Row | None, event: Envelope) -> Row:
    data = event["data"]
    return {
        "id": event["aggregate_id"],
        "reseller_id": data["reseller_id"],
        "name": data["name"],
        "buyer_ids": "[]",
    }


def _assigned(row: Row | None, event: Envelope) -> Row | None:
    buyer_ids = sorted(str(b) for b in event["data"]["buyer_ids"])
    return None if row is None else {**row, "buyer_ids": _text(buyer_ids)}


def _person(_: Row | None, event: Envelope) -> Row:
    data = event["data"]
    return {
        "id": event["aggregate_id"],
        "account_id": None if data["account_id"] is None else str(data["account_id"]),
        "principal": data["principal"],
        "email": data["email"],
        "name": data["name"],
        "role": data["role"],
        "has_password": 0,
        "disabled": 0,
    }


def _person_flag(column: str, value: int) -> Reducer:
    def reduce(row: Row | None, _: Envelope) -> Row | None:
        return None if row is None else {**row, column: value}

    return reduce


def _authorization(row: Row | None, event: Envelope) -> Row:
    data = event["data"]
    base = row or {
        "id": event["aggregate_id"],
        "manufacturer_id": data["manufacturer_id"],
        "reseller_id": data["reseller_id"],
    }
    return {
        **base,
        "brands": _json(data["brands"]),
        "categories": _json(data["categories"]),
        "active": 1,
    }


def _revoked(row: Row | None, _: Envelope) -> Row | None:
    return None if row is None else {**row, "active": 0}


def _product(row: Row | None, event: Envelope) -> Row:
    data = event["data"]
    base = row or {
        "id": event["aggregate_id"],
        "manufacturer_id": data["manufacturer_id"],
        "sku": data["sku"],
        "tax_category": "standard",
    }
    return {
        **base,
        "name": data["name"],
        "brand": data["brand"],
        "category": data["category"],
        "gtin": data["gtin"],
        "unit": data["unit"],
        "attributes": _text(data["attributes"]),
        "currency": data["list_price"]["currency"],
        "list_amount": data["list_price"]["amount"],
        "map_amount": (data["map_price"] or {}).get("amount"),
        "discontinued": 0,
        "search": f"{data['name']} {base['sku']} {data['brand']}".lower(),
        **_search_keys({**base, **data}),
    }


def _search_keys(product: Row) -> Row:
    attributes = product["attributes"]
    if isinstance(attributes, str):
        attributes = json.loads(attributes)
    return {
        "sku_key": code_key(product["sku"]),
        "gtin_key": gtin_key(product["gtin"]),
        "words": index_words(
            product["sku"],
            product["name"],
            product["brand"],
            product["category"],
            product["gtin"],
            attributes,
        ),
    }


def _moq_amount(offer: Row) -> int:
    """The offer's own price at its minimum quantity, before any buyer's terms."""
    currency = offer["currency"]
    tiers = [Tier(q, Money(a, currency)) for q, a in json.loads(offer["tiers"])]
    price = Money(int(offer["price_amount"]), currency)
    return tier_price(price, tiers, int(offer["min_order_qty"])).amount


def _discontinued(row: Row | None, _: Envelope) -> Row | None:
    return None if row is None else {**row, "discontinued": 1}


def _tax_category(row: Row | None, event: Envelope) -> Row | None:
    return None if row is None else {**row, "tax_category": event["data"]["category"]}


def _offer(row: Row | None, event: Envelope) -> Row:
    data = event["data"]
    base = row or {
        "id": event["aggregate_id"],
        "reseller_id": data["reseller_id"],
        "product_id": data["product_id"],
    }
    offer = {
        **base,
        "currency": data["price"]["currency"],
        "price_amount": data["price"]["amount"],
        "tiers": _text([[t["min_qty"], t["price"]["amount"]] for t in data["tiers"]]),
        "stock": data["stock"],
        "lead_time_days": data["lead_time_days"],
        "min_order_qty": data["min_order_qty"],
        "withdrawn": 0,
    }
    return {**offer, "moq_amount": _moq_amount(offer)}


def _stock_set(row: Row | None, event: Envelope) -> Row | None:
    return None if row is None else {**row, "stock": event["data"]["quantity"]}


def _stock_moved(sign: int) -> Reducer:
    def reduce(row: Row | None, event: Envelope) -> Row | None:
        if row is None:
            return None
        return {**row, "stock": int(row["stock"]) + sign * event["data"]["quantity"]}

    return reduce


def _withdrawn(row: Row | None, _: Envelope) -> Row | None:
    return None if row is None else {**row, "withdrawn": 1}


def _terms(row: Row | None, event: Envelope) -> Row:
    data = event["data"]
    base = row or {
        "id": event["aggregate_id"],
        "reseller_id": data["reseller_id"],
        "buyer_id": data["buyer_id"],
    }
    return {
        **base,
        "catalog": _json(data["catalog"]),
        "discount_bps": data["discount_bps"],
        "fixed_prices": _text(
            {pid: price["amount"] for pid, price in data["fixed_prices"].items()}
        ),
        "payment_methods": _text(data["payment_methods"]),
        "credit_limit": _json(data["credit_limit"]),
        "list_id": list_id(base["reseller_id"], data["catalog"]),
    }


REDUCERS: dict[str, Reducer] = {
    "Manufacturer.Registered": _seller("manufacturer"),
    "Reseller.Registered": _seller("reseller"),
    "Buyer.Registered": _seller("buyer"),
    "SalesRep.Appointed": _rep,
    "SalesRep.AccountsAssigned": _assigned,
    "Person.Registered": _person,
    "Person.PasswordSet": _person_flag("has_password", 1),
    "Person.Disabled": _person_flag("disabled", 1),
    "Person.Enabled": _person_flag("disabled", 0),
    "Account.Approved": _status("approved"),
    "Account.Reinstated": _status("approved"),
    "Account.Suspended": _status("suspended"),
    "Authorization.Granted": _authorization,
    "Authorization.Changed": _authorization,
    "Authorization.Revoked": _revoked,
    "Product.Published": _product,
    "Product.Revised": _product,
    "Product.Discontinued": _discontinued,
    "Product.TaxCategorySet": _tax_category,
    "Offer.Published": _offer,
    "Offer.Revised": _offer,
    "Offer.StockSet": _stock_set,
    "Offer.StockReserved": _stock_moved(-1),
    "Offer.StockReleased": _stock_moved(+1),
    "Offer.Restocked": _stock_moved(+1),
    "Offer.Withdrawn": _withdrawn,
    "CustomerTerms.Agreed": _terms,
    "CustomerTerms.Revised": _terms,
}


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class CatalogProjection(TableProjection):
    """Applies events to the catalog tables named with `prefix`.

    With `deferred`, as in a rebuild, only the state rows are written; `finish` then derives
    the price lists from the terms and every list's rows in one statement.
    """

    name = NAME
    TABLES = TABLES
    INDEXES = INDEXES
    # `sellers` held buyers too; `lists` was a second name in use (shopping lists).
    RENAMED_TABLES: ClassVar[dict[str, str]] = {"sellers": "accounts", "lists": "price_lists"}
    RENAMED_COLUMNS: ClassVar[dict[str, dict[str, str]]] = {"price_lists": {"terms": "buyer_count"}}
    RETIRED_INDEXES = ("lists_reseller",)
    ADDED_COLUMNS: ClassVar[dict[str, dict[str, str]]] = {
        "products": {
            "tax_category": "TEXT NOT NULL DEFAULT 'standard'",
            "sku_key": "TEXT NOT NULL DEFAULT ''",
            "gtin_key": "TEXT NOT NULL DEFAULT ''",
            "words": "TEXT",
        },
        "offers": {"moq_amount": "BIGINT"},
    }

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self.search = SearchIndex(prefix)

    def tables(self) -> list[str]:
        return [*super().tables(), search_index.FTS]

    def apply_many(self, cur: Cursor, events: Sequence[Envelope]) -> None:
        ours = [e for e in events if e["type"] in EVENTS]
        if not ours:
            return
        if not self.deferred:
            self._serialize(cur)
        rows = self._load(cur, ours)
        before = {key: dict(value) for key, value in rows.items() if value is not None}
        relist: dict[str, set[str]] = {"offers": set(), "products": set(), "authorizations": set()}
        for event in ours:
            table, _ = EVENTS[event["type"]]
            key = (table, event["aggregate_id"])
            rows[key] = REDUCERS[event["type"]](rows.get(key), event)
            if event["type"] in RELISTS:
                relist[table].add(event["aggregate_id"])
        changed = {k: v for k, v in rows.items() if v is not None and before.get(k) != v}
        self._write_state(cur, changed)
        if not self.deferred:
            self.search.products_changed(
                cur, [r for (t, _), r in changed.items() if t == "products"]
            )
        self._write_scopes(cur, [r for (t, _), r in changed.items() if t == "authorizations"])
        if not self.deferred:
            created = self._count_terms(cur, before, changed)
            self._relist(cur, "l.id", created, None)
            self._relist_changes(cur, relist)

    def fold(self) -> Fold:
        return _Memory(self)

    def write_all(self, cur: Cursor, rows: dict[str, dict[str, Row]]) -> None:
        """Writes a rebuild's state rows into the empty tables, each in key order."""
        for table, by_id in rows.items():
            columns = COLUMNS[table]
            ordered = (by_id[key] for key in sorted(by_id))
            cur.insert(self._t(table), columns, ([row[c] for c in columns] for row in ordered))
        self._write_scopes(cur, list(rows["authorizations"].values()))

    def create(self, cur: Cursor) -> None:
        # A deferred build finds rows by primary key only; its indexes come in `finish`.
        if not self.deferred:
            super().create(cur)
            self._fill_added(cur)
            self.search.create(cur)
            self.search.fill_vocabulary(cur)
            return
        for table, columns in self.TABLES.items():
            if table == "listed" and cur.dialect == "postgresql":
                # Its key, too, is cheaper built after its rows (see `finish`).
                columns = columns.split(", PRIMARY KEY")[0]
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self._t(table)} ({columns})")

    def finish(self, cur: Cursor) -> None:
        """Derives the price lists and every list's rows from the state rows, then builds the
        indexes: building them once after the rows is much cheaper than keeping them up."""
        cur.execute(f"SELECT * FROM {self._t('terms')}")
        self._count_terms(cur, {}, {("terms", row["id"]): row for row in cur.fetchall()})
        if cur.dialect == "postgresql":
            # Freshly filled tables have no statistics; without them the join plans badly.
            for table in (
                "accounts",
                "products",
                "offers",
                "authorizations",
                "price_lists",
                "scope",
            ):
                cur.execute(f"ANALYZE {self._t(table)}")
        self._insert_listed(cur, "1 = 1", [])
        if cur.dialect == "postgresql":
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cur.execute(f"ALTER TABLE {self._t('listed')} ADD PRIMARY KEY ({LISTED_KEY})")
        super().create(cur)
        self.search.create(cur)
        self.search.fill_vocabulary(cur)
        if cur.dialect == "postgresql":
            cur.execute(f"ANALYZE {self._t('listed')}")
            cur.execute(f"ANALYZE {self._t('products')}")

    def _fill_added(self, cur: Cursor) -> None:
        """Columns added by an upgrade, derived from the rows' own data."""
        cur.execute(f"SELECT * FROM {self._t('products')} WHERE words IS NULL")
        products = [{**row, **_search_keys(row)} for row in cur.fetchall()]
        if products:
            self._write_state(cur, {("products", row["id"]): row for row in products})
        cur.execute(f"SELECT * FROM {self._t('offers')} WHERE moq_amount IS NULL")
        offers = [{**row, "moq_amount": _moq_amount(row)} for row in cur.fetchall()]
        if offers:
            self._write_state(cur, {("offers", row["id"]): row for row in offers})

    # State rows

    def _serialize(self, cur: Cursor) -> None:
        # Two projectors deriving list rows at once could each miss the other's change, so
        # they take turns (SQLite has one writer anyway).
        if cur.dialect == "postgresql":
            # Advisory locks span the database; the schema keeps marketplaces apart.
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || %s))",
                [self.prefix],
            )

    def _load(self, cur: Cursor, events: Sequence[Envelope]) -> dict[tuple[str, str], Row | None]:
        first: dict[tuple[str, str], bool] = {}
        for event in events:
            table, creates = EVENTS[event["type"]]
            first.setdefault((table, event["aggregate_id"]), creates)
        wanted: dict[str, set[str]] = {}
        for (table, aggregate_id), creates in first.items():
            if not creates:
                wanted.setdefault(table, set()).add(aggregate_id)
        rows: dict[tuple[str, str], Row | None] = {}
        for table, ids in wanted.items():
            for chunk in _chunks(ids):
                where, args = cur.one_of("id", chunk)
                cur.execute(f"SELECT * FROM {self._t(table)} WHERE {where}", args)
                for row in cur.fetchall():
                    rows[(table, row["id"])] = row
        return rows

    def _write_state(self, cur: Cursor, changed: dict[tuple[str, str], Row]) -> None:
        by_table: dict[str, list[Row]] = {}
        for (table, _), row in changed.items():
            by_table.setdefault(table, []).append(row)
        for table, rows in by_table.items():
            columns = COLUMNS[table]
            cur.upsert(self._t(table), columns, [[row[c] for c in columns] for row in rows], "id")

    def _write_scopes(self, cur: Cursor, authorizations: list[Row]) -> None:
        for chunk in _chunks(a["id"] for a in authorizations):
            where, args = cur.one_of("owner_id", chunk)
            cur.execute(f"DELETE FROM {self._t('scope')} WHERE {where}", args)
        scope = []
        for row in authorizations:
            for dim, column in (("brand", "brands"), ("category", "categories")):
                for value in sorted(set(json.loads(row[column] or "[]"))):
                    scope.append((row["id"], dim, value))
        self._insert_scope(cur, scope)

    def _insert_scope(self, cur: Cursor, scope: list[tuple[str, str, str]]) -> None:
        if scope:
            cur.executemany(
                f"INSERT INTO {self._t('scope')} (owner_id, dim, value) VALUES (%s, %s, %s)",
                scope,
            )

    # Price lists

    def _count_terms(
        self, cur: Cursor, before: dict[tuple[str, str], Row], changed: dict[tuple[str, str], Row]
    ) -> set[str]:
        """Moves each changed terms to its list; creates lists that gain their first terms
        and drops lists that lose their last. Returns the lists created."""
        delta: dict[str, int] = {}
        scopes: dict[str, tuple[str, dict[str, list[str]]]] = {}
        for (table, aggregate_id), row in changed.items():
            if table != "terms":
                continue
            old = before.get((table, aggregate_id))
            if old is not None and old["list_id"] == row["list_id"]:
                continue
            if old is not None:
                delta[old["list_id"]] = delta.get(old["list_id"], 0) - 1
            delta[row["list_id"]] = delta.get(row["list_id"], 0) + 1
            scopes[row["list_id"]] = (
                row["reseller_id"],
                list_scope(json.loads(row["catalog"] or "null")),
            )
        if not delta:
            return set()
        lists = self._t("price_lists")
        counts: dict[str, int] = {}
        for chunk in _chunks(delta):
            where, args = cur.one_of("id", chunk)
            cur.execute(f"SELECT id, buyer_count FROM {lists} WHERE {where}", args)
            counts.update({r["id"]: int(r["buyer_count"]) for r in cur.fetchall()})
        created: set[str] = set()
        dropped: list[str] = []
        for lid, change in delta.items():
            if lid not in counts:
                reseller_id, scope = scopes[lid]
                cur.execute(
                    f"INSERT INTO {lists} (id, reseller_id, scope_brands, scope_categories, "
                    "scope_products, buyer_count) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        lid,
                        reseller_id,
                        int("brands" in scope),
                        int("categories" in scope),
                        int("product_ids" in scope),
                        change,
                    ],
                )
                dims = {"brands": "brand", "categories": "category", "product_ids": "product"}
                self._insert_scope(
                    cur, [(lid, dims[d], v) for d, values in scope.items() for v in values]
                )
                created.add(lid)
            elif counts[lid] + change <= 0:
                dropped.append(lid)
            else:
                cur.execute(
                    f"UPDATE {lists} SET buyer_count = buyer_count + %s WHERE id = %s",
                    [change, lid],
                )
        for chunk in _chunks(dropped):
            for table, column in (
                ("listed", "list_id"),
                ("scope", "owner_id"),
                ("price_lists", "id"),
            ):
                where, args = cur.one_of(column, chunk)
                cur.execute(f"DELETE FROM {self._t(table)} WHERE {where}", args)
        return created

    def _relist_changes(self, cur: Cursor, relist: dict[str, set[str]]) -> None:
        if relist["products"]:
            self._relist(cur, "p.id", relist["products"], "o.product_id")
        offers = relist["offers"]
        if offers and relist["products"]:
            # Offers on a product just relisted are already right.
            covered: set[str] = set()
            for chunk in _chunks(relist["products"]):
                where, args = cur.one_of("product_id", chunk)
                cur.execute(f"SELECT id FROM {self._t('offers')} WHERE {where}", args)
                covered.update(r["id"] for r in cur.fetchall())
            offers = offers - covered
        if offers:
            self._relist(cur, "o.id", offers, "o.id")
        for auth_id in sorted(relist["authorizations"]):
            cur.execute(
                f"SELECT manufacturer_id, reseller_id FROM {self._t('authorizations')} "
                "WHERE id = %s",
                [auth_id],
            )
            pair = cur.fetchone()
            if pair is None:
                continue
            cur.execute(
                f"DELETE FROM {self._t('listed')} WHERE manufacturer_id = %s AND list_id IN "
                f"(SELECT id FROM {self._t('price_lists')} WHERE reseller_id = %s)",
                [pair["manufacturer_id"], pair["reseller_id"]],
            )
            self._insert_listed(cur, "a.id = %s", [auth_id])

    def _relist(self, cur: Cursor, key: str, ids: set[str], offers_key: str | None) -> None:
        """Derives again the list rows of the offers `offers_key` picks (or of new lists)."""
        for chunk in _chunks(ids):
            if offers_key is not None:
                where, args = cur.one_of(offers_key, chunk)
                # By primary key: the rows each of these offers may have.
                cur.execute(
                    f"DELETE FROM {self._t('listed')} WHERE (list_id, product_id, offer_id) IN "
                    f"(SELECT l.id, o.product_id, o.id FROM {self._t('offers')} o "
                    f"JOIN {self._t('price_lists')} l ON l.reseller_id = o.reseller_id "
                    f"WHERE {where})",
                    args,
                )
            self._insert_listed(cur, *cur.one_of(key, chunk))

    def _insert_listed(self, cur: Cursor, where: str, params: list[Any]) -> None:
        p = self.prefix
        cur.execute(
            f"""INSERT INTO {p}listed (list_id, offer_id, product_id, manufacturer_id, name,
                brand_key, category_key, search)
            SELECT l.id, o.id, p.id, p.manufacturer_id, p.name, LOWER(p.brand),
                LOWER(p.category), p.search
            FROM {p}offers o
            JOIN {p}products p ON p.id = o.product_id AND p.discontinued = 0
            JOIN {p}authorizations a ON a.manufacturer_id = p.manufacturer_id
                 AND a.reseller_id = o.reseller_id AND a.active = 1
            JOIN {p}price_lists l ON l.reseller_id = o.reseller_id
            WHERE o.withdrawn = 0
              AND (a.brands IS NULL OR EXISTS (SELECT 1 FROM {p}scope s
                   WHERE s.owner_id = a.id AND s.dim = 'brand' AND s.value = p.brand))
              AND (a.categories IS NULL OR EXISTS (SELECT 1 FROM {p}scope s
                   WHERE s.owner_id = a.id AND s.dim = 'category' AND s.value = p.category))
              AND (l.scope_brands = 0 OR EXISTS (SELECT 1 FROM {p}scope s
                   WHERE s.owner_id = l.id AND s.dim = 'brand' AND s.value = p.brand))
              AND (l.scope_categories = 0 OR EXISTS (SELECT 1 FROM {p}scope s
                   WHERE s.owner_id = l.id AND s.dim = 'category' AND s.value = p.category))
              AND (l.scope_products = 0 OR EXISTS (SELECT 1 FROM {p}scope s
                   WHERE s.owner_id = l.id AND s.dim = 'product' AND s.value = p.id))
              AND {where}""",
            params,
        )


class _Memory:
    """A rebuild's state rows, by table and id, until `write`."""

    def __init__(self, projection: CatalogProjection) -> None:
        self.projection = projection
        self.rows: dict[str, dict[str, Row]] = {table: {} for table, _ in EVENTS.values()}

    def add(self, event: Envelope) -> None:
        kind = event["type"]
        spec = EVENTS.get(kind)
        if spec is None:
            return
        rows = self.rows[spec[0]]
        aggregate_id = event["aggregate_id"]
        row = REDUCERS[kind](rows.get(aggregate_id), event)
        if row is not None:
            rows[aggregate_id] = row

    def write(self, cur: Cursor) -> None:
        self.projection.write_all(cur, self.rows)
