"""How evenly work was spread over a window of decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from csmkit._pickling import reduce_by_init
from csmkit._time import require_aware
from csmkit.errors import RoutingError
from csmkit.routing._agents import Agent
from csmkit.routing._decision import Decision
from csmkit.routing._state import RoutingState

__all__ = ["FairnessReport", "fairness_report", "gini"]


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient of non-negative ``values``: 0 = all equal, near 1 = one has all.

    Examples:
        >>> gini([1, 1, 1]), round(gini([0, 0, 3]), 4)
        (0.0, 0.6667)

    Raises:
        RoutingError: a negative value.
    """
    if any(v < 0 for v in values):
        raise RoutingError(f"gini: values must be >= 0, got {list(values)!r}")
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    ordered = sorted(values)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


@attrs.frozen(kw_only=True)
class FairnessReport:
    """Fairness of a window of decisions.

    Attributes:
        assignments: Assignments per agent in the window (0 for agents never chosen).
        queued: Decisions in the window that queued the ticket.
        gini: Gini coefficient of ``assignments``.
        assignment_spread: Most minus fewest assignments.
        load_spread: Highest minus lowest current open-ticket count (needs a state).
        since_last: Time from each agent's last assignment in the window to ``now``
            (agents without one are left out).
        since_last_spread: Longest minus shortest of ``since_last``.
    """

    assignments: Mapping[str, int]
    queued: int
    gini: float
    assignment_spread: int
    load_spread: int | None
    since_last: Mapping[str, timedelta]
    since_last_spread: timedelta | None

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mapping views cannot be pickled: go through the constructor.
        return reduce_by_init(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (durations in seconds)."""
        return {
            "assignments": dict(self.assignments),
            "queued": self.queued,
            "gini": self.gini,
            "assignment_spread": self.assignment_spread,
            "load_spread": self.load_spread,
            "since_last_seconds": {k: v.total_seconds() for k, v in self.since_last.items()},
            "since_last_spread_seconds": (
                None if self.since_last_spread is None else self.since_last_spread.total_seconds()
            ),
        }


def fairness_report(
    decisions: Iterable[Decision],
    *,
    now: datetime,
    agents: Iterable[Agent | str] = (),
    state: RoutingState | None = None,
) -> FairnessReport:
    """Summarise how evenly ``decisions`` spread work.

    Args:
        decisions: The window of decisions.
        now: End of the window (for time since last assignment).
        agents: Agents (or ids) to include even if never chosen.
        state: Current state, for the load spread over ``agents``.

    Raises:
        RoutingError: naive ``now``.
    """
    require_aware(now, "now", RoutingError)
    counts: dict[str, int] = {}
    for agent in agents:
        counts[agent if isinstance(agent, str) else agent.id] = 0
    last: dict[str, datetime] = {}
    queued = 0
    for decision in decisions:
        if decision.agent is None:
            queued += 1
            continue
        counts[decision.agent] = counts.get(decision.agent, 0) + 1
        if decision.agent not in last or decision.at > last[decision.agent]:
            last[decision.agent] = decision.at
    values = [counts[k] for k in sorted(counts)]
    load_spread = None
    if state is not None and counts:
        loads = [state.load(agent_id) for agent_id in counts]
        load_spread = max(loads) - min(loads)
    since = {k: now - last[k] for k in sorted(last)}
    return FairnessReport(
        assignments=MappingProxyType(dict(sorted(counts.items()))),
        queued=queued,
        gini=gini(values),
        assignment_spread=(max(values) - min(values)) if values else 0,
        load_spread=load_spread,
        since_last=MappingProxyType(since),
        since_last_spread=(max(since.values()) - min(since.values())) if since else None,
    )
