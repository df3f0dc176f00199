"""Catalog products, resellers' offers on them, and each buyer's terms with a reseller."""

import copy
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from immutables import Map

from marketplace.kernel.errors import Conflict, CreditExceeded, Invalid
from marketplace.kernel.money import Money
from marketplace.taxes.domain import TAX_CATEGORIES, TaxCategory
from offers.pricing import Tier, unit_price

PRODUCTS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:products")
OFFERS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:offers")
TERMS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:customer-terms")


def product_id(manufacturer_id: UUID, sku: str) -> UUID:
    return uuid5(PRODUCTS_NAMESPACE, f"{manufacturer_id}:{sku}")


# Asked many times per order for the same pairs; uuid5 hashes each time.
@lru_cache(maxsize=65_536)
def offer_id(reseller_id: UUID, product_id: UUID) -> UUID:
    return uuid5(OFFERS_NAMESPACE, f"{reseller_id}:{product_id}")


@lru_cache(maxsize=65_536)
def terms_id(reseller_id: UUID, buyer_id: UUID) -> UUID:
    return uuid5(TERMS_NAMESPACE, f"{reseller_id}:{buyer_id}")


def check_product_prices(list_price: Money, map_price: Money | None) -> None:
    if list_price.amount <= 0:
        raise Invalid("list_price must be positive")
    if map_price is not None:
        list_price.check_same_currency(map_price, "map_price")
        if map_price.amount > list_price.amount:
            raise Invalid("map_price cannot exceed list_price")


class Product(Aggregate):
    @staticmethod
    def create_id(manufacturer_id: UUID, sku: str) -> UUID:
        return product_id(manufacturer_id, sku)

    @event("Published")
    def __init__(
        self,
        manufacturer_id: UUID,
        sku: str,
        name: str,
        brand: str,
        category: str,
        gtin: str | None,
        attributes: dict[str, str],
        unit: str | None,
        list_price: Money,
        map_price: Money | None,
    ) -> None:
        self.manufacturer_id = manufacturer_id
        self.sku = sku
        self._set(name, brand, category, gtin, attributes, unit, list_price, map_price)
        # Set by its own event, so products published before it read as standard-rated.
        self.tax_category: TaxCategory = "standard"

    def _set(
        self,
        name: str,
        brand: str,
        category: str,
        gtin: str | None,
        attributes: dict[str, str],
        unit: str | None,
        list_price: Money,
        map_price: Money | None,
    ) -> None:
        self.name = name
        self.brand = brand
        self.category = category
        self.gtin = gtin
        self.attributes = dict(attributes)
        self.unit = unit
        self.list_price = list_price
        self.map_price = map_price
        self.discontinued = False

    def details(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "brand": self.brand,
            "category": self.category,
            "gtin": self.gtin,
            "attributes": self.attributes,
            "unit": self.unit,
            "list_price": self.list_price,
            "map_price": self.map_price,
        }

    def revise(
        self,
        name: str,
        brand: str,
        category: str,
        gtin: str | None,
        attributes: dict[str, str],
        unit: str | None,
        list_price: Money,
        map_price: Money | None,
    ) -> bool:
        """Records the new details; returns whether anything changed."""
        check_product_prices(list_price, map_price)
        if list_price.currency != self.list_price.currency:
            raise Invalid(
                f"a product's currency cannot change: it is priced in {self.list_price.currency}"
            )
        new = {
            "name": name,
            "brand": brand,
            "category": category,
            "gtin": gtin,
            "attributes": dict(attributes),
            "unit": unit,
            "list_price": list_price,
            "map_price": map_price,
        }
        if new == self.details() and not self.discontinued:
            return False
        self._revised(name, brand, category, gtin, dict(attributes), unit, list_price, map_price)
        return True

    @event("Revised")
    def _revised(
        self,
        name: str,
        brand: str,
        category: str,
        gtin: str | None,
        attributes: dict[str, str],
        unit: str | None,
        list_price: Money,
        map_price: Money | None,
    ) -> None:
        self._set(name, brand, category, gtin, attributes, unit, list_price, map_price)

    def set_tax_category(self, category: str) -> bool:
        """Records the VAT category its sales are taxed at; returns whether it changed."""
        if category not in TAX_CATEGORIES:
            raise Invalid(f"tax_category is one of {', '.join(TAX_CATEGORIES)}")
        if category == self.tax_category:
            return False
        self._tax_category_set(category=category)
        return True

    @event("TaxCategorySet")
    def _tax_category_set(self, category: TaxCategory) -> None:
        self.tax_category = category

    def discontinue(self) -> None:
        if not self.discontinued:
            self._discontinued()

    @event("Discontinued")
    def _discontinued(self) -> None:
        self.discontinued = True


def check_offer_fields(
    product: Product,
    price: Money,
    tiers: list[Tier],
    stock: int,
    lead_time_days: int,
    min_order_qty: int,
) -> None:
    currency = product.list_price.currency
    if price.currency != currency:
        raise Invalid(f"offers on this product are priced in {currency}")
    if price.amount <= 0:
        raise Invalid("price must be positive")
    if stock < 0:
        raise Invalid("stock cannot be negative")
    if lead_time_days < 0:
        raise Invalid("lead_time_days cannot be negative")
    if min_order_qty < 1:
        raise Invalid("min_order_qty must be at least 1")
    floor = product.map_price
    if floor is not None and price.amount < floor.amount:
        raise Invalid(f"price {price.amount} is below the minimum advertised price {floor.amount}")
    previous = Tier(1, price)
    for tier in tiers:
        if tier.price.currency != currency:
            raise Invalid(f"tier prices must be in {currency}")
        if tier.min_qty <= previous.min_qty:
            raise Invalid("tiers must have min_qty above 1, in strictly ascending order")
        if tier.price.amount > previous.price.amount:
            raise Invalid("a tier's price cannot rise above the price for fewer units")
        if tier.price.amount <= 0:
            raise Invalid("tier prices must be positive")
        if floor is not None and tier.price.amount < floor.amount:
            raise Invalid(
                f"tier price {tier.price.amount} at {tier.min_qty} units is below "
                f"the minimum advertised price {floor.amount}"
            )
        previous = tier


class Offer(Aggregate):
    """A reseller's offer on one product. Stock is what is left to sell."""

    @staticmethod
    def create_id(reseller_id: UUID, product_id: UUID) -> UUID:
        return offer_id(reseller_id, product_id)

    def __deepcopy__(self, memo: dict[int, Any]) -> "Offer":
        # Every order copies its offers. Their reservations, which grow with the open
        # orders, are a persistent map: shared by the copies, never copied. The lists are
        # copied; their values (tiers, money) are immutable.
        clone = copy.copy(self)
        clone.__dict__.update(tiers=list(self.tiers), _pending_events=list(self._pending_events))
        return clone

    class Published(Aggregate.Created):
        reseller_id: UUID
        product_id: UUID
        price: Money
        tiers: list[Tier]
        stock: int
        lead_time_days: int
        min_order_qty: int
        # Version 2 added min_order_qty; a version 1 offer sold from one unit up.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["min_order_qty"] = 1

    class Revised(Aggregate.Event):
        price: Money
        tiers: list[Tier]
        stock: int
        lead_time_days: int
        min_order_qty: int
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["min_order_qty"] = 1

    @event(Published)
    def __init__(
        self,
        reseller_id: UUID,
        product_id: UUID,
        price: Money,
        tiers: list[Tier],
        stock: int,
        lead_time_days: int,
        min_order_qty: int,
    ) -> None:
        self.reseller_id = reseller_id
        self.product_id = product_id
        self.price = price
        self.tiers = list(tiers)
        self.stock = stock
        self.lead_time_days = lead_time_days
        self.min_order_qty = min_order_qty
        self.withdrawn = False
        self.reservations: Map[str, int] = Map()

    def revise(
        self,
        price: Money,
        tiers: list[Tier],
        stock: int,
        lead_time_days: int,
        min_order_qty: int,
    ) -> bool:
        new = (price, list(tiers), stock, lead_time_days, min_order_qty)
        old = (self.price, self.tiers, self.stock, self.lead_time_days, self.min_order_qty)
        if new == old and not self.withdrawn:
            return False
        self._revised(
            price=price,
            tiers=list(tiers),
            stock=stock,
            lead_time_days=lead_time_days,
            min_order_qty=min_order_qty,
        )
        return True

    @event(Revised)
    def _revised(
        self,
        price: Money,
        tiers: list[Tier],
        stock: int,
        lead_time_days: int,
        min_order_qty: int,
    ) -> None:
        self.price = price
        self.tiers = list(tiers)
        self.stock = stock
        self.lead_time_days = lead_time_days
        self.min_order_qty = min_order_qty
        self.withdrawn = False

    def set_stock(self, quantity: int) -> None:
        if quantity < 0:
            raise Invalid("stock cannot be negative")
        if quantity != self.stock:
            self._stock_set(quantity=quantity)

    @event("StockSet")
    def _stock_set(self, quantity: int) -> None:
        self.stock = quantity

    def withdraw(self) -> None:
        if not self.withdrawn:
            self._withdrawn()

    @event("Withdrawn")
    def _withdrawn(self) -> None:
        self.withdrawn = True

    def reserve(self, ref: str, quantity: int) -> None:
        """Takes units out of stock for an order line; once per `ref`, however often asked."""
        if ref in self.reservations:
            return
        if quantity > self.stock:
            raise Conflict(f"only {self.stock} left in stock")
        self._stock_reserved(ref=ref, quantity=quantity)

    @event("StockReserved")
    def _stock_reserved(self, ref: str, quantity: int) -> None:
        self.stock -= quantity
        self.reservations = _persistent(self.reservations).set(ref, quantity)

    def release(self, ref: str) -> None:
        """Puts an order line's unshipped units back in stock."""
        if self.reservations.get(ref):
            self._stock_released(ref=ref, quantity=self.reservations[ref])

    @event("StockReleased")
    def _stock_released(self, ref: str, quantity: int) -> None:
        self.stock += quantity
        if ref in self.reservations:
            self.reservations = _persistent(self.reservations).delete(ref)

    def ship(self, ref: str, quantity: int) -> None:
        """Shipped units leave the reservation for good."""
        if self.reservations.get(ref, 0) >= quantity > 0:
            self._reservation_shipped(ref=ref, quantity=quantity)

    def restock(self, ref: str, quantity: int) -> None:
        """Puts returned units back in stock; once per `ref`, however often asked."""
        # Offers stored (and snapshotted) before returns existed have no `restocked` yet.
        if ref not in getattr(self, "restocked", {}) and quantity > 0:
            self._restocked(ref=ref, quantity=quantity)

    @event("Restocked")
    def _restocked(self, ref: str, quantity: int) -> None:
        self.stock += quantity
        self.restocked = {**getattr(self, "restocked", {}), ref: quantity}

    @event("ReservationShipped")
    def _reservation_shipped(self, ref: str, quantity: int) -> None:
        left = self.reservations[ref] - quantity
        held = _persistent(self.reservations)
        self.reservations = held.set(ref, left) if left else held.delete(ref)


def _persistent(reservations: Mapping[str, int]) -> Map[str, int]:
    # Offers snapshotted before reservations were a persistent map hold a dict.
    return reservations if isinstance(reservations, Map) else Map(reservations)


class CatalogScope:
    """Which of a reseller's offers a buyer sees: each given list narrows it."""

    def __init__(self, spec: dict[str, list[str]] | None) -> None:
        self.spec = spec

    def admits(self, product_id: UUID, brand: str, category: str) -> bool:
        if self.spec is None:
            return True
        checks = (("brands", brand), ("categories", category), ("product_ids", str(product_id)))
        return all(self.spec.get(key) is None or value in self.spec[key] for key, value in checks)


class CustomerTerms(Aggregate):
    """A reseller's terms for one buyer: what it sees, at what prices, how it pays."""

    @staticmethod
    def create_id(reseller_id: UUID, buyer_id: UUID) -> UUID:
        return terms_id(reseller_id, buyer_id)

    @event("Agreed")
    def __init__(
        self,
        reseller_id: UUID,
        buyer_id: UUID,
        catalog: dict[str, list[str]] | None,
        discount_bps: int,
        fixed_prices: dict[str, Money],
        payment_methods: list[str],
        credit_limit: Money | None,
    ) -> None:
        self.reseller_id = reseller_id
        self.buyer_id = buyer_id
        self._set(catalog, discount_bps, fixed_prices, payment_methods, credit_limit)
        self.credit_used: dict[str, int] = {}

    @property
    def credit_exposure(self) -> int:
        """What open invoice orders hold of the credit, until their invoices are paid."""
        return sum(self.credit_used.values())

    @property
    def credit_left(self) -> int | None:
        if self.credit_limit is None:
            return None
        return self.credit_limit.amount - self.credit_exposure

    def use_credit(self, ref: str, amount: Money) -> None:
        """Holds credit for an invoice order; once per `ref`, however often asked."""
        if ref in self.credit_used:
            return
        left = self.credit_left
        if left is not None and self.credit_limit is not None:
            self.credit_limit.check_same_currency(amount, "the order")
            if amount.amount > left:
                raise CreditExceeded(
                    f"the order needs {amount.amount} {amount.currency} of credit; "
                    f"{max(left, 0)} is left"
                )
        self._credit_used(ref=ref, amount=amount.amount)

    @event("CreditUsed")
    def _credit_used(self, ref: str, amount: int) -> None:
        self.credit_used[ref] = amount

    def free_credit(self, ref: str) -> None:
        if ref in self.credit_used:
            self._credit_freed(ref=ref)

    @event("CreditFreed")
    def _credit_freed(self, ref: str) -> None:
        self.credit_used.pop(ref, None)

    def settle_credit(self, ref: str, owed: int) -> None:
        """Lowers what an order holds to what its buyer still owes on it, as its invoices are
        paid or credited. Never raises it, so a repeated or stale call changes nothing."""
        held = self.credit_used.get(ref)
        if held is None or owed >= held:
            return
        if owed <= 0:
            self._credit_freed(ref=ref)
        else:
            self._credit_settled(ref=ref, amount=owed)

    @event("CreditSettled")
    def _credit_settled(self, ref: str, amount: int) -> None:
        self.credit_used[ref] = amount

    def _set(
        self,
        catalog: dict[str, list[str]] | None,
        discount_bps: int,
        fixed_prices: dict[str, Money],
        payment_methods: list[str],
        credit_limit: Money | None,
    ) -> None:
        self.catalog = catalog
        self.discount_bps = discount_bps
        self.fixed_prices = dict(fixed_prices)
        self.payment_methods = list(payment_methods)
        self.credit_limit = credit_limit

    def revise(
        self,
        catalog: dict[str, list[str]] | None,
        discount_bps: int,
        fixed_prices: dict[str, Money],
        payment_methods: list[str],
        credit_limit: Money | None,
    ) -> bool:
        new = (catalog, discount_bps, dict(fixed_prices), list(payment_methods), credit_limit)
        old = (
            self.catalog,
            self.discount_bps,
            self.fixed_prices,
            self.payment_methods,
            self.credit_limit,
        )
        if new == old:
            return False
        self._revised(
            catalog=catalog,
            discount_bps=discount_bps,
            fixed_prices=dict(fixed_prices),
            payment_methods=list(payment_methods),
            credit_limit=credit_limit,
        )
        return True

    @event("Revised")
    def _revised(
        self,
        catalog: dict[str, list[str]] | None,
        discount_bps: int,
        fixed_prices: dict[str, Money],
        payment_methods: list[str],
        credit_limit: Money | None,
    ) -> None:
        self._set(catalog, discount_bps, fixed_prices, payment_methods, credit_limit)

    @property
    def scope(self) -> CatalogScope:
        return CatalogScope(self.catalog)


def contract_price(product: Product, offer: Offer, terms: CustomerTerms, quantity: int) -> Money:
    """What a buyer with these terms pays a unit of this offer for a quantity."""
    return unit_price(
        offer.price,
        offer.tiers,
        quantity,
        discount_bps=terms.discount_bps,
        fixed_price=terms.fixed_prices.get(str(product.id)),
        map_price=product.map_price,
    )


class ImportJob(Aggregate):
    """A bulk import of a manufacturer's products or a reseller's offers: its progress and
    the lines it could not take."""

    class Started(Aggregate.Created):
        owner_id: UUID
        kind: str
        total: int
        # Version 2 named the owner generally, since resellers import offers too.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["owner_id"] = state.pop("manufacturer_id")
            state["kind"] = "products"

    @event(Started)
    def __init__(self, owner_id: UUID, kind: str, total: int) -> None:
        self.owner_id = owner_id
        self.kind = kind
        self.total = total
        self.done = 0
        self.imported = 0
        self.failed: list[dict[str, Any]] = []
        self.status = "running"

    @event("Progressed")
    def progress(self, imported: int, failed: list[dict[str, Any]]) -> None:
        self.imported += imported
        self.failed.extend(failed)
        self.done += imported + len(failed)

    @event("Completed")
    def complete(self) -> None:
        self.status = "completed"

    @event("Interrupted")
    def interrupt(self, reason: str) -> None:
        """The process running the job ended before it did; its remaining lines were not
        imported (those counted in `imported` were)."""
        self.status = "failed"
        self.error = reason
