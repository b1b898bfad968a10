"""Group keys of reports: dotted paths into tickets, checked against the data.

A report grouped by a name no ticket has would put every ticket in one blank group: a
plausible table built on a typo. `GroupPaths` reads the key of each ticket and
remembers which paths resolved at least once, so the report can refuse a name that no
ticket has, with a "did you mean" from the names that do exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from csmkit._suggest import did_you_mean
from csmkit.errors import MetricsError
from csmkit.timeline import Ticket

__all__ = ["GroupPaths", "resolve"]

_TICKET_ATTRIBUTES: tuple[str, ...] = tuple(field.name for field in attrs.fields(Ticket))
_MAX_FIELD_NAMES = 1000  # enough for any real form; bounds memory on hostile data


_ATTRIBUTE_NAMES: dict[type, frozenset[str]] = {}


def _attribute_names(cls: type) -> frozenset[str]:
    names = _ATTRIBUTE_NAMES.get(cls)
    if names is None:
        names = _ATTRIBUTE_NAMES[cls] = frozenset(field.name for field in attrs.fields(cls))
    return names


def _step(value: Any, part: str) -> tuple[bool, Any]:
    if isinstance(value, Mapping):
        return (True, value[part]) if part in value else (False, None)
    if attrs.has(type(value)):
        found = part in _attribute_names(type(value))
        return (True, getattr(value, part)) if found else (False, None)
    if part.startswith("_") or not hasattr(value, part):
        return False, None
    found = getattr(value, part)
    return (False, None) if callable(found) else (True, found)


def resolve(ticket: Any, path: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``path`` names something on ``ticket``, else ``(False, None)``.

    ``"channel"`` reads an attribute, ``"fields.region"`` a form field; the value may be
    ``None`` (an unassigned ticket has an ``assignee``: ``None``). A path that runs into
    ``None`` half way (``fields.address.city`` with no address) is not found on this
    ticket. Lists become tuples so that they can be part of a group key.
    """
    value = ticket
    for part in path.split("."):
        if value is None:
            return False, None
        found, value = _step(value, part)
        if not found:
            return False, None
    return True, _hashable(value)


def _hashable(value: Any) -> Any:
    """A group-key form of ``value``: lists become tuples, JSON objects JSON text."""
    if isinstance(value, str):
        return str(value)  # a plain str, whatever subclass the data used
    if isinstance(value, Mapping):
        return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, (list, tuple)):
        items = tuple(_hashable(item) for item in value)
        if any(isinstance(item, Mapping) for item in value):
            return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False, default=str)
        return items
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class GroupPaths:
    """The group keys of tickets by ``paths``, and which paths any ticket had.

    Args:
        paths: Attribute names or dotted paths (``"channel"``, ``"fields.region"``).
        what: How the caller names the paths in messages (``"by"``).
    """

    def __init__(self, paths: Sequence[str], what: str = "by") -> None:
        if isinstance(paths, str):
            raise MetricsError(f"{what} must be a list of field names, got the string {paths!r}")
        for path in paths:
            if not isinstance(path, str) or not path or "" in path.split("."):
                raise MetricsError(f"{what}: {path!r} is not a field name or dotted path")
        self.paths = tuple(paths)
        self.what = what
        self.tickets = 0
        self._found = [False] * len(self.paths)
        self._field_names: set[str] = set()

    def key(self, ticket: Any) -> list[Any]:
        """The values of ``ticket`` at each path (``None`` where it has none)."""
        self.tickets += 1
        fields = getattr(ticket, "fields", None)
        if isinstance(fields, Mapping) and len(self._field_names) < _MAX_FIELD_NAMES:
            self._field_names.update(str(name) for name in fields)
        out = []
        for index, path in enumerate(self.paths):
            found, value = resolve(ticket, path)
            if found:
                self._found[index] = True
            out.append(value)
        return out

    def merge(self, other: GroupPaths) -> None:
        """Add what ``other`` saw (the same paths, another partition of the tickets)."""
        self.tickets += other.tickets
        self._found = [
            mine or theirs for mine, theirs in zip(self._found, other._found, strict=True)
        ]
        room = _MAX_FIELD_NAMES - len(self._field_names)
        if room > 0:
            self._field_names.update(sorted(other._field_names - self._field_names)[:room])

    def names(self) -> list[str]:
        """Names that exist: ticket attributes and the form fields seen."""
        return [*_TICKET_ATTRIBUTES, *(f"fields.{name}" for name in sorted(self._field_names))]

    def check(self) -> None:
        """Raise when a path was on no ticket (nothing is checked without tickets).

        Raises:
            MetricsError: naming every such path, with a "did you mean" each.
        """
        if not self.tickets:
            return
        missing = [path for path, found in zip(self.paths, self._found, strict=True) if not found]
        if not missing:
            return
        names = self.names()
        problems = [f"{path!r}{did_you_mean(path, names)}" for path in missing]
        raise MetricsError(
            f"{self.what}: no ticket (of {self.tickets}) has {', '.join(problems)}; "
            "group by a ticket attribute or fields.NAME"
        )
