"""The service desk façade: every part of csmkit composed, time-driven, nothing lost."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from csmkit._time import is_aware
from csmkit.automation import (
    PROBLEM_RELATION,
    Automation,
    Environment,
    Notification,
    Outcome,
    ProblemRequest,
    RuleSet,
    TicketRequest,
    TimerIndex,
    derived_ticket_id,
    recurring_problems,
)
from csmkit.automation import ProblemCluster as ProblemCluster
from csmkit.channels import InboundMessage, Intake, IntakeResult, SmtpChannel
from csmkit.customers import CustomerDirectory, CustomerView
from csmkit.desk._delivery import pending_deliveries, redelivered_marker, undelivered_marker
from csmkit.desk._types import FeedbackStatus, LinkedStatus, TicketType, TickResult
from csmkit.errors import AutomationError, ConcurrencyError, NotFoundError
from csmkit.metrics import Table, report
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Router, RoutingState
from csmkit.sla import BusinessCalendar, SlaReport
from csmkit.storage import TicketStore
from csmkit.timeline import (
    Assigned,
    Direction,
    Event,
    Linked,
    MessageAdded,
    SurveyAnswered,
    Ticket,
    Timeline,
)
from csmkit.workflow import Actor

__all__ = ["ServiceDesk"]

_OPEN = ("new", "open", "pending", "on_hold")
Build = Callable[[Timeline | None, datetime], Sequence[Event]]


_RoutingItem = tuple[datetime, str, str, "str | None"]


def _routing_item(timeline: Timeline) -> _RoutingItem | None:
    """What one ticket adds to the routing load: ``(assigned at, agent, channel,
    customer)`` while it is open and assigned, else ``None``."""
    ticket = timeline.ticket
    if ticket.assignee is None or ticket.category.value not in _OPEN:
        return None
    assigned = next(
        (
            e
            for e in reversed(timeline.events)
            if isinstance(e, Assigned) and e.agent == ticket.assignee
        ),
        None,
    )
    at = assigned.at if assigned is not None else ticket.updated_at
    return (at, ticket.assignee, ticket.channel, ticket.customer_id)


def _mark_redelivered(
    position: int, notification: Notification
) -> Callable[[Timeline, datetime], Sequence[Event]]:
    def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
        still = any(p == position for p, _ in pending_deliveries(timeline))
        return [redelivered_marker(position, notification, at)] if still else []

    return make


class _TypeSla:
    """Evaluates each ticket with its type's SLA policy (for the customer view)."""

    def __init__(self, desk: ServiceDesk) -> None:
        self._desk = desk

    def evaluate(self, timeline: Timeline, *, calendar: Any = None, now: datetime) -> Any:
        kind = self._desk.types.get(timeline.ticket.type)
        if kind is None or kind.sla is None:
            return None
        return kind.sla.evaluate(timeline, calendar=self._desk.calendar, now=now)


class ServiceDesk:
    """Store, plugins, ticket types, calendar, router and rules, composed.

    Every operation loads the ticket's timeline, decides its events (checking the
    workflow, the form, the rules), runs the automation rules on them and appends
    everything in **one** batch with the loaded version as ``expected_version``. When
    another writer got there first (``ConcurrencyError``) it reloads and decides again,
    up to ``max_retries`` times. After the append, ``csmkit_ticket_event`` fires for
    each event, rule notifications are delivered (a failed delivery is recorded in the
    timeline and retried by :meth:`tick`, never raised), requested tickets are created
    and the ticket's timer is rescheduled. Time comes only from ``clock``.

    Args:
        store: Where timelines live (``open_store(...)``).
        types: The ticket types (:class:`TicketType`), or a mapping name -> type.
        clock: Returns the current aware instant (inject a fake one in tests).
        plugins: The application's plugin manager (default: built-ins only).
        calendar: The business calendar (SLA, business-time rules, routing steps).
        router: Routes ``assign`` without an agent.
        agents: The agents for the router.
        rules: Automation rules (:class:`~csmkit.automation.RuleSet` or its dict form).
        channels: Outbound channels by name: objects with ``send(notification)``,
            delivered through ``plugins.deliver_notification``.
        customers: A :class:`~csmkit.customers.CustomerDirectory` (sender resolution,
            360° view, asset rules).
        intake_type: Ticket type of tickets opened by :meth:`receive` (its workflow
            starts them; its form must accept a ticket without fields).
        new_ticket_id: Makes ids for :meth:`open_ticket` without ``ticket_id``.
        max_retries: Attempts per operation under contention.

    Raises:
        AutomationError: the rules name unknown fields, channels, transitions or
            ticket types, or loop; an intake type whose workflow does not start in
            ``new`` or whose form requires fields; a naive clock.
    """

    def __init__(
        self,
        store: TicketStore,
        *,
        types: Iterable[TicketType] | Mapping[str, TicketType],
        clock: Callable[[], datetime],
        plugins: PluginManager | None = None,
        calendar: BusinessCalendar | None = None,
        router: Router | None = None,
        agents: AgentPool | None = None,
        rules: RuleSet | Mapping[str, Any] | None = None,
        channels: Mapping[str, object] | None = None,
        customers: CustomerDirectory | None = None,
        intake_type: str | None = None,
        new_ticket_id: Callable[[], str] | None = None,
        max_retries: int = 8,
    ) -> None:
        kinds = list(types.values()) if isinstance(types, Mapping) else list(types)
        self.types: dict[str, TicketType] = {}
        for kind in kinds:
            if not isinstance(kind, TicketType):
                raise AutomationError(f"types: expected TicketType values, got {kind!r}")
            if kind.name in self.types:
                raise AutomationError(f"types: ticket type {kind.name!r} is given twice")
            self.types[kind.name] = kind
        if not callable(clock):
            raise AutomationError("clock must be a callable returning an aware datetime")
        self.store = store
        self.plugins = plugins if plugins is not None else PluginManager(load_entrypoints=False)
        self.calendar = calendar
        self.router = router
        self.agents = agents
        self.channels = dict(channels or {})
        self.customers = customers
        self.max_retries = max_retries
        self._clock = clock
        self._new_id = new_ticket_id
        self._counter = 0
        ruleset = (
            rules
            if isinstance(rules, RuleSet)
            else RuleSet.from_dict(rules)
            if rules is not None
            else RuleSet()
        )
        forms = [k.workflow.form for k in self.types.values()]
        fields: set[str] | None = set()
        for form in forms:
            if form is None or form.allow_unknown:
                fields = None
                break
            assert fields is not None
            fields.update(spec.name for spec in form.fields)
        transitions = {t.name for k in self.types.values() for t in k.workflow.transitions}
        ruleset.check(
            fields=fields,
            channels=self.channels.keys(),
            transitions=transitions,
            ticket_types=self.types.keys(),
            business_clock=calendar is not None,
        )
        self.rules = ruleset
        self.automation = Automation(ruleset)
        self._routes = router is not None and agents is not None
        self.intake: Intake | None = None
        if intake_type is not None:
            kind = self.types.get(intake_type)
            if kind is None:
                raise AutomationError(f"intake_type: unknown ticket type {intake_type!r}")
            initial = kind.workflow.initial
            if initial.name != "new" or initial.category.value != "new":
                raise AutomationError(
                    f"intake_type {intake_type!r}: channel intake opens tickets in state "
                    f"'new'; the workflow starts in {initial.name!r}"
                )
            form = kind.workflow.form
            missing = [] if form is None else [e.field for e in form.validate({}).errors]
            if missing:
                raise AutomationError(
                    f"intake_type {intake_type!r}: its form requires {', '.join(missing)}, "
                    "which an inbound message cannot fill; use a type whose form accepts a "
                    "ticket without fields"
                )
            self.intake = Intake(
                store,
                self.plugins,
                customers=customers,
                ticket_type=intake_type,
                created_event=kind.workflow.created_event,
                extra_events=self._intake_rules,
            )
        self._intake_outcomes: list[Outcome] = []
        self.timers = TimerIndex()
        self._routing_items: dict[str, _RoutingItem] | None = None
        self._routing_cache: RoutingState | None = None
        self._scanned: datetime | None = None
        self._undelivered: set[str] = set()
        self._retry: dict[str, datetime] = {}
        self._last_tick: datetime | None = None

    # ------------------------------------------------------------------ basics
    def now(self) -> datetime:
        """The injected clock's instant (checked to be aware)."""
        value = self._clock()
        if not isinstance(value, datetime) or not is_aware(value):
            raise AutomationError(f"clock() must return an aware datetime, got {value!r}")
        return value

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

    def _env(self, ticket: Ticket) -> Environment:
        kind = self.types.get(ticket.type)
        return Environment(
            workflow=None if kind is None else kind.workflow,
            sla=None if kind is None else kind.sla,
            calendar=self.calendar,
            router=self.router,
            agents=self.agents,
            routing_state=self.routing_state() if self._routes else None,
        )

    def _timelines(self, categories: Sequence[str] | None = None) -> Iterator[Timeline]:
        cursor = None
        while True:
            page = self.store.find_tickets(category=categories, limit=200, cursor=cursor)
            for summary in page.items:
                yield self.store.load(summary.ticket_id)
            cursor = page.next_cursor
            if cursor is None:
                return

    def routing_state(self, *, refresh: bool = False) -> RoutingState:
        """The routing load: one open ticket per assignee and channel, assignment
        instants from the latest ``Assigned`` events.

        Derived from the store on first use (so a restarted desk derives the same
        state), then **cached** and kept current from what this desk reads and writes:
        every ticket an operation or a tick loads updates its own contribution, and a
        ``ConcurrencyError`` (another writer is active) makes the next call re-derive
        everything. Tickets another process changed and this desk has not read since
        are seen with their last known state; ``refresh=True`` re-derives now.
        """
        if refresh or self._routing_items is None:
            items: dict[str, _RoutingItem] = {}
            for timeline in self._timelines(_OPEN):
                item = _routing_item(timeline)
                if item is not None:
                    items[timeline.ticket_id] = item
            self._routing_items = items
            self._routing_cache = None
        if self._routing_cache is None:
            state = RoutingState()
            for _, (at, agent, channel, customer) in sorted(
                self._routing_items.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0])
            ):
                state = state.assign(agent, channel, at, customer_id=customer)
            self._routing_cache = state
        return self._routing_cache

    def _observe(self, timeline: Timeline) -> None:
        """Bring the cached routing contribution of one ticket up to ``timeline``."""
        if self._routing_items is None:
            return
        item = _routing_item(timeline)
        if self._routing_items.get(timeline.ticket_id) == item:
            return
        if item is None:
            del self._routing_items[timeline.ticket_id]
        else:
            self._routing_items[timeline.ticket_id] = item
        self._routing_cache = None

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
        fixed = now
        for _ in range(self.max_retries):
            now = self.now() if fixed is None else fixed
            try:
                timeline: Timeline | None = self.store.load(ticket_id)
            except NotFoundError:
                timeline = None
            if timeline is not None:
                self._observe(timeline)
            version = 0 if timeline is None else len(timeline)
            at = now if timeline is None else max(now, timeline.updated_at)
            events = list(build(timeline, at))
            if timeline is None and not events:
                raise NotFoundError(f"ticket {ticket_id!r} not found")
            current = timeline
            if events:
                current = Timeline(events) if timeline is None else timeline.append(*events)
            assert current is not None
            env = self._env(current.ticket) if react else self._env_light(current.ticket)
            if not react:
                outcome = Outcome()
            elif wake:
                outcome = self.automation.wake(current, now=now, env=env)
            else:
                trigger_events = events if triggers is None else list(current.events[-triggers:])
                outcome = self.automation.react(
                    current, trigger_events, now=now, env=env, chain=chain
                )
            batch = [*events, *outcome.events]
            if not batch:
                return current, outcome
            try:
                self.store.append(ticket_id, batch, version)
            except ConcurrencyError:
                self._routing_items = None  # another writer: re-derive on next use
                continue
            final = current.append(*outcome.events) if outcome.events else current
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
        self._observe(final)
        self._execute(outcome)
        self._reschedule(final, now)

    def _execute(self, outcome: Outcome) -> tuple[list[Notification], list[str]]:
        delivered: list[Notification] = []
        created: list[str] = []
        for notification in outcome.notifications:
            if self._try_deliver(notification):
                delivered.append(notification)
        for request in outcome.tickets:
            if self._create_requested(request):
                created.append(request.ticket_id)
        for problem in outcome.problems:
            opened = self._problem_requested(problem)
            if opened is not None:
                created.append(opened)
        return delivered, created

    def _try_deliver(self, notification: Notification) -> bool:
        """Deliver; on failure record a retriable marker in the ticket's timeline
        (never raise: the operation's events are already stored)."""
        try:
            self._deliver(notification)
        except Exception as exc:
            if notification.ticket_id is None:
                raise
            self._record_failure(notification, exc)
            return False
        return True

    def _record_failure(self, notification: Notification, error: Exception) -> None:
        ticket_id = notification.ticket_id
        assert ticket_id is not None
        for _ in range(self.max_retries):
            timeline = self.store.load(ticket_id)
            at = max(self.now(), timeline.updated_at)
            marker = undelivered_marker(notification, error, at)
            try:
                self.plugins.append_and_notify(self.store, ticket_id, [marker], len(timeline))
            except ConcurrencyError:
                self._routing_items = None
                continue
            self._undelivered.add(ticket_id)
            return
        raise ConcurrencyError(
            f"ticket {ticket_id!r} kept changing while recording a failed delivery",
            ticket_id=ticket_id,
        )

    def undelivered(self) -> tuple[Notification, ...]:
        """Notifications whose delivery failed and that :meth:`tick` will retry (known
        to this desk: from its own failures and from the tickets its ticks scanned)."""
        found: list[Notification] = []
        for ticket_id in sorted(self._undelivered):
            found.extend(n for _, n in pending_deliveries(self.store.load(ticket_id)))
        return tuple(found)

    def _redeliver(self) -> list[Notification]:
        """Retry failed deliveries; a success is recorded, a new failure is not."""
        delivered: list[Notification] = []
        for ticket_id in sorted(self._undelivered):
            pending = pending_deliveries(self.store.load(ticket_id))
            left = len(pending)
            for position, notification in pending:
                try:
                    self._deliver(notification)
                except Exception:
                    continue  # still failing: try again on the next tick
                left -= 1
                delivered.append(notification)
                self._operation(ticket_id, _mark_redelivered(position, notification), react=False)
            if not left:
                self._undelivered.discard(ticket_id)
        return delivered

    def _deliver(self, notification: Notification) -> object | None:
        channel = self.channels.get(notification.channel)
        if channel is None:
            raise AutomationError(f"no outbound channel {notification.channel!r}")
        payload: object = notification
        if isinstance(channel, SmtpChannel):
            from csmkit.channels import EmailNotification

            payload = EmailNotification(
                to=[notification.to],
                subject=notification.subject or notification.text[:60],
                text=notification.text,
                at=notification.at,
                ticket_id=notification.ticket_id,
                automatic=True,
            )
        return self.plugins.deliver_notification(payload, channel)

    def _reschedule(self, timeline: Timeline, now: datetime) -> None:
        env = self._env_light(timeline.ticket)
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

    def _env_light(self, ticket: Ticket) -> Environment:
        kind = self.types.get(ticket.type)
        return Environment(
            workflow=None if kind is None else kind.workflow,
            sla=None if kind is None else kind.sla,
            calendar=self.calendar,
        )

    # ------------------------------------------------------------------ operations
    def open_ticket(
        self,
        type: str,
        *,
        channel: str,
        customer_id: str | None = None,
        subject: str = "",
        priority: str = "normal",
        fields: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
        ticket_id: str | None = None,
        actor: str | None = None,
        meta: Mapping[str, Any] | None = None,
        _chain: tuple[str, ...] = (),
    ) -> Ticket:
        """Open a ticket of a known type (its form is checked), run the rules, store it.

        Raises:
            AutomationError: unknown type.
            WorkflowError: fields that break the type's form (nothing is written).
            ConcurrencyError: ``ticket_id`` already exists.
        """
        kind = self._kind(type)
        if ticket_id is None:
            ticket_id = self._next_id()

        def build(timeline: Timeline | None, at: datetime) -> list[Event]:
            if timeline is not None:
                raise ConcurrencyError(
                    f"ticket {ticket_id!r} already exists",
                    ticket_id=ticket_id,
                    expected=0,
                    actual=len(timeline),
                )
            return [
                kind.workflow.created_event(
                    ticket_id=ticket_id,
                    at=at,
                    type=type,
                    channel=channel,
                    customer_id=customer_id,
                    subject=subject,
                    priority=priority,
                    fields=dict(fields or {}),
                    tags=tuple(tags),
                    actor=actor,
                    **({"meta": dict(meta)} if meta else {}),
                )
            ]

        final, _ = self._commit(ticket_id, build, chain=_chain)
        assert final is not None
        return final.ticket

    def _next_id(self) -> str:
        if self._new_id is not None:
            return self._new_id()
        self._counter += 1
        return derived_ticket_id("desk", self.now().isoformat(), str(self._counter))

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

    def receive(self, message: InboundMessage) -> IntakeResult:
        """Take in an inbound message through :class:`~csmkit.channels.Intake`
        (duplicates, filters, threading, customer resolution). A new ticket is created
        with the intake type's workflow (its initial state, name, version and form
        defaults). The rules run on the intake's events and what they write is appended
        **in the same batch** as the message, so a crash cannot store the message
        without the rules' actions; the intents (notifications, tickets) run after it.

        Raises:
            AutomationError: the desk has no ``intake_type``; too many chained actions
                (nothing written).
        """
        if self.intake is None:
            raise AutomationError("receive() needs ServiceDesk(intake_type=...)")
        self._intake_outcomes.clear()
        try:
            result = self.intake.receive(message)
            outcome = self._intake_outcomes[-1] if self._intake_outcomes else None
        finally:
            self._intake_outcomes.clear()
        if result.ticket_id is not None and result.events:
            final = self.store.load(result.ticket_id)
            self._observe(final)
            if outcome is not None:
                self._execute(outcome)
            self._reschedule(final, self.now())
        return result

    def _intake_rules(self, timeline: Timeline, events: tuple[Event, ...]) -> Sequence[Event]:
        """Run by the intake before its append: the rules' events join its batch."""
        outcome = self.automation.react(
            timeline, events, now=self.now(), env=self._env(timeline.ticket)
        )
        self._intake_outcomes.append(outcome)  # the last attempt is the one stored
        return outcome.events

    def reply(
        self,
        ticket_id: str,
        *,
        author: str,
        channel: str | None = None,
        body_ref: str | None = None,
        message_id: str | None = None,
    ) -> Ticket:
        """Add a public reply to the customer."""
        return self._operation(
            ticket_id,
            lambda timeline, at: [
                MessageAdded(
                    ticket_id=ticket_id,
                    at=at,
                    actor=author,
                    direction=Direction.OUTBOUND,
                    channel=channel or timeline.ticket.channel,
                    author=author,
                    message_id=message_id,
                    body_ref=body_ref,
                )
            ],
        )

    def note(self, ticket_id: str, *, author: str, body_ref: str | None = None) -> Ticket:
        """Add an internal note (never public)."""
        return self._operation(
            ticket_id,
            lambda timeline, at: [
                MessageAdded(
                    ticket_id=ticket_id,
                    at=at,
                    actor=author,
                    direction=Direction.INTERNAL,
                    channel="internal",
                    author=author,
                    public=False,
                    body_ref=body_ref,
                )
            ],
        )

    def transition(
        self,
        ticket_id: str,
        transition: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> Ticket:
        """Fire a workflow transition (checked; ``TransitionNotAllowed`` writes nothing)."""

        def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
            kind = self._kind(timeline.ticket.type)
            _, events = kind.workflow.fire(
                timeline, transition, actor=actor, at=at, data=dict(data or {}), reason=reason
            )
            return events

        return self._operation(ticket_id, make)

    def assign(
        self,
        ticket_id: str,
        agent: str | None = None,
        *,
        group: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Assign to ``agent``/``group``, or with neither, let the router choose.

        Raises:
            AutomationError: auto-assign without a router and agents.
        """

        def make(timeline: Timeline, at: datetime) -> Sequence[Event]:
            if agent is not None or group is not None:
                return [Assigned(ticket_id=ticket_id, at=at, actor=actor, agent=agent, group=group)]
            if self.router is None or self.agents is None:
                raise AutomationError("auto-assign needs ServiceDesk(router=..., agents=...)")
            decision = self.router.route(timeline.ticket, self.agents, self.routing_state(), at)
            if decision.agent is None:
                return []
            return [
                Assigned(
                    ticket_id=ticket_id,
                    at=at,
                    actor=actor or "router",
                    agent=decision.agent,
                    group=decision.group,
                    decision=f"{decision.rule}#{decision.step}",
                )
            ]

        return self._operation(ticket_id, make)

    def record_survey(
        self,
        ticket_id: str,
        survey: str,
        score: float,
        *,
        comment: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Record the customer's survey answer on the ticket."""
        return self._operation(
            ticket_id,
            lambda timeline, at: [
                SurveyAnswered(
                    ticket_id=ticket_id,
                    at=at,
                    actor=actor or timeline.ticket.customer_id,
                    survey=survey,
                    score=score,
                    comment=comment,
                )
            ],
        )

    def link(
        self,
        ticket_id: str,
        other: str,
        relation: str,
        *,
        back: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Link ``ticket_id`` to ``other`` (and, with ``back``, ``other`` back to it).

        Raises:
            NotFoundError: either ticket is unknown (checked before anything is written).
        """
        self.store.load(other)
        ticket = self._operation(
            ticket_id,
            lambda timeline, at: (
                []
                if any(
                    isinstance(e, Linked) and e.relation == relation and e.other_ticket == other
                    for e in timeline.events
                )
                else [
                    Linked(
                        ticket_id=ticket_id,
                        at=at,
                        actor=actor,
                        relation=relation,
                        other_ticket=other,
                    )
                ]
            ),
        )
        if back is not None:
            self.link(other, ticket_id, back, actor=actor)
        return ticket

    # ------------------------------------------------------------------ time
    def tick(self, now: datetime | None = None) -> TickResult:
        """Run everything due up to ``now`` (default: the clock): timed transitions,
        time rules, SLA warnings and breaches, asset rules. Idempotent: "already done"
        is read from the timelines, so a repeated tick (or one after a restart) adds
        nothing."""
        now = self.now() if now is None else now
        if not isinstance(now, datetime) or not is_aware(now):
            raise AutomationError(f"now must be an aware datetime, got {now!r}")
        self._scan(now)
        woken = self.timers.pop_due(now)
        count = 0
        notes: list[Notification] = []
        created: list[str] = []
        for ticket_id in woken:
            final, outcome = self._commit(ticket_id, lambda timeline, at: [], wake=True, now=now)
            count += len(outcome.events)
            notes.extend(outcome.notifications)
            created.extend(t.ticket_id for t in outcome.tickets)
            if outcome.retry_at is None:
                self._retry.pop(ticket_id, None)
            else:
                self._retry[ticket_id] = outcome.retry_at
            if final is not None:
                wake = self.automation.next_wakeup(
                    final, now=now, after=now, env=self._env_light(final.ticket)
                )
                self.timers.schedule(ticket_id, self._earliest(ticket_id, wake, now))
        if self.customers is not None and self.automation._asset_rules:
            records = [a.to_dict() for a in self.customers.expiring_within(3660, now=now)]
            outcome = self.automation.due_assets(
                records, now=now, env=Environment(calendar=self.calendar)
            )
            for request in outcome.tickets:
                if self._create_requested(request):
                    created.append(request.ticket_id)
        notes.extend(self._redeliver())
        self._last_tick = now
        return TickResult(now, tuple(woken), count, tuple(notes), tuple(created))

    def _scan(self, now: datetime) -> None:
        """Index the timers of tickets changed since the last scan (by any writer)."""
        cursor = None
        since = self._scanned
        while True:
            page = self.store.find_tickets(updated_since=since, limit=200, cursor=cursor)
            for summary in page.items:
                timeline = self.store.load(summary.ticket_id)
                self._observe(timeline)
                if pending_deliveries(timeline):
                    self._undelivered.add(summary.ticket_id)
                wake = self.automation.next_wakeup(
                    timeline, now=now, after=self._last_tick, env=self._env_light(timeline.ticket)
                )
                self.timers.schedule(summary.ticket_id, self._earliest(summary.ticket_id, wake))
            cursor = page.next_cursor
            if cursor is None:
                break
        self._scanned = now

    # ------------------------------------------------------------------ intents
    def _create_requested(self, request: TicketRequest) -> bool:
        if self.store.version(request.ticket_id) > 0:
            return False
        links = []
        if request.source_ticket is not None:
            links.append(request.source_ticket)
        try:
            self.open_ticket(
                request.type,
                channel=request.channel,
                customer_id=request.customer_id,
                subject=request.subject,
                priority=request.priority,
                fields=dict(request.fields),
                ticket_id=request.ticket_id,
                actor="system",
                meta=(
                    {"rule": request.rule}
                    if request.source_asset is None
                    else {"rule": request.rule, "asset": request.source_asset}
                ),
                _chain=request.chain,
            )
        except ConcurrencyError:
            return False  # another desk created it first
        for source in links:
            self.link(request.ticket_id, source, f"{request.relation}_of", actor="system")
        return True

    def _problem_requested(self, request: ProblemRequest) -> str | None:
        clusters = recurring_problems(
            self._timelines(),
            by=request.by,
            window=request.window,
            now=request.at,
            min_count=request.min_count,
        )
        for cluster in clusters:
            if request.ticket_id in cluster.ticket_ids:
                return self.open_problem(
                    cluster, subject=request.subject or None, rule=request.rule
                )
        return None

    # ------------------------------------------------------------------ problems
    def recurring_problems(
        self,
        window: timedelta,
        by: Sequence[str],
        min_count: int = 3,
        *,
        now: datetime | None = None,
    ) -> tuple[ProblemCluster, ...]:
        """Clusters of similar tickets (see :func:`csmkit.automation.recurring_problems`)."""
        return recurring_problems(
            self._timelines(), by=by, window=window, now=now or self.now(), min_count=min_count
        )

    def open_problem(
        self,
        cluster: ProblemCluster | Sequence[str],
        *,
        subject: str | None = None,
        rule: str | None = None,
    ) -> str:
        """Open (or join) a problem record and link the tickets to it.

        A cluster already linked to a problem joins that one; otherwise the problem id
        is derived from the cluster's key, so asking twice opens one record.

        Raises:
            AutomationError: the desk has no ``problem`` ticket type.
        """
        self._kind("problem")
        if isinstance(cluster, ProblemCluster):
            ids, key, existing = cluster.ticket_ids, repr(cluster.key), cluster.problems
            text = subject or "Recurring: " + ", ".join(f"{k}={v}" for k, v in cluster.key)
        else:
            ids, key, existing = tuple(cluster), repr(sorted(cluster)), ()
            text = subject or f"Problem of {', '.join(ids)}"
        problem_id = existing[0] if existing else derived_ticket_id("problem", key, prefix="PRB-")
        if self.store.version(problem_id) == 0:
            with contextlib.suppress(ConcurrencyError):  # opened by another desk meanwhile
                self.open_ticket(
                    "problem",
                    channel="internal",
                    subject=text,
                    ticket_id=problem_id,
                    actor="system",
                    meta={"rule": rule} if rule else None,
                )
        for ticket_id in ids:
            self.link(ticket_id, problem_id, PROBLEM_RELATION, back="incident", actor="system")
        return problem_id

    # ------------------------------------------------------------------ feedback
    def link_requirement(
        self, feedback_id: str, requirement_id: str, *, actor: str | None = None
    ) -> Ticket:
        """Link a feedback ticket to the internal requirement that answers it."""
        return self.link(feedback_id, requirement_id, "requirement", back="feedback", actor=actor)

    def feedback_status(self, feedback_id: str, *, lang: str = "zh") -> FeedbackStatus:
        """What the customer sees: the feedback's state and each linked requirement's
        state, with the workflows' customer-facing labels."""
        timeline = self.store.load(feedback_id)
        ticket = timeline.ticket
        linked: list[LinkedStatus] = []
        seen: set[str] = set()
        for event in timeline.of_type(Linked):
            if event.relation != "requirement" or event.other_ticket in seen:
                continue
            seen.add(event.other_ticket)
            other = self.store.load(event.other_ticket).ticket
            linked.append(
                LinkedStatus(
                    ticket_id=other.id,
                    relation=event.relation,
                    status=other.status,
                    category=other.category.value,
                    label=self._label(other, lang),
                    updated_at=other.updated_at,
                )
            )
        return FeedbackStatus(feedback_id, ticket.status, self._label(ticket, lang), tuple(linked))

    def _label(self, ticket: Ticket, lang: str) -> str:
        kind = self.types.get(ticket.type)
        if kind is None:
            return ticket.status
        try:
            return kind.workflow.state(ticket.status).label(lang, "customer")
        except Exception:  # a state of another workflow version: show its name
            return ticket.status

    # ------------------------------------------------------------------ views
    def sla(self, ticket_id: str, now: datetime | None = None) -> SlaReport | None:
        """The ticket's SLA report at ``now`` (default: the clock); ``None`` when its
        type has no policy."""
        timeline = self.store.load(ticket_id)
        kind = self.types.get(timeline.ticket.type)
        if kind is None or kind.sla is None:
            return None
        return kind.sla.evaluate(timeline, calendar=self.calendar, now=now or self.now())

    def customer_view(self, customer_id: str, now: datetime | None = None) -> CustomerView:
        """The customer's 360° view with each ticket's SLA state.

        Raises:
            AutomationError: the desk has no customer directory.
        """
        if self.customers is None:
            raise AutomationError("customer_view() needs ServiceDesk(customers=...)")
        return self.customers.customer_view(
            customer_id, now=now or self.now(), sla=_TypeSla(self), calendar=self.calendar
        )

    def report(self, metrics: Sequence[str], **options: Any) -> Table:
        """:func:`csmkit.metrics.report` over every ticket of the store (business
        durations on the desk's calendar unless ``clock=`` is given)."""
        options.setdefault("clock", self.calendar)
        return report(list(self._timelines()), metrics, **options)

    def timelines(self) -> Iterator[Timeline]:
        """Every ticket's timeline, oldest change first."""
        return self._timelines()
