"""The offers context: catalog products, offers, customer terms, imports."""

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from marketplace.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from marketplace.eventstore import MarketplaceApplication
from marketplace.money import Money
from offers.domain import (
    CustomerTerms,
    ImportJob,
    Offer,
    Product,
    check_offer_terms,
    check_product_prices,
    offer_id,
    product_id,
    terms_id,
)
from offers.pricing import Tier
from sellers.domain import Authorization

IMPORT_BATCH = 500
# Aggregates a bulk batch has read or staged, by id.
Known = dict[UUID, Aggregate]


class TierAsDict(Transcoding):
    type = Tier
    name = "tier"

    def encode(self, obj: Tier) -> dict[str, Any]:
        return {"min_qty": obj.min_qty, "price": obj.price}

    def decode(self, data: dict[str, Any]) -> Tier:
        return Tier(data["min_qty"], data["price"])


@dataclass(frozen=True)
class ProductDetails:
    name: str
    brand: str
    category: str
    gtin: str | None
    attributes: dict[str, str]
    unit: str | None
    list_price: Money
    map_price: Money | None

    def fields(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class OfferTerms:
    price: Money
    tiers: list[Tier]
    stock: int
    lead_time_days: int
    min_order_qty: int


@dataclass(frozen=True)
class Terms:
    catalog: dict[str, list[str]] | None
    discount_bps: int
    fixed_prices: dict[UUID, Money]
    payment_methods: list[str]
    credit_limit: Money | None


class Offers(MarketplaceApplication):
    name = "offers"
    # Offers and terms gain an event per order line they serve; snapshots keep loading them
    # cheap however long their history grows.
    snapshotting_intervals = {Offer: 100, CustomerTerms: 100}
    # Wired by the platform: the sellers context answers who may sell what.
    authorization_of: Callable[[UUID, UUID], Authorization | None]

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(TierAsDict())

    # Products

    def product(self, pid: UUID) -> Product:
        return self.load(pid, Product, "product")

    def put_product(
        self, manufacturer_id: UUID, sku: str, details: ProductDetails
    ) -> tuple[Product, bool]:
        """Creates or revises a product; returns it and whether it is new."""
        existing = self.find(product_id(manufacturer_id, sku), Product)
        product, created = self._upsert_product(manufacturer_id, sku, details, existing)
        self.save(product)
        return product, created

    def _upsert_product(
        self, manufacturer_id: UUID, sku: str, details: ProductDetails, product: Product | None
    ) -> tuple[Product, bool]:
        check_product_prices(details.list_price, details.map_price)
        if product is None:
            return Product(manufacturer_id=manufacturer_id, sku=sku, **details.fields()), True
        product.revise(**details.fields())
        return product, False

    def discontinue(self, manufacturer_id: UUID, sku: str) -> None:
        product = self.load(product_id(manufacturer_id, sku), Product, "product")
        product.discontinue()
        self.save(product)

    def start_import(
        self, owner_id: UUID, kind: str, total: int, failed: list[dict[str, Any]]
    ) -> UUID:
        job = ImportJob(owner_id, kind, total)
        if failed:
            job.progress(0, failed)
        self.save(job)
        return job.id

    def run_import(self, job_id: UUID, rows: Iterable[tuple[int, str, ProductDetails]]) -> None:
        """Imports a manufacturer's good product lines in batches."""
        job = self.load(job_id, ImportJob, "import job")

        def prefetch(lines: list[tuple[int, Any]]) -> Known:
            ids = [product_id(job.owner_id, sku) for _, (sku, _) in lines]
            return dict(self.find_many(ids, Product))

        def stage(known: Known, row: tuple[str, ProductDetails]) -> Aggregate:
            sku, details = row
            existing = known.get(product_id(job.owner_id, sku))
            return self._upsert_product(
                job.owner_id, sku, details, existing if isinstance(existing, Product) else None
            )[0]

        self._run_batches(job, ((line, (sku, d)) for line, sku, d in rows), prefetch, stage)

    def run_offer_import(self, job_id: UUID, rows: Iterable[tuple[int, UUID, OfferTerms]]) -> None:
        """Imports a reseller's good offer lines in batches."""
        job = self.load(job_id, ImportJob, "import job")
        reseller_id = job.owner_id
        authorizations: dict[UUID, Authorization | None] = {}

        def prefetch(lines: list[tuple[int, Any]]) -> Known:
            authorizations.clear()
            pids = [pid for _, (pid, _) in lines]
            known: Known = dict(self.find_many(pids, Product))
            known.update(self.find_many([offer_id(reseller_id, p) for p in pids], Offer))
            return known

        def authorization_of(manufacturer_id: UUID, _: UUID) -> Authorization | None:
            if manufacturer_id not in authorizations:
                authorizations[manufacturer_id] = self.authorization_of(
                    manufacturer_id, reseller_id
                )
            return authorizations[manufacturer_id]

        def stage(known: Known, row: tuple[UUID, OfferTerms]) -> Aggregate:
            pid, terms = row
            product = known.get(pid)
            if not isinstance(product, Product):
                raise NotFound(f"unknown product {pid}")
            existing = known.get(offer_id(reseller_id, pid))
            return self._upsert_offer(
                reseller_id,
                product,
                terms,
                existing if isinstance(existing, Offer) else None,
                authorization_of,
            )[0]

        self._run_batches(job, ((line, (pid, t)) for line, pid, t in rows), prefetch, stage)

    def _run_batches(
        self,
        job: ImportJob,
        rows: Iterable[tuple[int, Any]],
        prefetch: Callable[[list[tuple[int, Any]]], Known],
        stage: Callable[[Known, Any], Aggregate],
    ) -> None:
        """Each batch of lines and the job's progress commit together, so a crash loses no
        line it reported done; a batch that meets a concurrent change is staged again.
        A batch reads the aggregates it needs with a query or two, not one per line."""
        lines: list[tuple[int, Any]] = []
        for line in rows:
            lines.append(line)
            if len(lines) == IMPORT_BATCH:
                self._commit_batch(job, lines, prefetch, stage)
                lines = []
        self._commit_batch(job, lines, prefetch, stage, last=True)

    def _commit_batch(
        self,
        job: ImportJob,
        lines: list[tuple[int, Any]],
        prefetch: Callable[[list[tuple[int, Any]]], Known],
        stage: Callable[[Known, Any], Aggregate],
        last: bool = False,
    ) -> None:
        def attempt() -> None:
            known = prefetch(lines)
            staged: dict[UUID, Aggregate] = {}
            failed: list[dict[str, Any]] = []
            for number, row in lines:
                try:
                    aggregate = stage(known, row)
                    known[aggregate.id] = staged[aggregate.id] = aggregate
                except DomainError as error:
                    failed.append({"line": number, "detail": str(error.detail)})
            fresh = self.load(job.id, ImportJob, "import job")
            fresh.progress(len(lines) - len(failed), failed)
            if last:
                fresh.complete()
            self.save(*staged.values(), fresh)

        _retrying(attempt)

    def import_job(self, job_id: UUID, owner_id: UUID) -> ImportJob:
        job = self.find(job_id, ImportJob)
        if job is None or job.owner_id != owner_id:
            raise NotFound(f"unknown import job {job_id}")
        return job

    # Offers

    def put_offer(self, reseller_id: UUID, pid: UUID, terms: OfferTerms) -> tuple[Offer, bool]:
        product = self.product(pid)
        existing = self.find(offer_id(reseller_id, pid), Offer)
        offer, created = self._upsert_offer(
            reseller_id, product, terms, existing, self.authorization_of
        )
        self.save(offer)
        return offer, created

    def _upsert_offer(
        self,
        reseller_id: UUID,
        product: Product,
        terms: OfferTerms,
        offer: Offer | None,
        authorization_of: Callable[[UUID, UUID], Authorization | None],
    ) -> tuple[Offer, bool]:
        if product.discontinued:
            raise Conflict("the product is discontinued")
        authorization = authorization_of(product.manufacturer_id, reseller_id)
        if authorization is None or not authorization.covers(product.brand, product.category):
            raise Forbidden("the manufacturer has not authorized you to sell this product")
        check_offer_terms(
            product,
            terms.price,
            terms.tiers,
            terms.stock,
            terms.lead_time_days,
            terms.min_order_qty,
        )
        if offer is None:
            return Offer(reseller_id=reseller_id, product_id=product.id, **terms.__dict__), True
        offer.revise(**terms.__dict__)
        return offer, False

    def offer(self, reseller_id: UUID, pid: UUID) -> Offer:
        offer = self.find(offer_id(reseller_id, pid), Offer)
        if offer is None:
            raise NotFound(f"you have no offer on product {pid}")
        return offer

    def set_stock(self, reseller_id: UUID, pid: UUID, quantity: int) -> None:
        offer = self.offer(reseller_id, pid)
        offer.set_stock(quantity)
        self.save(offer)

    def withdraw(self, reseller_id: UUID, pid: UUID) -> None:
        offer = self.offer(reseller_id, pid)
        offer.withdraw()
        self.save(offer)

    # Customer terms

    def put_terms(self, reseller_id: UUID, buyer_id: UUID, terms: Terms) -> bool:
        """Agrees or revises a buyer's terms; returns whether they are new."""
        if not 0 <= terms.discount_bps < 10_000:
            raise Invalid("discount_bps must be from 0 to 9999")
        if not terms.payment_methods:
            raise Invalid("payment_methods needs at least one method")
        if terms.credit_limit is not None and terms.credit_limit.amount < 0:
            raise Invalid("credit_limit cannot be negative")
        for pid, price in terms.fixed_prices.items():
            product = self.find(pid, Product)
            if product is None:
                raise Invalid(f"fixed_prices names an unknown product {pid}")
            product.list_price.check_same_currency(price, f"the fixed price of {pid}")
            if price.amount <= 0:
                raise Invalid(f"the fixed price of {pid} must be positive")
        fixed = {str(pid): price for pid, price in terms.fixed_prices.items()}
        existing = self.find(terms_id(reseller_id, buyer_id), CustomerTerms)
        if existing is None:
            existing = CustomerTerms(
                reseller_id,
                buyer_id,
                terms.catalog,
                terms.discount_bps,
                fixed,
                list(terms.payment_methods),
                terms.credit_limit,
            )
            created = True
        else:
            existing.revise(
                terms.catalog,
                terms.discount_bps,
                fixed,
                list(terms.payment_methods),
                terms.credit_limit,
            )
            created = False
        self.save(existing)
        return created

    def terms(self, reseller_id: UUID, buyer_id: UUID) -> CustomerTerms | None:
        return self.find(terms_id(reseller_id, buyer_id), CustomerTerms)


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

    def __init__(self, problems: list[dict[str, Any]], status_code: int) -> None:
        super().__init__(problems)
        self.status_code = status_code


_STRIPES = [threading.Lock() for _ in range(64)]


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


def _retrying(attempt: Callable[[], None]) -> None:
    # Optimistic concurrency: a concurrent change to the same offer or terms makes the save
    # fail; the whole attempt is then made again on fresh state.
    for _ in range(50):
        try:
            attempt()
            return
        except IntegrityError:
            time.sleep(random.uniform(0.001, 0.02))
    raise Conflict("too many concurrent changes to the same offers; retry")


class Holds:
    """Stock and credit held for orders, taken and given back atomically."""

    def __init__(self, offers: Offers) -> None:
        self.offers = offers

    def take(self, stock: list[StockHold], credit: list[CreditHold]) -> None:
        """Takes every hold or none; each ref is taken at most once, however often asked."""

        def attempt() -> None:
            problems: list[dict[str, Any]] = []
            touched: dict[UUID, Offer | CustomerTerms] = {}
            for hold in stock:
                offer = touched.get(offer_id(hold.reseller_id, hold.product_id))
                offer = (
                    offer
                    if isinstance(offer, Offer)
                    else self.offers.offer(hold.reseller_id, hold.product_id)
                )
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
                touched[offer.id] = offer
            for credit_hold in credit:
                terms = touched.get(terms_id(credit_hold.reseller_id, credit_hold.buyer_id))
                terms = (
                    terms
                    if isinstance(terms, CustomerTerms)
                    else self.offers.terms(credit_hold.reseller_id, credit_hold.buyer_id)
                )
                if terms is None:
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
                touched[terms.id] = terms
            if problems:
                credit_only = all(p["type"] == "credit" for p in problems)
                raise HoldsRefused(problems, 402 if credit_only else 409)
            self.offers.save(*touched.values())

        with _stripes(self._keys(stock, credit)):
            _retrying(attempt)

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
            _retrying(attempt)

    def shipped(self, hold: StockHold) -> None:
        def attempt() -> None:
            offer = self.offers.offer(hold.reseller_id, hold.product_id)
            offer.ship(hold.ref, hold.quantity)
            self.offers.save(offer)

        with _stripes(self._keys([hold], [])):
            _retrying(attempt)

    @staticmethod
    def _keys(stock: list[StockHold], credit: list[CreditHold]) -> list[UUID]:
        return [offer_id(h.reseller_id, h.product_id) for h in stock] + [
            terms_id(h.reseller_id, h.buyer_id) for h in credit
        ]
