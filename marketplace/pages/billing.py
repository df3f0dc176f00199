"""Buyers' money pages: invoices (with their PDFs and a CSV export), credit per seller, and
returns, asked for from an order's page."""

from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from marketplace.kernel.errors import Forbidden, Invalid
from marketplace.pages.csvs import amount, csv_response
from marketplace.pages.freshness import caught_up
from marketplace.pages.names import names_of
from marketplace.pages.render import clean_query, redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentShopper
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from marketplace.web.einvoices import FileKind, credit_note_file, invoice_file
from orders.billing.application import describe_invoice

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
INVOICE_STATUSES = ("open", "overdue", "paid")
Filter = Annotated[str, Query(max_length=40)]
CursorParam = Annotated[str, Query(max_length=1000)]
INVOICE_CSV = [
    "number",
    "invoice_id",
    "seller",
    "buyer",
    "issued_on",
    "due_on",
    "status",
    "po_number",
    "currency",
    "total",
    "paid",
    "credited",
    "balance",
]


def invoice_page(
    request: Request,
    market: Marketplace,
    base: str,
    who: dict[str, str | None],
    status: str,
    cursor: str,
    context: dict[str, Any],
    render_page: Callable[[dict[str, Any], int], Response],
) -> Response:
    """An invoice list for any side: `who` narrows it to a buyer or a seller."""
    clean = clean_query(request)
    if clean is not None:
        return redirect(clean)
    bad = bool(status) and status not in INVOICE_STATUSES
    caught_up(market, request, "billing")
    items, next_cursor = market.billing_lists.invoices(
        PAGE_SIZE,
        cursor or None,
        market.clock.today(),
        status=None if bad or not status else status,
        **who,
    )
    kept = {"status": status} if status and not bad else {}
    names = names_of(market, {i["reseller_id"] for i in items} | {i["buyer_id"] for i in items})
    return render_page(
        {
            **context,
            "items": items,
            "names": names,
            "base": base,
            "statuses": INVOICE_STATUSES,
            "status": status,
            "error": "choose one of the statuses listed" if bad else None,
            "csv_url": f"{base}.csv?{urlencode(kept)}",
            "next_url": f"{base}?{urlencode({**kept, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "first_url": f"{base}?{urlencode(kept)}" if cursor else None,
            "today": market.clock.today(),
        },
        422 if bad else 200,
    )


def invoice_csv(
    market: Marketplace, who: dict[str, str | None], status: str, filename: str
) -> Response:
    if status and status not in INVOICE_STATUSES:
        raise Invalid("status: choose one of open, overdue, paid")
    today = market.clock.today()

    def pages() -> Iterator[list[list[Any]]]:
        cursor = None
        while True:
            items, cursor = market.billing_lists.invoices(
                500,
                cursor,
                today,
                status=status or None,
                **who,
            )
            names = names_of(
                market, {i["reseller_id"] for i in items} | {i["buyer_id"] for i in items}
            )
            yield [
                [
                    i["number"],
                    i["invoice_id"],
                    names[i["reseller_id"]],
                    names[i["buyer_id"]],
                    i["issued_on"],
                    i["due_on"],
                    i["status"],
                    i["po_number"] or "",
                    i["currency"],
                    amount(i["total"]),
                    amount(i["paid"]),
                    amount(i["credited"]),
                    amount(i["balance"]),
                ]
                for i in items
            ]
            if cursor is None:
                return

    return csv_response(filename, INVOICE_CSV, pages())


ATTACHED = "attachment"


def _who(shopper: Any) -> dict[str, str | None]:
    return {"buyer_id": str(shopper.buyer_id), "seller_id": shopper.reseller_filter}


@router.get("/invoices")
def invoices(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    status: Filter = "",
    cursor: CursorParam = "",
) -> Response:
    def page(context: dict[str, Any], code: int) -> Response:
        title = f"Invoices of {shopper.buyer.legal_name}"
        return render(
            request, "invoices.html", {**context, "title": title}, status=code, shopper=shopper
        )

    return invoice_page(request, market, "/invoices", _who(shopper), status, cursor, {}, page)


@router.get("/invoices.csv")
def invoices_csv(market: MarketplaceDep, shopper: CurrentShopper, status: Filter = "") -> Response:
    return invoice_csv(market, _who(shopper), status, "invoices.csv")


@router.get("/invoices/{invoice_id}.{kind}")
def invoice_download(
    invoice_id: UUID, kind: FileKind, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    """The invoice as a PDF (Factur-X where the seller has a tax profile) or UBL XML."""
    invoice = market.billing.invoice(invoice_id, buyer_id=shopper.buyer_id)
    if shopper.rep is not None and invoice.seller_id != shopper.rep.reseller_id:
        raise Forbidden("a sales rep sees only its own reseller's invoices")
    return invoice_file(market, describe_invoice(invoice, market.clock.today()), kind, ATTACHED)


@router.get("/credit-notes/{credit_note_id}.{kind}")
def credit_note_download(
    request: Request,
    credit_note_id: UUID,
    kind: FileKind,
    market: MarketplaceDep,
    shopper: CurrentShopper,
) -> Response:
    """A credit note of the organisation's returns, as a PDF or UBL XML."""
    caught_up(market, request, "billing")
    note = market.credit_note(credit_note_id, buyer_id=shopper.buyer_id)
    if shopper.rep is not None and note["reseller_id"] != shopper.reseller_filter:
        raise Forbidden("a sales rep sees only its own reseller's credit notes")
    return credit_note_file(market, note, kind, ATTACHED)


@router.get("/credit")
def credit(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    rows = market.credit_of(shopper.buyer_id)
    if shopper.rep is not None:
        rows = [r for r in rows if r["reseller_id"] == shopper.reseller_filter]
    balances = market.credit_balances(shopper.buyer_id) if shopper.rep is None else []
    return render(request, "credit.html", {"rows": rows, "balances": balances}, shopper=shopper)


@router.get("/returns")
def returns(
    request: Request, market: MarketplaceDep, shopper: CurrentShopper, cursor: CursorParam = ""
) -> Response:
    caught_up(market, request, "billing")
    items, next_cursor = market.billing_lists.returns(
        PAGE_SIZE, cursor or None, buyer_id=str(shopper.buyer_id), seller_id=shopper.reseller_filter
    )
    names = market.catalog.names([ln["product_id"] for r in items for ln in r["lines"]])
    sellers = names_of(market, {r["reseller_id"] for r in items})
    return render(
        request,
        "returns.html",
        {
            "items": items,
            "names": names,
            "sellers": sellers,
            "side": "buyer",
            "notice": request.query_params.get("notice"),
            "next_url": f"/returns?{urlencode({'cursor': next_cursor})}" if next_cursor else None,
        },
        shopper=shopper,
    )


@router.post("/returns", dependencies=[CsrfChecked])
async def ask_return(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    """The return form of an order's page: a quantity per delivered line, and a reason."""
    if shopper.user is None:
        raise Forbidden("a buyer's own people ask for returns")
    form = await request.form()
    try:
        seller_order_id = UUID(str(form.get("seller_order_id", "")))
    except ValueError:
        raise Invalid("choose a seller order") from None
    lines: dict[UUID, int] = {}
    for key, value in form.multi_items():
        if key.startswith("qty_") and str(value).strip() not in ("", "0"):
            text = str(value).strip()
            if not text.isdigit():
                raise Invalid("quantities are whole numbers")
            try:
                lines[UUID(key[4:])] = int(text)
            except ValueError:
                raise Invalid("a line of the form is not a product") from None
    reason = str(form.get("reason", "")).strip()
    if not lines:
        raise Invalid("enter how many of at least one product go back")
    if not reason or len(reason) > 1000:
        raise Invalid("say why the goods go back (at most 1,000 characters)")
    made = market.returns.request(
        shopper.buyer_id, str(shopper.user.id), seller_order_id, lines, reason
    )
    return redirect(f"/returns?notice=Return {str(made.id)[:8]} asked for")
