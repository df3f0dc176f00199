"""What tax profiles, tax rates and shipping grids answer: the fields api.md v1.2 names."""

from marketplace.web.answers import Answer, MoneyPublic


class Address(Answer):
    line1: str
    line2: str | None
    postcode: str
    city: str
    country: str


class TaxProfilePublic(Answer):
    legal_name: str
    country: str
    vat_id: str | None
    tax_id: str | None
    address: Address


class TaxRate(Answer):
    country: str
    category: str
    rate_bps: int


class TaxRatesPublic(Answer):
    items: list[TaxRate]


class ShippingRatePublic(Answer):
    method: str
    name: str
    countries: list[str]
    first_item: MoneyPublic
    additional_item: MoneyPublic
    free_over: MoneyPublic | None
    min_days: int
    max_days: int


class ShippingGridPublic(Answer):
    rates: list[ShippingRatePublic]


class Dac7Quarter(Answer):
    quarter: int
    activities: int
    consideration: MoneyPublic
    fees: MoneyPublic


class Dac7Seller(Answer):
    reseller_id: str
    legal_name: str
    country: str | None
    vat_id: str | None
    tax_id: str | None
    address: dict[str, str | None] | None
    quarters: list[Dac7Quarter]


class Dac7Public(Answer):
    year: int
    items: list[Dac7Seller]
