"""Incremental SLA evaluation: each ticket's fold is kept and advanced, not redone."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING

from csmkit.errors import SlaPolicyError
from csmkit.sla._clock import Fold, SlaReport, check_evaluation, no_policy_report
from csmkit.sla._policy import SlaPolicy, SlaPolicySet
from csmkit.timeline import Event, Timeline

if TYPE_CHECKING:
    from csmkit.sla._calendar import BusinessCalendar

__all__ = ["SlaTracker"]


class _Entry:
    __slots__ = ("calendar", "fold", "last", "policy", "prefix")

    def __init__(
        self,
        policy: SlaPolicy,
        calendar: BusinessCalendar | None,
        fold: Fold,
        prefix: tuple[Event, ...],
    ) -> None:
        self.policy = policy
        self.calendar = calendar
        self.fold = fold
        self.prefix = prefix
        self.last: tuple[datetime, SlaReport] | None = None


class SlaTracker:
    """Evaluates an [`SlaPolicy`][csmkit.sla.SlaPolicy] (or a policy set) over tickets'
    timelines **incrementally**: per ticket it keeps the fold of the events it has
    read, and the next evaluation reads only the events appended since (and then runs
    the clocks on to ``now``), instead of walking the timeline from its start.

    Every answer equals ``policy.evaluate(timeline, calendar=calendar, now=now)``: a
    kept fold is used only when the timeline still starts with the very events it read
    (the first ones compared by identity, then by value), the calendar is the same
    object and ``now`` is not before what it read; otherwise the ticket is evaluated
    from its start (a timeline of another store, a rewritten history, an earlier
    ``now``). At most ``size`` tickets are kept, least recently evaluated dropped.
    Thread-safe.

    Args:
        policy: The policy, or a set whose policy is selected per ticket as it is at
            ``now`` (as [`SlaPolicySet.evaluate()`][csmkit.sla.SlaPolicySet.evaluate] does).
        size: How many tickets' folds to keep.

    >>> from datetime import datetime, timedelta, timezone
    >>> from csmkit.timeline import TicketCreated, Timeline
    >>> policy = SlaPolicy.from_dict(
    ...     {"name": "p", "targets": {"first_response": {
    ...         "goals": {"normal": "1h"}, "business": False}}}
    ... )
    >>> t0 = datetime(2026, 9, 30, 9, 0, tzinfo=timezone.utc)
    >>> created = TicketCreated(ticket_id="T-1", at=t0, type="repair", channel="email")
    >>> timeline = Timeline([created])
    >>> tracker = SlaTracker(policy)
    >>> late = t0 + timedelta(hours=2)
    >>> tracker.evaluate(timeline, now=late) == policy.evaluate(timeline, now=late)
    True
    """

    def __init__(self, policy: SlaPolicy | SlaPolicySet, *, size: int = 4096) -> None:
        if not isinstance(policy, (SlaPolicy, SlaPolicySet)):
            raise SlaPolicyError(
                f"policy must be an SlaPolicy or SlaPolicySet, got {type(policy).__name__}"
            )
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise SlaPolicyError(f"size must be a positive integer, got {size!r}")
        self._policy = policy
        self._size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def policy(self) -> SlaPolicy | SlaPolicySet:
        """The policy (or set) this tracker evaluates."""
        return self._policy

    def __len__(self) -> int:
        """How many tickets' folds are kept."""
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<SlaTracker {self._policy!r} ({len(self._entries)} ticket(s))>"

    def __reduce__(self) -> tuple[object, ...]:
        # The kept folds are a cache: a loaded tracker starts empty, same answers.
        return (SlaTracker, (self._policy,), {"size": self._size})

    def __setstate__(self, state: dict[str, int]) -> None:
        self._size = state["size"]

    def forget(self, ticket_id: str) -> None:
        """Drop ``ticket_id``'s fold (its next evaluation starts from the beginning)."""
        with self._lock:
            self._entries.pop(ticket_id, None)

    def evaluate(
        self,
        timeline: Timeline,
        *,
        calendar: BusinessCalendar | None = None,
        now: datetime,
    ) -> SlaReport:
        """The ticket's report at ``now``, as the policy's ``evaluate`` gives it.

        Raises:
            SlaPolicyError: as [`SlaPolicy.evaluate()`][csmkit.sla.SlaPolicy.evaluate].
            CalendarError: as [`SlaPolicy.evaluate()`][csmkit.sla.SlaPolicy.evaluate].
        """
        if not isinstance(timeline, Timeline):
            raise SlaPolicyError(f"timeline must be a Timeline, got {type(timeline).__name__}")
        policy = self._policy
        if isinstance(policy, SlaPolicySet):
            try:
                ticket = timeline.state_at(now)
            except ValueError as exc:
                raise SlaPolicyError(f"now: {exc}") from None
            selected = policy.select(ticket)
            if selected is None:
                return no_policy_report(timeline, now)
            policy = selected
        ticket_id = timeline.ticket_id
        with self._lock:
            entry = self._entries.get(ticket_id)
            if (
                entry is not None
                and entry.last is not None
                and entry.prefix is timeline.events
                and entry.policy is policy
                and entry.calendar is calendar
                and _same_instant(entry.last[0], now)
            ):
                # Asked again with the very events, policy, calendar and ``now`` it
                # answered (and checked) last: the same answer, without re-checking.
                self._entries.move_to_end(ticket_id)
                return entry.last[1]
        now = check_evaluation(policy, timeline, calendar, now)
        with self._lock:
            entry = self._entries.get(ticket_id)
            if entry is not None and not _usable(entry, policy, calendar, timeline, now):
                entry = None
            if entry is None:
                fold = Fold(policy, timeline, calendar=calendar, now=now)
                entry = _Entry(policy, calendar, fold, ())
            elif (
                entry.last is not None
                and entry.last[0] == now
                # an equal instant in another zone is another answer (its ``now``)
                and entry.last[0].tzinfo is now.tzinfo
                and entry.last[0].fold == now.fold
                and entry.fold.count == len(timeline)
            ):
                self._entries.move_to_end(ticket_id)
                return entry.last[1]
            entry.fold.feed(timeline, now)
            entry.prefix = timeline.events[: entry.fold.count]
            report = entry.fold.peek(timeline, now)
            entry.last = (now, report) if entry.fold.count == len(timeline) else None
            self._entries[ticket_id] = entry
            self._entries.move_to_end(ticket_id)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
            return report


def _same_instant(last: datetime, now: object) -> bool:
    """Whether ``now`` is ``last``: equal, in the same zone object and fold (an equal
    instant in another zone is another answer, its ``now``)."""
    return (
        type(now) is datetime
        and now.tzinfo is not None
        and last.tzinfo is now.tzinfo
        and last == now
        and last.fold == now.fold
    )


def _usable(
    entry: _Entry,
    policy: SlaPolicy,
    calendar: BusinessCalendar | None,
    timeline: Timeline,
    now: datetime,
) -> bool:
    """Whether ``entry``'s fold is a prefix of what a fresh fold of ``timeline`` at
    ``now`` would read."""
    if entry.policy is not policy and entry.policy != policy:
        return False
    if entry.calendar is not calendar or not entry.fold.resumable(timeline, now):
        return False
    count = entry.fold.count
    # Tuple equality compares element identity first: a timeline that grew from the
    # one folded shares its event objects, so this is a pointer walk.
    return timeline.events[:count] == entry.prefix
