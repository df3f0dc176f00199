"""Billing documents read on their own (api.md v1.2): credit notes, by the buyer and the
seller of their return, and the operator's commission invoices to sellers, one with each
payout, by the seller they are addressed to and by the operator."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketplace.platform import Marketplace
from marketplace.web.answers import Page, errors
from marketplace.web.auth import (
    CurrentBuyerUser,
    CurrentOperator,
    CurrentReseller,
    MarketplaceDep,
)
from marketplace.web.billing_answers import CommissionInvoicePublic, CreditNoteDocument
from marketplace.web.einvoices import commission_file, credit_note_file, negotiated
from marketplace.web.schemas import Cursor, Limit, page
from marketplace.web.waiting import BillingReady
from orders.billing.application import describe_commission_invoice

router = APIRouter(prefix="/v1")


@router.get(
    "/reseller/commission-invoices",
    response_model=Page[CommissionInvoicePublic],
    tags=["reseller"],
    responses=errors(401, 403, 422, 400, 408),
)
def reseller_commission_invoices(
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: BillingReady,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The operator's invoices for the commission your payouts kept, newest first."""
    found = market.billing_lists.commission_invoices(limit, cursor, seller_id=str(reseller.id))
    return page(*found)


@router.get(
    "/reseller/commission-invoices/{invoice_id}",
    response_model=CommissionInvoicePublic,
    tags=["reseller"],
    responses=errors(401, 403, 422, 404),
)
def reseller_commission_invoice(
    invoice_id: UUID, request: Request, reseller: CurrentReseller, market: MarketplaceDep
) -> Response:
    """One commission invoice; `Accept: application/xml` for its UBL e-invoice."""
    found = market.billing.commission_invoice(invoice_id, seller_id=reseller.id)
    return _commission_answer(market, request, describe_commission_invoice(found))


def _commission_answer(market: Marketplace, request: Request, invoice: dict[str, Any]) -> Response:
    return negotiated(market, request.headers.get("accept", ""), invoice, commission_file)


@router.get(
    "/operator/commission-invoices",
    response_model=Page[CommissionInvoicePublic],
    tags=["operator"],
    responses=errors(401, 403, 422, 400, 408),
)
def operator_commission_invoices(
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: BillingReady,
    reseller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Every commission invoice, newest first; `reseller_id` keeps one seller's."""
    seller = str(reseller_id) if reseller_id else None
    return page(*market.billing_lists.commission_invoices(limit, cursor, seller_id=seller))


@router.get(
    "/operator/commission-invoices/{invoice_id}",
    response_model=CommissionInvoicePublic,
    tags=["operator"],
    responses=errors(401, 403, 422, 404),
)
def operator_commission_invoice(
    invoice_id: UUID, request: Request, _: CurrentOperator, market: MarketplaceDep
) -> Response:
    """One commission invoice; `Accept: application/xml` for its UBL e-invoice."""
    found = market.billing.commission_invoice(invoice_id)
    return _commission_answer(market, request, describe_commission_invoice(found))


def _answer(market: Marketplace, request: Request, note: dict[str, Any]) -> Response:
    return negotiated(market, request.headers.get("accept", ""), note, credit_note_file)


@router.get(
    "/buyer/credit-notes/{credit_note_id}",
    response_model=CreditNoteDocument,
    tags=["buyer"],
    responses=errors(401, 403, 422, 400, 404, 408),
)
def buyer_credit_note(
    credit_note_id: UUID,
    request: Request,
    session: CurrentBuyerUser,
    market: MarketplaceDep,
    _ready: BillingReady,
) -> Response:
    """A credit note of one of your returns, with its tax and the invoices it corrects;
    `Accept: application/pdf` for the document."""
    found = market.credit_note(credit_note_id, buyer_id=session.buyer.id)
    return _answer(market, request, found)


@router.get(
    "/reseller/credit-notes/{credit_note_id}",
    response_model=CreditNoteDocument,
    tags=["reseller"],
    responses=errors(401, 403, 422, 400, 404, 408),
)
def reseller_credit_note(
    credit_note_id: UUID,
    request: Request,
    reseller: CurrentReseller,
    market: MarketplaceDep,
    _ready: BillingReady,
) -> Response:
    """A credit note you issued on accepting a return; `Accept: application/pdf` for the
    document."""
    return _answer(market, request, market.credit_note(credit_note_id, seller_id=reseller.id))


@router.get(
    "/operator/credit-notes/{credit_note_id}",
    response_model=CreditNoteDocument,
    tags=["operator"],
    responses=errors(401, 403, 422, 400, 404, 408, 409),
)
def operator_credit_note(
    credit_note_id: UUID,
    request: Request,
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: BillingReady,
) -> Response:
    """Any credit note; `Accept: application/pdf` or `application/xml` for the document."""
    return _answer(market, request, market.credit_note(credit_note_id))
