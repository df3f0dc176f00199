"""Loading a generated world through the application layer."""

from uuid import UUID

from bench.world import World
from marketplace.kernel.money import Money
from marketplace.platform import Marketplace
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails
from offers.domain import product_id
from offers.pricing import Tier


def load(marketplace: Marketplace, world: World) -> dict[str, list[UUID]]:
    sellers, offers, buyers = marketplace.sellers, marketplace.offers, marketplace.buyers
    makers = [
        sellers.register_manufacturer(f"Maker {i}", "DE", f"mk_s_bench_m{i}")
        for i in range(world.scale.manufacturers)
    ]
    resellers = [
        sellers.register_reseller(f"Reseller {i}", "distributor", "DE", f"mk_s_bench_r{i}")
        for i in range(world.scale.resellers)
    ]
    for account_id in [*makers, *resellers]:
        account = sellers.account(account_id)
        assert account is not None
        account.approve()
        sellers.save(account)
    for maker in makers:
        for reseller in resellers:
            sellers.authorize(maker, reseller, None, None)
    for m, maker in enumerate(makers):
        rows = [
            (
                p["index"],
                p["sku"],
                ProductDetails(
                    name=p["name"],
                    brand=p["brand"],
                    category=p["category"],
                    gtin=None,
                    attributes={},
                    unit="piece",
                    list_price=Money(p["list"], "EUR"),
                    map_price=Money(p["map"], "EUR") if p["map"] else None,
                ),
            )
            for p in world.products
            if p["manufacturer"] == m
        ]
        job = marketplace.imports.create(maker, "products", len(rows), [])
        marketplace.imports.run_products(job, rows)
    product_ids = [product_id(makers[p["manufacturer"]], p["sku"]) for p in world.products]
    for r, reseller in enumerate(resellers):
        lines = [
            (
                n,
                product_ids[o["product"]],
                OfferDetails(
                    Money(o["price"], "EUR"),
                    [Tier(q, Money(a, "EUR")) for q, a in o["tiers"]],
                    o["stock"],
                    o["lead"],
                    1,
                ),
            )
            for n, o in enumerate(world.offers)
            if o["reseller"] == r
        ]
        job = marketplace.imports.create(reseller, "offers", len(lines), [])
        marketplace.imports.run_offers(job, lines)
    buyer_ids = []
    for b in world.buyers:
        buyer_id, _ = buyers.register(f"Buyer {b['index']}", "T", "DE", f"mk_b_bench_{b['index']}")
        buyer = buyers.buyer(buyer_id)
        buyer.approve()
        buyers.save(buyer)
        shape = world.shapes[b["shape"]]
        for r in shape["resellers"]:
            fixed = {product_ids[p]: Money(a, "EUR") for p, a in b["fixed"].items()}
            offers.put_terms(
                resellers[r],
                buyer_id,
                CustomerTermsDetails(
                    shape["catalog"], shape["discount"], fixed, ["card", "invoice_net_30"], None
                ),
            )
        buyer_ids.append(buyer_id)
    return {"makers": makers, "resellers": resellers, "products": product_ids, "buyers": buyer_ids}
