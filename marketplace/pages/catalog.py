"""The catalog and product pages: the buyer's own catalog, at its own prices."""

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from marketplace.adapters.carts import CartLine
from marketplace.kernel.errors import NotFound
from marketplace.pages.amounts import cents
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
Many = Annotated[Sequence[str], Query(max_length=200)]
MAX_VALUES = 50


@router.get("/catalog")
def catalog(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    q: Filter = "",
    brand: Many = (),
    category: Many = (),
    reseller: Many = (),
    in_stock: Filter = "",
    price_min: Filter = "",
    price_max: Filter = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None and request.headers.get("HX-Request") != "true":
        return redirect(clean)
    resellers = market.catalog.resellers(str(shopper.buyer_id))
    if shopper.rep is not None:
        resellers = [r for r in resellers if r["id"] == shopper.reseller_filter]
    reseller_ids = {r["id"] for r in resellers}
    chosen = [r for r in dict.fromkeys(reseller[:MAX_VALUES]) if r in reseller_ids]
    prices = {"price_min": price_min, "price_max": price_max}
    amounts = {k: cents(v) for k, v in prices.items() if v.strip()}
    bad_price = [k for k, v in amounts.items() if not isinstance(v, int)]
    f = CatalogFilter(
        q.strip() or None,
        brands=tuple(b.strip() for b in brand[:MAX_VALUES] if b.strip()),
        categories=tuple(c.strip() for c in category[:MAX_VALUES] if c.strip()),
        reseller_id=shopper.reseller_filter,
        sellers=tuple(chosen),
        in_stock=in_stock == "true",
        price_min=_amount(amounts.get("price_min")),
        price_max=_amount(amounts.get("price_max")),
    )
    facets = ["brand", "category"] + (["seller"] if len(resellers) > 1 else [])
    found = market.catalog.search(str(shopper.buyer_id), f, PAGE_SIZE, cursor or None, facets)
    kept = [
        ("q", f.q or ""),
        *(("brand", b) for b in f.brands),
        *(("category", c) for c in f.categories),
        *(("reseller", r) for r in chosen),
        ("in_stock", "true" if f.in_stock else ""),
        *((k, v) for k, v in prices.items() if k not in bad_price),
    ]
    kept = [(k, v) for k, v in kept if v]
    response = render(
        request,
        "catalog.html",
        {
            "items": found.items,
            "facets": _with_chosen(found.facets or {}, f, resellers),
            "chosen": {
                "brand": {b.lower() for b in f.brands},
                "category": {c.lower() for c in f.categories},
                "seller": set(chosen),
            },
            "filters": {"q": q, "in_stock": f.in_stock, **prices},
            "suggestions": [
                (s, "/catalog?" + urlencode([("q", s), *(p for p in kept if p[0] != "q")]))
                for s in found.suggestions
            ],
            "narrowed": len(kept) > (1 if f.q else 0),
            "bad_price": bad_price,
            "next_url": f"/catalog?{urlencode([*kept, ('cursor', found.next_cursor)])}"
            if found.next_cursor
            else None,
            "first_url": f"/catalog?{urlencode(kept)}" if cursor else None,
            "unknown_reseller": len(chosen) < len([r for r in reseller if r]),
            "needs": buyer_needs(market, shopper),
        },
        shopper=shopper,
    )
    if clean is not None:
        response.headers["HX-Push-Url"] = clean
    return response


def _with_chosen(
    facets: dict[str, list[dict[str, Any]]], f: CatalogFilter, resellers: list[dict[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """The facets, with every chosen value among them (at 0 when the other filters leave it
    nothing), so that each can be unchosen."""
    shown = {k: list(v) for k, v in facets.items()}
    for facet, values in (("brand", f.brands), ("category", f.categories)):
        if facet in shown:
            have = {v["value"].lower() for v in shown[facet]}
            shown[facet] += [{"value": v, "count": 0} for v in values if v.lower() not in have]
    if "seller" in shown:
        have = {v["reseller_id"] for v in shown["seller"]}
        names = {r["id"]: r["name"] for r in resellers}
        shown["seller"] += [
            {"reseller_id": r, "name": names[r], "count": 0} for r in f.sellers if r not in have
        ]
    return shown


def _amount(value: int | str | None) -> int | None:
    return value if isinstance(value, int) else None


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
