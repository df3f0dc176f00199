"""Manufacturers' products and imports; resellers' offers and customer terms."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError

from marketplace.kernel.errors import Invalid
from marketplace.kernel.payments import PaymentMethod
from marketplace.platform import Marketplace
from marketplace.taxes.domain import TaxCategory
from marketplace.web.answers import (
    ImportStatus,
    JobStarted,
    OfferPublic,
    OfferSaved,
    OfferStatus,
    OfferStock,
    Page,
    ProductPublic,
    ProductSaved,
    ProductStatus,
    TermsSaved,
    errors,
)
from marketplace.web.auth import CurrentManufacturer, CurrentReseller, MarketplaceDep
from marketplace.web.idempotent import idempotent
from marketplace.web.schemas import (
    Count,
    Cursor,
    Label,
    Limit,
    MoneyIn,
    Name,
    Quantity,
    SearchText,
    Strict,
    Text,
    money_or_none,
    page,
)
from marketplace.web.uploads import MAX_LINE, Gone, Upload, spool
from marketplace.web.waiting import CatalogReady
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails
from offers.domain import ImportJob
from offers.pricing import Tier
from projections.catalog_view import CatalogFilter

router = APIRouter(prefix="/v1")
Sku = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._\-/]+$")]
MAX_IMPORT_LINES = 200_000
# An import's line count and its bad lines' reports.
Parsed = tuple[int, list[dict[str, Any]]]


class ProductPut(Strict):
    name: Name
    brand: Label
    category: Label
    gtin: Annotated[str, Field(pattern=r"^[0-9]{8,14}$")] | None = None
    attributes: Annotated[dict[Label, Text], Field(max_length=100)] = {}
    unit: Label | None = None
    list_price: MoneyIn
    map_price: MoneyIn | None = None
    tax_category: TaxCategory = "standard"

    def details(self) -> ProductDetails:
        return ProductDetails(
            name=self.name,
            brand=self.brand,
            category=self.category,
            gtin=self.gtin,
            attributes=dict(self.attributes),
            unit=self.unit,
            list_price=self.list_price.money(),
            map_price=money_or_none(self.map_price),
            tax_category=self.tax_category,
        )


class ProductLine(ProductPut):
    sku: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._\-/]+$")]


class TierIn(Strict):
    min_qty: Quantity
    price: MoneyIn


class OfferPut(Strict):
    price: MoneyIn
    stock: Count
    lead_time_days: Annotated[int, Field(strict=True, ge=0, le=365)]
    min_order_qty: Quantity = 1
    tiers: Annotated[list[TierIn], Field(max_length=20)] = []

    def details(self) -> OfferDetails:
        return OfferDetails(
            price=self.price.money(),
            tiers=[Tier(t.min_qty, t.price.money()) for t in self.tiers],
            stock=self.stock,
            lead_time_days=self.lead_time_days,
            min_order_qty=self.min_order_qty,
        )


class StockPut(Strict):
    quantity: Count


class CatalogScopeIn(Strict):
    brands: list[Label] | None = None
    categories: list[Label] | None = None
    product_ids: list[UUID] | None = None


class TermsPut(Strict):
    catalog: CatalogScopeIn | None = None
    discount_bps: Annotated[int, Field(strict=True, ge=0, le=9999)] = 0
    fixed_prices: Annotated[dict[UUID, MoneyIn], Field(max_length=10_000)] = {}
    payment_methods: Annotated[list[PaymentMethod], Field(min_length=1)]
    credit_limit: MoneyIn | None = None


# Manufacturer


@router.put(
    "/manufacturer/products/{sku:path}",
    tags=["manufacturer"],
    response_model=ProductSaved,
    responses=errors(401, 403, 422, 409),
)
def put_product(
    sku: Sku, body: ProductPut, manufacturer: CurrentManufacturer, market: MarketplaceDep
) -> JSONResponse:
    """Publish a product, or revise it (201 when new, 200 when updated)."""
    product, created = market.offers.put_product(manufacturer.id, sku, body.details())
    return JSONResponse(
        {"product_id": str(product.id), "sku": sku, "version": product.version},
        status_code=201 if created else 200,
    )


@router.delete(
    "/manufacturer/products/{sku:path}",
    tags=["manufacturer"],
    response_model=ProductStatus,
    responses=errors(401, 403, 422, 404, 409),
)
def discontinue_product(
    sku: Sku, manufacturer: CurrentManufacturer, market: MarketplaceDep
) -> dict[str, str]:
    """Discontinue a product: its offers leave every catalog."""
    market.offers.discontinue(manufacturer.id, sku)
    return {"sku": sku, "status": "discontinued"}


@router.get(
    "/manufacturer/products",
    tags=["manufacturer"],
    response_model=Page[ProductPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def list_products(
    manufacturer: CurrentManufacturer,
    market: MarketplaceDep,
    _ready: CatalogReady,
    q: SearchText = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your own products, by SKU; with `q`, those it finds, by relevance as the catalog."""
    items, next_cursor = market.catalog.manufacturer_products(
        str(manufacturer.id), limit, cursor, CatalogFilter(q=q)
    )
    return page(items, next_cursor)


def parse_products(upload: Upload) -> Parsed:
    """The count of lines and a report of each bad one; the good ones are read again by the
    job, so no more than one line is held at a time."""

    def check(text: str, seen: set[Any]) -> str | None:
        item = ProductLine.model_validate_json(text)
        if item.sku in seen:
            return f"sku {item.sku} appears twice"
        seen.add(item.sku)
        return None

    return _parse(upload, check)


def good_products(upload: Upload, parsed: Parsed) -> Iterator[tuple[int, str, ProductDetails]]:
    try:
        for number, text in _good_lines(upload, parsed):
            item = ProductLine.model_validate_json(text)
            yield number, item.sku, item.details()
    finally:
        upload.close()


def _parse(upload: Upload, check: Callable[[str, set[Any]], str | None]) -> Parsed:
    total = 0
    failed: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for number, text in upload.numbered():
        total += 1
        try:
            problem = (
                f"the line is longer than {MAX_LINE} bytes" if text is None else check(text, seen)
            )
        except ValidationError as error:
            problem = _first_error(error)
        if problem is not None:
            failed.append({"line": number, "detail": problem})
    return total, failed


def _good_lines(upload: Upload, parsed: Parsed) -> Iterator[tuple[int, str]]:
    bad = {int(f["line"]) for f in parsed[1]}
    for number, text in upload.numbered():
        if text is not None and number not in bad:
            yield number, text


def _first_error(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "line"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


@router.post(
    "/manufacturer/products:import",
    status_code=202,
    tags=["manufacturer"],
    response_model=JobStarted,
    responses=errors(401, 403, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "required": True,
        }
    },
)
async def import_products(
    request: Request, manufacturer: CurrentManufacturer, market: MarketplaceDep
) -> Response:
    """Import products from NDJSON, one PUT body plus `sku` a line; bad lines are reported."""

    def start(upload: Upload, parsed: Parsed) -> UUID:
        rows = good_products(upload, parsed)
        return market.imports.start_products(manufacturer.id, *parsed, rows)

    job = ImportKind("product", parse_products, start)
    return await _imported(request, market, f"manufacturer:{manufacturer.id}", job)


@router.get(
    "/manufacturer/imports/{job_id}",
    tags=["manufacturer"],
    response_model=ImportStatus,
    responses=errors(401, 403, 422, 404),
)
def import_status(
    job_id: UUID, manufacturer: CurrentManufacturer, market: MarketplaceDep
) -> dict[str, Any]:
    """An import's progress and the lines it could not take."""
    return job_status(market, market.imports.job(job_id, manufacturer.id))


@dataclass(frozen=True)
class ImportKind:
    """What an import route parses its lines with, and how it starts the job on them."""

    what: str
    parse: Callable[[Upload], Parsed]
    start: Callable[[Upload, Parsed], UUID]


async def _imported(
    request: Request, market: Marketplace, scope: str, kind: ImportKind
) -> Response:
    """Spools the body, then parses it and starts the job off the event loop, once per
    Idempotency-Key. The upload belongs to the job once it starts; until then, to this
    request."""
    try:
        upload = await spool(request, MAX_IMPORT_LINES)
    except Gone:
        return Response(status_code=499)
    except Invalid as error:
        # Closing the connection is what stops the client sending the rest.
        return JSONResponse({"detail": error.detail}, 422, headers={"Connection": "close"})
    started = False

    def checked() -> JSONResponse:
        nonlocal started
        parsed = kind.parse(upload)
        if parsed[0] == 0:
            raise Invalid(f"the body holds no {kind.what} lines")

        def run(_: str | None) -> tuple[int, dict[str, Any]]:
            nonlocal started
            job_id = kind.start(upload, parsed)
            started = True
            return 202, {"job_id": str(job_id)}

        return idempotent(market, request, scope, {"sha256": upload.sha256}, run)

    try:
        return await run_in_threadpool(checked)
    finally:
        if not started:
            upload.close()


def job_status(market: Marketplace, job: ImportJob) -> dict[str, Any]:
    return {
        # Read the imported products with min_position set to this, once completed.
        "position": market.position_token(),
        "job_id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "imported": job.imported,
        "failed": sorted(job.failed, key=lambda f: int(f["line"])),
        "error": getattr(job, "error", None),
    }


# Reseller


@router.put(
    "/reseller/offers/{product_id}",
    tags=["reseller"],
    response_model=OfferSaved,
    responses=errors(401, 403, 422, 404, 409),
)
def put_offer(
    product_id: UUID, body: OfferPut, reseller: CurrentReseller, market: MarketplaceDep
) -> JSONResponse:
    """Publish or revise your offer on a product you are authorized to sell."""
    offer, created = market.offers.put_offer(reseller.id, product_id, body.details())
    return JSONResponse(
        {"offer_id": str(offer.id), "product_id": str(product_id)},
        status_code=201 if created else 200,
    )


class OfferLine(OfferPut):
    product_id: UUID


def parse_offers(upload: Upload) -> Parsed:
    """The count of lines and a report of each bad one, as `parse_products`."""

    def check(text: str, seen: set[Any]) -> str | None:
        item = OfferLine.model_validate_json(text)
        if item.product_id in seen:
            return f"product {item.product_id} appears twice"
        seen.add(item.product_id)
        return None

    return _parse(upload, check)


def good_offers(upload: Upload, parsed: Parsed) -> Iterator[tuple[int, UUID, OfferDetails]]:
    try:
        for number, text in _good_lines(upload, parsed):
            item = OfferLine.model_validate_json(text)
            yield number, item.product_id, item.details()
    finally:
        upload.close()


@router.post(
    "/reseller/offers:import",
    status_code=202,
    tags=["reseller"],
    response_model=JobStarted,
    responses=errors(401, 403, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "required": True,
        }
    },
)
async def import_offers(
    request: Request, reseller: CurrentReseller, market: MarketplaceDep
) -> Response:
    """Publish or revise many offers from NDJSON, one PUT body plus `product_id` a line;
    each line is checked as the PUT checks it, and bad lines are reported."""

    def start(upload: Upload, parsed: Parsed) -> UUID:
        rows = good_offers(upload, parsed)
        return market.imports.start_offers(reseller.id, *parsed, rows)

    job = ImportKind("offer", parse_offers, start)
    return await _imported(request, market, f"reseller:{reseller.id}", job)


@router.get(
    "/reseller/imports/{job_id}",
    tags=["reseller"],
    response_model=ImportStatus,
    responses=errors(401, 403, 422, 404),
)
def offer_import_status(
    job_id: UUID, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """An offer import's progress and the lines it could not take."""
    return job_status(market, market.imports.job(job_id, reseller.id))


@router.put(
    "/reseller/offers/{product_id}/stock",
    tags=["reseller"],
    response_model=OfferStock,
    responses=errors(401, 403, 422, 404, 409),
)
def set_stock(
    product_id: UUID, body: StockPut, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Set the units left to sell on your offer."""
    market.offers.set_stock(reseller.id, product_id, body.quantity)
    return {"product_id": str(product_id), "stock": body.quantity}


@router.delete(
    "/reseller/offers/{product_id}",
    tags=["reseller"],
    response_model=OfferStatus,
    responses=errors(401, 403, 422, 404),
)
def withdraw_offer(
    product_id: UUID, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, str]:
    """Withdraw your offer; it leaves every catalog until you publish it again."""
    market.offers.withdraw(reseller.id, product_id)
    return {"product_id": str(product_id), "status": "withdrawn"}


@router.get(
    "/reseller/offers",
    tags=["reseller"],
    response_model=Page[OfferPublic],
    responses=errors(401, 403, 422, 400, 408),
)
def list_offers(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: CatalogReady,
    q: SearchText = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your own offers; with `q`, on the products it finds, by relevance as the catalog."""
    items, next_cursor = market.catalog.reseller_offers(str(reseller.id), limit, cursor, q)
    return page(items, next_cursor)


@router.put(
    "/reseller/customers/{buyer_id}",
    tags=["reseller"],
    response_model=TermsSaved,
    responses=errors(401, 403, 422, 404, 409),
)
def put_terms(
    buyer_id: UUID, body: TermsPut, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Set a buyer's terms with you: its catalog, prices, payment methods and credit."""
    market.buyers.buyer(buyer_id)
    catalog = None
    if body.catalog is not None:
        catalog = {
            key: [str(v) for v in values]
            for key, values in body.catalog.model_dump().items()
            if values is not None
        }
    terms = CustomerTermsDetails(
        catalog=catalog,
        discount_bps=body.discount_bps,
        fixed_prices={pid: price.money() for pid, price in body.fixed_prices.items()},
        payment_methods=list(dict.fromkeys(body.payment_methods)),
        credit_limit=money_or_none(body.credit_limit),
    )
    market.offers.put_terms(reseller.id, buyer_id, terms)
    return {"buyer_id": str(buyer_id), "reseller_id": str(reseller.id)}
