"""Placing is one transaction of both event logs: a process dying at any step boundary of it
leaves the whole order or nothing, and a retry with the same Idempotency-Key places it
exactly once. The death is a BaseException raised at the boundary, with nothing after it
run: no rollback of our own, no key given back."""

import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.sql import SQL, Identifier

from marketplace.adapters.idempotency import IdempotencyStore
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.world import World, small_market

pytestmark = pytest.mark.parametrize("settings", ["postgres"], indirect=True)

STOCK = 50
CREDIT = 10_000


class Died(Exception):
    """The process stopping where it stands: nothing of ours runs after it (the key is not
    given back, see `_nothing_given_back`); its client sees the request fail."""


@pytest.fixture
def shop(world: World, marketplace: Marketplace) -> dict[str, Any]:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL")
    saw = world.product(m.acme, "SAW")
    world.offer(m.rhine, drill, 1_000, stock=STOCK)
    world.offer(m.danube, saw, 1_000, stock=STOCK)
    world.terms(m.rhine, m.muster, payment_methods=["invoice_net_30"], credit_limit=CREDIT)
    world.terms(m.danube, m.muster, payment_methods=["invoice_net_30"], credit_limit=CREDIT)
    world.catalog(m.muster)
    return {"m": m, "drill": drill, "saw": saw}


def _dying(marketplace: Marketplace, shop: dict[str, Any], key: str) -> None:
    """The order, from a client whose request the death cuts off."""
    with TestClient(create_app(marketplace), raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/buyer/orders",
            json=_body(shop),
            headers={**shop["m"].muster.headers, "Idempotency-Key": key},
        )
    assert response.status_code == 500


def _body(shop: dict[str, Any]) -> dict[str, Any]:
    return {
        "lines": [
            {"product_id": shop["drill"], "quantity": 3},
            {"product_id": shop["saw"], "quantity": 2},
        ],
        "payment_method": "invoice_net_30",
    }


def _order(world: World, shop: dict[str, Any], key: str) -> Any:
    return world.call(
        "POST",
        "/v1/buyer/orders",
        shop["m"].muster,
        json=_body(shop),
        headers={"Idempotency-Key": key},
    )


def _state(world: World, marketplace: Marketplace, shop: dict[str, Any]) -> dict[str, Any]:
    m = shop["m"]
    offers = marketplace.offers
    # Read after everything stored, whoever stored it.
    world.position = marketplace.position_token()
    listed = world.view("/v1/buyer/orders", m.muster)
    assert listed.status_code == 200, listed.text
    orders = listed.json()["items"]
    credit = [offers.terms(UUID(seller.id), UUID(m.muster.id)) for seller in (m.rhine, m.danube)]
    return {
        "orders": sorted(o["order_id"] for o in orders),
        "stock": [
            offers.offer(UUID(m.rhine.id), UUID(shop["drill"])).stock,
            offers.offer(UUID(m.danube.id), UUID(shop["saw"])).stock,
        ],
        "credit": [t.credit_exposure if t else None for t in credit],
    }


def _dies_at(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, when: Callable[..., bool]
) -> None:
    """`owner.name` dies when `when(*args)` says so, else runs as before."""
    original = getattr(owner, name)

    def patched(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            raise Died(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)


def _nothing_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dead process frees no Idempotency-Key; the claim goes stale instead."""
    monkeypatch.setattr(IdempotencyStore, "abandon", lambda *args: None)


def _stale(marketplace: Marketplace) -> None:
    with marketplace.idempotency.db.transaction() as cur:
        cur.execute("UPDATE idempotency SET started_at = started_at - 3600")


NOTHING = {"orders": [], "stock": [STOCK, STOCK], "credit": [0, 0]}


def _placed_once(world: World, marketplace: Marketplace, shop: dict[str, Any]) -> str:
    state = _state(world, marketplace, shop)
    assert len(state["orders"]) == 1
    assert state["stock"] == [STOCK - 3, STOCK - 2]
    assert state["credit"] == [3_000, 2_000]
    order_id: str = state["orders"][0]
    return order_id


def test_a_death_before_the_transaction_leaves_nothing_and_the_retry_places_once(
    world: World, marketplace: Marketplace, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _nothing_given_back(monkeypatch)
    placement = marketplace.placement
    save = placement.save_together
    assert save is not None, "PostgreSQL places in one transaction"
    _dies_at(monkeypatch, placement, "save_together", lambda *args: True)
    _dying(marketplace, shop, "k-before")
    assert _state(world, marketplace, shop) == NOTHING
    monkeypatch.setattr(placement, "save_together", save)
    _stale(marketplace)
    first = _order(world, shop, "k-before")
    assert first.status_code == 201, first.text
    assert _placed_once(world, marketplace, shop) == first.json()["order_id"]


def test_a_death_between_the_two_logs_inside_the_statement_leaves_nothing(
    world: World, marketplace: Marketplace, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order's one statement records the offers' log, then waits for the orders' log,
    which another transaction holds; the process dies there. PostgreSQL sees a process die
    as its connection ending, which is how it dies here."""
    _nothing_given_back(monkeypatch)
    url, schema = marketplace.settings.database_url, marketplace.settings.database_schema
    # Its first check of the catalog's freshness indexes the orders' log, which the lock
    # below would hold up.
    marketplace.placement.catch_up()
    with (
        psycopg.connect(url, autocommit=True) as holder,
        psycopg.connect(url, autocommit=True) as watcher,
    ):
        holder.execute("BEGIN")
        holder.execute(
            SQL("LOCK TABLE {}.orders_events IN EXCLUSIVE MODE").format(
                Identifier(schema or "public")
            )
        )
        dying = threading.Thread(target=_dying, args=(marketplace, shop, "k-between"))
        dying.start()
        waiting = _waiting_for_a_lock(watcher, "orders_events_record")
        held = watcher.execute(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = %s AND l.granted AND l.mode = 'ExclusiveLock' "
            "AND c.relname LIKE '%%_events'",
            [waiting],
        ).fetchall()
        assert held == [("offers_events",)]
        watcher.execute("SELECT pg_terminate_backend(%s)", [waiting])
        holder.execute("ROLLBACK")
        dying.join(timeout=60)
    assert not dying.is_alive()
    assert _state(world, marketplace, shop) == NOTHING
    _stale(marketplace)
    again = _order(world, shop, "k-between")
    assert again.status_code == 201, again.text
    assert _placed_once(world, marketplace, shop) == again.json()["order_id"]


def _waiting_for_a_lock(watcher: psycopg.Connection[Any], running: str) -> int:
    """The backend whose statement, calling `running`, waits for a lock."""
    for _ in range(600):
        row = watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND position(%s in query) > 0",
            [running],
        ).fetchone()
        if row is not None:
            pid: int = row[0]
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no statement calling {running} waited for a lock")


def test_a_death_after_the_commit_before_the_answer_is_kept_answers_the_same_order(
    world: World, marketplace: Marketplace, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _nothing_given_back(monkeypatch)
    _dies_at(monkeypatch, IdempotencyStore, "finish", lambda *args: True)
    _dying(marketplace, shop, "k-after")
    monkeypatch.undo()
    placed = _placed_once(world, marketplace, shop)
    # While the claim is fresh, the retry is told the first is under way.
    assert _order(world, shop, "k-after").status_code == 409
    _stale(marketplace)
    again = _order(world, shop, "k-after")
    assert again.status_code == 201, again.text
    assert again.json()["order_id"] == placed
    assert {so["status"] for so in again.json()["seller_orders"]} == {"awaiting_acceptance"}
    assert _placed_once(world, marketplace, shop) == placed
    # And the kept answer is given from now on.
    assert _order(world, shop, "k-after").json()["order_id"] == placed


def test_a_conflict_inside_the_transaction_is_tried_again_whole(
    world: World, marketplace: Marketplace, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent change to one offer between the order's reads and its save (here a
    seller's stock update) fails the whole save; it is tried again on fresh state, once."""
    m = shop["m"]
    placement = marketplace.placement
    save = placement.save_together
    assert save is not None
    saves: list[int] = []

    def seller_moves_first(saves_: Any) -> None:
        saves.append(1)
        if len(saves) == 1:
            marketplace.offers.set_stock(UUID(m.rhine.id), UUID(shop["drill"]), STOCK + 10)
        save(saves_)

    monkeypatch.setattr(placement, "save_together", seller_moves_first)
    placed = _order(world, shop, "k-conflict")
    assert placed.status_code == 201, placed.text
    assert len(saves) == 2
    state = _state(world, marketplace, shop)
    assert state["stock"] == [STOCK + 10 - 3, STOCK - 2]
    assert len(state["orders"]) == 1


def test_holds_refused_on_what_this_process_kept_are_tried_on_what_is_stored(
    world: World, marketplace: Marketplace, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Placement holds stock on the offers as this process last knew them. Between choosing
    and holding, an order here takes the drill's stock down to 1 and another process
    restocks it: the order is not refused on what this process knew, but placed on what is
    stored."""
    m = shop["m"]
    reseller, drill = UUID(m.rhine.id), UUID(shop["drill"])
    holds = marketplace.placement.holds
    held = holds.held
    elsewhere = Marketplace(marketplace.settings)

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        if marketplace.offers.offer(reseller, drill).stock == STOCK:
            marketplace.offers.set_stock(reseller, drill, 1)
            elsewhere.offers.set_stock(reseller, drill, STOCK + 10)
        return held(*args, **kwargs)

    monkeypatch.setattr(holds, "held", meanwhile)
    try:
        placed = _order(world, shop, "k-restocked")
    finally:
        elsewhere.close()
    assert placed.status_code == 201, placed.text
    state = _state(world, marketplace, shop)
    assert state["stock"] == [STOCK + 10 - 3, STOCK - 2]
    assert len(state["orders"]) == 1
