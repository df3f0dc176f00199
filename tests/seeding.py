"""Accounts, products and offers written straight through the application services, for
tests that build many worlds and need no HTTP between them and the rules."""

from uuid import UUID

from marketplace.kernel.money import Money
from offers.application import CustomerTermsDetails, OfferDetails, Offers, ProductDetails
from offers.pricing import Tier
from sellers.application import Sellers


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def approve(sellers: Sellers, account_id: UUID) -> UUID:
    account = sellers.account(account_id)
    assert account is not None
    account.approve()
    sellers.save(account)
    return account_id


def approved_sellers(sellers: Sellers, run: str, resellers: int) -> tuple[UUID, list[UUID]]:
    """A manufacturer and `resellers` resellers it authorizes for everything, all approved."""
    maker = approve(sellers, sellers.register_manufacturer(f"M{run}", "DE", f"mk_s_m{run}"))
    found = []
    for i in range(resellers):
        registered = sellers.register_reseller(f"R{run}-{i}", "reseller", "DE", f"mk_s_r{run}{i}")
        found.append(approve(sellers, registered))
        sellers.authorize(maker, registered, None, None)
    return maker, found


def product(
    offers: Offers,
    maker: UUID,
    sku: str,
    list_price: int = 10_000,
    map_price: int | None = None,
    brand: str = "Acme",
    category: str = "valves",
) -> UUID:
    made, _ = offers.put_product(
        maker,
        sku,
        ProductDetails(
            name=sku,
            brand=brand,
            category=category,
            gtin=None,
            attributes={},
            unit=None,
            list_price=eur(list_price),
            map_price=eur(map_price) if map_price else None,
        ),
    )
    return made.id


def offer(
    offers: Offers,
    reseller_id: UUID,
    product_id: UUID,
    price: int,
    tiers: list[tuple[int, int]] | None = None,
    stock: int = 100,
    lead_time_days: int = 2,
    moq: int = 1,
) -> None:
    offers.put_offer(
        reseller_id,
        product_id,
        OfferDetails(
            price=eur(price),
            tiers=[Tier(q, eur(a)) for q, a in tiers or []],
            stock=stock,
            lead_time_days=lead_time_days,
            min_order_qty=moq,
        ),
    )


def terms(
    offers: Offers,
    reseller_id: UUID,
    buyer_id: UUID,
    methods: list[str],
    discount_bps: int = 0,
    fixed: dict[UUID, int] | None = None,
    catalog: dict[str, list[str]] | None = None,
    credit_limit: int | None = None,
) -> None:
    offers.put_terms(
        reseller_id,
        buyer_id,
        CustomerTermsDetails(
            catalog=catalog,
            discount_bps=discount_bps,
            fixed_prices={pid: eur(amount) for pid, amount in (fixed or {}).items()},
            payment_methods=methods,
            credit_limit=eur(credit_limit) if credit_limit is not None else None,
        ),
    )
