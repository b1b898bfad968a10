"""Wake-ups and wake runs with an incremental SLA (``SlaTracker``) equal those with
the policy evaluated from scratch, on random timelines at random instants."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import conversation_timelines

from csmkit.automation import Automation, Environment, RuleSet
from csmkit.sla import BusinessCalendar, SlaPolicy, SlaTracker
from csmkit.timeline import TicketCreated, Timeline

CAL = BusinessCalendar.from_dict(
    {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}
)
POLICY = SlaPolicy.from_dict(
    {
        "name": "p",
        "targets": {
            "first_response": {"goals": {"normal": "2h", "high": "1h"}, "warnings": [0.5]},
            "next_response": {"goals": {"normal": "4h"}},
            "resolution": {"goals": {"normal": "16h", "high": "8h"}, "warnings": [0.5, 0.75]},
        },
    }
)
ENGINE = Automation(
    RuleSet.from_dict(
        {
            "rules": [
                {
                    "id": "warn",
                    "on": ["sla_warning", "sla_breach"],
                    "actions": [{"do": "add_tags", "tags": ["late"]}],
                },
                {
                    "id": "nudge",
                    "on": {"after": "1h", "since": "created", "clock": "business"},
                    "when": "stats.agent_replies == 0",
                    "actions": [{"do": "add_tags", "tags": ["nudged"]}],
                },
            ]
        }
    )
)


@settings(max_examples=40)
@given(data=st.data())
def test_wakeups_with_a_tracker_equal_those_from_scratch(data: Any) -> None:
    full = data.draw(conversation_timelines(max_events=12))
    tracker = SlaTracker(POLICY)
    scratch = Environment(sla=POLICY, calendar=CAL)
    incremental = Environment(sla=tracker, calendar=CAL)
    timeline = Timeline(full.events[:1])
    for event in [None, *full.events[1:]]:
        if event is not None:
            timeline = timeline.append(event)
        now = timeline.updated_at + timedelta(minutes=data.draw(st.integers(0, 3000)))
        after = data.draw(st.sampled_from([None, timeline.updated_at]))
        assert ENGINE.next_wakeup(
            timeline, now=now, after=after, env=incremental
        ) == ENGINE.next_wakeup(timeline, now=now, after=after, env=scratch)
        assert ENGINE.wake(timeline, now=now, env=incremental) == ENGINE.wake(
            timeline, now=now, env=scratch
        )


#: Another calendar (another zone, other hours): the same rule and anchor fall due
#: at another instant, which a remembered instant must not hide.
OTHER = BusinessCalendar.from_dict(
    {"timezone": "Europe/Berlin", "week": {"mon-sat": ["07:00-11:00", "14:00-20:00"]}}
)


@settings(max_examples=40)
@given(data=st.data())
def test_remembered_rule_instants_equal_fresh_ones(data: Any) -> None:
    """One engine asked many times (its business-time instants remembered) answers
    as a new engine does, whichever calendar each call brings."""
    kept = Automation(ENGINE.rules)
    full = data.draw(conversation_timelines(max_events=10))
    timeline = Timeline(full.events[:1])
    for event in [None, *full.events[1:]]:
        if event is not None:
            timeline = timeline.append(event)
        now = timeline.updated_at + timedelta(minutes=data.draw(st.integers(0, 3000)))
        for calendar in data.draw(st.permutations([CAL, OTHER, CAL])):
            env = Environment(sla=POLICY, calendar=calendar)
            fresh = Automation(ENGINE.rules)
            assert kept.next_wakeup(timeline, now=now, env=env) == fresh.next_wakeup(
                timeline, now=now, env=env
            )
            assert kept.wake(timeline, now=now, env=env) == fresh.wake(timeline, now=now, env=env)


def test_the_two_calendars_give_a_rule_two_instants() -> None:
    """The test above can tell a stale instant: the calendars disagree on "nudge"."""
    at = datetime(2026, 10, 14, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    created = TicketCreated(ticket_id="T-1", at=at, type="repair", channel="email")
    timeline = Timeline([created])
    engine = Automation(RuleSet.from_dict({"rules": [ENGINE.rules.rules[1].to_dict()]}))
    answers = {
        engine.next_wakeup(timeline, now=created.at, env=Environment(calendar=calendar))
        for calendar in (CAL, OTHER, CAL)
    }
    assert len(answers) == 2
