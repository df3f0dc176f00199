"""VAT as api.md v1.2 states it, for a seller order and for the operator's commission:
which treatment applies (EN 16931 category, rate, exemption note), VAT IDs checked by format
and check digits (python-stdnum), tax per group rounded once on the group's summed net, and
shipping split over the goods' groups in proportion to their net."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

TaxCategory = Literal["standard", "reduced", "zero"]
TAX_CATEGORIES: tuple[TaxCategory, ...] = ("standard", "reduced", "zero")
# The 27 member states by ISO 3166 alpha-2 (Greece is GR here; its VAT IDs start EL).
EU: frozenset[str] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
VAT_PREFIX = {"GR": "EL"}
# The rate of a (country, category), in basis points, as the operator's rate table holds it.
RateOf = Callable[[str, TaxCategory], int]


def vat_problem(vat_id: str, country: str) -> str | None:
    """Why a VAT ID cannot be this country's, or None when its format and check digits hold
    (whether it is registered is VIES's to say, not ours)."""
    if country not in EU:
        return f"{country} is not an EU member state; give its tax number as tax_id"
    prefix = VAT_PREFIX.get(country, country)
    compact = "".join(ch for ch in vat_id.upper() if ch.isalnum())
    if not compact.startswith(prefix):
        return f"a VAT ID of {country} starts with {prefix}"
    try:
        eu_vat.validate(compact)
    except ValidationError as error:
        return f"{vat_id} is not a valid VAT ID of {country}: {str(error).rstrip('.').lower()}"
    return None


def vat_country(vat_id: str | None) -> str | None:
    """The member state a VAT ID is valid for (its prefix, EL read as GR), or None."""
    if not vat_id:
        return None
    prefix = "".join(ch for ch in vat_id.upper() if ch.isalnum())[:2]
    country = {v: k for k, v in VAT_PREFIX.items()}.get(prefix, prefix)
    return country if country in EU and vat_problem(vat_id, country) is None else None


@dataclass(frozen=True)
class Treatment:
    """How one group of a document is taxed: the EN 16931 VAT category code (S standard,
    Z zero rated, K intra-community supply, G export, AE reverse charge, O outside scope),
    the rate, and the wording an exempt group must carry."""

    code: str
    rate_bps: int
    exemption_note: str | None = None


def goods_treatment(
    seller_country: str,
    destination: str,
    buyer_vat_id: str | None,
    category: TaxCategory,
    rate_of: RateOf,
) -> Treatment:
    """The tax on goods a seller of `seller_country` ships to `destination`."""
    if destination == seller_country:
        rate = rate_of(seller_country, category)
        return Treatment("S" if rate else "Z", rate)
    if seller_country in EU and destination not in EU:
        return Treatment("G", 0, "Export outside the EU")
    if seller_country in EU and destination in EU:
        registered = vat_country(buyer_vat_id) not in (None, seller_country)
        if registered:
            return Treatment("K", 0, "Intra-community supply")
        rate = rate_of(destination, category)
        return Treatment("S" if rate else "Z", rate)
    return Treatment("O", 0, "Not subject to VAT")


def commission_treatment(
    operator_country: str, seller_country: str, seller_vat_id: str | None, rate_of: RateOf
) -> Treatment:
    """The tax on the operator's commission invoice to a seller."""
    if seller_country == operator_country:
        return Treatment("S", rate_of(operator_country, "standard"))
    if seller_country not in EU:
        return Treatment("O", 0, "Not subject to VAT")
    if vat_country(seller_vat_id) == seller_country:
        return Treatment("AE", 0, "Reverse charge")
    return Treatment("S", rate_of(operator_country, "standard"))


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    return sign * (quotient + (1 if 2 * remainder >= abs(denominator) else 0))


@dataclass(frozen=True)
class TaxGroup:
    code: str
    rate_bps: int
    taxable: int
    tax: int
    exemption_note: str | None = None


def breakdown(amounts: Sequence[tuple[Treatment, int]]) -> list[TaxGroup]:
    """Tax per (category, rate): the group's net amounts summed, then taxed and rounded once
    (EN 16931 BR-CO-17), in the order the groups first appear."""
    sums: dict[Treatment, int] = {}
    for treatment, net in amounts:
        sums[treatment] = sums.get(treatment, 0) + net
    return [
        TaxGroup(t.code, t.rate_bps, net, round_half_up(net * t.rate_bps, 10_000), t.exemption_note)
        for t, net in sums.items()
    ]


def split(amount: int, weights: Mapping[Treatment, int]) -> dict[Treatment, int]:
    """`amount` shared in proportion to `weights` (shipping over the goods' groups), in
    whole minor units that add up to it exactly: largest remainders take the units left."""
    total = sum(weights.values())
    if not weights:
        return {}
    if total <= 0:
        first = next(iter(weights))
        return {t: (amount if t == first else 0) for t in weights}
    shares = {t: amount * w // total for t, w in weights.items()}
    left = amount - sum(shares.values())
    by_remainder = sorted(weights, key=lambda t: -((amount * weights[t]) % total))
    for treatment in by_remainder[:left]:
        shares[treatment] += 1
    return shares


RATES_ID = uuid5(NAMESPACE_URL, "marketplace:tax-rates")


class TaxRates(Aggregate):
    """The rates the operator set over the ones the marketplace ships with (`EU_RATES`),
    by "country:category"."""

    @staticmethod
    def create_id() -> UUID:
        return RATES_ID

    @event("Started")
    def __init__(self) -> None:
        self.rates: dict[str, int] = {}

    def set(self, rates: dict[str, int]) -> None:
        changed = {k: v for k, v in rates.items() if self.rates.get(k) != v}
        if changed:
            self._set(rates=changed)

    @event("RatesSet")
    def _set(self, rates: dict[str, int]) -> None:
        self.rates = {**self.rates, **rates}
