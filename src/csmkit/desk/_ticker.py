"""The desk's ticker: runs what time makes due (timers, asset rules, redeliveries).

[`tick()`][csmkit.desk.ServiceDesk.tick] finds work by the store's write order (the
[scheduler][csmkit.desk._scheduler.Scheduler] keeps the position read up to), wakes each
due ticket through the kernel's command loop and hands the stored outcomes to the
[outcome runner][csmkit.desk._outcomes.OutcomeRunner], all under the desk's lock; then,
with the lock released, it sends the outbox and retries failed deliveries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import attrs

from csmkit._time import require_aware
from csmkit.automation import Environment, Notification
from csmkit.desk._core import DeskKernel
from csmkit.desk._delivery import Deliveries
from csmkit.desk._due import committed_due
from csmkit.desk._outcomes import OutcomeRunner
from csmkit.desk._tickets import TicketOperations
from csmkit.desk._types import TickResult
from csmkit.desk._views import UNSOLVED, reindex_due
from csmkit.errors import AutomationError
from csmkit.storage import TicketSummary

__all__ = ["Ticker"]

logger = logging.getLogger(__name__)


class Ticker:
    """Time-driven work of one desk.

    Args:
        kernel: The desk's kernel (the command loop, the scheduler).
        deliveries: Retries failed deliveries and learns of them from the scan.
        tickets: Opens the tickets asset rules request.
        outcomes: Runs the woken tickets' outcomes.
    """

    def __init__(
        self,
        kernel: DeskKernel,
        deliveries: Deliveries,
        tickets: TicketOperations,
        outcomes: OutcomeRunner,
    ) -> None:
        self._kernel = kernel
        self._deliveries = deliveries
        self._tickets = tickets
        self._outcomes = outcomes

    def tick(self, now: datetime | None = None) -> TickResult:
        """[`ServiceDesk.tick()`][csmkit.desk.ServiceDesk.tick]."""
        with self._kernel.lock:
            result = self._tick(now)
        # Outside the lock: the outbox (the woken tickets' notifications), then the
        # retries of earlier failures.
        self._deliveries.flush()
        retried = self._deliveries.redeliver()
        if not retried:
            return result
        return attrs.evolve(result, notifications=(*result.notifications, *retried))

    def _tick(self, now: datetime | None) -> TickResult:
        kernel = self._kernel
        now = kernel.now() if now is None else now
        require_aware(now, "now", AutomationError)
        self._scan(now)
        woken = kernel.scheduler.pop_due(now)
        count = 0
        notes: list[Notification] = []
        created: list[str] = []
        for ticket_id in woken:
            final, outcome, wrote = kernel.commit(
                ticket_id, lambda timeline, at: [], wake=True, now=now
            )
            count += len(outcome.events)
            notes.extend(outcome.notifications)
            created.extend(t.ticket_id for t in outcome.tickets)
            if outcome.events:
                logger.info(
                    "ticket %r: timers fired at %s: rules %s, %d event(s), %d notification(s)",
                    ticket_id,
                    now.isoformat(),
                    ", ".join(outcome.fired) or "(timed transitions)",
                    len(outcome.events),
                    len(outcome.notifications),
                )
            else:
                logger.debug(
                    "ticket %r: woken at %s, nothing to do (already done, by this or "
                    "another ticker, or its condition has cleared)",
                    ticket_id,
                    now.isoformat(),
                )
            kernel.scheduler.retry_at(ticket_id, outcome.retry_at)
            if final is not None:
                kernel.scheduler.reschedule(final, now, after=now)
            if wrote:
                self._outcomes.run([outcome])
        if kernel.customers is not None and kernel.automation._asset_rules:
            records = [a.to_dict() for a in kernel.customers.expiring_within(3660, now=now)]
            outcome = kernel.automation.due_assets(
                records, now=now, env=Environment(calendar=kernel.calendar)
            )
            for request in outcome.tickets:
                made, outcomes = self._tickets.create_requested(request)
                created.extend(made)
                self._outcomes.run(outcomes)
        kernel.scheduler.last_tick = now
        return TickResult(now, tuple(woken), count, tuple(notes), tuple(created))

    def _scan(self, now: datetime) -> None:
        """Index the timers of the tickets written since the last scan (by any
        writer, in write order; every ticket on the first scan), except those whose
        timer this desk computed from their latest version (its own writes).

        The first scan also checks the SLA due marks: an unsolved ticket of a type with
        a policy that the store lists without a mark, although its timeline gives one
        (a file migrated from schema 4, written by an older csmkit or another
        application), makes it re-derive every mark once (`reindex_due()`). Only those
        tickets are evaluated, on the timelines the scan loads anyway, and only until
        the first one that is out of date."""
        kernel = self._kernel
        scheduler = kernel.scheduler
        since = scheduler.position
        unmarked: set[str] = set()

        def summaries() -> Iterator[TicketSummary]:
            # Only the first (full) scan reads the summaries: note the unmarked ones.
            for summary in kernel.summaries():
                kind = kernel.types.get(summary.type)
                measured = kind is not None and kind.sla is not None
                if measured and summary.due is None and summary.category.value in UNSOLVED:
                    unmarked.add(summary.ticket_id)
                yield summary

        tickets, position, read = scheduler.changed(
            kernel.store, summaries, kernel.committer.appended
        )
        stale = False
        for ticket_id in tickets:
            timeline = kernel.cache.fresh(ticket_id)
            kernel.routing.observe(timeline)
            self._deliveries.watch(timeline)
            if not stale and ticket_id in unmarked:
                stale = committed_due(timeline, kernel.types, kernel.calendar) is not None
            # after=None: a late-stored event may make a *past* instant due; waking for
            # something already done is a no-op. A ticket created after ``now`` (another
            # process's clock runs ahead, or this ticker lags) is evaluated from its
            # creation instead of failing the whole tick.
            scheduler.reschedule(timeline, max(now, timeline.created_at), after=None)
        if not logger.isEnabledFor(logging.DEBUG):
            pass  # (the messages' arguments are not made for nothing: one scan per tick)
        elif read < 0:
            logger.debug(
                "tick at %s: full scan of %d ticket(s), write position %d",
                now.isoformat(),
                len(tickets),
                position,
            )
        else:
            logger.debug(
                "tick at %s: %d change(s) on %d ticket(s) after write position %d, now %d",
                now.isoformat(),
                read,
                len(tickets),
                since,
                position,
            )
        scheduler.position = position
        if stale:
            replaced = reindex_due(kernel)
            logger.info(
                "tick at %s: open tickets had no SLA due mark (a store written by an older "
                "csmkit); every mark re-derived, %d replaced",
                now.isoformat(),
                replaced,
            )
