"""The service desk façade: every part of csmkit composed, time-driven, nothing lost.

The desk is built from parts with one job each, wired here and nowhere else:

* ``_core`` — the [kernel][csmkit.desk._core.DeskKernel]: configuration, clock, lock and
  the command loop (load, decide, run rules, commit through the ``_committer``, reschedule
  through the ``_scheduler``), with the timeline cache (``_timelines``) and the routing
  cache (``_routing``);
* ``_tickets`` (ticket operations), ``_intake`` (inbound messages), ``_problems``
  (problem records, feedback), ``_views`` (read-only views): each takes the kernel in its
  constructor, commits through it and **returns** the stored outcomes;
* ``_outbox`` (notifications queued at commit, in store order), ``_delivery`` (sending
  them outside the lock, their failures and redelivery) and ``_outcomes`` (the outcome
  runner: follow-up commands in one loop, then the outbox sent);
* ``_ticker`` ([`tick()`][csmkit.desk.ServiceDesk.tick]) and ``_import`` (bulk import).

No part inherits from another or calls back into its caller; every public method
below delegates to one part in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from csmkit.automation import (
    Automation,
    Notification,
    ProblemCluster,
    RuleSet,
    TimerIndex,
)
from csmkit.channels import AutoReply, DeliveryReport, InboundMessage, Intake, IntakeResult
from csmkit.customers import CustomerDirectory, CustomerView
from csmkit.desk._compose import compose_kernel, config_arguments
from csmkit.desk._config import DeskConfig
from csmkit.desk._delivery import Deliveries
from csmkit.desk._import import import_timelines
from csmkit.desk._intake import IntakeOperations
from csmkit.desk._outcomes import OutcomeRunner
from csmkit.desk._problems import ProblemsAndFeedback
from csmkit.desk._surveys import DeskSurveys
from csmkit.desk._ticker import Ticker
from csmkit.desk._tickets import TicketOperations
from csmkit.desk._types import FeedbackStatus, TicketType, TickResult
from csmkit.desk._views import UNSOLVED, Views
from csmkit.desk._views import Categories as _Categories
from csmkit.knowledge import TemplateSet
from csmkit.metrics import Survey, Table
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Decision, Router, RoutingState
from csmkit.sla import BusinessCalendar, SlaReport
from csmkit.storage import TicketPage, TicketStore
from csmkit.timeline import Ticket, Timeline
from csmkit.workflow import Actor

__all__ = ["ServiceDesk"]


class ServiceDesk:
    """Store, plugins, ticket types, calendar, router and rules, composed.

    Every operation loads the ticket's timeline, decides its events (checking the
    workflow, the form, the rules), runs the automation rules on them and appends
    everything in **one** batch with the loaded version as ``expected_version``. When
    another writer got there first (``ConcurrencyError``) it reloads and decides again,
    up to ``max_retries`` times. After the append, ``csmkit_ticket_event`` fires for
    each event, rule notifications are delivered (a failed delivery is recorded in the
    timeline and retried by [`tick()`][csmkit.desk.ServiceDesk.tick], never raised), requested
    tickets are created and the ticket's timer is rescheduled. Time comes only from ``clock``.

    Args:
        store: Where timelines live (``open_store(...)``).
        types: The ticket types ([`TicketType`][csmkit.desk.TicketType]), or a mapping name -> type.
        clock: Returns the current aware instant (inject a fake one in tests).
        plugins: The application's plugin manager (default: built-ins only).
        calendar: The business calendar (SLA, business-time rules, routing steps).
        router: Routes ``assign`` without an agent.
        agents: The agents for the router.
        rules: Automation rules ([`RuleSet`][csmkit.automation.RuleSet] or its dict form).
        channels: Outbound channels by name: objects with ``send(notification)``,
            delivered through ``plugins.deliver_notification``.
        customers: A [`CustomerDirectory`][csmkit.customers.CustomerDirectory] (sender resolution,
            360° view, asset rules).
        surveys: Desk-wide [`Survey`][csmkit.metrics.Survey] definitions (at most one per
            kind; a ticket type's own surveys take precedence). Answers are checked
            against them and [`report()`][csmkit.desk.ServiceDesk.report] reads them.
        templates: Reply templates ([`TemplateSet`][csmkit.knowledge.TemplateSet] or its dict
            form) for [`reply(template=...)`][csmkit.desk.ServiceDesk.reply]; their actions
            (``set_field`` of a form field, ``transition``) are checked against the
            automation's action table, the forms and the workflows here.
        intake_type: Ticket type of tickets opened by [`receive()`][csmkit.desk.ServiceDesk.receive]
            (its workflow starts them; fields its form requires must also be required by a later
            transition, so a ticket opened from a message may lack them until then).
        new_ticket_id: Makes ids for [`open_ticket()`][csmkit.desk.ServiceDesk.open_ticket] without
            ``ticket_id``.
        max_retries: Attempts per operation under contention.

    Raises:
        AutomationError: the rules name unknown fields, channels, transitions or
            ticket types, or loop; a template's actions are unknown, malformed or name
            unknown fields or transitions (every problem with its path); an intake
            type whose workflow does not start in ``new`` or whose form requires fields
            no transition requires; a naive clock.
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
        surveys: Iterable[Survey] = (),
        templates: TemplateSet | Mapping[str, Any] | None = None,
        intake_type: str | None = None,
        new_ticket_id: Callable[[], str] | None = None,
        max_retries: int = 8,
    ) -> None:
        kernel, replies = compose_kernel(
            store,
            types=types,
            clock=clock,
            plugins=plugins,
            calendar=calendar,
            router=router,
            agents=agents,
            rules=rules,
            channels=channels,
            customers=customers,
            surveys=surveys,
            templates=templates,
            new_ticket_id=new_ticket_id,
            max_retries=max_retries,
        )
        self._kernel = kernel
        self._tickets = TicketOperations(kernel, replies)
        self._intake = IntakeOperations(kernel, intake_type)
        self._problems = ProblemsAndFeedback(kernel, self._tickets)
        self._views = Views(kernel)
        self._deliveries = Deliveries(kernel)
        self._outcomes = OutcomeRunner(self._deliveries, self._tickets, self._problems)
        self._ticker = Ticker(kernel, self._deliveries, self._tickets, self._outcomes)
        # The configuration, as given (the parts share these objects).
        self.types: dict[str, TicketType] = kernel.types
        self.store: TicketStore = store
        self.plugins: PluginManager = kernel.plugins
        self.calendar: BusinessCalendar | None = calendar
        self.channels: dict[str, object] = kernel.channels
        self.customers: CustomerDirectory | None = customers
        self.surveys: DeskSurveys = kernel.surveys
        self.max_retries: int = max_retries
        self.rules: RuleSet = kernel.rules
        self.automation: Automation = kernel.automation
        self.templates: TemplateSet = replies
        self.intake: Intake | None = self._intake.intake

    @property
    def router(self) -> Router | None:
        """Routes ``assign`` without an agent."""
        return self._kernel.router

    @router.setter
    def router(self, router: Router | None) -> None:
        self._kernel.router = router

    @property
    def agents(self) -> AgentPool | None:
        """The agents for the router."""
        return self._kernel.agents

    @agents.setter
    def agents(self, agents: AgentPool | None) -> None:
        self._kernel.agents = agents

    @classmethod
    def from_config(
        cls,
        config: str | Path | Mapping[str, Any] | DeskConfig,
        *,
        store: TicketStore,
        clock: Callable[[], datetime],
        plugins: PluginManager | None = None,
        channels: Mapping[str, object] | None = None,
        customers: CustomerDirectory | None = None,
        new_ticket_id: Callable[[], str] | None = None,
    ) -> ServiceDesk:
        """A desk from its definition as data: a ``.toml``/``.json`` file, a mapping or
        a [`DeskConfig`][csmkit.desk.DeskConfig] (see ``docs/repair-desk.md``).

        Args:
            config: The file, the mapping or the validated configuration.
            store: Where timelines live.
            clock: Returns the current aware instant.
            plugins: Calendar, strategy and channel plugins (default: built-ins only).
            channels: Channel objects by name, for the configuration's channels that
                name no plugin (they win over a plugin of the same name).
            customers: The customer directory (sender resolution, asset rules).
            new_ticket_id: Makes ids for [`open_ticket()`][csmkit.desk.ServiceDesk.open_ticket]
                without ``ticket_id``.

        Raises:
            AutomationError: every problem of the configuration, each with its path
                (``types.repair.sla.targets.first_response.goals.urgent``); nothing
                is built.
        """
        return cls(
            store,
            clock=clock,
            customers=customers,
            new_ticket_id=new_ticket_id,
            **config_arguments(config, plugins, channels),
        )

    # ------------------------------------------------------------------ bulk import
    def import_timelines(self, timelines: Iterable[Timeline | Mapping[str, Any]]) -> int:
        """Store historical tickets (their whole timelines) without running live
        automation: no rules react, no notification is sent, no timer is set for them
        (their SLA warnings and time rules are history, not work). The routing state
        counts them (round robin, sticky customers).

        The batch is checked **before anything is written**, every problem reported at
        once; then each timeline is appended as a new stream, at the store's speed.
        Import a large history in batches of a few thousand.

        Args:
            timelines: [`Timeline`][csmkit.timeline.Timeline] values or their dict form
                (``Timeline.to_dict()``), one per new ticket.

        Returns:
            How many tickets were imported.

        Raises:
            AutomationError: every problem of the batch with its place
                (``timelines[3] (ticket 'T-9'): unknown ticket type 'x'``): not a
                timeline, an unknown type, a status its workflow lacks, an id given
                twice or already stored; nothing was written.
            ConcurrencyError: another writer created one of the ids after the check
                (the message says which tickets were stored before it).
            StorageError: the store refused a ticket after the check (likewise).
        """
        return import_timelines(self._kernel, timelines)

    # ------------------------------------------------------------------ ticket operations
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
        return self._outcomes.after(
            self._tickets.open_ticket(
                type,
                channel=channel,
                customer_id=customer_id,
                subject=subject,
                priority=priority,
                fields=fields,
                tags=tags,
                ticket_id=ticket_id,
                actor=actor,
                meta=meta,
                _chain=_chain,
            )
        )

    def reply(
        self,
        ticket_id: str,
        *,
        author: str,
        channel: str | None = None,
        body_ref: str | None = None,
        message_id: str | None = None,
        template: str | None = None,
        language: str | None = None,
        agent_name: str | None = None,
        actor: Actor | None = None,
    ) -> Ticket:
        """Add a public reply to the customer, written by hand or from a reply template.

        With ``template``, the desk's template of that name (in ``language``, its base
        language or the set's fallback) is filled from ``ticket`` (the ticket),
        ``customer`` (its profile from the desk's customer directory, with ``id`` and
        ``name``) and ``agent`` (``{"id": author, "name": ...}``). The filled text is
        kept in the message's ``meta["body"]`` with ``meta["template"]`` and
        ``meta["language"]`` (``body_ref`` stays for bodies kept elsewhere), and the
        template's actions are applied in order in the **same** commit: all or nothing.

        Args:
            ticket_id: The ticket.
            author: The agent replying (the message's author and actor).
            channel: The channel (default: the ticket's).
            body_ref: Where a hand-written body is kept (not with ``template``).
            message_id: The channel's id for the message.
            template: A template name of the desk's ``templates``.
            language: The template's language (default: the customer's ``language``
                when the profile has one, else the set's fallback).
            agent_name: ``{agent.name}`` (default: the agent's name in the desk's pool,
                else ``author``).
            actor: Who fires a template's transition (default: ``Actor(author)``, no roles).

        Raises:
            TemplateError: an unknown template, or a placeholder without a value.
            WorkflowError: an action the workflow or form refuses (e.g.
                ``TransitionNotAllowed``): nothing is written.
            NotFoundError: unknown ticket.
        """
        return self._outcomes.after(
            self._tickets.reply(
                ticket_id,
                author=author,
                channel=channel,
                body_ref=body_ref,
                message_id=message_id,
                template=template,
                language=language,
                agent_name=agent_name,
                actor=actor,
            )
        )

    def note(self, ticket_id: str, *, author: str, body_ref: str | None = None) -> Ticket:
        """Add an internal note (never public)."""
        return self._outcomes.after(self._tickets.note(ticket_id, author=author, body_ref=body_ref))

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
        return self._outcomes.after(
            self._tickets.transition(ticket_id, transition, actor=actor, data=data, reason=reason)
        )

    def update(
        self,
        ticket_id: str,
        *,
        fields: Mapping[str, Any],
        actor: str | None = None,
        at: datetime | None = None,
    ) -> Ticket:
        """Set form fields (``None`` clears one), checked by the ticket type's form, and
        run the rules on the resulting ``FieldChanged`` events like any operation.

        Required fields that a transition also requires may stay empty until that
        transition has fired (as on a ticket opened from a message); every other rule
        of the form holds for the fields after the change. A value equal to the current one
        records nothing.

        Args:
            ticket_id: The ticket.
            fields: Field name -> new value.
            actor: Who changed them.
            at: When (default: the clock); never before the ticket's last event.

        Raises:
            WorkflowError: an unknown field, a wrong type or value, or a required field
                cleared: every problem listed, nothing written.
            NotFoundError: unknown ticket.
        """
        return self._outcomes.after(
            self._tickets.update(ticket_id, fields=fields, actor=actor, at=at)
        )

    def assign(
        self,
        ticket_id: str,
        agent: str | None = None,
        *,
        group: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Assign to ``agent``/``group``, or with neither, let the router choose.

        The router runs on its fast path (``Router.pick``: no verdicts, O(log n) in the
        number of agents for the built-in strategies); the ``Assigned`` event records the
        rule and step (``decision``) and a compact reference in ``meta["routing"]`` from which
        `explain()` rebuilds the full explanation. The escalation clock starts at
        the ticket's last ``Unassigned`` (else its creation), as in the automation.

        Raises:
            AutomationError: auto-assign without a router and agents.
        """
        return self._outcomes.after(
            self._tickets.assign(ticket_id, agent, group=group, actor=actor)
        )

    def explain(self, ticket_id: str) -> Decision:
        """The full explanation of the ticket's latest routing decision: what
        ``router.route(..., explain="full")`` returned at that moment — a verdict for
        every agent, scores, the tie-break.

        The routing state is rebuilt from the store as of the decision (the reference
        in the ``Assigned`` event's ``meta["routing"]``) and checked against the digest
        recorded then; the agents are the desk's current pool.

        Raises:
            NotFoundError: unknown ticket, or no routed assignment with a reference.
            AutomationError: the desk has no router and agents.
            RoutingError: the state cannot be rebuilt exactly, or the agents changed so
                that the decision no longer comes out the same (nothing is guessed).
        """
        return self._tickets.explain(ticket_id)

    def record_survey(
        self,
        ticket_id: str,
        survey: str,
        score: float,
        *,
        comment: str | None = None,
        actor: str | None = None,
    ) -> Ticket:
        """Record the customer's survey answer on the ticket.

        Args:
            ticket_id: The ticket answered about.
            survey: A kind (``"csat"``, ``"nps"``, ``"ces"``) or the name of a survey the
                ticket's type or the desk declares. With a declared survey the answer
                must be an integer on its scale, and the event's ``meta`` records the
                survey's name and scale (so reports never mix scales).
            score: The answer.
            comment: Free text.
            actor: Who answered (default: the ticket's customer).

        Raises:
            AutomationError: an unknown survey name, or an answer off the declared
                scale (nothing is written).
            NotFoundError: an unknown ticket.
        """
        return self._outcomes.after(
            self._tickets.record_survey(ticket_id, survey, score, comment=comment, actor=actor)
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
        return self._outcomes.after(
            self._tickets.link(ticket_id, other, relation, back=back, actor=actor)
        )

    # ------------------------------------------------------------------ intake
    def receive(self, message: InboundMessage | DeliveryReport | AutoReply) -> IntakeResult:
        """Take in an inbound message through [`Intake`][csmkit.channels.Intake]
        (duplicates, filters, threading, customer resolution). Bounces and auto-replies
        are recorded on the ticket they answer (``DeliveryFailed``,
        ``AutoReplyReceived``), never a new ticket; the rules see those events too.
        A new ticket is created with the intake type's workflow (its initial state,
        name, version and form defaults). The rules run on the intake's events and what
        they write is appended **in the same batch** as the message, so a crash cannot
        store the message without the rules' actions; the intents (notifications,
        tickets) run after it.

        Raises:
            AutomationError: the desk has no ``intake_type``; too many chained actions
                (nothing written).
        """
        return self._outcomes.after(self._intake.receive(message))

    # ------------------------------------------------------------------ problems and feedback
    def recurring_problems(
        self,
        window: timedelta,
        by: Sequence[str],
        min_count: int = 3,
        *,
        now: datetime | None = None,
    ) -> tuple[ProblemCluster, ...]:
        """Clusters of similar tickets (see
        [`csmkit.automation.recurring_problems()`][csmkit.automation.recurring_problems])."""
        return self._problems.recurring_problems(window, by, min_count, now=now)

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
        return self._outcomes.after(
            self._problems.open_problem(cluster, subject=subject, rule=rule)
        )

    def link_requirement(
        self, feedback_id: str, requirement_id: str, *, actor: str | None = None
    ) -> Ticket:
        """Link a feedback ticket to the internal requirement that answers it."""
        return self._outcomes.after(
            self._problems.link_requirement(feedback_id, requirement_id, actor=actor)
        )

    def feedback_status(self, feedback_id: str, *, lang: str = "zh") -> FeedbackStatus:
        """What the customer sees: the feedback's state and each linked requirement's
        state, with the workflows' customer-facing labels."""
        return self._problems.feedback_status(feedback_id, lang=lang)

    # ------------------------------------------------------------------ deliveries
    def undelivered(self) -> tuple[Notification, ...]:
        """Notifications whose delivery failed and that [`tick()`][csmkit.desk.ServiceDesk.tick]
        will retry (known to this desk: from its own failures and from the tickets its ticks
        scanned)."""
        return self._deliveries.undelivered()

    # ------------------------------------------------------------------ time
    def tick(self, now: datetime | None = None) -> TickResult:
        """Run everything due up to ``now`` (default: the clock): timed transitions,
        time rules, SLA warnings and breaches, asset rules.

        Work is found by the store's **write order**: the tickets changed since the
        last tick are read with ``store.changes_after(position)``, so an event another
        process stored late (a mail received at 09:58, stored after the 10:00 tick) is
        seen by the next tick, whatever its instant. The first tick of a desk (and so
        the first after a restart) reads every ticket.

        Idempotent, also across processes: "already done" is read from the timelines
        (each timed effect's events carry its rule and occurrence) and appended with
        the loaded version, so when two tickers run the same effect one of them gets
        ``ConcurrencyError``, reloads, finds it done and does nothing — its
        notifications included (they are sent only after their recording event is
        stored). A warning or time rule whose condition has cleared by the time it runs
        (the ticket was answered, solved or paused meanwhile) does not fire.
        """
        return self._ticker.tick(now)

    # ------------------------------------------------------------------ views
    def sla(self, ticket_id: str, now: datetime | None = None) -> SlaReport | None:
        """The ticket's SLA report at ``now`` (default: the clock); ``None`` when its
        type has no policy."""
        return self._views.sla(ticket_id, now)

    def customer_view(self, customer_id: str, now: datetime | None = None) -> CustomerView:
        """The customer's 360° view with each ticket's SLA state.

        Raises:
            AutomationError: the desk has no customer directory.
        """
        return self._views.customer_view(customer_id, now)

    def report(self, metrics: Sequence[str], **options: Any) -> Table:
        """[`csmkit.metrics.report()`][csmkit.metrics.report] over every ticket of the store, with
        the desk's own definitions unless an option overrides them.

        Defaults: ``clock=`` the desk's calendar (business durations), ``now=`` the
        desk's clock, ``sla=`` each ticket's type policy (``sla[TARGET]`` metrics;
        tickets of unmeasured types have no cycles), ``surveys=`` the declared survey
        definitions (each type's, then the desk's), so a 0–10 CSAT survey is computed on
        0–10 and answers of two scales in one group raise instead of averaging.
        """
        return self._views.report(metrics, **options)

    def queue(
        self,
        *,
        category: _Categories = UNSOLVED,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Tickets by status category (default: every unsolved one), agent, group and
        type, least recently updated first, a page at a time; answered by the store's
        index (no timeline is loaded).

        Raises:
            StoreArgumentError: bad filters, ``limit < 1`` or a foreign cursor.
        """
        return self._views.queue(
            category=category, assignee=assignee, group=group, type=type, limit=limit, cursor=cursor
        )

    def due(
        self,
        before: datetime | None = None,
        *,
        category: _Categories = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Tickets whose SLA falls due before ``before`` (default: the clock; overdue
        ones included), earliest first, each with its ``due`` mark; answered by the
        store's due index, maintained with every batch this desk commits.

        Raises:
            StoreArgumentError: a naive instant, bad filters, ``limit < 1``.
        """
        return self._views.due(
            before,
            category=category,
            assignee=assignee,
            group=group,
            type=type,
            limit=limit,
            cursor=cursor,
        )

    def counts(
        self,
        by: str,
        *,
        category: _Categories = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
    ) -> dict[str | None, int]:
        """How many tickets have each value of ``by`` (``"category"``, ``"assignee"``,
        ``"group"``, ``"type"``, ``"status"``, ``"priority"``), for dashboards.

        Raises:
            StoreArgumentError: an unknown ``by`` or bad filters.
        """
        return self._views.counts(by, category=category, assignee=assignee, group=group, type=type)

    def reindex_due(self) -> int:
        """Recompute every ticket's SLA due mark from its timeline and store the ones
        that differ (tickets written by an import, an older csmkit, or another
        application). Loads every ticket: run it once after such writes, not routinely.

        A ticket changed meanwhile keeps the mark its newer batch carried.

        Returns:
            How many marks were replaced.
        """
        return self._views.reindex_due()

    def timelines(self) -> Iterator[Timeline]:
        """Every ticket's timeline, oldest change first."""
        return self._views.timelines()

    # ------------------------------------------------------------------ basics
    def now(self) -> datetime:
        """The injected clock's instant (checked to be aware)."""
        return self._kernel.now()

    def ticket(self, ticket_id: str) -> Ticket:
        """The ticket's current state. Raises ``NotFoundError`` for an unknown id."""
        return self._kernel.ticket(ticket_id)

    def timeline(self, ticket_id: str) -> Timeline:
        """The ticket's timeline. Raises ``NotFoundError`` for an unknown id."""
        return self._kernel.timeline(ticket_id)

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
        return self._kernel.routing_state(refresh=refresh)

    @property
    def timers(self) -> TimerIndex:
        """When each ticket is to be woken next (the scheduler's index)."""
        return self._kernel.timers
