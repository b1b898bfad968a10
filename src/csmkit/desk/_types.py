"""Ticket types and the small result records of the desk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from csmkit.automation import Notification
from csmkit.errors import AutomationError
from csmkit.metrics import Survey
from csmkit.sla import SlaPolicy, SlaPolicySet
from csmkit.workflow import FormSchema, Workflow

__all__ = [
    "FeedbackStatus",
    "LinkedStatus",
    "TickResult",
    "TicketType",
    "deferred_fields",
    "intake_problems",
    "intake_workflow",
    "pending_fields",
    "problem_workflow",
    "relaxed_form",
]


def _survey_tuple(surveys: Iterable[Survey]) -> tuple[Survey, ...]:
    if isinstance(surveys, (str, bytes, Mapping)) or not isinstance(surveys, Iterable):
        raise AutomationError(f"ticket type surveys must be Survey objects, got {surveys!r}")
    return tuple(surveys)


@attrs.frozen
class TicketType:
    """A kind of ticket: its workflow (with its form), its SLA policy and its surveys.

    Attributes:
        name: The ticket type (``"repair"``), as ``Ticket.type``.
        workflow: The workflow, which carries the form (``workflow.form``).
        sla: The SLA policy or policy set, if the type is measured.
        surveys: The type's own [`Survey`][csmkit.metrics.Survey] definitions (at most
            one per kind); they take precedence over the desk's ``surveys``.
    """

    name: str
    workflow: Workflow
    sla: SlaPolicy | SlaPolicySet | None = None
    surveys: tuple[Survey, ...] = attrs.field(default=(), converter=_survey_tuple)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise AutomationError(f"ticket type name {self.name!r} is not a non-empty name")
        if not isinstance(self.workflow, Workflow):
            raise AutomationError(f"ticket type {self.name!r}: workflow must be a Workflow")
        if self.sla is not None and not isinstance(self.sla, (SlaPolicy, SlaPolicySet)):
            raise AutomationError(f"ticket type {self.name!r}: sla must be an SlaPolicy(Set)")
        for index, survey in enumerate(self.surveys):
            if not isinstance(survey, Survey):
                raise AutomationError(
                    f"ticket type {self.name!r}: surveys[{index}] must be a Survey, got {survey!r}"
                )


def deferred_fields(workflow: Workflow) -> frozenset[str]:
    """Required form fields a ticket may lack until a later step: those the form
    requires that a transition of ``workflow`` also lists in ``required`` (the
    transition refuses to fire without them)."""
    form = workflow.form
    if form is None:
        return frozenset()
    by_transition = {name for t in workflow.transitions for name in t.required}
    return frozenset(
        spec.name for spec in form.fields if spec.required and spec.name in by_transition
    )


def relaxed_form(workflow: Workflow, names: frozenset[str] | None = None) -> FormSchema | None:
    """``workflow.form`` with the fields ``names`` (default: every
    `deferred_fields()`) optional; their values are still type-checked."""
    form = workflow.form
    deferred = deferred_fields(workflow) if names is None else names
    if form is None or not deferred:
        return form
    fields = [
        attrs.evolve(spec, required=False) if spec.name in deferred else spec
        for spec in form.fields
    ]
    return FormSchema(fields, allow_unknown=form.allow_unknown)


def pending_fields(workflow: Workflow, fired: set[str]) -> frozenset[str]:
    """The deferred fields no transition in ``fired`` required: a ticket may still
    lack them (once a transition requiring a field has fired, it stays required)."""
    done = {name for t in workflow.transitions if t.name in fired for name in t.required}
    return deferred_fields(workflow) - done


def intake_workflow(workflow: Workflow) -> Workflow:
    """The workflow channel intake opens tickets with: its form leaves the
    `deferred_fields()` empty (the transitions requiring them still do)."""
    relaxed = relaxed_form(workflow)
    return workflow if relaxed is workflow.form else attrs.evolve(workflow, form=relaxed)


def intake_problems(name: str, kind: TicketType) -> list[str]:
    """Why ``kind`` cannot be the intake type (empty when it can): channel intake opens
    tickets in state ``new`` with no fields, so every field the form requires must be
    required only by a later transition (see `deferred_fields()`)."""
    initial = kind.workflow.initial
    problems = []
    if initial.name != "new" or initial.category.value != "new":
        problems.append(
            f"{name}: channel intake opens tickets in state 'new'; the workflow starts "
            f"in {initial.name!r}"
        )
    form = intake_workflow(kind.workflow).form
    missing = [] if form is None else [e.field for e in form.validate({}).errors]
    if missing:
        problems.append(
            f"{name}: its form requires {', '.join(missing)}, which an inbound message "
            "cannot fill; make them optional, or also list them in the `required` of the "
            "transition that needs them (intake may then leave them empty)"
        )
    return problems


@attrs.frozen
class TickResult:
    """What one [`ServiceDesk.tick()`][csmkit.desk.ServiceDesk.tick] did.

    Attributes:
        now: The instant it ran for.
        woken: Tickets whose timers were due, in order.
        events: Number of events appended.
        notifications: Notifications the rules sent, plus failed earlier deliveries that
            went through on this tick (a send that fails now is in
            [`ServiceDesk.undelivered()`][csmkit.desk.ServiceDesk.undelivered] instead of raising).
        created: Tickets created by rules (follow-ups, proactive tasks, problems).
    """

    now: datetime
    woken: tuple[str, ...] = ()
    events: int = 0
    notifications: tuple[Notification, ...] = ()
    created: tuple[str, ...] = ()


@attrs.frozen
class LinkedStatus:
    """A linked ticket as the customer may see it.

    Attributes:
        ticket_id: The linked ticket (e.g. the internal requirement).
        relation: How it is linked.
        status: Its workflow state name.
        category: Its status category.
        label: The state's customer-facing label in the requested language.
        updated_at: When it last changed.
    """

    ticket_id: str
    relation: str
    status: str
    category: str
    label: str
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {**attrs.asdict(self), "updated_at": self.updated_at.isoformat()}


@attrs.frozen
class FeedbackStatus:
    """A customer-facing status view of a feedback ticket and what it is linked to.

    Attributes:
        ticket_id: The feedback ticket.
        status: Its state name.
        label: Its customer-facing label.
        linked: Linked internal tickets (requirements) with their customer labels.
    """

    ticket_id: str
    status: str
    label: str
    linked: tuple[LinkedStatus, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "ticket_id": self.ticket_id,
            "status": self.status,
            "label": self.label,
            "linked": [item.to_dict() for item in self.linked],
        }


_PROBLEM: Mapping[str, Any] = {
    "name": "problem",
    "labels": {"agent": {"en": "Problem", "zh": "问题"}},
    "states": [
        {
            "name": "new",
            "category": "new",
            "initial": True,
            "labels": {"agent": {"en": "New", "zh": "新建"}},
        },
        {
            "name": "investigating",
            "category": "open",
            "labels": {"agent": {"en": "Root-cause analysis", "zh": "根因分析中"}},
        },
        {
            "name": "known_error",
            "category": "on_hold",
            "labels": {"agent": {"en": "Known error", "zh": "已知错误"}},
        },
        {
            "name": "resolved",
            "category": "solved",
            "labels": {"agent": {"en": "Resolved", "zh": "已解决"}},
        },
        {
            "name": "closed",
            "category": "closed",
            "labels": {"agent": {"en": "Closed", "zh": "已关闭"}},
        },
    ],
    "transitions": [
        {"name": "investigate", "sources": "new", "target": "investigating"},
        {"name": "known_error", "sources": "investigating", "target": "known_error"},
        {"name": "resolve", "sources": ["investigating", "known_error"], "target": "resolved"},
        {"name": "reopen", "sources": "resolved", "target": "investigating"},
        {"name": "close", "sources": "resolved", "target": "closed"},
    ],
    "reopen": "investigating",
    "form": {"fields": [{"name": "root_cause", "type": "long_text"}]},
}


def problem_workflow() -> Workflow:
    """A minimal workflow for problem records (问题管理): new → investigating →
    known error → resolved → closed."""
    return Workflow.from_dict(_PROBLEM)
