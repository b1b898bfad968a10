"""Rules round trips and escalation in business time (Mon–Fri 09:00–18:00, Shanghai)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.errors import RoutingError
from csmkit.routing import Agent, AgentPool, Router, RoutingRules, RoutingState, WorkQueue
from csmkit.timeline import Ticket, TicketCreated

SH = ZoneInfo("Asia/Shanghai")


class OfficeCalendar:
    """Mon–Fri 09:00–18:00 Asia/Shanghai; ``add`` walks day windows, plainly."""

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(SH)
        return local.weekday() < 5 and 9 <= local.hour < 18

    def add(self, at: datetime, delta: timedelta) -> datetime:
        current, remaining = at.astimezone(SH), delta
        while True:
            if not self.is_open(current):
                opening = current.replace(hour=9, minute=0, second=0, microsecond=0)
                if current.hour >= 9:
                    opening += timedelta(days=1)
                while opening.weekday() >= 5:
                    opening += timedelta(days=1)
                current = opening
            closing = current.replace(hour=18, minute=0, second=0, microsecond=0)
            if remaining <= closing - current:
                return current + remaining
            remaining -= closing - current
            current = closing


CAL = OfficeCalendar()


def business_minutes(start: datetime, end: datetime) -> int:
    """Reference: count the open minutes between two whole-minute instants one by one."""
    count, current = 0, start
    while current < end:
        count += CAL.is_open(current)
        current += timedelta(minutes=1)
    return count


def ticket_at(at: datetime, *, region: str = "east") -> Ticket:
    return Ticket.created(
        TicketCreated(
            ticket_id="T1",
            at=at,
            type="repair",
            channel="phone",
            priority="urgent",
            fields={"region": region},
            customer_id="c1",
        )
    )


ARTICLE = {
    "rules": [
        {
            "name": "urgent-repair",
            "when": 'ticket.type == "repair" and ticket.priority >= "high"',
            "group": "engineers",
            "target": "agent.skills.hvac >= 3 and agent.region == ticket.fields.region "
            'and agent.tier == "senior"',
            "strategy": "least_loaded",
            "steps": [
                {"after": "30m", "widen": ["agent.region"]},
                {"after": "2h", "group": "supervisors", "widen": ["*"], "priority": "urgent"},
            ],
        }
    ],
    "default": {"strategy": "round_robin"},
}


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2026, 10, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=SH)
    ),
    first=st.integers(1, 600),
    gap=st.integers(1, 900),
)
def test_steps_fire_at_exactly_the_business_time_instants(
    start: datetime, first: int, gap: int
) -> None:
    rules = RoutingRules.from_dict(
        {
            "default": {
                "steps": [
                    {"after": f"{first}m", "group": "tier2"},
                    {"after": f"{first + gap}m", "group": "tier3"},
                ]
            }
        }
    )
    router = Router(rules, calendar=CAL)
    ticket = ticket_at(start)
    instants = router.escalation_instants(rules.default, start)
    for instant, minutes in zip(instants, (first, first + gap), strict=True):
        assert business_minutes(start, instant) == minutes
        assert business_minutes(start, instant - timedelta(minutes=1)) == minutes - 1
    for k, instant in enumerate(instants, start=1):
        before = router.route(ticket, [], RoutingState(), instant - timedelta(microseconds=1))
        at = router.route(ticket, [], RoutingState(), instant)
        assert (before.step, at.step) == (k - 1, k)
        assert before.next_escalation_at == instant
    assert router.route(ticket, [], RoutingState(), instants[-1]).next_escalation_at is None


def test_article_scenario_escalates_after_two_business_hours() -> None:
    router = Router(RoutingRules.from_dict(ARTICLE), calendar=CAL)
    agents = AgentPool(
        [
            Agent(
                id="e-north",
                groups=["engineers"],
                skills={"hvac": 4},
                attributes={"region": "north", "tier": "senior"},
                capacity={"phone": 1},
            ),
            Agent(
                id="e-east",
                groups=["engineers"],
                skills={"hvac": 4},
                attributes={"region": "east", "tier": "senior"},
                capacity={"phone": 1},
            ),
            Agent(
                id="boss",
                groups=["supervisors"],
                attributes={"region": "east"},
                capacity={"phone": 3},
            ),
        ]
    )
    friday_1700 = datetime(2026, 10, 9, 17, 0, tzinfo=SH)
    ticket = ticket_at(friday_1700)
    busy = RoutingState().with_load("e-east", "phone", 1).with_load("e-north", "phone", 1)
    first = router.route(ticket, agents, busy, friday_1700)
    assert first.outcome == "queued"
    assert first.next_escalation_at == datetime(2026, 10, 9, 17, 30, tzinfo=SH)
    widened = router.route(ticket, agents, busy, datetime(2026, 10, 9, 17, 45, tzinfo=SH))
    assert widened.step == 1
    assert widened.next_escalation_at == datetime(2026, 10, 12, 10, 0, tzinfo=SH)  # Monday
    saturday = router.route(ticket, agents, busy, datetime(2026, 10, 10, 12, tzinfo=SH))
    assert saturday.step == 1  # weekend minutes are not business time
    monday = router.route(ticket, agents, busy, datetime(2026, 10, 12, 10, 0, tzinfo=SH))
    assert (monday.step, monday.agent, monday.group, monday.priority) == (
        2,
        "boss",
        "supervisors",
        "urgent",
    )


def test_shift_calendar_excludes_off_shift_agents() -> None:
    router = Router(RoutingRules.from_dict({"default": {"strategy": "least_loaded"}}))
    agents = [Agent(id="day", capacity=2, shift=CAL, shift_name="office")]
    saturday = datetime(2026, 10, 10, 12, tzinfo=SH)
    decision = router.route(ticket_at(saturday), agents, RoutingState(), saturday)
    assert decision.verdict("day").removed_by == "shift"  # type: ignore[union-attr]
    assert "'office' is closed" in decision.verdict("day").reason  # type: ignore[union-attr]
    queue = WorkQueue().add(ticket_at(saturday), at=saturday)
    assert queue.next_for(agents[0], saturday) is None
    monday = datetime(2026, 10, 12, 9, tzinfo=SH)
    assert router.route(ticket_at(saturday), agents, RoutingState(), monday).agent == "day"


CONDITIONS = st.sampled_from(
    [
        "agent.skills.hvac >= 3",
        "agent.region == ticket.fields.region",
        '"x" in agent.groups',
        'agent.tier in ["senior", "lead"]',
        "not agent.attributes.trainee",
    ]
)


@st.composite
def rule_dicts(draw: st.DrawFn, name: str, default: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": name}
    if not default:
        rule["when"] = draw(
            st.sampled_from(
                ['ticket.type == "repair"', 'ticket.priority >= "high"', "ticket.fields.vip"]
            )
        )
    if draw(st.booleans()):
        rule["group"] = draw(st.sampled_from(["field", "desk"]))
    if draw(st.booleans()):
        rule["target"] = draw(CONDITIONS)
    rule["strategy"] = draw(
        st.sampled_from(
            [
                "round_robin",
                "least_loaded",
                "best_skill",
                "most_spare_capacity",
                {"name": "random", "seed": 3},
                {"name": "sticky", "fallback": "best_skill"},
            ]
        )
    )
    minutes = sorted(draw(st.sets(st.integers(1, 5000), max_size=3)))
    steps = []
    for m in minutes:
        step: dict[str, Any] = {"after": f"{m}m"}
        choice = draw(st.sampled_from(["target", "widen", "group", "priority", "strategy"]))
        step[choice] = {
            "target": draw(CONDITIONS),
            "widen": ["agent.region"],
            "group": "supervisors",
            "priority": "urgent",
            "strategy": "least_loaded",
        }[choice]
        steps.append(step)
    if steps:
        rule["steps"] = steps
    return rule


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(0, 3))
def test_rules_round_trip(data: st.DataObject, n: int) -> None:
    raw = {
        "rules": [data.draw(rule_dicts(f"r{i}", default=False)) for i in range(n)],
        "default": data.draw(rule_dicts("fallback", default=True)),
    }
    rules = RoutingRules.from_dict(raw)
    again = RoutingRules.from_dict(rules.to_dict())
    assert again == rules
    assert again.to_dict() == rules.to_dict()


def test_escalation_steps_read_the_one_duration_grammar() -> None:
    def steps(*afters: str) -> RoutingRules:
        return RoutingRules.from_dict(
            {
                "default": {
                    "strategy": "round_robin",
                    "steps": [{"after": a, "group": "g"} for a in afters],
                }
            }
        )

    compact, iso = steps("30m", "1h30m", "48h"), steps("PT30M", "PT1H30M", "PT48H")
    assert compact == iso
    assert [s["after"] for s in iso.to_dict()["default"]["steps"]] == ["30m", "1h30m", "48h"]
    for text, message in (
        ("P1D", "'P1D' has a day or week unit, but this counts business time"),
        ("2d", "'2d' has a day or week unit"),
        ("0s", "'0s' must be longer than zero"),
        ("half an hour", "'half an hour' is not a duration: write compact units like '1h30m'"),
    ):
        with pytest.raises(RoutingError, match=re.escape(f"default.steps[0].after: {message}")):
            steps(text)
