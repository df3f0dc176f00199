"""The VAT rates the marketplace ships with, in basis points: each EU member state's standard
rate and one reduced rate, the one most goods sold at a reduced rate take there (where a
state has several, the operator sets the one its sellers' goods need with
PUT /v1/operator/tax-rates). As in force on 1 January 2026, to be confirmed by the operator
before going live; Denmark has no reduced rate, so its reduced category takes the standard."""

from marketplace.taxes.domain import EU

STANDARD = {
    "AT": 2000, "BE": 2100, "BG": 2000, "CY": 1900, "CZ": 2100, "DE": 1900, "DK": 2500,
    "EE": 2400, "ES": 2100, "FI": 2550, "FR": 2000, "GR": 2400, "HR": 2500, "HU": 2700,
    "IE": 2300, "IT": 2200, "LT": 2100, "LU": 1700, "LV": 2100, "MT": 1800, "NL": 2100,
    "PL": 2300, "PT": 2300, "RO": 2100, "SE": 2500, "SI": 2200, "SK": 2300,
}  # fmt: skip
REDUCED = {
    "AT": 1000, "BE": 600, "BG": 900, "CY": 500, "CZ": 1200, "DE": 700, "DK": 2500,
    "EE": 900, "ES": 1000, "FI": 1400, "FR": 550, "GR": 1300, "HR": 1300, "HU": 500,
    "IE": 1350, "IT": 1000, "LT": 900, "LU": 800, "LV": 1200, "MT": 700, "NL": 900,
    "PL": 800, "PT": 600, "RO": 1100, "SE": 1200, "SI": 950, "SK": 1900,
}  # fmt: skip
EU_RATES: dict[str, int] = {
    **{f"{c}:standard": r for c, r in STANDARD.items()},
    **{f"{c}:reduced": r for c, r in REDUCED.items()},
    **{f"{c}:zero": 0 for c in EU},
}
