"""``Automation.next_wakeup`` reads the SLA report's instants (a tracker builds no
report for them): its answers equal those of the wake-up computed from the report's
occurrences, on random timelines with some occurrences already answered."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.automation.test_automation_incremental import CAL, ENGINE, POLICY
from tests.strategies import conversation_timelines

from csmkit.automation import Automation, Environment, RuleSet
from csmkit.automation._occurrences import done, occurrences
from csmkit.sla import SlaPolicy, SlaTracker
from csmkit.timeline import ActionFailed, StatusCategory, TicketCreated, Timeline

#: Rules on warnings only, on breaches only, and a time rule (its own keys).
SPLIT = Automation(
    RuleSet.from_dict(
        {
            "rules": [
                {
                    "id": "warned",
                    "on": "sla_warning",
                    "actions": [{"do": "add_tags", "tags": ["w"]}],
                },
                {"id": "late", "on": "sla_breach", "actions": [{"do": "add_tags", "tags": ["b"]}]},
                {
                    "id": "nudge",
                    "on": {"after": "30m", "since": "status", "clock": "business"},
                    "actions": [{"do": "add_tags", "tags": ["n"]}],
                },
            ]
        }
    )
)


def _reference(
    engine: Automation,
    timeline: Timeline,
    now: datetime,
    after: datetime | None,
    env: Environment,
) -> datetime | None:
    """The wake-up as computed before the instants: every occurrence (time and SLA,
    from the report) not yet done, and the report's ``next_event_at``."""
    assert env.sla is not None and env.workflow is None
    instants = [
        o.at
        for o in occurrences(engine._time_rules, engine._sla_rules, timeline, now, env)
        if (after is None or o.at > after) and not done(timeline, o.rule.id, o.keys)
    ]
    if engine._sla_rules:
        report = env.sla.evaluate(timeline, calendar=env.calendar, now=now)
        if report.next_event_at is not None:
            instants.append(report.next_event_at)
    future = [i for i in instants if after is None or i > after]
    return min(future) if future else None


def _answered(
    engine: Automation, timeline: Timeline, now: datetime, env: Environment, data: Any
) -> Timeline:
    """``timeline`` with some of its due occurrences marked done, as a rule's events
    mark them (the rule and the occurrence's keys in ``meta``)."""
    due = list(occurrences(engine._time_rules, engine._sla_rules, timeline, now, env))
    if not due or timeline.ticket.category is StatusCategory.CLOSED:
        return timeline
    chosen = data.draw(st.lists(st.sampled_from(due), max_size=3, unique_by=id))
    marks = [
        ActionFailed(
            ticket_id=timeline.ticket_id,
            at=timeline.updated_at,
            actor="system",
            meta={"rule": o.rule.id, **o.keys},
            rule=o.rule.id,
            action="add_tags",
            index=0,
            reason="test",
        )
        for o in chosen
    ]
    return timeline.append(*marks) if marks else timeline


@settings(max_examples=60)
@given(data=st.data(), split=st.booleans())
def test_wakeups_from_the_instants_equal_those_from_the_reports_occurrences(
    data: Any, split: bool
) -> None:
    engine = SPLIT if split else ENGINE
    full = data.draw(conversation_timelines(max_events=12))
    tracker = SlaTracker(POLICY)
    scratch = Environment(sla=POLICY, calendar=CAL)
    incremental = Environment(sla=tracker, calendar=CAL)
    timeline = Timeline(full.events[:1])
    for event in [None, *full.events[1:]]:
        if event is not None:
            timeline = timeline.append(event)
        now = timeline.updated_at + timedelta(minutes=data.draw(st.sampled_from([0, 1, 90, 3000])))
        timeline = _answered(engine, timeline, now, scratch, data)
        report = POLICY.evaluate(timeline, calendar=CAL, now=now)
        crossed = [c.at for c in report.instants().crossings]
        after = data.draw(st.sampled_from([None, timeline.updated_at, now, *crossed]))
        expected = _reference(engine, timeline, now, after, scratch)
        for env in (incremental, scratch):
            assert engine.next_wakeup(timeline, now=now, after=after, env=env) == expected


def test_a_policy_with_warnings_wakes_for_the_first_unanswered_one() -> None:
    """One worked case: a wall-clock 4 h goal warned at 50 % and 75 %, the 50 % one
    answered: woken for the 75 % one (3 h), then, after it, for the breach (4 h)."""
    policy = SlaPolicy.from_dict(
        {
            "name": "w",
            "targets": {
                "resolution": {
                    "goals": {"normal": "4h"},
                    "warnings": [0.5, 0.75],
                    "business": False,
                }
            },
        }
    )
    env = Environment(sla=SlaTracker(policy))
    sla_only = Automation(RuleSet(SPLIT.rules.rules[:2]))
    start = datetime.fromisoformat("2026-09-14T10:00:00+08:00")
    timeline = Timeline([TicketCreated(ticket_id="T-1", at=start, type="repair", channel="email")])
    now = start + timedelta(hours=2, minutes=30)
    mark = ActionFailed(
        ticket_id=timeline.ticket_id,
        at=now,
        actor="system",
        meta={"rule": "warned", "sla": "resolution", "cycle": 1, "fraction": 0.5},
        rule="warned",
        action="add_tags",
        index=0,
        reason="test",
    )
    answered = timeline.append(mark)
    assert sla_only.next_wakeup(answered, now=now, after=None, env=env) == start + timedelta(
        hours=3
    )
    later = start + timedelta(hours=3)
    assert sla_only.next_wakeup(answered, now=later, after=later, env=env) == start + timedelta(
        hours=4
    )
    # unanswered, the 50 % warning (2 h) is still to be woken for by a restarted scheduler
    assert sla_only.next_wakeup(timeline, now=now, after=None, env=env) == start + timedelta(
        hours=2
    )
