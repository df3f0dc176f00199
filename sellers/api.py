"""Manufacturers' authorizations, resellers' sales reps, and what a sales rep serves."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from marketplace.kernel.errors import Invalid, NotFound
from marketplace.kernel.people import SellerRole
from marketplace.people.application import NewPerson
from marketplace.web.answers import (
    Assigned,
    AssignedAccount,
    Authorization,
    AuthorizationStatus,
    Created,
    Page,
    PersonCreated,
    errors,
)
from marketplace.web.auth import (
    CurrentManufacturer,
    CurrentReseller,
    CurrentSalesRep,
    CurrentSeller,
    MarketplaceDep,
)
from marketplace.web.idempotent import idempotent
from marketplace.web.schemas import Email, Label, Name, Password, SignUpPerson, Strict

router = APIRouter(prefix="/v1")


class AuthorizationPut(Strict):
    brands: list[Label] | None = None
    categories: list[Label] | None = None


class SalesRepCreate(SignUpPerson):
    name: Name


class SellerUserCreate(Strict):
    name: Name
    email: Email
    password: Password
    role: SellerRole


class AccountsPut(Strict):
    buyer_ids: list[UUID]


@router.put(
    "/manufacturer/authorizations/{reseller_id}",
    tags=["manufacturer"],
    response_model=Authorization,
    responses=errors(401, 403, 422, 404),
)
def authorize(
    reseller_id: UUID,
    body: AuthorizationPut,
    manufacturer: CurrentManufacturer,
    market: MarketplaceDep,
) -> dict[str, Any]:
    """Authorize a reseller to offer your products (absent lists authorize all)."""
    market.sellers.authorize(manufacturer.id, reseller_id, body.brands, body.categories)
    return {"reseller_id": str(reseller_id), "brands": body.brands, "categories": body.categories}


@router.delete(
    "/manufacturer/authorizations/{reseller_id}",
    tags=["manufacturer"],
    response_model=AuthorizationStatus,
    responses=errors(401, 403, 422, 404),
)
def revoke(
    reseller_id: UUID, manufacturer: CurrentManufacturer, market: MarketplaceDep
) -> dict[str, str]:
    """Revoke a reseller's authorization: its offers on your products leave every catalog."""
    market.sellers.revoke_authorization(manufacturer.id, reseller_id)
    return {"reseller_id": str(reseller_id), "status": "revoked"}


@router.post(
    "/reseller/sales-reps",
    status_code=201,
    tags=["reseller"],
    response_model=Created,
    responses=errors(401, 403, 422),
)
def appoint_sales_rep(
    body: SalesRepCreate,
    request: Request,
    reseller: CurrentReseller,
    market: MarketplaceDep,
) -> JSONResponse:
    """Create a sales rep who orders on behalf of the buyer accounts assigned to it."""

    def run(api_key: str | None) -> tuple[int, dict[str, str]]:
        assert api_key is not None
        people = market.people.drafting(body.person(body.name), "sales_rep")
        rep_id = market.sellers.appoint_sales_rep(reseller.id, body.name, api_key, people)
        return 201, {"id": str(rep_id), "api_key": api_key}

    return idempotent(market, request, f"reseller:{reseller.id}", body.model_dump(), run, "s")


@router.put(
    "/reseller/sales-reps/{rep_id}/accounts",
    tags=["reseller"],
    response_model=Assigned,
    responses=errors(401, 403, 422, 404),
)
def assign_accounts(
    rep_id: UUID, body: AccountsPut, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Assign the buyer accounts a sales rep serves (replaces the previous list): only
    buyers you have agreed terms with."""
    if len(body.buyer_ids) > 10_000:
        raise Invalid("at most 10000 buyer accounts per sales rep")
    for buyer_id in body.buyer_ids:
        # The same answer whether the buyer does not exist or is not a customer of yours.
        if market.offers.terms(reseller.id, buyer_id) is None:
            raise NotFound(f"no customer {buyer_id} has terms with you")
    market.sellers.assign_accounts(reseller.id, rep_id, body.buyer_ids)
    return {"id": str(rep_id), "buyer_ids": sorted({str(b) for b in body.buyer_ids})}


@router.get(
    "/sales-rep/accounts",
    tags=["sales rep"],
    response_model=Page[AssignedAccount],
    responses=errors(401, 403, 422),
)
def assigned_accounts(rep: CurrentSalesRep, market: MarketplaceDep) -> dict[str, Any]:
    """The buyer accounts assigned to you."""
    items = []
    for buyer_id in rep.buyer_ids:
        buyer = market.buyers.buyer(buyer_id)
        terms = market.offers.terms(rep.reseller_id, buyer_id)
        items.append(
            {
                "buyer_id": str(buyer_id),
                "legal_name": buyer.legal_name,
                "country": buyer.country,
                "status": buyer.status,
                "has_terms": terms is not None,
            }
        )
    return {"items": items, "next_cursor": None}


@router.post(
    "/seller/users",
    status_code=201,
    tags=["people"],
    response_model=PersonCreated,
    responses=errors(401, 403, 422, 409),
)
def create_seller_user(
    body: SellerUserCreate, request: Request, seller: CurrentSeller, market: MarketplaceDep
) -> JSONResponse:
    """Add a person to your manufacturer or reseller, with the role the back office checks."""

    def run(_: str | None) -> tuple[int, dict[str, str]]:
        people = market.people.drafting(
            NewPerson(body.email, body.name, body.password), seller.kind, body.role
        )
        return 201, {"id": str(market.sellers.add_people(seller.id, people))}

    return idempotent(market, request, f"{seller.kind}:{seller.id}", body.model_dump(), run)
