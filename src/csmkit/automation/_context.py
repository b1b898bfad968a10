"""What a rule sees: the context its conditions and templated parameters read.

One context for both, so a value a condition can test is a value an action can use:
``ticket`` (the [`Ticket`][csmkit.timeline.Ticket]), ``fields`` (its form fields),
``event`` (the triggering event's dict form, or the time/SLA occurrence), ``stats``
(counts from [`ticket_stats()`][csmkit.automation.ticket_stats]), ``customer`` (the customer's
profile with ``id`` and ``name``) and ``assets`` (the customer's assets as dicts).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from csmkit.timeline import (
    EVENT_TYPES,
    Direction,
    Escalated,
    Event,
    MessageAdded,
    StatusCategory,
    StatusChanged,
    Ticket,
    WorkflowMigrated,
)

if TYPE_CHECKING:
    from csmkit.automation._results import Environment

__all__ = [
    "CONDITION_ROOTS",
    "STATS",
    "check_name",
    "is_automatic",
    "rule_context",
    "ticket_stats",
]

STATS: frozenset[str] = frozenset(
    {"agent_replies", "customer_messages", "escalations", "reopens", "notes"}
)
"""Counts a condition may read as ``stats.<name>``."""

CONDITION_ROOTS: frozenset[str] = frozenset(
    {"ticket", "fields", "event", "stats", "customer", "assets"}
)
"""Root names a rule's ``when`` (and a templated action parameter) may use."""

TICKET_ATTRIBUTES = frozenset(a.name for a in attrs.fields(Ticket))
EVENT_KEYS = frozenset(
    {a.name for cls in EVENT_TYPES.values() for a in attrs.fields(cls)}
    | {"kind", "target", "cycle", "fraction", "anchor", "due_at"}
)
_DONE = (StatusCategory.SOLVED, StatusCategory.CLOSED)


def is_automatic(event: Event) -> bool:
    """Whether a rule or a timed transition wrote ``event`` (not a person)."""
    return "rule" in event.meta or "timed" in event.meta


def ticket_stats(events: Iterable[Event]) -> dict[str, int]:
    """Counts conditions read as ``stats.*`` (automatic events are not agent work).

    ``agent_replies``: public outbound messages not written by a rule;
    ``customer_messages``: inbound messages; ``escalations``; ``reopens`` (leaving
    solved/closed); ``notes``: internal notes not written by a rule.
    """
    stats = dict.fromkeys(
        ("agent_replies", "customer_messages", "escalations", "reopens", "notes"), 0
    )
    category: StatusCategory | None = None
    for event in events:
        if isinstance(event, MessageAdded):
            if event.direction is Direction.INBOUND:
                stats["customer_messages"] += 1
            elif not is_automatic(event):
                stats["agent_replies" if event.public else "notes"] += 1
        elif isinstance(event, Escalated):
            stats["escalations"] += 1
        elif isinstance(event, (StatusChanged, WorkflowMigrated)):
            if category in _DONE and event.category not in _DONE:
                stats["reopens"] += 1
            category = event.category
        elif event.kind == "created":
            category = getattr(event, "category", None)
    return stats


def rule_context(
    ticket: Ticket | None,
    fields: Mapping[str, Any],
    event: Mapping[str, Any],
    stats: Mapping[str, int],
    env: Environment,
) -> dict[str, Any]:
    """The mapping a rule's condition and templated parameters are resolved against."""
    return {
        "ticket": ticket,
        "fields": fields,
        "event": event,
        "stats": stats,
        "customer": env.customer,
        "assets": list(env.assets),
    }


def _check_field(
    name: str, where: str, fields: Collection[str] | None, problems: list[str]
) -> None:
    if fields is not None and name not in fields:
        problems.append(f"{where}: unknown field {name!r} (known: {', '.join(sorted(fields))})")


def check_name(name: str, where: str, fields: Collection[str] | None, problems: list[str]) -> None:
    """Append a problem when the dotted ``name`` cannot be in a rule's context.

    Roots are [`CONDITION_ROOTS`][csmkit.automation.CONDITION_ROOTS]; ``ticket.<attribute>`` must be
    a ticket attribute, ``fields.<name>`` a known form field (when ``fields`` is given),
    ``stats.<name>`` one of [`STATS`][csmkit.automation.STATS], ``event.<key>`` a key some event
    has; ``customer.<key>`` reads the profile (any key); ``assets`` is a list, used whole.
    """
    parts = name.split(".")
    root = parts[0]
    if any(not part or part.startswith("_") for part in parts):
        problems.append(f"{where}: {name!r} is not a dotted name of public names")
    elif root not in CONDITION_ROOTS:
        problems.append(
            f"{where}: unknown name {name!r}; names start with {', '.join(sorted(CONDITION_ROOTS))}"
        )
    elif root == "ticket" and len(parts) > 1:
        if parts[1] not in TICKET_ATTRIBUTES:
            problems.append(f"{where}: {name!r}: a ticket has no attribute {parts[1]!r}")
        elif parts[1] == "fields" and len(parts) > 2:
            _check_field(parts[2], where, fields, problems)
    elif root == "fields" and len(parts) > 1:
        _check_field(parts[1], where, fields, problems)
    elif root == "stats" and (len(parts) != 2 or parts[1] not in STATS):
        problems.append(f"{where}: {name!r}: stats are {', '.join(sorted(STATS))}")
    elif root == "event" and len(parts) > 1 and parts[1] not in EVENT_KEYS:
        problems.append(f"{where}: {name!r}: no event has {parts[1]!r}")
    elif root == "assets" and len(parts) > 1:
        problems.append(f"{where}: {name!r}: assets is a list; use it whole (len(assets))")


def check_field(name: str, where: str, fields: Collection[str] | None, problems: list[str]) -> None:
    """Append a problem when ``name`` is not one of the known form ``fields``."""
    _check_field(name, where, fields, problems)
