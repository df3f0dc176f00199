"""A buyer organisation's users and shopping lists."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from marketplace.buyers.lists import Sharing
from marketplace.kernel.errors import Forbidden
from marketplace.platform import Marketplace
from marketplace.web.answers import Page, UserCreated, errors
from marketplace.web.auth import BuyerSession, CurrentBuyerUser, MarketplaceDep
from marketplace.web.buying_answers import (
    CostCentreAssigned,
    CostCentreCreated,
    CostCentrePublic,
    ListCreated,
    ShoppingListPublic,
)
from marketplace.web.idempotent import idempotent
from marketplace.web.schemas import (
    Cursor,
    Label,
    Limit,
    MoneyIn,
    Name,
    Quantity,
    Strict,
    Text,
    WithPerson,
    money_or_none,
    page,
)
from marketplace.web.waiting import OrdersReady


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


class ListCreate(Strict):
    name: Name
    sharing: Sharing = "private"


class ListLine(Strict):
    quantity: Quantity


@router.post(
    "/lists", response_model=ListCreated, status_code=201, responses=errors(401, 403, 422, 409)
)
def create_list(
    body: ListCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Start a shopping list: `private`, or shared with your organisation to `read` or `edit`."""

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        made = market.buyers.create_list(session.buyer.id, session.user.id, body.name, body.sharing)
        return 201, {"list_id": str(made)}

    scope = f"buyer:{session.buyer.id}:{session.user.id}"
    return idempotent(market, request, scope, body.model_dump(mode="json"), run)


@router.get(
    "/lists", response_model=Page[ShoppingListPublic], responses=errors(401, 403, 422, 400, 408)
)
def lists(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: OrdersReady,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your shopping lists and those shared in your organisation, newest first."""
    items, next_cursor = market.order_lists.lists(
        str(session.buyer.id), str(session.user.id), limit, cursor
    )
    return page(items, next_cursor)


@router.get(
    "/lists/{list_id}", response_model=ShoppingListPublic, responses=errors(401, 403, 422, 404)
)
def one_list(list_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep) -> dict[str, Any]:
    """One shopping list with its lines."""
    return market.buyers.shopping_list(list_id, session.buyer.id, session.user.id).describe()


@router.put(
    "/lists/{list_id}/lines/{product_id}",
    response_model=ShoppingListPublic,
    responses=errors(401, 403, 422, 404),
)
def set_list_line(
    list_id: UUID,
    product_id: UUID,
    body: ListLine,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
) -> dict[str, Any]:
    """Put a product on the list, or change its quantity (owner, or anyone if `edit`)."""
    changed = market.buyers.set_list_line(
        list_id, session.buyer.id, session.user.id, product_id, body.quantity
    )
    return changed.describe()


@router.delete(
    "/lists/{list_id}/lines/{product_id}",
    response_model=ShoppingListPublic,
    responses=errors(401, 403, 422, 404),
)
def remove_list_line(
    list_id: UUID, product_id: UUID, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """Take a product off the list."""
    changed = market.buyers.remove_list_line(list_id, session.buyer.id, session.user.id, product_id)
    return changed.describe()


class CostCentreCreate(Strict):
    name: Name
    code: Label
    shipping_addresses: Annotated[
        list[Annotated[dict[Label, Text], Field(max_length=20)]], Field(max_length=20)
    ] = []


class CostCentreAssign(Strict):
    cost_centre_id: UUID


def _admin(session: BuyerSession) -> None:
    if session.user.role != "admin":
        raise Forbidden("only an admin manages cost centres")


@router.post(
    "/cost-centres",
    response_model=CostCentreCreated,
    status_code=201,
    responses=errors(401, 403, 422, 409),
)
def create_cost_centre(
    body: CostCentreCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Define a cost centre (admins): its name, a code unique in your organisation, and its
    shipping addresses. Orders name one; without, the placing user's."""
    _admin(session)

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        made = market.buyers.add_cost_centre(
            session.buyer.id, body.name, body.code, body.shipping_addresses
        )
        return 201, {"cost_centre_id": str(made)}

    scope = f"buyer:{session.buyer.id}:{session.user.id}"
    return idempotent(market, request, scope, body.model_dump(mode="json"), run)


@router.get("/cost-centres", response_model=Page[CostCentrePublic], responses=errors(401, 403, 422))
def cost_centres(session: CurrentBuyerUser, market: MarketplaceDep) -> dict[str, Any]:
    """Your organisation's cost centres, and who is assigned to each."""
    buyer = market.buyers.buyer(session.buyer.id)
    items = [
        {
            **centre.describe(),
            "user_ids": [str(u.id) for u in buyer.users.values() if u.cost_centre_id == centre.id],
        }
        for centre in buyer.cost_centres.values()
    ]
    return page(items, None)


@router.put(
    "/users/{user_id}/cost-centre",
    response_model=CostCentreAssigned,
    responses=errors(401, 403, 422, 404),
)
def assign_cost_centre(
    user_id: UUID, body: CostCentreAssign, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """Assign a user to a cost centre (admins): its orders book there unless they name one."""
    _admin(session)
    market.buyers.assign_cost_centre(session.buyer.id, user_id, body.cost_centre_id)
    return {"user_id": str(user_id), "cost_centre_id": str(body.cost_centre_id)}
