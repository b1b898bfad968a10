"""Automation rules: event -> condition -> ordered actions, time rules, SLA instants.

Rules are data ([`RuleSet.from_dict()`][csmkit.automation.RuleSet.from_dict] /
[`RuleSet.to_dict()`][csmkit.automation.RuleSet.to_dict]), validated before anything runs. Each
action is defined once in [`ACTION_SPECS`][csmkit.automation.ACTION_SPECS] (parameters, checks,
execution); the validator, the engine and the docs read that table. The engine
([`Automation`][csmkit.automation.Automation]) is pure: given a ticket's timeline, the triggering
events, an [`Environment`][csmkit.automation.Environment] (workflow, router, SLA policy, calendar,
the customer and their assets) and ``now``, it returns an [`Outcome`][csmkit.automation.Outcome] —
events to append (each marked with the rule in ``meta``) and intents (notifications to deliver,
tickets to create, problems to open) for the caller to execute. An action that cannot run is
recorded as an [`ActionFailed`][csmkit.timeline.ActionFailed] event and logged on the
``csmkit.automation`` loggers. [`TimerIndex`][csmkit.automation.TimerIndex] keeps each ticket's next
wake-up for a scheduler without threads. See ``docs/automation.md``.
"""

from __future__ import annotations

from csmkit.automation._actions import ACTION_SPECS, ACTIONS
from csmkit.automation._context import CONDITION_ROOTS, STATS, ticket_stats
from csmkit.automation._engine import Automation, derived_ticket_id
from csmkit.automation._problems import (
    PROBLEM_RELATION,
    ProblemCluster,
    recurring_problems,
    similarity_key,
)
from csmkit.automation._results import (
    Environment,
    Notification,
    Outcome,
    ProblemRequest,
    Skipped,
    TicketRequest,
)
from csmkit.automation._rules import Rule, RuleSet
from csmkit.automation._spec import Action, ActionParameter, ActionSpec
from csmkit.automation._template import PLACEHOLDERS, placeholders, render
from csmkit.automation._timers import TimerIndex
from csmkit.automation._triggers import EVENT_TRIGGERS, TimeTrigger, format_span, parse_span

__all__ = [
    "ACTIONS",
    "ACTION_SPECS",
    "CONDITION_ROOTS",
    "EVENT_TRIGGERS",
    "PLACEHOLDERS",
    "PROBLEM_RELATION",
    "STATS",
    "Action",
    "ActionParameter",
    "ActionSpec",
    "Automation",
    "Environment",
    "Notification",
    "Outcome",
    "ProblemCluster",
    "ProblemRequest",
    "Rule",
    "RuleSet",
    "Skipped",
    "TicketRequest",
    "TimeTrigger",
    "TimerIndex",
    "derived_ticket_id",
    "format_span",
    "parse_span",
    "placeholders",
    "recurring_problems",
    "render",
    "similarity_key",
    "ticket_stats",
]
