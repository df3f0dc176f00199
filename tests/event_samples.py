"""A small world that stores every event type the marketplace has, kept as a fixture so that
every stored form ever written stays readable (tests/test_event_evolution.py).

Regenerate after adding an event type: `python -m tests.event_samples`. Never regenerate to
make a changed class pass: upcast the old form instead, so stored events keep loading.
"""

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from fastapi.testclient import TestClient

from marketplace.adapters.settings import Settings
from marketplace.kernel.accounts import ApiKey, hash_key
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from marketplace.web.asyncapi import CONTEXT_MODULES, event_classes
from tests.world import Actor, World, eur, small_market

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "stored_events.json"


def event_types() -> set[tuple[str, str]]:
    """(context, type) of every event an aggregate of the domain can store."""
    return {
        (context, event.__qualname__)
        for context, modules in CONTEXT_MODULES.items()
        for module in modules
        for event in event_classes(module)
    }


def stored_types(forms: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str]]:
    return {
        (context, resolve_topic(f["topic"]).__qualname__)
        for context, events in forms.items()
        for f in events
    }


def load_samples(market: Marketplace, rename: Callable[[str], str] = str) -> None:
    """Writes the samples into `market`'s event store, topics passed through `rename`."""
    samples = json.loads(FIXTURE.read_text())
    for context, forms in samples.items():
        market.contexts[context].recorder.insert_events(
            [
                StoredEvent(
                    UUID(f["originator_id"]),
                    f["originator_version"],
                    rename(f["topic"]),
                    json.dumps(f["state"]).encode(),
                )
                for f in forms
            ]
        )


def _order(world: World, buyer: Actor, lines: list[tuple[str, int]], method: str) -> Any:
    body = {
        "lines": [{"product_id": p, "quantity": q} for p, q in lines],
        "payment_method": method,
    }
    return world.ok("POST", "/v1/buyer/orders", buyer, json=body)


def build(world: World, market: Marketplace) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1", map_price=5_000)
    saw = world.product(m.acme, "SAW-1")
    world.product(m.acme, "DRILL-1", map_price=5_000, name="Drill, revised")
    world.offer(m.rhine, drill, 9_000, tiers=[(10, 8_500)])
    world.offer(m.rhine, drill, 9_100, tiers=[(10, 8_600)])
    world.offer(m.danube, drill, 9_500)
    world.offer(m.rhine, saw, 5_000)
    world.ok("PUT", f"/v1/reseller/offers/{saw}/stock", m.rhine, json={"quantity": 80})
    world.terms(m.rhine, m.muster, credit_limit=100_000)
    world.terms(m.rhine, m.muster, discount_bps=500, credit_limit=100_000)
    world.terms(m.danube, m.muster)
    world.ok(
        "PUT",
        f"/v1/operator/resellers/{m.rhine.id}/commission",
        world.operator,
        json={"rate_bps": 800},
    )
    world.sales_rep(m.rhine, [m.muster])
    limited = world.user(m.muster, "buyer", spending_limit=20_000)
    approver = world.user(m.muster, "approver")
    # Shipped in two parts and delivered.
    order = _order(world, m.muster, [(drill, 2), (saw, 3)], "card")
    [so] = order["seller_orders"]
    path = f"/v1/reseller/orders/{so['seller_order_id']}"
    world.ok("POST", f"{path}/accept", m.rhine)
    world.ok("POST", f"{path}/ship", m.rhine, json={"lines": [{"product_id": saw, "quantity": 1}]})
    world.ok("POST", f"{path}/ship", m.rhine, json={"tracking": "T-2"})
    world.ok("POST", f"{path}/deliver", m.rhine)
    # Over a user's limit: approved once, rejected once.
    for decision in ("approve", "reject"):
        waiting = _order(world, limited, [(saw, 5)], "invoice_net_30")
        world.ok("POST", f"/v1/buyer/orders/{waiting['order_id']}/{decision}", approver)
    # Refused by one seller and rerouted to the other; cancelled by its seller.
    refused = _order(world, m.muster, [(drill, 1)], "card")["seller_orders"][0]
    rerouted = f"/v1/reseller/orders/{refused['seller_order_id']}/refuse"
    world.ok("POST", rerouted, m.rhine, json={"reason": "no staff"})
    cancelled = _order(world, m.muster, [(saw, 1)], "card")["seller_orders"][0]
    world.ok(
        "POST",
        f"/v1/reseller/orders/{cancelled['seller_order_id']}/cancel",
        m.rhine,
        json={"reason": "damaged"},
    )
    # Billed on invoice and delivered: one unit returned and credited before payment, another
    # return refused; paid with an overpayment that the next invoice uses; paid out.
    billed = _order(world, m.muster, [(drill, 3)], "invoice_net_30")["seller_orders"][0]
    path = f"/v1/reseller/orders/{billed['seller_order_id']}"
    for step in ("accept", "ship", "deliver"):
        world.ok("POST", f"{path}/{step}", m.rhine)
    decisions: list[tuple[str, dict[str, Any]]] = [
        ("accept", {"restock": True}),
        ("refuse", {"reason": "used"}),
    ]
    for decision, body in decisions:
        asked = world.ok(
            "POST",
            "/v1/buyer/returns",
            m.muster,
            json={
                "seller_order_id": billed["seller_order_id"],
                "lines": [{"product_id": drill, "quantity": 1}],
                "reason": "broken",
            },
        )
        world.ok(
            "POST", f"/v1/reseller/returns/{asked['return_id']}/{decision}", m.rhine, json=body
        )
    payment = {
        "buyer_id": m.muster.id,
        "amount": eur(100_000),
        "reference": "BANK-1",
        "received_on": "2026-01-02",
    }
    world.ok("POST", "/v1/operator/payments", world.operator, json=payment)
    next_one = _order(world, m.muster, [(saw, 1)], "invoice_net_30")["seller_orders"][0]
    for step in ("accept", "ship"):
        world.ok("POST", f"/v1/reseller/orders/{next_one['seller_order_id']}/{step}", m.rhine)
    world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": "2100-01-01"})
    # A cost centre, a user assigned to it, and an order booked there.
    centre = world.ok(
        "POST", "/v1/buyer/cost-centres", m.muster, json={"name": "Plant", "code": "P1"}
    )
    world.ok(
        "PUT",
        f"/v1/buyer/users/{approver.user_id}/cost-centre",
        m.muster,
        json={"cost_centre_id": centre["cost_centre_id"]},
    )
    booked = {
        "lines": [{"product_id": saw, "quantity": 1}],
        "payment_method": "card",
        "cost_centre_id": centre["cost_centre_id"],
    }
    world.ok("POST", "/v1/buyer/orders", m.muster, json=booked)
    # A budget for that cost centre: an order reserves it, and is delivered.
    world.ok(
        "POST",
        "/v1/buyer/budgets",
        m.muster,
        json={
            "cost_centre_id": centre["cost_centre_id"],
            "amount": eur(1_000_000),
            "starts_on": "2000-01-01",
            "ends_on": "2999-12-31",
            "enforcement": "warn",
        },
    )
    spent = world.ok("POST", "/v1/buyer/orders", m.muster, json=booked)["seller_orders"][0]
    for step in ("accept", "ship", "deliver"):
        world.ok("POST", f"/v1/reseller/orders/{spent['seller_order_id']}/{step}", m.rhine)

    # Quotes: one offered twice and ordered; one whose order failed; others cancelled,
    # rejected, declined and withdrawn.
    def ask() -> str:
        body = {"reseller_id": m.rhine.id, "lines": [{"product_id": drill, "quantity": 2}]}
        made: str = world.ok("POST", "/v1/buyer/quotes", m.muster, json=body)["quote_id"]
        return made

    def offer(quote: str, quantity: int = 2) -> None:
        line = {
            "product_id": drill,
            "quantity": quantity,
            "unit_price": eur(9_000),
            "lead_time_days": 3,
        }
        body = {"lines": [line], "valid_to": "2999-01-01T00:00:00+00:00"}
        world.ok("POST", f"/v1/reseller/quotes/{quote}/offer", m.rhine, json=body)

    ordered = ask()
    offer(ordered)
    world.ok("POST", f"/v1/buyer/quotes/{ordered}/renegotiate", m.muster, json={"comment": "less?"})
    offer(ordered)
    world.ok(
        "POST", f"/v1/buyer/quotes/{ordered}/accept", m.muster, json={"payment_method": "card"}
    )
    beyond_credit = ask()
    offer(beyond_credit, 15)
    failed_quote = world.call(
        "POST",
        f"/v1/buyer/quotes/{beyond_credit}/accept",
        m.muster,
        json={"payment_method": "invoice_net_30"},
    )
    assert failed_quote.status_code == 402, failed_quote.text
    world.ok("POST", f"/v1/buyer/quotes/{ask()}/cancel", m.muster, json={})
    world.ok("POST", f"/v1/reseller/quotes/{ask()}/reject", m.rhine, json={"reason": "no"})
    declined = ask()
    offer(declined)
    world.ok("POST", f"/v1/buyer/quotes/{declined}/decline", m.muster, json={})
    withdrawn = ask()
    offer(withdrawn)
    world.ok("POST", f"/v1/reseller/quotes/{withdrawn}/withdraw", m.rhine, json={})
    # A shopping list: a line set, changed and removed.
    kept = world.ok(
        "POST", "/v1/buyer/lists", m.muster, json={"name": "Monthly", "sharing": "read"}
    )
    for quantity in (2, 3):
        world.ok(
            "PUT",
            f"/v1/buyer/lists/{kept['list_id']}/lines/{drill}",
            m.muster,
            json={"quantity": quantity},
        )
    world.ok("DELETE", f"/v1/buyer/lists/{kept['list_id']}/lines/{drill}", m.muster)
    # More than the credit left: drafted, then failed when the credit could not be held.
    failed = world.call(
        "POST",
        "/v1/buyer/orders",
        m.muster,
        json={"lines": [{"product_id": saw, "quantity": 30}], "payment_method": "invoice_net_30"},
    )
    assert failed.status_code == 402, failed.text
    # An import, a withdrawal, a discontinuation, authorizations changed and revoked.
    line = {
        "sku": "BOLT-1",
        "name": "Bolt",
        "brand": "Acme",
        "category": "tools",
        "list_price": eur(100),
    }
    world.ok(
        "POST",
        "/v1/manufacturer/products:import",
        m.acme,
        content=json.dumps(line) + "\n",
        headers={"Content-Type": "application/x-ndjson"},
    )
    # An import cut off by a restart.
    cut_off = market.imports.create(UUID(m.acme.id), "products", 5, [])
    later = datetime.now(UTC) + timedelta(days=1)
    assert market.imports.job(cut_off, UUID(m.acme.id), now=later).status == "failed"
    world.ok("DELETE", f"/v1/reseller/offers/{drill}", m.danube)
    world.ok("DELETE", "/v1/manufacturer/products/SAW-1", m.acme)
    world.authorize(m.acme, m.danube, brands=["Acme"])
    world.ok("DELETE", f"/v1/manufacturer/authorizations/{m.danube.id}", m.acme)
    # Accounts suspended and reinstated, keys revoked, of a buyer and of a seller.
    for account, app in ((m.bolt, market.buyers), (m.danube, market.sellers)):
        for action in ("suspend", "reinstate"):
            world.ok("POST", f"/v1/operator/accounts/{account.id}/{action}", world.operator)
        key = app.find(ApiKey.create_id(hash_key(account.key)), ApiKey)
        assert key is not None
        key.revoke()
        app.save(key)
    # People: signed up with a password, invited and accepted, changed, disabled, enabled.
    password = "a long enough password"
    world.ok(
        "POST",
        "/v1/buyers",
        json={
            "legal_name": "Pia AG",
            "tax_id": "DE9",
            "country": "DE",
            "email": "pia@pia.example",
            "password": password,
        },
    )
    world.ok(
        "POST",
        "/v1/seller/users",
        m.rhine,
        json={"name": "Sam", "email": "sam@rhine.example", "password": password, "role": "orders"},
    )
    invited = world.ok(
        "POST",
        "/v1/buyer/users",
        m.muster,
        json={"name": "Ben", "role": "buyer", "email": "ben@muster.example"},
    )
    token = invited["invitation_url"].rsplit("/", 1)[1]
    market.people.accept(token, password)
    muster, ben = UUID(m.muster.id), UUID(invited["id"])
    admin = UUID(m.muster.user_id or "")
    market.buyers.change_user(muster, admin, ben, "approver", None)
    market.buyers.set_user_disabled(muster, admin, ben, True)
    market.buyers.set_user_disabled(muster, admin, ben, False)
    sam = market.people.find("sam@rhine.example")
    assert sam is not None
    sam.disable()
    sam.enable()
    market.people.save(sam)
    # An address kept at checkout for the next orders.
    market.buyers.keep_address(
        UUID(m.muster.id),
        {
            "name": "Dock 4",
            "street": "Kai 2",
            "postcode": "20457",
            "city": "Hamburg",
            "country": "DE",
        },
    )
    # A product taxed at the reduced rate.
    world.product(m.acme, "BOOK-1", tax_category="reduced")
    # Tax profiles set and revised, tax rates set, a shipping grid set and replaced.
    address = {"line1": "Weg 1", "postcode": "10115", "city": "Berlin", "country": "DE"}
    profile = {"legal_name": "Rhine", "country": "DE", "vat_id": "DE136695976", "address": address}
    for path, actor in (
        ("/v1/operator/tax-profile", world.operator),
        ("/v1/reseller/tax-profile", m.rhine),
        ("/v1/buyer/tax-profile", m.muster),
    ):
        world.ok("PUT", path, actor, json=profile)
        world.ok("PUT", path, actor, json={**profile, "legal_name": "Renamed"})
    rate = {"country": "DE", "category": "reduced", "rate_bps": 700}
    world.ok("PUT", "/v1/operator/tax-rates", world.operator, json={"rates": [rate]})
    parcel = {
        "method": "std",
        "name": "Parcel",
        "countries": ["DE", "AT"],
        "first_item": eur(490),
        "additional_item": eur(100),
        "free_over": eur(15_000),
        "min_days": 1,
        "max_days": 3,
    }
    for grid in ([parcel], [{**parcel, "countries": ["DE"]}]):
        world.ok("PUT", "/v1/reseller/shipping-rates", m.rhine, json={"rates": grid})
    # A taxed and shipped order, invoiced, paid by card and paid out with its commission
    # invoice.
    taxed = _order(world, m.muster, [(drill, 1)], "card")
    taxed_so = taxed["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{taxed_so}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{taxed_so}/ship", m.rhine, json={})
    world.ok("POST", "/v1/operator/payouts", world.operator, json={"up_to": "2100-01-02"})
    # Mail and messages (v1.2): a thread and an incident on a seller order, resolved and
    # closed; an invoice noticed overdue; password resets and mail choices on both sides.
    talk = f"/v1/buyer/seller-orders/{taxed_so}"
    world.ok("POST", f"{talk}/messages", m.muster, json={"body": "When does it come?"})
    world.ok("POST", f"/v1/reseller/orders/{taxed_so}/messages", m.rhine, json={"body": "Monday"})
    opened = world.ok(
        "POST", f"{talk}/incidents", m.muster, json={"reason": "damaged", "comment": "Dented"}
    )
    incident = opened["incident_id"]
    world.ok("POST", f"/v1/reseller/incidents/{incident}/resolve", m.rhine, json={"comment": "ok"})
    world.ok("POST", f"/v1/buyer/incidents/{incident}/close", m.muster, json={})
    owing = world.buyer("Owing GmbH")
    world.terms(m.rhine, owing)
    address = {"line1": "Ring 1", "postcode": "10115", "city": "Berlin", "country": "DE"}
    unpaid = world.ok(
        "POST",
        "/v1/buyer/orders",
        owing,
        json={
            "lines": [{"product_id": drill, "quantity": 1}],
            "payment_method": "invoice_net_30",
            "shipping_address": address,
        },
    )["seller_orders"][0]
    for step in ("accept", "ship"):
        world.ok("POST", f"/v1/reseller/orders/{unpaid['seller_order_id']}/{step}", m.rhine)
    # Net 30: the day after it falls due.
    due_after = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    world.ok("PUT", "/v1/operator/clock", world.operator, json={"now": due_after})
    market.projections.catch_up()
    noticed = market.notice_overdue()
    assert noticed >= 1
    world.ok(
        "POST",
        "/v1/buyers",
        json={
            "legal_name": "Rosa AG",
            "tax_id": "DE8",
            "country": "DE",
            "email": "rosa@rosa.example",
            "password": password,
        },
    )
    world.ok(
        "POST",
        "/v1/seller/users",
        m.rhine,
        json={
            "name": "René",
            "email": "rene@rhine.example",
            "password": password,
            "role": "orders",
        },
    )
    for email in ("rosa@rosa.example", "rene@rhine.example"):
        market.people.ask_reset(email, "127.0.0.1")
        person = market.people.find(email)
        assert person is not None
        assert person.reset_nonce is not None
        market.people.reset(
            market.people.reset_path(str(person.id), person.reset_nonce).split("token=")[1],
            password + "!",
        )
        market.people.set_mail_off(person.id, ["quotes"])


def stored_forms(market: Marketplace) -> dict[str, list[dict[str, Any]]]:
    forms: dict[str, list[dict[str, Any]]] = {}
    for context, app in market.contexts.items():
        forms[context] = [
            {
                "originator_id": str(stored.originator_id),
                "originator_version": stored.originator_version,
                "topic": stored.topic,
                "state": json.loads(stored.state),
            }
            for stored in app.recorder.select_notifications(start=0, limit=1_000_000)
        ]
    return forms


def generate(directory: Path) -> dict[str, list[dict[str, Any]]]:
    settings = Settings(
        database_url=f"sqlite:///{directory}/samples.db", operator_key="op", controllable_clock=True
    )
    market = Marketplace(settings)
    try:
        with TestClient(create_app(market)) as client:
            build(World(client, "op"), market)
        return stored_forms(market)
    finally:
        market.close()


def _keep_retired(
    earlier: dict[str, list[dict[str, Any]]], forms: dict[str, list[dict[str, Any]]]
) -> None:
    """Keeps, from the earlier samples, the whole histories of aggregates holding event types
    the code no longer records: stores still hold them, so they must still read."""
    retired = stored_types(earlier) - stored_types(forms)
    for context, events in earlier.items():
        kept = {
            f["originator_id"]
            for f in events
            if (context, resolve_topic(f["topic"]).__qualname__) in retired
        }
        forms.setdefault(context, []).extend(f for f in events if f["originator_id"] in kept)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        forms = generate(Path(directory))
    if FIXTURE.exists():
        _keep_retired(json.loads(FIXTURE.read_text()), forms)
    missing = event_types() - stored_types(forms)
    if missing:
        sys.exit(f"the sample world stores no {sorted(missing)}: extend tests/event_samples.py")
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(forms, indent=1, sort_keys=True) + "\n")
    print(f"wrote {sum(map(len, forms.values()))} stored events to {FIXTURE}")


if __name__ == "__main__":
    main()
