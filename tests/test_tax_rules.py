"""The VAT and shipping rules of api.md v1.2, case by case, with the figures worked out here
from the rules' own wording (rates in basis points, amounts in cents)."""

from datetime import date

import pytest

from marketplace.kernel.money import Money
from marketplace.taxes.domain import (
    TaxCategory,
    Treatment,
    breakdown,
    commission_treatment,
    goods_treatment,
    round_half_up,
    split,
    vat_country,
    vat_problem,
)
from offers.shipping import ShippingRate, grid_problems, shipping_for


def eur(cents: int) -> Money:
    return Money(cents, "EUR")


RATES = {("DE", "standard"): 1900, ("DE", "reduced"): 700, ("DE", "zero"): 0}
RATES |= {("FR", "standard"): 2000, ("FR", "reduced"): 550, ("FR", "zero"): 0}
RATES |= {("GR", "standard"): 2400, ("GR", "reduced"): 1300, ("GR", "zero"): 0}
GERMAN, FRENCH, GREEK = "DE136695976", "FR40303265045", "EL094259216"


def rate_of(country: str, category: TaxCategory) -> int:
    return RATES[(country, category)]


@pytest.mark.parametrize(
    ("vat_id", "country", "said"),
    [
        (GERMAN, "DE", None),
        ("de 136 695 976", "DE", None),
        (GREEK, "GR", None),
        ("DE136695977", "DE", "DE136695977 is not a valid VAT ID of DE: "),
        ("GR094259216", "GR", "a VAT ID of GR starts with EL"),
        (FRENCH, "DE", "a VAT ID of DE starts with DE"),
        ("CHE116281710", "CH", "CH is not an EU member state; give its tax number as tax_id"),
    ],
)
def test_a_vat_id_is_checked_by_its_countrys_format_and_check_digits(
    vat_id: str, country: str, said: str | None
) -> None:
    problem = vat_problem(vat_id, country)
    if said is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith(said)


def test_a_vat_id_names_its_member_state() -> None:
    assert vat_country(GREEK) == "GR"
    assert vat_country("de 136.695.976") == "DE"
    assert vat_country("DE136695977") is None
    assert vat_country("XX123") is None
    assert vat_country(None) is None


def test_domestic_goods_take_the_sellers_rate_and_zero_rated_goods_are_z() -> None:
    assert goods_treatment("DE", "DE", GERMAN, "standard", rate_of) == Treatment("S", 1900)
    assert goods_treatment("DE", "DE", None, "reduced", rate_of) == Treatment("S", 700)
    assert goods_treatment("DE", "DE", None, "zero", rate_of) == Treatment("Z", 0)


def test_across_eu_borders_a_valid_foreign_vat_id_makes_an_intra_community_supply() -> None:
    supply = Treatment("K", 0, "Intra-community supply")
    assert goods_treatment("DE", "FR", FRENCH, "standard", rate_of) == supply
    # Without one, or with one of the seller's own country, the destination's rate.
    assert goods_treatment("DE", "FR", None, "standard", rate_of) == Treatment("S", 2000)
    assert goods_treatment("DE", "FR", GERMAN, "reduced", rate_of) == Treatment("S", 550)
    assert goods_treatment("DE", "FR", "FR40303265046", "standard", rate_of) == Treatment("S", 2000)
    assert goods_treatment("FR", "GR", GREEK, "standard", rate_of) == supply


def test_goods_leaving_the_eu_are_an_export() -> None:
    export = Treatment("G", 0, "Export outside the EU")
    assert goods_treatment("DE", "CH", None, "standard", rate_of) == export
    assert goods_treatment("FR", "US", FRENCH, "reduced", rate_of) == export


def test_the_commission_invoice_is_taxed_at_home_reverse_charged_or_outside_scope() -> None:
    assert commission_treatment("DE", "DE", GERMAN, rate_of) == Treatment("S", 1900)
    assert commission_treatment("DE", "FR", FRENCH, rate_of) == Treatment("AE", 0, "Reverse charge")
    assert commission_treatment("DE", "CH", None, rate_of) == Treatment(
        "O", 0, "Not subject to VAT"
    )


def test_tax_is_rounded_once_per_group_on_its_summed_net() -> None:
    standard, reduced = Treatment("S", 1900), Treatment("S", 700)
    # Three lines of 0.05 at 19 %: per line 0.0095 would round to 0.01 each (0.03);
    # on the group's 0.15 it is 0.0285, so 0.03 too; and 0.25 gives 0.0475, so 0.05.
    groups = breakdown([(standard, 5), (standard, 5), (standard, 5), (reduced, 25)])
    assert [(g.code, g.rate_bps, g.taxable, g.tax) for g in groups] == [
        ("S", 1900, 15, 3),
        ("S", 700, 25, 2),
    ]
    # 10.50 at 19 % is 1.995: half up, 2.00.
    assert breakdown([(standard, 1050)])[0].tax == 200
    assert round_half_up(-1995, 1000) == -2
    assert round_half_up(1994, 1000) == 2
    assert round_half_up(1499, 1000) == 1


def test_shipping_follows_the_goods_in_proportion_and_adds_up_exactly() -> None:
    standard, reduced = Treatment("S", 1900), Treatment("S", 700)
    # 4.99 shipping over 60.00 standard and 40.00 reduced goods: 2.994 and 1.996.
    assert split(499, {standard: 6000, reduced: 4000}) == {standard: 299, reduced: 200}
    thirds = split(100, {standard: 1, reduced: 1, Treatment("Z", 0): 1})
    assert sum(thirds.values()) == 100
    assert sorted(thirds.values()) == [33, 33, 34]
    assert split(0, {standard: 10}) == {standard: 0}


def _grid() -> list[ShippingRate]:
    return [
        ShippingRate("std", "Parcel", ("DE", "AT"), eur(490), eur(100), eur(15_000), 1, 3),
        ShippingRate("exp", "Express", ("DE",), eur(1_500), eur(0), None, 0, 1),
        ShippingRate("std", "Pallet", ("FR",), eur(4_000), eur(2_000), None, 2, 5),
    ]


def test_a_seller_orders_shipping_is_its_first_item_plus_each_further_one_or_free() -> None:
    placed = date(2026, 12, 1)
    # Cheapest for DE: 3 units by parcel is 4.90 + 2 * 1.00 = 6.90, express 15.00.
    found = shipping_for(_grid(), "DE", 3, Money(10_000, "EUR"), placed, 2)
    assert found is not None
    assert (found.method, found.amount) == ("std", Money(690, "EUR"))
    # Delivery: placed + the longest lead time (2) + min_days (1) / max_days (3).
    assert found.earliest_delivery_on == date(2026, 12, 4)
    assert found.latest_delivery_on == date(2026, 12, 6)
    # From 150.00 of goods the parcel is free; express is asked for by name.
    free = shipping_for(_grid(), "DE", 3, Money(15_000, "EUR"), placed, 0)
    assert free is not None
    assert free.amount == Money(0, "EUR")
    express = shipping_for(_grid(), "DE", 9, Money(500, "EUR"), placed, 0, "exp")
    assert express is not None
    assert express.amount == Money(1_500, "EUR")
    pallet = shipping_for(_grid(), "FR", 2, Money(500, "EUR"), placed, 0)
    assert pallet is not None
    assert pallet.amount == Money(6_000, "EUR")
    # Not shipped there, or not that way: None, which the order refuses.
    assert shipping_for(_grid(), "IT", 1, Money(500, "EUR"), placed, 0) is None
    assert shipping_for(_grid(), "AT", 1, Money(500, "EUR"), placed, 0, "exp") is None


def test_a_grid_with_nonsense_is_refused_with_a_sentence_per_problem() -> None:
    assert grid_problems(_grid()) == []
    bad = [
        ShippingRate("std", "Parcel", ("DE", "XX"), eur(-1), eur(100), None, 1, 3),
        ShippingRate("std", "Again", ("DE",), eur(100), Money(100, "USD"), None, 4, 2),
        ShippingRate("", "", (), eur(100), eur(100), None, 0, 400),
    ]
    assert grid_problems(bad) == [
        "rate 1 (std): XX is not an ISO 3166 country code",
        "rate 1 (std): amounts go from 0 to 1,000,000",
        "rate 2 (std): std to DE is given twice",
        "rate 2 (std): give every amount in one currency",
        "rate 2 (std): days go from min_days to max_days, 0 to 365",
        "rate 3 (): a method needs a code and a name",
        "rate 3 (): name at least one country",
        "rate 3 (): days go from min_days to max_days, 0 to 365",
    ]
