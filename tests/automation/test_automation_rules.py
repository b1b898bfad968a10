"""Rules as data: round trips, validation, safe templates, loops and the action cap."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.automation import Automation, RuleSet, TimerIndex, placeholders, render
from csmkit.errors import AutomationError
from csmkit.timeline import ActionFailed, TicketCreated, Timeline

T0 = datetime(2026, 10, 15, 9, 0, tzinfo=timezone.utc)

names = st.text("abcdefgh-", min_size=1, max_size=8).filter(lambda s: s.strip("-") == s)
actions = st.one_of(
    st.builds(lambda v: {"do": "set_priority", "value": v}, st.sampled_from(["low", "high"])),
    st.builds(lambda t: {"do": "add_tags", "tags": t}, st.lists(names, min_size=1, max_size=3)),
    st.builds(lambda g: {"do": "escalate", "level": 2, "group": g}, names),
    st.builds(
        lambda c: {
            "do": "notify",
            "channel": c,
            "to": "{assignee}",
            "template": "{ticket_id}: {subject}",
        },
        names,
    ),
    st.just({"do": "assign"}),
    st.builds(
        lambda g: {"do": "assign", "group": "{customer.region}-" + g, "agent": "{ticket.assignee}"},
        names,
    ),
    st.builds(
        lambda k: {"do": "set_field", "name": "region", "value": {k: ["{customer.tier}", 1]}},
        names,
    ),
)
triggers = st.one_of(
    st.lists(
        st.sampled_from(["created", "message_in", "sla_warning"]),
        min_size=1,
        max_size=2,
        unique=True,
    ),
    st.builds(
        lambda h: {"after": f"{h}h", "since": "created", "clock": "business"}, st.integers(1, 48)
    ),
    st.builds(
        lambda d: {
            "before": f"{d}d",
            "since": "field",
            "field": "warranty_until",
            "clock": "calendar",
            "of": "asset",
        },
        st.integers(1, 90),
    ),
)


@st.composite
def rule_sets(draw: Any) -> dict[str, Any]:
    ids = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    rules = []
    for rule_id in ids:
        on = draw(triggers)
        acts = draw(st.lists(actions, min_size=1, max_size=3))
        if isinstance(on, dict) and on.get("of") == "asset":
            acts = [{"do": "create_ticket", "type": "repair", "subject": "续保 {fields.serial}"}]
        rule: dict[str, Any] = {"id": rule_id, "on": on, "actions": acts}
        if draw(st.booleans()):
            rule["when"] = 'ticket.priority == "urgent"'
        rules.append(rule)
    return {"rules": rules, "max_actions": draw(st.integers(1, 50))}


@given(rule_sets())
def test_round_trip(data: dict[str, Any]) -> None:
    ruleset = RuleSet.from_dict(data)
    assert RuleSet.from_dict(ruleset.to_dict()) == ruleset
    assert RuleSet.from_dict(ruleset.to_dict()).to_dict() == ruleset.to_dict()


def _time_rule(on: dict[str, Any]) -> dict[str, Any]:
    return {"rules": [{"id": "r", "on": on, "actions": [{"do": "assign"}]}]}


@pytest.mark.parametrize(
    ("on", "after"),
    [
        ({"after": "P7D", "since": "updated"}, timedelta(days=7)),
        ({"after": "7d", "since": "updated"}, timedelta(days=7)),
        ({"after": "PT1H30M", "clock": "business"}, timedelta(minutes=90)),
        ({"after": "1h 30m", "clock": "business"}, timedelta(minutes=90)),
        ({"after": "PT48H", "clock": "business"}, timedelta(hours=48)),
    ],
)
def test_time_rules_read_the_one_duration_grammar(on: dict[str, Any], after: timedelta) -> None:
    (rule,) = RuleSet.from_dict(_time_rule(on)).rules
    assert rule.time is not None and rule.time.after == after


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (
            {"after": "2d", "clock": "business"},
            "rules[0] 'r'.on.after: '2d' has a day or week unit",
        ),
        ({"after": "P2D", "clock": "business"}, "'P2D' has a day or week unit"),
        ({"after": "1w", "clock": "business"}, "'1w' has a day or week unit"),
        ({"after": "P1M"}, "'P1M' has years or months"),
        ({"after": "0s"}, "'0s' must be longer than zero"),
        ({"after": "-1h"}, "'-1h' must be longer than zero"),
        ({"after": "soon"}, "'soon' is not a duration: write compact units like '1h30m'"),
    ],
)
def test_bad_time_rule_durations(on: dict[str, Any], message: str) -> None:
    with pytest.raises(AutomationError) as info:
        RuleSet.from_dict(_time_rule(on))
    assert any(message in problem for problem in info.value.problems), info.value.problems


def test_problem_window_reads_both_forms() -> None:
    action = {"do": "open_problem", "by": ["type"], "window": "P30D"}
    data = {"rules": [{"id": "r", "on": "created", "actions": [action]}]}
    assert RuleSet.from_dict(data).rules[0].actions[0].params["window"] == "P30D"
    action["window"] = "30 days"
    with pytest.raises(AutomationError, match=r"actions\[0\]\.window: '30 days' is not a duration"):
        RuleSet.from_dict(data)


def test_every_problem_is_reported_before_anything_runs() -> None:
    data = {
        "rules": [
            {"id": "a", "on": "creatd", "actions": [{"do": "explode"}]},
            {
                "id": "b",
                "on": "created",
                "when": "ticket.colour == 1 and fields.regoin == 2",
                "actions": [
                    {"do": "notify", "channel": "fax", "to": "x", "template": "{ticket.__class__}"},
                    {"do": "set_field", "name": "status", "value": "x"},
                ],
            },
        ]
    }
    with pytest.raises(AutomationError) as info:
        RuleSet.from_dict(data, fields={"region"}, channels={"sms"})
    text = "\n".join(info.value.problems)
    assert "unknown trigger 'creatd'" in text and "unknown action 'explode'" in text
    assert "unknown placeholder {ticket.__class__}" in text
    data["rules"] = data["rules"][1:]
    data["rules"][0]["actions"][0]["template"] = "{ticket_id}"
    with pytest.raises(AutomationError) as info:
        RuleSet.from_dict(data, fields={"region"}, channels={"sms"})
    text = "\n".join(info.value.problems)
    assert "no attribute 'colour'" in text and "unknown field 'regoin'" in text
    assert "unknown outbound channel 'fax'" in text and "'status' has its own action" in text


@pytest.mark.parametrize(
    "template",
    [
        "{0}",
        "{}",
        "{ticket_id!r}",
        "{ticket_id:>99999}",
        "{subject[0]}",
        "{x}",
        "{fields.__dict__}",
        "{",
    ],
)
def test_templates_refuse_everything_but_plain_names(template: str) -> None:
    with pytest.raises(AutomationError):
        placeholders(template)


def test_render_substitutes_only() -> None:
    assert (
        render("{{literal}} {ticket_id} {fields.region}", {"ticket_id": "T", "fields.region": "东"})
        == "{literal} T 东"
    )


def test_loops_between_rules_are_refused() -> None:
    data = {
        "rules": [
            {"id": "a", "on": "field_changed", "actions": [{"do": "escalate"}]},
            {"id": "b", "on": "escalated", "actions": [{"do": "set_priority", "value": "high"}]},
            {"id": "c", "on": "field_changed", "actions": [{"do": "set_priority", "value": "low"}]},
        ]
    }
    with pytest.raises(AutomationError, match=r"loop of rules: a -> b -> a"):
        RuleSet.from_dict(data)


def test_chained_action_cap_stops_the_chain_and_records_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = RuleSet.from_dict(
        {
            "max_actions": 2,
            "rules": [
                {
                    "id": "a",
                    "on": "created",
                    "actions": [
                        {"do": "add_tags", "tags": ["x"]},
                        {"do": "add_tags", "tags": ["y"]},
                        {"do": "add_tags", "tags": ["z"]},
                    ],
                },
            ],
        }
    )
    created = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="phone")
    with caplog.at_level(logging.WARNING, logger="csmkit.automation"):
        outcome = Automation(rules).react(Timeline([created]), [created], now=T0)
    (failed,) = outcome.events  # nothing the chain decided, only the record of the stop
    assert isinstance(failed, ActionFailed)
    assert (failed.rule, failed.action, failed.index, dict(failed.meta)) == (
        "a",
        "add_tags",
        2,
        {"rule": "a"},
    )
    assert "more than 2 chained actions" in failed.reason
    assert outcome.skipped[0].reason == failed.reason
    (record,) = [r for r in caplog.records if "more than 2 chained" in r.getMessage()]
    assert record.name.startswith("csmkit.automation") and "ticket T-1" in record.getMessage()
    Timeline([created, failed])  # it appends cleanly


def test_a_rule_does_not_fire_on_its_own_events() -> None:
    rules = RuleSet.from_dict(
        {
            "rules": [
                {
                    "id": "tag",
                    "on": ["created", "field_changed"],
                    "actions": [{"do": "add_tags", "tags": ["seen"]}],
                },
            ]
        }
    )
    created = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="phone")
    outcome = Automation(rules).react(Timeline([created]), [created], now=T0)
    assert [(e.kind, dict(e.meta)) for e in outcome.events] == [("field_changed", {"rule": "tag"})]


@given(
    st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 100)), max_size=40),
    st.integers(0, 100),
)
def test_timer_index_matches_a_dict(ops: list[tuple[str, int]], cut: int) -> None:
    timers, reference = TimerIndex(), {}
    for ticket, minutes in ops:
        at = T0 + timedelta(minutes=minutes)
        timers.schedule(ticket, at)
        reference[ticket] = at
    now = T0 + timedelta(minutes=cut)
    due = timers.pop_due(now)
    expected = sorted((at, t) for t, at in reference.items() if at <= now)
    assert sorted(due) == sorted(t for _, t in expected)
    assert [reference[t] for t in due] == sorted(reference[t] for t in due)
    assert len(timers) == len(reference) - len(due)


def test_a_queued_time_rule_reports_when_to_retry() -> None:
    from csmkit.automation import Environment
    from csmkit.routing import Agent, AgentPool, Router, RoutingRules

    router = Router(
        RoutingRules.from_dict(
            {
                "rules": [
                    {
                        "name": "regional",
                        "when": "true",
                        "target": "agent.region == ticket.fields.region",
                        "steps": [{"after": "3h", "widen": ["*"]}],
                    }
                ],
                "default": {"strategy": "round_robin"},
            }
        )
    )
    agents = AgentPool([Agent(id="li", name="李工", attributes={"region": "north"})])
    engine = Automation(
        RuleSet.from_dict(
            {
                "rules": [
                    {
                        "id": "late",
                        "on": {"after": "1h", "since": "created"},
                        "actions": [{"do": "assign"}],
                    }
                ]
            }
        )
    )
    created = TicketCreated(
        ticket_id="T-1", at=T0, type="repair", channel="phone", fields={"region": "south"}
    )
    env = Environment(router=router, agents=agents)
    early = engine.wake(Timeline([created]), now=T0 + timedelta(hours=2), env=env)
    assert early.events == () and early.retry_at == T0 + timedelta(hours=3)
    assert early.skipped[0].retry_at == T0 + timedelta(hours=3)
    late = engine.wake(Timeline([created]), now=T0 + timedelta(hours=5), env=env)
    assert [(e.kind, e.at, e.agent) for e in late.events] == [  # type: ignore[attr-defined]
        ("assigned", T0 + timedelta(hours=3), "li")
    ]
    assert late.retry_at is None
