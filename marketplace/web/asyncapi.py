"""The event stream's contract, as an AsyncAPI 3.0 document generated from the event classes.

One channel per context's topic, one message per event type: the JSON Schema of its `data`
comes from the attributes the event class declares (pydantic writes the schema), inside the
envelope every record carries, with the record's key and its CloudEvents headers. The
document is validated by pydantic-asyncapi's models of the specification before it is given.
"""

import inspect
import json
import typing
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, get_origin

from eventsourcing.domain import Aggregate, CanMutateAggregate
from pydantic import TypeAdapter, create_model
from pydantic_asyncapi.v3 import AsyncAPI

import marketplace.buyers.domain
import marketplace.buyers.lists
import marketplace.kernel.accounts
import marketplace.kernel.people
import marketplace.taxes.domain
import marketplace.taxes.profiles
import offers.domain
import offers.shipping
import orders.billing.domain
import orders.billing.incident
import orders.budgets
import orders.domain
import orders.quoting.domain
import sellers.domain
from marketplace.adapters.envelope import META

# Each context's log holds the events of these modules' aggregates.
CONTEXT_MODULES: dict[str, list[ModuleType]] = {
    "sellers": [
        sellers.domain,
        marketplace.kernel.accounts,
        marketplace.kernel.people,
        marketplace.taxes.domain,
        marketplace.taxes.profiles,
    ],
    "offers": [offers.domain, offers.shipping],
    "buyers": [
        marketplace.buyers.domain,
        marketplace.buyers.lists,
        marketplace.kernel.accounts,
        marketplace.kernel.people,
        marketplace.taxes.profiles,
    ],
    "orders": [orders.domain, orders.budgets, orders.quoting.domain],
    "billing": [orders.billing.domain, orders.billing.incident],
}
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def event_classes(module: ModuleType) -> list[type[CanMutateAggregate[Any]]]:
    """The events a module's aggregates store: those their own commands declare, not the
    base `Event` and `Created`, nor the copies the library makes of an inherited event
    (those are stored under the class that declared them)."""
    found: dict[str, type[CanMutateAggregate[Any]]] = {}
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if not issubclass(cls, Aggregate) or cls.__module__ != module.__name__:
            continue
        bases = [b for b in cls.__mro__[1:] if issubclass(b, Aggregate) and b is not Aggregate]
        for name, value in vars(cls).items():
            if (
                inspect.isclass(value)
                and issubclass(value, CanMutateAggregate)
                and name not in ("Event", "Created")
                and not any(name in vars(base) for base in bases)
            ):
                found[value.__qualname__] = value
    return [found[name] for name in sorted(found)]


def data_schema(context: str, event: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(event)
    fields: dict[str, Any] = {
        name: (hint, ...)
        for name, hint in hints.items()
        if name not in META and get_origin(hint) is not ClassVar
    }
    model = create_model(event.__qualname__.replace(".", ""), **fields)
    schema: dict[str, Any] = TypeAdapter(model).json_schema()
    # Its own base, so that its "#/$defs/..." references resolve inside it.
    schema["$id"] = f"urn:marketplace:events:{message_name(context, event)}:data"
    schema["additionalProperties"] = False
    return schema


def _envelope(context: str, event: type[Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "event_id",
            "type",
            "context",
            "aggregate_id",
            "aggregate_version",
            "position",
            "occurred_at",
            "data",
        ],
        "properties": {
            "event_id": {"type": "string", "format": "uuid"},
            "type": {"const": event.__qualname__},
            "context": {"const": context},
            "aggregate_id": {"type": "string", "format": "uuid"},
            "aggregate_version": {"type": "integer", "minimum": 1},
            "position": {
                "type": ["integer", "null"],
                "description": "the event's place in its context's log",
            },
            "occurred_at": {"type": "string", "format": "date-time"},
            "data": data_schema(context, event),
        },
    }


def _headers(context: str, event: type[Any]) -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_type",
            "ce_source",
            "ce_time",
            "ce_subject",
            "content-type",
        ],
        "properties": {
            "ce_specversion": {"const": "1.0"},
            "ce_id": {**text, "description": "the envelope's event_id"},
            "ce_type": {"const": event.__qualname__},
            "ce_source": {**text, "description": f"/{{prefix}}/{context}"},
            "ce_time": {**text, "format": "date-time"},
            "ce_subject": {**text, "description": "the aggregate id"},
            "content-type": {"const": "application/json"},
        },
    }


def message_name(context: str, event: type[Any]) -> str:
    return f"{context}.{event.__qualname__}"


@cache
def document() -> dict[str, Any]:
    """Built once per process (the classes do not change while it runs); do not mutate it."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for context, modules in CONTEXT_MODULES.items():
        names = []
        for module in modules:
            for event in event_classes(module):
                name = message_name(context, event)
                names.append(name)
                messages[name] = {
                    "name": event.__qualname__,
                    "title": f"{event.__qualname__} on {context}",
                    "contentType": "application/json",
                    "headers": _headers(context, event),
                    "payload": _envelope(context, event),
                    # The Kafka message binding's `key`; pydantic-asyncapi 0.3 has no model
                    # for that binding, so it travels as an extension.
                    "x-kafka-key": {
                        "type": "string",
                        "format": "uuid",
                        "description": "the aggregate id",
                    },
                }
        channels[context] = {
            "address": f"{{prefix}}.{context}",
            "title": f"The {context} context's events",
            "description": "Keyed by aggregate id; in order per aggregate; at least once.",
            "parameters": {
                "prefix": {"default": "marketplace", "description": "MARKETPLACE_TOPIC_PREFIX"}
            },
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
        }
        operations[f"consume_{context}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{context}"},
            "messages": [{"$ref": f"#/channels/{context}/messages/{n}"} for n in names],
        }
    doc: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "B2B Marketplace events",
            "version": "1",
            "description": "Every event the marketplace stores, published to Kafka by the relay.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    AsyncAPI.model_validate(doc)
    return doc


def render() -> str:
    return json.dumps(document(), indent=1, sort_keys=True) + "\n"
