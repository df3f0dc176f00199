"""Who is calling: the principal behind a bearer key, and the FastAPI dependencies per role."""

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from marketplace.adapters.eventstore import Read, read_together
from marketplace.buyers.domain import Buyer, BuyerUser
from marketplace.kernel.accounts import ApiKey, hash_key
from marketplace.kernel.errors import Forbidden
from marketplace.kernel.facts import Facts
from marketplace.kernel.keys import context_of
from marketplace.platform import Marketplace
from sellers.domain import Manufacturer, Reseller, SalesRep

PrincipalKind = Literal["operator", "manufacturer", "reseller", "buyer_user", "sales_rep"]
A = TypeVar("A", bound=Aggregate)
bearer = HTTPBearer(auto_error=False, description="The API key of one principal")


# Async: FastAPI would otherwise hand this one lookup to a worker thread on every request.
async def get_marketplace(request: Request) -> Marketplace:
    market: Marketplace = request.app.state.marketplace
    return market


MarketplaceDep = Annotated[Marketplace, Depends(get_marketplace)]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: UUID | None  # the account (or sales rep); None for the operator
    user_id: UUID | None = None

    @property
    def scope(self) -> str:
        return f"{self.kind}:{self.id}:{self.user_id}"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def authenticate(market: MarketplaceDep, credentials: Credentials) -> Principal:
    return _authenticated(market, credentials, None)[0]


# A key's account never changes: once this process knows it, the key (whether it is revoked)
# and its account are read in one round trip.
_ACCOUNT_OF_KEY: Facts[UUID, UUID] = Facts()


def _authenticated(
    market: Marketplace, credentials: Credentials, account: type[A] | None
) -> tuple[Principal, A | None]:
    """Who the key speaks for, and (when `account` is given and its id known already) that
    account as read along with the key."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("send your API key as 'Authorization: Bearer <api_key>'")
    key = credentials.credentials
    if hmac.compare_digest(key.encode(), market.operator_key.encode()):
        return Principal("operator", None), None
    app = {"s": market.sellers, "b": market.buyers}.get(context_of(key) or "")
    if app is None:
        raise _unauthorized("unknown API key")
    key_id = ApiKey.create_id(hash_key(key))
    account_id = _ACCOUNT_OF_KEY.get(key_id) if account is not None else None
    reads: list[Read] = [(app, [key_id], ApiKey)]
    if account is not None and account_id is not None:
        reads.append((app, [account_id], account))
    keys, *accounts = read_together(reads)
    record = keys.get(key_id)
    if not isinstance(record, ApiKey) or record.revoked:
        raise _unauthorized("unknown API key")
    _ACCOUNT_OF_KEY.learn([(key_id, record.account_id)])
    found = accounts[0].get(record.account_id) if accounts else None
    principal = Principal(record.principal, record.account_id, record.user_id)
    return principal, found if account is not None and isinstance(found, account) else None


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def _require(principal: Principal, kind: PrincipalKind) -> UUID:
    if principal.kind != kind or principal.id is None:
        raise Forbidden(f"this endpoint is for {kind.replace('_', ' ')}s")
    return principal.id


def _check_approved(approved: bool, what: str) -> None:
    if not approved:
        raise Forbidden(f"{what} is not approved by the marketplace operator")


# Each role's dependency authenticates itself, rather than depend on `authenticate`: FastAPI
# runs every sync dependency in a worker thread of its own, and one hop a request is enough.


def operator(market: MarketplaceDep, credentials: Credentials) -> Principal:
    principal = authenticate(market, credentials)
    if principal.kind != "operator":
        raise Forbidden("this endpoint is for the marketplace operator")
    return principal


def manufacturer_of(market: Marketplace, principal: Principal) -> Manufacturer:
    account = market.sellers.manufacturer(_require(principal, "manufacturer"))
    _check_approved(account.is_approved, "your account")
    return account


def reseller_of(market: Marketplace, principal: Principal) -> Reseller:
    account = market.sellers.reseller(_require(principal, "reseller"))
    _check_approved(account.is_approved, "your account")
    return account


def manufacturer(market: MarketplaceDep, credentials: Credentials) -> Manufacturer:
    return manufacturer_of(market, authenticate(market, credentials))


def reseller(market: MarketplaceDep, credentials: Credentials) -> Reseller:
    return reseller_of(market, authenticate(market, credentials))


@dataclass(frozen=True)
class Seller:
    kind: Literal["manufacturer", "reseller"]
    id: UUID


def seller(market: MarketplaceDep, credentials: Credentials) -> Seller:
    principal = authenticate(market, credentials)
    if principal.kind == "manufacturer":
        return Seller("manufacturer", manufacturer_of(market, principal).id)
    if principal.kind == "reseller":
        return Seller("reseller", reseller_of(market, principal).id)
    raise Forbidden("this endpoint is for manufacturers and resellers")


@dataclass(frozen=True)
class BuyerSession:
    buyer: Buyer
    user: BuyerUser


def buyer_user(market: MarketplaceDep, credentials: Credentials) -> BuyerSession:
    return buyer_session_of(market, *_authenticated(market, credentials, Buyer))


def buyer_session_of(
    market: Marketplace, principal: Principal, read: Buyer | None = None
) -> BuyerSession:
    """The buyer user's session (`read`: its organisation, if already read)."""
    buyer_id = _require(principal, "buyer_user")
    buyer = read if read is not None and read.id == buyer_id else market.buyers.buyer(buyer_id)
    _check_approved(buyer.is_approved, "your organisation")
    user = buyer.active_user(principal.user_id) if principal.user_id else None
    if user is None:
        raise Forbidden("this user is disabled or no longer exists")
    return BuyerSession(buyer, user)


def sales_rep(market: MarketplaceDep, credentials: Credentials) -> SalesRep:
    return sales_rep_of(market, authenticate(market, credentials))


def sales_rep_of(market: Marketplace, principal: Principal) -> SalesRep:
    rep = market.sellers.sales_rep(_require(principal, "sales_rep"))
    _check_approved(market.sellers.reseller(rep.reseller_id).is_approved, "your reseller")
    return rep


CurrentOperator = Annotated[Principal, Depends(operator)]
CurrentManufacturer = Annotated[Manufacturer, Depends(manufacturer)]
CurrentReseller = Annotated[Reseller, Depends(reseller)]
CurrentSeller = Annotated[Seller, Depends(seller)]
CurrentBuyerUser = Annotated[BuyerSession, Depends(buyer_user)]
CurrentSalesRep = Annotated[SalesRep, Depends(sales_rep)]
