"""The people of a seller or of the operator, for their admins: invite with a role, disable,
enable. A person of a buyer company is managed on its users page instead."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from marketplace.kernel.errors import Conflict, DomainError, Forbidden, NotFound
from marketplace.pages.freshness import caught_up
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked, SignedIn
from marketplace.pages.staff import Staff, staff_of
from marketplace.people.application import NewPerson
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep

router = APIRouter(include_in_schema=False)
ROLES = {
    "manufacturer": ("admin", "catalog", "orders", "finance"),
    "reseller": ("admin", "catalog", "orders", "finance"),
    "operator": ("admin", "support"),
}


def team_admin(request: Request, market: MarketplaceDep, visitor: SignedIn) -> Staff:
    found = staff_of(market, visitor)
    if found is None:
        raise Forbidden("this page is for the people of a seller or of the operator")
    reads = found.side == "operator" and found.role == "support" and request.method == "GET"
    if found.role != "admin" and not reads:
        raise Forbidden("only an admin manages its organisation's people")
    return found


Admin = Annotated[Staff, Depends(team_admin)]


def _page(
    request: Request,
    market: Marketplace,
    admin: Staff,
    extra: dict[str, Any] | None = None,
    code: int = 200,
) -> Response:
    caught_up(market, request, "catalog")
    account = None if admin.account_id is None else str(admin.account_id)
    return render(
        request,
        "team.html",
        {
            "staff": admin,
            "people": market.catalog.people_of([admin.side], account),
            "roles": ROLES[admin.side],
            "form": {},
            "errors": {},
            "notice": request.query_params.get("notice"),
            **(extra or {}),
        },
        status=code,
        visitor=admin.visitor,
    )


@router.get("/team")
def team(request: Request, market: MarketplaceDep, admin: Admin) -> Response:
    return _page(request, market, admin)


@router.post("/team", dependencies=[CsrfChecked])
async def invite(request: Request, market: MarketplaceDep, admin: Admin) -> Response:
    form = {k: str(v).strip()[:254] for k, v in (await request.form()).items()}
    errors: dict[str, str] = {}
    if not form.get("name"):
        errors["name"] = "give the colleague's name"
    role = form.get("role", "")
    if role not in ROLES[admin.side]:
        errors["role"] = "choose a role"
    if not errors:
        try:
            people = market.people.drafting(
                NewPerson(form.get("email", ""), form["name"], None), admin.side, role
            )
            market.sellers.add_people(admin.account_id, people)
        except DomainError as error:
            errors["email"] = str(error.detail)
    if errors:
        return _page(request, market, admin, {"form": form, "errors": errors}, 422)
    person = market.people.find(form["email"])
    assert person is not None
    link = str(request.url_for("invitation", token=market.people.invitation(person)))
    return _page(request, market, admin, {"invited": {"email": person.email, "link": link}})


@router.post("/team/{person_id}/{action}", dependencies=[CsrfChecked])
def disable(person_id: UUID, action: str, market: MarketplaceDep, admin: Admin) -> Response:
    person = market.people.person(person_id)
    if (
        person is None
        or person.principal != admin.side
        or person.account_id != admin.account_id
        or action not in ("disable", "enable")
    ):
        raise NotFound(f"unknown person {person_id}")
    if person.id == admin.visitor.person.id:
        raise Conflict("you cannot disable yourself; ask another admin")
    if action == "disable":
        person.disable()
    else:
        person.enable()
    market.people.save(person)
    if action == "disable":
        market.web_sessions.close_all(str(person.id))
    return redirect(f"/team?notice={person.email} is {action}d")
