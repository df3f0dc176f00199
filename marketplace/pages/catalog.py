"""The catalog and product pages: the buyer's own catalog, at its own prices."""

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from marketplace.adapters.carts import CartLine
from marketplace.kernel.errors import NotFound
from marketplace.pages.inbox import buyer_needs
from marketplace.pages.render import clean_query, redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentShopper
from marketplace.web.auth import MarketplaceDep
from projections.catalog_view import CatalogFilter
from projections.quick_order import MAX_QUANTITY, pick

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
Filter = Annotated[str, Query(max_length=200)]


@router.get("/catalog")
def catalog(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    q: Filter = "",
    brand: Filter = "",
    category: Filter = "",
    reseller: Filter = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None and request.headers.get("HX-Request") != "true":
        return redirect(clean)
    resellers = market.catalog.resellers(str(shopper.buyer_id))
    if shopper.rep is not None:
        resellers = [r for r in resellers if r["id"] == shopper.reseller_filter]
    reseller_ids = {r["id"] for r in resellers}
    chosen = reseller if reseller in reseller_ids else None
    f = CatalogFilter(
        q.strip() or None,
        brand.strip() or None,
        category.strip() or None,
        shopper.reseller_filter or chosen,
    )
    items, next_cursor = market.catalog.page(str(shopper.buyer_id), f, PAGE_SIZE, cursor or None)
    filters = {"q": q, "brand": brand, "category": category, "reseller": chosen or ""}
    kept = {k: v for k, v in filters.items() if v}
    response = render(
        request,
        "catalog.html",
        {
            "items": items,
            "filters": filters,
            "resellers": resellers,
            "brands": sorted({i["brand"] for i in items}),
            "categories": sorted({i["category"] for i in items}),
            "next_url": f"/catalog?{urlencode({**kept, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "first_url": f"/catalog?{urlencode(kept)}" if cursor else None,
            "unknown_reseller": bool(reseller) and chosen is None,
            "needs": buyer_needs(market, shopper),
        },
        shopper=shopper,
    )
    if clean is not None:
        response.headers["HX-Push-Url"] = clean
    return response


def _item(market: MarketplaceDep, shopper: CurrentShopper, product_id: UUID) -> dict[str, object]:
    f = CatalogFilter(reseller_id=shopper.reseller_filter, product_id=str(product_id))
    item = market.catalog.item(str(shopper.buyer_id), f)
    if item is None:
        raise NotFound("this product is not in your catalog")
    return item


@router.get("/products/{product_id}")
def product(
    request: Request, product_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    item = _item(market, shopper, product_id)
    return render(request, "product.html", {"item": item, "errors": {}}, shopper=shopper)


@router.post("/products/{product_id}/cart", dependencies=[CsrfChecked])
def add_to_cart(
    request: Request,
    product_id: UUID,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    quantity: Annotated[str, Form(max_length=20)],
    reseller_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    item = _item(market, shopper, product_id)
    picked = reseller_id or None
    problem = None
    if not quantity.strip().isdigit() or not 0 < int(quantity.strip()[:12]) <= MAX_QUANTITY:
        problem = "enter a whole number of at least 1"
    else:
        _, problem = pick(item, int(quantity), picked)
    if problem is not None:
        return render(
            request,
            "product.html",
            {"item": item, "errors": {picked or "best": problem}, "asked": quantity},
            status=422,
            shopper=shopper,
        )
    market.carts.add(
        shopper.cart_owner,
        str(shopper.buyer_id),
        [CartLine(str(product_id), picked, int(quantity))],
    )
    return redirect(f"/products/{product_id}?added={quantity}")
