"""Keyset pagination: opaque cursors over the last row's sort key."""

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from marketplace.adapters.sql import Row
from marketplace.kernel.errors import DomainError
from marketplace.kernel.text import first_control


class BadCursor(DomainError):
    """A token that is not one this marketplace gave out."""


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError) as error:
        raise BadCursor("cursor is not one this marketplace issued") from error
    if not isinstance(key, list) or len(key) != size or not all(map(_storable, key)):
        raise BadCursor("cursor is not one this marketplace issued")
    return key


def _storable(value: Any) -> bool:
    """A string a sort key can hold: no control characters, no lone surrogates."""
    return isinstance(value, str) and first_control(value) is None


def cut(
    rows: list[Row], limit: int, key: Callable[[Row], list[Any]]
) -> tuple[list[Row], str | None]:
    """The page (rows were fetched with LIMIT limit + 1) and the cursor to the next one."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1]))
