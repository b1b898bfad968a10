"""Private helper: pickle a value through its constructor arguments.

Values that keep derived state (compiled closures, lazily built indexes, memo caches)
are pickled as "call the constructor again with these arguments": the derived state
never enters the pickle, the loaded value is validated like a new one, and the caches
are rebuilt by the constructor (or lazily, on first use) in the loading process.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, TypeVar

import attrs

__all__ = ["rebuild", "reduce_by_init"]

T = TypeVar("T")


def rebuild(cls: type[T], arguments: dict[str, Any], proxies: tuple[str, ...] = ()) -> T:
    """Call ``cls(**arguments)``: the loading half of `reduce_by_init()`.

    The arguments named in ``proxies`` were read-only mapping views (which pickle
    cannot store); they are wrapped again so the loaded value has the same types.
    """
    for name in proxies:
        arguments[name] = MappingProxyType(arguments[name])
    return cls(**arguments)


def reduce_by_init(value: Any) -> tuple[Any, tuple[Any, ...]]:
    """A ``__reduce__`` result that rebuilds an ``attrs`` value from its init fields.

    Fields with ``init=False`` (caches, indexes) are left out; a field's alias is used,
    so private fields such as ``_buckets`` go back in as ``buckets=``.
    """
    cls = type(value)
    arguments: dict[str, Any] = {}
    proxies: list[str] = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        item = getattr(value, field.name)
        if isinstance(item, MappingProxyType):
            item = dict(item)
            proxies.append(field.alias)
        arguments[field.alias] = item
    return (rebuild, (cls, arguments, tuple(proxies)) if proxies else (cls, arguments))
