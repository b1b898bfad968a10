"""The desk's kernel: its configuration and parts, the clock, and the command loop.

A command (an operation, a wake-up) runs in one pass: load the ticket (through the
[timeline cache][csmkit.desk._timelines]), decide its events and run the rules on them,
hand the batch to the [committer][csmkit.desk._committer] (which appends it and says what
was committed), then let the [scheduler][csmkit.desk._scheduler] recompute the ticket's
timer, all under the desk's lock; the stored outcome's notifications are queued in the
[outbox][csmkit.desk._outbox] before the lock is released (so in the order of the stores).
The kernel returns the outcome; the [outcome runner][csmkit.desk._outcomes] runs the
follow-up commands it asks for (requested tickets, problem records) in its own loop, and
the [deliveries][csmkit.desk._delivery] send the outbox's notifications after the lock is
released. No part calls back up the stack: the operation parts
(``_tickets``, ``_intake``, ``_problems``, ``_views``, ``_delivery``, ``_ticker``) each
receive the kernel (and the parts they use) through their constructor."""

from __future__ import annotations

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
    Outcome,
    RuleSet,
    TimerIndex,
    derived_ticket_id,
)
from csmkit.customers import CustomerDirectory
from csmkit.desk._committer import Committer
from csmkit.desk._due import committed_due
from csmkit.desk._outbox import Outbox
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

__all__ = ["Build", "DeskKernel", "log_committed"]

Build = Callable[[Timeline | None, datetime], Sequence[Event]]

logger = logging.getLogger(__name__)


class DeskKernel:
    """The desk's configuration and parts, and the command loop (see the module docstring).

    Built once by [`ServiceDesk`][csmkit.desk.ServiceDesk] from its checked arguments;
    the operation parts read what they need from it.
    """

    def __init__(
        self,
        store: TicketStore,
        *,
        types: dict[str, TicketType],
        clock: Callable[[], datetime],
        plugins: PluginManager,
        calendar: BusinessCalendar | None,
        router: Router | None,
        agents: AgentPool | None,
        rules: RuleSet,
        channels: dict[str, object],
        customers: CustomerDirectory | None,
        surveys: DeskSurveys,
        new_ticket_id: Callable[[], str] | None,
        max_retries: int,
    ) -> None:
        self.types = types
        self.store = store
        self.plugins = plugins
        self.calendar = calendar
        self.router = router
        self.agents = agents
        self.channels = channels
        self.customers = customers
        self.surveys = surveys
        self.max_retries = max_retries
        self.rules = rules
        self.automation = Automation(rules)
        self.clock = clock
        self.lock = threading.RLock()
        self.routes = router is not None and agents is not None
        self._new_id = new_ticket_id
        self._counter = 0
        self.routing = RoutingCache(self.timelines)
        self.cache = TimelineCache(store)
        self.outbox = Outbox()
        self.committer = Committer(store, self.cache, plugins, self.due_mark)
        # A wake-up's environment depends on the ticket's type only: one per type.
        self._wake_envs: dict[str, tuple[TicketType | None, Environment]] = {}
        # The rules' environment of each type, with the routing state it holds.
        self._envs: dict[str, tuple[tuple[object, ...], Environment]] = {}
        self.scheduler = Scheduler(self.automation, self.wake_env)
        self._sla = {
            name: SlaTracker(kind.sla) for name, kind in types.items() if kind.sla is not None
        }

    @property
    def timers(self) -> TimerIndex:
        """When each ticket is to be woken next (the scheduler's index)."""
        return self.scheduler.timers

    # ------------------------------------------------------------------ basics
    def now(self) -> datetime:
        """The injected clock's instant (checked to be aware)."""
        value = self.clock()
        return require_aware(value, "clock()", AutomationError)

    def ticket(self, ticket_id: str) -> Ticket:
        """The ticket's current state. Raises ``NotFoundError`` for an unknown id."""
        return self.cache.load(ticket_id).ticket

    def timeline(self, ticket_id: str) -> Timeline:
        """The ticket's timeline. Raises ``NotFoundError`` for an unknown id."""
        return self.cache.load(ticket_id)

    def kind(self, name: str) -> TicketType:
        """The ticket type called ``name``; ``AutomationError`` names the known ones."""
        kind = self.types.get(name)
        if kind is None:
            raise AutomationError(
                f"unknown ticket type {name!r}; the desk knows {', '.join(sorted(self.types))}"
            )
        return kind

    def env(self, ticket: Ticket, *, routing: bool = True) -> Environment:
        """The rules' environment for ``ticket``; ``routing=False`` leaves out the
        router, its load and the customer (for computing wake-ups, which never route
        nor read conditions); the customer is looked up only when a rule reads it."""
        kind = self.types.get(ticket.type)
        routes = routing and self.routes
        reads = routing and self.automation.reads_customer
        if routing and not reads:
            # Then it depends on the type, the routing state and the desk's router,
            # agents and calendar only (the router and agents may be replaced): the
            # last one made for the type is reused while all are the very same objects.
            state = self.routing_state() if routes else None
            router, agents, calendar = self.router, self.agents, self.calendar
            kept = self._envs.get(ticket.type)
            if kept is not None:
                made = kept[0]
                if (
                    made[0] is kind
                    and made[1] is state
                    and made[2] is router
                    and made[3] is agents
                    and made[4] is calendar
                ):
                    return kept[1]
            env = self._environment(kind, None, (), state)
            self._envs[ticket.type] = ((kind, state, router, agents, calendar), env)
            return env
        customer, assets = self.customer_context(ticket) if reads else (None, ())
        return self._environment(
            kind, customer, assets, self.routing_state() if routes else None, routing=routing
        )

    def _environment(
        self,
        kind: TicketType | None,
        customer: dict[str, Any] | None,
        assets: tuple[dict[str, Any], ...],
        state: RoutingState | None,
        *,
        routing: bool = True,
    ) -> Environment:
        return Environment(
            customer=customer,
            assets=assets,
            workflow=None if kind is None else kind.workflow,
            sla=None if kind is None else self._sla.get(kind.name),
            calendar=self.calendar,
            router=self.router if routing else None,
            agents=self.agents if routing else None,
            routing_state=state,
        )

    def wake_env(self, timeline: Timeline) -> Environment:
        """``env(ticket, routing=False)``, made once per ticket type (it reads nothing
        else of the ticket)."""
        name = timeline.ticket.type
        kind = self.types.get(name)
        kept = self._wake_envs.get(name)
        if kept is None or kept[0] is not kind:
            kept = self._wake_envs[name] = (kind, self.env(timeline.ticket, routing=False))
        return kept[1]

    def customer_context(
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

    def due_mark(self, timeline: Timeline) -> SlaDue | None:
        """The SLA due mark a batch producing ``timeline`` carries to the store."""
        # The same trackers as the rules' reports: an operation's due mark (at its own
        # instant) and its wake-up computation (at ``now``, usually that instant) then
        # share one fold, and the second evaluation is the tracker's repeat answer.
        return committed_due(timeline, self.types, self.calendar, self._sla)

    def sla_report(self, timeline: Timeline, now: datetime | None) -> SlaReport | None:
        """The ticket's SLA report by its type's policy at ``now`` (default: the
        clock); ``None`` when its type has no policy."""
        tracker = self._sla.get(timeline.ticket.type)
        if tracker is None:
            return None
        return tracker.evaluate(timeline, calendar=self.calendar, now=now or self.now())

    def summaries(
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

    def timelines(self, categories: Sequence[str] | None = None) -> Iterator[Timeline]:
        for summary in self.summaries(category=categories):
            yield self.cache.load(summary.ticket_id, keep=False)

    def routing_state(self, *, refresh: bool = False) -> RoutingState:
        """[`ServiceDesk.routing_state()`][csmkit.desk.ServiceDesk.routing_state]."""
        with self.lock:
            return self.routing.state(refresh=refresh)

    # ------------------------------------------------------------------ the command loop
    def commit(
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
        with self.lock:  # one operation at a time per desk (see docs/desk.md, Threads)
            fixed = now
            for _ in range(self.max_retries):
                now = self.now() if fixed is None else fixed
                timeline, cached = load_or_none(self.cache, ticket_id)
                if timeline is not None:
                    self.routing.observe(timeline)
                try:
                    current, batch, outcome = self._decide(
                        ticket_id, timeline, build, now, wake, chain, triggers, react
                    )
                except CsmkitError:
                    if cached and timeline is not None and not self.cache.current(timeline):
                        self.cache.evict(ticket_id)  # decided on a stale entry: again
                        continue
                    raise
                if not batch:
                    # Nothing to append, so no version check: the answer counts only if
                    # the cached timeline is still the stored one.
                    if cached and current is not None and not self.cache.current(current):
                        self.cache.evict(ticket_id)
                        continue
                    return current, outcome, False
                assert current is not None
                final = current.append(*outcome.events) if outcome.events else current
                try:
                    self.committer.commit(ticket_id, timeline, batch, final)
                except ConcurrencyError:
                    # Another writer (a second ticker too) got there first: reload and decide
                    # again; what it already did is read back as done, so nothing repeats.
                    logger.debug(
                        "ticket %r: version %d taken by another writer, deciding again",
                        ticket_id,
                        0 if timeline is None else len(timeline),
                    )
                    self.routing.invalidate()  # another writer: re-derive on next use
                    continue
                self.routing.observe(final)
                log_committed(final, batch)
                # Queued under the lock, so the outbox keeps the order of the stores.
                if outcome.notifications:
                    self.outbox.put(outcome.notifications)
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
        if wake:
            env = self.env(current.ticket, routing=True)
            outcome = self.automation.wake(current, now=now, env=env)
        else:
            trigger_events = events if triggers is None else list(current.events[-triggers:])
            if not self.automation.may_react(trigger_events):
                # No rule listens: react() would decide nothing (the desk reads no
                # routing state from an outcome), so neither it nor its environment.
                return current, events, Outcome()
            env = self.env(current.ticket, routing=True)
            outcome = self.automation.react(current, trigger_events, now=now, env=env, chain=chain)
        if self.routes and outcome.events:
            stamped = self.routing.stamp(current, outcome.events)
            if stamped is not None:  # routed assignments carry their reference
                outcome = attrs.evolve(outcome, events=stamped)
        return current, [*events, *outcome.events], outcome

    def command(
        self, ticket_id: str, build: Build, **options: Any
    ) -> tuple[Timeline | None, Outcome, bool]:
        """One command: commit, then (if something was written) reschedule the ticket,
        under the desk's lock. Returns what `commit()` returns; the caller hands the
        outcome to the outcome runner (its follow-up commands) and the outbox's
        notifications to the deliveries, after the lock is released."""
        with self.lock:
            final, outcome, wrote = self.commit(ticket_id, build, **options)
            if wrote:
                assert final is not None
                now = options.get("now") or self.now()
                self.scheduler.after_operation(final, now)
            return final, outcome, wrote

    def operation(
        self,
        ticket_id: str,
        make: Callable[[Timeline, datetime], Sequence[Event]],
        *,
        react: bool = True,
    ) -> tuple[Ticket, Outcome]:
        """A command on an existing ticket: the ticket after it, and the outcome whose
        intents are still to run."""

        def build(timeline: Timeline | None, at: datetime) -> Sequence[Event]:
            if timeline is None:
                raise NotFoundError(f"ticket {ticket_id!r} not found")
            return make(timeline, at)

        final, outcome, _ = self.command(ticket_id, build, react=react)
        assert final is not None
        return final.ticket, outcome

    def next_id(self) -> str:
        if self._new_id is not None:
            return self._new_id()
        with self.lock:
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
