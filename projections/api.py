"""The buyer catalog view, for buyers and for the sales reps who serve them."""

from dataclasses import replace
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from marketplace.kernel.errors import Forbidden, Invalid, NotFound
from marketplace.kernel.money import MAX_AMOUNT
from marketplace.platform import Marketplace
from marketplace.web.answers import CatalogItem, CatalogPage, errors
from marketplace.web.auth import CurrentBuyerUser, CurrentSalesRep, MarketplaceDep
from marketplace.web.schemas import Cursor, Limit, SearchText, page
from marketplace.web.waiting import CatalogReady
from projections.catalog_view import FACETS, CatalogFilter

router = APIRouter(prefix="/v1")
MAX_VALUES = 50
Values = Annotated[
    list[Annotated[str, Query(max_length=200)]] | None,
    Query(description=f"repeatable: any of them (at most {MAX_VALUES})"),
]
Sellers = Annotated[list[UUID] | None, Query(description="repeatable: any of them")]
Amount = Annotated[int | None, Query(ge=0, le=MAX_AMOUNT, description="minor units")]
FacetNames = Annotated[
    str | None, Query(max_length=100, description="comma-separated: brand, category, seller")
]


class Narrowing:
    """The search and filters both catalog routes take."""

    def __init__(
        self,
        q: SearchText = None,
        brand: Values = None,
        category: Values = None,
        in_stock: bool = False,
        price_min: Amount = None,
        price_max: Amount = None,
        facets: FacetNames = None,
    ) -> None:
        for name, values in (("brand", brand), ("category", category)):
            if values and len(values) > MAX_VALUES:
                raise Invalid(f"{name} may be given at most {MAX_VALUES} times")
        if price_min is not None and price_max is not None and price_min > price_max:
            raise Invalid("price_min must not be above price_max")
        self.facets = [n.strip() for n in (facets or "").split(",") if n.strip()]
        unknown = sorted(set(self.facets) - set(FACETS))
        if unknown:
            raise Invalid(f"unknown facet {unknown[0]!r}: choose from {', '.join(FACETS)}")
        self.filter = CatalogFilter(
            q=q,
            brands=tuple(brand or ()),
            categories=tuple(category or ()),
            in_stock=in_stock,
            price_min=price_min,
            price_max=price_max,
        )


def _catalog(
    market: Marketplace,
    buyer_id: UUID,
    f: CatalogFilter,
    facets: list[str],
    window: tuple[int, str | None],
) -> dict[str, Any]:
    found = market.catalog.search(str(buyer_id), f, *window, facets=facets)
    answer = page(found.items, found.next_cursor)
    return {**answer, "facets": found.facets, "suggestions": found.suggestions}


def _item(market: Marketplace, buyer_id: UUID, f: CatalogFilter) -> dict[str, Any]:
    item = market.catalog.item(str(buyer_id), f)
    if item is None:
        raise NotFound(f"product {f.product_id} is not in this catalog")
    return item


@router.get(
    "/buyer/catalog",
    tags=["buyer"],
    response_model=CatalogPage,
    responses=errors(401, 403, 422, 400, 408),
)
def buyer_catalog(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: CatalogReady,
    narrowing: Annotated[Narrowing, Depends()],
    reseller_id: Sellers = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your catalog: what your terms let you see, at your prices, offers best first. With
    `q`, by relevance: exact SKU or GTIN, then SKU prefix, then every word, then one typo."""
    if reseller_id and len(reseller_id) > MAX_VALUES:
        raise Invalid(f"reseller_id may be given at most {MAX_VALUES} times")
    f = replace(narrowing.filter, sellers=tuple(str(r) for r in reseller_id or ()))
    return _catalog(market, session.buyer.id, f, narrowing.facets, (limit, cursor))


@router.get(
    "/buyer/catalog/{product_id}",
    tags=["buyer"],
    response_model=CatalogItem,
    responses=errors(401, 403, 422, 404, 408),
)
def buyer_catalog_item(
    product_id: UUID,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: CatalogReady,
) -> dict[str, Any]:
    """One product of your catalog with its offers."""
    f = CatalogFilter(product_id=str(product_id))
    return _item(market, session.buyer.id, f)


def _assigned(rep: CurrentSalesRep, buyer_id: UUID) -> None:
    if not rep.serves(buyer_id):
        raise Forbidden("that buyer account is not assigned to you")


@router.get(
    "/sales-rep/accounts/{buyer_id}/catalog",
    tags=["sales rep"],
    response_model=CatalogPage,
    responses=errors(401, 403, 422, 400, 408),
)
def sales_rep_catalog(
    buyer_id: UUID,
    rep: CurrentSalesRep,
    market: MarketplaceDep,
    _ready: CatalogReady,
    narrowing: Annotated[Narrowing, Depends()],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """An assigned buyer's catalog, limited to your reseller's offers; searched and
    filtered as the buyer's own."""
    _assigned(rep, buyer_id)
    f = replace(narrowing.filter, reseller_id=str(rep.reseller_id))
    return _catalog(market, buyer_id, f, narrowing.facets, (limit, cursor))


@router.get(
    "/sales-rep/accounts/{buyer_id}/catalog/{product_id}",
    tags=["sales rep"],
    response_model=CatalogItem,
    responses=errors(401, 403, 422, 404, 408),
)
def sales_rep_catalog_item(
    buyer_id: UUID,
    product_id: UUID,
    rep: CurrentSalesRep,
    market: MarketplaceDep,
    _ready: CatalogReady,
) -> dict[str, Any]:
    """One product of an assigned buyer's catalog, your reseller's offers only."""
    _assigned(rep, buyer_id)
    f = CatalogFilter(reseller_id=str(rep.reseller_id), product_id=str(product_id))
    return _item(market, buyer_id, f)
