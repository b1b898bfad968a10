"""The stores' JSON text of events and ticket states, written and read at C speed.

The text is exactly ``json.dumps(event.to_dict())`` (the test suite proves it for every
event kind): events are frozen ``attrs`` classes whose values are already JSON shaped
(``FrozenMap`` is a ``dict``, tuples encode as lists, status categories and priorities are
``str`` enums), so one shared encoder writes them directly and only instants need a hook.
Reading skips the key checks of ``Event.from_dict`` for the store's own rows: the event
class's constructor still validates every value, and a key it does not know, or a missing
one, is still an error.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any

import attrs

from csmkit._time import format_instant, parse_instant
from csmkit.timeline import EVENT_TYPES, Event

__all__ = ["decode_event", "dumps", "encode_event"]


def _instant(value: object) -> str:
    if isinstance(value, datetime):
        return format_instant(value)
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serialisable")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_instant)
_DECODE = json.JSONDecoder().decode


def _c_dumps() -> Callable[[Any], str] | None:
    """``_ENCODER.encode`` without its per-call set-up, or ``None`` without the C encoder.

    ``JSONEncoder.encode`` builds a new C encoder for every call, from its own settings;
    this one is built once from the same settings, so the text is the same. It is made
    without a table of the containers being encoded (``markers``), which a shared
    encoder could not keep per call: the values are frozen and already JSON shaped, and
    a container that holds itself would fail with ``RecursionError`` rather than
    ``ValueError``, a batch refused either way.
    """
    # The module's own C encoder (None where there is none, e.g. PyPy).
    make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # pragma: no cover - CPython has it
        return None
    try:
        encoder = make_encoder(
            None,
            _ENCODER.default,
            json.encoder.encode_basestring,  # (ensure_ascii=False)
            None,
            _ENCODER.key_separator,
            _ENCODER.item_separator,
            _ENCODER.sort_keys,
            _ENCODER.skipkeys,
            _ENCODER.allow_nan,
        )
    except TypeError:  # another Python's private signature
        return None
    join = "".join

    def dumps(value: Any) -> str:
        return join(encoder(value, 0))

    # The C encoder is not public API: if another Python's writes another text for a
    # value of every kind the stores write, the general encoder is used instead.
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    probe = {"a": ["é 工单", 1, 2.5, None, True], "b": {"at": at}}
    expected = '{"a":["é 工单",1,2.5,null,true],"b":{"at":"2026-01-01T00:00:00+00:00"}}'
    try:
        same = dumps(probe) == expected
    except Exception:  # another Python's private behaviour
        same = False
    return dumps if same else None


dumps: Callable[[Any], str] = _c_dumps() or _ENCODER.encode
"""Compact JSON text (UTF-8 kept, instants as ISO 8601 with offset)."""

_FIELDS: dict[type[Event], tuple[tuple[str, ...], Any]] = {
    cls: (names, attrgetter(*names))
    for cls in EVENT_TYPES.values()
    for names in [tuple(attribute.name for attribute in attrs.fields(cls))]
}


def encode_event(event: Event, at: str | None = None) -> str:
    """``json.dumps(event.to_dict())``, compact, without building the dict twice.

    ``at``: the event's instant already formatted (``format_instant(event.at)``).
    """
    entry = _FIELDS.get(type(event))
    if entry is None:  # a subclass the codec does not know: take the general path
        return dumps(event.to_dict())
    names, values = entry
    data: dict[str, Any] = {"kind": event.kind}
    data.update(zip(names, values(event), strict=True))
    if at is not None:
        data["at"] = at
    return dumps(data)


def decode_event(text: str) -> Event:
    """The event stored as ``text`` by `encode_event()`.

    Raises:
        ValueError, TypeError, KeyError: the text is not a stored event (callers turn
            it into a ``StorageError`` naming the row).
    """
    data = _DECODE(text)
    cls = EVENT_TYPES[data.pop("kind")]
    data["at"] = parse_instant(data["at"])
    return cls(**data)
