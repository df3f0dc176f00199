"""Webhooks (api.md v1.2) against a real HTTP receiver that verifies signatures with the
Standard Webhooks package, in both runtime modes: each subscriber gets only its own
account's events, in order per aggregate; failures are retried; a delivery is retried by
hand; events are replayed; a deleted subscription gets nothing more; an endpoint failing
too long is disabled and its admins get a mail."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from marketplace.platform import Marketplace
from tests.receiver import Receiver
from tests.world import Actor, Market, World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "kafka"], indirect=True)
PASSWORD = "a long enough password"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    box.start()
    yield box
    box.stop()


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPLACE_WEBHOOKS_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("MARKETPLACE_WEBHOOK_RETRY_S", "0.2")
    monkeypatch.setenv("MARKETPLACE_WEBHOOK_POLL_S", "0.1")


def subscribe(world: World, receiver: Receiver, actor: Actor, path: str, events: list[str]) -> str:
    made = world.ok(
        "POST", "/v1/webhooks", actor, json={"url": receiver.url(path), "events": events}
    )
    assert made["secret"].startswith("whsec_")
    receiver.secrets[path] = made["secret"]
    return str(made["webhook_id"])


def trade(world: World, m: Market) -> tuple[str, str, str]:
    """Muster orders from Rhine and from Danube; Rhine accepts and ships its part.
    Returns (order id, Rhine's seller order id, Danube's seller order id)."""
    valve = world.product(m.acme, "VALVE", 2_000)
    pump = world.product(m.acme, "PUMP", 9_000)
    world.offer(m.rhine, valve, 2_000)
    world.offer(m.danube, pump, 9_000)
    world.terms(m.rhine, m.muster, discount_bps=700)
    world.terms(m.danube, m.muster, discount_bps=300)
    placed = world.ok(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={
            "lines": [
                {"product_id": valve, "quantity": 3, "reseller_id": m.rhine.id},
                {"product_id": pump, "quantity": 1, "reseller_id": m.danube.id},
            ],
            "payment_method": "card",
        },
    )
    ids = {so["reseller_id"]: so["seller_order_id"] for so in placed["seller_orders"]}
    rhine_so, danube_so = ids[m.rhine.id], ids[m.danube.id]
    world.ok("POST", f"/v1/reseller/orders/{rhine_so}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{rhine_so}/ship", m.rhine, json={"tracking": "T-1"})
    return placed["order_id"], rhine_so, danube_so


def types(found: list[Any]) -> list[str]:
    return [r.event["type"] for r in found]


def test_each_subscriber_gets_its_own_accounts_events_signed_and_in_order(
    world: World, receiver: Receiver
) -> None:
    m = small_market(world)
    rhine_hook = subscribe(world, receiver, m.rhine, "/rhine", ["SellerOrder.*", "Invoice.*"])
    subscribe(world, receiver, m.danube, "/danube", ["*"])
    subscribe(world, receiver, m.muster, "/muster", ["Order.*"])
    subscribe(world, receiver, m.bolt, "/bolt", ["*"])
    subscribe(world, receiver, world.operator, "/operator", ["SellerOrder.Shipped"])
    order_id, rhine_so, danube_so = trade(world, m)

    rhine = receiver.wait_for(
        "/rhine", lambda f: {"SellerOrder.Shipped", "Invoice.Issued"} <= set(types(f))
    )
    assert all(r.verified for r in rhine)
    assert {
        r.event["aggregate_id"] for r in rhine if r.event["type"].startswith("SellerOrder")
    } == {rhine_so}
    # Every event of the seller order, in the order of its versions, as they arrived.
    ours = [r.event for r in rhine if r.event["aggregate_id"] == rhine_so]
    assert [e["aggregate_version"] for e in ours] == list(range(1, len(ours) + 1))
    assert ours[0]["type"] == "SellerOrder.Opened"
    assert all(r.webhook_id == r.event["event_id"] for r in rhine)
    # Nothing about Danube's part, its prices or its buyer terms reaches Rhine.
    text = " ".join(str(r.event) for r in rhine)
    assert danube_so not in text
    assert m.danube.id not in text

    danube = receiver.wait_for("/danube", lambda f: "SellerOrder.Opened" in types(f))
    assert rhine_so not in " ".join(str(r.event) for r in danube)
    assert "Order.Drafted" not in types(danube)  # the buyer's whole order is the buyer's
    muster = receiver.wait_for("/muster", lambda f: "Order.Placed" in types(f))
    assert {r.event["aggregate_id"] for r in muster} == {order_id}
    shipped = receiver.wait_for("/operator", lambda f: len(f) >= 1)
    assert [r.event["aggregate_id"] for r in shipped] == [rhine_so]

    time.sleep(0.5)
    assert receiver.at("/bolt") == []
    assert [r.event["type"] for r in receiver.at("/operator")] == ["SellerOrder.Shipped"]
    log = world.ok("GET", f"/v1/webhooks/{rhine_hook}/deliveries", m.rhine)["items"]
    assert {d["status"] for d in log} == {"delivered"}
    assert all(d["last_status_code"] == 204 for d in log)


def test_a_failing_endpoint_is_retried_and_a_failed_delivery_retried_by_hand(
    world: World, receiver: Receiver, marketplace: Marketplace
) -> None:
    m = small_market(world)
    receiver.failing["/rhine"] = 3
    hook = subscribe(world, receiver, m.rhine, "/rhine", ["SellerOrder.Accepted"])
    _, rhine_so, _ = trade(world, m)
    [got] = receiver.wait_for("/rhine", lambda f: len(f) == 1)
    assert got.event["aggregate_id"] == rhine_so
    [logged] = world.ok("GET", f"/v1/webhooks/{hook}/deliveries", m.rhine)["items"]
    assert logged["status"] == "delivered"
    assert logged["attempts"] == 4
    assert world.ok("GET", f"/v1/webhooks/{hook}", m.rhine)["failing_since"] is None

    # Given up at once from now on: the next one fails, and is retried by hand.
    marketplace.settings.webhook_give_up_after_s = 0.0
    receiver.always_failing.add("/rhine")
    hook2 = subscribe(world, receiver, m.rhine, "/rhine", ["SellerOrder.Delivered"])
    world.ok("POST", f"/v1/reseller/orders/{rhine_so}/deliver", m.rhine)
    failed = wait_status(world, m.rhine, hook2, "failed")
    assert failed["last_status_code"] == 503
    receiver.always_failing.discard("/rhine")
    marketplace.settings.webhook_give_up_after_s = 3600.0
    answer = world.call(
        "POST", f"/v1/webhooks/{hook2}/deliveries/{failed['delivery_id']}/retry", m.rhine
    )
    assert answer.status_code == 202
    receiver.wait_for("/rhine", lambda f: "SellerOrder.Delivered" in types(f))
    assert wait_status(world, m.rhine, hook2, "delivered")["attempts"] == 2
    # Another account cannot see or retry it.
    assert world.call("GET", f"/v1/webhooks/{hook2}/deliveries", m.danube).status_code == 404


def wait_status(world: World, actor: Actor, hook: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        items = world.ok(
            "GET", f"/v1/webhooks/{hook}/deliveries", actor, params={"status": status}
        )["items"]
        if items:
            return dict(items[0])
        assert time.monotonic() < deadline, f"no {status} delivery"
        time.sleep(0.1)


def test_replay_delivers_again_and_a_deleted_subscription_gets_nothing_more(
    world: World, receiver: Receiver
) -> None:
    m = small_market(world)
    since = datetime.now(UTC).isoformat()
    hook = subscribe(world, receiver, m.rhine, "/rhine", ["SellerOrder.*"])
    _, rhine_so, _ = trade(world, m)
    first = receiver.wait_for("/rhine", lambda f: "SellerOrder.Shipped" in types(f))
    count = len(first)
    answer = world.call("POST", f"/v1/webhooks/{hook}/replay", m.rhine, json={"since": since})
    assert answer.status_code == 202
    again = receiver.wait_for("/rhine", lambda f: len(f) >= 2 * count)
    ids = [r.webhook_id for r in again]
    assert sorted(ids[:count]) == sorted(ids[count:])  # the same webhook-id: receivers dedupe
    assert (
        world.call(
            "POST", f"/v1/webhooks/{hook}/replay", m.rhine, json={"since": "yesterday"}
        ).status_code
        == 422
    )

    assert world.call("DELETE", f"/v1/webhooks/{hook}", m.danube).status_code == 404
    assert world.call("DELETE", f"/v1/webhooks/{hook}", m.rhine).status_code == 204
    assert world.call("GET", f"/v1/webhooks/{hook}", m.rhine).status_code == 404
    world.ok("POST", f"/v1/reseller/orders/{rhine_so}/deliver", m.rhine)
    time.sleep(1.0)
    assert "SellerOrder.Delivered" not in types(receiver.at("/rhine"))
    assert len(receiver.at("/rhine")) == 2 * count


def test_urls_to_private_addresses_are_refused_when_saved_and_when_delivered(
    world: World, receiver: Receiver, marketplace: Marketplace
) -> None:
    m = small_market(world)
    # Saved while local addresses are allowed: an https URL to this machine.
    hook = world.ok(
        "POST",
        "/v1/webhooks",
        m.rhine,
        json={"url": f"https://127.0.0.1:{receiver.port}/rhine", "events": ["SellerOrder.*"]},
    )["webhook_id"]
    marketplace.settings.webhooks_allow_private = False
    for url in (
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://224.0.0.1/hook",
        "https://user:pw@example.com/hook",
        "not a url",
    ):
        refused = world.call("POST", "/v1/webhooks", m.rhine, json={"url": url, "events": ["*"]})
        assert refused.status_code == 422, url
    assert len(world.ok("GET", "/v1/webhooks", m.rhine)["items"]) == 1
    # Saved while allowed, refused at delivery once not: nothing reaches the receiver.
    _, _, danube_so = trade(world, m)
    failed = wait_until_attempted(world, m.rhine, hook)
    assert "127.0.0.1" in str(failed["last_error"])
    assert receiver.attempts == 0
    for bad in (
        {"url": receiver.url("/x"), "events": []},
        {"url": receiver.url("/x"), "events": ["Order.**"]},
        {"url": "https://example.com", "events": ["*"], "x": 1},
    ):
        assert world.call("POST", "/v1/webhooks", m.rhine, json=bad).status_code == 422
    user = world.user(m.muster, "buyer")
    assert world.call("GET", "/v1/webhooks", user).status_code == 403
    # A redirect is not followed: the delivery fails, and nothing reaches where it points.
    marketplace.settings.webhooks_allow_private = True
    receiver.redirecting.add("/moved")
    moved = subscribe(world, receiver, m.danube, "/moved", ["SellerOrder.*"])
    world.ok("POST", f"/v1/reseller/orders/{danube_so}/accept", m.danube)
    tried = wait_until_attempted(world, m.danube, moved)
    assert (tried["status"], tried["last_status_code"]) == ("pending", 307)
    assert receiver.at("/elsewhere") == []


def wait_until_attempted(world: World, actor: Actor, hook: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        items = world.ok("GET", f"/v1/webhooks/{hook}/deliveries", actor)["items"]
        tried = [d for d in items if d["attempts"] > 0]
        if tried:
            return dict(tried[0])
        assert time.monotonic() < deadline, "no delivery was attempted"
        time.sleep(0.1)


def test_an_endpoint_failing_too_long_is_disabled_and_its_admins_told(
    world: World, receiver: Receiver, marketplace: Marketplace
) -> None:
    m = small_market(world)
    world.ok(
        "POST",
        "/v1/seller/users",
        m.rhine,
        json={"name": "Ada", "email": "ada@rhine.example", "password": PASSWORD, "role": "admin"},
    )
    marketplace.settings.webhook_disable_after_s = 0.5
    receiver.always_failing.add("/rhine")
    hook = subscribe(world, receiver, m.rhine, "/rhine", ["SellerOrder.*"])
    trade(world, m)
    deadline = time.monotonic() + 30
    while world.ok("GET", f"/v1/webhooks/{hook}", m.rhine)["status"] != "disabled":
        assert time.monotonic() < deadline, "the webhook was never disabled"
        time.sleep(0.1)
    found = world.ok("GET", f"/v1/webhooks/{hook}", m.rhine)
    assert found["failing_since"] is not None
    mail = [r for r in marketplace.outbox.recent(50) if r["kind"] == "webhook_disabled"]
    assert [r["to_address"] for r in mail] == ["ada@rhine.example"]
    # Replayed once the endpoint works again: enabled, and what waited is delivered.
    receiver.always_failing.discard("/rhine")
    marketplace.settings.webhook_disable_after_s = 3600.0
    world.ok("POST", f"/v1/webhooks/{hook}/replay", m.rhine, json={"since": "2020-01-01T00:00:00Z"})
    receiver.wait_for("/rhine", lambda f: "SellerOrder.Shipped" in types(f))
    assert world.ok("GET", f"/v1/webhooks/{hook}", m.rhine)["status"] == "enabled"
