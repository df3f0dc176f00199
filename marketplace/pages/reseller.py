"""The reseller's back office: its offers (search, inline price and stock, withdraw, add,
import) and its customers with their terms and the credit they use."""

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from marketplace.kernel.errors import DomainError, Invalid, NotFound
from marketplace.kernel.keys import mint
from marketplace.kernel.money import Money, is_currency
from marketplace.kernel.payments import PAYMENT_METHODS
from marketplace.pages.amounts import cents, minor_units
from marketplace.pages.csvs import amount, csv_response
from marketplace.pages.freshness import caught_up
from marketplace.pages.history import timeline
from marketplace.pages.names import names_of
from marketplace.pages.render import clean_query, redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.staff import Staff, staff
from marketplace.pages.uploads import PageImport, import_form, imported, job_page
from marketplace.people.application import NewPerson
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from offers.api import good_offers, parse_offers
from offers.application import CustomerTermsDetails, OfferDetails

router = APIRouter(include_in_schema=False)
Catalog = Annotated[Staff, Depends(staff("reseller", "catalog"))]
Admin = Annotated[Staff, Depends(staff("reseller"))]
Text = Annotated[str, Query(max_length=200)]
PAGE_SIZE = 25


def offer_json(row: dict[str, str]) -> dict[str, Any]:
    """An offer CSV row (`product_id,price,currency,stock,lead_time_days,min_order_qty`,
    prices in minor units) as the API's JSON line."""
    line: dict[str, Any] = {
        "product_id": row.get("product_id", ""),
        "price": {"amount": minor_units(row.get("price", "")), "currency": row.get("currency", "")},
    }
    for key in ("stock", "lead_time_days", "min_order_qty"):
        if row.get(key):
            line[key] = minor_units(row[key])
    return line


def _state(status: str) -> str | None:
    if status and status not in ("active", "withdrawn"):
        raise Invalid("status is active or withdrawn")
    return status or None


@router.get("/reseller/offers")
def offers(
    request: Request,
    market: MarketplaceDep,
    seller: Catalog,
    q: Text = "",
    status: Text = "",
    cursor: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    clean = clean_query(request)
    if clean is not None:
        return redirect(clean)
    return _offers(request, market, seller, q, status, cursor)


def _offers(
    request: Request,
    market: Marketplace,
    seller: Staff,
    q: str,
    status: str,
    cursor: str = "",
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> Response:
    caught_up(market, request, "catalog")
    items, next_cursor = market.catalog.reseller_offers(
        str(seller.seller_id), PAGE_SIZE, cursor or None, q or None, _state(status)
    )
    kept = {k: v for k, v in {"q": q, "status": status}.items() if v}
    return render(
        request,
        "reseller_offers.html",
        {
            "staff": seller,
            "items": items,
            "filters": {"q": q, "status": status},
            "errors": errors or {},
            "next_url": f"/reseller/offers?{urlencode({**kept, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "csv_url": f"/reseller/offers.csv?{urlencode(kept)}",
            "notice": request.query_params.get("notice"),
        },
        status=code,
        visitor=seller.visitor,
    )


@router.get("/reseller/offers.csv")
def offers_csv(
    market: MarketplaceDep, seller: Catalog, q: Text = "", status: Text = ""
) -> Response:
    state = _state(status)

    def pages() -> Iterator[list[list[Any]]]:
        cursor = None
        while True:
            items, cursor = market.catalog.reseller_offers(
                str(seller.seller_id), 500, cursor, q or None, state
            )
            yield [
                [
                    i["product_id"],
                    i["sku"],
                    i["name"],
                    amount(i["price"]),
                    i["price"]["currency"],
                    i["stock"],
                    i["lead_time_days"],
                    i["min_order_qty"],
                    i["status"],
                ]
                for i in items
            ]
            if cursor is None:
                return

    return csv_response(
        "offers.csv",
        [
            "product_id",
            "sku",
            "name",
            "price",
            "currency",
            "stock",
            "lead_time_days",
            "min_order_qty",
            "status",
        ],
        pages(),
    )


def _whole(text: str, what: str) -> int:
    value = text.strip()
    if not value.isdigit() or len(value) > 12:
        raise Invalid(f"write the {what} as a whole number")
    return int(value)


@router.post("/reseller/offers/{product_id}", dependencies=[CsrfChecked])
async def edit_offer(
    request: Request, product_id: UUID, market: MarketplaceDep, seller: Catalog
) -> Response:
    """The inline edit of a row: price and stock; htmx swaps the row in place."""
    form = await request.form()
    error = None
    try:
        current = market.offers.offer(seller.seller_id, product_id)
        price = cents(str(form.get("price") or ""))
        if not isinstance(price, int):
            raise Invalid("write the price like 12.50")
        stock = _whole(str(form.get("stock") or ""), "stock")
        market.offers.put_offer(
            seller.seller_id,
            product_id,
            OfferDetails(
                Money(price, current.price.currency),
                list(current.tiers),
                stock,
                current.lead_time_days,
                current.min_order_qty,
            ),
        )
    except NotFound:
        raise
    except DomainError as error_:
        error = str(error_.detail)
    caught_up(market, request, "catalog")
    items, _ = market.catalog.reseller_offers(str(seller.seller_id), 500, None, None, None)
    item = next((i for i in items if i["product_id"] == str(product_id)), None)
    if request.headers.get("HX-Request") == "true" and item is not None:
        return render(
            request,
            "reseller_offer_row.html",
            {"i": item, "row_error": error, "saved": error is None},
            status=422 if error else 200,
            visitor=seller.visitor,
        )
    if error:
        return _offers(request, market, seller, "", "", errors={str(product_id): error}, code=422)
    return redirect("/reseller/offers?notice=Offer saved")


@router.post("/reseller/offers", dependencies=[CsrfChecked])
async def add_or_withdraw(request: Request, market: MarketplaceDep, seller: Catalog) -> Response:
    form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
    if form.get("action") == "withdraw":
        ids = [v for v in (await request.form()).getlist("product_id") if isinstance(v, str)]
        if not ids:
            raise Invalid("choose at least one offer, then withdraw")
        for raw in ids[: PAGE_SIZE * 4]:
            market.offers.withdraw(seller.seller_id, UUID(raw))
        return redirect(f"/reseller/offers?notice={len(ids)} offer(s) withdrawn")
    errors: dict[str, str] = {}
    sku = form.get("sku", "").strip()[:100]
    found = market.catalog.with_skus([sku]).get(sku, []) if sku else []
    if not found:
        errors["sku"] = "no product has that SKU"
    price = cents(form.get("price", ""))
    if not isinstance(price, int):
        errors["price"] = "write the price like 12.50"
    currency = form.get("currency", "EUR").strip().upper()
    if not is_currency(currency):
        errors["price"] = "choose a currency code like EUR"
    try:
        numbers = {
            key: _whole(form.get(key, default), key.replace("_", " "))
            for key, default in (("stock", "0"), ("lead_time_days", "0"), ("min_order_qty", "1"))
        }
    except Invalid as error:
        errors["stock"] = str(error.detail)
        numbers = {}
    if not errors:
        assert isinstance(price, int)
        try:
            market.offers.put_offer(
                seller.seller_id,
                UUID(found[0]),
                OfferDetails(
                    Money(price, currency),
                    [],
                    numbers["stock"],
                    numbers["lead_time_days"],
                    numbers["min_order_qty"],
                ),
            )
        except DomainError as error:
            errors["sku"] = str(error.detail)
    if errors:
        return _offers(request, market, seller, "", "", errors=errors, code=422)
    return redirect(f"/reseller/offers?notice=Offer on {sku} saved")


@router.get("/reseller/offers/{product_id}/history")
def offer_history(
    request: Request, product_id: UUID, market: MarketplaceDep, seller: Catalog
) -> Response:
    offer = market.offers.offer(seller.seller_id, product_id)
    names = market.catalog.names([str(product_id)])
    return render(
        request,
        "history.html",
        {
            "title": f"Offer on {names.get(str(product_id), {}).get('name', product_id)}",
            "back": "/reseller/offers",
            "history": timeline(market.offers, offer.id),
        },
        visitor=seller.visitor,
    )


def _import(market: Marketplace, seller: Staff) -> PageImport:
    return PageImport(
        "offer",
        "/reseller/offers:import",
        "/reseller/offers",
        "A CSV file with the header product_id,price,currency,stock,lead_time_days,"
        "min_order_qty (prices in cents), or NDJSON, one offer a line as the API takes it.",
        "/reseller/imports",
        offer_json,
        parse_offers,
        lambda upload, parsed: market.imports.start_offers(
            seller.seller_id, *parsed, good_offers(upload, parsed)
        ),
    )


@router.get("/reseller/imports")
def import_page(request: Request, market: MarketplaceDep, seller: Catalog) -> Response:
    return import_form(request, seller, _import(market, seller))


@router.post("/reseller/offers:import", dependencies=[CsrfChecked])
async def import_offers(request: Request, market: MarketplaceDep, seller: Catalog) -> Response:
    return await imported(request, seller, _import(market, seller))


@router.get("/reseller/imports/{job_id}")
def import_job(request: Request, job_id: UUID, market: MarketplaceDep, seller: Catalog) -> Response:
    job = market.imports.job(job_id, seller.seller_id)
    return job_page(request, seller, _import(market, seller), job)


# Customers


@router.get("/reseller/customers")
def customers(request: Request, market: MarketplaceDep, seller: Admin) -> Response:
    caught_up(market, request, "catalog")
    rows = market.catalog.customers_of(str(seller.seller_id))
    names = names_of(market, (row["buyer_id"] for row in rows))
    for row in rows:
        row["name"] = names[row["buyer_id"]]
        terms = market.offers.terms(seller.seller_id, UUID(row["buyer_id"]))
        row["credit_used"] = terms.credit_exposure if terms else 0
    return render(
        request,
        "reseller_customers.html",
        {"staff": seller, "rows": rows, "notice": request.query_params.get("notice")},
        visitor=seller.visitor,
    )


@router.get("/reseller/customers/{buyer_id}")
def customer(request: Request, buyer_id: UUID, market: MarketplaceDep, seller: Admin) -> Response:
    buyer = market.buyers.buyer(buyer_id)
    terms = market.offers.terms(seller.seller_id, buyer_id)
    values: dict[str, Any] = {"payment_methods": ["card"], "currency": "EUR"}
    if terms is not None:
        names = market.catalog.names(list(terms.fixed_prices))
        values = {
            "discount": f"{terms.discount_bps / 100:g}",
            "payment_methods": list(terms.payment_methods),
            "credit_limit": f"{terms.credit_limit.amount / 100:.2f}" if terms.credit_limit else "",
            "currency": terms.credit_limit.currency if terms.credit_limit else "EUR",
            "brands": ", ".join((terms.catalog or {}).get("brands") or []),
            "categories": ", ".join((terms.catalog or {}).get("categories") or []),
            "fixed": "\n".join(
                f"{names[pid]['sku'] if pid in names else pid}, {price.amount / 100:.2f}"
                for pid, price in terms.fixed_prices.items()
            ),
            "credit_used": terms.credit_exposure,
        }
    return _customer(request, seller, buyer_id, buyer.legal_name, values, {}, 200)


def _customer(
    request: Request,
    seller: Staff,
    buyer_id: UUID,
    name: str,
    values: dict[str, Any],
    errors: dict[str, str],
    code: int,
) -> Response:
    return render(
        request,
        "reseller_customer.html",
        {
            "staff": seller,
            "buyer_id": buyer_id,
            "name": name,
            "values": values,
            "errors": errors,
            "methods": PAYMENT_METHODS,
        },
        status=code,
        visitor=seller.visitor,
    )


def _list(text: str) -> list[str] | None:
    names = [part.strip()[:100] for part in text.split(",") if part.strip()]
    return names[:100] or None


@router.post("/reseller/customers/{buyer_id}", dependencies=[CsrfChecked])
async def save_customer(
    request: Request, buyer_id: UUID, market: MarketplaceDep, seller: Admin
) -> Response:
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    buyer = market.buyers.buyer(buyer_id)
    methods: list[str] = [m for m in raw.getlist("payment_methods") if m in PAYMENT_METHODS]
    values = {**form, "payment_methods": methods}
    errors: dict[str, str] = {}
    discount = form.get("discount", "0").strip() or "0"
    try:
        discount_bps = round(float(discount) * 100)
        if not 0 <= discount_bps < 10_000:
            raise ValueError
    except ValueError:
        errors["discount"] = "the discount is a percentage from 0 to 99.99"
        discount_bps = 0
    currency = form.get("currency", "EUR").strip().upper()
    limit = cents(form.get("credit_limit", "")) if form.get("credit_limit", "").strip() else None
    if limit is not None and (not isinstance(limit, int) or not is_currency(currency)):
        errors["credit_limit"] = "write the credit limit like 5000.00, with a currency code"
    if not methods:
        errors["payment_methods"] = "allow at least one payment method"
    fixed: dict[UUID, Money] = {}
    for number, line in enumerate(form.get("fixed", "").splitlines()[:10_000], start=1):
        if not line.strip():
            continue
        sku, _, price_text = line.partition(",")
        found = market.catalog.with_skus([sku.strip()]).get(sku.strip(), [])
        price = cents(price_text)
        if not found or not isinstance(price, int):
            errors["fixed"] = f"line {number}: write a known SKU and a price, like ACME-1, 9.90"
            break
        fixed[UUID(found[0])] = Money(price, currency)
    scope = {
        "brands": _list(form.get("brands", "")),
        "categories": _list(form.get("categories", "")),
    }
    catalog = {k: v for k, v in scope.items() if v} or None
    if not errors:
        try:
            market.offers.put_terms(
                seller.seller_id,
                buyer_id,
                CustomerTermsDetails(
                    catalog,
                    discount_bps,
                    fixed,
                    methods,
                    Money(limit, currency) if isinstance(limit, int) else None,
                ),
            )
        except DomainError as error:
            errors["discount"] = str(error.detail)
    if errors:
        return _customer(request, seller, buyer_id, buyer.legal_name, values, errors, 422)
    return redirect(f"/reseller/customers?notice=Terms for {buyer.legal_name} saved")


@router.post("/reseller/customers", dependencies=[CsrfChecked])
async def new_customer(request: Request, market: MarketplaceDep, seller: Admin) -> Response:
    raw = str((await request.form()).get("buyer_id") or "").strip()
    try:
        buyer = market.buyers.buyer(UUID(raw))
    except (ValueError, NotFound):
        raise Invalid("no buyer account has that id") from None
    return redirect(f"/reseller/customers/{buyer.id}")


# Sales reps


@router.get("/reseller/reps")
def reps(request: Request, market: MarketplaceDep, seller: Admin) -> Response:
    return _reps(request, market, seller, None, 200)


def _reps(
    request: Request,
    market: Marketplace,
    seller: Staff,
    invited: dict[str, str] | None,
    code: int,
    error: str | None = None,
) -> Response:
    caught_up(market, request, "catalog")
    listed = market.catalog.customers_of(str(seller.seller_id))
    names = names_of(market, (c["buyer_id"] for c in listed))
    customers = [{"id": c["buyer_id"], "name": names[c["buyer_id"]]} for c in listed]
    return render(
        request,
        "reseller_reps.html",
        {
            "staff": seller,
            "reps": market.catalog.reps_of(str(seller.seller_id)),
            "customers": sorted(customers, key=lambda c: c["name"].lower()),
            "invited": invited,
            "error": error,
            "notice": request.query_params.get("notice"),
        },
        status=code,
        visitor=seller.visitor,
    )


@router.post("/reseller/reps", dependencies=[CsrfChecked])
async def appoint(request: Request, market: MarketplaceDep, seller: Admin) -> Response:
    """Appoints a sales rep; with an email, the rep is invited to sign in."""
    form = await request.form()
    name = str(form.get("name") or "").strip()[:200]
    email = str(form.get("email") or "").strip()[:254]
    if not name:
        return _reps(request, market, seller, None, 422, "give the sales rep's name")
    try:
        people = market.people.drafting(
            NewPerson(email, name, None) if email else None, "sales_rep"
        )
        market.sellers.appoint_sales_rep(seller.seller_id, name, mint("s", market.secret), people)
    except DomainError as error:
        return _reps(request, market, seller, None, 422, str(error.detail))
    invited = None
    if email:
        person = market.people.find(email)
        assert person is not None
        link = str(request.url_for("invitation", token=market.people.invitation(person)))
        invited = {"email": email, "link": link}
    return _reps(request, market, seller, invited, 200)


@router.post("/reseller/reps/{rep_id}", dependencies=[CsrfChecked])
async def assign(request: Request, rep_id: UUID, market: MarketplaceDep, seller: Admin) -> Response:
    form = await request.form()
    buyer_ids = []
    for raw in form.getlist("buyer_id"):
        try:
            buyer_id = UUID(str(raw))
        except ValueError:
            continue
        if market.offers.terms(seller.seller_id, buyer_id) is None:
            raise NotFound(f"no customer {buyer_id} has terms with you")
        buyer_ids.append(buyer_id)
    market.sellers.assign_accounts(seller.seller_id, rep_id, buyer_ids)
    return redirect("/reseller/reps?notice=Accounts assigned")


# Finance


Finance = Annotated[Staff, Depends(staff("reseller", "finance"))]


def _earned(market: Marketplace, seller: Staff) -> list[dict[str, Any]]:
    return [
        {
            "currency": r["currency"],
            "gmv": {"amount": r["gmv"], "currency": r["currency"]},
            "commission": {"amount": r["commission"], "currency": r["currency"]},
            "net": {"amount": r["gmv"] - r["commission"], "currency": r["currency"]},
            "seller_orders": r["delivered_seller_orders"],
        }
        for r in market.order_lists.commissions(str(seller.seller_id))
    ]


@router.get("/reseller/commissions")
def commissions(request: Request, market: MarketplaceDep, seller: Finance) -> Response:
    caught_up(market, request, "orders")
    rate = market.sellers.reseller(seller.seller_id).commission_bps
    return render(
        request,
        "reseller_commissions.html",
        {"staff": seller, "rows": _earned(market, seller), "rate": rate},
        visitor=seller.visitor,
    )


@router.get("/reseller/commissions.csv")
def commissions_csv(market: MarketplaceDep, seller: Finance) -> Response:
    rows = [
        [
            r["currency"],
            r["seller_orders"],
            amount(r["gmv"]),
            amount(r["commission"]),
            amount(r["net"]),
        ]
        for r in _earned(market, seller)
    ]
    return csv_response(
        "commissions.csv", ["currency", "seller_orders", "gmv", "commission", "net"], [rows]
    )
