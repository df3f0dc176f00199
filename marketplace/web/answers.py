"""What the API answers, as OpenAPI states it: the fields the contract (docs/api.md) names,
typed, and every error status a route documents, in FastAPI's `{"detail": ...}` shape.

An answer may carry more than its model names (the contract grows by adding fields), so the
models keep extra fields rather than drop them.
"""

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class MoneyPublic(Answer):
    amount: int
    currency: str


class Error(BaseModel):
    """A refusal: a human sentence, or a list of problems (field errors, refused lines)."""

    detail: str | list[Any] | dict[str, Any]


_MEANING = {
    400: "malformed input (a bad cursor or position token)",
    401: "no key, or a key nobody holds",
    402: "over the credit limit",
    403: "outside the caller's rights",
    404: "unknown, or not visible to the caller",
    408: "the view has not reached min_position within 5 s",
    409: "in conflict with the current state",
    413: "the body is too large",
    422: "invalid input",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route that may refuse with these statuses."""
    return {s: {"model": Error, "description": _MEANING[s]} for s in statuses}


KEYED = (401, 403, 422)  # every route behind a key


class Health(Answer):
    status: str


class Page(Answer, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Created(Answer):
    id: str
    api_key: str


class PersonCreated(Answer):
    id: str


class UserCreated(Created):
    invitation_url: str | None = None


class AccountCreated(Created):
    status: str


class AccountStatus(Answer):
    id: str
    status: str


class Commission(Answer):
    reseller_id: str
    rate_bps: int


class CommissionRow(Answer):
    reseller_id: str
    currency: str
    gmv: int
    commission: int


class ProjectionContext(Answer):
    position: int
    head: int


class ProjectionStatus(Answer):
    name: str
    position: int
    lag_events: int
    status: str
    error: str | None = None
    poison_events: int = 0
    contexts: dict[str, ProjectionContext] = {}


class Accepted(Answer):
    status: str


class JobStarted(Answer):
    job_id: str


class ImportFailure(Answer):
    line: int
    detail: str


class ImportStatus(Answer):
    job_id: str
    kind: str
    status: str
    total: int
    done: int
    imported: int
    failed: list[ImportFailure]
    position: str
    error: str | None = Field(None, description="why a failed job stopped")


class ProductSaved(Answer):
    product_id: str
    sku: str
    version: int


class ProductStatus(Answer):
    sku: str
    status: str


class ProductPublic(Answer):
    product_id: str
    sku: str
    name: str
    brand: str
    category: str
    list_price: MoneyPublic
    map_price: MoneyPublic | None = None
    status: str
    tax_category: str


class OfferSaved(Answer):
    offer_id: str
    product_id: str


class OfferStock(Answer):
    product_id: str
    stock: int


class OfferStatus(Answer):
    product_id: str
    status: str


class TierPublic(Answer):
    min_qty: int
    price: MoneyPublic


class OfferPublic(Answer):
    offer_id: str
    product_id: str
    price: MoneyPublic
    tiers: list[TierPublic]
    stock: int
    lead_time_days: int
    min_order_qty: int
    status: str


class TermsSaved(Answer):
    buyer_id: str
    reseller_id: str


class Authorization(Answer):
    reseller_id: str
    brands: list[str] | None = None
    categories: list[str] | None = None


class AuthorizationStatus(Answer):
    reseller_id: str
    status: str


class Assigned(Answer):
    id: str
    buyer_ids: list[str]


class AssignedAccount(Answer):
    buyer_id: str
    legal_name: str
    country: str
    status: str
    has_terms: bool


class TierPrice(Answer):
    min_qty: int
    unit_price: MoneyPublic


class CatalogOffer(Answer):
    offer_id: str
    reseller_id: str
    reseller_name: str
    unit_price: MoneyPublic
    tiers: list[TierPrice]
    stock: int
    lead_time_days: int
    min_order_qty: int
    payment_methods: list[str]


class CatalogItem(Answer):
    product_id: str
    sku: str
    name: str
    brand: str
    category: str
    offers: list[CatalogOffer]


class FacetValue(Answer):
    value: str
    count: int


class SellerFacet(Answer):
    reseller_id: str
    name: str
    count: int


class CatalogPage(Page[CatalogItem]):
    facets: dict[str, list[FacetValue | SellerFacet]] | None = Field(
        None, description="with `facets=`: counts over the whole result, not the page"
    )
    suggestions: list[str] = Field(
        default_factory=list, description="when nothing matched: near queries that would"
    )


class OrderLine(Answer):
    product_id: str
    quantity: int
    unit_price: MoneyPublic
    tax_category: str | None = None
    tax_rate_bps: int = 0


class TaxGroupPublic(Answer):
    category: str
    rate_bps: int
    taxable: MoneyPublic
    tax: MoneyPublic
    exemption_note: str | None = None


class ShippingPublic(Answer):
    method: str
    name: str
    amount: MoneyPublic
    earliest_delivery_on: str
    latest_delivery_on: str


class SellerOrderPublic(Answer):
    seller_order_id: str
    reseller_id: str
    status: str
    lines: list[OrderLine]
    shipping: ShippingPublic | None = None
    tax_breakdown: list[TaxGroupPublic] = []
    net_total: MoneyPublic | None = None
    tax_total: MoneyPublic | None = None
    gross_total: MoneyPublic | None = None


class OrderPublic(Answer):
    order_id: str
    status: str
    total: list[MoneyPublic]
    net_total: list[MoneyPublic] = []
    tax_total: list[MoneyPublic] = []
    gross_total: list[MoneyPublic] = []
    seller_orders: list[SellerOrderPublic]


class EventContract(Answer):
    """An AsyncAPI 3.0 document (https://www.asyncapi.com/docs/reference/specification/v3.0.0)."""

    asyncapi: str
    info: dict[str, Any]
    channels: dict[str, Any]
    operations: dict[str, Any]
    components: dict[str, Any]
