"""Budgets per cost centre: an amount in one currency over a period, spent as a ledger.

Placing reserves, delivery consumes, a refused, cancelled or rejected seller order releases,
a credit note gives back. Every figure is a sum over the entries; none is stored.
"""

from datetime import date
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from marketplace.kernel.errors import Conflict, CreditExceeded, Invalid
from marketplace.kernel.money import Money

Enforcement = Literal["block", "require_approval", "warn"]
ENFORCEMENTS: tuple[Enforcement, ...] = ("block", "require_approval", "warn")
_NS = uuid5(NAMESPACE_URL, "marketplace:budgets")


def _decimal(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


class BudgetExceeded(CreditExceeded):
    """An order beyond a `block` budget: 402, with what remains."""


class BudgetBook(Aggregate):
    """A cost centre's budgets, to find the one covering a day without a view."""

    @staticmethod
    def create_id(cost_centre_id: UUID) -> UUID:
        return uuid5(_NS, f"book:{cost_centre_id}")

    @event("Opened")
    def __init__(self, cost_centre_id: UUID) -> None:
        self.cost_centre_id = cost_centre_id
        self.budgets: dict[str, dict[str, str]] = {}

    def add(self, budget_id: UUID, currency: str, starts_on: str, ends_on: str) -> None:
        for other in self.budgets.values():
            overlaps = starts_on <= other["ends_on"] and other["starts_on"] <= ends_on
            if other["currency"] == currency and overlaps:
                raise Conflict(
                    f"this cost centre has a {currency} budget from {other['starts_on']} to "
                    f"{other['ends_on']} already"
                )
        self._added(
            budget_id=str(budget_id), currency=currency, starts_on=starts_on, ends_on=ends_on
        )

    @event("BudgetAdded")
    def _added(self, budget_id: str, currency: str, starts_on: str, ends_on: str) -> None:
        self.budgets[budget_id] = {"currency": currency, "starts_on": starts_on, "ends_on": ends_on}

    def covering(self, day: str, currency: str) -> UUID | None:
        for budget_id, period in self.budgets.items():
            if period["currency"] == currency and period["starts_on"] <= day <= period["ends_on"]:
                return UUID(budget_id)
        return None


class BudgetIndex(Aggregate):
    """Every budget there is, for the sweep that settles what a crash left open."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(_NS, "index")

    @event("Started")
    def __init__(self) -> None:
        self.budget_ids: list[UUID] = []

    def add(self, budget_id: UUID) -> None:
        if budget_id not in self.budget_ids:
            self._added(budget_id=budget_id)

    @event("BudgetAdded")
    def _added(self, budget_id: UUID) -> None:
        self.budget_ids.append(budget_id)


class Budget(Aggregate):
    @event("Set")
    def __init__(
        self,
        buyer_id: UUID,
        cost_centre_id: UUID,
        amount: Money,
        starts_on: str,
        ends_on: str,
        enforcement: Enforcement,
    ) -> None:
        self.buyer_id = buyer_id
        self.cost_centre_id = cost_centre_id
        self.amount = amount
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.enforcement = enforcement
        self.entries: list[dict[str, Any]] = []

    @staticmethod
    def check_figures(amount: Money, starts_on: str, ends_on: str, enforcement: str) -> None:
        if amount.amount < 1:
            raise Invalid("a budget is a positive amount")
        if date.fromisoformat(ends_on) < date.fromisoformat(starts_on):
            raise Invalid("a budget ends on or after the day it starts")
        if enforcement not in ENFORCEMENTS:
            raise Invalid(f"enforcement is one of {', '.join(ENFORCEMENTS)}")

    def _sum(self, kind: str) -> int:
        return sum(int(e["amount"]) for e in self.entries if e["kind"] == kind)

    @property
    def reserved(self) -> int:
        return self._sum("reserve") - self._sum("release") - self._sum("consume")

    @property
    def consumed(self) -> int:
        return self._sum("consume") - self._sum("credit")

    @property
    def remaining(self) -> int:
        return self.amount.amount - self.reserved - self.consumed

    def open_seller_orders(self) -> list[UUID]:
        """Seller orders whose reservation is neither released nor consumed."""
        held: dict[str, int] = {}
        for e in self.entries:
            key = e.get("seller_order_id")
            if key:
                held[key] = held.get(key, 0) + (
                    int(e["amount"]) if e["kind"] == "reserve" else -int(e["amount"])
                )
        return [UUID(k) for k, v in held.items() if v > 0]

    def reserved_for(self, seller_order_id: UUID) -> bool:
        return self._has("reserve", str(seller_order_id))

    def went_over(self, order_id: UUID) -> bool:
        return any(e["order_id"] == str(order_id) and e["over"] for e in self.entries)

    def _open(self, seller_order_id: UUID) -> int:
        """What a seller order holds reserved: reserved, not yet released nor consumed."""
        key = str(seller_order_id)
        held = 0
        for e in self.entries:
            if e.get("seller_order_id") == key:
                held += int(e["amount"]) if e["kind"] == "reserve" else -int(e["amount"])
        return held

    def _has(self, kind: str, ref: str) -> bool:
        return any(e["kind"] == kind and e.get("ref") == ref for e in self.entries)

    def reserve(
        self, order_id: UUID, seller_orders: list[tuple[UUID, int]], at: str, enforce: bool
    ) -> bool:
        """Reserves an order's seller orders; returns whether it goes over the budget. A
        `block` budget refuses it (402) when `enforce`; reroutes are not refused."""
        total = sum(amount for _, amount in seller_orders)
        over = total > self.remaining
        if over and enforce and self.enforcement == "block":
            currency = self.amount.currency
            raise BudgetExceeded(
                f"the order needs {_decimal(total)} {currency} of the cost centre's budget; "
                f"{_decimal(max(self.remaining, 0))} {currency} remains"
            )
        for so_id, amount in seller_orders:
            if not self._has("reserve", str(so_id)):
                self._entry(
                    kind="reserve",
                    amount=amount,
                    order_id=str(order_id),
                    seller_order_id=str(so_id),
                    ref=str(so_id),
                    at=at,
                    over=over,
                )
        return over

    def release(self, order_id: UUID, seller_order_id: UUID, at: str) -> None:
        self._close("release", order_id, seller_order_id, at)

    def consume(self, order_id: UUID, seller_order_id: UUID, at: str) -> None:
        self._close("consume", order_id, seller_order_id, at)

    def _close(self, kind: str, order_id: UUID, seller_order_id: UUID, at: str) -> None:
        """Ends a seller order's reservation, released or consumed; once."""
        held = self._open(seller_order_id)
        if held > 0:
            self._entry(
                kind=kind,
                amount=held,
                order_id=str(order_id),
                seller_order_id=str(seller_order_id),
                ref=f"{kind}:{seller_order_id}",
                at=at,
                over=False,
            )

    def give_back(self, order_id: UUID, credit_note_id: UUID, amount: int, at: str) -> None:
        if amount > 0 and not self._has("credit", str(credit_note_id)):
            self._entry(
                kind="credit",
                amount=min(amount, self.consumed),
                order_id=str(order_id),
                seller_order_id=None,
                ref=str(credit_note_id),
                at=at,
                over=False,
            )

    @event("Entry")
    def _entry(
        self,
        kind: str,
        amount: int,
        order_id: str,
        seller_order_id: str | None,
        ref: str,
        at: str,
        over: bool,
    ) -> None:
        self.entries.append(
            {
                "kind": kind,
                "amount": amount,
                "order_id": order_id,
                "seller_order_id": seller_order_id,
                "ref": ref,
                "at": at,
                "over": over,
            }
        )

    def describe(self) -> dict[str, Any]:
        currency = self.amount.currency

        def money(amount: int) -> dict[str, Any]:
            return {"amount": amount, "currency": currency}

        return {
            "budget_id": str(self.id),
            "cost_centre_id": str(self.cost_centre_id),
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
            "enforcement": self.enforcement,
            "amount": self.amount.as_dict(),
            "reserved": money(self.reserved),
            "consumed": money(self.consumed),
            "remaining": money(self.remaining),
            "entries": [
                {
                    "kind": e["kind"],
                    "amount": money(int(e["amount"])),
                    "order_id": e["order_id"],
                    "seller_order_id": e["seller_order_id"],
                    "at": e["at"],
                    "over_budget": e["over"],
                }
                for e in self.entries
            ],
        }
