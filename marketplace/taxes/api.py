"""Tax profiles, the operator's tax rates and sellers' shipping grids (api.md v1.2, "Tax and
shipping")."""

import csv
import io
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from marketplace.kernel.errors import Forbidden, NotFound
from marketplace.taxes.application import Party
from marketplace.taxes.domain import TaxCategory
from marketplace.taxes.profiles import OPERATOR
from marketplace.web.answers import errors
from marketplace.web.auth import (
    CurrentBuyerUser,
    CurrentOperator,
    CurrentReseller,
    MarketplaceDep,
)
from marketplace.web.schemas import Country, Label, MoneyIn, Name, Strict, money_or_none
from marketplace.web.tax_answers import (
    Dac7Public,
    ShippingGridPublic,
    TaxProfilePublic,
    TaxRatesPublic,
)
from marketplace.web.waiting import BillingReady
from offers.shipping import MOST_DAYS, ShippingRate, rate_row

router = APIRouter(prefix="/v1")
Days = Annotated[int, Field(strict=True, ge=0, le=MOST_DAYS)]


class AddressIn(Strict):
    line1: Name
    line2: Name | None = None
    postcode: Label
    city: Name
    country: Country


class TaxProfileIn(Strict):
    legal_name: Name
    country: Country
    vat_id: Label | None = None
    tax_id: Label | None = None
    address: AddressIn


class RateIn(Strict):
    country: Country
    category: TaxCategory
    rate_bps: Annotated[int, Field(strict=True, ge=0, le=10_000)]


class RatesIn(Strict):
    rates: Annotated[list[RateIn], Field(min_length=1, max_length=1000)]


class ShippingRateIn(Strict):
    method: Label
    name: Name
    countries: Annotated[list[Country], Field(min_length=1, max_length=250)]
    first_item: MoneyIn
    additional_item: MoneyIn
    free_over: MoneyIn | None = None
    min_days: Days
    max_days: Days

    def rate(self) -> ShippingRate:
        return ShippingRate(
            self.method,
            self.name,
            tuple(self.countries),
            self.first_item.money(),
            self.additional_item.money(),
            money_or_none(self.free_over),
            self.min_days,
            self.max_days,
        )


class GridIn(Strict):
    rates: Annotated[list[ShippingRateIn], Field(max_length=200)]


def _profile(market: MarketplaceDep, party: Party, party_id: UUID) -> dict[str, Any]:
    found = market.taxes.profile(party, party_id)
    if found is None:
        raise NotFound("no tax profile is set yet")
    return found.describe()


def _set_profile(
    market: MarketplaceDep, party: Party, party_id: UUID, body: TaxProfileIn
) -> dict[str, Any]:
    return market.taxes.set_profile(
        party,
        party_id,
        body.legal_name,
        body.country,
        body.vat_id,
        body.tax_id,
        body.address.model_dump(),
    ).describe()


PROFILE_PUT = errors(401, 403, 422)
PROFILE_GET = errors(401, 403, 422, 404)


@router.get(
    "/operator/tax-profile",
    tags=["operator"],
    responses=PROFILE_GET,
    response_model=TaxProfilePublic,
)
def operator_profile(_: CurrentOperator, market: MarketplaceDep) -> dict[str, Any]:
    """The marketplace operator's own tax profile, as its commission invoices show it."""
    return _profile(market, "operator", OPERATOR)


@router.put(
    "/operator/tax-profile",
    tags=["operator"],
    responses=PROFILE_PUT,
    response_model=TaxProfilePublic,
)
def set_operator_profile(
    body: TaxProfileIn, _: CurrentOperator, market: MarketplaceDep
) -> dict[str, Any]:
    """Sets the operator's tax profile; a VAT ID is checked by its country's format and check
    digits (Greece's prefix is EL)."""
    return _set_profile(market, "operator", OPERATOR, body)


@router.get(
    "/reseller/tax-profile",
    tags=["reseller"],
    responses=PROFILE_GET,
    response_model=TaxProfilePublic,
)
def reseller_profile(reseller: CurrentReseller, market: MarketplaceDep) -> dict[str, Any]:
    return _profile(market, "seller", reseller.id)


@router.put(
    "/reseller/tax-profile",
    tags=["reseller"],
    responses=PROFILE_PUT,
    response_model=TaxProfilePublic,
)
def set_reseller_profile(
    body: TaxProfileIn, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Sets the seller's tax profile: from then on its orders are taxed (api.md v1.2)."""
    return _set_profile(market, "seller", reseller.id, body)


@router.get(
    "/buyer/tax-profile", tags=["buyer"], responses=PROFILE_GET, response_model=TaxProfilePublic
)
def buyer_profile(session: CurrentBuyerUser, market: MarketplaceDep) -> dict[str, Any]:
    return _profile(market, "buyer", session.buyer.id)


@router.put(
    "/buyer/tax-profile", tags=["buyer"], responses=PROFILE_PUT, response_model=TaxProfilePublic
)
def set_buyer_profile(
    body: TaxProfileIn, session: CurrentBuyerUser, market: MarketplaceDep
) -> dict[str, Any]:
    """Sets the organisation's tax profile (admins): its VAT ID decides whether a supply
    from another member state is intra-community."""
    if session.user.role != "admin":
        raise Forbidden("only an admin of the organisation sets its tax profile")
    return _set_profile(market, "buyer", session.buyer.id, body)


def _rates(table: dict[str, int]) -> dict[str, Any]:
    items = []
    for key, rate_bps in sorted(table.items()):
        country, category = key.split(":")
        items.append({"country": country, "category": category, "rate_bps": rate_bps})
    return {"items": items}


@router.get(
    "/operator/tax-rates",
    tags=["operator"],
    response_model=TaxRatesPublic,
    responses=errors(401, 403, 422),
)
def tax_rates(_: CurrentOperator, market: MarketplaceDep) -> dict[str, Any]:
    """Every rate by country and category: the EU-27 standard and reduced rates shipped with
    the marketplace, with those the operator set over them."""
    return _rates(market.taxes.rates())


@router.put(
    "/operator/tax-rates",
    tags=["operator"],
    response_model=TaxRatesPublic,
    responses=errors(401, 403, 422),
)
def set_tax_rates(body: RatesIn, _: CurrentOperator, market: MarketplaceDep) -> dict[str, Any]:
    """Replaces the rates named; the others stay as they are."""
    rates = [(r.country, r.category, r.rate_bps) for r in body.rates]
    return _rates(market.taxes.set_rates(rates))


def _grid(rates: list[ShippingRate]) -> dict[str, Any]:
    return {"rates": [rate_row(rate) for rate in rates]}


@router.get(
    "/reseller/shipping-rates",
    tags=["reseller"],
    response_model=ShippingGridPublic,
    responses=errors(401, 403, 422),
)
def shipping_rates(reseller: CurrentReseller, market: MarketplaceDep) -> dict[str, Any]:
    """The seller's shipping grid (empty: it ships anywhere, free, as before)."""
    return _grid(market.taxes.grid(reseller.id))


@router.put(
    "/reseller/shipping-rates",
    tags=["reseller"],
    response_model=ShippingGridPublic,
    responses=errors(401, 403, 422),
)
def set_shipping_rates(
    body: GridIn, reseller: CurrentReseller, market: MarketplaceDep
) -> dict[str, Any]:
    """Replaces the seller's grid: methods by destination country, each priced as its first
    item plus each further one, free from a net goods total on, with its delivery days."""
    return _grid(market.taxes.set_grid(reseller.id, [r.rate() for r in body.rates]))


Year = Annotated[int, Query(ge=2000, le=2100, description="the calendar year reported")]
DAC7_COLUMNS = [
    "reseller_id",
    "legal_name",
    "country",
    "vat_id",
    "tax_id",
    "address",
    "quarter",
    "activities",
    "consideration",
    "fees",
    "currency",
]


def dac7_rows(report: list[dict[str, Any]]) -> list[list[str]]:
    """The report as one CSV row per seller, quarter and currency; amounts in major units."""
    rows = []
    for seller in report:
        address = ", ".join(v for v in (seller["address"] or {}).values() if v)
        for q in seller["quarters"]:
            rows.append(
                [
                    seller["reseller_id"],
                    seller["legal_name"],
                    seller["country"] or "",
                    seller["vat_id"] or "",
                    seller["tax_id"] or "",
                    address,
                    str(q["quarter"]),
                    str(q["activities"]),
                    f"{q['consideration']['amount'] / 100:.2f}",
                    f"{q['fees']['amount'] / 100:.2f}",
                    q["consideration"]["currency"],
                ]
            )
    return rows


def dac7_csv(report: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DAC7_COLUMNS)
    writer.writerows(dac7_rows(report))
    return out.getvalue()


@router.get(
    "/operator/reports/dac7",
    tags=["operator"],
    response_model=Dac7Public,
    responses={
        **errors(401, 403, 422, 400, 408),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
def dac7(
    request: Request,
    year: Year,
    _: CurrentOperator,
    market: MarketplaceDep,
    _ready: BillingReady,
) -> Any:
    """What DAC7 asks the platform to report of each seller for a year: who it is (its tax
    profile) and, per quarter, the payments received on its invoices (`consideration`), the
    seller orders they paid (`activities`) and the commission charged on them (`fees`, net).
    With `Accept: text/csv`, one row per seller, quarter and currency."""
    report = market.dac7_report(year)
    if "text/csv" in request.headers.get("accept", ""):
        return Response(dac7_csv(report), media_type="text/csv")
    return {"year": year, "items": report}
