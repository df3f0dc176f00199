"""The budget ledger on its own: every move it refuses or ignores, and figures that are
always the sums of its entries."""

from uuid import UUID, uuid4

import pytest

from marketplace.kernel.errors import Conflict, Invalid
from marketplace.kernel.money import Money
from orders.budgets import Budget, BudgetBook, BudgetExceeded

DAY = "2027-05-10"


def budget(enforcement: str = "block", amount: int = 100) -> Budget:
    return Budget(uuid4(), uuid4(), Money(amount, "EUR"), "2027-05-01", "2027-05-31", enforcement)  # type: ignore[arg-type]


def figures(b: Budget) -> tuple[int, int, int]:
    return b.reserved, b.consumed, b.remaining


def test_a_block_budget_refuses_an_order_beyond_what_remains_and_records_nothing() -> None:
    b = budget("block", 100)
    order, so = uuid4(), uuid4()
    assert b.reserve(order, [(so, 60)], DAY, enforce=True) is False
    with pytest.raises(BudgetExceeded, match=r"0\.40 EUR remains"):
        b.reserve(uuid4(), [(uuid4(), 41)], DAY, enforce=True)
    assert figures(b) == (60, 0, 40)
    assert len(b.entries) == 1


def test_reserving_the_same_seller_order_twice_counts_it_once() -> None:
    b = budget()
    order, so = uuid4(), uuid4()
    b.reserve(order, [(so, 30)], DAY, enforce=True)
    b.reserve(order, [(so, 30)], DAY, enforce=True)
    assert figures(b) == (30, 0, 70)


def test_releasing_or_consuming_what_was_never_reserved_or_is_gone_changes_nothing() -> None:
    b = budget()
    order, so, stranger = uuid4(), uuid4(), uuid4()
    b.release(order, stranger, DAY)
    b.consume(order, stranger, DAY)
    assert b.entries == []
    b.reserve(order, [(so, 30)], DAY, enforce=True)
    b.release(order, so, DAY)
    b.release(order, so, DAY)
    b.consume(order, so, DAY)
    assert figures(b) == (0, 0, 100)
    assert [e["kind"] for e in b.entries] == ["reserve", "release"]


def test_consumed_is_consumed_once_and_a_credit_note_gives_back_at_most_what_was_spent() -> None:
    b = budget()
    order, so, note = uuid4(), uuid4(), uuid4()
    b.reserve(order, [(so, 30)], DAY, enforce=True)
    b.consume(order, so, DAY)
    b.consume(order, so, DAY)
    b.release(order, so, DAY)
    assert figures(b) == (0, 30, 70)
    b.give_back(order, note, 50, DAY)
    b.give_back(order, note, 50, DAY)
    assert figures(b) == (0, 0, 100)


def test_other_enforcements_place_over_budget_and_flag_it() -> None:
    for enforcement in ("require_approval", "warn"):
        b = budget(enforcement, 10)
        assert b.reserve(uuid4(), [(uuid4(), 25)], DAY, enforce=True) is True
        assert figures(b) == (25, 0, -15)
        assert b.entries[0]["over"] is True
    rerouted = budget("block", 10)
    assert rerouted.reserve(uuid4(), [(uuid4(), 25)], DAY, enforce=False) is True


def test_bad_terms_and_overlapping_budgets_are_refused() -> None:
    with pytest.raises(Invalid):
        Budget.check_figures(Money(0, "EUR"), "2027-05-01", "2027-05-31", "block")
    with pytest.raises(Invalid):
        Budget.check_figures(Money(10, "EUR"), "2027-05-31", "2027-05-01", "block")
    with pytest.raises(Invalid):
        Budget.check_figures(Money(10, "EUR"), "2027-05-01", "2027-05-31", "maybe")
    book = BudgetBook(uuid4())
    book.add(UUID(int=1), "EUR", "2027-05-01", "2027-05-31")
    with pytest.raises(Conflict):
        book.add(UUID(int=2), "EUR", "2027-05-31", "2027-06-30")
    book.add(UUID(int=3), "USD", "2027-05-01", "2027-05-31")
    book.add(UUID(int=4), "EUR", "2027-06-01", "2027-06-30")
    assert book.covering("2027-06-15", "EUR") == UUID(int=4)
    assert book.covering("2027-07-01", "EUR") is None
