"""Whom the storefront shops for: a buyer user for its own company, or a sales rep for an
assigned buyer account. Both go through the same rights as the API."""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends

from marketplace.buyers.domain import Buyer, BuyerUser
from marketplace.kernel.errors import Forbidden
from marketplace.kernel.money import Money
from marketplace.pages.session import SignedIn, Visitor
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep, buyer_session_of, sales_rep_of
from sellers.domain import SalesRep


@dataclass(frozen=True)
class Shopper:
    visitor: Visitor
    buyer: Buyer
    user: BuyerUser | None
    rep: SalesRep | None

    @property
    def buyer_id(self) -> UUID:
        return self.buyer.id

    @property
    def cart_owner(self) -> str:
        return str(self.visitor.person.id)

    @property
    def only_reseller(self) -> UUID | None:
        return self.rep.reseller_id if self.rep else None

    @property
    def reseller_filter(self) -> str | None:
        return str(self.rep.reseller_id) if self.rep else None

    @property
    def spending_limit(self) -> Money | None:
        return self.user.spending_limit if self.user else None

    @property
    def can_approve(self) -> bool:
        return self.user is not None and self.user.can_approve

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.role == "admin"

    def placed_by(self) -> dict[str, str]:
        if self.rep is not None:
            return {
                "kind": "sales_rep",
                "sales_rep_id": str(self.rep.id),
                "name": self.rep.name,
                "reseller_id": str(self.rep.reseller_id),
            }
        assert self.user is not None
        return {"kind": "buyer_user", "user_id": str(self.user.id), "name": self.user.name}

    @property
    def scope(self) -> str:
        if self.rep is not None:
            return f"sales_rep:{self.rep.id}:{self.buyer.id}"
        assert self.user is not None
        return f"buyer:{self.buyer.id}:{self.user.id}"


class NotShopping(Forbidden):
    """A signed-in person with no buyer account to shop for (yet)."""


def shopper_of(market: Marketplace, visitor: Visitor) -> Shopper:
    principal = visitor.principal
    if principal.kind == "buyer_user":
        session = buyer_session_of(market, principal)
        return Shopper(visitor, session.buyer, session.user, None)
    if principal.kind == "sales_rep":
        rep = sales_rep_of(market, principal)
        acting_for = visitor.session.acting_for
        if acting_for is None or not rep.serves(UUID(acting_for)):
            raise NotShopping("choose one of your accounts to shop on its behalf")
        return Shopper(visitor, market.buyers.buyer(UUID(acting_for)), None, rep)
    raise NotShopping("the storefront is for buyers and sales reps")


def shopper(market: MarketplaceDep, visitor: SignedIn) -> Shopper:
    return shopper_of(market, visitor)


def approver(shopping: Annotated[Shopper, Depends(shopper)]) -> Shopper:
    if not shopping.can_approve:
        raise Forbidden("only an approver or an admin of the company decides on orders")
    return shopping


def admin(shopping: Annotated[Shopper, Depends(shopper)]) -> Shopper:
    if not shopping.is_admin:
        raise Forbidden("only an admin of the company manages its users")
    return shopping


CurrentShopper = Annotated[Shopper, Depends(shopper)]
CurrentApprover = Annotated[Shopper, Depends(approver)]
CurrentAdmin = Annotated[Shopper, Depends(admin)]
