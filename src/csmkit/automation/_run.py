"""The state of one rule run, and the step an action executes in."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from csmkit._jsonvalue import thaw
from csmkit._time import format_instant
from csmkit.automation._context import rule_context, ticket_stats
from csmkit.automation._params import MissingValue, has_braces, resolve_template
from csmkit.automation._results import (
    Environment,
    Notification,
    Outcome,
    ProblemRequest,
    Skipped,
    TicketRequest,
)
from csmkit.automation._spec import Action, ActionSpec
from csmkit.routing import RoutingState
from csmkit.timeline import ActionFailed, Event, Ticket, Timeline

__all__ = ["Refusal", "Run", "Step", "resolve_params", "template_values"]

_log = logging.getLogger(__name__)


class Refusal(Exception):
    """An action cannot run (private control flow: the step records it)."""

    def __init__(self, reason: str, retry_at: datetime | None = None, *, record: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at
        self.record = record


def template_values(
    ticket: Ticket | None, rule: str, at: datetime, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The flat values of message templates (``{ticket_id}``, ``{fields.region}`` …)."""
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


def resolve_params(
    spec: ActionSpec,
    action: Action,
    context: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
) -> dict[str, Any]:
    """The action's parameters with templated ones resolved and re-checked.

    ``context`` may be a function building it, called only when a parameter is
    templated.

    Raises:
        Refusal: a placeholder has no value, or the value is of the wrong type.
    """
    params: dict[str, Any] = {}
    for name, raw in action.params.items():
        parameter = spec.parameter(name)
        if parameter is None or not parameter.templated or not has_braces(raw):
            params[name] = thaw(raw)
            continue
        if callable(context):
            context = context()
        try:
            value = resolve_template(raw, context)
        except MissingValue as exc:
            raise Refusal(f"{name}: {exc}") from None
        problem = parameter.problem(value)
        if problem is not None:
            raise Refusal(f"{name}: {problem} (from {thaw(raw)!r})")
        params[name] = value
    return params


@attrs.define
class Run:
    """Mutable state of one run: the growing timeline and the outputs."""

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
    roots: dict[int, dict[str, Any]] = attrs.Factory(dict)

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


@attrs.define
class Step:
    """One action about to run: the run, the rule, the instant, the trigger.

    Attributes:
        run: The run it belongs to.
        rule: The rule's id.
        index: The action's position in the rule.
        action: The action.
        spec: Its definition.
        at: The instant its events carry.
        meta: The ``meta`` its events carry (``{"rule": ..., occurrence keys}``).
        trigger: The triggering event's dict form (or the time/SLA occurrence).
        extra: Extra message-template values (``kind``, ``target``, ``fraction`` …).
        occurrence: What makes the occurrence unique (derived ticket ids).
        chain: The rules in the causal chain, this one included.
    """

    run: Run
    rule: str
    index: int
    action: Action
    spec: ActionSpec
    at: datetime
    meta: dict[str, Any]
    trigger: Mapping[str, Any]
    extra: Mapping[str, Any]
    occurrence: tuple[str, ...]
    chain: tuple[str, ...]

    @property
    def ticket(self) -> Ticket:
        """The ticket as the earlier actions left it."""
        return self.run.timeline.ticket

    @property
    def env(self) -> Environment:
        """The run's environment."""
        return self.run.env

    def base(self) -> dict[str, Any]:
        """Keyword arguments every event of this step shares."""
        return {"ticket_id": self.ticket.id, "at": self.at, "actor": "system", "meta": self.meta}

    def values(self) -> dict[str, Any]:
        """Flat values for message templates."""
        return template_values(self.ticket, self.rule, self.at, self.extra)

    def context(self) -> dict[str, Any]:
        """The context the rule's condition reads, on the ticket as it is now."""
        ticket = self.ticket
        stats = ticket_stats(self.run.timeline.events)
        return rule_context(ticket, ticket.fields, self.trigger, stats, self.env)

    def params(self) -> dict[str, Any]:
        """The parameters, templated ones resolved (raises `Refusal`)."""
        return resolve_params(self.spec, self.action, self.context)

    def refuse(self, refusal: Refusal) -> list[Event]:
        """Report (and, for a real refusal, record) that the action did not run."""
        run = self.run
        run.skipped.append(Skipped(self.rule, self.index, refusal.reason, refusal.retry_at))
        ticket_id = run.timeline.ticket_id
        if not refusal.record:
            _log.info(
                "ticket %s: rule %s action %d (%s) not run: %s",
                ticket_id,
                self.rule,
                self.index,
                self.action.do,
                refusal.reason,
            )
            return []
        _log.warning(
            "ticket %s: rule %s action %d (%s) refused: %s",
            ticket_id,
            self.rule,
            self.index,
            self.action.do,
            refusal.reason,
        )
        failed = ActionFailed(
            rule=self.rule,
            action=self.action.do,
            index=self.index,
            reason=refusal.reason,
            **self.base(),
        )
        return [failed]
