"""Execution helpers of [`Workflow.fire()`][csmkit.workflow.Workflow.fire]: per-transition plans and
event building."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from csmkit._jsonvalue import EMPTY, JsonValue, freeze
from csmkit.conditions import Condition
from csmkit.errors import WorkflowError
from csmkit.timeline import (
    CORE_FIELDS,
    Event,
    FieldChanged,
    Priority,
    StatusCategory,
    StatusChanged,
    Ticket,
    Timeline,
)
from csmkit.timeline._events import trusted_event
from csmkit.workflow import _fast
from csmkit.workflow._forms import FormSchema
from csmkit.workflow._model import Actor, State, TimedTransition, Transition
from csmkit.workflow._validate import RESERVED_DATA_KEYS
from csmkit.workflow._verdict import BusinessClock, Due, Reason

__all__ = [
    "Plan",
    "check_data",
    "condition_context",
    "fire_with_data",
    "present",
    "reference_fire_events",
    "schedule",
    "separation_reasons",
]


def present(value: object) -> bool:
    """Whether a field value counts as given for ``required`` (not None, "" or empty)."""
    return value is not None and value != "" and value != ()


class Plan:
    """What ``fire`` needs of one transition, computed once per definition."""

    __slots__ = (
        "category",
        "condition",
        "name",
        "needs_actor",
        "required",
        "roles",
        "separation",
        "sources",
        "target",
        "transition",
    )

    def __init__(self, transition: Transition, sources: frozenset[str], target: State) -> None:
        self.transition = transition
        self.name: str = transition.name
        self.sources = sources
        self.target: str = target.name
        self.category: StatusCategory = target.category
        self.roles: frozenset[str] = transition.roles
        self.condition: Condition | None = transition.condition
        self.needs_actor = transition.condition is not None and any(
            name.split(".", 1)[0] == "actor" for name in transition.condition.names
        )
        self.required: tuple[str, ...] = transition.required
        self.separation = bool(transition.separation)


def condition_context(
    current: Ticket,
    frozen: Mapping[str, JsonValue],
    actor: Actor,
    needs_actor: bool,
) -> dict[str, Any]:
    """What a transition condition sees (``actor`` only built when it is read)."""
    fields = current.fields
    context: dict[str, Any] = {
        "ticket": current,
        "fields": {**fields, **frozen} if frozen else fields,
        "data": frozen,
    }
    if needs_actor:
        context["actor"] = actor.to_dict()
    return context


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


def check_data(
    form: FormSchema | None, data: object
) -> tuple[Mapping[str, JsonValue], list[Reason]]:
    """Check and freeze a transition's data: the frozen data and every reason against it."""
    if not isinstance(data, Mapping):
        return EMPTY, [Reason("invalid_data", f"data must be a mapping, got {type(data).__name__}")]
    reasons: list[Reason] = []
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key:
            reasons.append(Reason("invalid_data", f"data key {key!r} is not a field name"))
            continue
        if key in RESERVED_DATA_KEYS:
            reasons.append(Reason("invalid_data", f"data may not write ticket attribute {key!r}"))
            continue
        try:
            clean[key] = freeze(value, f"data.{key}")
        except ValueError as exc:
            reasons.append(Reason("invalid_data", str(exc)))
    if form is not None:
        for key, value in clean.items():
            if key in CORE_FIELDS:
                continue
            if key not in form:
                if not form.allow_unknown:
                    reasons.append(Reason("form", f"{key}: is not a field of the form"))
            elif value is not None:
                reasons.extend(Reason("form", str(e)) for e in form.field(key).check_value(value))
    return MappingProxyType(clean), reasons


def separation_reasons(
    transition: Transition, actor: Actor, timeline: Timeline | None
) -> list[Reason]:
    """The separation-of-duty reasons against ``actor`` firing ``transition``."""
    if timeline is None:
        return [
            Reason(
                "history_needed",
                f"{transition.name!r} has a separation-of-duty rule; pass the ticket's "
                "Timeline instead of the Ticket",
            )
        ]
    reasons = []
    changes = [e for e in timeline if isinstance(e, StatusChanged)]
    for rule in transition.separation:
        for name in rule.not_actor_of:
            actors = [e.actor for e in changes if e.transition == name]
            if rule.scope == "last":
                actors = actors[-1:]
            if actor.id in actors:
                which = "last fired" if rule.scope == "last" else "fired"
                reasons.append(
                    Reason(
                        "separation_of_duty",
                        f"actor {actor.id!r} {which} {name!r} and may not fire {transition.name!r}",
                    )
                )
    return reasons


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
