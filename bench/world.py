"""A seeded generator of B2B worlds, from a few products (tests) to B2B scale (bench)."""

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scale:
    manufacturers: int
    products: int
    resellers: int
    offers: int
    buyers: int
    shapes: int


SCALES = {
    "tiny": Scale(2, 200, 4, 600, 20, 8),
    "default": Scale(5, 5_000, 10, 20_000, 200, 40),
    "full": Scale(5, 200_000, 50, 1_000_000, 2_000, 40),
}
BRANDS = [f"Brand{i}" for i in range(25)]
CATEGORIES = [f"cat-{i}" for i in range(40)]
WORDS = [
    "Drill",
    "Bolt",
    "Screw",
    "Glove",
    "Paper",
    "Toner",
    "Chair",
    "Cable",
    "Valve",
    "Pump",
    "Filter",
    "Sensor",
    "Hose",
    "Lamp",
    "Switch",
    "Relay",
    "Gear",
    "Belt",
]


@dataclass
class World:
    scale: Scale
    products: list[dict[str, Any]] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)
    shapes: list[dict[str, Any]] = field(default_factory=list)
    buyers: list[dict[str, Any]] = field(default_factory=list)


def generate(scale: Scale, seed: int = 42) -> World:
    rng = random.Random(seed)
    world = World(scale)
    for i in range(scale.products):
        list_price = rng.randrange(500, 100_000)
        world.products.append(
            {
                "index": i,
                "manufacturer": i % scale.manufacturers,
                "sku": f"SKU-{i:07d}",
                "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
                "brand": BRANDS[i % len(BRANDS)],
                "category": CATEGORIES[(i * 7) % len(CATEGORIES)],
                "list": list_price,
                "map": list_price * 60 // 100 if i % 4 == 0 else None,
            }
        )
    per_reseller = scale.offers // scale.resellers
    for r in range(scale.resellers):
        for product in rng.sample(world.products, min(per_reseller, len(world.products))):
            floor = product["map"] or 1
            price = max(floor, product["list"] * rng.randrange(70, 100) // 100)
            tiers = []
            if rng.random() < 0.5:
                tiers = [(10, max(floor, price * 95 // 100)), (100, max(floor, price * 90 // 100))]
            world.offers.append(
                {
                    "reseller": r,
                    "product": product["index"],
                    "price": price,
                    "tiers": tiers,
                    "stock": rng.randrange(0, 1_000),
                    "lead": rng.randrange(1, 20),
                }
            )
    for s in range(scale.shapes):
        scoped = s % 3 == 0
        world.shapes.append(
            {
                "discount": rng.choice([0, 100, 250, 500, 1_000, 1_500]),
                "catalog": {"categories": rng.sample(CATEGORIES, 10)} if scoped else None,
                "resellers": rng.sample(range(scale.resellers), min(3, scale.resellers)),
            }
        )
    for b in range(scale.buyers):
        shape = b % scale.shapes
        fixed = {}
        if b % 10 == 0:
            fixed = {
                o["product"]: max(1, o["price"] * 80 // 100) for o in rng.sample(world.offers, 5)
            }
        world.buyers.append({"index": b, "shape": shape, "fixed": fixed})
    return world
