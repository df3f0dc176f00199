"""Shopping lists: named lists of products and quantities a buyer's user keeps, shared with
its organisation read-only or editable, ordered whole or in part."""

from typing import Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.errors import Forbidden, Invalid, NotFound

Sharing = Literal["private", "read", "edit"]
MAX_LINES = 1000


class ShoppingList(Aggregate):
    @event("Started")
    def __init__(self, buyer_id: UUID, owner_id: UUID, name: str, sharing: Sharing) -> None:
        self.buyer_id = buyer_id
        self.owner_id = owner_id
        self.name = name
        self.sharing: Sharing = sharing
        self.lines: dict[str, int] = {}

    def readable_by(self, buyer_id: UUID, user_id: UUID) -> bool:
        return self.buyer_id == buyer_id and (user_id == self.owner_id or self.sharing != "private")

    def check_readable(self, buyer_id: UUID, user_id: UUID) -> None:
        if not self.readable_by(buyer_id, user_id):
            raise NotFound(f"unknown list {self.id}")

    def check_editable(self, buyer_id: UUID, user_id: UUID) -> None:
        self.check_readable(buyer_id, user_id)
        if user_id != self.owner_id and self.sharing != "edit":
            raise Forbidden("this list is shared read-only: only its owner changes it")

    def set_line(self, product_id: UUID, quantity: int) -> None:
        if quantity < 1:
            raise Invalid("a quantity is a positive whole number")
        if str(product_id) not in self.lines and len(self.lines) >= MAX_LINES:
            raise Invalid(f"a list holds at most {MAX_LINES} products")
        if self.lines.get(str(product_id)) != quantity:
            self._line_set(product_id=str(product_id), quantity=quantity)

    @event("LineSet")
    def _line_set(self, product_id: str, quantity: int) -> None:
        self.lines[product_id] = quantity

    def remove_line(self, product_id: UUID) -> None:
        if str(product_id) not in self.lines:
            raise NotFound(f"product {product_id} is not on this list")
        self._line_removed(product_id=str(product_id))

    @event("LineRemoved")
    def _line_removed(self, product_id: str) -> None:
        self.lines.pop(product_id, None)

    def describe(self) -> dict[str, object]:
        return {
            "list_id": str(self.id),
            "buyer_id": str(self.buyer_id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "sharing": self.sharing,
            "lines": [{"product_id": p, "quantity": q} for p, q in self.lines.items()],
        }
