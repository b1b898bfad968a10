"""Fast, non-validating construction of tickets and events for
[`Workflow.fire()`][csmkit.workflow.Workflow.fire].

``Workflow.fire`` builds a new [`Ticket`][csmkit.timeline.Ticket] and a
[`StatusChanged`][csmkit.timeline.StatusChanged] from values it has already checked, so running
the attrs validators again is wasted work. The Foundation's ``Ticket._replace`` and
``trusted_event`` skip validation but still set each slot with
``object.__setattr__`` (a slow slot-wrapper call, ~100 ns each on CPython 3.11), which
costs more than the rest of ``fire`` together.

Here each frozen class gets a private *mutable twin*: a subclass adding no slots whose
``__setattr__``/``__delattr__`` are `object`'s again, so plain attribute stores
compile to CPython's specialised slot stores. An instance is created as the twin,
filled, and then turned into the real class by assigning ``__class__`` (allowed: the
layouts are identical). The result is an ordinary, frozen ``Ticket`` / ``StatusChanged``.

The builders name every field explicitly. At import the field lists are compared with
the classes' attrs fields and a sample is built and compared with the validating
constructor; if anything differs (a Foundation change, another Python
implementation), `FAST` is false and the builders fall back to ``Ticket._replace``
and ``trusted_event``. Tests compare both paths with ``Ticket.apply`` and the
validating constructors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from csmkit._jsonvalue import EMPTY, FrozenMap, JsonValue
from csmkit.timeline import StatusCategory, StatusChanged, Ticket
from csmkit.timeline.trusted import replaced_ticket, trusted_event

__all__ = ["FAST", "enter", "freeze_fields", "replace_ticket", "status_changed"]

_TICKET_FIELDS = (
    "id",
    "type",
    "channel",
    "status",
    "category",
    "priority",
    "customer_id",
    "subject",
    "assignee",
    "group",
    "fields",
    "tags",
    "created_at",
    "updated_at",
    "version",
    "workflow",
    "workflow_version",
    "escalation_level",
)
_TICKET_NAMES = frozenset(_TICKET_FIELDS)
_STATUS_CHANGED_FIELDS = (
    "ticket_id",
    "at",
    "actor",
    "meta",
    "from_status",
    "to_status",
    "category",
    "transition",
    "reason",
)


class _MutableStatusChanged(StatusChanged):
    """Same slots as [`StatusChanged`][csmkit.timeline.StatusChanged], ordinary attribute
    assignment; never escapes."""

    __slots__ = ()
    __setattr__ = object.__setattr__
    __delattr__ = object.__delattr__


_new = object.__new__


def _fast_status_changed(
    ticket_id: str,
    at: datetime,
    actor: str | None,
    from_status: str,
    to_status: str,
    category: StatusCategory,
    transition: str,
    reason: str | None,
) -> StatusChanged:
    event: Any = _new(_MutableStatusChanged)
    event.ticket_id = ticket_id
    event.at = at
    event.actor = actor
    event.meta = EMPTY
    event.from_status = from_status
    event.to_status = to_status
    event.category = category
    event.transition = transition
    event.reason = reason
    event.__class__ = StatusChanged
    result: StatusChanged = event
    return result


def _fast_enter(
    ticket: Ticket, status: str, category: StatusCategory, at: datetime, version: int
) -> Ticket:
    return replaced_ticket(ticket, status=status, category=category, updated_at=at, version=version)


def _fast_replace(ticket: Ticket, changes: Mapping[str, Any]) -> Ticket:
    # other names are not fields: not read, as before
    return replaced_ticket(ticket, **{n: v for n, v in changes.items() if n in _TICKET_NAMES})


def _slow_status_changed(
    ticket_id: str,
    at: datetime,
    actor: str | None,
    from_status: str,
    to_status: str,
    category: StatusCategory,
    transition: str,
    reason: str | None,
) -> StatusChanged:
    return trusted_event(
        StatusChanged,
        ticket_id=ticket_id,
        at=at,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        category=category,
        transition=transition,
        reason=reason,
    )


def _slow_enter(
    ticket: Ticket, status: str, category: StatusCategory, at: datetime, version: int
) -> Ticket:
    return ticket._replace(
        {"status": status, "category": category, "updated_at": at, "version": version}
    )


def _slow_replace(ticket: Ticket, changes: Mapping[str, Any]) -> Ticket:
    return ticket._replace(dict(changes))


def _fast_path_works() -> bool:
    """Whether the twins match the real classes (fields, layout, resulting values)."""
    if tuple(a.name for a in attrs.fields(Ticket)) != _TICKET_FIELDS:
        return False
    if tuple(a.name for a in attrs.fields(StatusChanged)) != _STATUS_CHANGED_FIELDS:
        return False
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        ticket = Ticket(
            id="T", type="t", channel="c", status="a", category="new", priority="normal",
            created_at=at, updated_at=at,
        )  # fmt: skip
        moved = _fast_enter(ticket, "b", StatusCategory.OPEN, at, 2)
        replaced = _fast_replace(ticket, {"status": "b", "category": StatusCategory.OPEN})
        event = _fast_status_changed("T", at, "x", "a", "b", StatusCategory.OPEN, "go", None)
    except (TypeError, AttributeError):
        return False
    reference = StatusChanged(
        ticket_id="T", at=at, actor="x", from_status="a", to_status="b", category="open",
        transition="go",
    )  # fmt: skip
    return (
        type(moved) is Ticket
        and type(event) is StatusChanged
        and moved == ticket.apply(reference)
        and replaced == attrs.evolve(ticket, status="b", category="open")
        and event == reference
    )


FAST: bool = _fast_path_works()
"""Whether the fast builders are in use (false only if the self-check failed)."""

status_changed = _fast_status_changed if FAST else _slow_status_changed
"""Build a ``StatusChanged`` from checked values (positional, in field order)."""

enter = _fast_enter if FAST else _slow_enter
"""A copy of a ticket with status, category, updated_at and version replaced."""

replace_ticket = _fast_replace if FAST else _slow_replace
"""A copy of a ticket with ``changes`` (already valid values) applied."""


def freeze_fields(fields: dict[str, JsonValue]) -> Mapping[str, JsonValue]:
    """``fields`` as the frozen mapping a ticket stores (``EMPTY`` when empty)."""
    return FrozenMap(fields) if fields else EMPTY
