"""The catalog a buyer should see, evaluated straight over the event-sourced aggregates with
the visibility and pricing rules the order desk uses: the yardstick the catalog view's SQL is
checked against."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from marketplace.platform import Marketplace
from offers.domain import Offer, Product, contract_price, offer_id
from offers.visibility import visible

Catalog = dict[str, list[dict[str, Any]]]


def reference_catalog(
    marketplace: Marketplace, buyer_id: UUID, candidates: Iterable[tuple[UUID, UUID]]
) -> Catalog:
    """For each (reseller, product) pair that might be visible, the offer this buyer should
    see, grouped by product: only pairs its terms, the authorizations and the accounts'
    statuses allow, at its contract price."""
    sellers, offers = marketplace.sellers, marketplace.offers
    approved: dict[UUID, bool] = {}

    def is_approved(account_id: UUID) -> bool:
        if account_id not in approved:
            account = sellers.account(account_id)
            approved[account_id] = account is not None and account.status == "approved"
        return approved[account_id]

    pairs = list(candidates)
    found_offers = offers.find_many([offer_id(r, p) for r, p in pairs], Offer)
    found_products = offers.find_many([p for _, p in pairs], Product)
    catalog: Catalog = {}
    for reseller_id, product_id in pairs:
        terms = offers.terms(reseller_id, buyer_id)
        offer = found_offers.get(offer_id(reseller_id, product_id))
        product = found_products.get(product_id)
        if terms is None or offer is None or product is None:
            continue
        authorization = sellers.authorization(product.manufacturer_id, reseller_id)
        seen = visible(
            offer,
            product,
            terms,
            authorization,
            is_approved(reseller_id),
            is_approved(product.manufacturer_id),
        )
        if not seen:
            continue
        catalog.setdefault(str(product.id), []).append(
            {
                "offer_id": str(offer.id),
                "reseller_id": str(reseller_id),
                "unit_price": contract_price(product, offer, terms, offer.min_order_qty).amount,
                "tiers": [
                    (t.min_qty, contract_price(product, offer, terms, t.min_qty).amount)
                    for t in offer.tiers
                ],
                "stock": offer.stock,
                "min_order_qty": offer.min_order_qty,
                "lead_time_days": offer.lead_time_days,
            }
        )
    return {pid: sorted(found, key=lambda o: o["offer_id"]) for pid, found in catalog.items()}


def as_reference(items: Iterable[dict[str, Any]]) -> Catalog:
    """The catalog view's items in the reference's shape."""
    return {
        item["product_id"]: sorted(
            (
                {
                    "offer_id": o["offer_id"],
                    "reseller_id": o["reseller_id"],
                    "unit_price": o["unit_price"]["amount"],
                    "tiers": [(t["min_qty"], t["unit_price"]["amount"]) for t in o["tiers"]],
                    "stock": o["stock"],
                    "min_order_qty": o["min_order_qty"],
                    "lead_time_days": o["lead_time_days"],
                }
                for o in item["offers"]
            ),
            key=lambda o: o["offer_id"],
        )
        for item in items
    }
