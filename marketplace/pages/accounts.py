"""A sales rep's assigned buyer accounts, and choosing one to shop on its behalf."""

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketplace.buyers.domain import Buyer
from marketplace.kernel.errors import Forbidden
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked, SignedIn, Visitor
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep, sales_rep_of
from sellers.domain import SalesRep

router = APIRouter(include_in_schema=False)


def rep_of(market: Marketplace, visitor: Visitor) -> SalesRep:
    if visitor.person.principal != "sales_rep":
        raise Forbidden("this page is for sales reps")
    return sales_rep_of(market, visitor.principal)


@router.get("/accounts")
def accounts(request: Request, market: MarketplaceDep, visitor: SignedIn) -> Response:
    rep = rep_of(market, visitor)
    buyers = list(market.buyers.get_many(list(rep.buyer_ids), Buyer).values())
    return render(
        request,
        "accounts.html",
        {"rep": rep, "buyers": sorted(buyers, key=lambda b: b.legal_name.lower())},
        visitor=visitor,
    )


@router.post("/accounts/{buyer_id}/act", dependencies=[CsrfChecked])
def act_for(buyer_id: UUID, market: MarketplaceDep, visitor: SignedIn) -> Response:
    rep = rep_of(market, visitor)
    if not rep.serves(buyer_id):
        raise Forbidden("that buyer account is not assigned to you")
    market.web_sessions.act_for(visitor.session.token, str(buyer_id))
    return redirect("/catalog")


@router.post("/accounts/leave", dependencies=[CsrfChecked])
def leave(market: MarketplaceDep, visitor: SignedIn) -> Response:
    rep_of(market, visitor)
    market.web_sessions.act_for(visitor.session.token, None)
    return redirect("/accounts")
