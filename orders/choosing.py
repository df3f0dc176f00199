"""Choosing the offer a line of an order goes to: visible to the buyer, payable, enough
quantity and stock, then the lowest contract price and the shortest lead time."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from marketplace.kernel.accounts import Account
from marketplace.kernel.errors import DomainError, Refusal
from marketplace.kernel.money import Money
from offers.application import Offers
from offers.domain import CustomerTerms, Offer, Product, contract_price, offer_id
from offers.visibility import visible
from sellers.application import Sellers
from sellers.domain import Authorization

# Offer candidates for a product, as the buyer's catalog view lists them (reseller ids).
Candidates = Callable[[UUID, UUID], list[UUID]]


class PlacementRefused(DomainError):
    """Lines that cannot be placed, each with its reason; the worst one is the order's."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        worst = min((p["reason"] for p in problems), key=WORST_FIRST.index)
        super().__init__(problems, worst)


@dataclass(frozen=True)
class LineRequest:
    product_id: UUID
    quantity: int
    reseller_id: UUID | None


@dataclass(frozen=True)
class Choice:
    line: int
    product: Product
    offer: Offer
    terms: CustomerTerms
    price: Money


# A refused placement is refused for the worst reason among its lines.
WORST_FIRST = [
    Refusal.NOT_FOUND,
    Refusal.FORBIDDEN,
    Refusal.INVALID,
    Refusal.CREDIT,
    Refusal.CONFLICT,
]


def problem(line: int, product_id: UUID, msg: str, reason: Refusal) -> dict[str, Any]:
    return {
        "loc": ["body", "lines", line],
        "line": line,
        "product_id": str(product_id),
        "msg": msg,
        "reason": reason,
    }


def twice(line: int, product_id: UUID) -> dict[str, Any]:
    return problem(line, product_id, "this product appears twice; merge the lines", Refusal.INVALID)


class Lookups:
    """What one placement reads of sellers, authorizations and terms, read once."""

    def __init__(self, sellers: Sellers, offers: Offers) -> None:
        self.sellers = sellers
        self.offers = offers
        self._accounts: dict[UUID, Account | None] = {}
        self._authorizations: dict[tuple[UUID, UUID], Authorization | None] = {}
        self._terms: dict[tuple[UUID, UUID], CustomerTerms | None] = {}

    def account(self, account_id: UUID) -> Account | None:
        if account_id not in self._accounts:
            self._accounts[account_id] = self.sellers.account(account_id)
        return self._accounts[account_id]

    def authorization(self, manufacturer_id: UUID, reseller_id: UUID) -> Authorization | None:
        key = (manufacturer_id, reseller_id)
        if key not in self._authorizations:
            self._authorizations[key] = self.sellers.authorization(*key)
        return self._authorizations[key]

    def terms(self, reseller_id: UUID, buyer_id: UUID) -> CustomerTerms | None:
        key = (reseller_id, buyer_id)
        if key not in self._terms:
            self._terms[key] = self.offers.terms(*key)
        return self._terms[key]


class OfferChooser:
    def __init__(self, offers: Offers, sellers: Sellers, candidates: Candidates) -> None:
        self.offers = offers
        self.sellers = sellers
        self.candidates = candidates

    def lookups(self) -> Lookups:
        return Lookups(self.sellers, self.offers)

    def _visible(
        self, seen: Lookups, buyer_id: UUID, product: Product, reseller_id: UUID
    ) -> tuple[Offer, CustomerTerms] | None:
        offer = self.offers.find(offer_id(reseller_id, product.id), Offer)
        if offer is None:
            return None
        reseller = seen.account(reseller_id)
        maker = seen.account(product.manufacturer_id)
        terms = seen.terms(reseller_id, buyer_id)
        if terms is None or not visible(
            offer,
            product,
            terms,
            seen.authorization(product.manufacturer_id, reseller_id),
            reseller is not None and reseller.is_approved,
            maker is not None and maker.is_approved,
        ):
            return None
        return offer, terms

    def choose(
        self,
        buyer_id: UUID,
        index: int,
        request: LineRequest,
        payment_method: str,
        only_reseller: UUID | None,
        excluded: set[UUID],
        seen: Lookups | None = None,
    ) -> Choice | dict[str, Any]:
        """The best offer for one line, or the reason there is none."""
        seen = seen or self.lookups()
        pid = request.product_id
        product = self.offers.find(pid, Product)
        if product is None or product.discontinued:
            return problem(index, pid, "this product is not in your catalog", Refusal.NOT_FOUND)
        if request.reseller_id is not None:
            if only_reseller is not None and request.reseller_id != only_reseller:
                return problem(
                    index,
                    pid,
                    "a sales rep orders only its own reseller's offers",
                    Refusal.FORBIDDEN,
                )
            resellers = [request.reseller_id]
        else:
            resellers = [only_reseller] if only_reseller else self.candidates(buyer_id, pid)
        visible = []
        for reseller_id in resellers:
            if reseller_id in excluded:
                continue
            found = self._visible(seen, buyer_id, product, reseller_id)
            if found is not None:
                visible.append(found)
        if not visible:
            return problem(
                index, pid, "no offer on this product is in your catalog", Refusal.NOT_FOUND
            )
        payable = [v for v in visible if payment_method in v[1].payment_methods]
        if not payable:
            return problem(
                index,
                pid,
                f"no seller of this product accepts {payment_method} from you",
                Refusal.INVALID,
            )
        enough_qty = [v for v in payable if request.quantity >= v[0].min_order_qty]
        if not enough_qty:
            least = min(v[0].min_order_qty for v in payable)
            return problem(index, pid, f"the minimum order quantity is {least}", Refusal.INVALID)
        in_stock = [v for v in enough_qty if v[0].stock >= request.quantity]
        if not in_stock:
            most = max(v[0].stock for v in enough_qty)
            return problem(
                index, pid, f"not enough stock: at most {most} available", Refusal.CONFLICT
            )
        offer, terms = min(
            in_stock,
            key=lambda v: (
                contract_price(product, v[0], v[1], request.quantity).amount,
                v[0].lead_time_days,
                str(v[0].reseller_id),
            ),
        )
        return Choice(
            index, product, offer, terms, contract_price(product, offer, terms, request.quantity)
        )


def by_seller(choices: list[Choice]) -> dict[UUID, list[Choice]]:
    """The chosen lines grouped into one seller order per reseller."""
    groups: dict[UUID, list[Choice]] = {}
    for choice in choices:
        group = groups.setdefault(choice.offer.reseller_id, [])
        if any(c.product.id == choice.product.id for c in group):
            raise PlacementRefused([twice(choice.line, choice.product.id)])
        group.append(choice)
    return groups
