"""A ticket's folded state as JSON, kept beside its stream so appends need not re-fold it."""

from __future__ import annotations

import json
from operator import attrgetter
from typing import Any

import attrs

from csmkit._time import format_instant, parse_instant
from csmkit.errors import CsmkitError
from csmkit.storage._eventjson import dumps
from csmkit.timeline import Ticket

__all__ = ["dump_state", "load_state"]

_NAMES: tuple[str, ...] = tuple(attribute.name for attribute in attrs.fields(Ticket))
_VALUES = attrgetter(*_NAMES)  # every attribute at once (a tuple: Ticket has several)
_INSTANTS = ("created_at", "updated_at")


def dump_state(ticket: Ticket, created_at: str | None = None, updated_at: str | None = None) -> str:
    """The ticket's state as compact JSON (every attribute, instants with their offset).

    Status category and priority are ``str`` enums and ``fields`` a ``dict``, which
    ``json`` writes as their values directly; only the instants need formatting (pass
    them when already formatted).
    """
    data: dict[str, Any] = dict(zip(_NAMES, _VALUES(ticket), strict=True))
    data["created_at"] = created_at or format_instant(ticket.created_at)
    data["updated_at"] = updated_at or format_instant(ticket.updated_at)
    return dumps(data)


def load_state(text: object, ticket_id: str, version: int) -> Ticket | None:
    """Rebuild (and validate) a state written by `dump_state()`.

    Returns ``None`` when ``text`` is missing (rows written before schema 3), unreadable,
    or not the state of ``ticket_id`` at ``version``: the caller then folds the stream.
    """
    if not isinstance(text, str):
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or set(data) != set(_NAMES):
            return None
        for name in _INSTANTS:
            data[name] = parse_instant(data[name])
        ticket = Ticket(**data)
    except (CsmkitError, ValueError, TypeError, KeyError):
        return None
    if ticket.id != ticket_id or ticket.version != version:
        return None
    return ticket
