"""Pull mode: a work queue ordered by priority then age, with priority aging."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit._time import require_aware
from csmkit.conditions import Condition
from csmkit.errors import RoutingError
from csmkit.routing._agents import Agent, Presence
from csmkit.routing._decision import Decision
from csmkit.routing._state import RoutingState
from csmkit.timeline import Priority, Ticket

__all__ = ["QueueEntry", "WorkQueue"]

_PRIORITIES = tuple(Priority)
_TOP = len(_PRIORITIES) - 1


@attrs.frozen(kw_only=True)
class QueueEntry:
    """A waiting ticket.

    Attributes:
        ticket: The ticket.
        enqueued_at: When it started waiting (its age counts from here).
        priority: Its priority when queued (aging raises it while it waits).
        group: Group an agent must be in to take it, if any.
        target: Condition over ``agent`` and ``ticket`` the taker must satisfy.
    """

    ticket: Ticket
    enqueued_at: datetime
    priority: Priority
    group: str | None = None
    target: Condition | None = None

    def accepts(self, agent: Agent) -> bool:
        """Whether ``agent`` may take this ticket (group and target; not capacity)."""
        if self.group is not None and self.group not in agent.groups:
            return False
        return self.target is None or self.target.evaluate(
            {"agent": agent.view, "ticket": self.ticket}
        )


@attrs.frozen
class WorkQueue:
    """An immutable work queue; agents pull the best ticket they are eligible for.

    Order: effective priority (highest first), then age (oldest first), then ticket id.
    With ``aging``, every full ``aging`` of waiting raises a ticket one priority level, up
    to ``urgent`` — so a ``low`` ticket is not starved forever by a stream of ``high`` ones.

    Attributes:
        aging: Waiting time per priority level gained, or ``None`` for no aging.

    Examples:
        >>> WorkQueue(aging=timedelta(hours=1)).aging
        datetime.timedelta(seconds=3600)
    """

    aging: timedelta | None = None
    # One age-sorted tuple per base priority: within a bucket aging never reorders entries,
    # so the global order is a lazy k-way heap merge of the buckets.
    _buckets: tuple[tuple[tuple[datetime, str, QueueEntry], ...], ...] = attrs.field(
        default=((),) * len(_PRIORITIES), alias="_buckets"
    )

    def __attrs_post_init__(self) -> None:
        if self.aging is not None and (
            not isinstance(self.aging, timedelta) or self.aging <= timedelta(0)
        ):
            raise RoutingError(f"aging: {self.aging!r} is not a positive timedelta")

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets)

    def __contains__(self, ticket_id: object) -> bool:
        return any(key[1] == ticket_id for bucket in self._buckets for key in bucket)

    def effective_priority(self, entry: QueueEntry, now: datetime) -> Priority:
        """``entry``'s priority at ``now`` after aging."""
        require_aware(now, "now", RoutingError)
        rank = entry.priority.rank
        if self.aging is not None and now > entry.enqueued_at:
            rank = min(_TOP, rank + int((now - entry.enqueued_at) / self.aging))
        return _PRIORITIES[rank]

    def add(
        self,
        ticket: Ticket,
        *,
        at: datetime,
        priority: Priority | str | None = None,
        group: str | None = None,
        target: Condition | str | None = None,
        decision: Decision | None = None,
    ) -> WorkQueue:
        """A queue with ``ticket`` waiting since ``at``.

        ``decision`` (a queued [`Decision`][csmkit.routing.Decision]) supplies priority, group and
        target.

        Raises:
            RoutingError: the ticket is already queued, or ``at`` is naive.
        """
        require_aware(at, "at", RoutingError)
        if ticket.id in self:
            raise RoutingError(f"ticket {ticket.id!r} is already queued")
        if decision is not None:
            priority = priority or decision.priority
            group = group or decision.group
            target = target or decision.target
        entry = QueueEntry(
            ticket=ticket,
            enqueued_at=at,
            priority=Priority.parse(priority or ticket.priority),
            group=group,
            target=None if target is None else Condition.coerce(target),
        )
        rank = entry.priority.rank
        bucket = list(self._buckets[rank])
        bisect.insort(bucket, (at, ticket.id, entry), key=lambda item: item[:2])
        buckets = (*self._buckets[:rank], tuple(bucket), *self._buckets[rank + 1 :])
        return attrs.evolve(self, _buckets=buckets)

    def remove(self, ticket_id: str) -> WorkQueue:
        """A queue without ``ticket_id``.

        Raises:
            RoutingError: the ticket is not queued.
        """
        for rank, bucket in enumerate(self._buckets):
            for index, key in enumerate(bucket):
                if key[1] == ticket_id:
                    new = bucket[:index] + bucket[index + 1 :]
                    buckets = (*self._buckets[:rank], new, *self._buckets[rank + 1 :])
                    return attrs.evolve(self, _buckets=buckets)
        raise RoutingError(f"ticket {ticket_id!r} is not queued")

    def ordered(self, now: datetime) -> Iterator[QueueEntry]:
        """Entries in serving order at ``now`` (lazily)."""
        require_aware(now, "now", RoutingError)  # on first use: this is a generator

        def key(item: tuple[datetime, str, QueueEntry]) -> tuple[int, datetime, str]:
            return (-self.effective_priority(item[2], now).rank, item[0], item[1])

        for item in heapq.merge(*self._buckets, key=key):
            yield item[2]

    def next_for(
        self, agent: Agent, now: datetime, *, state: RoutingState | None = None
    ) -> QueueEntry | None:
        """The best waiting ticket ``agent`` may take at ``now``, or ``None``.

        The agent must be available, on shift, in the entry's group and satisfy its
        target; with ``state`` it must also have room on the ticket's channel.
        """
        require_aware(now, "now", RoutingError)
        if agent.presence is not Presence.AVAILABLE:
            return None
        if agent.shift is not None and not agent.shift.is_open(now):
            return None
        for entry in self.ordered(now):
            if (
                state is not None
                and agent.headroom(entry.ticket.channel, state.loads(agent.id)) < 1
            ):
                continue
            if entry.accepts(agent):
                return entry
        return None

    def to_dict(self, now: datetime) -> list[dict[str, Any]]:
        """The entries in serving order at ``now``, as plain data (for display)."""
        require_aware(now, "now", RoutingError)
        return [
            {
                "ticket_id": e.ticket.id,
                "enqueued_at": e.enqueued_at.isoformat(),
                "priority": e.priority.value,
                "effective_priority": self.effective_priority(e, now).value,
                "group": e.group,
                "target": None if e.target is None else str(e.target),
            }
            for e in self.ordered(now)
        ]
