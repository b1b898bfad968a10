"""Incremental SLA evaluation: each ticket's fold is kept and advanced, not redone."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING

from csmkit.errors import SlaPolicyError
from csmkit.sla._clock import Fold, SlaReport, check_evaluation, no_policy_report
from csmkit.sla._policy import SlaPolicy, SlaPolicySet
from csmkit.sla._report import SlaInstants
from csmkit.timeline import Event, Timeline

if TYPE_CHECKING:
    from csmkit.sla._calendar import BusinessCalendar

__all__ = ["SlaTracker"]


#: The instants of a ticket no policy applies to.
_NO_INSTANTS = SlaInstants(due_at=None, due_target=None, next_event_at=None, crossings=())


class _Entry:
    __slots__ = ("calendar", "fold", "last", "last_instants", "policy", "prefix")

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
        # The last answers given with every event folded, each with its ``now``.
        self.last: tuple[datetime, SlaReport] | None = None
        self.last_instants: tuple[datetime, SlaInstants] | None = None


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
        policy = self._select(timeline, now)
        if policy is None:
            return no_policy_report(timeline, now)
        with self._lock:
            entry = self._repeat(timeline, policy, calendar, now)
            if entry is not None and entry.last is not None and _same_instant(entry.last[0], now):
                # Asked again with the very events, policy, calendar and ``now`` it
                # answered (and checked) last: the same answer, without re-checking.
                return entry.last[1]
        now = check_evaluation(policy, timeline, calendar, now)
        with self._lock:
            entry = self._advanced(timeline, policy, calendar, now)
            last = entry.last
            if last is not None and _equal_instant(last[0], now):
                return last[1]
            report = entry.fold.peek(timeline, now)
            if entry.fold.count == len(timeline):
                entry.last = (now, report)
            return report

    def instants(
        self,
        timeline: Timeline,
        *,
        calendar: BusinessCalendar | None = None,
        now: datetime,
    ) -> SlaInstants:
        """``evaluate(timeline, calendar=calendar, now=now).instants()``, without
        building the report: the earliest due instant of a running cycle (a desk's due
        mark), the next warning or breach, and those already reached (a scheduler's
        wake-up).

        Raises:
            SlaPolicyError: as [`SlaPolicy.evaluate()`][csmkit.sla.SlaPolicy.evaluate].
            CalendarError: as [`SlaPolicy.evaluate()`][csmkit.sla.SlaPolicy.evaluate].

        >>> from datetime import datetime, timedelta, timezone
        >>> from csmkit.timeline import TicketCreated, Timeline
        >>> policy = SlaPolicy.from_dict(
        ...     {"name": "p", "targets": {"first_response": {
        ...         "goals": {"normal": "1h"}, "business": False}}}
        ... )
        >>> t0 = datetime(2026, 9, 30, 9, 0, tzinfo=timezone.utc)
        >>> created = TicketCreated(ticket_id="T-1", at=t0, type="repair", channel="email")
        >>> timeline = Timeline([created])
        >>> instants = SlaTracker(policy).instants(timeline, now=t0)
        >>> instants.due_at.isoformat(), instants.due_target
        ('2026-09-30T10:00:00+00:00', 'first_response')
        >>> instants == policy.evaluate(timeline, now=t0).instants()
        True
        """
        policy = self._select(timeline, now)
        if policy is None:
            no_policy_report(timeline, now)  # checks ``now`` as ``evaluate`` does
            return _NO_INSTANTS
        with self._lock:
            entry = self._repeat(timeline, policy, calendar, now)
            if entry is not None:
                last = entry.last_instants
                if last is not None and _same_instant(last[0], now):
                    return last[1]
        now = check_evaluation(policy, timeline, calendar, now)
        with self._lock:
            entry = self._advanced(timeline, policy, calendar, now)
            last = entry.last_instants
            if last is not None and _equal_instant(last[0], now):
                return last[1]
            instants = entry.fold.instants(now)
            if entry.fold.count == len(timeline):
                entry.last_instants = (now, instants)
            return instants

    def _select(self, timeline: Timeline, now: datetime) -> SlaPolicy | None:
        """The policy for ``timeline`` at ``now`` (``None``: a set selects none)."""
        if not isinstance(timeline, Timeline):
            raise SlaPolicyError(f"timeline must be a Timeline, got {type(timeline).__name__}")
        policy = self._policy
        if isinstance(policy, SlaPolicySet):
            try:
                ticket = timeline.state_at(now)
            except ValueError as exc:
                raise SlaPolicyError(f"now: {exc}") from None
            return policy.select(ticket)
        return policy

    def _repeat(
        self,
        timeline: Timeline,
        policy: SlaPolicy,
        calendar: BusinessCalendar | None,
        now: datetime,
    ) -> _Entry | None:
        """The ticket's entry if it folded the very events of ``timeline`` (all of
        them) with this policy and calendar: its last answers then stand for ``now``
        equal to theirs (the caller compares). Called under the lock."""
        entry = self._entries.get(timeline.ticket_id)
        if (
            entry is None
            or entry.prefix is not timeline.events
            or entry.policy is not policy
            or entry.calendar is not calendar
        ):
            return None
        self._entries.move_to_end(timeline.ticket_id)
        return entry

    def _advanced(
        self,
        timeline: Timeline,
        policy: SlaPolicy,
        calendar: BusinessCalendar | None,
        now: datetime,
    ) -> _Entry:
        """The ticket's entry with its fold fed up to ``now`` (a kept fold when it is a
        prefix of what a fresh fold would read, else a fresh one). Called under the
        lock, with ``now`` checked."""
        ticket_id = timeline.ticket_id
        entry = self._entries.get(ticket_id)
        if entry is not None and not _usable(entry, policy, calendar, timeline, now):
            entry = None
        if entry is None:
            fold = Fold(policy, timeline, calendar=calendar, now=now)
            entry = _Entry(policy, calendar, fold, ())
        count = entry.fold.count
        entry.fold.feed(timeline, now)
        if entry.fold.count != count or entry.fold.count != len(timeline):
            # Other events folded, or some left for later: no last answer stands.
            entry.last = entry.last_instants = None
        entry.prefix = timeline.events[: entry.fold.count]
        self._entries[ticket_id] = entry
        self._entries.move_to_end(ticket_id)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return entry


def _equal_instant(last: datetime, now: datetime) -> bool:
    """Whether the checked ``now`` is ``last``'s instant in the same zone and fold (an
    equal instant in another zone is another answer: its ``now``)."""
    return last == now and last.tzinfo is now.tzinfo and last.fold == now.fold


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
