"""The catalog's search index: part of the catalog projection, derived from its product rows.

Each product row carries its words (offers.search); the index over them is SQLite's FTS5 or
PostgreSQL's full-text search, both fed those words verbatim so both modes agree. The
vocabulary and its deletion keys find the words one typo away from a query's.
"""

from collections.abc import Iterable

from marketplace.adapters.sql import Cursor, Row
from offers.search import near_keys

CHUNK = 500
TABLES = {
    "vocabulary": "word TEXT PRIMARY KEY",
    # A vocabulary word filed under each of its one-letter deletions.
    "near_words": "variant TEXT NOT NULL, word TEXT NOT NULL, PRIMARY KEY (variant, word)",
}
FTS = "product_words"
# PostgreSQL reads the stored words as lexemes: no parser, no dictionary, nothing to disagree.
PG_VECTOR = "array_to_tsvector(string_to_array({}, ' '))"


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class SearchIndex:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _t(self, name: str) -> str:
        return self.prefix + name

    def create(self, cur: Cursor) -> None:
        """The dialect's own index structures; filled from the products when new."""
        products = self._t("products")
        if cur.dialect == "postgresql":
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS {self._t('products_words')} ON {products} "
                f"USING gin ({PG_VECTOR.format('words')})"
            )
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS {self._t('products_sku_prefix')} ON {products} "
                "(sku_key text_pattern_ops)"
            )
            return
        cur.execute(
            "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = %s",
            [self._t(FTS)],
        )
        if cur.fetchone() is None:
            cur.execute(
                f"CREATE VIRTUAL TABLE {self._t(FTS)} USING fts5(words, "
                "tokenize = 'unicode61 remove_diacritics 0')"
            )
            cur.execute(
                f"INSERT INTO {self._t(FTS)} (rowid, words) SELECT rowid, words FROM {products} "
                "WHERE words IS NOT NULL"
            )

    def fill_vocabulary(self, cur: Cursor) -> None:
        """The vocabulary of every product's words, if it is empty (a rebuild or an upgrade)."""
        cur.execute(f"SELECT 1 AS found FROM {self._t('vocabulary')} LIMIT 1")
        if cur.fetchone() is not None:
            return
        cur.execute(f"SELECT words FROM {self._t('products')} WHERE words IS NOT NULL")
        found: set[str] = set()
        for row in cur.fetchall():
            found.update(row["words"].split())
        self._add_words(cur, found)

    def products_changed(self, cur: Cursor, products: list[Row]) -> None:
        """Indexes the words of product rows just written."""
        found = {w for row in products for w in (row["words"] or "").split()}
        if cur.dialect == "sqlite":
            for chunk in _chunks(row["id"] for row in products):
                where, args = cur.one_of("id", chunk)
                rows = f"SELECT rowid FROM {self._t('products')} WHERE {where}"
                cur.execute(f"DELETE FROM {self._t(FTS)} WHERE rowid IN ({rows})", args)
                cur.execute(
                    f"INSERT INTO {self._t(FTS)} (rowid, words) SELECT rowid, words "
                    f"FROM {self._t('products')} WHERE {where}",
                    args,
                )
        known: set[str] = set()
        for chunk in _chunks(found):
            where, args = cur.one_of("word", chunk)
            cur.execute(f"SELECT word FROM {self._t('vocabulary')} WHERE {where}", args)
            known.update(r["word"] for r in cur.fetchall())
        self._add_words(cur, found - known)

    def _add_words(self, cur: Cursor, new: set[str]) -> None:
        # A word no product holds any more stays: it only ever proposes a candidate, which
        # the index then matches against the products that hold it (none).
        if not new:
            return
        ordered = sorted(new)
        cur.insert(self._t("vocabulary"), ["word"], ([w] for w in ordered))
        keys = sorted({(key, w) for w in ordered for key in near_keys(w)})
        cur.insert(self._t("near_words"), ["variant", "word"], keys)
