"""The service desk façade: every part of csmkit composed, time-driven, nothing lost.

The desk's parts live in private modules, one concept each: ``_core`` (state, clock,
commit loop, timers), ``_routing`` (the routing-load cache), ``_tickets`` (ticket
operations), ``_intake`` (inbound messages), ``_delivery`` (notifications and their
redelivery), ``_problems`` (problem records, feedback) and ``_views`` (read-only views).
This module composes them and adds what needs them all: the intents of a stored outcome
and [`ServiceDesk.tick()`][csmkit.desk.ServiceDesk.tick].
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from csmkit._time import require_aware
from csmkit.automation import (
    Automation,
    Environment,
    Notification,
    Outcome,
    RuleSet,
    TicketRequest,
)
from csmkit.automation import ProblemCluster as ProblemCluster
from csmkit.customers import CustomerDirectory
from csmkit.desk._config import DeskConfig, desk_channels
from csmkit.desk._delivery import Deliveries, pending_deliveries
from csmkit.desk._due import committed_due
from csmkit.desk._import import check_import, store_import
from csmkit.desk._intake import IntakeOperations
from csmkit.desk._intents import FollowUp
from csmkit.desk._problems import ProblemsAndFeedback
from csmkit.desk._replies import desk_templates
from csmkit.desk._routing import RoutingCache
from csmkit.desk._surveys import DeskSurveys
from csmkit.desk._types import TicketType, TickResult
from csmkit.desk._views import Views
from csmkit.errors import AutomationError, ConcurrencyError
from csmkit.knowledge import TemplateSet
from csmkit.metrics import Survey
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Router
from csmkit.sla import BusinessCalendar
from csmkit.storage import TicketStore
from csmkit.timeline import Timeline

__all__ = ["ServiceDesk"]

logger = logging.getLogger(__name__)


class ServiceDesk(ProblemsAndFeedback, Deliveries, IntakeOperations, Views):
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
        self.surveys = DeskSurveys(self.types.values(), surveys)
        self.max_retries = max_retries
        self._clock = clock
        self._new_id = new_ticket_id
        self._counter = 0
        self._lock = threading.RLock()
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
            surveys={survey.name for survey in self.surveys.declared()},
        )
        self.templates = desk_templates(templates, fields=fields, transitions=transitions)
        self.rules = ruleset
        self.automation = Automation(ruleset)
        self._routes = router is not None and agents is not None
        self.intake = self._make_intake(intake_type, customers)
        self._intake_outcomes = []
        self._routing = RoutingCache(self._timelines)
        self._undelivered = set()
        self._compose()

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
        plugins = plugins if plugins is not None else PluginManager(load_entrypoints=False)
        if isinstance(config, DeskConfig):
            parsed = config
        elif isinstance(config, Mapping):
            parsed = DeskConfig.from_dict(config, plugins=plugins)
        else:
            parsed = DeskConfig.from_file(config, plugins=plugins)
        built = desk_channels(parsed, plugins, channels)
        rules = parsed.routing
        return cls(
            store,
            types=parsed.types,
            clock=clock,
            plugins=plugins,
            calendar=parsed.calendar,
            router=None if rules is None else Router(rules, registry=plugins.strategy_registry()),
            agents=None if rules is None else AgentPool(parsed.agents),
            rules=parsed.automation,
            channels=built,
            customers=customers,
            intake_type=parsed.intake_type,
            templates=parsed.templates,
            new_ticket_id=new_ticket_id,
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
        with self._lock:
            batch = check_import(timelines, self.types, self.store)
            # Each ticket's SLA due mark goes with it (evaluated before anything is written).
            dues = [committed_due(timeline, self.types, self.calendar) for timeline in batch]
            store_import(batch, self.store, dues)
            for timeline in batch:
                self._scheduler.imported(timeline)
                self._routing.observe(timeline)
            logger.info("imported %d historical ticket(s)", len(batch))
            return len(batch)

    # ------------------------------------------------------------------ follow-ups
    def _follow_up(self, command: FollowUp) -> tuple[list[str], list[Outcome]]:
        if isinstance(command, TicketRequest):
            return self._create_requested(command)
        opened = self._problem_requested(command)
        return ([] if opened is None else [opened]), []

    def _create_requested(self, request: TicketRequest) -> tuple[list[str], list[Outcome]]:
        """Open a requested ticket (once: its id is derived from the request) and link
        it to its source; the new ticket's outcome still has to run its intents."""
        if self.store.version(request.ticket_id) > 0:
            return [], []
        try:
            final, outcome, wrote = self._open(
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
                chain=request.chain,
            )
        except ConcurrencyError:
            return [], []  # another desk created it first
        if wrote:
            assert final is not None
            self._scheduler.after_operation(final, self.now())
        if request.source_ticket is not None:
            relation = f"{request.relation}_of"
            self.link(request.ticket_id, request.source_ticket, relation, actor="system")
        return [request.ticket_id], [outcome]

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
        with self._lock:
            return self._tick(now)

    def _tick(self, now: datetime | None) -> TickResult:
        now = self.now() if now is None else now
        require_aware(now, "now", AutomationError)
        self._scan(now)
        woken = self._scheduler.pop_due(now)
        count = 0
        notes: list[Notification] = []
        created: list[str] = []
        for ticket_id in woken:
            final, outcome, wrote = self._commit(
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
            self._scheduler.retry_at(ticket_id, outcome.retry_at)
            if final is not None:
                self._scheduler.reschedule(final, now, after=now)
            if wrote:
                self._run_intents(outcome)
        if self.customers is not None and self.automation._asset_rules:
            records = [a.to_dict() for a in self.customers.expiring_within(3660, now=now)]
            outcome = self.automation.due_assets(
                records, now=now, env=Environment(calendar=self.calendar)
            )
            for request in outcome.tickets:
                made, outcomes = self._create_requested(request)
                created.extend(made)
                for later in outcomes:
                    self._run_intents(later)
        notes.extend(self._redeliver())
        self._scheduler.last_tick = now
        return TickResult(now, tuple(woken), count, tuple(notes), tuple(created))

    def _scan(self, now: datetime) -> None:
        """Index the timers of the tickets written since the last scan (by any
        writer, in write order; every ticket on the first scan), except those whose
        timer this desk computed from their latest version (its own writes)."""
        scheduler = self._scheduler
        since = scheduler.position
        tickets, position, read = scheduler.changed(self.store, self._summaries)
        for ticket_id in tickets:
            timeline = self._cache.fresh(ticket_id)
            self._routing.observe(timeline)
            if pending_deliveries(timeline):
                self._undelivered.add(ticket_id)
            # after=None: a late-stored event may make a *past* instant due; waking for
            # something already done is a no-op. A ticket created after ``now`` (another
            # process's clock runs ahead, or this ticker lags) is evaluated from its
            # creation instead of failing the whole tick.
            scheduler.reschedule(timeline, max(now, timeline.created_at), after=None)
        if read < 0:
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
