"""A buyer organisation's users."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from marketplace.kernel.errors import Forbidden
from marketplace.platform import Marketplace
from marketplace.web.answers import UserCreated, errors
from marketplace.web.auth import CurrentBuyerUser, MarketplaceDep
from marketplace.web.idempotent import idempotent
from marketplace.web.schemas import MoneyIn, Name, WithPerson, money_or_none


def invitation_url(request: Request, market: Marketplace, email: str) -> str:
    person = market.people.find(email)
    assert person is not None
    return str(request.url_for("invitation", token=market.people.invitation(person)))


router = APIRouter(prefix="/v1/buyer", tags=["buyer"])


class UserCreate(WithPerson):
    name: Name
    role: Literal["admin", "approver", "buyer"]
    spending_limit: MoneyIn | None = None


@router.post(
    "/users", status_code=201, response_model=UserCreated, responses=errors(401, 403, 422, 409)
)
def create_user(
    body: UserCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Add a user to your organisation (admins only)."""
    if session.user.role != "admin":
        raise Forbidden("only an admin can add users")

    def run(api_key: str | None) -> tuple[int, dict[str, str | None]]:
        assert api_key is not None
        people = market.people.drafting(body.person(body.name), "buyer_user", body.role)
        user_id = market.buyers.add_user(
            session.buyer.id,
            body.name,
            body.role,
            money_or_none(body.spending_limit),
            api_key,
            body.email,
            people,
        )
        answer: dict[str, str | None] = {"id": str(user_id), "api_key": api_key}
        if body.email is not None and body.password is None:
            answer["invitation_url"] = invitation_url(request, market, body.email)
        return 201, answer

    return idempotent(
        market,
        request,
        f"buyer:{session.buyer.id}:{session.user.id}",
        body.model_dump(),
        run,
        "b",
    )
