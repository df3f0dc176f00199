"""Money after the order over HTTP: invoices, credit, returns, payments and payouts."""

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, Field

from marketplace.kernel.errors import Invalid
from marketplace.platform import Marketplace
from marketplace.web.answers import ImportStatus, JobStarted, Page, errors
from marketplace.web.auth import CurrentBuyerUser, CurrentOperator, CurrentReseller, MarketplaceDep
from marketplace.web.billing_answers import (
    ClockAnswer,
    CreditAnswer,
    InvoicePublic,
    PaymentPublic,
    PayoutPublic,
    PayoutsMade,
    Receivable,
    ReturnPublic,
)
from marketplace.web.einvoices import invoice_file, negotiated
from marketplace.web.idempotent import idempotent
from marketplace.web.invoice_pdf import PDF
from marketplace.web.schemas import (
    Amount,
    Cursor,
    Label,
    Limit,
    MoneyIn,
    Quantity,
    Reason,
    Strict,
    page,
)
from marketplace.web.uploads import Gone, spool
from marketplace.web.waiting import BillingReady
from offers.api import job_status
from orders.billing.application import (
    describe_invoice,
    describe_payment,
    describe_payout,
    describe_return,
)
from orders.billing.domain import Allocation
from orders.billing.payments import PaymentIn
from orders.billing.statements import parse_statement

router = APIRouter(prefix="/v1")
InvoiceStatusFilter = Annotated[Literal["open", "overdue", "paid"] | None, Query()]
ReturnStatusFilter = Annotated[Literal["requested", "accepted", "refused"] | None, Query()]
MAX_STATEMENT_LINES = 100_000


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError("not a date, YYYY-MM-DD") from None


IsoDate = Annotated[str, Field(max_length=10), AfterValidator(_iso_date)]
Positive = Annotated[int, Field(strict=True, gt=0)]


class PositiveMoney(MoneyIn):
    amount: Annotated[Amount, Field(gt=0)]


class AllocationIn(Strict):
    invoice_id: UUID
    # Minor units, or money in the payment's currency.
    amount: Positive | PositiveMoney

    def minor(self, currency: str) -> int:
        if isinstance(self.amount, int):
            return self.amount
        if self.amount.currency != currency:
            raise Invalid(f"an allocation is in {self.amount.currency}, the payment in {currency}")
        return self.amount.amount


class PaymentCreate(Strict):
    buyer_id: UUID
    amount: PositiveMoney
    reference: Label
    received_on: IsoDate
    allocations: Annotated[list[AllocationIn], Field(min_length=1, max_length=500)] | None = None


class ReturnLine(Strict):
    product_id: UUID
    quantity: Quantity


class ReturnCreate(Strict):
    seller_order_id: UUID
    lines: Annotated[list[ReturnLine], Field(min_length=1, max_length=500)]
    reason: Annotated[Reason, Field(min_length=1)]


class AcceptReturn(Strict):
    restock: bool = False


class RefuseReturn(Strict):
    reason: Reason


class PayoutRun(Strict):
    up_to: IsoDate


def _plausible(when: datetime) -> datetime:
    if not 2000 <= when.year <= 2999:
        raise ValueError("the clock goes from the year 2000 to 2999")
    return when


class ClockSet(Strict):
    now: Annotated[datetime, AfterValidator(_plausible)]


def _invoice_answer(market: Marketplace, request: Request, invoice: dict[str, Any]) -> Response:
    return negotiated(market, request.headers.get("accept", ""), invoice, invoice_file)


# Buyers


@router.get(
    "/buyer/invoices",
    response_model=Page[InvoicePublic],
    tags=["buyer"],
    responses=errors(401, 403, 422, 400, 408),
)
def buyer_invoices(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: InvoiceStatusFilter = None,
    reseller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your organisation's invoices, newest first: open, overdue or paid."""
    items, next_cursor = market.billing_lists.invoices(
        limit,
        cursor,
        market.clock.today(),
        buyer_id=str(session.buyer.id),
        seller_id=str(reseller_id) if reseller_id else None,
        status=status,
    )
    return page(items, next_cursor)


@router.get(
    "/buyer/invoices/{invoice_id}",
    response_model=InvoicePublic,
    tags=["buyer"],
    responses={**errors(401, 403, 422, 404), 200: {"content": {PDF: {}}}},
)
def buyer_invoice(
    invoice_id: UUID, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> Response:
    """One invoice; with `Accept: application/pdf`, the invoice as a PDF."""
    invoice = market.billing.invoice(invoice_id, buyer_id=session.buyer.id)
    return _invoice_answer(market, request, describe_invoice(invoice, market.clock.today()))


@router.get(
    "/buyer/credit", response_model=CreditAnswer, tags=["buyer"], responses=errors(401, 403, 422)
)
def buyer_credit(session: CurrentBuyerUser, market: MarketplaceDep) -> dict[str, Any]:
    """Per reseller: your credit limit, what open orders hold, what invoices leave unpaid,
    what remains, and whether an overdue invoice stops orders on invoice; and the credit
    balance overpayments and credit notes left you, which pays your next invoices."""
    return {
        "items": market.credit_of(session.buyer.id),
        "next_cursor": None,
        "credit_balance": market.credit_balances(session.buyer.id),
    }


@router.post(
    "/buyer/returns",
    response_model=ReturnPublic,
    status_code=201,
    tags=["buyer"],
    responses=errors(401, 403, 422, 404, 409),
)
def request_return(
    body: ReturnCreate, request: Request, session: CurrentBuyerUser, market: MarketplaceDep
) -> JSONResponse:
    """Ask to return delivered lines of a seller order; its seller accepts or refuses."""
    lines: dict[UUID, int] = {}
    for line in body.lines:
        if line.product_id in lines:
            raise Invalid(f"product {line.product_id} appears twice; merge the lines")
        lines[line.product_id] = line.quantity

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        made = market.returns.request(
            session.buyer.id, str(session.user.id), body.seller_order_id, lines, body.reason
        )
        return 201, describe_return(made)

    scope = f"buyer:{session.buyer.id}:{session.user.id}"
    return idempotent(market, request, scope, body.model_dump(mode="json"), run)


@router.get(
    "/buyer/returns",
    response_model=Page[ReturnPublic],
    tags=["buyer"],
    responses=errors(401, 403, 422, 400, 408),
)
def buyer_returns(
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: ReturnStatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your organisation's returns, newest first."""
    items, next_cursor = market.billing_lists.returns(
        limit, cursor, buyer_id=str(session.buyer.id), status=status
    )
    return page(items, next_cursor)


# Resellers


@router.get(
    "/reseller/invoices",
    response_model=Page[InvoicePublic],
    tags=["reseller"],
    responses=errors(401, 403, 422, 400, 408),
)
def reseller_invoices(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: InvoiceStatusFilter = None,
    buyer_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The invoices you issued, newest first."""
    items, next_cursor = market.billing_lists.invoices(
        limit,
        cursor,
        market.clock.today(),
        seller_id=str(reseller.id),
        buyer_id=str(buyer_id) if buyer_id else None,
        status=status,
    )
    return page(items, next_cursor)


@router.get(
    "/reseller/invoices/{invoice_id}",
    response_model=InvoicePublic,
    tags=["reseller"],
    responses={**errors(401, 403, 422, 404), 200: {"content": {PDF: {}}}},
)
def reseller_invoice(
    invoice_id: UUID, request: Request, reseller: CurrentReseller, market: MarketplaceDep
) -> Response:
    """One of your invoices; with `Accept: application/pdf`, as a PDF."""
    invoice = market.billing.invoice(invoice_id, seller_id=reseller.id)
    return _invoice_answer(market, request, describe_invoice(invoice, market.clock.today()))


@router.get(
    "/reseller/receivables",
    response_model=Page[Receivable],
    tags=["reseller"],
    responses=errors(401, 403, 422, 400, 408),
)
def receivables(
    reseller: CurrentReseller, market: MarketplaceDep, _ready: BillingReady
) -> dict[str, Any]:
    """What each buyer owes you, per currency, by days overdue."""
    today = market.clock.today()
    return {"items": market.billing_lists.receivables(str(reseller.id), today), "next_cursor": None}


@router.get(
    "/reseller/returns",
    response_model=Page[ReturnPublic],
    tags=["reseller"],
    responses=errors(401, 403, 422, 400, 408),
)
def reseller_returns(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: ReturnStatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Returns your buyers asked for, newest first."""
    items, next_cursor = market.billing_lists.returns(
        limit, cursor, seller_id=str(reseller.id), status=status
    )
    return page(items, next_cursor)


@router.post(
    "/reseller/returns/{return_id}/accept",
    response_model=ReturnPublic,
    tags=["reseller"],
    responses=errors(401, 403, 422, 404, 409),
)
def accept_return(
    return_id: UUID,
    reseller: CurrentReseller,
    market: MarketplaceDep,
    body: AcceptReturn | None = None,
) -> dict[str, Any]:
    """Accept a return: a credit note, and the stock back if `restock`."""
    accepted = market.returns.accept(reseller.id, return_id, (body or AcceptReturn()).restock)
    return describe_return(accepted)


@router.post(
    "/reseller/returns/{return_id}/refuse",
    response_model=ReturnPublic,
    tags=["reseller"],
    responses=errors(401, 403, 422, 404, 409),
)
def refuse_return(
    return_id: UUID, body: RefuseReturn, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Refuse a return, with the reason the buyer will read."""
    return describe_return(market.returns.refuse(reseller.id, return_id, body.reason))


@router.get(
    "/reseller/payouts",
    response_model=Page[PayoutPublic],
    tags=["reseller"],
    responses=errors(401, 403, 422, 400, 408),
)
def reseller_payouts(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: BillingReady,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Your payouts, newest first, each with its statement lines."""
    items, next_cursor = market.billing_lists.payouts(limit, cursor, seller_id=str(reseller.id))
    return page(items, next_cursor)


@router.get(
    "/reseller/payouts/{payout_id}",
    response_model=PayoutPublic,
    tags=["reseller"],
    responses=errors(401, 403, 422, 404),
)
def reseller_payout(
    payout_id: UUID, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """One payout with its statement lines."""
    return describe_payout(market.billing.payout(payout_id, seller_id=reseller.id))


# The operator


@router.get(
    "/operator/invoices",
    response_model=Page[InvoicePublic],
    tags=["operator"],
    responses=errors(401, 403, 422, 400, 408),
)
def operator_invoices(
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: BillingReady,
    status: InvoiceStatusFilter = None,
    buyer_id: UUID | None = None,
    reseller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Every invoice on the marketplace, newest first."""
    items, next_cursor = market.billing_lists.invoices(
        limit,
        cursor,
        market.clock.today(),
        buyer_id=str(buyer_id) if buyer_id else None,
        seller_id=str(reseller_id) if reseller_id else None,
        status=status,
    )
    return page(items, next_cursor)


@router.get(
    "/operator/invoices/{invoice_id}",
    response_model=InvoicePublic,
    tags=["operator"],
    responses={**errors(401, 403, 422, 404), 200: {"content": {PDF: {}}}},
)
def operator_invoice(
    invoice_id: UUID, request: Request, _: CurrentOperator, market: MarketplaceDep
) -> Response:
    """One invoice; with `Accept: application/pdf`, as a PDF."""
    invoice = market.billing.invoice(invoice_id)
    return _invoice_answer(market, request, describe_invoice(invoice, market.clock.today()))


@router.post(
    "/operator/payments",
    response_model=PaymentPublic,
    status_code=201,
    tags=["operator"],
    responses=errors(401, 403, 422, 404, 409),
)
def record_payment(
    body: PaymentCreate, request: Request, _: CurrentOperator, market: MarketplaceDep
) -> JSONResponse:
    """Record a buyer's payment: to the named invoices, else the oldest open ones; what is
    left stays as the buyer's credit balance."""
    market.buyers.buyer(body.buyer_id)
    payment = PaymentIn(
        body.buyer_id,
        body.amount.money(),
        body.reference,
        body.received_on,
        None
        if body.allocations is None
        else [Allocation(a.invoice_id, a.minor(body.amount.currency)) for a in body.allocations],
    )

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        recorded, _new = market.payments.record(payment)
        return 201, describe_payment(recorded)

    return idempotent(market, request, "operator", body.model_dump(mode="json"), run)


@router.get(
    "/operator/payments",
    response_model=Page[PaymentPublic],
    tags=["operator"],
    responses=errors(401, 403, 422, 400, 408),
)
def operator_payments(
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: BillingReady,
    buyer_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Payments recorded, newest first, with where each went."""
    items, next_cursor = market.billing_lists.payments(
        limit, cursor, buyer_id=str(buyer_id) if buyer_id else None
    )
    return page(items, next_cursor)


@router.post(
    "/operator/payments:import",
    status_code=202,
    tags=["operator"],
    response_model=JobStarted,
    responses=errors(401, 403, 409, 413, 422),
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_payments(request: Request, _: CurrentOperator, market: MarketplaceDep) -> Response:
    """Import a bank statement: CSV `buyer_id,amount,currency,reference,received_on,
    invoice_number`, one payment a line; bad lines are reported, a line imported twice is
    recorded once."""
    try:
        upload = await spool(request, MAX_STATEMENT_LINES)
    except Gone:
        return Response(status_code=499)
    except Invalid as error:
        return JSONResponse({"detail": error.detail}, 422, headers={"Connection": "close"})

    def checked() -> JSONResponse:
        try:
            total, failed, good = parse_statement(upload.numbered())
        finally:
            upload.close()
        if total == 0:
            raise Invalid("the statement holds no payment lines")

        def run(_: str | None) -> tuple[int, dict[str, Any]]:
            return 202, {"job_id": str(market.statements.start(total, failed, good))}

        return idempotent(market, request, "operator", {"sha256": upload.sha256}, run)

    return await run_in_threadpool(checked)


@router.get(
    "/operator/imports/{job_id}",
    response_model=ImportStatus,
    tags=["operator"],
    responses=errors(401, 403, 422, 404),
)
def payment_import_status(
    job_id: UUID, _: CurrentOperator, market: MarketplaceDep
) -> dict[str, Any]:
    """A payment import's progress and the lines it could not take."""
    return job_status(market, market.statements.job(job_id))


@router.post(
    "/operator/payouts",
    response_model=PayoutsMade,
    status_code=201,
    tags=["operator"],
    responses=errors(401, 403, 422),
)
def run_payouts(
    body: PayoutRun, request: Request, _: CurrentOperator, market: MarketplaceDep
) -> JSONResponse:
    """Run a payout cycle up to a date: each seller is paid what buyers paid on its
    invoices, less commission and credit notes; what was paid out before is not paid again."""

    def run(_: str | None) -> tuple[int, dict[str, Any]]:
        made = market.payouts.run(body.up_to)
        return 201, {"payouts": [describe_payout(p) for p in made]}

    return idempotent(market, request, "operator", body.model_dump(mode="json"), run)


@router.get(
    "/operator/payouts",
    response_model=Page[PayoutPublic],
    tags=["operator"],
    responses=errors(401, 403, 422, 400, 408),
)
def operator_payouts(
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: BillingReady,
    reseller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Every payout, newest first."""
    items, next_cursor = market.billing_lists.payouts(
        limit, cursor, seller_id=str(reseller_id) if reseller_id else None
    )
    return page(items, next_cursor)


@router.put(
    "/operator/clock",
    response_model=ClockAnswer,
    tags=["operator"],
    responses=errors(401, 403, 422),
)
def set_clock(body: ClockSet, _: CurrentOperator, market: MarketplaceDep) -> dict[str, Any]:
    """Move the platform's time (only with MARKETPLACE_CONTROLLABLE_CLOCK=1: tests, demos)."""
    return {"now": market.clock.set(body.now).isoformat()}
