"""A seller order's shipping and VAT (api.md v1.2), case by case, the figures worked out here
from the rules' wording: amounts in cents, rates in basis points."""

from datetime import date

from marketplace.kernel.money import Money
from marketplace.taxes.domain import TaxCategory, TaxGroup, Treatment
from offers.shipping import ShippingRate
from orders.charges import Charges, Goods, NotShipped, seller_order_charges

RATES = {("DE", "standard"): 1900, ("DE", "reduced"): 700, ("FR", "standard"): 2000}
RATES |= {("FR", "reduced"): 550}
PLACED = date(2026, 12, 1)
GOODS = [
    Goods("valve", 2, 10_000, "standard", 2),  # 2 x 50.00
    Goods("manual", 1, 5_000, "reduced", 4),  # 1 x 50.00
]


def rate_of(country: str, category: TaxCategory) -> int:
    return RATES[(country, category)]


def eur(cents: int) -> Money:
    return Money(cents, "EUR")


GRID = [
    ShippingRate("std", "Parcel", ("DE", "FR", "CH"), eur(490), eur(100), eur(50_000), 1, 3),
    ShippingRate("exp", "Express", ("DE",), eur(1_500), eur(0), None, 0, 1),
]


def charges(
    seller: str | None, destination: str | None, vat_id: str | None = None, **more: object
) -> Charges:
    found = seller_order_charges(
        GOODS,
        "EUR",
        PLACED,
        seller,
        destination,
        vat_id,
        rate_of,
        GRID,
        **more,  # type: ignore[arg-type]
    )
    assert isinstance(found, Charges), found
    return found


def test_a_domestic_order_taxes_goods_and_shipping_at_the_sellers_rates() -> None:
    found = charges("DE", "DE")
    # Three units by parcel: 4.90 + 2 x 1.00 = 6.90; placed + 4 days' lead time + 1 to 3.
    assert found.shipping is not None
    assert found.shipping.amount == eur(690)
    assert (found.shipping.earliest_delivery_on, found.shipping.latest_delivery_on) == (
        date(2026, 12, 6),
        date(2026, 12, 8),
    )
    # 6.90 follows 100.00 standard and 50.00 reduced goods: 4.60 and 2.30.
    # 104.60 x 19 % = 19.874 -> 19.87; 52.30 x 7 % = 3.661 -> 3.66.
    assert found.tax_breakdown == [
        TaxGroup("S", 1900, 10_460, 1_987),
        TaxGroup("S", 700, 5_230, 366),
    ]
    assert (found.net_total, found.tax_total, found.gross_total) == (15_690, 2_353, 18_043)
    assert found.treatments == {"valve": Treatment("S", 1900), "manual": Treatment("S", 700)}


def test_across_a_border_with_a_valid_vat_id_nothing_is_taxed_and_the_note_says_why() -> None:
    found = charges("DE", "FR", "FR40303265045")
    supply = Treatment("K", 0, "Intra-community supply")
    assert found.tax_breakdown == [TaxGroup("K", 0, 15_690, 0, "Intra-community supply")]
    assert found.treatments == {"valve": supply, "manual": supply}
    assert found.gross_total == 15_690


def test_without_a_vat_id_the_destinations_rates_apply() -> None:
    found = charges("DE", "FR")
    # 104.60 x 20 % = 20.92; 52.30 x 5.5 % = 2.8765 -> 2.88.
    assert found.tax_breakdown == [
        TaxGroup("S", 2000, 10_460, 2_092),
        TaxGroup("S", 550, 5_230, 288),
    ]
    assert found.tax_total == 2_380


def test_goods_leaving_the_eu_are_an_export() -> None:
    found = charges("DE", "CH")
    assert found.tax_breakdown == [TaxGroup("G", 0, 15_690, 0, "Export outside the EU")]


def test_a_seller_without_a_tax_profile_charges_shipping_only_and_without_a_grid_nothing() -> None:
    untaxed = charges(None, "DE")
    assert (untaxed.tax_breakdown, untaxed.tax_total, untaxed.net_total) == ([], 0, 15_690)
    bare = seller_order_charges(GOODS, "EUR", PLACED, None, None, None, rate_of, [])
    assert bare == Charges(None, {}, [], 15_000, 0)
    # With a profile and no destination, goods are taxed as at home and shipped free.
    home = seller_order_charges(GOODS, "EUR", PLACED, "DE", None, None, rate_of, [])
    assert isinstance(home, Charges)
    assert home.tax_breakdown == [
        TaxGroup("S", 1900, 10_000, 1_900),
        TaxGroup("S", 700, 5_000, 350),
    ]


def test_express_is_asked_for_by_name_and_a_country_the_grid_lacks_is_not_shipped() -> None:
    express = charges("DE", "DE", method="exp")
    assert express.shipping is not None
    assert (express.shipping.method, express.shipping.amount) == ("exp", eur(1_500))
    assert seller_order_charges(GOODS, "EUR", PLACED, "DE", "IT", None, rate_of, GRID) == (
        NotShipped("IT", None)
    )
    assert seller_order_charges(
        GOODS, "EUR", PLACED, "DE", "FR", None, rate_of, GRID, "exp"
    ) == NotShipped("FR", "exp")
    assert seller_order_charges(GOODS, "EUR", PLACED, "DE", None, None, rate_of, GRID) == (
        NotShipped(None, None)
    )
