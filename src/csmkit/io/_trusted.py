"""Fast decoding of csmkit's own timeline records: checked once per shape, not per field.

A record csmkit wrote (``Timeline.to_dict()``) carries every field of every event, of the
expected types. For the common event kinds this module checks that cheaply -- the key
set once per distinct shape, each value by its exact type -- and builds the events
without running the validating constructors again. Anything unexpected (another shape,
a value of another type, a rare kind) goes through
[`Timeline.from_dict()`][csmkit.timeline.Timeline.from_dict], so a malformed record gets
exactly the error it always got, and a well-formed one exactly the same timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from csmkit._time import parse_instant
from csmkit.errors import TimelineError
from csmkit.timeline import (
    Assigned,
    Direction,
    Event,
    MessageAdded,
    Priority,
    StatusCategory,
    StatusChanged,
    TicketCreated,
    Timeline,
)
from csmkit.timeline._codec import event_from_dict
from csmkit.timeline._events import _mutable_twin
from csmkit.timeline._validators import tag_tuple, to_fields, to_meta

__all__ = ["decode_timeline"]


class _Untrusted(Exception):
    """A value the fast path does not vouch for: decode the record the validating way."""


def _text(value: object) -> str:
    if type(value) is not str or not value:
        raise _Untrusted
    return value


def _optional(value: object) -> str | None:
    if value is None:
        return None
    return _text(value)


_EMPTY_META = to_meta({})
_EMPTY_FIELDS = to_fields({})


def _meta(value: object) -> Any:
    return _EMPTY_META if type(value) is dict and not value else to_meta(value)


def _fields(value: object) -> Any:
    return _EMPTY_FIELDS if type(value) is dict and not value else to_fields(value)


def _common(
    data: Mapping[str, Any], ticket_id: str, instants: dict[str, datetime]
) -> dict[str, Any]:
    if data["ticket_id"] != ticket_id:
        raise _Untrusted
    at_text = data["at"]
    if type(at_text) is not str:
        raise _Untrusted
    at = instants.get(at_text)
    if at is None:
        at = instants[at_text] = parse_instant(at_text)
    return {
        "ticket_id": ticket_id,
        "at": at,
        "actor": _optional(data["actor"]),
        "meta": _meta(data["meta"]),
    }


def _new(cls: type[Event]) -> Any:
    """A blank event of ``cls`` whose slots can be filled (see ``_finish``)."""
    twin = _TWINS.get(cls)
    if twin is None:
        twin = _TWINS[cls] = _mutable_twin(cls)
    return object.__new__(twin)


def _finish(event: Any, cls: type[Event]) -> Event:
    event.__class__ = cls  # frozen from here on
    result: Event = event
    return result


def _common_into(
    event: Any, data: Mapping[str, Any], ticket_id: str, instants: dict[str, datetime]
) -> None:
    for name, value in _common(data, ticket_id, instants).items():
        setattr(event, name, value)


def _member(table: Mapping[str, Any], value: object) -> Any:
    if type(value) is not str:
        raise _Untrusted
    member = table.get(value)
    if member is None:
        raise _Untrusted
    return member


_PRIORITIES = {member.value: member for member in Priority}
_CATEGORIES = {member.value: member for member in StatusCategory}
_DIRECTIONS = {member.value: member for member in Direction}


def _created(data: Mapping[str, Any], ticket_id: str, instants: dict[str, datetime]) -> Event:
    if data["workflow_version"] is not None or type(data["subject"]) is not str:
        raise _Untrusted
    tags = data["tags"]
    event = _new(TicketCreated)
    _common_into(event, data, ticket_id, instants)
    event.type = _text(data["type"])
    event.channel = _text(data["channel"])
    event.priority = _member(_PRIORITIES, data["priority"])
    event.customer_id = _optional(data["customer_id"])
    event.subject = data["subject"]
    event.fields = _fields(data["fields"])
    event.tags = () if type(tags) is list and not tags else tag_tuple(tags)
    event.status = _text(data["status"])
    event.category = _member(_CATEGORIES, data["category"])
    event.workflow = _optional(data["workflow"])
    event.workflow_version = None
    return _finish(event, TicketCreated)


def _message(data: Mapping[str, Any], ticket_id: str, instants: dict[str, datetime]) -> Event:
    direction = _member(_DIRECTIONS, data["direction"])
    public = data["public"]
    if type(public) is not bool:
        raise _Untrusted
    if (public and direction is Direction.INTERNAL) or (
        not public and direction is Direction.INBOUND
    ):
        raise _Untrusted
    event = _new(MessageAdded)
    _common_into(event, data, ticket_id, instants)
    event.direction = direction
    event.channel = _text(data["channel"])
    event.author = _optional(data["author"])
    event.public = public
    event.message_id = _optional(data["message_id"])
    event.body_ref = _optional(data["body_ref"])
    return _finish(event, MessageAdded)


def _status(data: Mapping[str, Any], ticket_id: str, instants: dict[str, datetime]) -> Event:
    event = _new(StatusChanged)
    _common_into(event, data, ticket_id, instants)
    event.from_status = _text(data["from_status"])
    event.to_status = _text(data["to_status"])
    event.category = _member(_CATEGORIES, data["category"])
    event.transition = _optional(data["transition"])
    event.reason = _optional(data["reason"])
    return _finish(event, StatusChanged)


def _assigned(data: Mapping[str, Any], ticket_id: str, instants: dict[str, datetime]) -> Event:
    event = _new(Assigned)
    _common_into(event, data, ticket_id, instants)
    event.agent = _optional(data["agent"])
    event.group = _optional(data["group"])
    event.decision = _optional(data["decision"])
    return _finish(event, Assigned)


_TWINS: dict[type[Event], type[Event]] = {}
_Decoder = Callable[[Mapping[str, Any], str, dict[str, datetime]], Event]
_DECODERS: dict[str, tuple[type[Event], _Decoder]] = {
    "created": (TicketCreated, _created),
    "message_added": (MessageAdded, _message),
    "status_changed": (StatusChanged, _status),
    "assigned": (Assigned, _assigned),
}
# The one key order each kind is written in: "kind", then the fields in declaration order.
_SHAPES: dict[str, tuple[str, ...]] = {
    kind: ("kind", *(field.name for field in attrs.fields(cls)))
    for kind, (cls, _) in _DECODERS.items()
}
_SORTED_SHAPES: dict[str, tuple[str, ...]] = {
    kind: tuple(sorted(shape)) for kind, shape in _SHAPES.items()
}


def _fast_events(raw: list[Any]) -> list[Event]:
    first = raw[0] if raw else None
    if type(first) is not dict:
        raise _Untrusted
    ticket_id = _text(first.get("ticket_id"))
    instants: dict[str, datetime] = {}
    events: list[Event] = []
    for index, item in enumerate(raw):
        if type(item) is not dict:
            raise _Untrusted
        kind = item.get("kind")
        entry = _DECODERS.get(kind) if type(kind) is str else None
        if entry is None or type(kind) is not str:
            event = event_from_dict(item, path=f"events[{index}]")
            if event.ticket_id != ticket_id:
                raise _Untrusted
            events.append(event)
            continue
        keys = tuple(item)
        if keys != _SHAPES[kind] and tuple(sorted(keys)) != _SORTED_SHAPES[kind]:
            raise _Untrusted
        events.append(entry[1](item, ticket_id, instants))
    return events


def decode_timeline(data: Any) -> Timeline:
    """A timeline record, decoded fast when it has csmkit's own shape.

    Equal to ``Timeline.from_dict(data)`` for every input: the same timeline, or the
    same error.

    Raises:
        TimelineError: the record is not a valid timeline (as ``Timeline.from_dict``).
    """
    if type(data) is dict and len(data) == 2 and "events" in data and "ticket_id" in data:
        raw = data["events"]
        if type(raw) is list:
            try:
                timeline = Timeline(_fast_events(raw))
            except (_Untrusted, TimelineError, ValueError, TypeError, KeyError):
                pass  # the validating decoder says what is wrong
            else:
                if data["ticket_id"] == timeline.ticket_id:
                    return timeline
    return Timeline.from_dict(data)
