"""The rule engine: pure functions of a timeline, an environment and ``now``."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

import attrs

from csmkit._duration import parse_duration
from csmkit._jsonvalue import thaw
from csmkit._time import format_instant, is_aware, parse_instant, require_aware
from csmkit.automation._results import (
    Environment,
    Notification,
    Outcome,
    ProblemRequest,
    Skipped,
    TicketRequest,
)
from csmkit.automation._rules import Action, Rule, RuleSet, TimeTrigger
from csmkit.automation._template import render
from csmkit.errors import AutomationError, TransitionNotAllowed, WorkflowError
from csmkit.routing import RoutingState
from csmkit.timeline import (
    Assigned,
    Direction,
    Escalated,
    Event,
    FieldChanged,
    Linked,
    MessageAdded,
    StatusCategory,
    StatusChanged,
    Ticket,
    Timeline,
    Unassigned,
    WorkflowMigrated,
)
from csmkit.workflow import Actor

__all__ = ["Automation", "derived_ticket_id", "ticket_stats"]

_DONE = (StatusCategory.SOLVED, StatusCategory.CLOSED)
_MAX_STEPS = 1000


def _aware(value: object, name: str) -> datetime:
    return require_aware(value, name, AutomationError)


def derived_ticket_id(*parts: str, prefix: str = "T-") -> str:
    """A stable ticket id from ``parts`` (so a repeated request names the same ticket)."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).digest()
    return prefix + base64.b32encode(digest).decode("ascii")[:16]


def _automatic(event: Event) -> bool:
    return "rule" in event.meta or "timed" in event.meta


def ticket_stats(events: Iterable[Event]) -> dict[str, int]:
    """Counts conditions read as ``stats.*`` (automatic events are not agent work).

    ``agent_replies``: public outbound messages not written by a rule;
    ``customer_messages``: inbound messages; ``escalations``; ``reopens`` (leaving
    solved/closed); ``notes``: internal notes not written by a rule.
    """
    stats = dict.fromkeys(
        ("agent_replies", "customer_messages", "escalations", "reopens", "notes"), 0
    )
    category: StatusCategory | None = None
    for event in events:
        if isinstance(event, MessageAdded):
            if event.direction is Direction.INBOUND:
                stats["customer_messages"] += 1
            elif not _automatic(event):
                stats["agent_replies" if event.public else "notes"] += 1
        elif isinstance(event, Escalated):
            stats["escalations"] += 1
        elif isinstance(event, (StatusChanged, WorkflowMigrated)):
            if category in _DONE and event.category not in _DONE:
                stats["reopens"] += 1
            category = event.category
        elif event.kind == "created":
            category = getattr(event, "category", None)
    return stats


def _values(
    ticket: Ticket | None, rule: str, at: datetime, extra: Mapping[str, Any]
) -> dict[str, Any]:
    values: dict[str, Any] = {"rule": rule, "at": format_instant(at)}
    if ticket is not None:
        values.update(
            ticket_id=ticket.id,
            subject=ticket.subject,
            type=ticket.type,
            priority=ticket.priority.value,
            status=ticket.status,
            category=ticket.category.value,
            channel=ticket.channel,
            customer_id=ticket.customer_id,
            assignee=ticket.assignee,
            group=ticket.group,
            escalation_level=ticket.escalation_level,
            tags=", ".join(ticket.tags),
        )
        for name, value in ticket.fields.items():
            values[f"fields.{name}"] = thaw(value)
    for key, value in extra.items():
        if key == "fraction" and isinstance(value, float):
            values["percent"] = f"{value * 100:g}%"
        values[key] = format_instant(value) if isinstance(value, datetime) else value
    return values


@attrs.define
class _Run:
    """Mutable state of one run (private): the growing timeline and the outputs."""

    timeline: Timeline
    env: Environment
    routing_state: RoutingState | None
    events: list[Event] = attrs.Factory(list)
    notifications: list[Notification] = attrs.Factory(list)
    tickets: list[TicketRequest] = attrs.Factory(list)
    problems: list[ProblemRequest] = attrs.Factory(list)
    skipped: list[Skipped] = attrs.Factory(list)
    fired: list[str] = attrs.Factory(list)
    queue: deque[tuple[Event, tuple[str, ...], int]] = attrs.Factory(deque)
    counts: dict[int, int] = attrs.Factory(dict)

    def add(self, event: Event, chain: tuple[str, ...], root: int) -> None:
        self.timeline = self.timeline.append(event)
        self.events.append(event)
        self.queue.append((event, chain, root))

    def outcome(self, retry_at: datetime | None = None) -> Outcome:
        return Outcome(
            retry_at=retry_at,
            events=tuple(self.events),
            notifications=tuple(self.notifications),
            tickets=tuple(self.tickets),
            problems=tuple(self.problems),
            skipped=tuple(self.skipped),
            fired=tuple(self.fired),
            routing_state=self.routing_state,
        )


@attrs.frozen
class _Occurrence:
    """A due time rule or SLA instant (private)."""

    at: datetime
    order: int
    rule: Rule
    keys: Mapping[str, Any]
    context: Mapping[str, Any]


class Automation:
    """Runs a :class:`RuleSet` over ticket timelines. Pure: it returns what to do.

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

        Raises:
            AutomationError: more than ``max_actions`` actions for one triggering event.
        """
        _aware(now, "now")
        env = env or Environment()
        run = _Run(timeline, env, env.routing_state)
        for index, event in enumerate(triggers):
            run.queue.append((event, chain, index))
        self._drain(run, now)
        return run.outcome()

    def wake(self, timeline: Timeline, *, now: datetime, env: Environment | None = None) -> Outcome:
        """Everything due up to ``now``: timed workflow transitions, time rules and SLA
        warnings/breaches, earliest first, each followed by the event rules it triggers.

        A time or SLA rule's condition is evaluated on the ticket *as it was at the due
        instant*, and its events are written at that instant (or at the ticket's latest
        event, if later), so the answer does not depend on when you call it. Running it
        again on the result does nothing.

        A due rule whose actions write nothing because the router queued the ticket is
        tried again at the router's next escalation instant (when the wider step is in
        force): within this call when that instant is ``<= now``, else reported as
        ``outcome.retry_at`` for the scheduler.
        """
        _aware(now, "now")
        env = env or Environment()
        run = _Run(timeline, env, env.routing_state)
        Key = tuple[str, tuple[tuple[str, Any], ...]]
        tried: set[tuple[Key, datetime]] = set()
        retry: dict[Key, datetime] = {}
        tried_timed: set[tuple[str, datetime]] = set()
        for step in range(_MAX_STEPS):
            candidates = self._occurrences(run.timeline, now, env)
            pending: list[tuple[datetime, _Occurrence, Key]] = []
            for o in candidates:
                key = (o.rule.id, tuple(sorted(o.keys.items())))
                due = retry.get(key, o.at)
                if (
                    due <= now
                    and (key, due) not in tried
                    and not _done(run.timeline, o.rule.id, o.keys)
                ):
                    pending.append((due, o, key))
            timed = self._due_timed(run.timeline, now, env, tried_timed)
            if not pending and timed is None:
                break
            first = min(pending, key=lambda p: (p[0], p[1].order)) if pending else None
            if timed is not None and (first is None or timed[1] <= first[0]):
                tried_timed.add((timed[0], timed[1]))
                self._fire_timed(run, timed[0], timed[1], timed[2], root=-1 - step)
            elif first is not None:
                due, occurrence, key = first
                tried.add((key, due))
                at = max(due, run.timeline.updated_at)
                state_then = (
                    run.timeline.state_at(due)
                    if due >= run.timeline.created_at
                    else run.timeline.ticket
                )
                events_then = [e for e in run.timeline.events if e.at <= due]
                context = {
                    "ticket": state_then,
                    "fields": state_then.fields,
                    "event": dict(occurrence.context),
                    "stats": ticket_stats(events_then),
                }
                rule = occurrence.rule
                if rule.when is None or rule.when.evaluate(context):
                    marks = (len(run.events), len(run.notifications), len(run.tickets))
                    skips = len(run.skipped)
                    self._fire(
                        run, rule, at, dict(occurrence.keys), occurrence.context, (), -1 - step
                    )
                    wrote = (len(run.events), len(run.notifications), len(run.tickets)) != marks
                    later = [
                        s.retry_at
                        for s in run.skipped[skips:]
                        if s.retry_at is not None and s.retry_at > due
                    ]
                    if not wrote and later:
                        retry[key] = min(later)
            self._drain(run, now)
        waiting = [
            at
            for (rule_id, keys), at in retry.items()
            if at > now and not _done(run.timeline, rule_id, dict(keys))
        ]
        return run.outcome(min(waiting) if waiting else None)

    def next_wakeup(
        self,
        timeline: Timeline,
        *,
        now: datetime,
        after: datetime | None = None,
        env: Environment | None = None,
    ) -> datetime | None:
        """The earliest instant after ``after`` at which :meth:`wake` may do something.

        Candidates: timed workflow transitions, time rules not yet done, SLA warnings and
        breaches not yet answered (from the report at ``now``, whose ``next_event_at``
        covers the future). ``after=None`` includes past ones (for a scheduler that
        starts or restarts).
        """
        _aware(now, "now")
        env = env or Environment()
        instants: list[datetime] = []
        for occurrence in self._occurrences(timeline, now, env):
            if not _done(timeline, occurrence.rule.id, occurrence.keys):
                instants.append(occurrence.at)
        if env.workflow is not None and timeline.ticket.category is not StatusCategory.CLOSED:
            # a workflow the ticket does not follow has no timers for it
            with contextlib.suppress(WorkflowError):
                instants.extend(
                    d.due_at for d in env.workflow.scheduled_transitions(timeline, env.calendar)
                )
        if self._sla_rules and env.sla is not None:
            report = env.sla.evaluate(timeline, calendar=env.calendar, now=now)
            if report.next_event_at is not None:
                instants.append(report.next_event_at)
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
        """
        _aware(now, "now")
        env = env or Environment()
        notifications: list[Notification] = []
        tickets: list[TicketRequest] = []
        fired: list[str] = []
        for record in records:
            key = str(record.get("serial", record.get("id", "")))
            for rule in self._asset_rules:
                trigger = rule.time
                assert trigger is not None
                anchor = _field_instant(record.get(trigger.field or ""), env)
                if anchor is None:
                    continue
                instant = anchor - trigger.after if trigger.before else anchor + trigger.after
                if instant > now:
                    continue
                context = {
                    "ticket": None,
                    "fields": dict(record),
                    "event": {"kind": "time", "anchor": format_instant(anchor)},
                    "stats": {},
                }
                if rule.when is not None and not rule.when.evaluate(context):
                    continue
                fired.append(rule.id)
                values = {f"fields.{k}": v for k, v in record.items()}
                values.update(
                    rule=rule.id, at=format_instant(instant), customer_id=record.get("customer_id")
                )
                for index, action in enumerate(rule.actions):
                    if action.do == "notify":
                        notifications.append(
                            self._notification(action, values, None, rule, instant)
                        )
                    else:
                        request = self._ticket_request(
                            action,
                            values,
                            rule,
                            instant,
                            (rule.id, key, format_instant(anchor), str(index)),
                            customer_id=record.get("customer_id"),
                            source=None,
                            chain=(rule.id,),
                        )
                        tickets.append(attrs.evolve(request, source_asset=key or None))
        return Outcome(
            notifications=tuple(notifications), tickets=tuple(tickets), fired=tuple(fired)
        )

    # ------------------------------------------------------------------ internals
    def _drain(self, run: _Run, now: datetime) -> None:
        while run.queue:
            event, chain, root = run.queue.popleft()
            names = {event.kind}
            if isinstance(event, MessageAdded) and event.direction is Direction.INBOUND:
                names.add("message_in")
            for rule in self._event_rules:
                if (
                    rule.id in chain
                    or event.meta.get("rule") == rule.id
                    or not names & set(rule.on)
                ):
                    continue
                ticket = run.timeline.ticket
                context = {
                    "ticket": ticket,
                    "fields": ticket.fields,
                    "event": event.to_dict(),
                    "stats": ticket_stats(run.timeline.events),
                }
                if rule.when is not None and not rule.when.evaluate(context):
                    continue
                at = max(event.at, run.timeline.updated_at)
                self._fire(run, rule, at, {}, {"kind": event.kind}, chain, root, source=event)

    def _count(self, run: _Run, root: int, rule: Rule) -> None:
        run.counts[root] = run.counts.get(root, 0) + 1
        if run.counts[root] > self.rules.max_actions:
            raise AutomationError(
                f"ticket {run.timeline.ticket_id!r}: more than {self.rules.max_actions} chained "
                f"actions for one event (last rule {rule.id!r}, fired so far: "
                f"{' -> '.join(run.fired[-10:])}); nothing was written"
            )

    def _fire(
        self,
        run: _Run,
        rule: Rule,
        at: datetime,
        keys: dict[str, Any],
        context: Mapping[str, Any],
        chain: tuple[str, ...],
        root: int,
        source: Event | None = None,
    ) -> None:
        run.fired.append(rule.id)
        meta = {"rule": rule.id, **keys}
        new_chain = (*chain, rule.id)
        position = str(len(run.timeline)) if source is not None else format_instant(at)
        for index, action in enumerate(rule.actions):
            self._count(run, root, rule)
            ticket = run.timeline.ticket
            values = _values(ticket, rule.id, at, context)
            produced = self._action(
                run,
                rule,
                index,
                action,
                ticket,
                at,
                values,
                meta,
                (position, *map(str, keys.values())),
                new_chain,
            )
            for event in produced:
                run.add(event, new_chain, root)

    def _action(
        self,
        run: _Run,
        rule: Rule,
        index: int,
        action: Action,
        ticket: Ticket,
        at: datetime,
        values: Mapping[str, Any],
        meta: Mapping[str, Any],
        occurrence: tuple[str, ...],
        chain: tuple[str, ...],
    ) -> list[Event]:
        p = action.params
        base: dict[str, Any] = {"ticket_id": ticket.id, "at": at, "actor": "system", "meta": meta}
        do = action.do
        if do in ("set_field", "set_priority", "add_tags", "remove_tags"):
            name = (
                "priority"
                if do == "set_priority"
                else "tags"
                if do.endswith("_tags")
                else str(p["name"])
            )
            old = _current(ticket, name)
            if do == "add_tags":
                new: Any = sorted(set(ticket.tags) | {str(t) for t in p["tags"]})
            elif do == "remove_tags":
                new = sorted(set(ticket.tags) - {str(t) for t in p["tags"]})
            else:
                new = thaw(p["value"])
            if old == new:
                return []
            return [FieldChanged(name=name, old=old, new=new, **base)]
        if do == "assign":
            return self._assign(run, rule, index, ticket, at, p, base)
        if do == "transition":
            workflow = run.env.workflow
            if workflow is None:
                run.skipped.append(Skipped(rule.id, index, "no workflow for this ticket"))
                return []
            data = thaw(p["data"]) if "data" in p else None
            try:
                _, events = workflow.fire(
                    run.timeline,
                    str(p["transition"]),
                    actor=Actor.system(),
                    at=at,
                    data=data,
                    reason=p.get("reason"),
                )
            except TransitionNotAllowed as exc:
                run.skipped.append(Skipped(rule.id, index, _explain(exc)))
                return []
            return [attrs.evolve(e, meta=meta) for e in events]
        if do == "escalate":
            level = int(p.get("level", ticket.escalation_level + 1))
            if level <= ticket.escalation_level:
                run.skipped.append(
                    Skipped(
                        rule.id, index, f"already at escalation level {ticket.escalation_level}"
                    )
                )
                return []
            reason = p.get("reason") or f"rule {rule.id}"
            out: list[Event] = [Escalated(level=level, reason=str(reason), **base)]
            group = p.get("group")
            if group is not None and group != ticket.group:
                out.append(Assigned(group=str(group), **base))
            return out
        if do in ("notify", "send_survey"):
            notification = self._notification(action, values, ticket.id, rule, at)
            run.notifications.append(notification)
            note_meta = {**meta, "notify": notification.to, "text": notification.text}
            if notification.survey is not None:
                note_meta["survey"] = notification.survey
            return [
                MessageAdded(
                    direction=Direction.INTERNAL,
                    channel=notification.channel,
                    author="system",
                    public=False,
                    **{**base, "meta": note_meta},
                )
            ]
        if do == "create_ticket":
            request = self._ticket_request(
                action,
                values,
                rule,
                at,
                (rule.id, ticket.id, *occurrence, str(index)),
                customer_id=ticket.customer_id,
                source=ticket.id,
                chain=chain,
            )
            run.tickets.append(request)
            if p.get("link", True) is False:
                return []
            return [Linked(relation=request.relation, other_ticket=request.ticket_id, **base)]
        if do == "open_problem":
            run.problems.append(
                ProblemRequest(
                    ticket_id=ticket.id,
                    by=tuple(str(b) for b in p["by"]),
                    window=parse_duration(p.get("window", "30d"), "window"),
                    min_count=int(p.get("min_count", 3)),
                    subject=render(str(p.get("subject", "")), values),
                    rule=rule.id,
                    at=at,
                )
            )
            return []
        raise AutomationError(f"rule {rule.id!r}: unknown action {do!r}")  # pragma: no cover

    def _assign(
        self,
        run: _Run,
        rule: Rule,
        index: int,
        ticket: Ticket,
        at: datetime,
        p: Mapping[str, Any],
        base: dict[str, Any],
    ) -> list[Event]:
        if "agent" in p or "group" in p:
            agent, group = p.get("agent"), p.get("group")
            if agent == ticket.assignee and (group is None or group == ticket.group):
                return []
            return [Assigned(agent=agent, group=group, **base)]
        env = run.env
        if env.router is None or env.agents is None:
            run.skipped.append(
                Skipped(rule.id, index, "assign without an agent needs a router and agents")
            )
            return []
        state = run.routing_state or RoutingState()
        last_unassigned = run.timeline.last(Unassigned)
        since = last_unassigned.at if last_unassigned is not None else None
        decision = env.router.route(ticket, env.agents, state, at, since=since, explain="chosen")
        if decision.agent is None:
            when = decision.next_escalation_at
            run.skipped.append(
                Skipped(
                    rule.id,
                    index,
                    "the router queued the ticket"
                    + (f" (next escalation {format_instant(when)})" if when else ""),
                    when,
                )
            )
            return []
        run.routing_state = state.apply(decision)
        return [
            Assigned(
                agent=decision.agent,
                group=decision.group,
                decision=f"{decision.rule}#{decision.step}",
                **base,
            )
        ]

    def _notification(
        self,
        action: Action,
        values: Mapping[str, Any],
        ticket_id: str | None,
        rule: Rule,
        at: datetime,
    ) -> Notification:
        p = action.params
        survey = str(p["survey"]) if action.do == "send_survey" else None
        to = str(p.get("to", "{customer_id}"))
        return Notification(
            channel=str(p["channel"]),
            to=render(to, values),
            text=render(str(p["template"]), {**values, "survey": survey}),
            subject=render(str(p.get("subject", "")), values),
            ticket_id=ticket_id,
            rule=rule.id,
            at=at,
            survey=survey,
        )

    def _ticket_request(
        self,
        action: Action,
        values: Mapping[str, Any],
        rule: Rule,
        at: datetime,
        key: tuple[str, ...],
        *,
        customer_id: Any,
        source: str | None,
        chain: tuple[str, ...],
    ) -> TicketRequest:
        p = action.params
        return TicketRequest(
            ticket_id=derived_ticket_id(*key),
            type=str(p["type"]),
            subject=render(str(p["subject"]), {**values, "source_ticket": source}),
            priority=str(p.get("priority", "normal")),
            fields=thaw(p.get("fields", {})),
            channel=str(p.get("channel", "automation")),
            customer_id=customer_id if isinstance(customer_id, str) else None,
            source_ticket=source,
            relation=str(p.get("relation", "follow_up")),
            rule=rule.id,
            at=at,
            chain=chain,
        )

    def _due_timed(
        self, timeline: Timeline, now: datetime, env: Environment, tried: set[tuple[str, datetime]]
    ) -> tuple[str, datetime, Mapping[str, Any]] | None:
        if env.workflow is None or timeline.ticket.category is StatusCategory.CLOSED:
            return None
        try:
            due = env.workflow.due_transitions(timeline, now, env.calendar)
        except WorkflowError:
            return None
        for item in due:
            if (item.transition, item.due_at) not in tried:
                return item.transition, item.due_at, item.data
        return None

    def _fire_timed(
        self, run: _Run, transition: str, due_at: datetime, data: Mapping[str, Any], root: int
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
            run.skipped.append(Skipped(f"timed:{transition}", 0, _explain(exc)))
            return
        for event in events:
            run.add(attrs.evolve(event, meta={"timed": transition}), (), root)

    def _occurrences(
        self, timeline: Timeline, now: datetime, env: Environment
    ) -> list[_Occurrence]:
        found: list[_Occurrence] = []
        for order, rule in enumerate(self._time_rules):
            trigger = rule.time
            assert trigger is not None
            anchor = _anchor(trigger, timeline, env)
            if anchor is None:
                continue
            instant = _instant(trigger, anchor, env)
            keys: dict[str, Any] = {"anchor": format_instant(anchor)}
            found.append(
                _Occurrence(instant, order, rule, keys, {"kind": "time", "anchor": anchor})
            )
        if self._sla_rules and env.sla is not None:
            report = env.sla.evaluate(timeline, calendar=env.calendar, now=now)
            base = len(self._time_rules)
            for cycle in report.cycles:
                items: list[tuple[datetime, str, dict[str, Any]]] = []
                for warning in cycle.warnings:
                    if warning.reached and warning.at is not None:
                        items.append((warning.at, "sla_warning", {"fraction": warning.fraction}))
                if cycle.breached and cycle.breached_at is not None:
                    items.append((cycle.breached_at, "sla_breach", {}))
                for at, kind, extra in items:
                    for order, rule in enumerate(self._sla_rules):
                        if kind not in rule.on:
                            continue
                        keys = {"sla": cycle.target, "cycle": cycle.cycle, **extra}
                        context = {
                            "kind": kind,
                            "target": cycle.target,
                            "cycle": cycle.cycle,
                            "due_at": cycle.due_at,
                            **extra,
                        }
                        found.append(_Occurrence(at, base + order, rule, keys, context))
        return found


def _current(ticket: Ticket, name: str) -> Any:
    if name == "priority":
        return ticket.priority.value
    if name == "tags":
        return list(ticket.tags)
    if name in ("subject", "type", "customer_id"):
        return getattr(ticket, name)
    return thaw(ticket.fields.get(name))


def _done(timeline: Timeline, rule_id: str, keys: Mapping[str, Any]) -> bool:
    for event in reversed(timeline.events):
        meta = event.meta
        if meta.get("rule") == rule_id and all(meta.get(k) == v for k, v in keys.items()):
            return True
    return False


def _field_instant(value: object, env: Environment) -> datetime | None:
    if isinstance(value, datetime):
        return value if is_aware(value) else None
    if isinstance(value, date):
        return datetime.combine(value, time(0), env.zone())
    if isinstance(value, str) and value:
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), time(0), env.zone())
            # csmkit's instant codec: the same answer on every supported Python
            return parse_instant(value)
        except ValueError:
            return None
    return None


def _anchor(trigger: TimeTrigger, timeline: Timeline, env: Environment) -> datetime | None:
    if trigger.since == "created":
        return timeline.created_at
    if trigger.since == "updated":
        manual = next((e for e in reversed(timeline.events) if not _automatic(e)), None)
        return manual.at if manual is not None else timeline.created_at
    if trigger.since == "status":
        change = timeline.last(StatusChanged, WorkflowMigrated)
        return change.at if change is not None else timeline.created_at
    return _field_instant(thaw(timeline.ticket.fields.get(trigger.field or "")), env)


def _instant(trigger: TimeTrigger, anchor: datetime, env: Environment) -> datetime:
    if trigger.before:
        return anchor - trigger.after
    if trigger.clock == "business":
        if env.calendar is None:
            raise AutomationError("a business-time rule needs a calendar in the environment")
        return env.calendar.add(anchor, trigger.after)
    return anchor + trigger.after


def _explain(exc: TransitionNotAllowed) -> str:
    verdict = exc.verdict
    explain = getattr(verdict, "explain", None)
    return str(explain()) if callable(explain) else str(exc)
