"""Who works in the back office: a person of a manufacturer, a reseller or the operator, with
the role that says what it may see and change. Checked on the server for every page and form.

Seller roles: `admin` (everything), `catalog` (products or offers, imports), `orders`
(fulfilment, returns), `finance` (invoices, receivables, payouts, commissions, returns).
Operator roles: `admin` acts, `support` only reads.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from fastapi import Request

from marketplace.kernel.errors import Forbidden
from marketplace.pages.session import SignedIn, Visitor
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep, manufacturer_of, reseller_of

Side = Literal["manufacturer", "reseller", "operator"]


@dataclass(frozen=True)
class Staff:
    visitor: Visitor
    side: Side
    account_id: UUID | None
    account_name: str
    role: str

    def may(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles

    @property
    def seller_id(self) -> UUID:
        assert self.account_id is not None
        return self.account_id


def staff_of(market: Marketplace, visitor: Visitor) -> Staff | None:
    person = visitor.person
    role = person.role or "admin"
    if person.principal == "operator":
        return Staff(visitor, "operator", None, "Marketplace operator", role)
    if person.principal == "manufacturer":
        account = manufacturer_of(market, visitor.principal)
        return Staff(visitor, "manufacturer", account.id, account.name, role)
    if person.principal == "reseller":
        seller = reseller_of(market, visitor.principal)
        return Staff(visitor, "reseller", seller.id, seller.name, role)
    return None


def staff(side: Side, *roles: str) -> Callable[..., Staff]:
    """A dependency: the signed-in person of `side` with one of `roles` (admins always).
    A form post also needs a role that may change things: support reads only."""

    def dependency(request: Request, market: MarketplaceDep, visitor: SignedIn) -> Staff:
        found = staff_of(market, visitor)
        if found is None or found.side != side:
            raise Forbidden(f"this page is for the {side}'s people")
        if not found.may(*roles):
            raise Forbidden(f"your role ({found.role}) does not open this page")
        if request.method != "GET" and found.role == "support":
            raise Forbidden("a support role reads; it changes nothing")
        return found

    return dependency


# What each side's people find in the menu, and the roles that open each page.
OFFICE: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "reseller": [
        ("/reseller/orders", "Seller orders", ("orders",)),
        ("/reseller/quotes", "Quotes", ("orders",)),
        ("/reseller/offers", "Offers", ("catalog",)),
        ("/reseller/imports", "Import", ("catalog",)),
        ("/reseller/customers", "Customers", ()),
        ("/reseller/reps", "Sales reps", ()),
        ("/reseller/returns", "Returns", ("orders", "finance")),
        ("/reseller/incidents", "Incidents", ("orders",)),
        ("/reseller/invoices", "Invoices", ("finance",)),
        ("/reseller/receivables", "Receivables", ("finance",)),
        ("/reseller/payouts", "Payouts", ("finance",)),
        ("/reseller/commission-invoices", "Commission invoices", ("finance",)),
        ("/reseller/commissions", "Commissions", ("finance",)),
        ("/reseller/shipping", "Shipping", ("orders",)),
        ("/tax-profile", "Tax profile", ("finance",)),
        ("/team", "People", ()),
        ("/webhooks", "Webhooks", ()),
    ],
    "manufacturer": [
        ("/manufacturer/products", "Products", ("catalog",)),
        ("/manufacturer/imports", "Import", ("catalog",)),
        ("/manufacturer/authorizations", "Authorizations", ("catalog",)),
        ("/team", "People", ()),
        ("/webhooks", "Webhooks", ()),
    ],
    "operator": [
        ("/operator", "Dashboard", ()),
        ("/operator/accounts", "Accounts", ()),
        ("/operator/orders", "Orders", ()),
        ("/operator/incidents", "Incidents", ()),
        ("/operator/commissions", "Commissions", ()),
        ("/operator/invoices", "Invoices", ()),
        ("/operator/payments", "Payments", ()),
        ("/operator/payouts", "Payouts", ()),
        ("/operator/commission-invoices", "Commission invoices", ()),
        ("/operator/projections", "Projections", ()),
        ("/operator/mail", "Mail", ()),
        ("/operator/tax-rates", "Tax rates", ()),
        ("/operator/reports/dac7", "DAC7", ()),
        ("/tax-profile", "Tax profile", ()),
        ("/team", "People", ()),
        ("/webhooks", "Webhooks", ()),
    ],
}


def office_links(visitor: Visitor | None) -> list[tuple[str, str]]:
    if visitor is None or visitor.person.principal not in OFFICE:
        return []
    role = visitor.person.role or "admin"
    return [
        (href, label)
        for href, label, roles in OFFICE[visitor.person.principal]
        if role in ("admin", "support") or role in roles
    ]
