"""The quote's state machine on its own: every legal move, and every illegal one refused
(409) without a change."""

from collections.abc import Callable
from uuid import uuid4

import pytest

from marketplace.kernel.errors import Conflict, Invalid
from orders.quoting.domain import Quote

NOW = "2027-05-10T09:00:00+00:00"
LATER = "2027-05-20T09:00:00+00:00"
P1, P2 = str(uuid4()), str(uuid4())


def quote() -> Quote:
    lines = [{"product_id": P1, "quantity": 100}, {"product_id": P2, "quantity": 10}]
    return Quote(uuid4(), "user", uuid4(), lines, "big job", "2027-06-01")


def priced(*pids: str) -> list[dict[str, object]]:
    return [
        {"product_id": p, "quantity": 100, "unit_price": 900, "lead_time_days": 5} for p in pids
    ]


def test_two_versions_then_accepted() -> None:
    q = quote()
    assert q.status(NOW) == "submitted"
    q.offer(priced(P1, P2), LATER, "first", NOW)
    q.renegotiate("cheaper?", NOW)
    assert q.status(NOW) == "renegotiation_requested"
    q.offer(priced(P1), LATER, "second", NOW)
    assert (q.status(NOW), q.offer_version) == ("offered", 2)
    order_id = uuid4()
    assert q.accept(order_id, NOW) == priced(P1)
    assert (q.status(NOW), q.order_id) == ("ordered", order_id)
    assert [v["comment"] for v in q.versions] == ["first", "second"]


def test_an_offer_past_its_valid_to_is_expired_and_cannot_be_accepted() -> None:
    q = quote()
    q.offer(priced(P1), LATER, None, NOW)
    after = "2027-05-21T00:00:00+00:00"
    assert q.status(after) == "expired"
    for move in (
        lambda: q.accept(uuid4(), after),
        lambda: q.renegotiate(None, after),
        lambda: q.decline(None, after),
        lambda: q.withdraw(None, after),
    ):
        with pytest.raises(Conflict):
            move()
    assert q.stage == "offered"


@pytest.mark.parametrize(
    ("stage_moves", "illegal"),
    [
        ([], ["accept", "renegotiate", "decline", "withdraw"]),
        (["offer"], ["offer", "reject"]),
        (["offer", "renegotiate"], ["accept", "renegotiate", "decline", "withdraw"]),
        (
            ["offer", "accept"],
            ["offer", "accept", "renegotiate", "cancel", "decline", "reject", "withdraw"],
        ),
        (["cancel"], ["offer", "accept", "renegotiate", "cancel", "decline", "reject", "withdraw"]),
        (["reject"], ["offer", "accept", "renegotiate", "cancel", "decline", "reject", "withdraw"]),
        (
            ["offer", "decline"],
            ["offer", "accept", "renegotiate", "cancel", "decline", "reject", "withdraw"],
        ),
        (
            ["offer", "withdraw"],
            ["offer", "accept", "renegotiate", "cancel", "decline", "reject", "withdraw"],
        ),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(
    stage_moves: list[str], illegal: list[str]
) -> None:
    q = quote()
    moves: dict[str, Callable[[], object]] = {
        "offer": lambda: q.offer(priced(P1), LATER, None, NOW),
        "accept": lambda: q.accept(uuid4(), NOW),
        "renegotiate": lambda: q.renegotiate(None, NOW),
        "cancel": lambda: q.cancel(None, NOW),
        "decline": lambda: q.decline(None, NOW),
        "reject": lambda: q.reject(None, NOW),
        "withdraw": lambda: q.withdraw(None, NOW),
    }
    for move in stage_moves:
        moves[move]()
    before = (q.stage, q.offer_version, len(q.thread))
    for move in illegal:
        with pytest.raises(Conflict):
            moves[move]()
        assert (q.stage, q.offer_version, len(q.thread)) == before


def test_an_offer_prices_requested_products_once_each_and_is_valid_for_some_time() -> None:
    q = quote()
    with pytest.raises(Invalid):
        q.offer(priced(str(uuid4())), LATER, None, NOW)
    with pytest.raises(Invalid):
        q.offer(priced(P1, P1), LATER, None, NOW)
    with pytest.raises(Invalid):
        q.offer([], LATER, None, NOW)
    with pytest.raises(Invalid):
        q.offer(priced(P1), NOW, None, NOW)
    assert q.stage == "submitted"


def test_a_failed_order_puts_the_offer_back() -> None:
    q = quote()
    q.offer(priced(P1), LATER, None, NOW)
    q.accept(uuid4(), NOW)
    q.order_failed("not enough stock", NOW)
    assert (q.status(NOW), q.order_id) == ("offered", None)
