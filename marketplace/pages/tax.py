"""Tax settings in the pages: each party's tax profile (a seller's admin or finance people,
the operator's admin, a buyer's admin), a seller's shipping grid, and the operator's tax
rates. The same services as the API (marketplace.taxes), the same refusals."""

import re
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from marketplace.kernel.errors import DomainError, Forbidden, Invalid
from marketplace.kernel.money import Money, is_currency
from marketplace.pages.amounts import cents
from marketplace.pages.freshness import caught_up
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked, SignedIn, Visitor
from marketplace.pages.shopper import NotShopping, shopper_of
from marketplace.pages.staff import Staff, staff, staff_of
from marketplace.taxes.api import dac7_csv, dac7_rows
from marketplace.taxes.application import Party
from marketplace.taxes.domain import EU, TAX_CATEGORIES
from marketplace.taxes.profiles import OPERATOR
from marketplace.web.auth import MarketplaceDep
from marketplace.web.errors import detail_of
from offers.shipping import ShippingRate

router = APIRouter(include_in_schema=False)
ADDRESS = ("line1", "line2", "postcode", "city", "country")
TEXT = 200


@dataclass(frozen=True)
class Taxpayer:
    visitor: Visitor
    party: Party
    party_id: UUID
    writes: bool


def taxpayer(request: Request, market: MarketplaceDep, visitor: SignedIn) -> Taxpayer:
    """Whose tax profile this person keeps: its seller's (admin, finance), the operator's
    (admin; support reads), or its buyer company's (admin)."""
    found = staff_of(market, visitor)
    if found is not None and found.side == "reseller" and found.may("finance"):
        return Taxpayer(visitor, "seller", found.seller_id, True)
    if found is not None and found.side == "operator":
        return Taxpayer(visitor, "operator", OPERATOR, found.role != "support")
    if found is None:
        try:
            shopper = shopper_of(market, visitor)
        except NotShopping:
            shopper = None
        if shopper is not None and shopper.is_admin:
            return Taxpayer(visitor, "buyer", shopper.buyer_id, True)
    raise Forbidden("your role does not keep a tax profile")


def _message(error: DomainError) -> str:
    detail = detail_of(error)
    if isinstance(detail, list):
        return "; ".join(str(p.get("msg", p)) if isinstance(p, dict) else str(p) for p in detail)
    return str(detail)


@router.get("/tax-profile")
def tax_profile(
    request: Request, market: MarketplaceDep, payer: Annotated[Taxpayer, Depends(taxpayer)]
) -> Response:
    found = market.taxes.profile(payer.party, payer.party_id)
    values: dict[str, Any] = {}
    if found is not None:
        values = {**found.describe(), **{f"address_{k}": v for k, v in found.address.items()}}
    return _profile_page(request, payer, values, None, 200)


def _profile_page(
    request: Request, payer: Taxpayer, values: dict[str, Any], error: str | None, code: int
) -> Response:
    return render(
        request,
        "tax_profile.html",
        {
            "values": values,
            "error": error,
            "writes": payer.writes,
            "notice": request.query_params.get("notice"),
        },
        status=code,
        visitor=payer.visitor,
    )


@router.post("/tax-profile", dependencies=[CsrfChecked])
async def save_tax_profile(
    request: Request, market: MarketplaceDep, payer: Annotated[Taxpayer, Depends(taxpayer)]
) -> Response:
    if not payer.writes:
        raise Forbidden("a support role reads; it changes nothing")
    form = {k: v.strip()[:TEXT] for k, v in (await request.form()).items() if isinstance(v, str)}
    address: dict[str, str | None] = {k: form.get(f"address_{k}") or None for k in ADDRESS}
    try:
        if not form.get("legal_name"):
            raise Invalid("give the legal name")
        country = form.get("country", "").upper()
        market.taxes.set_profile(
            payer.party,
            payer.party_id,
            form["legal_name"],
            country,
            form.get("vat_id") or None,
            form.get("tax_id") or None,
            {**address, "country": (address["country"] or "").upper() or None},
        )
    except DomainError as error:
        return _profile_page(request, payer, form, _message(error), 422)
    return redirect("/tax-profile?notice=Your tax profile is saved")


# A seller's shipping grid

Shipper = Annotated[Staff, Depends(staff("reseller", "orders"))]
GRID_HELP = "method, name, countries, first item, each further item, free over, min days, max days"


def _grid_text(rates: list[ShippingRate]) -> str:
    lines = []
    for r in rates:
        free = f"{r.free_over.amount / 100:.2f}" if r.free_over else ""
        lines.append(
            f"{r.method}, {r.name}, {' '.join(r.countries)}, {r.first_item.amount / 100:.2f}, "
            f"{r.additional_item.amount / 100:.2f}, {free}, {r.min_days}, {r.max_days}"
        )
    return "\n".join(lines)


# A rate as people type it, with a decimal point or comma: 7.5 or 7,5.
PERCENT = re.compile(r"^(\d{1,3})(?:[.,](\d{1,2}))?$")


def _basis_points(text: str) -> int | None:
    found = PERCENT.match(text.strip())
    if found is None:
        return None
    return int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))


def _cents(text: str, what: str, line: int) -> int:
    amount = cents(text)
    if isinstance(amount, str):
        raise Invalid(f"line {line}: {what} is not an amount")
    return amount


def parse_grid(text: str, currency: str) -> list[ShippingRate]:
    """One rate a line, as GRID_HELP says; countries are separated by spaces."""
    if not is_currency(currency):
        raise Invalid(f"{currency} is not a currency code")
    rates = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split(",")]
        if len(parts) != 8:
            raise Invalid(f"line {number}: write it as {GRID_HELP}")
        method, name, countries, first, each, free, low, high = parts
        if not (low.isdigit() and high.isdigit()):
            raise Invalid(f"line {number}: the days are whole numbers")
        rates.append(
            ShippingRate(
                method,
                name,
                tuple(countries.upper().split()),
                Money(_cents(first, "the first item", number), currency),
                Money(_cents(each, "each further item", number), currency),
                Money(_cents(free, "free over", number), currency) if free else None,
                int(low[:4]),
                int(high[:4]),
            )
        )
    return rates


@router.get("/reseller/shipping")
def shipping(request: Request, market: MarketplaceDep, seller: Shipper) -> Response:
    grid = market.taxes.grid(seller.seller_id)
    currency = grid[0].first_item.currency if grid else "EUR"
    return _shipping_page(request, seller, _grid_text(grid), currency, None, 200)


def _shipping_page(
    request: Request, seller: Staff, text: str, currency: str, error: str | None, code: int
) -> Response:
    return render(
        request,
        "shipping.html",
        {
            "text": text,
            "currency": currency,
            "error": error,
            "help": GRID_HELP,
            "notice": request.query_params.get("notice"),
        },
        status=code,
        visitor=seller.visitor,
    )


@router.post("/reseller/shipping", dependencies=[CsrfChecked])
async def save_shipping(request: Request, market: MarketplaceDep, seller: Shipper) -> Response:
    form = await request.form()
    text = str(form.get("grid") or "")[:20_000]
    currency = str(form.get("currency") or "EUR").strip().upper()[:3]
    try:
        rates = parse_grid(text, currency)
        market.taxes.set_grid(seller.seller_id, rates)
    except DomainError as error:
        return _shipping_page(request, seller, text, currency, _message(error), 422)
    return redirect("/reseller/shipping?notice=The shipping grid is saved")


# The operator's tax rates

Operator = Annotated[Staff, Depends(staff("operator", "support"))]


def _rate_rows(market: MarketplaceDep) -> list[dict[str, Any]]:
    table = market.taxes.rates()
    return [
        {"country": c, **{k: table.get(f"{c}:{k}", 0) for k in TAX_CATEGORIES}}
        for c in sorted({key.split(":")[0] for key in table} | EU)
    ]


@router.get("/operator/tax-rates")
def tax_rates(request: Request, market: MarketplaceDep, op: Operator) -> Response:
    return _rates_page(request, market, op, None, 200)


def _rates_page(
    request: Request, market: MarketplaceDep, op: Staff, error: str | None, code: int
) -> Response:
    return render(
        request,
        "tax_rates.html",
        {
            "rows": _rate_rows(market),
            "categories": [c for c in TAX_CATEGORIES if c != "zero"],
            "error": error,
            "writes": op.role != "support",
            "notice": request.query_params.get("notice"),
        },
        status=code,
        visitor=op.visitor,
    )


@router.post("/operator/tax-rates", dependencies=[CsrfChecked])
async def save_tax_rates(request: Request, market: MarketplaceDep, op: Operator) -> Response:
    form = await request.form()
    table = market.taxes.rates()
    changed: list[tuple[str, str, int]] = []
    try:
        for key, value in form.items():
            if not isinstance(value, str) or key.count(":") != 1:
                continue
            country, category = key.split(":")
            bps = _basis_points(value[:10])
            if bps is None:
                raise Invalid(f"{country} {category}: {value[:10]} is not a percentage")
            if table.get(key) != bps:
                changed.append((country, category, bps))
        if changed:
            market.taxes.set_rates(changed)
    except DomainError as error:
        return _rates_page(request, market, op, _message(error), 422)
    return redirect(f"/operator/tax-rates?notice={len(changed)} rate(s) changed")


# DAC7


def _year(request: Request, market: MarketplaceDep) -> int:
    raw = request.query_params.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else 0
    return year or market.clock.now().year - 1


@router.get("/operator/reports/dac7")
def dac7(request: Request, market: MarketplaceDep, op: Operator) -> Response:
    caught_up(market, request, "billing")
    year = _year(request, market)
    return render(
        request,
        "dac7.html",
        {"year": year, "rows": dac7_rows(market.dac7_report(year))},
        visitor=op.visitor,
    )


@router.get("/operator/reports/dac7.csv")
def dac7_file(request: Request, market: MarketplaceDep, op: Operator) -> Response:
    year = _year(request, market)
    return Response(
        dac7_csv(market.dac7_report(year)),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="dac7-{year}.csv"'},
    )
