"""Amounts as people type them into forms and files."""


def minor_units(text: str) -> int | str:
    """An amount column: minor units as a whole number; anything else is passed on for the
    line's validation to explain."""
    value = text.strip()
    return int(value) if value.isdigit() and len(value) <= 15 else value


def cents(text: str) -> int | str:
    """A decimal amount ("12.50", "1,200") in minor units; anything else is passed on."""
    value = text.strip().replace(",", "")
    whole, _, fraction = value.partition(".")
    if (
        whole.isdigit()
        and len(whole) <= 13
        and (fraction == "" or (fraction.isdigit() and len(fraction) <= 2))
    ):
        return int(whole) * 100 + int(fraction.ljust(2, "0"))
    return value
