"""Which events a webhook subscriber may receive (api.md v1.2 "Webhooks").

An event concerns the accounts its aggregate belongs to: the account itself for an
account's own aggregate, else the accounts its events name (buyer, seller, manufacturer,
account), remembered from the aggregate's first event for the later ones that name nobody.
A subscriber gets an event only when its own account is one of them; the operator gets all.
An event that names no account (a platform-wide index) reaches the operator only.
"""

from fnmatch import fnmatchcase
from typing import Any

# Fields of event data that name the account a resource belongs to.
OWNER_FIELDS = ("buyer_id", "reseller_id", "seller_id", "manufacturer_id", "account_id")
# Aggregates that are accounts: their id is the account's.
ACCOUNT_TYPES = ("Reseller.", "Manufacturer.", "Buyer.", "SalesRep.")
# Never delivered to anyone: a key's hash, a statement's raw lines.
WITHHELD = ("ApiKey.*", "PaymentImport.*")
MAX_PATTERNS = 50


def owners_named(event_type: str, aggregate_id: str, data: dict[str, Any]) -> set[str]:
    found = {str(data[f]) for f in OWNER_FIELDS if data.get(f)}
    if event_type.startswith(ACCOUNT_TYPES):
        found.add(aggregate_id)
    return found


def matches(patterns: list[str], event_type: str) -> bool:
    """`*` (everything), `Order.*` (an aggregate's events) or `SellerOrder.Shipped`."""
    if any(fnmatchcase(event_type, withheld) for withheld in WITHHELD):
        return False
    return any(fnmatchcase(event_type, pattern) for pattern in patterns)


def check_patterns(patterns: list[str]) -> list[str]:
    """The patterns a subscription takes: 1 to 50 of `*`, `Type.*` or `Type.Event`."""
    cleaned = list(dict.fromkeys(p.strip() for p in patterns))
    if not 1 <= len(cleaned) <= MAX_PATTERNS:
        raise ValueError(f"events: 1 to {MAX_PATTERNS} patterns")
    for pattern in cleaned:
        head, _, tail = pattern.partition(".")
        if pattern == "*":
            continue
        if not (head.isidentifier() and (tail == "*" or tail.isidentifier())):
            raise ValueError(f"events: {pattern!r} is not `*`, `Type.*` or `Type.Event`")
    return cleaned


def may_see(subscriber: str | None, owners: set[str]) -> bool:
    """Whether an account (None: the operator) may receive an event about `owners`."""
    return subscriber is None or subscriber in owners
