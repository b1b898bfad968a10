"""Fast decoding of csmkit's own timeline records: checked once per shape, not per field.

A record csmkit wrote (``Timeline.to_dict()``) carries every field of every event, of the
expected types. For the common event kinds this module checks that cheaply -- the key
set once per distinct shape, each value by its exact type -- and builds the events
without running the validating constructors again. Anything unexpected (another shape,
a value of another type, a rare kind) goes through the validating decoder
([`Timeline.from_dict()`][csmkit.timeline.Timeline.from_dict] for exports, the event
constructors for the stores' rows), so a malformed record gets exactly the error it always
got, and a well-formed one exactly the same timeline.

Shared by ``csmkit.io`` (export records) and ``csmkit.storage`` (event rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from csmkit._time import parse_instant
from csmkit.errors import CsmkitError, TimelineError
from csmkit.timeline._codec import EVENT_TYPES, event_from_dict
from csmkit.timeline._enums import Direction, Priority, StatusCategory
from csmkit.timeline._events import (
    Assigned,
    Event,
    MessageAdded,
    StatusChanged,
    TicketCreated,
    _mutable_twin,
)
from csmkit.timeline._timeline import Timeline
from csmkit.timeline._validators import tag_tuple, to_fields, to_meta

__all__ = ["SHAPES", "SORTED_SHAPES", "Untrusted", "decode_timeline", "stored_events"]


class Untrusted(CsmkitError, ValueError):
    """Raised by [`stored_events()`][csmkit.timeline.trusted.stored_events] for input it
    does not vouch for: not necessarily invalid, only not provably equal to what the
    validating constructors build. The caller decodes the same input the validating way,
    which gives the same events or the exact error."""


def _text(value: object) -> str:
    if type(value) is not str or not value:
        raise Untrusted
    return value


def _optional(value: object) -> str | None:
    if value is None:
        return None
    return _text(value)


_EMPTY_META = to_meta({})
_EMPTY_FIELDS = to_fields({})


def _fields(value: object) -> Any:
    return _EMPTY_FIELDS if type(value) is dict and not value else to_fields(value)


def _instant(text: str) -> datetime:
    """``parse_instant(text)``, directly for the form csmkit writes (an offset of whole
    minutes, ``+08:00``, which has no fraction of a second to keep)."""
    if len(text) > 6 and text[-6] in "+-" and text[-3] == ":":
        try:
            value = _FROMISOFORMAT(text)
        except ValueError:
            raise Untrusted from None
        if value.tzinfo is not None:
            return value
    try:
        return parse_instant(text)
    except ValueError:
        raise Untrusted from None  # the validating path names the row


_FROMISOFORMAT = datetime.fromisoformat


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
    if data["ticket_id"] != ticket_id:
        raise Untrusted
    at_text = data["at"]
    if type(at_text) is not str:
        raise Untrusted
    at = instants.get(at_text)
    if at is None:
        at = instants[at_text] = _instant(at_text)
    event.ticket_id = ticket_id
    event.at = at
    event.actor = _optional(data["actor"])
    meta = data["meta"]
    event.meta = _EMPTY_META if type(meta) is dict and not meta else to_meta(meta)


def _member(table: Mapping[str, Any], value: object) -> Any:
    if type(value) is not str:
        raise Untrusted
    member = table.get(value)
    if member is None:
        raise Untrusted
    return member


_PRIORITIES = {member.value: member for member in Priority}
_CATEGORIES = {member.value: member for member in StatusCategory}
_DIRECTIONS = {member.value: member for member in Direction}


def _created(data: Mapping[str, Any], ticket_id: str, instants: dict[str, datetime]) -> Event:
    if data["workflow_version"] is not None or type(data["subject"]) is not str:
        raise Untrusted
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
        raise Untrusted
    if (public and direction is Direction.INTERNAL) or (
        not public and direction is Direction.INBOUND
    ):
        raise Untrusted
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
    agent = _optional(data["agent"])
    group = _optional(data["group"])
    if agent is None and group is None:
        raise Untrusted  # the constructor refuses it
    event = _new(Assigned)
    _common_into(event, data, ticket_id, instants)
    event.agent = agent
    event.group = group
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
SHAPES: dict[str, tuple[str, ...]] = {
    kind: ("kind", *(field.name for field in attrs.fields(cls)))
    for kind, (cls, _) in _DECODERS.items()
}
SORTED_SHAPES: dict[str, tuple[str, ...]] = {
    kind: tuple(sorted(shape)) for kind, shape in SHAPES.items()
}


def _fast_events(
    raw: list[Any], fallback: Callable[[Any, int], Event] | None = None
) -> list[Event]:
    """The events of ``raw`` (dicts), each built by its kind's trusted decoder, or by
    ``fallback(item, index)`` (default: ``event_from_dict``) for the other kinds.

    Raises:
        Untrusted: an item the fast path does not vouch for (or another ticket's).
    """
    first = raw[0] if raw else None
    if type(first) is not dict:
        raise Untrusted
    ticket_id = _text(first.get("ticket_id"))
    instants: dict[str, datetime] = {}
    events: list[Event] = []
    for index, item in enumerate(raw):
        if type(item) is not dict:
            raise Untrusted
        kind = item.get("kind")
        entry = _DECODERS.get(kind) if type(kind) is str else None
        if entry is None or type(kind) is not str:
            if fallback is None:
                event = event_from_dict(item, path=f"events[{index}]")
            else:
                event = fallback(item, index)
            if event.ticket_id != ticket_id:
                raise Untrusted
            events.append(event)
            continue
        keys = tuple(item)
        if keys != SHAPES[kind] and tuple(sorted(keys)) != SORTED_SHAPES[kind]:
            raise Untrusted
        events.append(entry[1](item, ticket_id, instants))
    return events


def decode_timeline(data: Any) -> Timeline:
    """[`Timeline.from_dict(data)`][csmkit.timeline.Timeline.from_dict], faster for the
    records csmkit writes.

    Equal to ``Timeline.from_dict(data)`` for every input: the same timeline, or the
    same error. A ``{"ticket_id": ..., "events": [...]}`` dict whose common kinds have
    csmkit's own shape is decoded as [`stored_events()`][csmkit.timeline.trusted.stored_events]
    decodes rows (the rare kinds through ``Event.from_dict``); anything it does not vouch
    for, or any error, is decoded again by ``Timeline.from_dict``, which gives the
    answer. Safe for data from outside.

    Args:
        data: A timeline record (``Timeline.to_dict()`` output, e.g. a line of a JSON
            Lines export).

    Raises:
        TimelineError: the record is not a valid timeline (as ``Timeline.from_dict``).
    """
    if type(data) is dict and len(data) == 2 and "events" in data and "ticket_id" in data:
        raw = data["events"]
        if type(raw) is list:
            try:
                timeline = Timeline(_fast_events(raw))
            except (Untrusted, TimelineError, ValueError, TypeError, KeyError):
                pass  # the validating decoder says what is wrong
            else:
                if data["ticket_id"] == timeline.ticket_id:
                    return timeline
    return Timeline.from_dict(data)


def _stored_event(data: Any, index: int) -> Event:
    """A store row of a kind without a trusted decoder: its class's validating constructor,
    exactly as the stores decode a row (``kind`` and ``at`` turned, every other key a
    keyword argument, so a missing or unknown key is a ``TypeError``)."""
    data = dict(data)
    cls = EVENT_TYPES[data.pop("kind")]
    data["at"] = parse_instant(data["at"])
    return cls(**data)


def stored_events(rows: list[Any]) -> list[Event]:
    """The events of one stream's stored rows, built without their validating
    constructors where each value can be checked by its exact type.

    ``rows`` are the dicts a store wrote (``json.loads`` of ``Event.to_dict()`` text), in
    version order. For the common kinds (``created``, ``message_added``,
    ``status_changed``, ``assigned``) it checks the key set (the one ``to_dict`` writes,
    in any order), each value by its exact type (``str`` not empty where the field
    requires it, enum values by membership, ``bool`` for ``public``, ``None`` for
    ``workflow_version``), the rules between fields the constructors enforce, an aware
    ISO 8601 ``at``, and that every row belongs to the ticket of the first; ``meta`` and
    ``fields`` are frozen with the constructors' own converters. Other kinds are built by
    their class's validating constructor (``cls(**row)`` with ``at`` parsed). It does not
    check the order of the events or the status moves: that is the
    [`Timeline`][csmkit.timeline.Timeline]'s fold, which the caller still runs.

    Every list it returns equals the validating constructors' events for the same rows.

    Args:
        rows: The stream's rows, first to last.

    Returns:
        The events, in order.

    Raises:
        Untrusted: a row it does not vouch for: no rows, a row that is not a ``dict``,
            another ticket's row, another key set, a value of another type or outside
            its enum, an ``at`` that is not an aware ISO 8601 instant, a combination the
            constructor refuses (an ``Assigned`` to nobody, a private inbound message),
            a ``TicketCreated`` with a ``workflow_version``. Decode the rows the
            validating way, which raises naming the row, or gives the same events.
        ValueError: ``meta``, ``fields`` or ``tags`` the constructors' converters
            refuse (a ``TimelineError``), or a row of a rare kind its constructor refuses
            (also ``TypeError`` and ``KeyError``: a missing, unknown or mistyped key).
            Fall back the same way.
    """
    return _fast_events(rows, _stored_event)
