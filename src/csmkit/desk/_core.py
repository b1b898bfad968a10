"""The desk's kernel: its parts, the clock, and the command loop every operation uses.

A command (an operation, a wake-up) runs in one pass: load the ticket (through the
[timeline cache][csmkit.desk._timelines]), decide its events and run the rules on them,
hand the batch to the [committer][csmkit.desk._committer] (which appends it and says what
was committed), then let the [scheduler][csmkit.desk._scheduler] recompute the ticket's
timer and the [intent runner][csmkit.desk._intents] send the outcome's notifications; the
follow-up commands it returns (requested tickets, problem records) run in the same loop.
No part calls back up the stack."""

from __future__ import annotations

import abc
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import attrs

from csmkit._time import require_aware
from csmkit.automation import (
    Automation,
    Environment,
    Notification,
    Outcome,
    RuleSet,
    TimerIndex,
    derived_ticket_id,
)
from csmkit.channels import Intake
from csmkit.customers import CustomerDirectory
from csmkit.desk._committer import Committer
from csmkit.desk._due import committed_due
from csmkit.desk._intents import FollowUp, IntentRunner
from csmkit.desk._routing import RoutingCache
from csmkit.desk._scheduler import Scheduler
from csmkit.desk._surveys import DeskSurveys
from csmkit.desk._timelines import TimelineCache, load_or_none
from csmkit.desk._types import TicketType
from csmkit.errors import AutomationError, ConcurrencyError, CsmkitError, NotFoundError
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Router, RoutingState
from csmkit.sla import BusinessCalendar, SlaReport, SlaTracker
from csmkit.storage import SlaDue, TicketStore, TicketSummary
from csmkit.timeline import Assigned, Escalated, Event, Ticket, Timeline

__all__ = ["Build", "DeskCore"]

Build = Callable[[Timeline | None, datetime], Sequence[Event]]

logger = logging.getLogger(__name__)


class DeskCore(abc.ABC):
    """The desk's parts and configuration, and the command loop.

    [`ServiceDesk`][csmkit.desk.ServiceDesk] sets the configuration in its ``__init__``,
    calls `_compose()` for the parts, and implements `_follow_up()` (a follow-up
    command) and `_try_deliver()` (one notification).
    """

    types: dict[str, TicketType]
    store: TicketStore
    plugins: PluginManager
    calendar: BusinessCalendar | None
    router: Router | None
    agents: AgentPool | None
    channels: dict[str, object]
    customers: CustomerDirectory | None
    surveys: DeskSurveys
    max_retries: int
    rules: RuleSet
    automation: Automation
    intake: Intake | None
    _clock: Callable[[], datetime]
    _new_id: Callable[[], str] | None
    _counter: int
    _lock: threading.RLock
    _routes: bool
    _routing: RoutingCache
    _cache: TimelineCache
    _committer: Committer
    _scheduler: Scheduler
    _intents: IntentRunner
    _sla: dict[str, SlaTracker]
    _due_trackers: dict[str, SlaTracker]

    def _compose(self) -> None:
        """Build the parts from the configuration set so far."""
        self._cache = TimelineCache(self.store)
        self._due_trackers = {
            name: SlaTracker(kind.sla) for name, kind in self.types.items() if kind.sla is not None
        }
        self._committer = Committer(self.store, self._cache, self.plugins, self._due_mark)
        self._scheduler = Scheduler(
            self.automation, lambda timeline: self._env(timeline.ticket, routing=False)
        )
        self._intents = IntentRunner(self._try_deliver)
        self._sla = {
            name: SlaTracker(kind.sla) for name, kind in self.types.items() if kind.sla is not None
        }

    @property
    def timers(self) -> TimerIndex:
        """When each ticket is to be woken next (the scheduler's index)."""
        return self._scheduler.timers

    # ------------------------------------------------------------------ basics
    def now(self) -> datetime:
        """The injected clock's instant (checked to be aware)."""
        value = self._clock()
        return require_aware(value, "clock()", AutomationError)

    def ticket(self, ticket_id: str) -> Ticket:
        """The ticket's current state. Raises ``NotFoundError`` for an unknown id."""
        return self._cache.load(ticket_id).ticket

    def timeline(self, ticket_id: str) -> Timeline:
        """The ticket's timeline. Raises ``NotFoundError`` for an unknown id."""
        return self._cache.load(ticket_id)

    def _kind(self, name: str) -> TicketType:
        kind = self.types.get(name)
        if kind is None:
            raise AutomationError(
                f"unknown ticket type {name!r}; the desk knows {', '.join(sorted(self.types))}"
            )
        return kind

    def _env(self, ticket: Ticket, *, routing: bool = True) -> Environment:
        """The rules' environment for ``ticket``; ``routing=False`` leaves out the
        router, its load and the customer (for computing wake-ups, which never route
        nor read conditions); the customer is looked up only when a rule reads it."""
        kind = self.types.get(ticket.type)
        routes = routing and self._routes
        reads = routing and self.automation.reads_customer
        customer, assets = self._customer_context(ticket) if reads else (None, ())
        return Environment(
            customer=customer,
            assets=assets,
            workflow=None if kind is None else kind.workflow,
            sla=None if kind is None else self._sla.get(kind.name),
            calendar=self.calendar,
            router=self.router if routing else None,
            agents=self.agents if routing else None,
            routing_state=self.routing_state() if routes else None,
        )

    def _customer_context(
        self, ticket: Ticket
    ) -> tuple[dict[str, Any] | None, tuple[dict[str, Any], ...]]:
        """The ticket's customer (profile, ``id``, ``name``) and assets, for rules."""
        if self.customers is None or ticket.customer_id is None:
            return None, ()
        try:
            customer = self.customers.get(ticket.customer_id)
        except NotFoundError:
            return None, ()
        profile = {**self.customers.records.profile(customer.id)}
        profile.update(id=customer.id, name=customer.name)
        assets = tuple(a.to_dict() for a in self.customers.assets_of(customer.id))
        return profile, assets

    def _due_mark(self, timeline: Timeline) -> SlaDue | None:
        """The SLA due mark a batch producing ``timeline`` carries to the store."""
        return committed_due(timeline, self.types, self.calendar, self._due_trackers)

    def _sla_report(self, timeline: Timeline, now: datetime | None) -> SlaReport | None:
        """The ticket's SLA report by its type's policy at ``now`` (default: the
        clock); ``None`` when its type has no policy."""
        tracker = self._sla.get(timeline.ticket.type)
        if tracker is None:
            return None
        return tracker.evaluate(timeline, calendar=self.calendar, now=now or self.now())

    def _summaries(
        self,
        *,
        category: Sequence[str] | None = None,
        updated_since: datetime | None = None,
    ) -> Iterator[TicketSummary]:
        """Every ticket summary matching the filters, page by page."""
        cursor = None
        while True:
            page = self.store.find_tickets(
                category=category, updated_since=updated_since, limit=200, cursor=cursor
            )
            yield from page.items
            cursor = page.next_cursor
            if cursor is None:
                return

    def _timelines(self, categories: Sequence[str] | None = None) -> Iterator[Timeline]:
        for summary in self._summaries(category=categories):
            yield self._cache.load(summary.ticket_id, keep=False)

    def routing_state(self, *, refresh: bool = False) -> RoutingState:
        """The routing state: load from the open tickets, round robin's last
        assignments and sticky routing's customers from **every** ticket (closed ones
        included), in the order ``(instant, ticket id, event index)``.

        Derived from the whole store on first use (so a restarted desk derives the same
        state), then **cached** and kept current from what this desk reads and writes:
        every ticket an operation or a tick loads updates its own contribution, and a
        ``ConcurrencyError`` (another writer is active) makes the next call re-derive
        everything. Tickets another process changed and this desk has not read since
        are seen with their last known state; ``refresh=True`` re-derives now.
        """
        with self._lock:
            return self._routing.state(refresh=refresh)

    # ------------------------------------------------------------------ the command loop
    def _commit(
        self,
        ticket_id: str,
        build: Build,
        *,
        wake: bool = False,
        chain: tuple[str, ...] = (),
        triggers: int | None = None,
        now: datetime | None = None,
        react: bool = True,
    ) -> tuple[Timeline | None, Outcome, bool]:
        """Decide, run rules, append atomically; retry on ``ConcurrencyError``.
        Returns the timeline after, the outcome, and whether anything was written."""
        with self._lock:  # one operation at a time per desk (see docs/desk.md, Threads)
            fixed = now
            for _ in range(self.max_retries):
                now = self.now() if fixed is None else fixed
                timeline, cached = load_or_none(self._cache, ticket_id)
                if timeline is not None:
                    self._routing.observe(timeline)
                try:
                    current, batch, outcome = self._decide(
                        ticket_id, timeline, build, now, wake, chain, triggers, react
                    )
                except CsmkitError:
                    if cached and timeline is not None and not self._cache.current(timeline):
                        self._cache.evict(ticket_id)  # decided on a stale entry: again
                        continue
                    raise
                if not batch:
                    # Nothing to append, so no version check: the answer counts only if
                    # the cached timeline is still the stored one.
                    if cached and current is not None and not self._cache.current(current):
                        self._cache.evict(ticket_id)
                        continue
                    return current, outcome, False
                assert current is not None
                final = current.append(*outcome.events) if outcome.events else current
                try:
                    self._committer.commit(ticket_id, timeline, batch, final)
                except ConcurrencyError:
                    # Another writer (a second ticker too) got there first: reload and decide
                    # again; what it already did is read back as done, so nothing repeats.
                    logger.debug(
                        "ticket %r: version %d taken by another writer, deciding again",
                        ticket_id,
                        0 if timeline is None else len(timeline),
                    )
                    self._routing.invalidate()  # another writer: re-derive on next use
                    continue
                self._routing.observe(final)
                log_committed(final, batch)
                return final, outcome, True
            raise ConcurrencyError(
                f"ticket {ticket_id!r} kept changing during {self.max_retries} attempts",
                ticket_id=ticket_id,
            )

    def _decide(
        self,
        ticket_id: str,
        timeline: Timeline | None,
        build: Build,
        now: datetime,
        wake: bool,
        chain: tuple[str, ...],
        triggers: int | None,
        react: bool,
    ) -> tuple[Timeline | None, list[Event], Outcome]:
        """The command's events on ``timeline``, the rules' outcome, and the batch."""
        at = now if timeline is None else max(now, timeline.updated_at)
        events = list(build(timeline, at))
        if timeline is None and not events:
            raise NotFoundError(f"ticket {ticket_id!r} not found")
        current = timeline
        if events:
            current = Timeline(events) if timeline is None else timeline.append(*events)
        assert current is not None
        if not react:
            return current, events, Outcome()
        env = self._env(current.ticket, routing=True)
        if wake:
            outcome = self.automation.wake(current, now=now, env=env)
        else:
            trigger_events = events if triggers is None else list(current.events[-triggers:])
            outcome = self.automation.react(current, trigger_events, now=now, env=env, chain=chain)
        if self._routes and outcome.events:
            stamped = self._routing.stamp(current, outcome.events)
            if stamped is not None:  # routed assignments carry their reference
                outcome = attrs.evolve(outcome, events=stamped)
        return current, [*events, *outcome.events], outcome

    def _command(
        self, ticket_id: str, build: Build, **options: Any
    ) -> tuple[Timeline | None, Outcome]:
        """One command: commit, then (if something was written) reschedule the ticket
        and run the outcome's intents and follow-ups."""
        final, outcome, wrote = self._commit(ticket_id, build, **options)
        if wrote:
            assert final is not None
            now = options.get("now") or self.now()
            self._scheduler.after_operation(final, now)
            self._run_intents(outcome)
        return final, outcome

    def _run_intents(self, outcome: Outcome) -> list[str]:
        """Deliver ``outcome``'s notifications and run its follow-up commands (and
        theirs), one after the other; the ids of the tickets they created."""
        created: list[str] = []
        pending: deque[Outcome] = deque([outcome])
        while pending:
            _, follow_ups = self._intents.run(pending.popleft())
            for command in follow_ups:
                made, outcomes = self._follow_up(command)
                created.extend(made)
                pending.extend(outcomes)
        return created

    @abc.abstractmethod
    def _follow_up(self, command: FollowUp) -> tuple[list[str], list[Outcome]]:
        """Run one follow-up command: the tickets it created, and the outcomes whose
        intents are still to run."""

    @abc.abstractmethod
    def _try_deliver(self, notification: Notification) -> bool:
        """Deliver one notification; ``False`` when it failed (recorded, retried)."""

    def _operation(
        self,
        ticket_id: str,
        make: Callable[[Timeline, datetime], Sequence[Event]],
        *,
        react: bool = True,
    ) -> Ticket:
        def build(timeline: Timeline | None, at: datetime) -> Sequence[Event]:
            if timeline is None:
                raise NotFoundError(f"ticket {ticket_id!r} not found")
            return make(timeline, at)

        final, _ = self._command(ticket_id, build, react=react)
        assert final is not None
        return final.ticket

    def _next_id(self) -> str:
        if self._new_id is not None:
            return self._new_id()
        with self._lock:
            self._counter += 1
            counter = self._counter
        return derived_ticket_id("desk", self.now().isoformat(), str(counter))


def log_committed(final: Timeline, batch: Sequence[Event]) -> None:
    """Log the desk's committed decisions in ``batch``: assignments (routed or by
    hand) and escalations, at INFO on ``csmkit.desk._core``."""
    if not logger.isEnabledFor(logging.INFO):
        return
    ticket_id = final.ticket_id
    for index, event in enumerate(batch):
        if isinstance(event, Escalated):
            groups = [e.group for e in batch[index:] if isinstance(e, Assigned) and e.group]
            logger.info(
                "ticket %s escalated to level %d (group %s)",
                ticket_id,
                event.level,
                groups[0] if groups else final.ticket.group,
            )
        elif isinstance(event, Assigned) and event.decision is not None:
            logger.info(
                "ticket %s routed to agent %s (group %s) by rule %s",
                ticket_id,
                event.agent,
                event.group,
                event.decision,
            )
        elif isinstance(event, Assigned):
            logger.info(
                "ticket %s assigned to agent %s (group %s) by %s",
                ticket_id,
                event.agent,
                event.group,
                event.actor,
            )
