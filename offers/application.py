"""The offers context: catalog products, offers, customer terms."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Transcoding

from marketplace.adapters.eventstore import MarketplaceApplication
from marketplace.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.kernel.money import Money
from offers.domain import (
    CustomerTerms,
    Offer,
    Product,
    check_offer_fields,
    check_product_prices,
    offer_id,
    product_id,
    terms_id,
)
from offers.pricing import Tier
from sellers.domain import Authorization


class TierAsDict(Transcoding):
    type = Tier
    name = "tier"

    def encode(self, obj: Tier) -> dict[str, Any]:
        return {"min_qty": obj.min_qty, "price": obj.price}

    def decode(self, data: dict[str, Any]) -> Tier:
        return Tier(data["min_qty"], data["price"])


@dataclass(frozen=True)
class ProductDetails:
    name: str
    brand: str
    category: str
    gtin: str | None
    attributes: dict[str, str]
    unit: str | None
    list_price: Money
    map_price: Money | None
    tax_category: str = "standard"

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "tax_category"}


@dataclass(frozen=True)
class OfferDetails:
    price: Money
    tiers: list[Tier]
    stock: int
    lead_time_days: int
    min_order_qty: int


@dataclass(frozen=True)
class CustomerTermsDetails:
    catalog: dict[str, list[str]] | None
    discount_bps: int
    fixed_prices: dict[UUID, Money]
    payment_methods: list[str]
    credit_limit: Money | None


class Offers(MarketplaceApplication):
    name = "offers"
    # Offers and terms gain an event per order line they serve; snapshots keep loading them
    # cheap however long their history grows.
    snapshotting_intervals = {Offer: 100, CustomerTerms: 100}
    # Wired by the platform: the sellers context answers who may sell what.
    authorization_of: Callable[[UUID, UUID], Authorization | None]

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(TierAsDict())

    # Products

    def product(self, pid: UUID) -> Product:
        return self.load(pid, Product, "product")

    def put_product(
        self, manufacturer_id: UUID, sku: str, details: ProductDetails
    ) -> tuple[Product, bool]:
        """Creates or revises a product; returns it and whether it is new."""
        existing = self.find(product_id(manufacturer_id, sku), Product)
        product, created = self.upsert_product(manufacturer_id, sku, details, existing)
        self.save(product)
        return product, created

    def upsert_product(
        self, manufacturer_id: UUID, sku: str, details: ProductDetails, product: Product | None
    ) -> tuple[Product, bool]:
        check_product_prices(details.list_price, details.map_price)
        created = product is None
        if product is None:
            product = Product(manufacturer_id=manufacturer_id, sku=sku, **details.fields())
        else:
            product.revise(**details.fields())
        product.set_tax_category(details.tax_category)
        return product, created

    def discontinue(self, manufacturer_id: UUID, sku: str) -> None:
        product = self.load(product_id(manufacturer_id, sku), Product, "product")
        product.discontinue()
        self.save(product)

    # Offers

    def put_offer(self, reseller_id: UUID, pid: UUID, details: OfferDetails) -> tuple[Offer, bool]:
        product = self.product(pid)
        existing = self.find(offer_id(reseller_id, pid), Offer)
        offer, created = self.upsert_offer(
            reseller_id, product, details, existing, self.authorization_of
        )
        self.save(offer)
        return offer, created

    def upsert_offer(
        self,
        reseller_id: UUID,
        product: Product,
        details: OfferDetails,
        offer: Offer | None,
        authorization_of: Callable[[UUID, UUID], Authorization | None],
    ) -> tuple[Offer, bool]:
        if product.discontinued:
            raise Conflict("the product is discontinued")
        authorization = authorization_of(product.manufacturer_id, reseller_id)
        if authorization is None or not authorization.covers(product.brand, product.category):
            raise Forbidden("the manufacturer has not authorized you to sell this product")
        check_offer_fields(
            product,
            details.price,
            details.tiers,
            details.stock,
            details.lead_time_days,
            details.min_order_qty,
        )
        if offer is None:
            return Offer(reseller_id=reseller_id, product_id=product.id, **details.__dict__), True
        offer.revise(**details.__dict__)
        return offer, False

    def offer(self, reseller_id: UUID, pid: UUID) -> Offer:
        offer = self.find(offer_id(reseller_id, pid), Offer)
        if offer is None:
            raise NotFound(f"you have no offer on product {pid}")
        return offer

    def set_stock(self, reseller_id: UUID, pid: UUID, quantity: int) -> None:
        offer = self.offer(reseller_id, pid)
        offer.set_stock(quantity)
        self.save(offer)

    def withdraw(self, reseller_id: UUID, pid: UUID) -> None:
        offer = self.offer(reseller_id, pid)
        offer.withdraw()
        self.save(offer)

    # Customer terms

    def put_terms(self, reseller_id: UUID, buyer_id: UUID, terms: CustomerTermsDetails) -> bool:
        """Agrees or revises a buyer's terms; returns whether they are new."""
        if not 0 <= terms.discount_bps < 10_000:
            raise Invalid("discount_bps must be from 0 to 9999")
        if not terms.payment_methods:
            raise Invalid("payment_methods needs at least one method")
        if terms.credit_limit is not None and terms.credit_limit.amount < 0:
            raise Invalid("credit_limit cannot be negative")
        for pid, price in terms.fixed_prices.items():
            product = self.find(pid, Product)
            if product is None:
                raise Invalid(f"fixed_prices names an unknown product {pid}")
            product.list_price.check_same_currency(price, f"the fixed price of {pid}")
            if price.amount <= 0:
                raise Invalid(f"the fixed price of {pid} must be positive")
        fixed = {str(pid): price for pid, price in terms.fixed_prices.items()}
        existing = self.find(terms_id(reseller_id, buyer_id), CustomerTerms)
        if existing is None:
            existing = CustomerTerms(
                reseller_id,
                buyer_id,
                terms.catalog,
                terms.discount_bps,
                fixed,
                list(terms.payment_methods),
                terms.credit_limit,
            )
            created = True
        else:
            existing.revise(
                terms.catalog,
                terms.discount_bps,
                fixed,
                list(terms.payment_methods),
                terms.credit_limit,
            )
            created = False
        self.save(existing)
        return created

    def terms(self, reseller_id: UUID, buyer_id: UUID) -> CustomerTerms | None:
        return self.find(terms_id(reseller_id, buyer_id), CustomerTerms)
