"""The rule engine: pure functions of a timeline, an environment and ``now``.

What an action does is in ``_actions`` (one definition per action); when time and SLA
rules fall due is in ``_occurrences``; this module runs them: reactions to events
([`Automation.react()`][csmkit.automation.Automation.react]), everything due by an instant
([`Automation.wake()`][csmkit.automation.Automation.wake]), the next instant worth waking for, and
asset rules.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from csmkit._jsonvalue import thaw
from csmkit._time import format_instant, require_aware
from csmkit.automation._actions import (
    ACTION_SPECS,
    explain_refusal,
    notification_for,
    ticket_request_for,
)
from csmkit.automation._context import rule_context, ticket_stats
from csmkit.automation._occurrences import (
    Instants,
    Occurrence,
    done,
    due_timed,
    field_instant,
    occurrences,
    sla_wakeups,
    timed,
)
from csmkit.automation._params import template_names
from csmkit.automation._results import (
    Environment,
    Notification,
    Outcome,
    Skipped,
    TicketRequest,
    derived_ticket_id,
)
from csmkit.automation._rules import Rule, RuleSet
from csmkit.automation._run import Refusal, Run, Step, resolve_params
from csmkit.automation._stale import cleared
from csmkit.errors import AutomationError, TransitionNotAllowed, WorkflowError
from csmkit.timeline import (
    ActionFailed,
    Direction,
    Event,
    MessageAdded,
    StatusCategory,
    Timeline,
)
from csmkit.workflow import Actor

__all__ = ["Automation", "derived_ticket_id", "ticket_stats"]

_log = logging.getLogger(__name__)
_MAX_STEPS = 1000


def _aware(value: object, name: str) -> datetime:
    return require_aware(value, name, AutomationError)


def _reads_customer(rule: Rule) -> bool:
    names = list(rule.when.names) if rule.when is not None else []
    for action in rule.actions:
        spec = ACTION_SPECS[action.do]
        for key, value in action.params.items():
            parameter = spec.parameter(key)
            if parameter is not None and parameter.templated:
                names.extend(template_names(value))
    return any(name.split(".")[0] in ("customer", "assets") for name in names)


def _triggered(event: Event) -> set[str]:
    """The trigger names ``event`` answers to: its kind, and ``message_in`` for an
    inbound message (one definition for `Automation.may_react()` and the run)."""
    names = {event.kind}
    if isinstance(event, MessageAdded) and event.direction is Direction.INBOUND:
        names.add("message_in")
    return names


#: The ``event`` of a condition that does not read it.
_UNREAD: Mapping[str, Any] = MappingProxyType({})


class _Runaway(Exception):
    """More chained actions than ``max_actions`` for one triggering event (private)."""

    def __init__(self, rule: str, index: int, action: str, at: datetime, root: int, reason: str):
        super().__init__(reason)
        self.rule, self.index, self.action, self.at, self.root = rule, index, action, at, root
        self.reason = reason


class Automation:
    """Runs a [`RuleSet`][csmkit.automation.RuleSet] over ticket timelines. Pure: it returns what to
    do.

    Args:
        rules: The rules (or their dict form, loaded without context checks).

    Every event an action writes carries ``meta["rule"]`` (plus, for time and SLA
    rules, the occurrence it answers, e.g. ``{"anchor": ...}`` or ``{"sla":
    "resolution", "cycle": 1, "fraction": 0.5}``), so "already done" is read back from
    the timeline: a repeated or restarted run does nothing twice.
    """

    def __init__(self, rules: RuleSet | Mapping[str, Any]) -> None:
        if isinstance(rules, Mapping):
            rules = RuleSet.from_dict(rules)
        if not isinstance(rules, RuleSet):
            raise AutomationError(f"rules: expected a RuleSet or a dict, got {rules!r}")
        self.rules = rules
        self._event_rules = tuple(r for r in rules.rules if r.enabled and r.time is None)
        self._time_rules = tuple(
            r for r in rules.rules if r.enabled and r.time is not None and r.time.of == "ticket"
        )
        self._asset_rules = tuple(
            r for r in rules.rules if r.enabled and r.time is not None and r.time.of == "asset"
        )
        self._sla_rules = tuple(
            r for r in self._event_rules if {"sla_warning", "sla_breach"} & set(r.on)
        )

        self._instants: Instants = {}  # business-time instants of the time rules
        # Per event rule: whether its condition reads ``event`` (else the event's dict
        # form is made only when the rule fires).
        self._reads_event = tuple(
            rule.when is not None and any(n.split(".")[0] == "event" for n in rule.when.names)
            for rule in self._event_rules
        )
        # Per event rule: whether its condition reads ``stats`` (else the ticket's stats,
        # a walk of its timeline, are not counted for it).
        self._reads_stats = tuple(
            rule.when is not None and any(n.split(".")[0] == "stats" for n in rule.when.names)
            for rule in self._event_rules
        )
        self._reads_customer = any(_reads_customer(rule) for rule in rules.rules if rule.enabled)
        # Every name an event rule listens on (see ``_triggered``).
        self._listened = frozenset(name for rule in self._event_rules for name in rule.on)

    @property
    def reads_customer(self) -> bool:
        """Whether a rule's condition or templated parameter reads ``customer`` or
        ``assets`` (so a caller can skip looking them up when none does)."""
        return self._reads_customer

    def may_react(self, triggers: Iterable[Event]) -> bool:
        """Whether an event rule listens on any of ``triggers`` (by kind, or
        ``message_in`` for an inbound message).

        When it is ``False``, [`react()`][csmkit.automation.Automation.react] on these
        triggers decides nothing (no events, notifications, requests, skips nor fired
        rules), so a caller may skip building its environment and calling it.
        """
        listened = self._listened
        return bool(listened) and any(names & listened for names in map(_triggered, triggers))

    def __reduce__(self) -> tuple[Any, ...]:
        # The rule tables are derived from the rules: rebuild them on load.
        return (Automation, (self.rules,))

    # ------------------------------------------------------------------ public API
    def react(
        self,
        timeline: Timeline,
        triggers: Sequence[Event],
        *,
        now: datetime,
        env: Environment | None = None,
        chain: tuple[str, ...] = (),
    ) -> Outcome:
        """Run the event rules on ``triggers`` (events already at the end of ``timeline``).

        Rules run in order for each triggering event; the events they write trigger
        rules in turn (breadth first), except the rules already in their causal chain.
        An action that cannot run is recorded as an ``ActionFailed`` event. A chain of
        more than ``max_actions`` actions for one triggering event is stopped: nothing
        the run decided is kept but one ``ActionFailed`` event saying where it stopped.
        """
        _aware(now, "now")
        env = env or Environment()
        run = Run(timeline, env, env.routing_state)
        for index, event in enumerate(triggers):
            run.queue.append((event, chain, index))
        try:
            self._drain(run, now)
        except _Runaway as stop:
            return self._stopped(timeline, run, stop)
        return run.outcome()

    def wake(self, timeline: Timeline, *, now: datetime, env: Environment | None = None) -> Outcome:
        """Everything due up to ``now``: timed workflow transitions, time rules and SLA
        warnings/breaches, earliest first, each followed by the event rules it triggers.

        A time or SLA rule's condition is evaluated on the ticket *as it was at the due
        instant*, and its events are written at that instant (or at the ticket's latest
        event, if later), so the answer does not depend on when you call it — except
        that an occurrence whose reason has gone by ``now`` does not fire: its condition
        must also hold on the ticket as it is, and an SLA warning needs its cycle still
        running (a breach: still open), so a late tick sends no stale warning after the
        ticket was answered, solved or paused. Running it again on the result does
        nothing.

        A due rule whose actions write nothing because the router queued the ticket is
        tried again at the router's next escalation instant (when the wider step is in
        force): within this call when that instant is ``<= now``, else reported as
        ``outcome.retry_at`` for the scheduler. A runaway chain is stopped as in
        [`react()`][csmkit.automation.Automation.react]; the stopped occurrence counts as done.
        """
        _aware(now, "now")
        env = env or Environment()
        run = Run(timeline, env, env.routing_state)
        try:
            retry_at = self._wake(run, now)
        except _Runaway as stop:
            return self._stopped(timeline, run, stop)
        return run.outcome(retry_at)

    def _wake(self, run: Run, now: datetime) -> datetime | None:
        env = run.env
        Key = tuple[str, tuple[tuple[str, Any], ...]]
        tried: set[tuple[Key, datetime]] = set()
        retry: dict[Key, datetime] = {}
        tried_timed: set[tuple[str, datetime]] = set()
        for step in range(_MAX_STEPS):
            pending: list[tuple[datetime, Occurrence, Key]] = []
            for o in occurrences(
                self._time_rules, self._sla_rules, run.timeline, now, env, self._instants
            ):
                key = (o.rule.id, tuple(sorted(o.keys.items())))
                due = retry.get(key, o.at)
                if (
                    due <= now
                    and (key, due) not in tried
                    and not done(run.timeline, o.rule.id, o.keys)
                ):
                    pending.append((due, o, key))
            timed = due_timed(run.timeline, now, env, tried_timed)
            if not pending and timed is None:
                break
            first = min(pending, key=lambda p: (p[0], p[1].order)) if pending else None
            if timed is not None and (first is None or timed[1] <= first[0]):
                tried_timed.add((timed[0], timed[1]))
                run.roots[-1 - step] = {"timed": timed[0]}
                self._fire_timed(run, timed[0], timed[1], timed[2], root=-1 - step)
            elif first is not None:
                due, occurrence, key = first
                tried.add((key, due))
                later = self._occur(run, occurrence, due, root=-1 - step, now=now)
                if later is not None:
                    retry[key] = later
            self._drain(run, now)
        waiting = [
            at
            for (rule_id, keys), at in retry.items()
            if at > now and not done(run.timeline, rule_id, dict(keys))
        ]
        return min(waiting) if waiting else None

    def _occur(
        self, run: Run, occurrence: Occurrence, due: datetime, root: int, *, now: datetime
    ) -> datetime | None:
        """Fire a due occurrence if its condition held at ``due`` and still applies at
        ``now`` (see `csmkit.automation._stale`); the instant to retry it at when
        the router queued the ticket and nothing was written, else ``None``."""
        timeline = run.timeline
        state_then = timeline.state_at(due) if due >= timeline.created_at else timeline.ticket
        stats = ticket_stats(e for e in timeline.events if e.at <= due)
        trigger = dict(occurrence.context)
        context = rule_context(state_then, state_then.fields, trigger, stats, run.env)
        rule = occurrence.rule
        if rule.when is not None and not rule.when.evaluate(context):
            _log.debug(
                "ticket %s: rule %s skipped (condition false at %s)",
                timeline.ticket_id,
                rule.id,
                format_instant(due),
            )
            return None
        stale = cleared(
            timeline,
            rule,
            occurrence.context,
            occurrence.keys,
            now=now,
            env=run.env,
            stats=ticket_stats(timeline.events),
        )
        if stale is not None:
            return None
        at = max(due, timeline.updated_at)
        marks = (len(run.events), len(run.notifications), len(run.tickets))
        skips = len(run.skipped)
        keys = dict(occurrence.keys)
        run.roots[root] = {"rule": rule.id, **keys}
        self._fire(run, rule, at, keys, trigger, trigger, (), root)
        wrote = (len(run.events), len(run.notifications), len(run.tickets)) != marks
        later = [
            s.retry_at for s in run.skipped[skips:] if s.retry_at is not None and s.retry_at > due
        ]
        return min(later) if not wrote and later else None

    def next_wakeup(
        self,
        timeline: Timeline,
        *,
        now: datetime,
        after: datetime | None = None,
        env: Environment | None = None,
    ) -> datetime | None:
        """The earliest instant after ``after`` at which
        [`wake()`][csmkit.automation.Automation.wake] may do something.

        Candidates: timed workflow transitions, time rules not yet done, SLA warnings and
        breaches not yet answered (from the report at ``now``, whose ``next_event_at``
        covers the future). ``after=None`` includes past ones (for a scheduler that
        starts or restarts).
        """
        _aware(now, "now")
        env = env or Environment()
        if (
            not self._time_rules
            and not self._sla_rules
            and (env.workflow is None or not env.workflow.timed)
        ):
            return None  # nothing below could add an instant
        instants: list[datetime] = []
        for _, rule, start, when in timed(self._time_rules, timeline, env, self._instants):
            # the instant first: one not after ``after`` is left out below anyway, and
            # its keys and `done()` (which reads the timeline) are not needed for it
            if (after is None or when > after) and not done(
                timeline, rule.id, {"anchor": format_instant(start)}
            ):
                instants.append(when)
        if env.workflow is not None and timeline.ticket.category is not StatusCategory.CLOSED:
            # a workflow the ticket does not follow has no timers for it
            with contextlib.suppress(WorkflowError):
                instants.extend(
                    d.due_at for d in env.workflow.scheduled_transitions(timeline, env.calendar)
                )
        if self._sla_rules and env.sla is not None:
            instants.extend(sla_wakeups(self._sla_rules, timeline, now, after, env))
        future = [i for i in instants if after is None or i > after]
        return min(future) if future else None

    def due_assets(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        now: datetime,
        env: Environment | None = None,
    ) -> Outcome:
        """Run the asset rules (``of: "asset"``) over records such as customer assets.

        Each record is a mapping with a ``serial`` (or ``id``), a ``customer_id`` and the
        date fields the rules name (``warranty_until``). A rule is due once ``now`` is
        past its instant; the tickets it requests have ids derived from the rule, the
        record and the date, so the desk creates each once however often this runs.
        Notifications carry no ticket and are repeated on each call: pair them with a
        ``create_ticket`` action and send them from a rule on the new ticket instead.
        An action whose templated parameters cannot be resolved is reported in
        ``skipped`` (there is no ticket to record it on).
        """
        _aware(now, "now")
        env = env or Environment()
        notifications: list[Notification] = []
        tickets: list[TicketRequest] = []
        skipped: list[Skipped] = []
        fired: list[str] = []
        for record in records:
            key = str(record.get("serial", record.get("id", "")))
            for rule in self._asset_rules:
                trigger = rule.time
                assert trigger is not None
                anchor = field_instant(record.get(trigger.field or ""), env)
                if anchor is None:
                    continue
                instant = anchor - trigger.after if trigger.before else anchor + trigger.after
                if instant > now:
                    continue
                event = {"kind": "time", "anchor": format_instant(anchor)}
                context = rule_context(None, dict(record), event, {}, env)
                if rule.when is not None and not rule.when.evaluate(context):
                    continue
                fired.append(rule.id)
                values = {f"fields.{k}": v for k, v in record.items()}
                values.update(
                    rule=rule.id, at=format_instant(instant), customer_id=record.get("customer_id")
                )
                for index, action in enumerate(rule.actions):
                    try:
                        p = resolve_params(ACTION_SPECS[action.do], action, context)
                    except Refusal as refusal:
                        _log.warning(
                            "asset %s: rule %s action %d (%s) refused: %s",
                            key,
                            rule.id,
                            index,
                            action.do,
                            refusal.reason,
                        )
                        skipped.append(Skipped(rule.id, index, refusal.reason))
                        continue
                    if action.do == "notify":
                        notifications.append(
                            notification_for(action.do, p, values, None, rule.id, instant)
                        )
                    else:
                        request = ticket_request_for(
                            p,
                            values,
                            rule.id,
                            instant,
                            (rule.id, key, format_instant(anchor), str(index)),
                            customer_id=record.get("customer_id"),
                            source=None,
                            chain=(rule.id,),
                        )
                        tickets.append(attrs.evolve(request, source_asset=key or None))
        return Outcome(
            notifications=tuple(notifications),
            tickets=tuple(tickets),
            skipped=tuple(skipped),
            fired=tuple(fired),
        )

    # ------------------------------------------------------------------ internals
    def _drain(self, run: Run, now: datetime) -> None:
        # The ticket's stats, recomputed only when the run's timeline grew (a rule that
        # fired added events): one walk per state, not one per rule.
        stats: dict[str, int] = {}
        stats_at = -1
        while run.queue:
            event, chain, root = run.queue.popleft()
            names = _triggered(event)
            trigger: dict[str, Any] | None = None  # the event's dict form, made once if needed
            for rule, reads_event, reads_stats in zip(
                self._event_rules, self._reads_event, self._reads_stats, strict=True
            ):
                if (
                    rule.id in chain
                    or event.meta.get("rule") == rule.id
                    or not names & set(rule.on)
                ):
                    continue
                ticket = run.timeline.ticket
                if reads_event and trigger is None:
                    trigger = event.to_dict()
                if reads_stats and stats_at != len(run.timeline):
                    stats, stats_at = ticket_stats(run.timeline.events), len(run.timeline)
                if rule.when is not None and not rule.when.evaluate(
                    # a condition reads only its names: one without ``event`` or
                    # ``stats`` is not shown them (they are not made for nothing)
                    rule_context(
                        ticket,
                        ticket.fields,
                        _UNREAD if trigger is None else trigger,
                        stats if reads_stats else _UNREAD,
                        run.env,
                    )
                ):
                    _log.debug(
                        "ticket %s: rule %s skipped on %s (condition false)",
                        ticket.id,
                        rule.id,
                        event.kind,
                    )
                    continue
                trigger = event.to_dict() if trigger is None else trigger
                at = max(event.at, run.timeline.updated_at)
                extra = {"kind": event.kind}
                self._fire(run, rule, at, {}, trigger, extra, chain, root, source=event)

    def _fire(
        self,
        run: Run,
        rule: Rule,
        at: datetime,
        keys: dict[str, Any],
        trigger: Mapping[str, Any],
        extra: Mapping[str, Any],
        chain: tuple[str, ...],
        root: int,
        source: Event | None = None,
    ) -> None:
        _log.info(
            "ticket %s: rule %s fired on %s",
            run.timeline.ticket_id,
            rule.id,
            source.kind if source is not None else extra.get("kind", "time"),
        )
        run.fired.append(rule.id)
        meta = {"rule": rule.id, **keys}
        new_chain = (*chain, rule.id)
        position = str(len(run.timeline)) if source is not None else format_instant(at)
        occurrence = (position, *map(str, keys.values()))
        for index, action in enumerate(rule.actions):
            run.counts[root] = run.counts.get(root, 0) + 1
            if run.counts[root] > self.rules.max_actions:
                raise _Runaway(
                    rule.id,
                    index,
                    action.do,
                    at,
                    root,
                    f"stopped: more than {self.rules.max_actions} chained actions for one "
                    f"event (rules fired: {' -> '.join(run.fired[-10:])}); nothing the "
                    "chain decided was written",
                )
            spec = ACTION_SPECS[action.do]
            step = Step(
                run, rule.id, index, action, spec, at, meta, trigger, extra, occurrence, new_chain
            )
            try:
                produced = spec.execute(step)
            except Refusal as refusal:
                produced = step.refuse(refusal)
            for event in produced:
                run.add(event, new_chain, root)

    def _stopped(self, timeline: Timeline, run: Run, stop: _Runaway) -> Outcome:
        """The outcome of a stopped run: one ``ActionFailed``, nothing else."""
        meta = run.roots.get(stop.root, {"rule": stop.rule})
        _log.warning(
            "ticket %s: rule %s action %d (%s) %s",
            timeline.ticket_id,
            stop.rule,
            stop.index,
            stop.action,
            stop.reason,
        )
        failed = ActionFailed(
            ticket_id=timeline.ticket_id,
            at=max(stop.at, timeline.updated_at),
            actor="system",
            meta=meta,
            rule=stop.rule,
            action=stop.action,
            index=stop.index,
            reason=stop.reason,
        )
        return Outcome(
            events=(failed,),
            skipped=(Skipped(stop.rule, stop.index, stop.reason),),
            fired=tuple(run.fired),
            routing_state=run.env.routing_state,
        )

    def _fire_timed(
        self, run: Run, transition: str, due_at: datetime, data: Mapping[str, Any], root: int
    ) -> None:
        assert run.env.workflow is not None
        at = max(due_at, run.timeline.updated_at)
        try:
            _, events = run.env.workflow.fire(
                run.timeline,
                transition,
                actor=Actor.system(),
                at=at,
                data=thaw(data) or None,
            )
        except TransitionNotAllowed as exc:
            reason = explain_refusal(exc)
            _log.warning(
                "ticket %s: timed transition %s refused: %s",
                run.timeline.ticket_id,
                transition,
                reason,
            )
            run.skipped.append(Skipped(f"timed:{transition}", 0, reason))
            return
        for event in events:
            run.add(attrs.evolve(event, meta={"timed": transition}), (), root)
