"""The back office's money pages. Resellers: invoices, receivables ageing, returns to decide,
payouts and their statements. The operator: every invoice, payments entered by hand or
imported from a bank statement, and payout cycles."""

import json
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from marketplace.kernel.errors import Invalid
from marketplace.kernel.money import Money
from marketplace.pages.billing import ATTACHED, Filter, invoice_csv, invoice_page
from marketplace.pages.csvs import amount, csv_response
from marketplace.pages.freshness import caught_up
from marketplace.pages.names import names_of
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.staff import Staff, staff
from marketplace.pages.uploads import PageImport, import_form, imported, job_page
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from marketplace.web.einvoices import FileKind, credit_note_file, invoice_file
from marketplace.web.uploads import Upload
from orders.billing.application import describe_invoice, describe_payout
from orders.billing.payments import PaymentIn
from orders.billing.statements import HEADER, statement_line

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
CursorParam = Annotated[str, Query(max_length=1000)]
Finance = Annotated[Staff, Depends(staff("reseller", "finance"))]
Returns = Annotated[Staff, Depends(staff("reseller", "orders", "finance"))]
Operator = Annotated[Staff, Depends(staff("operator", "support"))]
STATEMENT_CSV = ["invoice_id", "paid", "commission", "credit_notes", "net", "held"]


def _staff_page(request: Request, who: Staff, template: str) -> Any:
    def page(context: dict[str, Any], code: int) -> Response:
        return render(
            request, template, {**context, "staff": who}, status=code, visitor=who.visitor
        )

    return page


# Resellers


@router.get("/reseller/invoices")
def seller_invoices(
    request: Request,
    market: MarketplaceDep,
    seller: Finance,
    status: Filter = "",
    cursor: CursorParam = "",
) -> Response:
    who: dict[str, str | None] = {"seller_id": str(seller.seller_id)}
    context = {"title": f"Invoices of {seller.account_name}"}
    page = _staff_page(request, seller, "invoices.html")
    return invoice_page(request, market, "/reseller/invoices", who, status, cursor, context, page)


@router.get("/reseller/invoices.csv")
def seller_invoices_csv(market: MarketplaceDep, seller: Finance, status: Filter = "") -> Response:
    return invoice_csv(market, {"seller_id": str(seller.seller_id)}, status, "invoices.csv")


@router.get("/reseller/invoices/{invoice_id}.{kind}")
def seller_invoice_file(
    invoice_id: UUID, kind: FileKind, market: MarketplaceDep, seller: Finance
) -> Response:
    invoice = market.billing.invoice(invoice_id, seller_id=seller.seller_id)
    return invoice_file(market, describe_invoice(invoice, market.clock.today()), kind, ATTACHED)


@router.get("/reseller/receivables")
def receivables(request: Request, market: MarketplaceDep, seller: Finance) -> Response:
    caught_up(market, request, "billing")
    rows = market.billing_lists.receivables(str(seller.seller_id), market.clock.today())
    return render(
        request,
        "receivables.html",
        {
            "staff": seller,
            "rows": rows,
            "names": names_of(market, {r["buyer_id"] for r in rows}),
            "today": market.clock.today(),
        },
        visitor=seller.visitor,
    )


def _seller_returns(
    request: Request, market: Marketplace, seller: Staff, results: list[str], code: int = 200
) -> Response:
    caught_up(market, request, "billing")
    cursor = request.query_params.get("cursor") or None
    items, next_cursor = market.billing_lists.returns(
        PAGE_SIZE, cursor, seller_id=str(seller.seller_id)
    )
    return render(
        request,
        "returns.html",
        {
            "staff": seller,
            "items": items,
            "names": market.catalog.names([ln["product_id"] for r in items for ln in r["lines"]]),
            "sellers": names_of(market, {r["buyer_id"] for r in items}),
            "side": "seller",
            "may_decide": seller.role != "support",
            "results": results,
            "notice": request.query_params.get("notice"),
            "next_url": f"/reseller/returns?{urlencode({'cursor': next_cursor})}"
            if next_cursor
            else None,
        },
        status=code,
        visitor=seller.visitor,
    )


@router.get("/reseller/credit-notes/{credit_note_id}.{kind}")
def seller_credit_note_file(
    request: Request, credit_note_id: UUID, kind: FileKind, market: MarketplaceDep, seller: Returns
) -> Response:
    caught_up(market, request, "billing")
    note = market.credit_note(credit_note_id, seller_id=seller.seller_id)
    return credit_note_file(market, note, kind, ATTACHED)


@router.get("/reseller/returns")
def seller_returns(request: Request, market: MarketplaceDep, seller: Returns) -> Response:
    return _seller_returns(request, market, seller, [])


@router.post("/reseller/returns/{return_id}/{decision}", dependencies=[CsrfChecked])
async def decide_return(
    request: Request, return_id: UUID, decision: str, market: MarketplaceDep, seller: Returns
) -> Response:
    form = await request.form()
    if decision == "accept":
        accepted = market.returns.accept(seller.seller_id, return_id, form.get("restock") == "1")
        note = accepted.credit_note or {}
        done = f"Return {str(return_id)[:8]} accepted: credit note {note.get('number')}"
    elif decision == "refuse":
        reason = str(form.get("reason", "")).strip()
        if not reason or len(reason) > 1000:
            return _seller_returns(request, market, seller, ["give the buyer a reason"], 422)
        market.returns.refuse(seller.seller_id, return_id, reason)
        done = f"Return {str(return_id)[:8]} refused"
    else:
        raise Invalid("accept or refuse")
    return redirect(f"/reseller/returns?{urlencode({'notice': done})}")


def _payouts_page(
    request: Request,
    market: Marketplace,
    who: Staff,
    seller_id: str | None,
    extra: dict[str, Any],
    code: int = 200,
) -> Response:
    caught_up(market, request, "billing")
    cursor = request.query_params.get("cursor") or None
    items, next_cursor = market.billing_lists.payouts(PAGE_SIZE, cursor, seller_id=seller_id)
    base = request.url.path
    return render(
        request,
        "payouts.html",
        {
            "staff": who,
            "items": items,
            "names": names_of(market, {p["reseller_id"] for p in items}),
            "base": base,
            "next_url": f"{base}?{urlencode({'cursor': next_cursor})}" if next_cursor else None,
            "notice": request.query_params.get("notice"),
            **extra,
        },
        status=code,
        visitor=who.visitor,
    )


@router.get("/reseller/payouts")
def seller_payouts(request: Request, market: MarketplaceDep, seller: Finance) -> Response:
    return _payouts_page(request, market, seller, str(seller.seller_id), {})


def _statement(
    request: Request, market: Marketplace, who: Staff, payout: dict[str, Any]
) -> Response:
    return render(
        request,
        "payout.html",
        {"staff": who, "payout": payout, "base": request.url.path},
        visitor=who.visitor,
    )


def _statement_csv(payout: dict[str, Any]) -> Response:
    rows = [
        [
            line["invoice_id"],
            amount(line["paid"]),
            amount(line["commission"]),
            amount(line["credit_notes"]),
            amount(line["net"]),
            "yes" if line.get("held") else "no",
        ]
        for line in payout["lines"]
    ]
    return csv_response(f"payout-{payout['payout_id'][:8]}.csv", STATEMENT_CSV, [rows])


@router.get("/reseller/payouts/{payout_id}.csv")
def seller_payout_csv(payout_id: UUID, market: MarketplaceDep, seller: Finance) -> Response:
    return _statement_csv(
        describe_payout(market.billing.payout(payout_id, seller_id=seller.seller_id))
    )


@router.get("/reseller/payouts/{payout_id}")
def seller_payout(
    request: Request, payout_id: UUID, market: MarketplaceDep, seller: Finance
) -> Response:
    payout = describe_payout(market.billing.payout(payout_id, seller_id=seller.seller_id))
    return _statement(request, market, seller, payout)


# The operator


@router.get("/operator/invoices")
def operator_invoices(
    request: Request,
    market: MarketplaceDep,
    staff: Operator,
    status: Filter = "",
    cursor: CursorParam = "",
) -> Response:
    page = _staff_page(request, staff, "invoices.html")
    context = {"title": "Invoices across the marketplace"}
    return invoice_page(request, market, "/operator/invoices", {}, status, cursor, context, page)


@router.get("/operator/invoices.csv")
def operator_invoices_csv(market: MarketplaceDep, staff: Operator, status: Filter = "") -> Response:
    return invoice_csv(market, {}, status, "invoices.csv")


@router.get("/operator/invoices/{invoice_id}.{kind}")
def operator_invoice_file(
    invoice_id: UUID, kind: FileKind, market: MarketplaceDep, staff: Operator
) -> Response:
    invoice = market.billing.invoice(invoice_id)
    return invoice_file(market, describe_invoice(invoice, market.clock.today()), kind, ATTACHED)


def _payments_page(
    request: Request,
    market: Marketplace,
    staff: Staff,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    code: int = 200,
) -> Response:
    caught_up(market, request, "billing")
    cursor = request.query_params.get("cursor") or None
    items, next_cursor = market.billing_lists.payments(PAGE_SIZE, cursor)
    buyers = market.catalog.sellers("buyer", None)
    return render(
        request,
        "operator_payments.html",
        {
            "staff": staff,
            "items": items,
            "names": names_of(market, {p["buyer_id"] for p in items}),
            "buyers": buyers,
            "errors": errors or {},
            "form": form or {"currency": "EUR", "received_on": market.clock.today()},
            "notice": request.query_params.get("notice"),
            "next_url": f"/operator/payments?{urlencode({'cursor': next_cursor})}"
            if next_cursor
            else None,
        },
        status=code,
        visitor=staff.visitor,
    )


@router.get("/operator/payments")
def payments(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    return _payments_page(request, market, staff)


def _minor_units(text: str) -> int | None:
    """A decimal amount as a person types it (1234.50) in minor units."""
    whole, _, cents = text.strip().replace(",", "").partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        return None
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)


@router.post("/operator/payments", dependencies=[CsrfChecked])
async def enter_payment(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    try:
        buyer_id = UUID(form.get("buyer_id", ""))
    except ValueError:
        errors["buyer_id"] = "choose the buyer that paid"
    minor = _minor_units(form.get("amount", ""))
    if minor is None or minor <= 0 or minor > 10**12:
        errors["amount"] = "write a positive amount, such as 1250.00"
    reference = form.get("reference", "")
    if not reference or len(reference) > 100:
        errors["reference"] = "give the bank's reference (at most 100 characters)"
    try:
        received_on = date.fromisoformat(form.get("received_on", "")).isoformat()
    except ValueError:
        errors["received_on"] = "write the date as YYYY-MM-DD"
    if errors:
        return _payments_page(request, market, staff, errors, form, 422)
    currency = form.get("currency", "EUR")
    try:
        recorded, _ = market.payments.record(
            PaymentIn(buyer_id, Money(minor or 0, currency), reference, received_on)
        )
    except Invalid as error:
        return _payments_page(request, market, staff, {"amount": str(error.detail)}, form, 422)
    paid = ", ".join(a["invoice_id"][:8] for a in recorded.allocations) or "no invoice"
    notice = f"Payment {reference} recorded: it paid {paid}"
    return redirect(f"/operator/payments?{urlencode({'notice': notice})}")


def _statement_row(row: dict[str, str]) -> dict[str, Any]:
    return {key: row.get(key, "") for key in HEADER}


def _parse_statement(upload: Upload) -> tuple[int, list[dict[str, Any]]]:
    total, failed = 0, []
    for number, text in upload.numbered():
        total += 1
        try:
            row = json.loads(text or "")
            statement_line(number, [str(row.get(k, "")) for k in HEADER])
        except (ValueError, AttributeError):
            failed.append({"line": number, "detail": "the line cannot be read"})
        except Invalid as error:
            failed.append({"line": number, "detail": str(error.detail)})
    return total, failed


def _start_statement(
    market: Marketplace, upload: Upload, parsed: tuple[int, list[dict[str, Any]]]
) -> UUID:
    total, failed = parsed
    bad = {f["line"] for f in failed}
    good = []
    try:
        for number, text in upload.numbered():
            if number not in bad:
                row = json.loads(text or "")
                good.append(statement_line(number, [str(row.get(k, "")) for k in HEADER]))
    finally:
        upload.close()
    return market.statements.start(total, failed, good)


def _statement_import(market: Marketplace) -> PageImport:
    return PageImport(
        "payment",
        "/operator/payments/import",
        "/operator/payments",
        "A bank statement as CSV with the header "
        "buyer_id,amount,currency,reference,received_on,invoice_number (amount in minor units; "
        "invoice_number may be empty: the payment then pays the buyer's oldest invoices). "
        "A line imported twice is recorded once.",
        "/operator/payments/imports",
        _statement_row,
        _parse_statement,
        lambda upload, parsed: _start_statement(market, upload, parsed),
    )


OperatorAdmin = Annotated[Staff, Depends(staff("operator"))]


@router.get("/operator/payments/import")
def statement_form(request: Request, market: MarketplaceDep, staff: OperatorAdmin) -> Response:
    return import_form(request, staff, _statement_import(market))


@router.post("/operator/payments/import", dependencies=[CsrfChecked])
async def import_statement(
    request: Request, market: MarketplaceDep, staff: OperatorAdmin
) -> Response:
    return await imported(request, staff, _statement_import(market))


@router.get("/operator/payments/imports/{job_id}")
def statement_job(
    request: Request, job_id: UUID, market: MarketplaceDep, staff: Operator
) -> Response:
    return job_page(request, staff, _statement_import(market), market.statements.job(job_id))


@router.get("/operator/payouts")
def operator_payouts(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    return _payouts_page(
        request, market, staff, None, {"run_form": True, "today": market.clock.today()}
    )


@router.post("/operator/payouts", dependencies=[CsrfChecked])
async def run_payouts(request: Request, market: MarketplaceDep, staff: Operator) -> Response:
    form = await request.form()
    try:
        up_to = date.fromisoformat(str(form.get("up_to", ""))).isoformat()
    except ValueError:
        extra = {
            "run_form": True,
            "today": market.clock.today(),
            "error": "write the date as YYYY-MM-DD",
        }
        return _payouts_page(request, market, staff, None, extra, 422)
    made = market.payouts.run(up_to)
    total = ", ".join(f"{p.amount / 100:,.2f} {p.currency}" for p in made) or "nothing was due"
    notice = f"Payout cycle up to {up_to}: {len(made)} payout(s) made ({total})"
    return redirect(f"/operator/payouts?{urlencode({'notice': notice})}")


@router.get("/operator/payouts/{payout_id}.csv")
def operator_payout_csv(payout_id: UUID, market: MarketplaceDep, staff: Operator) -> Response:
    return _statement_csv(describe_payout(market.billing.payout(payout_id)))


@router.get("/operator/payouts/{payout_id}")
def operator_payout(
    request: Request, payout_id: UUID, market: MarketplaceDep, staff: Operator
) -> Response:
    return _statement(request, market, staff, describe_payout(market.billing.payout(payout_id)))
