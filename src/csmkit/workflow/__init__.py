"""Workflows for service tickets: states, transitions, roles, forms, versions, templates.

A [`Workflow`][csmkit.workflow.Workflow] is an immutable definition, usually loaded from plain data
with [`Workflow.from_dict()`][csmkit.workflow.Workflow.from_dict] and validated as a whole (every
problem reported at once). Tickets carry only their state name plus the workflow's name and version;
one definition serves every ticket. [`Workflow.check()`][csmkit.workflow.Workflow.check] says
whether a transition is allowed and why not; [`Workflow.fire()`][csmkit.workflow.Workflow.fire]
returns the new ticket and the [`csmkit.timeline`][csmkit.timeline] events to record.

Examples:
    >>> from datetime import datetime, timezone
    >>> from csmkit.timeline import Ticket
    >>> wf = template("repair")
    >>> at = datetime(2026, 9, 30, 9, tzinfo=timezone.utc)
    >>> ticket = Ticket.created(wf.created_event(
    ...     ticket_id="T-1", at=at, type="repair", channel="phone",
    ...     fields={"address": "上海市徐汇区", "contact_phone": "+86 138 0013 8000"}))
    >>> ticket, events = wf.fire(ticket, "dispatch", actor=Actor("d1", {"dispatcher"}), at=at,
    ...                          data={"engineer": "e7"})
    >>> ticket.status, [e.kind for e in events]
    ('dispatched', ['field_changed', 'status_changed'])
"""

from __future__ import annotations

from csmkit.workflow._forms import FIELD_TYPES, FieldError, FieldSpec, FormResult, FormSchema
from csmkit.workflow._model import (
    ANY_SOURCE,
    Actor,
    SeparationOfDuty,
    State,
    TimedTransition,
    Transition,
    format_duration,
    parse_duration,
)
from csmkit.workflow._registry import Migration, MigrationPlan, PlannedMove, WorkflowRegistry
from csmkit.workflow._schema import WORKFLOW_SCHEMA
from csmkit.workflow._templates import TEMPLATE_NAMES, template, template_dict
from csmkit.workflow._validate import CONDITION_ROOTS, RESERVED_DATA_KEYS
from csmkit.workflow._verdict import (
    REASON_CODES,
    BusinessClock,
    Due,
    Observer,
    Reason,
    TransitionContext,
    Verdict,
)
from csmkit.workflow._workflow import Workflow

__all__ = [
    "ANY_SOURCE",
    "CONDITION_ROOTS",
    "FIELD_TYPES",
    "REASON_CODES",
    "RESERVED_DATA_KEYS",
    "TEMPLATE_NAMES",
    "WORKFLOW_SCHEMA",
    "Actor",
    "BusinessClock",
    "Due",
    "FieldError",
    "FieldSpec",
    "FormResult",
    "FormSchema",
    "Migration",
    "MigrationPlan",
    "Observer",
    "PlannedMove",
    "Reason",
    "SeparationOfDuty",
    "State",
    "TimedTransition",
    "Transition",
    "TransitionContext",
    "Verdict",
    "Workflow",
    "WorkflowRegistry",
    "format_duration",
    "parse_duration",
    "template",
    "template_dict",
]
