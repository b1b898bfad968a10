"""Event building of [`Workflow.fire()`][csmkit.workflow.Workflow.fire] (after the engine allowed
it) and timer schedules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from csmkit._jsonvalue import JsonValue
from csmkit.errors import WorkflowError
from csmkit.timeline import (
    CORE_FIELDS,
    Event,
    FieldChanged,
    Priority,
    StatusChanged,
    Ticket,
    Timeline,
)
from csmkit.timeline.trusted import trusted_event
from csmkit.workflow import _fast
from csmkit.workflow._engine import Plan
from csmkit.workflow._model import State, TimedTransition
from csmkit.workflow._verdict import BusinessClock, Due

__all__ = ["fire_with_data", "reference_fire_events", "schedule"]


def reference_fire_events(
    current: Ticket,
    transition: str,
    target: State,
    *,
    actor: str,
    at: datetime,
    data: Mapping[str, JsonValue],
    reason: str | None,
) -> tuple[Ticket, tuple[Event, ...]]:
    """The reference semantics of [`Workflow.fire()`][csmkit.workflow.Workflow.fire] after the check
    passed.

    Validating constructors and [`Ticket.apply()`][csmkit.timeline.Ticket.apply] throughout: one
    ``FieldChanged`` per data item whose value differs, then the ``StatusChanged``. ``fire`` takes a
    faster road to the same result (compared with this in the tests) and uses this one only
    for the inputs that must raise the timeline's own errors.
    """
    events: list[Event] = []
    new = current
    for key, value in data.items():
        old = getattr(current, key) if key in CORE_FIELDS else current.fields.get(key)
        if old != value:
            changed = FieldChanged(
                ticket_id=current.id, at=at, actor=actor, name=key, old=old, new=value
            )
            events.append(changed)
            new = new.apply(changed)
    event = StatusChanged(
        ticket_id=current.id,
        at=at,
        actor=actor,
        from_status=current.status,
        to_status=target.name,
        category=target.category,
        transition=transition,
        reason=reason,
    )
    events.append(event)
    return new.apply(event), tuple(events)


def fire_with_data(
    current: Ticket,
    plan: Plan,
    actor: str,
    at: datetime,
    frozen: Mapping[str, JsonValue],
    reason: str | None,
) -> tuple[Ticket, tuple[Event, ...]]:
    """``Workflow.fire``'s events and ticket when the transition writes data (checked, in order)."""
    events: list[Event] = []
    changes: dict[str, Any] = {}
    fields: dict[str, JsonValue] | None = None
    ticket_id = current.id
    for key, value in frozen.items():
        if key in CORE_FIELDS:
            old = getattr(current, key)
            if old == value:
                continue
            # core values are normalised by the validating constructor
            changed = FieldChanged(
                ticket_id=ticket_id, at=at, actor=actor, name=key, old=old, new=value
            )
            changes[key] = Priority(changed.new) if key == "priority" else changed.new
        else:
            old = current.fields.get(key)
            if old == value:
                continue
            changed = trusted_event(
                FieldChanged, ticket_id=ticket_id, at=at, actor=actor, name=key, old=old,
                new=value,
            )  # fmt: skip
            if fields is None:
                fields = dict(current.fields)
            if value is None:
                fields.pop(key, None)
            else:
                fields[key] = value
        events.append(changed)
    if fields is not None:
        changes["fields"] = _fast.freeze_fields(fields)
    status = _fast.status_changed(
        ticket_id, at, actor, current.status, plan.target, plan.category, plan.name, reason
    )
    events.append(status)
    changes["status"] = plan.target
    changes["category"] = plan.category
    changes["updated_at"] = at
    changes["version"] = current.version + len(events)
    return _fast.replace_ticket(current, changes), tuple(events)


def schedule(
    timed: Sequence[TimedTransition],
    current: Ticket,
    timeline: Timeline | None,
    calendar: BusinessClock | None,
) -> tuple[Due, ...]:
    """The body of
    [`Workflow.scheduled_transitions()`][csmkit.workflow.Workflow.scheduled_transitions]
    (``current`` is the ticket)."""
    out = []
    for rule in timed:
        if rule.state != current.status:
            continue
        if rule.since == "updated":
            since = current.updated_at
        elif timeline is not None:
            since = current.created_at
            for event in reversed(timeline):
                if isinstance(event, StatusChanged):
                    since = event.at
                    break
        elif current.version == 1:
            since = current.created_at
        else:
            raise WorkflowError(
                f"timed transition {rule.transition!r} counts from entering "
                f"{rule.state!r}; pass the ticket's Timeline, not the Ticket"
            )
        if rule.clock == "business":
            if calendar is None:
                raise WorkflowError(
                    f"timed transition {rule.transition!r} counts business time; pass "
                    "calendar= (an object with add(at, delta), e.g. a BusinessCalendar)"
                )
            due_at = calendar.add(since, rule.after)
        else:
            due_at = since + rule.after
        out.append(
            Due(
                transition=rule.transition,
                state=rule.state,
                due_at=due_at,
                since=since,
                data=rule.data,
            )
        )
    out.sort(key=lambda due: due.due_at)
    return tuple(out)
