"""The opaque position token: how far each context's event log had reached."""

import base64
import binascii

from marketplace.kernel.errors import DomainError

Positions = dict[str, int]


class BadToken(DomainError):
    """A token that is not one this marketplace gave out."""


def encode(positions: Positions) -> str:
    text = ",".join(f"{ctx}:{pos}" for ctx, pos in sorted(positions.items()))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str) -> Positions:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        pairs = [item.split(":") for item in text.split(",") if item]
        positions = {ctx: int(pos) for ctx, pos in pairs}
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadToken("min_position is not a position this marketplace issued") from error
    if not positions or any(p < 0 for p in positions.values()):
        raise BadToken("min_position is not a position this marketplace issued")
    return positions


def reached(current: Positions, wanted: Positions) -> bool:
    return all(current.get(ctx, 0) >= pos for ctx, pos in wanted.items())
