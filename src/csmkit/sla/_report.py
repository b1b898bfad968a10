"""The SLA report's values: per-target cycles, their warnings and states."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit._time import format_instant
from csmkit.timeline import Priority

__all__ = ["SlaCrossing", "SlaCycle", "SlaInstants", "SlaReport", "SlaState", "SlaWarning"]


class SlaState(str, enum.Enum):
    """Where a target's cycle stands. Breach is a separate flag (``SlaCycle.breached``)."""

    RUNNING = "running"
    """The clock is counting."""
    PAUSED = "paused"
    """The clock stands still (the ticket is in a pause category)."""
    MET = "met"
    """The cycle stopped by its stop event (reply sent, ticket solved)."""
    CANCELLED = "cancelled"
    """The cycle ended without its stop event (e.g. solved before any reply, or the
    new priority has no goal for this target)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


@attrs.frozen
class SlaWarning:
    """One warning threshold of a cycle.

    Attributes:
        fraction: Share of the goal, e.g. ``0.75``.
        at: When it was reached, or when it will be if the clock keeps counting
            (for a paused cycle: if it resumed at ``now``); ``None`` for a stopped
            cycle that never reached it.
        reached: Whether it has been reached.
    """

    fraction: float
    at: datetime | None
    reached: bool


def _iso(value: datetime | None) -> str | None:
    return None if value is None else format_instant(value)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


@attrs.frozen
class SlaCycle:
    """The state of one cycle of one target (first response, a next response …).

    Attributes:
        target: Target name (``"resolution"`` …).
        cycle: 1-based number of the cycle within its target.
        state: running, paused, met or cancelled.
        breached: Whether the goal was exceeded (stays true once it happened).
        breached_at: When the breach happened, or ``None``.
        priority: The ticket's priority the current goal comes from.
        goal: The goal in force (business or calendar time, see ``business``).
        business: Whether time is counted on the business calendar.
        started_at: When the cycle started.
        stopped_at: When it was met or cancelled (``None`` while running/paused).
        due_at: The current due instant: where the elapsed time reaches the goal,
            pushed out by paused time (for a paused cycle: if it resumed at ``now``;
            for a stopped one: as it stood when it stopped).
        original_due_at: ``started_at`` plus the goal, as if the clock never paused.
        elapsed: Counted (business or calendar) time, up to ``stopped_at`` or ``now``.
        remaining: ``goal - elapsed``; negative after a breach.
        remaining_wall: Calendar time from ``now`` to ``due_at`` for running and paused
            cycles, as desks show countdowns (negative after a breach); ``None`` when
            stopped.
        warnings: One [`SlaWarning`][csmkit.sla.SlaWarning] per threshold, ascending.
    """

    target: str
    cycle: int
    state: SlaState
    breached: bool
    breached_at: datetime | None
    priority: Priority
    goal: timedelta
    business: bool
    started_at: datetime
    stopped_at: datetime | None
    due_at: datetime
    original_due_at: datetime
    elapsed: timedelta
    remaining: timedelta
    remaining_wall: timedelta | None
    warnings: tuple[SlaWarning, ...]

    @property
    def active(self) -> bool:
        """Whether the cycle is running or paused."""
        return self.state in (SlaState.RUNNING, SlaState.PAUSED)

    @property
    def warnings_reached(self) -> tuple[SlaWarning, ...]:
        """Warnings already reached."""
        return tuple(w for w in self.warnings if w.reached)

    @property
    def warnings_upcoming(self) -> tuple[SlaWarning, ...]:
        """Warnings not reached yet."""
        return tuple(w for w in self.warnings if not w.reached)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: instants as ISO 8601, durations in seconds."""
        return {
            "target": self.target,
            "cycle": self.cycle,
            "state": self.state.value,
            "breached": self.breached,
            "breached_at": _iso(self.breached_at),
            "priority": self.priority.value,
            "goal": self.goal.total_seconds(),
            "business": self.business,
            "started_at": _iso(self.started_at),
            "stopped_at": _iso(self.stopped_at),
            "due_at": _iso(self.due_at),
            "original_due_at": _iso(self.original_due_at),
            "elapsed": self.elapsed.total_seconds(),
            "remaining": self.remaining.total_seconds(),
            "remaining_wall": _seconds(self.remaining_wall),
            "warnings": [
                {"fraction": w.fraction, "at": _iso(w.at), "reached": w.reached}
                for w in self.warnings
            ],
        }


@attrs.frozen
class SlaCrossing:
    """A warning threshold or the goal (the breach) that a cycle has reached.

    Attributes:
        target: Target name.
        cycle: 1-based number of the cycle within its target.
        fraction: The warning's share of the goal; ``None`` for the breach.
        at: When it was reached.
    """

    target: str
    cycle: int
    fraction: float | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "target": self.target,
            "cycle": self.cycle,
            "fraction": self.fraction,
            "at": format_instant(self.at),
        }


@attrs.frozen
class SlaInstants:
    """The instants of an [`SlaReport`][csmkit.sla.SlaReport] that a scheduler reads, as
    [`SlaReport.instants()`][csmkit.sla.SlaReport.instants] defines them;
    [`SlaTracker.instants()`][csmkit.sla.SlaTracker.instants] gives the same without
    building the report.

    Attributes:
        due_at: The earliest ``due_at`` of a running cycle (``None``: none runs).
        due_target: That cycle's target (ties: the first name in sort order).
        next_event_at: The report's ``next_event_at``.
        crossings: Every warning and breach reached, cycle by cycle in the report's
            order, each cycle's warnings in its target's order, then its breach.
    """

    due_at: datetime | None
    due_target: str | None
    next_event_at: datetime | None
    crossings: tuple[SlaCrossing, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "due_at": _iso(self.due_at),
            "due_target": self.due_target,
            "next_event_at": _iso(self.next_event_at),
            "crossings": [c.to_dict() for c in self.crossings],
        }


@attrs.frozen
class SlaReport:
    """Every cycle of every target of one ticket, as of ``now``.

    Attributes:
        ticket_id: The ticket.
        policy: Name of the policy applied (``None``: no policy matched).
        now: The evaluation instant.
        cycles: All cycles, ordered by start, then target name.
        next_event_at: The earliest upcoming warning or breach of a running cycle, so
            a scheduler can wake exactly then; ``None`` when nothing is pending.
    """

    ticket_id: str
    policy: str | None
    now: datetime
    cycles: tuple[SlaCycle, ...]
    next_event_at: datetime | None

    def for_target(self, target: str) -> tuple[SlaCycle, ...]:
        """All cycles of ``target``, oldest first."""
        return tuple(c for c in self.cycles if c.target == target)

    def current(self, target: str) -> SlaCycle | None:
        """The latest cycle of ``target`` (running, paused or last finished), or ``None``."""
        found = self.for_target(target)
        return found[-1] if found else None

    @property
    def active(self) -> tuple[SlaCycle, ...]:
        """Running and paused cycles."""
        return tuple(c for c in self.cycles if c.active)

    @property
    def breached(self) -> bool:
        """Whether any cycle is breached."""
        return any(c.breached for c in self.cycles)

    def instants(self) -> SlaInstants:
        """The instants a scheduler reads: the earliest due instant of a running cycle,
        ``next_event_at`` and every warning and breach reached.

        >>> SlaReport("T-1", None, datetime(2026, 1, 1).astimezone(), (), None).instants()
        SlaInstants(due_at=None, due_target=None, next_event_at=None, crossings=())
        """
        due: tuple[datetime, str] | None = None
        crossings: list[SlaCrossing] = []
        for cycle in self.cycles:
            if cycle.state is SlaState.RUNNING and (
                due is None or (cycle.due_at, cycle.target) < due
            ):
                due = (cycle.due_at, cycle.target)
            for warning in cycle.warnings:
                if warning.reached and warning.at is not None:
                    crossings.append(
                        SlaCrossing(cycle.target, cycle.cycle, warning.fraction, warning.at)
                    )
            if cycle.breached and cycle.breached_at is not None:
                crossings.append(SlaCrossing(cycle.target, cycle.cycle, None, cycle.breached_at))
        return SlaInstants(
            due_at=None if due is None else due[0],
            due_target=None if due is None else due[1],
            next_event_at=self.next_event_at,
            crossings=tuple(crossings),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "ticket_id": self.ticket_id,
            "policy": self.policy,
            "now": format_instant(self.now),
            "next_event_at": _iso(self.next_event_at),
            "cycles": [c.to_dict() for c in self.cycles],
        }
