"""Private helpers for JSON-safe values stored inside events and tickets.

Free-form data (ticket fields, event metadata, field-change values) must survive a trip
through any storage as JSON. It is checked once, when an event is built, and frozen so
that an event can never change after it was recorded: dicts become read-only mappings,
lists become tuples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn, TypeAlias

__all__ = ["EMPTY", "FrozenMap", "JsonValue", "freeze", "freeze_mapping", "thaw"]

JsonValue: TypeAlias = Any
"""A value made of str, int, float (finite), bool, None, tuples/lists and str-keyed maps."""


class FrozenMap(dict[str, Any]):
    """An immutable, hashable dict of frozen JSON values.

    A ``dict`` subclass, so lookups run at C speed and ``json.dumps`` accepts it, with
    every mutating method disabled; it hashes by content, so the frozen ``attrs``
    classes that hold one (events, tickets) are hashable too.
    """

    __slots__ = ("_hash",)
    _hash: int

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("this mapping is frozen; build a new one instead")

    __setitem__ = __delitem__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly
    __ior__ = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return self._hash
        except AttributeError:
            value = hash(frozenset(self.items()))
            object.__setattr__(self, "_hash", value)
            return value

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"

    def __copy__(self) -> FrozenMap:
        return self

    def __deepcopy__(self, memo: object) -> FrozenMap:
        return self

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[dict[str, Any]]]:
        return (FrozenMap, (dict(self),))


EMPTY: Mapping[str, Any] = FrozenMap()

_MAX_DEPTH = 32


def freeze(value: object, path: str, _depth: int = 0) -> JsonValue:
    """Check that ``value`` is JSON-safe and return a deeply immutable copy.

    Raises:
        ValueError: naming ``path`` and the offending value.
    """
    if _depth > _MAX_DEPTH:
        raise ValueError(f"{path}: nested deeper than {_MAX_DEPTH} levels")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} is not a finite number (JSON cannot hold it)")
        return value
    if isinstance(value, (list, tuple)):
        return tuple(freeze(item, f"{path}[{i}]", _depth + 1) for i, item in enumerate(value))
    if isinstance(value, Mapping):
        return freeze_mapping(value, path, _depth + 1)
    raise ValueError(
        f"{path}: {type(value).__name__} value {value!r} is not JSON-safe "
        "(use str, int, float, bool, None, lists and str-keyed dicts; "
        "write instants as ISO 8601 text)"
    )


def freeze_mapping(value: object, path: str, _depth: int = 0) -> Mapping[str, JsonValue]:
    """Like `freeze()` for a str-keyed mapping (the top of ``fields`` or ``meta``)."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected a mapping, got {type(value).__name__} {value!r}")
    if isinstance(value, FrozenMap):
        return value  # already checked and frozen when it was built
    if not value:
        return EMPTY
    out: dict[str, JsonValue] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValueError(f"{path}: key {key!r} is not a string")
        out[key] = freeze(item, f"{path}.{key}", _depth)
    return FrozenMap(out)


def thaw(value: JsonValue) -> JsonValue:
    """Plain, mutable JSON data (dicts and lists) from a frozen value."""
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    return value
