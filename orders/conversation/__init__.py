"""Talking about a seller order: messages between its buyer's people, its seller's and the
operator, and incidents the buyer reports (api.md v1.2)."""

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from marketplace.adapters.eventstore import retrying
from marketplace.kernel.errors import NotFound
from orders.application import Orders
from orders.domain import SellerOrder

MAX_BODY = 4000
Author = dict[str, str]


def public_author(author: Author) -> dict[str, str]:
    return {"kind": author.get("kind", ""), "name": author.get("name", "")}


def messages_of(seller_order: SellerOrder) -> list[dict[str, Any]]:
    return [{**m, "author": public_author(m["author"])} for m in seller_order.messages]


class Conversation:
    def __init__(self, orders: Orders, now: Callable[[], str]) -> None:
        self.orders = orders
        self.now = now

    def seller_order(
        self, seller_order_id: UUID, buyer_id: UUID | None = None, seller_id: UUID | None = None
    ) -> SellerOrder:
        """A seller order its buyer, its seller (once released) or the operator may talk about."""
        found = self.orders.seller_order(seller_order_id, seller_id)
        if buyer_id is not None and found.buyer_id != buyer_id:
            raise NotFound(f"unknown seller order {seller_order_id}")
        return found

    def post(
        self,
        seller_order_id: UUID,
        author: Author,
        body: str,
        buyer_id: UUID | None = None,
        seller_id: UUID | None = None,
    ) -> UUID:
        message_id = uuid4()

        def attempt() -> None:
            found = self.seller_order(seller_order_id, buyer_id, seller_id)
            found.post_message(message_id, author, body, self.now())
            self.orders.save(found)

        retrying(attempt)
        return message_id
