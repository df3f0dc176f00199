"""The JSON envelope every event travels in, on Kafka and to in-process projections."""

import hashlib
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict, cast
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.domain import DomainEventProtocol

from marketplace.kernel.money import Money

EVENTS_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:events")
_NAMESPACE = EVENTS_NAMESPACE.bytes
# Event attributes the envelope carries outside `data`, or not at all.
META = {"originator_id", "originator_version", "timestamp", "originator_topic"}


class _Timestamped(Protocol):
    timestamp: datetime


class Envelope(TypedDict):
    event_id: str
    type: str
    context: str
    aggregate_id: str
    aggregate_version: int
    position: int | None
    occurred_at: str
    data: dict[str, Any]


def plain(value: Any) -> Any:
    """A JSON-ready copy of an event attribute."""
    if isinstance(value, Money):
        return value.as_dict()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    return value


def event_id(aggregate_id: str, version: int) -> str:
    """uuid5(EVENTS_NAMESPACE, "{aggregate_id}:{version}"), without building UUID objects."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + f"{aggregate_id}:{version}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def envelope(context: str, position: int | None, event: DomainEventProtocol[UUID]) -> Envelope:
    aggregate_id = event.originator_id
    version = event.originator_version
    return {
        "event_id": event_id(str(aggregate_id), version),
        "type": type(event).__qualname__,
        "context": context,
        "aggregate_id": str(aggregate_id),
        "aggregate_version": version,
        "position": position,
        "occurred_at": cast(_Timestamped, event).timestamp.isoformat(),
        "data": {k: plain(v) for k, v in event.__dict__.items() if k not in META},
    }


def cloudevent_headers(source: str, item: Envelope) -> list[tuple[str, bytes]]:
    """CloudEvents 1.0 attributes in Kafka binary mode: the record's value stays the envelope."""
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", item["event_id"].encode()),
        ("ce_type", item["type"].encode()),
        ("ce_source", f"{source}/{item['context']}".encode()),
        ("ce_time", item["occurred_at"].encode()),
        ("ce_subject", item["aggregate_id"].encode()),
        ("content-type", b"application/json"),
    ]


def encode(item: Envelope) -> bytes:
    return orjson.dumps(item)


def decode(raw: bytes) -> Envelope:
    item: Envelope = orjson.loads(raw)
    return item
