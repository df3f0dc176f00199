"""Pydantic shapes shared by every router's input: money, names, codes, paging."""

import unicodedata
from typing import Annotated, Any, Self
from uuid import UUID

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from marketplace.kernel.errors import Invalid
from marketplace.kernel.money import MAX_AMOUNT, Money, is_country, is_currency
from marketplace.kernel.people import MAX_PASSWORD, MIN_PASSWORD, normal_email
from marketplace.kernel.text import first_control
from marketplace.people.application import NewPerson

MAX_QUANTITY = 1_000_000_000


def _currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError("not an ISO 4217 currency code")
    return code


def _country(code: str) -> str:
    if not is_country(code):
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


# Bidirectional overrides make a name read differently from what it holds.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(text: str) -> str:
    char = first_control(text) or next((c for c in text if c in _BIDI), None)
    if char is not None:
        raise ValueError(
            f"text cannot contain control characters (found U+{ord(char):04X}); use ordinary spaces"
        )
    if text and all(unicodedata.category(c) in ("Zs", "Cf") for c in text):
        raise ValueError("text cannot be only spaces or invisible characters")
    return text


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]
Text = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_printable)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_printable)
]
Country = Annotated[str, AfterValidator(_country)]
ShippingAddress = Annotated[dict[Label, Text], Field(max_length=20)]
# The shipping method asked of each seller, by reseller id (api.md v1.2).
ShippingMethods = Annotated[dict[UUID, Label], Field(max_length=100)]
Currency = Annotated[str, AfterValidator(_currency)]
Amount = Annotated[int, Field(strict=True, ge=0, le=MAX_AMOUNT)]
Quantity = Annotated[int, Field(strict=True, gt=0, le=MAX_QUANTITY)]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyIn(Strict):
    amount: Amount
    currency: Currency

    def money(self) -> Money:
        return Money(self.amount, self.currency)


def money_or_none(value: MoneyIn | None) -> Money | None:
    return None if value is None else value.money()


Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Cursor = Annotated[str | None, Query(max_length=1000, description="from next_cursor")]
SearchText = Annotated[
    str | None, Query(max_length=200, description="words, a SKU or a GTIN (see catalog search)")
]


def page(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def _email(text: str) -> str:
    try:
        return normal_email(text)
    except Invalid as error:
        raise ValueError(str(error.detail)) from error


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Password = Annotated[
    str,
    StringConstraints(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD),
    Field(json_schema_extra={"writeOnly": True}),
]


class WithPerson(Strict):
    """The person behind a new key, who signs in to the web pages with email and password."""

    email: Email | None = None
    password: Password | None = None

    @model_validator(mode="after")
    def _email_with_password(self) -> Self:
        if self.password is not None and self.email is None:
            raise ValueError("a password is given with the email it signs in")
        return self

    def person(self, name: str) -> NewPerson | None:
        return None if self.email is None else NewPerson(self.email, name, self.password)


class SignUpPerson(WithPerson):
    @model_validator(mode="after")
    def _password_with_email(self) -> Self:
        if self.email is not None and self.password is None:
            raise ValueError("an email is given with the password that signs it in")
        return self
