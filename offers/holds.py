"""Stock and credit held for orders: taken all or none, each at most once, given back."""

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import Conflict, DomainError, NotFound, Refusal
from marketplace.kernel.money import Money
from offers.application import Offers
from offers.domain import CustomerTerms, Offer, offer_id, terms_id


@dataclass(frozen=True)
class StockHold:
    """Units of one offer held for one line of a seller order."""

    ref: str
    reseller_id: UUID
    product_id: UUID
    quantity: int
    line: int


@dataclass(frozen=True)
class CreditHold:
    """Credit held with one reseller for one seller order paid by invoice."""

    ref: str
    reseller_id: UUID
    buyer_id: UUID
    amount: Money


class HoldsRefused(DomainError):
    """Some holds could not be taken; nothing was held."""

    def __init__(self, problems: list[dict[str, Any]], reason: Refusal) -> None:
        super().__init__(problems, reason)


class _Turn:
    """A lock given in the order it was asked for, handed straight to the next waiter:
    threading.Lock may pass one waiter over again and again, which is what the slowest of
    many orders on the same offers waited."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            mine = threading.Event()
            self._waiting.append(mine)
        mine.wait()

    def __exit__(self, *_: object) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


_STRIPES = [_Turn() for _ in range(64)]


@contextmanager
def _stripes(keys: Iterable[UUID]) -> Iterator[None]:
    """Holds on the same offers and terms in this process take turns instead of racing.

    Across processes optimistic concurrency still decides; within one, turns avoid retry
    storms when many orders want the same offers at once.
    """
    locks = [_STRIPES[i] for i in sorted({k.int % len(_STRIPES) for k in keys})]
    with ExitStack() as stack:
        for lock in locks:
            stack.enter_context(lock)
        yield


class Holds:
    """Stock and credit held for orders, taken and given back atomically."""

    def __init__(self, offers: Offers) -> None:
        self.offers = offers

    def take(self, stock: list[StockHold], credit: list[CreditHold]) -> None:
        """Takes every hold or none; each ref is taken at most once, however often asked."""
        with self.turns(self._keys(stock, credit)):
            retrying(lambda: self.offers.save(*self.held(stock, credit)))

    @staticmethod
    def turns(keys: Iterable[UUID]) -> AbstractContextManager[None]:
        """Holds on the same offers and terms in this process take turns instead of racing."""
        return _stripes(keys)

    def held(
        self, stock: list[StockHold], credit: list[CreditHold], kept: bool = False
    ) -> list[Offer | CustomerTerms]:
        """The offers and terms with every hold taken, to be saved by the caller (with other
        changes, when it must be all or none); HoldsRefused if any cannot be taken. `kept`
        takes them as this process last read or wrote them, without reading, for a caller
        whose save fails if any has changed since."""
        # Every offer and terms the holds touch, read with one query.
        ids = self._keys(stock, credit)
        found = self.offers.kept_copies(ids) if kept else None
        if found is not None:
            try:
                return _holding(found, stock, credit)
            except HoldsRefused:
                pass  # What this process kept may be behind: refuse only on what is stored.
        return _holding(self.offers.get_many(ids, Aggregate), stock, credit)

    def give_back(self, stock: list[StockHold], credit: list[CreditHold]) -> None:
        def attempt() -> None:
            touched: list[Offer | CustomerTerms] = []
            for hold in stock:
                offer = self.offers.offer(hold.reseller_id, hold.product_id)
                offer.release(hold.ref)
                touched.append(offer)
            for credit_hold in credit:
                terms = self.offers.terms(credit_hold.reseller_id, credit_hold.buyer_id)
                if terms is not None:
                    terms.free_credit(credit_hold.ref)
                    touched.append(terms)
            self.offers.save(*touched)

        with _stripes(self._keys(stock, credit)):
            retrying(attempt)

    def settle(self, hold: CreditHold, owed: int) -> None:
        """Lowers a credit hold to what its order still owes, as invoices are paid."""

        def attempt() -> None:
            terms = self.offers.terms(hold.reseller_id, hold.buyer_id)
            if terms is not None:
                terms.settle_credit(hold.ref, owed)
                self.offers.save(terms)

        with _stripes(self._keys([], [hold])):
            retrying(attempt)

    def restock(self, ref: str, reseller_id: UUID, product_id: UUID, quantity: int) -> None:
        """Puts returned units back in the offer's stock, once per `ref`."""

        def attempt() -> None:
            offer = self.offers.offer(reseller_id, product_id)
            offer.restock(ref, quantity)
            self.offers.save(offer)

        with _stripes([offer_id(reseller_id, product_id)]):
            retrying(attempt)

    def shipped(self, hold: StockHold) -> None:
        def attempt() -> None:
            offer = self.offers.offer(hold.reseller_id, hold.product_id)
            offer.ship(hold.ref, hold.quantity)
            self.offers.save(offer)

        with _stripes(self._keys([hold], [])):
            retrying(attempt)

    @staticmethod
    def _keys(stock: list[StockHold], credit: list[CreditHold]) -> list[UUID]:
        return [offer_id(h.reseller_id, h.product_id) for h in stock] + [
            terms_id(h.reseller_id, h.buyer_id) for h in credit
        ]


def _holding(
    touched: dict[UUID, Aggregate], stock: list[StockHold], credit: list[CreditHold]
) -> list[Offer | CustomerTerms]:
    problems: list[dict[str, Any]] = []
    for hold in stock:
        offer = touched.get(offer_id(hold.reseller_id, hold.product_id))
        if not isinstance(offer, Offer):
            raise NotFound(f"no offer on product {hold.product_id} from that reseller")
        try:
            offer.reserve(hold.ref, hold.quantity)
        except Conflict as error:
            problems.append(
                {
                    "line": hold.line,
                    "product_id": str(hold.product_id),
                    "reseller_id": str(hold.reseller_id),
                    "msg": str(error.detail),
                    "type": "stock",
                }
            )
    for credit_hold in credit:
        terms = touched.get(terms_id(credit_hold.reseller_id, credit_hold.buyer_id))
        if not isinstance(terms, CustomerTerms):
            raise NotFound("no terms with that reseller")
        try:
            terms.use_credit(credit_hold.ref, credit_hold.amount)
        except DomainError as error:
            problems.append(
                {
                    "reseller_id": str(credit_hold.reseller_id),
                    "msg": str(error.detail),
                    "type": "credit",
                }
            )
    if problems:
        credit_only = all(p["type"] == "credit" for p in problems)
        raise HoldsRefused(problems, Refusal.CREDIT if credit_only else Refusal.CONFLICT)
    return [a for a in touched.values() if isinstance(a, Offer | CustomerTerms)]
