"""A buyer organisation's users."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from marketplace.kernel.errors import Forbidden
from marketplace.web.answers import Created, errors
from marketplace.web.auth import CurrentBuyerUser, MarketplaceDep
from marketplace.web.idempotent import idempotent
from marketplace.web.schemas import MoneyIn, Name, Strict, money_or_none

router = APIRouter(prefix="/v1/buyer", tags=["buyer"])


class UserCreate(Strict):
    name: Name
    role: Literal["admin", "approver", "buyer"]
    spending_limit: MoneyIn | None = None


@router.post(
    "/users", status_code=201, response_model=Created, responses=errors(401, 403, 422, 409)
)
def create_user(
    body: UserCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Add a user to your organisation (admins only)."""
    if session.user.role != "admin":
        raise Forbidden("only an admin can add users")

    def run(api_key: str | None) -> tuple[int, dict[str, str]]:
        assert api_key is not None
        user_id = market.buyers.add_user(
            session.buyer.id, body.name, body.role, money_or_none(body.spending_limit), api_key
        )
        return 201, {"id": str(user_id), "api_key": api_key}

    return idempotent(
        market,
        request,
        f"buyer:{session.buyer.id}:{session.user.id}",
        body.model_dump(),
        run,
        "b",
    )
