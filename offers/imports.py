"""Bulk imports of products and offers: jobs whose good lines commit in batches with the
job's progress, so a crash loses no line it reported, and whose bad lines are reported."""

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import DomainError, NotFound
from offers.application import OfferDetails, Offers, ProductDetails
from offers.domain import ImportJob, Offer, Product, offer_id, product_id
from sellers.domain import Authorization

IMPORT_BATCH = 500
# A running job whose last batch is older than this, in no process of ours, was cut off by
# a crash or a restart: its lines are spooled by the process that received them.
STALLED_AFTER = timedelta(minutes=2)
# Aggregates a bulk batch has read or staged, by id.
Known = dict[UUID, Aggregate]


class JobRegistry(Protocol):
    """Where running jobs are noted, so that a restart can find those a crash cut off."""

    def started(self, job_id: UUID, owner_id: UUID) -> None: ...
    def ended(self, job_id: UUID) -> None: ...
    def noted(self) -> list[tuple[UUID, UUID]]:
        """(job id, owner id) of every job noted and not ended."""
        ...


class Unnoted:
    def started(self, job_id: UUID, owner_id: UUID) -> None:
        pass

    def ended(self, job_id: UUID) -> None:
        pass

    def noted(self) -> list[tuple[UUID, UUID]]:
        return []


class Imports:
    def __init__(self, offers: Offers, registry: JobRegistry | None = None) -> None:
        self.offers = offers
        self.registry = registry or Unnoted()
        self.running: set[UUID] = set()

    def fail_cut_off(self, now: datetime | None = None) -> int:
        """Marks failed the noted jobs a crash or a restart cut off; returns how many."""
        failed = 0
        for job_id, owner_id in self.registry.noted():
            found = self.offers.find(job_id, ImportJob)
            if found is not None and found.status == "running":
                if self.job(job_id, owner_id, now).status == "running":
                    continue
                failed += 1
            self.registry.ended(job_id)
        return failed

    def start_products(
        self,
        manufacturer_id: UUID,
        total: int,
        failed: list[dict[str, Any]],
        good: Iterable[tuple[int, str, ProductDetails]],
    ) -> UUID:
        """Creates a product import job and runs its good lines in a thread of their own."""
        job_id = self.create(manufacturer_id, "products", total, failed)
        self.in_background(job_id, lambda: self.run_products(job_id, good))
        return job_id

    def start_offers(
        self,
        reseller_id: UUID,
        total: int,
        failed: list[dict[str, Any]],
        good: Iterable[tuple[int, UUID, OfferDetails]],
    ) -> UUID:
        """Creates an offer import job and runs its good lines in a thread of their own."""
        job_id = self.create(reseller_id, "offers", total, failed)
        self.in_background(job_id, lambda: self.run_offers(job_id, good))
        return job_id

    def create(self, owner_id: UUID, kind: str, total: int, failed: list[dict[str, Any]]) -> UUID:
        job = ImportJob(owner_id, kind, total)
        if failed:
            job.progress(0, failed)
        self.offers.save(job)
        self.registry.started(job.id, owner_id)
        return job.id

    def run_products(self, job_id: UUID, rows: Iterable[tuple[int, str, ProductDetails]]) -> None:
        """Imports a manufacturer's good product lines in batches."""
        job = self.offers.load(job_id, ImportJob, "import job")

        def prefetch(lines: list[tuple[int, Any]]) -> Known:
            ids = [product_id(job.owner_id, sku) for _, (sku, _) in lines]
            return dict(self.offers.find_many(ids, Product))

        def stage(known: Known, row: tuple[str, ProductDetails]) -> Aggregate:
            sku, details = row
            existing = known.get(product_id(job.owner_id, sku))
            return self.offers.upsert_product(
                job.owner_id, sku, details, existing if isinstance(existing, Product) else None
            )[0]

        self._run_batches(job, ((line, (sku, d)) for line, sku, d in rows), prefetch, stage)

    def run_offers(self, job_id: UUID, rows: Iterable[tuple[int, UUID, OfferDetails]]) -> None:
        """Imports a reseller's good offer lines in batches."""
        job = self.offers.load(job_id, ImportJob, "import job")
        reseller_id = job.owner_id
        authorizations: dict[UUID, Authorization | None] = {}

        def prefetch(lines: list[tuple[int, Any]]) -> Known:
            authorizations.clear()
            pids = [pid for _, (pid, _) in lines]
            known: Known = dict(self.offers.find_many(pids, Product))
            known.update(self.offers.find_many([offer_id(reseller_id, p) for p in pids], Offer))
            return known

        def authorization_of(manufacturer_id: UUID, _: UUID) -> Authorization | None:
            if manufacturer_id not in authorizations:
                authorizations[manufacturer_id] = self.offers.authorization_of(
                    manufacturer_id, reseller_id
                )
            return authorizations[manufacturer_id]

        def stage(known: Known, row: tuple[UUID, OfferDetails]) -> Aggregate:
            pid, terms = row
            product = known.get(pid)
            if not isinstance(product, Product):
                raise NotFound(f"unknown product {pid}")
            existing = known.get(offer_id(reseller_id, pid))
            return self.offers.upsert_offer(
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
            fresh = self.offers.load(job.id, ImportJob, "import job")
            fresh.progress(len(lines) - len(failed), failed)
            if last:
                fresh.complete()
            self.offers.save(*staged.values(), fresh)

        retrying(attempt)

    def job(self, job_id: UUID, owner_id: UUID, now: datetime | None = None) -> ImportJob:
        """The job as its owner sees it; one cut off by a crash is marked failed."""
        job = self.offers.find(job_id, ImportJob)
        if job is None or job.owner_id != owner_id:
            raise NotFound(f"unknown import job {job_id}")
        now = now or datetime.now(UTC)
        cut_off = now - job.modified_on > STALLED_AFTER
        if job.status == "running" and job_id not in self.running and cut_off:
            job.interrupt(
                f"interrupted after {job.done} of {job.total} lines (the server restarted); "
                "import the lines not yet imported again"
            )
            try:
                self.offers.save(job)
            except IntegrityError:
                return self.job(job_id, owner_id, now)
        return job

    def in_background(self, job_id: UUID, lines: Callable[[], None]) -> None:
        def run() -> None:
            try:
                lines()
                self.registry.ended(job_id)
            finally:
                self.running.discard(job_id)

        self.running.add(job_id)
        threading.Thread(target=run, daemon=True, name=f"import-{job_id}").start()
