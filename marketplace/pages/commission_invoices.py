"""The operator's commission invoices in the back office: the seller's finance people see
those addressed to them, the operator every one; each with its parties and its tax."""

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from marketplace.pages.freshness import caught_up
from marketplace.pages.names import names_of
from marketplace.pages.render import render
from marketplace.pages.staff import Staff, staff
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from marketplace.web.einvoices import FileKind, commission_file
from orders.billing.application import describe_commission_invoice

router = APIRouter(include_in_schema=False)
Finance = Annotated[Staff, Depends(staff("reseller", "finance"))]
Operator = Annotated[Staff, Depends(staff("operator", "support"))]
PAGE_SIZE = 50


def _listed(request: Request, market: Marketplace, who: Staff, seller_id: str | None) -> Response:
    caught_up(market, request, "billing")
    cursor = request.query_params.get("cursor") or None
    items, next_cursor = market.billing_lists.commission_invoices(
        PAGE_SIZE, cursor, seller_id=seller_id
    )
    base = request.url.path
    return render(
        request,
        "commission_invoices.html",
        {
            "staff": who,
            "items": items,
            "names": names_of(market, {i["reseller_id"] for i in items}),
            "base": base,
            "next_url": f"{base}?{urlencode({'cursor': next_cursor})}" if next_cursor else None,
        },
        visitor=who.visitor,
    )


def _shown(request: Request, who: Staff, invoice: dict[str, object]) -> Response:
    return render(
        request,
        "commission_invoice.html",
        {"staff": who, "invoice": invoice, "base": request.url.path},
        visitor=who.visitor,
    )


@router.get("/reseller/commission-invoices")
def seller_list(request: Request, market: MarketplaceDep, seller: Finance) -> Response:
    return _listed(request, market, seller, str(seller.seller_id))


@router.get("/reseller/commission-invoices/{invoice_id}.{kind}")
def seller_file(
    invoice_id: UUID, kind: FileKind, market: MarketplaceDep, seller: Finance
) -> Response:
    found = market.billing.commission_invoice(invoice_id, seller_id=seller.seller_id)
    return commission_file(market, describe_commission_invoice(found), kind, "attachment")


@router.get("/reseller/commission-invoices/{invoice_id}")
def seller_one(
    request: Request, invoice_id: UUID, market: MarketplaceDep, seller: Finance
) -> Response:
    found = market.billing.commission_invoice(invoice_id, seller_id=seller.seller_id)
    return _shown(request, seller, describe_commission_invoice(found))


@router.get("/operator/commission-invoices")
def operator_list(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    return _listed(request, market, staff, None)


@router.get("/operator/commission-invoices/{invoice_id}.{kind}")
def operator_file(
    invoice_id: UUID, kind: FileKind, market: MarketplaceDep, staff: Operator
) -> Response:
    found = market.billing.commission_invoice(invoice_id)
    return commission_file(market, describe_commission_invoice(found), kind, "attachment")


@router.get("/operator/commission-invoices/{invoice_id}")
def operator_one(
    request: Request, invoice_id: UUID, market: MarketplaceDep, staff: Operator
) -> Response:
    found = market.billing.commission_invoice(invoice_id)
    return _shown(request, staff, describe_commission_invoice(found))
