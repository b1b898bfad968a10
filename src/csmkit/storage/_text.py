"""Text a store can hold: every string must encode as UTF-8 (no lone surrogates).

Python strings may hold lone surrogates (``"\\ud800"``; e-mail headers decoded with
``surrogateescape`` are full of them), which no UTF-8 database, file or wire format can
store. Every store refuses such text with the same [`StorageError`][csmkit.errors.StorageError],
naming the ticket, the event's index in the batch and the JSON path of the bad string, before
anything is written; lookups by such text find nothing, as no store can hold it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from csmkit.errors import StorageError
from csmkit.storage._model import Customer
from csmkit.timeline import Event

__all__ = [
    "check_batch_text",
    "check_customer_text",
    "check_payload_text",
    "check_storable",
    "storable",
]

# (JSON path, the bad text, index of its first unencodable character)
_Found = tuple[str, str, int]


def storable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (``False`` for lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _position(text: str) -> int:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return -1  # pragma: no cover - only called for unstorable text


def _member(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def _find(value: object, path: str) -> _Found | None:
    """The first string (or mapping key) under ``value`` that is not storable."""
    if isinstance(value, str):
        return None if storable(value) else (path, value, _position(value))
    if isinstance(value, Mapping):
        for key, item in value.items():
            member = _member(path, str(key))
            if isinstance(key, str) and not storable(key):
                return (member, key, _position(key))
            found = _find(item, member)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _find(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _describe(found: _Found) -> str:
    path, text, position = found
    excerpt = text[max(0, position - 20) : position + 20]
    return (
        f"{path} holds text that cannot be encoded as UTF-8 (lone surrogate "
        f"{text[position]!r} at character {position}: {excerpt!r})"
    )


_OTHER, _STR, _SEQUENCE, _MAPPING = range(4)
_SHAPES: dict[type, int] = {type(None): _OTHER, bool: _OTHER, int: _OTHER, float: _OTHER}
_SCALARS: frozenset[type] = frozenset({type(None), bool, int, float, datetime})
_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Event], tuple[Any, ...]]]] = {}


def _shape(cls: type) -> int:
    shape = _SHAPES.get(cls)
    if shape is None:  # once per type: ABC checks are slow
        if issubclass(cls, str):
            shape = _STR
        elif issubclass(cls, (list, tuple)):
            shape = _SEQUENCE
        elif issubclass(cls, Mapping):
            shape = _MAPPING
        else:
            shape = _OTHER
        _SHAPES[cls] = shape
    return shape


def _fields(cls: type[Event]) -> tuple[tuple[str, ...], Callable[[Event], tuple[Any, ...]]]:
    known = _FIELDS.get(cls)
    if known is None:
        names = tuple(attribute.name for attribute in attrs.fields(cls))
        getter = operator.attrgetter(*names)  # every event has several fields: a tuple
        known = _FIELDS[cls] = (names, getter)
    return known


def _collect(value: Any, parts: list[str]) -> None:
    """Append every string under ``value`` (mapping keys included) to ``parts``."""
    shape = _shape(type(value))
    if shape == _STR:
        parts.append(value)
    elif shape == _SEQUENCE:
        for item in value:
            _collect(item, parts)
    elif shape == _MAPPING:
        for key, item in value.items():
            _collect(key, parts)
            _collect(item, parts)


def _batch_fine(batch: Sequence[Event]) -> bool:
    """Fast path: every string of the batch, joined, encodes (no paths built)."""
    parts: list[str] = []
    for event in batch:
        for value in _fields(type(event))[1](event):
            cls = type(value)
            if cls is str:
                parts.append(value)
            elif cls not in _SCALARS and value:  # empty meta/fields: nothing to look at
                _collect(value, parts)
    return storable("".join(parts))


def _event_problem(event: Event, index: int) -> _Found | None:
    for name in _fields(type(event))[0]:
        found = _find(getattr(event, name), f"events[{index}].{name}")
        if found is not None:
            return found
    return None


def check_batch_text(ticket_id: str, batch: Sequence[Event]) -> None:
    """Refuse a batch holding any string that cannot be encoded as UTF-8.

    Walks every field of every event (the same strings, keys and paths as
    ``event.to_dict()``), so a store that never serialises (the memory store) refuses
    exactly what a UTF-8 database would.

    Raises:
        StorageError: names the ticket, the event index and the JSON path.
    """
    if _batch_fine(batch):
        return
    for index, event in enumerate(batch):
        found = _event_problem(event, index)
        if found is not None:
            raise StorageError(
                f"append to ticket {ticket_id!r}: {_describe(found)}; nothing was written"
            )


def check_payload_text(ticket_id: str, batch: Sequence[Event], payloads: Sequence[str]) -> None:
    """Like `check_batch_text()`, for a store that already serialised the batch.

    One ``encode`` of the joined JSON texts on the way in (JSON keeps lone surrogates
    as they are, so the text fails to encode exactly when some string of the batch
    does); the events are walked only when it fails, to name the path.

    Raises:
        StorageError: as `check_batch_text()`.
    """
    try:
        "".join(payloads).encode("utf-8")
    except UnicodeEncodeError:
        check_batch_text(ticket_id, batch)
        raise StorageError(  # pragma: no cover - the walk above always finds it
            f"append to ticket {ticket_id!r}: the batch holds text that cannot be encoded "
            "as UTF-8; nothing was written"
        ) from None


def check_customer_text(customer: Customer) -> None:
    """Refuse a customer whose id, name or identity values cannot be encoded as UTF-8.

    Raises:
        StorageError: names the customer and the path (``customer.identities[0].value``).
    """
    found = _find(customer.to_dict(), "customer")
    if found is not None:
        raise StorageError(f"save customer {customer.id!r}: {_describe(found)}; nothing was saved")


def check_storable(value: object, where: str) -> None:
    """Refuse ``value`` when a string (or mapping key) anywhere in it cannot be stored.

    For adapters that store documents of their own (customer profiles, assets, audit
    entries, knowledge articles): the same rule and message as the ticket stores.

    Args:
        value: A string, or mappings and sequences of them (and other scalars).
        where: What is being stored, for the message (``"save profile of 'C-1'"``).

    Raises:
        StorageError: names ``where`` and the path of the bad text
            (``attributes.name``); nothing should be written.

    Examples:
        >>> check_storable({"name": "王芳"}, "save profile")
        >>> check_storable({"name": "bad " + chr(0xD800)}, "save profile")
        Traceback (most recent call last):
        ...
        csmkit.errors.StorageError: save profile: value.name holds text that cannot be ...
    """
    found = _find(value, "value")
    if found is not None:
        raise StorageError(f"{where}: {_describe(found)}; nothing was written")
