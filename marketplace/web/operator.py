"""The operator: approves and suspends accounts, sets commissions, watches projections."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from marketplace.kernel.accounts import StatusAction
from marketplace.kernel.errors import Conflict, NotFound
from marketplace.kernel.people import OperatorRole
from marketplace.people.application import NewPerson
from marketplace.web.answers import (
    Accepted,
    AccountStatus,
    Commission,
    PersonCreated,
    ProjectionStatus,
    errors,
)
from marketplace.web.auth import CurrentOperator, MarketplaceDep
from marketplace.web.idempotent import idempotent
from marketplace.web.schemas import Email, Name, Password, Reason, Strict

router = APIRouter(prefix="/v1/operator", tags=["operator"])


class StatusChange(Strict):
    reason: Reason | None = None


class OperatorUserCreate(Strict):
    name: Name
    email: Email
    password: Password
    role: OperatorRole


class CommissionPut(Strict):
    rate_bps: int


def _status(
    market: MarketplaceDep, account_id: UUID, change: StatusAction, reason: str | None
) -> dict[str, str]:
    account = market.change_account_status(account_id, change, reason)
    return {"id": str(account_id), "status": account.status}


@router.post(
    "/accounts/{account_id}/approve",
    response_model=AccountStatus,
    responses=errors(401, 403, 422, 404, 409),
)
def approve(
    account_id: UUID,
    market: MarketplaceDep,
    _: CurrentOperator,
    body: StatusChange | None = None,
) -> dict[str, str]:
    """Approve a pending account."""
    return _status(market, account_id, "approve", body.reason if body else None)


@router.post(
    "/accounts/{account_id}/suspend",
    response_model=AccountStatus,
    responses=errors(401, 403, 422, 404, 409),
)
def suspend(
    account_id: UUID,
    market: MarketplaceDep,
    _: CurrentOperator,
    body: StatusChange | None = None,
) -> dict[str, str]:
    """Suspend an account: its offers leave every catalog, its open orders stay."""
    return _status(market, account_id, "suspend", body.reason if body else None)


@router.post(
    "/accounts/{account_id}/reinstate",
    response_model=AccountStatus,
    responses=errors(401, 403, 422, 404, 409),
)
def reinstate(
    account_id: UUID,
    market: MarketplaceDep,
    _: CurrentOperator,
    body: StatusChange | None = None,
) -> dict[str, str]:
    """Reinstate a suspended account."""
    return _status(market, account_id, "reinstate", body.reason if body else None)


@router.put(
    "/resellers/{reseller_id}/commission",
    response_model=Commission,
    responses=errors(401, 403, 422, 404),
)
def set_commission(
    reseller_id: UUID, body: CommissionPut, market: MarketplaceDep, _: CurrentOperator
) -> dict[str, Any]:
    """Set a reseller's commission rate, in basis points."""
    market.sellers.set_commission(reseller_id, body.rate_bps)
    return {"reseller_id": str(reseller_id), "rate_bps": body.rate_bps}


@router.get("/projections", response_model=list[ProjectionStatus], responses=errors(401, 403, 422))
def projections(market: MarketplaceDep, _: CurrentOperator) -> list[dict[str, Any]]:
    """Every projection's position, lag in events and status."""
    return market.projections.status()


# A rebuild of a large view takes minutes; asking again sooner only finds it running.
RETRY_AFTER = {"Retry-After": "30"}


@router.post(
    "/projections/{name}/rebuild",
    status_code=202,
    response_model=Accepted,
    responses=errors(401, 403, 422, 404, 409),
)
def rebuild(
    name: str, market: MarketplaceDep, _: CurrentOperator, tasks: BackgroundTasks
) -> JSONResponse:
    """Rebuild a view from the event store beside the live one, then swap it in."""
    if name not in market.projections.names:
        raise NotFound(f"unknown projection {name}")
    try:
        prefix = market.projections.begin_rebuild(name)
    except Conflict as busy:
        return JSONResponse({"detail": busy.detail}, status_code=409, headers=RETRY_AFTER)
    tasks.add_task(market.projections.run_rebuild, name, prefix)
    return JSONResponse({"name": name, "status": "rebuilding"}, status_code=202, background=tasks)


@router.post(
    "/users",
    status_code=201,
    tags=["people"],
    response_model=PersonCreated,
    responses=errors(401, 403, 422, 409),
)
def create_operator_user(
    body: OperatorUserCreate, request: Request, market: MarketplaceDep, _: CurrentOperator
) -> JSONResponse:
    """Add a person to the marketplace operator: `admin` acts, `support` only reads."""

    def run(_: str | None) -> tuple[int, dict[str, str]]:
        people = market.people.drafting(
            NewPerson(body.email, body.name, body.password), "operator", body.role
        )
        return 201, {"id": str(market.sellers.add_people(None, people))}

    return idempotent(market, request, "operator", body.model_dump(), run)
