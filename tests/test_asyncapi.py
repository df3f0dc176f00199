"""The event stream's AsyncAPI document: generated from the event classes, checked in,
served, valid, and true of every event the marketplace stores."""

import json
from pathlib import Path

import jsonschema_rs
from fastapi.testclient import TestClient
from pydantic_asyncapi.v3 import AsyncAPI

from marketplace.adapters.envelope import cloudevent_headers
from marketplace.adapters.settings import Settings
from marketplace.adapters.stored import to_envelope
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from marketplace.web.asyncapi import DOCUMENT, document, message_name, render
from tests.event_samples import load_samples


def test_the_checked_in_document_matches_the_event_classes() -> None:
    assert DOCUMENT.read_text() == render(), (
        "an event class changed: run `marketplace asyncapi` and commit docs/asyncapi.json"
    )


def test_the_document_is_valid_asyncapi_3() -> None:
    parsed = AsyncAPI.model_validate(json.loads(DOCUMENT.read_text()))
    assert parsed.asyncapi == "3.0.0"
    assert set(parsed.channels or {}) == {"sellers", "offers", "buyers", "orders", "billing"}


def test_the_api_serves_the_document(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/m.db", operator_key="op")
    market = Marketplace(settings)
    try:
        with TestClient(create_app(market)) as client:
            answer = client.get("/asyncapi.json")
        assert answer.status_code == 200
        assert answer.json() == document()
    finally:
        market.close()


def test_every_stored_event_and_its_headers_fit_their_message(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/m.db", operator_key="op")
    market = Marketplace(settings)
    messages = document()["components"]["messages"]
    try:
        load_samples(market)
        checked = set()
        for context, app in market.contexts.items():
            for stored in app.recorder.select_notifications(start=0, limit=10_000):
                event = to_envelope(app.mapper, context, stored.id, stored)
                name = message_name(context, type(app.mapper.to_domain_event(stored)))
                message = messages[name]
                jsonschema_rs.validate(message["payload"], json.loads(json.dumps(event)))
                headers = {k: v.decode() for k, v in cloudevent_headers("/marketplace", event)}
                jsonschema_rs.validate(message["headers"], headers)
                checked.add(name)
        # Every message the document names was met at least once.
        assert checked == set(messages)
    finally:
        market.close()


def test_a_payload_that_breaks_its_schema_is_caught() -> None:
    payload = document()["components"]["messages"]["offers.Offer.StockSet"]["payload"]
    event = {
        "event_id": "0f2c8b6e-2d6b-4d7e-a12f-094872ec13d3",
        "type": "Offer.StockSet",
        "context": "offers",
        "aggregate_id": "ec3c2c56-2d6b-4d7e-a12f-094872ec13d3",
        "aggregate_version": 2,
        "position": 7,
        "occurred_at": "2026-11-27T13:00:00+00:00",
        "data": {"quantity": 5},
    }
    jsonschema_rs.validate(payload, event)
    assert not jsonschema_rs.is_valid(payload, {**event, "data": {"quantity": "five"}})
    assert not jsonschema_rs.is_valid(payload, {**event, "data": {"quantity": 5, "extra": 1}})
