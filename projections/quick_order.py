"""Turning what a buyer asked for (a product or a SKU, a quantity, maybe a seller) into the
offer it would get at its own prices, or the sentence that says why not."""

from dataclasses import dataclass
from typing import Any

from offers.choice import Unavailable, Why, choose, problem
from projections.catalog_view import CatalogView, candidate, price_at

MAX_QUICK_LINES = 1000
MAX_QUANTITY = 1_000_000_000


SENTENCES = {
    Why.NO_OFFER: "no seller offers it to you now",
    Why.NOT_PAYABLE: "no seller of it accepts {method} from you",
    Why.BELOW_MINIMUM: "below the minimum quantity: at least {figure}",
    Why.SHORT_OF_STOCK: "not enough stock: at most {figure} available from one seller",
}


def sentence(unavailable: Unavailable, payment_method: str | None) -> str:
    return SENTENCES[unavailable.why].format(method=payment_method, figure=unavailable.figure)


def pick(
    item: dict[str, Any],
    quantity: int,
    reseller_id: str | None,
    payment_method: str | None = None,
) -> tuple[dict[str, Any] | None, str | None]:
    """The offer placement would choose for this quantity (among the buyer's pick's, if it
    made one), or why none can take it."""
    offers = item["offers"]
    if reseller_id is not None:
        offers = [o for o in offers if o["reseller_id"] == reseller_id]
        if not offers:
            return None, "that seller no longer offers it to you"
        only = candidate(offers[0], quantity)
        trouble = problem(only, quantity, payment_method)
        return offers[0], None if trouble is None else sentence(trouble, payment_method)
    chosen = choose([candidate(o, quantity) for o in offers], quantity, payment_method)
    if isinstance(chosen, Unavailable):
        return None, sentence(chosen, payment_method)
    return chosen.held, None


@dataclass
class Resolved:
    quantity: int
    line: int = 0
    sku: str | None = None
    item: dict[str, Any] | None = None
    offer: dict[str, Any] | None = None
    problem: str | None = None
    reseller_id: str | None = None  # the buyer's own pick, if it made one

    @property
    def unit_price(self) -> dict[str, Any] | None:
        return None if self.offer is None else price_at(self.offer, self.quantity)

    @property
    def total(self) -> dict[str, Any] | None:
        price = self.unit_price
        if price is None:
            return None
        return {"amount": price["amount"] * self.quantity, "currency": price["currency"]}


def parse_quick_order(text: str) -> tuple[list[tuple[int, str, int]], list[Resolved]]:
    """`SKU, quantity` lines (comma, semicolon or tab): the good ones, and the bad explained.
    A header line and blank lines are skipped."""
    good: list[tuple[int, str, int]] = []
    bad: list[Resolved] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("\t", ",").replace(";", ",").split(",")]
        if number == 1 and parts[0].lower() == "sku":
            continue
        if len(good) + len(bad) >= MAX_QUICK_LINES:
            bad.append(Resolved(0, number, problem=f"more than {MAX_QUICK_LINES} lines"))
            break
        sku = parts[0][:100]
        if len(parts) != 2 or not sku:
            bad.append(Resolved(0, number, sku or None, problem="write it as: SKU, quantity"))
            continue
        if not parts[1].isdigit() or not 0 < int(parts[1][:12]) <= MAX_QUANTITY:
            bad.append(Resolved(0, number, sku, problem="the quantity is not a whole number"))
            continue
        good.append((number, sku, int(parts[1])))
    return good, bad


def resolve_skus(
    catalog: CatalogView,
    buyer_id: str,
    reseller_id: str | None,
    wanted: list[tuple[int, str, int]],
    payment_method: str | None = None,
) -> list[Resolved]:
    """Each SKU's product in this buyer's catalog and the offer placement would choose for
    it (paid as `payment_method`, when the buyer has said); the same SKU twice is summed
    onto its first line."""
    summed: dict[str, Resolved] = {}
    for number, sku, quantity in wanted:
        if sku in summed:
            summed[sku].quantity += quantity
        else:
            summed[sku] = Resolved(quantity, number, sku)
    products = catalog.with_skus(list(summed))
    items = catalog.items(
        buyer_id, [pid for pids in products.values() for pid in pids], reseller_id
    )
    for sku, resolved in summed.items():
        ids = products.get(sku, [])
        listed = [items[pid] for pid in ids if pid in items]
        if not ids:
            resolved.problem = "unknown SKU"
            continue
        if not listed:
            resolved.problem = "not in your catalog"
            continue
        tries = [(item, *pick(item, resolved.quantity, None, payment_method)) for item in listed]
        item, offer, problem = min(
            tries,
            key=lambda t: (
                (t[2] is not None, price_at(t[1], resolved.quantity)["amount"])
                if t[1]
                else (True, 0)
            ),
        )
        resolved.item, resolved.offer, resolved.problem = item, offer, problem
    return list(summed.values())


def resolve_products(
    catalog: CatalogView,
    buyer_id: str,
    reseller_id: str | None,
    wanted: list[tuple[str, int]],
    payment_method: str | None = None,
) -> list[tuple[str, Resolved]]:
    """Each product of a list or a past order with the offer it would get now for its
    quantity, or why none (the product left the buyer's catalog, too little stock...)."""
    items = catalog.items(buyer_id, [pid for pid, _ in wanted], reseller_id)
    found = []
    for number, (pid, quantity) in enumerate(wanted, start=1):
        resolved = Resolved(quantity, number)
        item = items.get(pid)
        if item is None:
            resolved.problem = "not in your catalog"
        else:
            resolved.item = item
            resolved.offer, resolved.problem = pick(item, quantity, None, payment_method)
        found.append((pid, resolved))
    return found
