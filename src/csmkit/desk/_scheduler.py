"""The desk's scheduler: every piece of timer state, in one part.

It holds the timer index (when each ticket must be woken), the router's retry
instants, the instant of the last tick, the store's write position the ticker has read
up to, and the version of each ticket its timer was computed from. It decides nothing
about tickets: the desk hands it a timeline and it asks the automation when that
ticket next needs waking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from csmkit.automation import Automation, Environment, TimerIndex
from csmkit.storage import TicketStore, TicketSummary
from csmkit.timeline import Timeline

__all__ = ["Scheduler"]

#: Changes read from the store per page while scanning.
CHANGES_PAGE = 1000

logger = logging.getLogger(__name__)


class Scheduler:
    """Timer state of one desk (see the module docstring).

    Args:
        automation: Computes each ticket's next wake-up.
        environment: The (routing-free) environment of a ticket's wake-up computation.
    """

    def __init__(
        self, automation: Automation, environment: Callable[[Timeline], Environment]
    ) -> None:
        self.timers = TimerIndex()
        self._automation = automation
        self._environment = environment
        self._retry: dict[str, datetime] = {}
        self._versions: dict[str, int] = {}
        self.last_tick: datetime | None = None
        # The store's write position the ticker has read up to (None: not yet; the
        # first scan reads every ticket). Kept in memory: a restarted desk rescans all
        # tickets once, which is idempotent (timers are rebuilt from the timelines).
        self.position: int | None = None
        # The store's write marker read just before the last query of changes, and
        # how many batches this desk had appended then (see ``changed``).
        self._marker: tuple[int, int] | None = None
        self._appended = 0

    def reschedule(self, timeline: Timeline, now: datetime, *, after: datetime | None) -> None:
        """Compute ``timeline``'s next wake-up after ``after`` (``None``: past ones
        too) and index it, with the router's pending retry if that comes first."""
        wake = self._automation.next_wakeup(
            timeline, now=now, after=after, env=self._environment(timeline)
        )
        self.timers.schedule(timeline.ticket_id, self._earliest(timeline.ticket_id, wake, after))
        self._versions[timeline.ticket_id] = len(timeline)

    def imported(self, timeline: Timeline) -> None:
        """A historical ticket was imported: no timer, and the ticker need not read it."""
        self.timers.schedule(timeline.ticket_id, None)
        self._versions[timeline.ticket_id] = len(timeline)

    def after_operation(self, timeline: Timeline, now: datetime) -> None:
        """Reschedule a ticket an operation (not a tick) has just written."""
        self.reschedule(timeline, now, after=self.last_tick)

    def retry_at(self, ticket_id: str, at: datetime | None) -> None:
        """Record (or with ``None`` clear) the instant the router asked to retry at."""
        if at is None:
            self._retry.pop(ticket_id, None)
        else:
            self._retry[ticket_id] = at

    def _earliest(
        self, ticket_id: str, wake: datetime | None, after: datetime | None
    ) -> datetime | None:
        """``wake`` or the ticket's pending retry instant (a time rule the router
        queued), whichever comes first."""
        retry = self._retry.get(ticket_id)
        if retry is None or (after is not None and retry <= after):
            return wake
        return retry if wake is None or retry < wake else wake

    def pop_due(self, now: datetime) -> list[str]:
        """The tickets due by ``now`` (removed from the index)."""
        return self.timers.pop_due(now)

    def up_to_date(self, ticket_id: str, version: int) -> bool:
        """Whether ``ticket_id``'s timer was computed from ``version`` or later."""
        return self._versions.get(ticket_id, -1) >= version

    def changed(
        self,
        store: TicketStore,
        summaries: Callable[[], Iterator[TicketSummary]],
        appended: int = 0,
    ) -> tuple[list[str], int, int]:
        """The tickets to (re)index, the write position read up to, and how many
        changes were read (-1 for a full scan).

        Read by the store's **write order** (``changes_after``), so a late-stored event
        is seen whatever its instant; tickets whose timer was already computed from
        their latest written version (this desk's own writes, its imports) are left out.

        ``appended`` counts the batches this desk has stored so far. A store with a
        ``write_marker()`` (SQLite: another connection's commit count and its own) is
        not asked for changes when the marker says nothing was committed since the last
        query but the desk's own batches (whose timers it computed as it wrote them):
        any other commit, by another process, handle or desk on the same handle, moves
        it on, and then the changes are read as before.
        """
        marker = self._write_marker(store)
        if self.position is not None and marker is not None and self._marker is not None:
            data_version, commits = self._marker
            if marker == (data_version, commits + appended - self._appended):
                return [], self.position, 0
        # Read before the query: whatever commits after it moves the marker on.
        self._marker, self._appended = marker, appended
        if self.position is None:
            # Take the position first: whatever commits after it is read next time.
            position = store.position()
            every = [
                s.ticket_id for s in summaries() if not self.up_to_date(s.ticket_id, s.version)
            ]
            return every, position, -1
        position = self.position
        latest: dict[str, int] = {}
        read = 0
        while page := store.changes_after(position, limit=CHANGES_PAGE):
            read += len(page)
            for change in page:
                latest[change.ticket_id] = max(latest.get(change.ticket_id, 0), change.version)
            position = page[-1].position
            if len(page) < CHANGES_PAGE:
                # A short page was everything committed when it was read: what commits
                # after it is read by the next scan, as after an empty page (one query
                # per scan instead of two).
                break
        tickets = [t for t, version in latest.items() if not self.up_to_date(t, version)]
        return tickets, position, read

    @staticmethod
    def _write_marker(store: TicketStore) -> tuple[int, int] | None:
        """The store's write marker, or ``None`` when it has none (always query)."""
        read = getattr(store, "write_marker", None)
        if read is None:
            return None
        marker = read()
        if (
            isinstance(marker, tuple)
            and len(marker) == 2
            and all(type(part) is int for part in marker)
        ):
            return marker
        return None
