"""Recurring-problem detection: clusters of similar tickets worth a root-cause analysis."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit._jsonvalue import thaw
from csmkit._time import require_aware
from csmkit.errors import AutomationError
from csmkit.timeline import Linked, Ticket, Timeline

__all__ = ["PROBLEM_RELATION", "ProblemCluster", "recurring_problems", "similarity_key"]

PROBLEM_RELATION = "problem"
"""``Linked.relation`` from an incident to its problem record."""


@attrs.frozen
class ProblemCluster:
    """Similar tickets within a window.

    Attributes:
        key: The shared values, ``{attribute: value}`` in the order of ``by``.
        ticket_ids: The tickets, oldest first.
        first_at: Creation of the oldest.
        last_at: Creation of the newest.
        problems: Problem records any of them is already linked to (sorted).
    """

    key: tuple[tuple[str, Any], ...]
    ticket_ids: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    problems: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """Number of tickets."""
        return len(self.ticket_ids)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "key": dict(self.key),
            "ticket_ids": list(self.ticket_ids),
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "problems": list(self.problems),
        }


def _walk(ticket: Ticket, path: str) -> Any:
    parts = path.split(".")
    if parts[0] == "fields" and len(parts) == 2:
        return thaw(ticket.fields.get(parts[1]))
    if len(parts) == 1 and hasattr(ticket, parts[0]):
        value = getattr(ticket, parts[0])
        return getattr(value, "value", value)
    raise AutomationError(f"by: {path!r} is not a ticket attribute or fields.<name>")


def similarity_key(ticket: Ticket, by: Sequence[str]) -> tuple[tuple[str, Any], ...] | None:
    """The values of ``by`` for ``ticket``; ``None`` when one of them is missing."""
    key = []
    for path in by:
        value = _walk(ticket, path)
        if value is None or value == "" or isinstance(value, (list, dict)):
            return None
        key.append((path, value))
    return tuple(key)


def recurring_problems(
    timelines: Iterable[Timeline],
    *,
    by: Sequence[str],
    window: timedelta,
    now: datetime,
    min_count: int = 3,
    exclude_types: Iterable[str] = ("problem",),
) -> tuple[ProblemCluster, ...]:
    """Clusters of at least ``min_count`` tickets created within ``window`` before ``now``
    that share the values of ``by`` (e.g. ``["fields.product_model", "fields.symptom"]``).

    Tickets missing one of the values, and tickets of the ``exclude_types`` (problem
    records themselves), are left out. Largest clusters first, then by key.

    Raises:
        AutomationError: empty ``by``, a non-positive window, ``min_count < 1``, naive ``now``.
    """
    if not by:
        raise AutomationError("by: give at least one attribute")
    if not isinstance(window, timedelta) or window <= timedelta(0):
        raise AutomationError(f"window must be a positive timedelta, got {window!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise AutomationError(f"min_count must be an integer >= 1, got {min_count!r}")
    require_aware(now, "now", AutomationError)
    skip = frozenset(exclude_types)
    groups: dict[tuple[tuple[str, Any], ...], list[tuple[datetime, str, tuple[str, ...]]]] = {}
    start = now - window
    for timeline in timelines:
        if not start <= timeline.created_at <= now:
            continue
        ticket = timeline.state_at(now) if timeline.updated_at > now else timeline.ticket
        if ticket.type in skip:
            continue
        key = similarity_key(ticket, by)
        if key is None:
            continue
        linked = tuple(
            e.other_ticket for e in timeline.of_type(Linked) if e.relation == PROBLEM_RELATION
        )
        groups.setdefault(key, []).append((timeline.created_at, timeline.ticket_id, linked))
    clusters = []
    for key, members in groups.items():
        if len(members) < min_count:
            continue
        members.sort()
        clusters.append(
            ProblemCluster(
                key=key,
                ticket_ids=tuple(m[1] for m in members),
                first_at=members[0][0],
                last_at=members[-1][0],
                problems=tuple(sorted({p for m in members for p in m[2]})),
            )
        )
    clusters.sort(key=lambda c: (-c.count, repr(c.key)))
    return tuple(clusters)
