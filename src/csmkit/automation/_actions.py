"""The action catalogue: each action defined once — parameters, checks, execution.

[`ACTION_SPECS`][csmkit.automation.ACTION_SPECS] is the table the rule validator
(``RuleSet.from_dict`` / ``check``), the engine and the docs (``docs/automation.md``, checked by a
test) read. An execution function takes a `Step` and returns the
events to append; an action that cannot run raises `Refusal`, which the engine
records on the ticket's timeline as an ``ActionFailed`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from csmkit._duration import parse_duration
from csmkit._jsonvalue import thaw
from csmkit._time import format_instant
from csmkit.automation._context import TICKET_ATTRIBUTES, check_field
from csmkit.automation._results import (
    Notification,
    ProblemRequest,
    TicketRequest,
    derived_ticket_id,
)
from csmkit.automation._run import Refusal, Step
from csmkit.automation._spec import ActionParameter, ActionSpec, Known
from csmkit.automation._template import placeholders, render
from csmkit.errors import AutomationError, TimelineError, TransitionNotAllowed, WorkflowError
from csmkit.routing import Decision, RoutingState
from csmkit.timeline import (
    RESERVED_FIELDS,
    Assigned,
    Direction,
    Escalated,
    Event,
    FieldChanged,
    Linked,
    MessageAdded,
    SurveyKind,
    Ticket,
    Unassigned,
)
from csmkit.workflow import Actor

__all__ = [
    "ACTIONS",
    "ACTION_SPECS",
    "explain_refusal",
    "notification_for",
    "reference_table",
    "ticket_request_for",
]

P = ActionParameter


def _current(ticket: Ticket, name: str) -> Any:
    if name == "priority":
        return ticket.priority.value
    if name == "tags":
        return list(ticket.tags)
    if name in ("subject", "type", "customer_id"):
        return getattr(ticket, name)
    return thaw(ticket.fields.get(name))


def _change(step: Step, name: str, new: Any) -> list[Event]:
    old = _current(step.ticket, name)
    if old == new:
        return []
    try:
        return [FieldChanged(name=name, old=old, new=new, **step.base())]
    except TimelineError as exc:  # e.g. a templated priority that is not one
        raise Refusal(f"{name}: {exc.message}") from None


# ---------------------------------------------------------------------- fields and tags
def _set_field(step: Step) -> list[Event]:
    p = step.params()
    return _change(step, str(p["name"]), p["value"])


def _check_set_field(params: Mapping[str, Any], where: str, known: Known, out: list[str]) -> None:
    name = str(params.get("name"))
    if name in RESERVED_FIELDS:
        out.append(f"{where}.name: {name!r} has its own action (assign, transition …)")
    elif name not in ("subject", "priority", "tags", "type", "customer_id"):
        check_field(name, f"{where}.name", known.fields, out)


def _set_priority(step: Step) -> list[Event]:
    return _change(step, "priority", step.params()["value"])


def _add_tags(step: Step) -> list[Event]:
    tags = {str(t) for t in step.params()["tags"]}
    return _change(step, "tags", sorted(set(step.ticket.tags) | tags))


def _remove_tags(step: Step) -> list[Event]:
    tags = {str(t) for t in step.params()["tags"]}
    return _change(step, "tags", sorted(set(step.ticket.tags) - tags))


# ---------------------------------------------------------------------- people
def _route(step: Step, ticket: Ticket, since: datetime | None, what: str) -> Decision:
    """The router's choice for ``ticket`` (the ``assign`` path, fast: ``explain="chosen"``)."""
    env, run = step.env, step.run
    if env.router is None or env.agents is None:
        raise Refusal(f"{what} without an agent needs a router and agents")
    state = run.routing_state or RoutingState()
    decision = env.router.route(ticket, env.agents, state, step.at, since=since, explain="chosen")
    if decision.agent is not None:
        run.routing_state = state.apply(decision)
    return decision


def _assign(step: Step) -> list[Event]:
    p, ticket = step.params(), step.ticket
    if "agent" in p or "group" in p:
        agent, group = p.get("agent"), p.get("group")
        if agent == ticket.assignee and (group is None or group == ticket.group):
            return []
        return [Assigned(agent=agent, group=group, **step.base())]
    last_unassigned = step.run.timeline.last(Unassigned)
    since = last_unassigned.at if last_unassigned is not None else None
    decision = _route(step, ticket, since, "assign")
    if decision.agent is None:
        when = decision.next_escalation_at
        raise Refusal(
            "the router queued the ticket"
            + (f" (next escalation {format_instant(when)})" if when else ""),
            when,
            record=False,  # a deferral, tried again at `when`, not a failure
        )
    decided = f"{decision.rule}#{decision.step}"
    return [Assigned(agent=decision.agent, group=decision.group, decision=decided, **step.base())]


def _escalate(step: Step) -> list[Event]:
    p, ticket = step.params(), step.ticket
    level = int(p.get("level", ticket.escalation_level + 1))
    if level <= ticket.escalation_level:
        # nothing to do (like set_field with the current value): reported, not recorded
        raise Refusal(f"already at escalation level {ticket.escalation_level}", record=False)
    reason = str(p.get("reason") or f"rule {step.rule}")
    group, agent = p.get("group"), p.get("agent")
    out: list[Event] = [Escalated(level=level, reason=reason, **step.base())]
    if not p.get("release", False):
        if group is not None and group != ticket.group:
            out.append(Assigned(group=str(group), **step.base()))
        return out
    if agent is None and (step.env.router is None or step.env.agents is None):
        raise Refusal("escalate with release and no agent needs a router and agents")
    if ticket.assignee is not None:
        out.append(Unassigned(agent=ticket.assignee, reason=reason, **step.base()))
    if agent is not None:
        return [*out, Assigned(agent=str(agent), group=group, **step.base())]
    if group is not None and group != ticket.group:
        out.append(Assigned(group=str(group), **step.base()))
    released = step.run.timeline.append(*out).ticket
    decision = _route(step, released, step.at, "escalate with release")
    if decision.agent is None:
        return out  # no one free: the ticket waits, released, in its (new) group's queue
    if group is not None and decision.group != group:
        raise Refusal(f"the router chose group {decision.group!r}, not {group!r}")
    decided = f"{decision.rule}#{decision.step}"
    base = step.base()
    # the clock of this decision starts at the escalation, Unassigned or not: recorded,
    # so the decision can be routed again (a desk adds the rest of its reference)
    base["meta"] = {**base["meta"], "routing": {"since": format_instant(step.at)}}
    return [
        *(e for e in out if not isinstance(e, Assigned)),
        Assigned(agent=decision.agent, group=decision.group, decision=decided, **base),
    ]


def _check_escalate(params: Mapping[str, Any], where: str, known: Known, out: list[str]) -> None:
    if "agent" in params and params.get("release") is not True:
        out.append(f"{where}.agent: names the new assignee, so it needs release = true")


# ---------------------------------------------------------------------- workflow
def explain_refusal(exc: TransitionNotAllowed) -> str:
    """The workflow's explanation of a refused transition."""
    explain = getattr(exc.verdict, "explain", None)
    return str(explain()) if callable(explain) else str(exc)


def _transition(step: Step) -> list[Event]:
    workflow = step.env.workflow
    if workflow is None:
        raise Refusal("no workflow for this ticket")
    p = step.params()
    try:
        _, events = workflow.fire(
            step.run.timeline,
            str(p["transition"]),
            actor=Actor.system(),
            at=step.at,
            data=p.get("data"),
            reason=p.get("reason"),
        )
    except TransitionNotAllowed as exc:
        raise Refusal(explain_refusal(exc)) from None
    except WorkflowError as exc:  # e.g. this ticket's workflow has no such transition
        raise Refusal(str(exc)) from None
    return [attrs.evolve(e, meta=step.meta) for e in events]


def _check_transition(params: Mapping[str, Any], where: str, known: Known, out: list[str]) -> None:
    if known.transitions is not None and params.get("transition") not in known.transitions:
        out.append(f"{where}.transition: no workflow has a transition {params['transition']!r}")
    data = params.get("data")
    if isinstance(data, Mapping):
        for key in data:
            check_field(str(key), f"{where}.data", known.fields, out)


# ---------------------------------------------------------------------- messages
def notification_for(
    action: str,
    p: Mapping[str, Any],
    values: Mapping[str, Any],
    ticket_id: str | None,
    rule: str,
    at: Any,
) -> Notification:
    """The notification a ``notify``/``send_survey`` action with parameters ``p`` sends."""
    survey = str(p["survey"]) if action == "send_survey" else None
    return Notification(
        channel=str(p["channel"]),
        to=render(str(p.get("to", "{customer_id}")), values),
        text=render(str(p["template"]), {**values, "survey": survey}),
        subject=render(str(p.get("subject", "")), values),
        ticket_id=ticket_id,
        rule=rule,
        at=at,
        survey=survey,
    )


def _notify(step: Step) -> list[Event]:
    notification = notification_for(
        step.action.do, step.params(), step.values(), step.ticket.id, step.rule, step.at
    )
    step.run.notifications.append(notification)
    meta = {**step.meta, "notify": notification.to, "text": notification.text}
    if notification.survey is not None:
        meta["survey"] = notification.survey
    return [
        MessageAdded(
            direction=Direction.INTERNAL,
            channel=notification.channel,
            author="system",
            public=False,
            **{**step.base(), "meta": meta},
        )
    ]


def _check_message(params: Mapping[str, Any], where: str, known: Known, out: list[str]) -> None:
    fields = None if known.fields is None else frozenset(known.fields)
    for key in ("template", "subject", "to"):
        value = params.get(key)
        if isinstance(value, str):
            try:
                placeholders(value, fields=fields)
            except AutomationError as exc:
                out.append(f"{where}.{key}: {exc}")
    channel = params.get("channel")
    if known.channels is not None and "channel" in params and channel not in known.channels:
        out.append(
            f"{where}.channel: unknown outbound channel {channel!r} "
            f"(known: {', '.join(sorted(known.channels)) or 'none'})"
        )


def _check_survey(params: Mapping[str, Any], where: str, known: Known, out: list[str]) -> None:
    _check_message(params, where, known, out)
    survey = params.get("survey")
    kinds = {kind.value for kind in SurveyKind}
    declared = known.surveys
    if declared is not None and isinstance(survey, str) and survey not in {*kinds, *declared}:
        out.append(
            f"{where}.survey: {survey!r} is neither csat, nps, ces nor a declared survey "
            f"(declared: {', '.join(sorted(declared)) or 'none'})"
        )


# ---------------------------------------------------------------------- tickets, problems
def ticket_request_for(
    p: Mapping[str, Any],
    values: Mapping[str, Any],
    rule: str,
    at: Any,
    key: tuple[str, ...],
    *,
    customer_id: Any,
    source: str | None,
    chain: tuple[str, ...],
) -> TicketRequest:
    """The ticket a ``create_ticket`` action with parameters ``p`` asks for."""
    return TicketRequest(
        ticket_id=derived_ticket_id(*key),
        type=str(p["type"]),
        subject=render(str(p["subject"]), {**values, "source_ticket": source}),
        priority=str(p.get("priority", "normal")),
        fields=p.get("fields", {}),
        channel=str(p.get("channel", "automation")),
        customer_id=customer_id if isinstance(customer_id, str) else None,
        source_ticket=source,
        relation=str(p.get("relation", "follow_up")),
        rule=rule,
        at=at,
        chain=chain,
    )


def _create_ticket(step: Step) -> list[Event]:
    ticket, p = step.ticket, step.params()
    request = ticket_request_for(
        p,
        step.values(),
        step.rule,
        step.at,
        (step.rule, ticket.id, *step.occurrence, str(step.index)),
        customer_id=ticket.customer_id,
        source=ticket.id,
        chain=step.chain,
    )
    step.run.tickets.append(request)
    if p.get("link", True) is False:
        return []
    return [Linked(relation=request.relation, other_ticket=request.ticket_id, **step.base())]


def _check_create_ticket(
    params: Mapping[str, Any], where: str, known: Known, out: list[str]
) -> None:
    _check_message({"subject": params.get("subject")}, where, Known(fields=known.fields), out)
    if known.ticket_types is not None and params.get("type") not in known.ticket_types:
        out.append(f"{where}.type: unknown ticket type {params.get('type')!r}")
    extra = params.get("fields")
    if isinstance(extra, Mapping):
        for key in extra:
            check_field(str(key), f"{where}.fields", known.fields, out)


def _open_problem(step: Step) -> list[Event]:
    p = step.params()
    step.run.problems.append(
        ProblemRequest(
            ticket_id=step.ticket.id,
            by=tuple(str(b) for b in p["by"]),
            window=parse_duration(p.get("window", "30d"), "window"),
            min_count=int(p.get("min_count", 3)),
            subject=render(str(p.get("subject", "")), step.values()),
            rule=step.rule,
            at=step.at,
        )
    )
    return []


def _check_open_problem(
    params: Mapping[str, Any], where: str, known: Known, out: list[str]
) -> None:
    _check_message({"subject": params.get("subject")}, where, Known(fields=known.fields), out)
    for attribute in params.get("by", ()):
        parts = str(attribute).split(".")
        if parts[0] == "fields" and len(parts) == 2:
            check_field(parts[1], f"{where}.by", known.fields, out)
        elif len(parts) != 1 or parts[0] not in TICKET_ATTRIBUTES:
            out.append(f"{where}.by: {attribute!r} is not a ticket attribute or fields.<name>")


# ---------------------------------------------------------------------- the table
_MESSAGE = (
    P("channel", "text", required=True),
    P("to", "message", default="the customer (`{customer_id}`)"),
    P("template", "message", required=True),
    P("subject", "message", default="none"),
)
_NOTE = "an internal `MessageAdded` recording it + a `Notification`"
_FIELD = frozenset({"field_changed"})

_SPECS = (
    ActionSpec(
        name="set_field",
        summary="set a form field (or subject, type, customer_id)",
        parameters=(P("name", "text", required=True), P("value", "value", True, True)),
        writes="`FieldChanged`",
        produces=_FIELD,
        execute=_set_field,
        check_known=_check_set_field,
    ),
    ActionSpec(
        name="set_priority",
        summary="change the priority",
        parameters=(P("value", "priority", True, True),),
        writes='`FieldChanged("priority")`',
        produces=_FIELD,
        execute=_set_priority,
    ),
    ActionSpec(
        name="add_tags",
        summary="add labels",
        parameters=(P("tags", "texts", True, True),),
        writes='`FieldChanged("tags")`',
        produces=_FIELD,
        execute=_add_tags,
    ),
    ActionSpec(
        name="remove_tags",
        summary="remove labels",
        parameters=(P("tags", "texts", True, True),),
        writes='`FieldChanged("tags")`',
        produces=_FIELD,
        execute=_remove_tags,
    ),
    ActionSpec(
        name="assign",
        summary="assign an agent and/or group; with neither, the router decides",
        parameters=(
            P("agent", "text", templated=True, default="the router decides"),
            P("group", "text", templated=True, default="unchanged"),
        ),
        writes="`Assigned` (with the router's rule and step)",
        produces=frozenset({"assigned"}),
        execute=_assign,
    ),
    ActionSpec(
        name="transition",
        summary="fire a workflow transition as `Actor.system()`",
        parameters=(
            P("transition", "text", required=True),
            P("data", "mapping", templated=True, default="none"),
            P("reason", "text", templated=True, default="none"),
        ),
        writes="the workflow's events",
        produces=frozenset({"field_changed", "status_changed"}),
        execute=_transition,
        check_known=_check_transition,
    ),
    ActionSpec(
        name="escalate",
        summary="raise the escalation level, optionally to a group; `release` reassigns",
        parameters=(
            P("level", "level", default="current + 1"),
            P("group", "text", templated=True, default="unchanged"),
            P("reason", "text", templated=True, default="`rule <id>`"),
            P("release", "flag", default="false: the assignee stays"),
            P("agent", "text", templated=True, default="the router decides (with `release`)"),
        ),
        writes="`Escalated` (+ `Assigned(group)`; with `release`: `Unassigned` + `Assigned`)",
        produces=frozenset({"escalated", "assigned", "unassigned"}),
        execute=_escalate,
        check_known=_check_escalate,
    ),
    ActionSpec(
        name="notify",
        summary="send a notification",
        parameters=_MESSAGE,
        writes=_NOTE,
        produces=frozenset({"message_added"}),
        execute=_notify,
        check_known=_check_message,
        for_assets=True,
    ),
    ActionSpec(
        name="send_survey",
        summary="invite the customer to a survey",
        parameters=(P("survey", "survey", required=True), *_MESSAGE),
        writes=_NOTE + ", with `meta.survey`",
        produces=frozenset({"message_added"}),
        execute=_notify,
        check_known=_check_survey,
    ),
    ActionSpec(
        name="create_ticket",
        summary="ask for a follow-up or proactive ticket (created once)",
        parameters=(
            P("type", "text", required=True),
            P("subject", "message", required=True),
            P("relation", "text", default="`follow_up`"),
            P("priority", "priority", templated=True, default="`normal`"),
            P("fields", "mapping", templated=True, default="none"),
            P("channel", "text", default="`automation`"),
            P("link", "flag", default="true"),
        ),
        writes="`Linked` + a `TicketRequest`",
        produces=frozenset({"linked", "created"}),
        execute=_create_ticket,
        check_known=_check_create_ticket,
        for_assets=True,
    ),
    ActionSpec(
        name="open_problem",
        summary="open (or join) a problem record for recurring tickets",
        parameters=(
            P("by", "texts", required=True),
            P("window", "duration", default="`30d`"),
            P("min_count", "count", default="3"),
            P("subject", "message", default="none"),
        ),
        writes="a `ProblemRequest`",
        produces=frozenset({"linked", "created"}),
        execute=_open_problem,
        check_known=_check_open_problem,
    ),
)

ACTION_SPECS: Mapping[str, ActionSpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Every action by name: its one definition (parameters, checks, execution)."""

ACTIONS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = MappingProxyType(
    {s.name: (s.required, s.optional) for s in _SPECS}
)
"""Action name -> (required, optional) parameter names (read from
[`ACTION_SPECS`][csmkit.automation.ACTION_SPECS])."""


def reference_table() -> str:
    """The Markdown reference table of ``docs/automation.md``, from
    [`ACTION_SPECS`][csmkit.automation.ACTION_SPECS]."""
    rows = [
        "| action | parameter | type | required | templated | default | writes |",
        "|---|---|---|---|---|---|---|",
    ]
    from csmkit.automation._spec import PARAMETER_TYPES

    for spec in _SPECS:
        for i, p in enumerate(spec.parameters):
            rows.append(
                f"| {f'`{spec.name}`' if i == 0 else ''} | `{p.name}` | "
                f"{PARAMETER_TYPES[p.type][0]} | {'yes' if p.required else ''} | "
                f"{'yes' if p.templated else ''} | {p.default} | "
                f"{spec.writes if i == 0 else ''} |"
            )
    return "\n".join(rows)
