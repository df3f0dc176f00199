"""How far each context's event log had reached."""

from marketplace.kernel.errors import DomainError

Positions = dict[str, int]


class BadToken(DomainError):
    """A token that is not one this marketplace gave out."""


def reached(current: Positions, wanted: Positions) -> bool:
    return all(current.get(ctx, 0) >= pos for ctx, pos in wanted.items())
