"""The explainable, replayable result of routing one ticket."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from csmkit._pickling import reduce_by_init
from csmkit._time import format_instant, parse_instant
from csmkit.errors import RoutingError

__all__ = ["CandidateVerdict", "Decision", "Pick"]


@attrs.frozen(kw_only=True)
class CandidateVerdict:
    """What happened to one agent during a decision.

    Attributes:
        agent: The agent id.
        removed_by: Name of the first filter that removed the agent (``presence``,
            ``excluded``, ``group``, ``target[i]``, ``shift``, ``capacity``), ``None`` if
            the agent was eligible.
        reason: Why, with the values the filter saw; ``""`` when eligible.
        score: The strategy's score for an eligible agent (lower wins), else ``None``.
    """

    agent: str
    removed_by: str | None = None
    reason: str = ""
    score: tuple[float, ...] | None = None

    @property
    def eligible(self) -> bool:
        """Whether the agent passed every filter."""
        return self.removed_by is None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        out: dict[str, Any] = {"agent": self.agent}
        if self.removed_by is not None:
            out["removed_by"] = self.removed_by
            out["reason"] = self.reason
        if self.score is not None:
            out["score"] = list(self.score)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CandidateVerdict:
        """Rebuild from [`to_dict()`][csmkit.routing.CandidateVerdict.to_dict] data."""
        score = data.get("score")
        return cls(
            agent=data["agent"],
            removed_by=data.get("removed_by"),
            reason=data.get("reason", ""),
            score=None if score is None else tuple(score),
        )


def _sorted_counts(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(sorted(value.items())))


@attrs.frozen(kw_only=True)
class Decision:
    """Who takes a ticket (or that it waits), and why — for audit logs and replay.

    Attributes:
        ticket_id: The routed ticket.
        at: The instant of the decision (``now``).
        agent: The chosen agent id, or ``None`` when the ticket is queued.
        channel: The ticket's channel (the capacity it uses).
        customer_id: The ticket's customer (sticky routing remembers it).
        rule: Name of the rule used.
        step: Escalation step in force (0 = none fired yet).
        group: Required group at that step, if any.
        target: The target condition in force at that step, as text (``None`` = any agent).
        strategy: The chooser's spec.
        priority: The ticket's priority after escalation.
        waiting_since: Where the escalation clock started.
        next_escalation_at: When the next step fires (``None`` when none is left).
        candidates: One verdict per agent examined, sorted by agent id.
        removed: Count of agents removed per filter (and, without a verdict, those the
            indexes ruled out, ``"indexes"``, or never examined, ``"unexamined"``).
        tied: Agents sharing the best score (the lowest id among them wins); the winner
            alone with ``explain="chosen"``.
        explain: ``"full"`` (every agent has a verdict), ``"candidates"`` (agents
            ruled out by the indexes are only counted, under ``removed["indexes"]``) or
            ``"chosen"`` (verdicts only for the agents examined in score order up to the
            winner; the other index candidates are counted under
            ``removed["unexamined"]``).
    """

    ticket_id: str
    at: datetime
    agent: str | None
    channel: str
    customer_id: str | None
    rule: str
    step: int
    group: str | None
    target: str | None
    strategy: str | dict[str, Any]
    priority: str
    waiting_since: datetime
    next_escalation_at: datetime | None
    candidates: tuple[CandidateVerdict, ...]
    removed: Mapping[str, int] = attrs.field(converter=_sorted_counts)
    tied: tuple[str, ...] = ()
    explain: str = "full"

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mapping views cannot be pickled: go through the constructor.
        return reduce_by_init(self)

    @property
    def outcome(self) -> str:
        """``"assigned"`` or ``"queued"``."""
        return "queued" if self.agent is None else "assigned"

    @property
    def tie_break(self) -> str:
        """How the winner was picked among equal scores, in words."""
        if self.explain == "chosen" and self.agent is not None:
            return "lowest agent id among equal scores wins (ties not listed in 'chosen' mode)"
        if len(self.tied) <= 1:
            return "no tie"
        return f"{len(self.tied)} agents tied on score; lowest agent id {self.tied[0]!r} wins"

    def verdict(self, agent_id: str) -> CandidateVerdict | None:
        """The verdict recorded for ``agent_id``, if it was examined."""
        for item in self.candidates:
            if item.agent == agent_id:
                return item
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe data for audit logs (lossless with
        [`from_dict()`][csmkit.routing.Decision.from_dict])."""
        return {
            "ticket_id": self.ticket_id,
            "at": format_instant(self.at),
            "outcome": self.outcome,
            "agent": self.agent,
            "channel": self.channel,
            "customer_id": self.customer_id,
            "rule": self.rule,
            "step": self.step,
            "group": self.group,
            "target": self.target,
            "strategy": self.strategy,
            "priority": self.priority,
            "waiting_since": format_instant(self.waiting_since),
            "next_escalation_at": (
                None if self.next_escalation_at is None else format_instant(self.next_escalation_at)
            ),
            "candidates": [c.to_dict() for c in self.candidates],
            "removed": dict(self.removed),
            "tied": list(self.tied),
            "tie_break": self.tie_break,
            "explain": self.explain,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """Rebuild a decision from [`to_dict()`][csmkit.routing.Decision.to_dict] data.

        Raises:
            RoutingError: missing keys or malformed instants.
        """
        try:
            nxt = data["next_escalation_at"]
            return cls(
                ticket_id=data["ticket_id"],
                at=parse_instant(data["at"]),
                agent=data["agent"],
                channel=data["channel"],
                customer_id=data["customer_id"],
                rule=data["rule"],
                step=data["step"],
                group=data["group"],
                target=data["target"],
                strategy=data["strategy"],
                priority=data["priority"],
                waiting_since=parse_instant(data["waiting_since"]),
                next_escalation_at=None if nxt is None else parse_instant(nxt),
                candidates=tuple(CandidateVerdict.from_dict(c) for c in data["candidates"]),
                removed=data["removed"],
                tied=tuple(data["tied"]),
                explain=data["explain"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RoutingError(f"decision: malformed data ({exc!r})") from None


@attrs.frozen(kw_only=True)
class Pick:
    """What [`Router.pick()`][csmkit.routing.Router.pick] chose: the agent of the
    [`Decision`][csmkit.routing.Decision] ``route()`` would return, without verdicts.

    Attributes:
        ticket_id: The routed ticket.
        at: The instant of the decision.
        agent: The chosen agent id, or ``None`` when the ticket is queued.
        channel: The ticket's channel.
        customer_id: The ticket's customer.
        rule: Name of the rule used.
        step: Escalation step in force.
        group: Required group at that step, if any.
        next_escalation_at: When the next step fires (``None`` when none is left).
    """

    ticket_id: str
    at: datetime
    agent: str | None
    channel: str
    customer_id: str | None
    rule: str
    step: int
    group: str | None
    next_escalation_at: datetime | None
