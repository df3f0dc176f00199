"""Money and the ISO codes the platform accepts."""

from dataclasses import dataclass
from typing import Any

import pycountry

from marketplace.kernel.errors import Invalid

MAX_AMOUNT = 10**12


def is_currency(code: str) -> bool:
    return len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


def is_country(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str

    def as_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Money":
        return cls(int(data["amount"]), str(data["currency"]))

    def check_same_currency(self, other: "Money", what: str) -> None:
        if other.currency != self.currency:
            raise Invalid(f"{what} must be in {self.currency}, not {other.currency}")
