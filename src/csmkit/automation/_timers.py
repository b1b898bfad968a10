"""A timer index without threads: each ticket's next wake-up in a heap."""

from __future__ import annotations

import heapq
import itertools
import logging
from datetime import datetime

from csmkit._time import require_aware
from csmkit.errors import AutomationError

__all__ = ["TimerIndex"]

_log = logging.getLogger(__name__)


class TimerIndex:
    """Each ticket's next wake-up instant, in a heap keyed by instant.

    Rescheduling a ticket does not search the heap: it records the new instant and
    pushes a new entry; entries that no longer match the recorded instant are skipped
    when they surface (lazy invalidation). ``pop_due(now)`` returns the tickets whose
    wake-up is at or before ``now``, earliest first, and forgets them.

    Examples:
        >>> from datetime import datetime, timezone
        >>> t = lambda h: datetime(2026, 10, 8, h, tzinfo=timezone.utc)
        >>> timers = TimerIndex()
        >>> timers.schedule("T-1", t(10)); timers.schedule("T-2", t(9))
        >>> timers.schedule("T-1", t(12))
        >>> timers.pop_due(t(11)), timers.next_at() == t(12), len(timers)
        (['T-2'], True, 1)
    """

    __slots__ = ("_counter", "_heap", "_when")

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []
        self._when: dict[str, datetime] = {}
        self._counter = itertools.count()

    def __getstate__(self) -> dict[str, datetime]:
        # Only the pending instants are the value; the heap and counter are rebuilt.
        return dict(self._when)

    def __setstate__(self, state: dict[str, datetime]) -> None:
        self.__init__()  # type: ignore[misc]
        for ticket_id, at in state.items():
            self.schedule(ticket_id, at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimerIndex):
            return NotImplemented
        return self._when == other._when

    def schedule(self, ticket_id: str, at: datetime | None) -> None:
        """Set (``None``: clear) the ticket's next wake-up.

        Raises:
            AutomationError: ``at`` is naive.
        """
        if at is None:
            if self._when.pop(ticket_id, None) is not None:
                _log.debug("ticket %s: timer cleared", ticket_id)
            return
        require_aware(at, "at", AutomationError)
        if self._when.get(ticket_id) == at:
            return
        _log.debug("ticket %s: timer scheduled at %s", ticket_id, at.isoformat())
        self._when[ticket_id] = at
        heapq.heappush(self._heap, (at, next(self._counter), ticket_id))
        if len(self._heap) > 4 * len(self._when) + 64:
            self._compact()

    def _compact(self) -> None:
        self._heap = [e for e in self._heap if self._when.get(e[2]) == e[0]]
        heapq.heapify(self._heap)

    def _clean_top(self) -> None:
        while self._heap and self._when.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    def next_at(self) -> datetime | None:
        """The earliest scheduled instant, or ``None``."""
        self._clean_top()
        return self._heap[0][0] if self._heap else None

    def when(self, ticket_id: str) -> datetime | None:
        """The ticket's scheduled instant, or ``None``."""
        return self._when.get(ticket_id)

    def pop_due(self, now: datetime) -> list[str]:
        """Tickets due at or before ``now``, earliest first; they are unscheduled."""
        require_aware(now, "now", AutomationError)
        due: list[str] = []
        while True:
            self._clean_top()
            if not self._heap or self._heap[0][0] > now:
                return due
            _, _, ticket_id = heapq.heappop(self._heap)
            del self._when[ticket_id]
            due.append(ticket_id)

    def __len__(self) -> int:
        return len(self._when)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._when
