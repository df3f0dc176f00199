"""Stored events read straight into envelopes, without building domain events first.

Projections and the relay only need each event's JSON; decoding it into domain objects and
back costs most of a rebuild. An event that needs upcasting, or holds a type this reader does
not know, goes the library's way instead, so both ways give the same envelope.
"""

from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import resolve_topic

from marketplace.adapters.envelope import Envelope, envelope, event_id

_META = ("timestamp", "originator_topic", "class_version")
_NESTED = (dict, list)


class _Unknown(Exception):
    """A transcoded type this reader leaves to the library."""


def _uuid(h: str) -> str:
    if len(h) != 32:
        return str(UUID(hex=h))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _plain(value: Any) -> Any:
    """`value` with each {"_type_": NAME, "_data_": DATA} the transcoder wrote made plain."""
    if type(value) is list:
        return [_plain(v) if type(v) in _NESTED else v for v in value]
    kind = value.get("_type_")
    if kind is None or len(value) != 2 or "_data_" not in value:
        return {k: _plain(v) if type(v) in _NESTED else v for k, v in value.items()}
    data = value["_data_"]
    if kind == "uuid_hex":
        return _uuid(data)
    if kind == "datetime_iso":
        return data
    if kind in ("money", "tier"):
        return _plain(data)
    raise _Unknown(kind)


@lru_cache(maxsize=512)
def _event_class(topic: str) -> tuple[str, int]:
    cls = resolve_topic(topic)
    return cls.__qualname__, int(getattr(cls, "class_version", 1))


def plain_state(mapper: Mapper[UUID], stored: StoredEvent) -> dict[str, Any] | None:
    """The event's attributes as plain JSON values, or None where the library must read it
    (encrypted, compressed, an older class version, or a typed value not known here)."""
    if mapper.cipher or mapper.compressor:
        return None
    state: dict[str, Any] = orjson.loads(stored.state)
    if state.get("class_version", 1) != _event_class(stored.topic)[1]:
        return None
    try:
        for key, value in state.items():
            if type(value) in _NESTED:
                state[key] = _plain(value)
    except _Unknown:
        return None
    return state


def to_envelope(
    mapper: Mapper[UUID], context: str, position: int | None, stored: StoredEvent
) -> Envelope:
    data = plain_state(mapper, stored)
    if data is None:
        return envelope(context, position, mapper.to_domain_event(stored))
    occurred_at = data["timestamp"]
    for key in _META:
        data.pop(key, None)
    aggregate_id = str(stored.originator_id)
    version = int(stored.originator_version)
    return {
        "event_id": event_id(aggregate_id, version),
        "type": _event_class(stored.topic)[0],
        "context": context,
        "aggregate_id": aggregate_id,
        "aggregate_version": version,
        "position": position,
        "occurred_at": occurred_at,
        "data": data,
    }
