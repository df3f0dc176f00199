"""The buyer catalog view, for buyers and for the sales reps who serve them."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from marketplace.kernel.errors import Forbidden, NotFound
from marketplace.platform import Marketplace
from marketplace.web.answers import CatalogItem, Page, errors
from marketplace.web.auth import CurrentBuyerUser, CurrentSalesRep, MarketplaceDep
from marketplace.web.schemas import Cursor, Limit, page
from marketplace.web.waiting import CatalogReady
from projections.catalog_view import CatalogFilter

router = APIRouter(prefix="/v1")
Text = Annotated[str | None, Query(max_length=200)]


def _catalog(
    market: Marketplace,
    buyer_id: UUID,
    f: CatalogFilter,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    items, next_cursor = market.catalog.page(str(buyer_id), f, limit, cursor)
    return page(items, next_cursor)


def _item(market: Marketplace, buyer_id: UUID, f: CatalogFilter) -> dict[str, Any]:
    item = market.catalog.item(str(buyer_id), f)
    if item is None:
        raise NotFound(f"product {f.product_id} is not in this catalog")
    return item


@router.get(
    "/buyer/catalog",
    tags=["buyer"],
    response_model=Page[CatalogItem],
    responses=errors(401, 403, 422, 400, 408),
)
def buyer_catalog(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: CatalogReady,
    q: Text = None,
    brand: Text = None,
    category: Text = None,
    reseller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your catalog: what your terms let you see, at your prices, offers best first."""
    f = CatalogFilter(q, brand, category, str(reseller_id) if reseller_id else None)
    return _catalog(market, session.buyer.id, f, limit, cursor)


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
    response_model=Page[CatalogItem],
    responses=errors(401, 403, 422, 400, 408),
)
def sales_rep_catalog(
    buyer_id: UUID,
    rep: CurrentSalesRep,
    market: MarketplaceDep,
    _ready: CatalogReady,
    q: Text = None,
    brand: Text = None,
    category: Text = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """An assigned buyer's catalog, limited to your reseller's offers."""
    _assigned(rep, buyer_id)
    f = CatalogFilter(q, brand, category, str(rep.reseller_id))
    return _catalog(market, buyer_id, f, limit, cursor)


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
