"""The pricing rule, as api.md states it, with nothing else in it.

For one buyer, one offer and a quantity: the contract's fixed price if any, else the
offer's tier price for that quantity (or its price) less the contract's discount; never
below the product's minimum advertised price.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from marketplace.kernel.money import Money


@dataclass(frozen=True)
class Tier:
    min_qty: int
    price: Money


def tier_price(price: Money, tiers: Sequence[Tier], quantity: int) -> Money:
    best = price
    for tier in sorted(tiers, key=lambda t: t.min_qty):
        if tier.min_qty <= quantity:
            best = tier.price
    return best


def discounted(amount: int, discount_bps: int) -> int:
    # Half-up rounding to the minor unit, in integers so no float ever touches money.
    return (amount * (10_000 - discount_bps) + 5_000) // 10_000


def unit_price(
    price: Money,
    tiers: Sequence[Tier],
    quantity: int,
    *,
    discount_bps: int = 0,
    fixed_price: Money | None = None,
    map_price: Money | None = None,
) -> Money:
    if fixed_price is not None:
        amount = fixed_price.amount
    else:
        amount = discounted(tier_price(price, tiers, quantity).amount, discount_bps)
    if map_price is not None:
        amount = max(amount, map_price.amount)
    return Money(amount, price.currency)
