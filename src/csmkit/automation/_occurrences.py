"""When time and SLA rules fall due: occurrences, anchors and "already done"."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

import attrs

from csmkit._jsonvalue import thaw
from csmkit._time import format_instant, is_aware, parse_instant
from csmkit.automation._context import is_automatic
from csmkit.automation._results import Environment
from csmkit.automation._rules import Rule
from csmkit.automation._triggers import TimeTrigger
from csmkit.errors import AutomationError, WorkflowError
from csmkit.sla import SlaInstants, SlaTracker
from csmkit.timeline import StatusCategory, StatusChanged, Timeline, WorkflowMigrated

__all__ = [
    "Instants",
    "Occurrence",
    "anchor",
    "done",
    "due_timed",
    "field_instant",
    "instant",
    "occurrences",
    "sla_instants",
    "sla_wakeups",
    "timed",
]


@attrs.frozen
class Occurrence:
    """A due time rule or SLA instant (private)."""

    at: datetime
    order: int
    rule: Rule
    keys: Mapping[str, Any]
    context: Mapping[str, Any]


#: Business-time instants of time rules, by (trigger, anchor): see ``occurrences``.
Instants = dict[tuple[int, datetime, object, int], tuple[TimeTrigger, object, datetime]]
#: How many instants a memo keeps before it starts again.
_INSTANTS_KEPT = 4096


def occurrences(
    time_rules: Sequence[Rule],
    sla_rules: Sequence[Rule],
    timeline: Timeline,
    now: datetime,
    env: Environment,
    instants: Instants | None = None,
) -> list[Occurrence]:
    """Every time-rule and SLA occurrence of ``timeline`` (done or not, due or not).

    ``instants`` remembers business-time instants (``calendar.add``, a pure function
    of the trigger, the anchor and the calendar) across calls: a ticket's anchors
    rarely move, and its wake-up is computed after every operation."""
    found: list[Occurrence] = []
    for order, rule, start, when in timed(time_rules, timeline, env, instants):
        keys: dict[str, Any] = {"anchor": format_instant(start)}
        context = {"kind": "time", "anchor": start}
        found.append(Occurrence(when, order, rule, keys, context))
    # The SLA occurrences are the report's crossings: none reached, no report to build
    # (its instants are usually remembered by the tracker from the due mark).
    if sla_rules and env.sla is not None and sla_instants(timeline, now, env).crossings:
        report = env.sla.evaluate(timeline, calendar=env.calendar, now=now)
        base = len(time_rules)
        for cycle in report.cycles:
            items: list[tuple[datetime, str, dict[str, Any]]] = []
            for warning in cycle.warnings:
                if warning.reached and warning.at is not None:
                    items.append((warning.at, "sla_warning", {"fraction": warning.fraction}))
            if cycle.breached and cycle.breached_at is not None:
                items.append((cycle.breached_at, "sla_breach", {}))
            for at, kind, extra in items:
                for order, rule in enumerate(sla_rules):
                    if kind not in rule.on:
                        continue
                    keys = {"sla": cycle.target, "cycle": cycle.cycle, **extra}
                    context = {
                        "kind": kind,
                        "target": cycle.target,
                        "cycle": cycle.cycle,
                        "due_at": cycle.due_at,
                        **extra,
                    }
                    found.append(Occurrence(at, base + order, rule, keys, context))
    return found


def timed(
    time_rules: Sequence[Rule], timeline: Timeline, env: Environment, instants: Instants | None
) -> Iterator[tuple[int, Rule, datetime, datetime]]:
    """Each time rule's order, the rule, its anchor and its instant, for the rules
    that have an anchor on ``timeline`` (their occurrences' keys are made by the caller,
    only when it needs them)."""
    for order, rule in enumerate(time_rules):
        trigger = rule.time
        assert trigger is not None
        start = anchor(trigger, timeline, env)
        if start is not None:
            yield order, rule, start, _remembered(trigger, start, env, instants)


def sla_instants(timeline: Timeline, now: datetime, env: Environment) -> SlaInstants:
    """The instants of ``timeline``'s SLA report at ``now`` (``env.sla`` is set): a
    tracker gives them without building the report."""
    sla = env.sla
    assert sla is not None
    if isinstance(sla, SlaTracker):
        return sla.instants(timeline, calendar=env.calendar, now=now)
    return sla.evaluate(timeline, calendar=env.calendar, now=now).instants()


def sla_wakeups(
    sla_rules: Sequence[Rule],
    timeline: Timeline,
    now: datetime,
    after: datetime | None,
    env: Environment,
) -> list[datetime]:
    """The SLA instants a wake-up after ``after`` counts (``env.sla`` is set): each
    warning or breach reached after ``after`` that a rule on it has not answered (the
    SLA occurrences of ``occurrences()`` are the report's crossings), and the report's
    ``next_event_at``."""
    sla = sla_instants(timeline, now, env)
    found: list[datetime] = []
    for crossing in sla.crossings:
        if after is not None and crossing.at <= after:
            continue
        kind = "sla_warning" if crossing.fraction is not None else "sla_breach"
        keys: dict[str, Any] = {"sla": crossing.target, "cycle": crossing.cycle}
        if crossing.fraction is not None:
            keys["fraction"] = crossing.fraction
        if any(kind in rule.on and not done(timeline, rule.id, keys) for rule in sla_rules):
            found.append(crossing.at)
    if sla.next_event_at is not None:
        found.append(sla.next_event_at)
    return found


def _remembered(
    trigger: TimeTrigger, start: datetime, env: Environment, instants: Instants | None
) -> datetime:
    """``instant(trigger, start, env)``, from ``instants`` when it was asked before
    with the same trigger and calendar objects and the same anchor (zone and fold
    too: the calendar answers in the anchor's zone)."""
    calendar = env.calendar
    if instants is None or calendar is None or trigger.before or trigger.clock != "business":
        return instant(trigger, start, env)
    key = (id(trigger), start, start.tzinfo, start.fold)
    kept = instants.get(key)
    if kept is not None and kept[0] is trigger and kept[1] is calendar:
        return kept[2]
    when = instant(trigger, start, env)
    if len(instants) >= _INSTANTS_KEPT:
        instants.clear()
    instants[key] = (trigger, calendar, when)
    return when


def due_timed(
    timeline: Timeline, now: datetime, env: Environment, tried: set[tuple[str, datetime]]
) -> tuple[str, datetime, Mapping[str, Any]] | None:
    """The first timed workflow transition due by ``now`` and not yet ``tried``."""
    if env.workflow is None or timeline.ticket.category is StatusCategory.CLOSED:
        return None
    try:
        due = env.workflow.due_transitions(timeline, now, env.calendar)
    except WorkflowError:
        return None
    for item in due:
        if (item.transition, item.due_at) not in tried:
            return item.transition, item.due_at, item.data
    return None


def done(timeline: Timeline, rule_id: str, keys: Mapping[str, Any]) -> bool:
    """Whether an event of ``timeline`` answers the occurrence (rule and keys in meta)."""
    for event in reversed(timeline.events):
        meta = event.meta
        if meta.get("rule") == rule_id and all(meta.get(k) == v for k, v in keys.items()):
            return True
    return False


def field_instant(value: object, env: Environment) -> datetime | None:
    """A date field's value as an instant (a date starts at midnight in the env's zone)."""
    if isinstance(value, datetime):
        return value if is_aware(value) else None
    if isinstance(value, date):
        return datetime.combine(value, time(0), env.zone())
    if isinstance(value, str) and value:
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), time(0), env.zone())
            # csmkit's instant codec: the same answer on every supported Python
            return parse_instant(value)
        except ValueError:
            return None
    return None


def anchor(trigger: TimeTrigger, timeline: Timeline, env: Environment) -> datetime | None:
    """What a time trigger counts from, for ``timeline``."""
    if trigger.since == "created":
        return timeline.created_at
    if trigger.since == "updated":
        manual = next((e for e in reversed(timeline.events) if not is_automatic(e)), None)
        return manual.at if manual is not None else timeline.created_at
    if trigger.since == "status":
        change = timeline.last(StatusChanged, WorkflowMigrated)
        return change.at if change is not None else timeline.created_at
    return field_instant(thaw(timeline.ticket.fields.get(trigger.field or "")), env)


def instant(trigger: TimeTrigger, start: datetime, env: Environment) -> datetime:
    """When a time trigger falls due, counting from ``start``."""
    if trigger.before:
        return start - trigger.after
    if trigger.clock == "business":
        if env.calendar is None:
            raise AutomationError("a business-time rule needs a calendar in the environment")
        return env.calendar.add(start, trigger.after)
    return start + trigger.after
