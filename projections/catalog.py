"""The catalog projection: per-aggregate state from which each buyer's catalog is derived.

It keeps one row per seller, product, offer, authorization and terms, exactly as their
events leave them. A buyer's view joins them at read time, so the order in which different
aggregates' events arrive never matters and storage grows with offers, not buyers times offers.
"""

import json
from collections.abc import Callable
from typing import Any

from marketplace.envelope import Envelope
from marketplace.sql import Cursor
from projections.tables import Handler, TableProjection

NAME = "catalog"

TABLES = {
    "sellers": "id TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL",
    "products": "id TEXT PRIMARY KEY, manufacturer_id TEXT NOT NULL, sku TEXT NOT NULL, "
    "name TEXT NOT NULL, brand TEXT NOT NULL, category TEXT NOT NULL, gtin TEXT, unit TEXT, "
    "attributes TEXT NOT NULL, currency TEXT NOT NULL, list_amount BIGINT NOT NULL, "
    "map_amount BIGINT, discontinued INTEGER NOT NULL, search TEXT NOT NULL",
    "offers": "id TEXT PRIMARY KEY, reseller_id TEXT NOT NULL, product_id TEXT NOT NULL, "
    "currency TEXT NOT NULL, price_amount BIGINT NOT NULL, tiers TEXT NOT NULL, "
    "stock BIGINT NOT NULL, lead_time_days INTEGER NOT NULL, min_order_qty INTEGER NOT NULL, "
    "withdrawn INTEGER NOT NULL",
    "authorizations": "id TEXT PRIMARY KEY, manufacturer_id TEXT NOT NULL, "
    "reseller_id TEXT NOT NULL, brands TEXT, categories TEXT, active INTEGER NOT NULL",
    "terms": "id TEXT PRIMARY KEY, reseller_id TEXT NOT NULL, buyer_id TEXT NOT NULL, "
    "catalog TEXT, discount_bps INTEGER NOT NULL, fixed_prices TEXT NOT NULL, "
    "payment_methods TEXT NOT NULL, credit_limit TEXT, scope_brands INTEGER NOT NULL, "
    "scope_categories INTEGER NOT NULL, scope_products INTEGER NOT NULL",
    "scope": "owner_id TEXT NOT NULL, dim TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY (owner_id, dim, value)",
}
INDEXES = {
    "products_name": "products (name, id)",
    "products_manufacturer": "products (manufacturer_id, sku)",
    "offers_product": "offers (product_id)",
    "offers_reseller": "offers (reseller_id, product_id)",
    "authorizations_pair": "authorizations (manufacturer_id, reseller_id)",
    "terms_buyer": "terms (buyer_id, reseller_id)",
}


def _upsert(cur: Cursor, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "id")
    cur.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}",
        list(row.values()),
    )


def _update(cur: Cursor, table: str, row: dict[str, Any]) -> None:
    columns = [c for c in row if c != "id"]
    sets = ", ".join(f"{c} = %s" for c in columns)
    cur.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*[row[c] for c in columns], row["id"]])


def _set_scope(cur: Cursor, prefix: str, owner_id: str, dims: dict[str, list[str] | None]) -> None:
    cur.execute(f"DELETE FROM {prefix}scope WHERE owner_id = %s", [owner_id])
    rows = [
        (owner_id, dim, value)
        for dim, values in dims.items()
        for value in sorted(set(values or []))
    ]
    if rows:
        cur.executemany(
            f"INSERT INTO {prefix}scope (owner_id, dim, value) VALUES (%s, %s, %s)", rows
        )


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


class CatalogProjection(TableProjection):
    """Applies one event's effect to the catalog tables named with `prefix`."""

    name = NAME
    TABLES = TABLES
    INDEXES = INDEXES

    def handlers(self) -> dict[str, Handler]:
        return {
            "Manufacturer.Registered": self._manufacturer_registered,
            "Reseller.Registered": self._reseller_registered,
            "Account.Approved": self._status("approved"),
            "Account.Reinstated": self._status("approved"),
            "Account.Suspended": self._status("suspended"),
            "Authorization.Granted": self._authorization,
            "Authorization.Changed": self._authorization,
            "Authorization.Revoked": self._authorization_revoked,
            "Product.Published": self._product,
            "Product.Revised": self._product,
            "Product.Discontinued": self._product_discontinued,
            "Offer.Published": self._offer,
            "Offer.Revised": self._offer,
            "Offer.StockSet": self._stock_set,
            "Offer.StockReserved": self._stock_moved(-1),
            "Offer.StockReleased": self._stock_moved(+1),
            "Offer.Withdrawn": self._offer_withdrawn,
            "CustomerTerms.Agreed": self._terms,
            "CustomerTerms.Revised": self._terms,
        }

    def _manufacturer_registered(self, cur: Cursor, event: Envelope) -> None:
        self._seller(cur, event, "manufacturer")

    def _reseller_registered(self, cur: Cursor, event: Envelope) -> None:
        self._seller(cur, event, "reseller")

    def _seller(self, cur: Cursor, event: Envelope, role: str) -> None:
        row = {
            "id": event["aggregate_id"],
            "role": role,
            "name": event["data"]["name"],
            "status": "pending",
        }
        _upsert(cur, self._t("sellers"), row)

    def _status(self, status: str) -> Callable[[Cursor, Envelope], None]:
        def handle(cur: Cursor, event: Envelope) -> None:
            cur.execute(
                f"UPDATE {self._t('sellers')} SET status = %s WHERE id = %s",
                [status, event["aggregate_id"]],
            )

        return handle

    def _authorization(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        aid = event["aggregate_id"]
        if event["type"] == "Authorization.Granted":
            cur.execute(
                f"INSERT INTO {self._t('authorizations')} (id, manufacturer_id, reseller_id,"
                " brands, categories, active) VALUES (%s, %s, %s, %s, %s, 1)",
                [
                    aid,
                    data["manufacturer_id"],
                    data["reseller_id"],
                    _json(data["brands"]),
                    _json(data["categories"]),
                ],
            )
        else:
            cur.execute(
                f"UPDATE {self._t('authorizations')} SET brands = %s, categories = %s, "
                "active = 1 WHERE id = %s",
                [_json(data["brands"]), _json(data["categories"]), aid],
            )
        _set_scope(cur, self.prefix, aid, {"brand": data["brands"], "category": data["categories"]})

    def _authorization_revoked(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('authorizations')} SET active = 0 WHERE id = %s",
            [event["aggregate_id"]],
        )

    def _product(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        pid = event["aggregate_id"]
        row: dict[str, Any] = {
            "id": pid,
            "name": data["name"],
            "brand": data["brand"],
            "category": data["category"],
            "gtin": data["gtin"],
            "unit": data["unit"],
            "attributes": json.dumps(data["attributes"], sort_keys=True),
            "currency": data["list_price"]["currency"],
            "list_amount": data["list_price"]["amount"],
            "map_amount": (data["map_price"] or {}).get("amount"),
            "discontinued": 0,
        }
        if event["type"] == "Product.Published":
            row["manufacturer_id"] = data["manufacturer_id"]
            row["sku"] = data["sku"]
            row["search"] = ""
            _upsert(cur, self._t("products"), row)
        else:
            _update(cur, self._t("products"), row)
        cur.execute(
            f"UPDATE {self._t('products')} SET search = LOWER(name || ' ' || sku || ' ' || "
            "brand) WHERE id = %s",
            [pid],
        )

    def _product_discontinued(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('products')} SET discontinued = 1 WHERE id = %s",
            [event["aggregate_id"]],
        )

    def _offer(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        row: dict[str, Any] = {
            "id": event["aggregate_id"],
            "currency": data["price"]["currency"],
            "price_amount": data["price"]["amount"],
            "tiers": json.dumps([[t["min_qty"], t["price"]["amount"]] for t in data["tiers"]]),
            "stock": data["stock"],
            "lead_time_days": data["lead_time_days"],
            "min_order_qty": data["min_order_qty"],
            "withdrawn": 0,
        }
        if event["type"] == "Offer.Published":
            row["reseller_id"] = data["reseller_id"]
            row["product_id"] = data["product_id"]
            _upsert(cur, self._t("offers"), row)
        else:
            _update(cur, self._t("offers"), row)

    def _stock_set(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('offers')} SET stock = %s WHERE id = %s",
            [event["data"]["quantity"], event["aggregate_id"]],
        )

    def _stock_moved(self, sign: int) -> Callable[[Cursor, Envelope], None]:
        def handle(cur: Cursor, event: Envelope) -> None:
            cur.execute(
                f"UPDATE {self._t('offers')} SET stock = stock + %s WHERE id = %s",
                [sign * event["data"]["quantity"], event["aggregate_id"]],
            )

        return handle

    def _offer_withdrawn(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('offers')} SET withdrawn = 1 WHERE id = %s",
            [event["aggregate_id"]],
        )

    def _terms(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        tid = event["aggregate_id"]
        catalog = data["catalog"]
        scope = catalog or {}
        row: dict[str, Any] = {
            "id": tid,
            "catalog": _json(catalog),
            "discount_bps": data["discount_bps"],
            "fixed_prices": json.dumps(
                {pid: price["amount"] for pid, price in data["fixed_prices"].items()},
                sort_keys=True,
            ),
            "payment_methods": json.dumps(data["payment_methods"]),
            "credit_limit": _json(data["credit_limit"]),
            "scope_brands": int(scope.get("brands") is not None),
            "scope_categories": int(scope.get("categories") is not None),
            "scope_products": int(scope.get("product_ids") is not None),
        }
        if event["type"] == "CustomerTerms.Agreed":
            row["reseller_id"] = data["reseller_id"]
            row["buyer_id"] = data["buyer_id"]
            _upsert(cur, self._t("terms"), row)
        else:
            _update(cur, self._t("terms"), row)
        _set_scope(
            cur,
            self.prefix,
            tid,
            {
                "brand": scope.get("brands"),
                "category": scope.get("categories"),
                "product": scope.get("product_ids"),
            },
        )
