"""Whether a buyer sees an offer: the one statement of the rule in Python. Orders choose
offers by it; the catalog projection's SQL is checked against it on generated worlds
(tests/test_catalog_exact.py, through bench/reference.py)."""

from offers.domain import CustomerTerms, Offer, Product
from sellers.domain import Authorization


def visible(
    offer: Offer,
    product: Product,
    terms: CustomerTerms | None,
    authorization: Authorization | None,
    reseller_approved: bool,
    manufacturer_approved: bool,
) -> bool:
    """From an approved seller, authorized by the approved manufacturer, not withdrawn, the
    product not discontinued, within the catalog scope of that seller's terms for the buyer."""
    return (
        not offer.withdrawn
        and not product.discontinued
        and reseller_approved
        and manufacturer_approved
        and authorization is not None
        and authorization.covers(product.brand, product.category)
        and terms is not None
        and terms.scope.admits(product.id, product.brand, product.category)
    )
