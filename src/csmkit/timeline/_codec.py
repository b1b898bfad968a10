"""Lossless, JSON-safe dict forms of events."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from csmkit._jsonvalue import thaw
from csmkit._time import format_instant, parse_instant
from csmkit.errors import TimelineError
from csmkit.timeline._events import (
    ActionFailed,
    Assigned,
    AutoReplyReceived,
    DeliveryFailed,
    Escalated,
    Event,
    FieldChanged,
    Linked,
    MessageAdded,
    StatusChanged,
    SurveyAnswered,
    TicketCreated,
    Unassigned,
    WorkflowMigrated,
)

__all__ = ["EVENT_TYPES", "event_from_dict", "event_to_dict", "join_path"]

EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType(
    {
        cls.kind: cls
        for cls in (
            TicketCreated,
            StatusChanged,
            Assigned,
            Unassigned,
            MessageAdded,
            FieldChanged,
            Escalated,
            Linked,
            SurveyAnswered,
            WorkflowMigrated,
            DeliveryFailed,
            AutoReplyReceived,
            ActionFailed,
        )
    }
)
"""Every event class by its ``kind`` string."""


def join_path(prefix: str, path: str) -> str:
    """``"events[2]"`` + ``"at"`` → ``"events[2].at"``."""
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}.{path}"


def _encode(value: object) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, enum.Enum):
        return value.value
    return thaw(value)


# Values `_encode` returns as they are: these exact classes are neither instants, enum
# members, tuples nor mappings (a subclass may be one: it takes `_encode`).
_AS_IS: frozenset[type] = frozenset({str, int, bool, float, type(None)})


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON-safe dict form of ``event``: ``kind`` plus every field."""
    out: dict[str, Any] = {"kind": event.kind}
    for attribute in attrs.fields(type(event)):
        value = getattr(event, attribute.name)
        out[attribute.name] = value if type(value) in _AS_IS else _encode(value)
    return out


def event_from_dict(data: object, *, path: str = "", expect: type[Event] | None = None) -> Event:
    """Rebuild an event from `event_to_dict()` output.

    Args:
        data: The dict form.
        path: Where ``data`` sits in a larger document, for error messages.
        expect: When given, the event must be of this class.

    Raises:
        TimelineError: unknown ``kind``, missing or unexpected keys, or invalid values;
            the message names the path of the offending key.
    """
    if not isinstance(data, Mapping):
        raise TimelineError(f"an event must be a dict, got {type(data).__name__}", path=path)
    kind = data.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise TimelineError(
            f"unknown event kind {kind!r}; expected one of {known}", path=join_path(path, "kind")
        )
    if expect is not None and expect is not Event and cls is not expect:
        raise TimelineError(
            f"expected a {expect.kind!r} event, got {kind!r}", path=join_path(path, "kind")
        )
    fields = attrs.fields(cls)
    names = {a.name for a in fields}
    extra = sorted(set(data) - names - {"kind"})
    if extra:
        raise TimelineError(
            f"unexpected key(s) {', '.join(map(repr, extra))} for a {kind!r} event",
            path=join_path(path, extra[0]),
        )
    missing = [a.name for a in fields if a.default is attrs.NOTHING and a.name not in data]
    if missing:
        raise TimelineError(
            f"missing key(s) {', '.join(map(repr, missing))} for a {kind!r} event",
            path=join_path(path, missing[0]),
        )
    kwargs = {name: value for name, value in data.items() if name != "kind"}
    at = kwargs["at"]
    if isinstance(at, str):
        try:
            kwargs["at"] = parse_instant(at)
        except ValueError as exc:
            raise TimelineError(
                f"not an ISO 8601 instant with offset: {exc}", path=join_path(path, "at")
            ) from None
    try:
        return cls(**kwargs)
    except TimelineError as exc:
        raise TimelineError(exc.message, path=join_path(path, exc.path)) from None
