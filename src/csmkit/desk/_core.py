"""The desk's kernel: its state, the clock, and the commit loop every operation uses."""

from __future__ import annotations

import abc
import logging
import threading
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
from csmkit.desk._due import committed_due
from csmkit.desk._routing import RoutingCache
from csmkit.desk._surveys import DeskSurveys
from csmkit.desk._types import TicketType
from csmkit.errors import AutomationError, ConcurrencyError, NotFoundError
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Router, RoutingState
from csmkit.sla import BusinessCalendar, SlaReport
from csmkit.storage import TicketStore, TicketSummary
from csmkit.timeline import Assigned, Escalated, Event, Ticket, Timeline

__all__ = ["Build", "DeskCore"]

Build = Callable[[Timeline | None, datetime], Sequence[Event]]

logger = logging.getLogger(__name__)


class DeskCore(abc.ABC):
    """State shared by the desk's parts, and the commit loop.

    [`ServiceDesk`][csmkit.desk.ServiceDesk] sets every attribute in its ``__init__`` and
    implements `_execute()` (the intents of a stored outcome).
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
    timers: TimerIndex
    _clock: Callable[[], datetime]
    _new_id: Callable[[], str] | None
    _counter: int
    _lock: threading.RLock
    _routes: bool
    _routing: RoutingCache
    _retry: dict[str, datetime]
    _last_tick: datetime | None

    # ------------------------------------------------------------------ basics
    def now(self) -> datetime:
        """The injected clock's instant (checked to be aware)."""
        value = self._clock()
        return require_aware(value, "clock()", AutomationError)

    def ticket(self, ticket_id: str) -> Ticket:
        """The ticket's current state. Raises ``NotFoundError`` for an unknown id."""
        return self.store.load(ticket_id).ticket

    def timeline(self, ticket_id: str) -> Timeline:
        """The ticket's timeline. Raises ``NotFoundError`` for an unknown id."""
        return self.store.load(ticket_id)

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
            sla=None if kind is None else kind.sla,
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

    def _sla_report(self, timeline: Timeline, now: datetime | None) -> SlaReport | None:
        """The ticket's SLA report by its type's policy at ``now`` (default: the
        clock); ``None`` when its type has no policy."""
        kind = self.types.get(timeline.ticket.type)
        if kind is None or kind.sla is None:
            return None
        return kind.sla.evaluate(timeline, calendar=self.calendar, now=now or self.now())

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
            yield self.store.load(summary.ticket_id)

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

    # ------------------------------------------------------------------ the commit loop
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
    ) -> tuple[Timeline | None, Outcome]:
        """Decide, run rules, append atomically; retry on ``ConcurrencyError``."""
        with self._lock:  # one operation at a time per desk (see docs/desk.md, Threads)
            fixed = now
            for _ in range(self.max_retries):
                now = self.now() if fixed is None else fixed
                try:
                    timeline: Timeline | None = self.store.load(ticket_id)
                except NotFoundError:
                    timeline = None
                if timeline is not None:
                    self._routing.observe(timeline)
                version = 0 if timeline is None else len(timeline)
                at = now if timeline is None else max(now, timeline.updated_at)
                events = list(build(timeline, at))
                if timeline is None and not events:
                    raise NotFoundError(f"ticket {ticket_id!r} not found")
                current = timeline
                if events:
                    current = Timeline(events) if timeline is None else timeline.append(*events)
                assert current is not None
                env = self._env(current.ticket, routing=react)
                if not react:
                    outcome = Outcome()
                elif wake:
                    outcome = self.automation.wake(current, now=now, env=env)
                else:
                    trigger_events = (
                        events if triggers is None else list(current.events[-triggers:])
                    )
                    outcome = self.automation.react(
                        current, trigger_events, now=now, env=env, chain=chain
                    )
                if react and self._routes and outcome.events:
                    stamped = self._routing.stamp(current, outcome.events)
                    if stamped is not None:  # routed assignments carry their reference
                        outcome = attrs.evolve(outcome, events=stamped)
                batch = [*events, *outcome.events]
                if not batch:
                    return current, outcome
                final = current.append(*outcome.events) if outcome.events else current
                due = committed_due(final, self.types, self.calendar)
                try:
                    self.store.append(ticket_id, batch, version, due=due)
                except ConcurrencyError:
                    # Another writer (a second ticker too) got there first: reload and decide
                    # again; what it already did is read back as done, so nothing repeats.
                    logger.debug(
                        "ticket %r: version %d taken by another writer, deciding again",
                        ticket_id,
                        version,
                    )
                    self._routing.invalidate()  # another writer: re-derive on next use
                    continue
                self._after(timeline, final, batch, outcome, now)
                return final, outcome
            raise ConcurrencyError(
                f"ticket {ticket_id!r} kept changing during {self.max_retries} attempts",
                ticket_id=ticket_id,
            )

    def _after(
        self,
        before: Timeline | None,
        final: Timeline,
        batch: Sequence[Event],
        outcome: Outcome,
        now: datetime,
    ) -> None:
        ticket = None if before is None else before.ticket
        for event in batch:
            ticket = (
                Ticket.created(event)  # type: ignore[arg-type]
                if ticket is None
                else ticket.apply(event)
            )
            self.plugins.ticket_event(event, ticket)
        self._routing.observe(final)
        log_committed(final, batch)
        self._execute(outcome)
        self._reschedule(final, now)

    @abc.abstractmethod
    def _execute(self, outcome: Outcome) -> tuple[list[Notification], list[str]]:
        """Carry out a stored outcome's intents (deliveries, tickets, problems)."""

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

        final, _ = self._commit(ticket_id, build, react=react)
        assert final is not None
        return final.ticket

    def _next_id(self) -> str:
        if self._new_id is not None:
            return self._new_id()
        with self._lock:
            self._counter += 1
            counter = self._counter
        return derived_ticket_id("desk", self.now().isoformat(), str(counter))

    # ------------------------------------------------------------------ timers
    def _reschedule(self, timeline: Timeline, now: datetime) -> None:
        env = self._env(timeline.ticket, routing=False)
        wake = self.automation.next_wakeup(timeline, now=now, after=self._last_tick, env=env)
        self.timers.schedule(timeline.ticket_id, self._earliest(timeline.ticket_id, wake))

    def _earliest(
        self, ticket_id: str, wake: datetime | None, after: datetime | None = None
    ) -> datetime | None:
        """``wake`` or the ticket's pending retry instant (a time rule the router
        queued), whichever comes first."""
        after = self._last_tick if after is None else after
        retry = self._retry.get(ticket_id)
        if retry is None or (after is not None and retry <= after):
            return wake
        return retry if wake is None or retry < wake else wake


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
