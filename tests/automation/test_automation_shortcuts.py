"""The engine's shortcuts answer as the full runs do: ``may_react()`` is ``False`` only
when ``react()`` decides nothing, and ``next_wakeup()`` without time or SLA rules
equals the workflow's own timers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import conversation_timelines, timelines_events

from csmkit.automation import Automation, Environment, RuleSet
from csmkit.sla import BusinessCalendar
from csmkit.timeline import (
    Direction,
    MessageAdded,
    StatusCategory,
    TicketCreated,
    Timeline,
)
from csmkit.workflow import Workflow

#: Names a rule may listen on; ``message_in`` and several kinds the timelines hold
#: (not ``field_changed``: the rules' ``add_tags`` writes one, a loop to load).
LISTENED = [
    "message_added",
    "message_in",
    "status_changed",
    "assigned",
    "unassigned",
    "linked",
    "escalated",
]


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    rules: list[dict[str, Any]] = []
    for index in range(draw(st.integers(0, 3))):
        rule: dict[str, Any] = {
            "id": f"r{index}",
            "on": draw(st.lists(st.sampled_from(LISTENED), min_size=1, max_size=3, unique=True)),
            "actions": [{"do": "add_tags", "tags": [f"t{index}"]}],
        }
        if draw(st.booleans()):
            rule["enabled"] = False
        rules.append(rule)
    return RuleSet.from_dict({"rules": rules})


@settings(max_examples=150)
@given(rules=rule_sets(), events=timelines_events(), data=st.data())
def test_may_react_is_false_only_when_react_decides_nothing(
    rules: RuleSet, events: list[Any], data: Any
) -> None:
    timeline = Timeline(events)
    engine = Automation(rules)
    count = data.draw(st.integers(1, len(events)))
    triggers = list(timeline.events[-count:])
    outcome = engine.react(timeline, triggers, now=timeline.updated_at, env=Environment())
    if not engine.may_react(triggers):
        assert outcome.events == ()
        assert outcome.notifications == ()
        assert outcome.tickets == ()
        assert outcome.problems == ()
        assert outcome.skipped == ()
        assert outcome.fired == ()
    # and it says True whenever an enabled rule listens on a trigger's kind
    kinds = {e.kind for e in triggers} | {
        "message_in"
        for e in triggers
        if isinstance(e, MessageAdded) and e.direction is Direction.INBOUND
    }
    listening = any(rule.enabled and set(rule.on) & kinds for rule in rules.rules)
    assert engine.may_react(triggers) is listening


def test_an_inbound_message_wakes_a_message_in_rule() -> None:
    at = datetime(2026, 10, 12, 9, 0, tzinfo=timezone.utc)
    timeline = Timeline([TicketCreated(ticket_id="T-1", at=at, type="q", channel="email")])
    inbound = MessageAdded(
        ticket_id=timeline.ticket_id,
        at=timeline.updated_at,
        direction="inbound",
        channel="email",
    )
    outbound = MessageAdded(
        ticket_id=timeline.ticket_id,
        at=timeline.updated_at,
        actor="li",
        direction="outbound",
        channel="email",
    )
    engine = Automation(
        RuleSet.from_dict(
            {
                "rules": [
                    {"id": "in", "on": "message_in", "actions": [{"do": "add_tags", "tags": ["x"]}]}
                ]
            }
        )
    )
    assert engine.may_react([inbound])
    assert not engine.may_react([outbound])
    fired = engine.react(timeline.append(inbound), [inbound], now=inbound.at)
    assert fired.fired == ("in",)


CAL = BusinessCalendar.from_dict(
    {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}
)
STATES = ["new", "open", "pending", "on_hold", "solved", "closed"]


def workflow(timed: bool) -> Workflow:
    data: dict[str, Any] = {
        "name": "conversation",
        "states": [
            {"name": "new", "category": "new", "initial": True},
            {"name": "open", "category": "open"},
            {"name": "pending", "category": "pending"},
            {"name": "on_hold", "category": "on_hold"},
            {"name": "solved", "category": "solved"},
            {"name": "closed", "category": "closed"},
        ],
        "transitions": [
            {"name": "open", "sources": ["new"], "target": "open"},
            {"name": "wait", "sources": ["open"], "target": "pending"},
            {"name": "hold", "sources": ["open", "pending"], "target": "on_hold"},
            {"name": "solve", "sources": ["open", "pending", "on_hold"], "target": "solved"},
            {"name": "close", "sources": ["pending", "on_hold", "solved"], "target": "closed"},
        ],
    }
    if timed:
        data["timed"] = [
            {"state": "pending", "transition": "close", "after": "P2D"},
            {"state": "solved", "transition": "close", "after": "8h", "clock": "business"},
            {"state": "new", "transition": "open", "after": "PT30M", "since": "updated"},
        ]
    return Workflow.from_dict(data)


def workflow_timers(timeline: Timeline, flow: Workflow, after: Any) -> Any:
    """The earliest timed transition after ``after``, read from the workflow itself."""
    if timeline.ticket.category is StatusCategory.CLOSED:
        return None
    due = [d.due_at for d in flow.scheduled_transitions(timeline, CAL)]
    future = [at for at in due if after is None or at > after]
    return min(future) if future else None


@settings(max_examples=100)
@given(timeline=conversation_timelines(), timed=st.booleans(), data=st.data())
def test_next_wakeup_without_time_rules_is_the_workflows_timers(
    timeline: Timeline, timed: bool, data: Any
) -> None:
    flow = workflow(timed)
    rules = data.draw(rule_sets())  # event rules only: no time nor SLA rule
    engine = Automation(rules)
    now = timeline.updated_at + timedelta(minutes=data.draw(st.integers(0, 5000)))
    after = data.draw(st.sampled_from([None, timeline.updated_at, now]))
    env = Environment(workflow=data.draw(st.sampled_from([flow, None])), calendar=CAL)
    expected = None if env.workflow is None else workflow_timers(timeline, flow, after)
    assert engine.next_wakeup(timeline, now=now, after=after, env=env) == expected


CONDITIONS = [
    None,
    "stats.agent_replies == 0",
    'ticket.status == "closed"',
    'stats.notes >= 1 or ticket.priority == "high"',
    "stats.customer_messages > 1",
    'event.kind == "message_added"',
]


@settings(max_examples=150)
@given(events=timelines_events(), data=st.data())
def test_conditions_without_stats_decide_as_with_them(events: list[Any], data: Any) -> None:
    """The ticket's stats are counted only for conditions that read them: the run
    decides what it decides with the stats given to every condition."""
    rules = []
    for index in range(data.draw(st.integers(1, 4))):
        rule: dict[str, Any] = {
            "id": f"r{index}",
            "on": data.draw(st.lists(st.sampled_from(LISTENED), min_size=1, max_size=3)),
            "actions": [{"do": "add_tags", "tags": [f"t{index}"]}],
        }
        condition = data.draw(st.sampled_from(CONDITIONS))
        if condition is not None:
            rule["when"] = condition
        rules.append(rule)
    ruleset = RuleSet.from_dict({"rules": rules})
    engine, reference = Automation(ruleset), Automation(ruleset)
    reference._reads_stats = tuple(True for _ in reference._reads_stats)
    timeline = Timeline(events)
    triggers = list(timeline.events[-data.draw(st.integers(1, len(events))) :])
    now = timeline.updated_at
    assert engine.react(timeline, triggers, now=now) == reference.react(timeline, triggers, now=now)
