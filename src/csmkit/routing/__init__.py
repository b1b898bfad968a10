"""Who should take this ticket now: two-stage, explainable routing with escalation.

Stage one filters agents (presence, group, the rule's target condition, shift, capacity);
stage two lets one chooser strategy pick among the eligible. Every
[`Decision`][csmkit.routing.Decision] names the rule and escalation step used, each examined agent
with the filter that removed it and why, the scores and the tie-break. Everything is a pure
function of the rules, agents, [`RoutingState`][csmkit.routing.RoutingState] and ``now``.
"""

from __future__ import annotations

from csmkit.routing._agents import RESERVED_AGENT_NAMES, Agent, AgentPool, Presence
from csmkit.routing._calendar import ShiftCalendar
from csmkit.routing._decision import CandidateVerdict, Decision, Pick
from csmkit.routing._eligibility import FILTER_ORDER
from csmkit.routing._fairness import FairnessReport, fairness_report, gini
from csmkit.routing._queue import QueueEntry, WorkQueue
from csmkit.routing._router import Router
from csmkit.routing._rules import (
    EffectiveTarget,
    EscalationStep,
    RoutingRule,
    RoutingRules,
    format_duration,
    parse_duration,
)
from csmkit.routing._state import RoutingState
from csmkit.routing._strategies import (
    BestSkill,
    ChoiceContext,
    LeastLoaded,
    MostSpareCapacity,
    RoundRobin,
    SeededRandom,
    Sticky,
    Strategy,
    StrategyFactory,
    StrategyRegistry,
    default_registry,
)
from csmkit.routing._target import TargetFilter

__all__ = [
    "FILTER_ORDER",
    "RESERVED_AGENT_NAMES",
    "Agent",
    "AgentPool",
    "BestSkill",
    "CandidateVerdict",
    "ChoiceContext",
    "Decision",
    "EffectiveTarget",
    "EscalationStep",
    "FairnessReport",
    "LeastLoaded",
    "MostSpareCapacity",
    "Pick",
    "Presence",
    "QueueEntry",
    "RoundRobin",
    "Router",
    "RoutingRule",
    "RoutingRules",
    "RoutingState",
    "SeededRandom",
    "ShiftCalendar",
    "Sticky",
    "Strategy",
    "StrategyFactory",
    "StrategyRegistry",
    "TargetFilter",
    "WorkQueue",
    "default_registry",
    "fairness_report",
    "format_duration",
    "gini",
    "parse_duration",
]
