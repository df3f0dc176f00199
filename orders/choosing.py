"""Choosing the offer a line of an order goes to: visible to the buyer, payable, enough
quantity and stock, then the lowest contract price and the shortest lead time."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from marketplace.adapters.eventstore import Read, read_together
from marketplace.kernel.accounts import Account
from marketplace.kernel.errors import DomainError, NotFound, Refusal
from marketplace.kernel.facts import Facts
from marketplace.kernel.money import Money
from offers.application import Offers
from offers.choice import Candidate, Unavailable, Why, choose
from offers.domain import CustomerTerms, Offer, Product, contract_price, offer_id, terms_id
from offers.visibility import visible
from sellers.application import Sellers
from sellers.domain import Authorization, Reseller, authorization_id

T = TypeVar("T")

# Offer candidates for products, as the buyer's catalog view lists them: product id ->
# reseller ids.
Candidates = Callable[[UUID, list[UUID]], dict[UUID, list[UUID]]]


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


REFUSALS = {
    Why.NO_OFFER: ("no offer on this product is in your catalog", Refusal.NOT_FOUND),
    Why.NOT_PAYABLE: ("no seller of this product accepts {method} from you", Refusal.INVALID),
    Why.BELOW_MINIMUM: ("the minimum order quantity is {figure}", Refusal.INVALID),
    Why.SHORT_OF_STOCK: ("not enough stock: at most {figure} available", Refusal.CONFLICT),
}


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
    """What one placement reads of products, offers, sellers, authorizations and terms:
    read once, and for a whole order with a query per kind (`prefetch`)."""

    def __init__(
        self,
        sellers: Sellers,
        offers: Offers,
        candidates: Candidates,
        makers: Facts[UUID, UUID] | None = None,
    ) -> None:
        self.sellers = sellers
        self.offers = offers
        self._candidates_of = candidates
        # Each product's maker, kept across placements by the chooser.
        self._makers = makers if makers is not None else Facts()
        self._candidates: dict[UUID, list[UUID]] = {}
        self._products: dict[UUID, Product | None] = {}
        self._offers: dict[UUID, Offer | None] = {}
        self._accounts: dict[UUID, Account | None] = {}
        self._authorizations: dict[tuple[UUID, UUID], Authorization | None] = {}
        self._terms: dict[tuple[UUID, UUID], CustomerTerms | None] = {}
        # What `prefetch` read along for its caller, and for which resellers.
        self.along: tuple[list[UUID], list[dict[UUID, Any]]] | None = None

    def prefetch(
        self,
        buyer_id: UUID,
        product_ids: list[UUID],
        only: UUID | None,
        along: Callable[[list[UUID]], list[Read]] | None = None,
    ) -> None:
        """Reads at once what choosing offers for these products will ask for, and what
        `along` asks to read of the resellers that may be chosen (kept in `self.along`)."""
        if only is None:
            self._candidates.update(self._candidates_of(buyer_id, product_ids))
        pairs = {(r, p) for p in product_ids for r in self.candidates(buyer_id, p, only)}
        resellers = {r for r, _ in pairs}
        offer_ids = [offer_id(r, p) for r, p in pairs]
        chosen_among = sorted(resellers)
        more = along(chosen_among) if along is not None else []
        first: list[Read] = [
            (self.offers, product_ids, Product),
            (self.offers, offer_ids, Offer),
            (self.offers, [terms_id(r, buyer_id) for r in resellers], CustomerTerms),
            (self.sellers, resellers, Account),
        ]
        # A product's maker never changes: once known, the makers, the authorizations and
        # what `along` asks are read with the rest, else in a second read. Choosing only looks.
        known = {self._makers.get(p) for p in product_ids}
        if None in known:
            products, offers, terms, accounts = read_together(first, read_only=True)
            manufacturers = {p.manufacturer_id for p in products.values() if isinstance(p, Product)}
            then = read_together(self._second(manufacturers, resellers) + more, read_only=True)
        else:
            manufacturers = {m for m in known if m is not None}
            second = self._second(manufacturers, resellers)
            products, offers, terms, accounts, *then = read_together(
                first + second + more, read_only=True
            )
        self._products.update({p: _of(products.get(p), Product) for p in product_ids})
        self._makers.learn(
            (p.id, p.manufacturer_id) for p in self._products.values() if p is not None
        )
        self._offers.update(
            {offer_id(r, p): _of(offers.get(offer_id(r, p)), Offer) for r, p in pairs}
        )
        self._terms.update(
            {(r, buyer_id): _of(terms.get(terms_id(r, buyer_id)), CustomerTerms) for r in resellers}
        )
        self._accounts.update({a: _of(accounts.get(a), Account) for a in resellers})
        makers, found, *alongside = then
        if along is not None:
            self.along = (chosen_among, alongside)
        self._accounts.update({m: _of(makers.get(m), Account) for m in manufacturers})
        self._authorizations.update(
            {
                (m, r): _of(found.get(authorization_id(m, r)), Authorization)
                for m in manufacturers
                for r in resellers
            }
        )

    def _second(self, manufacturers: set[UUID], resellers: set[UUID]) -> list[Read]:
        keys = [authorization_id(m, r) for m in manufacturers for r in resellers]
        return [(self.sellers, manufacturers, Account), (self.sellers, keys, Authorization)]

    def candidates(self, buyer_id: UUID, product_id: UUID, only: UUID | None) -> list[UUID]:
        if only is not None:
            return [only]
        if product_id not in self._candidates:
            self._candidates.update(self._candidates_of(buyer_id, [product_id]))
        return self._candidates.get(product_id, [])

    def product(self, product_id: UUID) -> Product | None:
        if product_id not in self._products:
            self._products[product_id] = self.offers.find(product_id, Product)
        return self._products[product_id]

    def offer(self, reseller_id: UUID, product_id: UUID) -> Offer | None:
        key = offer_id(reseller_id, product_id)
        if key not in self._offers:
            self._offers[key] = self.offers.find(key, Offer)
        return self._offers[key]

    def account(self, account_id: UUID) -> Account | None:
        if account_id not in self._accounts:
            self._accounts[account_id] = self.sellers.account(account_id)
        return self._accounts[account_id]

    def commission_bps(self, reseller_id: UUID) -> int:
        """The rate the marketplace takes on this reseller's orders, as set now."""
        account = self.account(reseller_id)
        if not isinstance(account, Reseller):
            raise NotFound(f"unknown reseller {reseller_id}")
        return account.commission_bps

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
        self.makers: Facts[UUID, UUID] = Facts()

    def lookups(self) -> Lookups:
        return Lookups(self.sellers, self.offers, self.candidates, self.makers)

    def _visible(
        self, seen: Lookups, buyer_id: UUID, product: Product, reseller_id: UUID
    ) -> tuple[Offer, CustomerTerms] | None:
        offer = seen.offer(reseller_id, product.id)
        if offer is None:
            return None
        reseller = seen.account(reseller_id)
        manufacturer = seen.account(product.manufacturer_id)
        terms = seen.terms(reseller_id, buyer_id)
        if terms is None or not visible(
            offer,
            product,
            terms,
            seen.authorization(product.manufacturer_id, reseller_id),
            reseller is not None and reseller.is_approved,
            manufacturer is not None and manufacturer.is_approved,
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
        product = seen.product(pid)
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
            resellers = seen.candidates(buyer_id, pid, only_reseller)
        visible = []
        for reseller_id in resellers:
            if reseller_id in excluded:
                continue
            found = self._visible(seen, buyer_id, product, reseller_id)
            if found is not None:
                visible.append(found)
        candidates = [
            Candidate(
                (offer, terms),
                str(offer.reseller_id),
                contract_price(product, offer, terms, request.quantity).amount,
                offer.lead_time_days,
                offer.min_order_qty,
                offer.stock,
                frozenset(terms.payment_methods),
            )
            for offer, terms in visible
        ]
        chosen = choose(candidates, request.quantity, payment_method)
        if isinstance(chosen, Unavailable):
            msg, reason = REFUSALS[chosen.why]
            return problem(
                index, pid, msg.format(method=payment_method, figure=chosen.figure), reason
            )
        offer, terms = chosen.held
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


def _of(found: object, cls: type[T]) -> T | None:
    return found if isinstance(found, cls) else None
