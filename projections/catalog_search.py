"""The SQL a catalog search reads with: which products match a query, and in which tier.

Tiers, best first: 0 an exact SKU or GTIN, 1 a SKU that starts with the query, 2 every
word of the query among the product's words, 3 the same with one typo in a long word.
Conditions are on the products table aliased `p`.
"""

from typing import Any

from marketplace.adapters.sql import Cursor
from offers.search import SearchTerms, deletions, one_edit_apart, parse, typo_words, with_near
from projections.catalog_index import FTS, PG_VECTOR

WORST_TIER = 3


def _groups(terms: SearchTerms, fuzzy: bool) -> list[tuple[str, ...]]:
    return [terms.alternatives(w) if fuzzy else (w,) for w in terms.words]


def _words_match(cur: Cursor, p: str, terms: SearchTerms, fuzzy: bool) -> tuple[str, list[Any]]:
    groups = _groups(terms, fuzzy)
    # Words hold letters and digits only (offers.search), so they quote as they are.
    if cur.dialect == "postgresql":
        query = " & ".join("(" + " | ".join(f"'{w}'" for w in g) + ")" for g in groups)
        return f"{PG_VECTOR.format('p.words')} @@ %s::tsquery", [query]
    query = " AND ".join("(" + " OR ".join(f'"{w}"' for w in g) + ")" for g in groups)
    return f"p.rowid IN (SELECT rowid FROM {p}{FTS} WHERE {p}{FTS} MATCH %s)", [query]


def _code_match(terms: SearchTerms) -> tuple[str, list[Any]]:
    return "(p.sku_key = %s OR p.gtin_key = %s)", [terms.code, terms.gtin or "-"]


def _prefix_match(terms: SearchTerms) -> tuple[str, list[Any]]:
    # Codes are letters and digits only: nothing in them is a LIKE wildcard.
    return "p.sku_key LIKE %s", [terms.code + "%"]


def condition(cur: Cursor, p: str, terms: SearchTerms) -> tuple[str, list[Any]]:
    """Whether a product matches the query in any tier."""
    parts = [_code_match(terms), _prefix_match(terms)]
    if terms.words:
        parts.append(_words_match(cur, p, terms, fuzzy=True))
    return "(" + " OR ".join(sql for sql, _ in parts) + ")", [v for _, a in parts for v in a]


def tier(cur: Cursor, p: str, terms: SearchTerms) -> tuple[str, list[Any]]:
    """A matching product's tier."""
    cases = [(0, _code_match(terms)), (1, _prefix_match(terms))]
    if terms.words and terms.fuzzy:
        cases.append((2, _words_match(cur, p, terms, fuzzy=False)))
    last = WORST_TIER if terms.fuzzy else 2
    sql = " ".join(f"WHEN {c} THEN {n}" for n, (c, _) in cases)
    return f"CASE {sql} ELSE {last} END", [v for _, (_, a) in cases for v in a]


def terms_for(cur: Cursor, p: str, text: str) -> SearchTerms:
    """The query's terms, with the vocabulary's words one typo from each long word."""
    terms = parse(text)
    wanted = typo_words(terms)
    if not wanted:
        return terms
    candidates: dict[str, set[str]] = {}
    for word, forms in wanted.items():
        short = sorted({d for f in forms for d in deletions(f)})
        keys = sorted({*forms, *short})
        near, near_args = cur.one_of("variant", keys)
        known, known_args = cur.one_of("word", short)
        cur.execute(
            f"SELECT word FROM {p}near_words WHERE {near} "
            f"UNION SELECT word FROM {p}vocabulary WHERE {known}",
            near_args + known_args,
        )
        candidates[word] = {r["word"] for r in cur.fetchall()}
    return with_near(terms, candidates)


def nearest(cur: Cursor, p: str, word: str, limit: int) -> list[str]:
    """Vocabulary words one or two edits from `word`, nearest first, for suggestions."""
    if not word.isalpha() or len(word) < 3:
        return []
    once = deletions(word)
    twice = {d for w in once for d in deletions(w)} if len(word) > 3 else set()
    keys = sorted({word, *once, *twice})
    near, near_args = cur.one_of("variant", keys)
    cur.execute(f"SELECT DISTINCT word FROM {p}near_words WHERE {near}", near_args)
    found = {r["word"] for r in cur.fetchall()} - {word}
    known, known_args = cur.one_of("word", sorted(once))
    cur.execute(f"SELECT word FROM {p}vocabulary WHERE {known}", known_args)
    found |= {r["word"] for r in cur.fetchall()}
    return sorted(found, key=lambda w: (0 if one_edit_apart(word, w) else 1, w))[:limit]
