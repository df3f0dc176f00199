"""What a buyer's search words mean: one normalisation of text for the index and the query.

Text becomes words: accents stripped, case folded, split at anything not a letter or a
digit, English plurals made singular. A word mixing letters and digits is a code (M8x20)
and only ever matches itself. A code key is the whole text folded with its separators
dropped, so `bc-1010`, `BC 1010` and `BC1010` name the same SKU.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_WORDS = 12
MAX_WORD = 64
# One typo is forgiven in a word of this many letters or more.
TYPO_LETTERS = 5
_SPLIT = re.compile(r"[^\w]+|_")


def fold(text: str) -> str:
    """Accents stripped and case folded: `Schraubendreher-Größe` -> `schraubendreher-grosse`."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare.casefold())


def singular(word: str) -> str:
    """An English plural's singular, by the few rules that are safe for part names."""
    if not word.isalpha() or len(word) < 4:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def is_code(word: str) -> bool:
    return any(c.isdigit() for c in word) and any(c.isalpha() for c in word)


def words(text: str) -> list[str]:
    """The words of a text as the index holds them, in order, repeats kept."""
    return [singular(w[:MAX_WORD]) for w in _SPLIT.split(fold(text)) if w]


def code_key(text: str) -> str:
    return "".join(w for w in _SPLIT.split(fold(text)) if w)[: MAX_WORD * 2]


def gtin_key(text: str | None) -> str:
    """A GTIN without its leading zeros, so GTIN-13 and GTIN-14 forms agree; '' if not one."""
    key = code_key(text or "")
    return key.lstrip("0") if key.isdigit() else ""


def index_words(
    sku: str, name: str, brand: str, category: str, gtin: str | None, attributes: object
) -> str:
    """A product's searchable words, each once, space-separated."""
    found = [code_key(sku), *words(name), *words(brand), *words(category)]
    found += [w for value in _attribute_values(attributes) for w in words(value)]
    return " ".join(dict.fromkeys(w for w in found if w))


def _attribute_values(value: object) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _attribute_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _attribute_values(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def may_take_typo(word: str) -> bool:
    return word.isalpha() and len(word) >= TYPO_LETTERS


def deletions(word: str) -> set[str]:
    """Every word one letter shorter: two words one edit apart share one of these, or one
    is the other's (the symmetric-delete idea behind SymSpell)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def near_keys(word: str) -> set[str]:
    """The keys the vocabulary files a typo target under."""
    return deletions(word) if word.isalpha() and len(word) >= TYPO_LETTERS - 2 else set()


def one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1: one letter changed, added, dropped or two
    neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@dataclass(frozen=True)
class SearchTerms:
    """A query as the index reads it."""

    text: str
    code: str
    gtin: str
    words: tuple[str, ...]
    # For each word that may take a typo, the vocabulary's words one edit from it.
    near: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.words and not self.code

    @property
    def fuzzy(self) -> bool:
        return any(self.near.get(w) for w in self.words)

    def alternatives(self, word: str) -> tuple[str, ...]:
        return (word, *self.near.get(word, ()))


def parse(text: str) -> SearchTerms:
    typed = [w for w in _SPLIT.split(fold(text)) if w][:MAX_WORDS]
    found = tuple(dict.fromkeys(singular(w[:MAX_WORD]) for w in typed))
    return SearchTerms(text, code_key(text), gtin_key(text), found)


def typo_words(terms: SearchTerms) -> dict[str, set[str]]:
    """The words of a query that may carry a typo, each with the forms a typo is sought from:
    as typed and as made singular (`cordles` is one letter from `cordless`, `cordle` two)."""
    typed = [w[:MAX_WORD] for w in _SPLIT.split(fold(terms.text)) if w][:MAX_WORDS]
    found: dict[str, set[str]] = {}
    for word in typed:
        if may_take_typo(word):
            found.setdefault(singular(word), set()).update({word, singular(word)})
    return found


def with_near(terms: SearchTerms, candidates: dict[str, set[str]]) -> SearchTerms:
    """The terms with each typo-able word's neighbours among the candidates found."""
    near = {}
    for word, forms in typo_words(terms).items():
        close = {c for c in candidates.get(word, set()) for f in forms if one_edit_apart(f, c)}
        near[word] = tuple(sorted(close - {word}))
    return SearchTerms(terms.text, terms.code, terms.gtin, terms.words, near)
