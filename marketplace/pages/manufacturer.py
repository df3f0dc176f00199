"""The manufacturer's back office: its products (list, form, discontinue, import with
progress and per-line errors) and the resellers it authorizes."""

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from marketplace.kernel.errors import DomainError, Invalid, NotFound
from marketplace.pages.amounts import cents, minor_units
from marketplace.pages.csvs import amount, csv_response
from marketplace.pages.freshness import caught_up
from marketplace.pages.render import clean_query, redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.staff import Staff, staff
from marketplace.pages.uploads import PageImport, import_form, imported, job_page
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from offers.api import ProductLine, good_products, parse_products
from projections.catalog_view import CatalogFilter

router = APIRouter(include_in_schema=False)
Catalog = Annotated[Staff, Depends(staff("manufacturer", "catalog"))]
Text = Annotated[str, Query(max_length=200)]
PAGE_SIZE = 25
FIELDS = ("sku", "name", "brand", "category", "list_price", "currency", "map_price", "gtin", "unit")


def product_json(row: dict[str, str]) -> dict[str, Any]:
    """A product CSV row (prices in minor units) as the API's JSON line; columns beyond the
    known ones become attributes."""
    line: dict[str, Any] = {k: row.get(k, "") for k in ("sku", "name", "brand", "category")}
    currency = row.get("currency", "")
    line["list_price"] = {"amount": minor_units(row.get("list_price", "")), "currency": currency}
    if row.get("map_price"):
        line["map_price"] = {"amount": minor_units(row["map_price"]), "currency": currency}
    for key in ("gtin", "unit"):
        if row.get(key):
            line[key] = row[key]
    extra = {k: v for k, v in row.items() if k not in FIELDS and v}
    if extra:
        line["attributes"] = extra
    return line


def _filters(q: str, brand: str, category: str, status: str) -> tuple[CatalogFilter, str | None]:
    if status and status not in ("active", "discontinued"):
        raise Invalid("status is active or discontinued")
    f = CatalogFilter(
        q or None, brands=(brand,) if brand else (), categories=(category,) if category else ()
    )
    return f, status or None


@router.get("/manufacturer/products")
def products(
    request: Request,
    market: MarketplaceDep,
    person: Catalog,
    q: Text = "",
    brand: Text = "",
    category: Text = "",
    status: Text = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None:
        return redirect(clean)
    caught_up(market, request, "catalog")
    f, state = _filters(q, brand, category, status)
    items, next_cursor = market.catalog.manufacturer_products(
        str(person.seller_id), PAGE_SIZE, cursor or None, f, state
    )
    kept = {
        k: v
        for k, v in {"q": q, "brand": brand, "category": category, "status": status}.items()
        if v
    }
    return render(
        request,
        "manufacturer_products.html",
        {
            "staff": person,
            "items": items,
            "filters": {"q": q, "brand": brand, "category": category, "status": status},
            "next_url": f"/manufacturer/products?{urlencode({**kept, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "csv_url": f"/manufacturer/products.csv?{urlencode(kept)}",
            "notice": request.query_params.get("notice"),
        },
        visitor=person.visitor,
    )


@router.get("/manufacturer/products.csv")
def products_csv(
    market: MarketplaceDep,
    person: Catalog,
    q: Text = "",
    brand: Text = "",
    category: Text = "",
    status: Text = "",
) -> Response:
    f, state = _filters(q, brand, category, status)

    def pages() -> Iterator[list[list[Any]]]:
        cursor = None
        while True:
            items, cursor = market.catalog.manufacturer_products(
                str(person.seller_id), 500, cursor, f, state
            )
            yield [
                [
                    i["sku"],
                    i["name"],
                    i["brand"],
                    i["category"],
                    amount(i["list_price"]),
                    i["list_price"]["currency"],
                    amount(i["map_price"]) if i["map_price"] else "",
                    i["gtin"] or "",
                    i["status"],
                ]
                for i in items
            ]
            if cursor is None:
                return

    return csv_response(
        "products.csv",
        [
            "sku",
            "name",
            "brand",
            "category",
            "list_price",
            "currency",
            "map_price",
            "gtin",
            "status",
        ],
        pages(),
    )


@router.post("/manufacturer/products", dependencies=[CsrfChecked])
async def discontinue_selected(
    request: Request, market: MarketplaceDep, person: Catalog
) -> Response:
    form = await request.form()
    skus = [v for v in form.getlist("sku") if isinstance(v, str)][: PAGE_SIZE * 4]
    if form.get("action") != "discontinue" or not skus:
        raise Invalid("choose at least one product, then discontinue")
    for sku in skus:
        market.offers.discontinue(person.seller_id, sku)
    return redirect(f"/manufacturer/products?notice={len(skus)} product(s) discontinued")


@router.get("/manufacturer/product")
def product_form(
    request: Request, market: MarketplaceDep, person: Catalog, sku: Text = ""
) -> Response:
    values: dict[str, Any] = {"currency": "EUR"}
    if sku:
        # The SKU is searchable text: its few matches are read, then the exact one kept.
        items, _ = market.catalog.manufacturer_products(
            str(person.seller_id), 50, None, CatalogFilter(q=sku)
        )
        found = next((i for i in items if i["sku"] == sku), None)
        if found is None:
            raise NotFound(f"you have no product with SKU {sku}")
        values = _values(found)
    return _form(request, person, values, {}, 200)


def _values(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "sku": item["sku"],
        "name": item["name"],
        "brand": item["brand"],
        "category": item["category"],
        "list_price": f"{item['list_price']['amount'] / 100:.2f}",
        "currency": item["list_price"]["currency"],
        "map_price": f"{item['map_price']['amount'] / 100:.2f}" if item["map_price"] else "",
        "gtin": item["gtin"] or "",
        "unit": item["unit"] or "",
        "status": item["status"],
        "existing": True,
    }


def _form(
    request: Request, person: Staff, values: dict[str, Any], errors: dict[str, str], code: int
) -> Response:
    return render(
        request,
        "manufacturer_product.html",
        {"staff": person, "values": values, "errors": errors},
        status=code,
        visitor=person.visitor,
    )


@router.post("/manufacturer/product", dependencies=[CsrfChecked])
async def save_product(request: Request, market: MarketplaceDep, person: Catalog) -> Response:
    form = {k: v.strip() for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {k: form.get(k, "")[:1000] for k in FIELDS}
    line: dict[str, Any] = {k: values[k] for k in ("sku", "name", "brand", "category")}
    line["list_price"] = {"amount": cents(values["list_price"]), "currency": values["currency"]}
    if values["map_price"]:
        line["map_price"] = {"amount": cents(values["map_price"]), "currency": values["currency"]}
    for key in ("gtin", "unit"):
        if values[key]:
            line[key] = values[key]
    try:
        product = ProductLine.model_validate(line)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            loc = [str(part) for part in item["loc"]] or ["sku"]
            field = "currency" if "currency" in loc else loc[0]
            errors.setdefault(field, item["msg"])
        return _form(
            request, person, {**values, "existing": bool(form.get("existing"))}, errors, 422
        )
    try:
        market.offers.put_product(person.seller_id, product.sku, product.details())
    except DomainError as error:
        return _form(request, person, values, {"list_price": str(error.detail)}, 422)
    return redirect(f"/manufacturer/products?notice=Product {product.sku} saved")


@router.post("/manufacturer/product/discontinue", dependencies=[CsrfChecked])
async def discontinue(request: Request, market: MarketplaceDep, person: Catalog) -> Response:
    sku = str((await request.form()).get("sku") or "")[:100]
    market.offers.discontinue(person.seller_id, sku)
    return redirect(f"/manufacturer/products?notice=Product {sku} discontinued")


def _import(market: Marketplace, person: Staff) -> PageImport:
    return PageImport(
        "product",
        "/manufacturer/products:import",
        "/manufacturer/products",
        "A CSV file with the header sku,name,brand,category,list_price,currency,map_price,"
        "gtin,unit (prices in cents; more columns become attributes), or NDJSON, one product "
        "a line as the API takes it.",
        "/manufacturer/imports",
        product_json,
        parse_products,
        lambda upload, parsed: market.imports.start_products(
            person.seller_id, *parsed, good_products(upload, parsed)
        ),
    )


@router.get("/manufacturer/imports")
def import_page(request: Request, market: MarketplaceDep, person: Catalog) -> Response:
    return import_form(request, person, _import(market, person))


@router.post("/manufacturer/products:import", dependencies=[CsrfChecked])
async def import_products(request: Request, market: MarketplaceDep, person: Catalog) -> Response:
    return await imported(request, person, _import(market, person))


@router.get("/manufacturer/imports/{job_id}")
def import_job(request: Request, job_id: UUID, market: MarketplaceDep, person: Catalog) -> Response:
    job = market.imports.job(job_id, person.seller_id)
    return job_page(request, person, _import(market, person), job)


@router.get("/manufacturer/authorizations")
def authorizations(request: Request, market: MarketplaceDep, person: Catalog) -> Response:
    return _authorizations(request, market, person, None, 200)


def _authorizations(
    request: Request, market: Marketplace, person: Staff, error: str | None, code: int
) -> Response:
    caught_up(market, request, "catalog")
    return render(
        request,
        "manufacturer_authorizations.html",
        {
            "staff": person,
            "rows": market.catalog.authorizations_of(str(person.seller_id)),
            "resellers": market.catalog.sellers("reseller"),
            "error": error,
            "notice": request.query_params.get("notice"),
        },
        status=code,
        visitor=person.visitor,
    )


def _names(text: str) -> list[str] | None:
    names = [part.strip()[:100] for part in text.split(",") if part.strip()]
    return names[:100] or None


@router.post("/manufacturer/authorizations", dependencies=[CsrfChecked])
async def authorize(request: Request, market: MarketplaceDep, person: Catalog) -> Response:
    form = await request.form()
    try:
        reseller_id = UUID(str(form.get("reseller_id") or ""))
    except ValueError:
        return _authorizations(request, market, person, "choose a reseller", 422)
    if form.get("action") == "revoke":
        market.sellers.revoke_authorization(person.seller_id, reseller_id)
        return redirect("/manufacturer/authorizations?notice=Authorization revoked")
    market.sellers.authorize(
        person.seller_id,
        reseller_id,
        _names(str(form.get("brands") or "")),
        _names(str(form.get("categories") or "")),
    )
    return redirect("/manufacturer/authorizations?notice=Reseller authorized")
