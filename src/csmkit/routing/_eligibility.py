"""Eligibility: the one rule source of which agents may take a ticket, filter by filter.

Every path of [`Router.route()`][csmkit.routing.Router.route] (the explained scans and the indexed
fast path) and [`Router.is_eligible()`][csmkit.routing.Router.is_eligible] ask an `Eligibility` for
an agent's first failing filter; the fast path only tells it which filters the indexes already
answered. So a new filter, or a new wording of a reason, is written here once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from csmkit.routing._agents import Agent, Presence
from csmkit.routing._rules import EffectiveTarget
from csmkit.routing._state import RoutingState
from csmkit.timeline import Ticket

__all__ = ["FILTER_ORDER", "INDEXED", "Eligibility", "Failure", "canonical_loads"]

FILTER_ORDER: tuple[str, ...] = ("excluded", "presence", "group", "target[i]", "shift", "capacity")
"""The order eligibility filters run in; an agent is reported under the first that fails."""

INDEXED: frozenset[str] = frozenset({"presence", "group"})
"""Filters an [`AgentPool`][csmkit.routing.AgentPool] index always answers (target filters may add
more)."""

Failure = tuple[str, str]
"""A failed filter: ``(filter name, reason with the values it saw)``."""


def canonical_loads(loads: Mapping[str, int]) -> dict[str, int]:
    """Loads by channel in one canonical order (channel name), whatever the state's history."""
    return dict(sorted(loads.items()))


class Eligibility:
    """The filters of one decision, in [`FILTER_ORDER`][csmkit.routing.FILTER_ORDER].

    Args:
        ticket: The ticket being routed.
        target: The rule's target at the escalation step in force.
        state: The routing state (loads).
        now: The instant of the decision (shifts).
        excluded: Agent ids that may not take the ticket.
        answered: Names of filters already answered for every agent asked about (by the
            pool's indexes): they are not evaluated again.
    """

    __slots__ = (
        "_channel",
        "_excluded",
        "_filters",
        "_group",
        "_now",
        "_open",
        "_presence",
        "_state",
        "_ticket",
    )

    def __init__(
        self,
        ticket: Ticket,
        target: EffectiveTarget,
        state: RoutingState,
        now: datetime,
        *,
        excluded: Collection[str] = frozenset(),
        answered: Collection[str] = frozenset(),
    ) -> None:
        self._ticket = ticket
        self._channel = ticket.channel
        self._state = state
        self._now = now
        self._excluded = excluded
        self._presence = "presence" not in answered
        self._group = None if "group" in answered else target.group
        filters = target.filters
        self._filters = tuple(f for f in filters if f.name not in answered) if filters else filters
        self._open: dict[int, bool] = {}  # per shift calendar, for this instant

    def failure(self, agent: Agent) -> Failure | None:
        """The first filter ``agent`` fails, with the reason, or ``None`` if eligible."""
        if agent.id in self._excluded:
            return ("excluded", "excluded for this ticket")
        if self._presence and agent.presence is not Presence.AVAILABLE:
            return ("presence", f"presence is {agent.presence.value!r}")
        group = self._group
        if group is not None and group not in agent.groups:
            return ("group", f"not in group {group!r} (groups {sorted(agent.groups)})")
        if self._filters:
            context: dict[str, Any] = {"agent": agent.view, "ticket": self._ticket}
            for item in self._filters:
                if not item.condition.evaluate(context):
                    return (item.name, item.describe_failure(context))
        shift = agent.shift
        if shift is not None:
            is_open = self._open.get(id(shift))
            if is_open is None:
                is_open = self._open[id(shift)] = bool(shift.is_open(self._now))
            if not is_open:
                label = f"shift {agent.shift_name!r}" if agent.shift_name else "shift"
                return ("shift", f"{label} is closed at {self._now.isoformat()}")
        loads = self._state.loads(agent.id)
        channel = self._channel
        if agent.headroom(channel, loads) < 1:
            return (
                "capacity",
                f"no room for a {channel!r} ticket (load {canonical_loads(loads)})",
            )
        return None
