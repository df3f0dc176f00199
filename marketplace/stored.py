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

from marketplace.envelope import Envelope, envelope, event_id

_META = {"timestamp", "originator_topic", "class_version"}


class _Unknown(Exception):
    """A transcoded type this reader leaves to the library."""


def _uuid(h: Any) -> str:
    if len(h) != 32:
        return str(UUID(hex=h))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _same(data: Any) -> Any:
    return data


_TYPES = {"uuid_hex": _uuid, "datetime_iso": _same, "money": _same}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        transcoded = value.get("_type_")
        if transcoded is not None and len(value) == 2 and "_data_" in value:
            data = _plain(value["_data_"])
            convert = _TYPES.get(transcoded)
            if convert is not None:
                return convert(data)
            if transcoded == "tier":
                return data
            raise _Unknown(transcoded)
        return {k: _plain(v) for k, v in value.items()}
    if kind is list:
        return [_plain(v) for v in value]
    return value


_NESTED = (dict, list)


@lru_cache(maxsize=512)
def _event_class(topic: str) -> tuple[str, int]:
    cls = resolve_topic(topic)
    return cls.__qualname__, int(getattr(cls, "class_version", 1))


def to_envelope(
    mapper: Mapper[UUID], context: str, position: int | None, stored: StoredEvent
) -> Envelope:
    name, class_version = _event_class(stored.topic)
    state = orjson.loads(stored.state)
    if state.get("class_version", 1) == class_version and not (mapper.cipher or mapper.compressor):
        try:
            data = {}
            for key, value in state.items():
                if key not in _META:
                    data[key] = _plain(value) if type(value) in _NESTED else value
        except _Unknown:
            pass
        else:
            aggregate_id = str(stored.originator_id)
            version = int(stored.originator_version)
            return {
                "event_id": event_id(aggregate_id, version),
                "type": name,
                "context": context,
                "aggregate_id": aggregate_id,
                "aggregate_version": version,
                "position": position,
                "occurred_at": state["timestamp"]["_data_"],
                "data": data,
            }
    return envelope(context, position, mapper.to_domain_event(stored))
