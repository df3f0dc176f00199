"""Every event type ever stored stays readable: the committed samples of each type's stored
form (tests/fixtures/stored_events.json, see tests/event_samples.py) load into aggregates,
read as envelopes the same both ways, and project without poison."""

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from marketplace.adapters.envelope import envelope
from marketplace.adapters.settings import Settings
from marketplace.adapters.stored import to_envelope
from marketplace.platform import Marketplace
from tests.event_samples import FIXTURE, event_types, load_samples, stored_types

SAMPLES: dict[str, list[dict[str, Any]]] = json.loads(FIXTURE.read_text())


def _as_stored_before_the_kernel_moved(topic: str) -> str:
    # Accounts and API keys lived in marketplace/accounts.py until the layout change.
    return topic.replace("marketplace.kernel.accounts:", "marketplace.accounts:")


def test_the_samples_hold_every_event_type_the_domain_defines() -> None:
    missing = event_types() - stored_types(SAMPLES)
    assert not missing, f"run `python -m tests.event_samples` to add samples of {missing}"


@pytest.mark.parametrize("era", ["now", "before the kernel moved"])
def test_every_stored_form_loads_reads_and_projects(tmp_path: Path, era: str) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/m.db", operator_key="op")
    market = Marketplace(settings)
    try:
        load_samples(market, str if era == "now" else _as_stored_before_the_kernel_moved)
        for context, app in market.contexts.items():
            # Each aggregate's whole history loads.
            for originator in {UUID(s["originator_id"]) for s in SAMPLES[context]}:
                assert app.repository.get(originator).id == originator
            # Each event reads the same straight from its JSON and through the library.
            for stored in app.recorder.select_notifications(start=0, limit=10_000):
                expected = envelope(context, stored.id, app.mapper.to_domain_event(stored))
                assert to_envelope(app.mapper, context, stored.id, stored) == expected
        # And every view takes them all in.
        market.projections.catch_up()
        for row in market.projections.status():
            assert (row["status"], row["poison_events"], row["lag_events"]) == ("running", 0, 0)
        orders, _ = market.order_lists.orders(500, None)
        statuses = {order["status"] for order in orders}
        assert {"delivered", "rejected", "cancelled"} <= statuses
    finally:
        market.close()
