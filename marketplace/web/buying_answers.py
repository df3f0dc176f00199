"""What the buying tools answer (quotes, quick order, lists, cost centres, budgets): the
fields api.md names, typed; extra fields are kept, as in `answers`."""

from marketplace.web.answers import Answer, MoneyPublic, OrderPublic


class QuoteCreated(Answer):
    quote_id: str
    status: str


class QuoteLine(Answer):
    product_id: str
    quantity: int


class QuoteVersion(Answer):
    version: int
    lines: list[QuoteLine]
    valid_to: str | None


class QuotePublic(Answer):
    quote_id: str
    buyer_id: str
    reseller_id: str
    status: str
    version: int
    valid_to: str | None
    lines: list[QuoteLine]
    versions: list[QuoteVersion]


class QuoteOffered(Answer):
    quote_id: str
    status: str
    version: int


class QuickLineAnswer(Answer):
    line: int
    sku: str | None
    quantity: int


class OrderLineRequest(Answer):
    product_id: str
    quantity: int
    reseller_id: str


class QuickOrderAnswer(Answer):
    lines: list[QuickLineAnswer]
    order_lines: list[OrderLineRequest]


class Skipped(Answer):
    product_id: str
    problem: str


class OrderAgainAnswer(OrderPublic):
    skipped: list[Skipped]


class ListCreated(Answer):
    list_id: str


class ListLine(Answer):
    product_id: str
    quantity: int


class ShoppingListPublic(Answer):
    list_id: str
    name: str
    owner_id: str
    sharing: str
    lines: list[ListLine]


class CostCentreCreated(Answer):
    cost_centre_id: str


class CostCentrePublic(Answer):
    cost_centre_id: str
    name: str
    code: str
    user_ids: list[str]


class CostCentreAssigned(Answer):
    user_id: str
    cost_centre_id: str


class BudgetCreated(Answer):
    budget_id: str


class BudgetEntry(Answer):
    kind: str
    amount: MoneyPublic
    order_id: str | None


class BudgetPublic(Answer):
    budget_id: str
    cost_centre_id: str
    starts_on: str
    ends_on: str
    enforcement: str
    amount: MoneyPublic
    reserved: MoneyPublic
    consumed: MoneyPublic
    remaining: MoneyPublic
    entries: list[BudgetEntry]
