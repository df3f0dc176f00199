"""Onboarding: manufacturers, resellers and buyers sign up (no key needed)."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from marketplace.web.answers import AccountCreated, errors
from marketplace.web.auth import MarketplaceDep
from marketplace.web.idempotent import ANONYMOUS, idempotent
from marketplace.web.schemas import Country, Label, Name, SignUpPerson

router = APIRouter(prefix="/v1", tags=["onboarding"])


class ManufacturerCreate(SignUpPerson):
    name: Name
    country: Country


class ResellerCreate(SignUpPerson):
    name: Name
    kind: Literal["reseller", "distributor", "wholesaler"]
    country: Country


class BuyerCreate(SignUpPerson):
    legal_name: Name
    tax_id: Label
    country: Country


@router.post(
    "/manufacturers", status_code=201, response_model=AccountCreated, responses=errors(409, 422)
)
def create_manufacturer(
    body: ManufacturerCreate, request: Request, market: MarketplaceDep
) -> JSONResponse:
    """Sign up a manufacturer; it acts once the operator approves it."""

    def run(api_key: str | None) -> tuple[int, dict[str, str]]:
        assert api_key is not None
        people = market.people.drafting(body.person(body.name), "manufacturer", "admin")
        account_id = market.sellers.register_manufacturer(body.name, body.country, api_key, people)
        return 201, {"id": str(account_id), "status": "pending", "api_key": api_key}

    return idempotent(market, request, ANONYMOUS, body.model_dump(), run, "s")


@router.post(
    "/resellers", status_code=201, response_model=AccountCreated, responses=errors(409, 422)
)
def create_reseller(body: ResellerCreate, request: Request, market: MarketplaceDep) -> JSONResponse:
    """Sign up a reseller, distributor or wholesaler."""

    def run(api_key: str | None) -> tuple[int, dict[str, str]]:
        assert api_key is not None
        people = market.people.drafting(body.person(body.name), "reseller", "admin")
        account_id = market.sellers.register_reseller(
            body.name, body.kind, body.country, api_key, people
        )
        return 201, {"id": str(account_id), "status": "pending", "api_key": api_key}

    return idempotent(market, request, ANONYMOUS, body.model_dump(), run, "s")


@router.post("/buyers", status_code=201, response_model=AccountCreated, responses=errors(409, 422))
def create_buyer(body: BuyerCreate, request: Request, market: MarketplaceDep) -> JSONResponse:
    """Sign up a buyer organisation; the key returned is its first admin user's."""

    def run(api_key: str | None) -> tuple[int, dict[str, str]]:
        assert api_key is not None
        people = market.people.drafting(body.person("admin"), "buyer_user", "admin")
        buyer_id, user_id = market.buyers.register(
            body.legal_name, body.tax_id, body.country, api_key, body.email, people
        )
        return 201, {
            "id": str(buyer_id),
            "status": "pending",
            "api_key": api_key,
            "user_id": str(user_id),
        }

    return idempotent(market, request, ANONYMOUS, body.model_dump(), run, "b")
