"""SLA policies: dict form, selection by conditions, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import CsmkitError, SlaPolicyError
from csmkit.sla import (
    DEFAULT_WARNINGS,
    TARGET_NAMES,
    SlaPolicy,
    SlaPolicySet,
    SlaTarget,
)
from csmkit.timeline import Priority, StatusCategory, TicketCreated, Timeline

T0 = datetime(2026, 9, 14, 10, tzinfo=timezone.utc)


def ticket(**kw: Any) -> Timeline:
    created = TicketCreated(
        ticket_id="T-9", at=T0, type=kw.pop("type", "repair"), channel="phone", **kw
    )
    return Timeline([created])


def test_defaults_are_filled_in():
    policy = SlaPolicy.from_dict(
        {
            "name": "p",
            "targets": {
                "resolution": {"goals": {"high": "8h", "urgent": "4h"}},
                "first_response": {"goals": {"high": "1h30m"}},
            },
        }
    )
    resolution = policy.target("resolution")
    assert resolution is not None
    assert resolution.warnings == DEFAULT_WARNINGS == (0.5, 0.75)
    assert resolution.pause == {StatusCategory.PENDING, StatusCategory.ON_HOLD}
    assert resolution.business is True
    assert resolution.goal_for("urgent") == timedelta(hours=4)
    assert resolution.goal_for(Priority.LOW) is None
    first = policy.target("first_response")
    assert first is not None and first.pause == frozenset()
    assert first.goal_for("high") == timedelta(minutes=90)
    assert policy.to_dict()["targets"]["first_response"]["goals"] == {"high": "1h30m"}


def test_goals_read_the_one_duration_grammar():
    policy = SlaPolicy.from_dict(
        {
            "name": "p",
            "targets": {
                "first_response": {"goals": {"high": "PT1H30M", "low": "1h 30m", "urgent": "1.5s"}},
                "resolution": {"goals": {"high": "P2D", "low": "1w"}, "business": False},
            },
        }
    )
    first, resolution = policy.target("first_response"), policy.target("resolution")
    assert first is not None and resolution is not None
    assert first.goal_for("high") == first.goal_for("low") == timedelta(minutes=90)
    assert first.goal_for("urgent") == timedelta(seconds=1.5)
    assert resolution.goal_for("high") == timedelta(days=2)
    assert resolution.to_dict()["goals"] == {"high": "48h", "low": "168h"}
    assert first.to_dict()["goals"]["urgent"] == "1.5s"
    assert SlaPolicy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"goals": {"high": "0m"}}, "targets.resolution.goals.high: '0m' must be longer"),
        ({"goals": {"high": "-1h"}}, "targets.resolution.goals.high: '-1h' must be longer"),
        ({"goals": {"high": "--1h"}}, "targets.resolution.goals.high: '--1h' is not a duration"),
        ({"goals": {"high": timedelta(hours=-2)}}, "must be longer than zero"),
        ({"goals": {"high": "2d"}}, "goals.high: '2d' has a day or week unit, but this counts"),
        ({"goals": {"high": "P1D"}, "business": True}, "business time"),
        ({"goals": {"high": "P1M"}}, "goals.high: 'P1M' has years or months"),
        ({"goals": {"high": "4 hours"}}, "is not a duration"),
        ({"goals": {"critical": "4h"}}, "targets.resolution.goals.critical: unknown priority"),
        ({"goals": {}}, "targets.resolution.goals: expected"),
        (
            {"goals": {"high": "4h"}, "warnings": [0.5, 1.0]},
            "targets.resolution.warnings[1]: 1.0 is not a fraction strictly between 0 and 1",
        ),
        ({"goals": {"high": "4h"}, "warnings": [0]}, "warnings[0]: 0 is not a fraction"),
        ({"goals": {"high": "4h"}, "warnings": [-0.2]}, "warnings[0]: -0.2"),
        ({"goals": {"high": "4h"}, "warnings": [True]}, "warnings[0]: True"),
        ({"goals": {"high": "4h"}, "pause": ["solved"]}, "pause[0]: 'solved' cannot pause"),
        ({"goals": {"high": "4h"}, "pause": ["waiting"]}, "unknown status category 'waiting'"),
        ({"goals": {"high": "4h"}, "business": "yes"}, "business: expected true or false"),
        ({"goals": {"high": "4h"}, "hours": 3}, "targets.resolution.hours: unknown key"),
    ],
)
def test_bad_targets(target: dict[str, Any], message: str):
    with pytest.raises(SlaPolicyError) as info:
        SlaPolicy.from_dict({"name": "p", "targets": {"resolution": target}})
    assert message in str(info.value)
    assert isinstance(info.value, (ValueError, CsmkitError))


def test_bad_policies_collect_every_problem():
    with pytest.raises(SlaPolicyError) as info:
        SlaPolicySet.from_dict(
            {
                "policies": [
                    {"name": "a", "when": "priority ==", "targets": {"first_reply": {}}},
                    {"name": "", "targets": {"resolution": {"goals": {"high": "0s"}}}},
                ]
            }
        )
    text = str(info.value)
    for part in (
        "policies[0].when",
        "policies[0].targets.first_reply: unknown target",
        "policies[1].name",
        "policies[1].targets.resolution.goals.high",
    ):
        assert part in text


def test_direct_construction_is_validated():
    with pytest.raises(SlaPolicyError, match="not a positive duration"):
        SlaTarget(name="resolution", goals=((Priority.HIGH, timedelta(0)),))
    with pytest.raises(SlaPolicyError, match="strictly between 0 and 1"):
        SlaTarget(name="resolution", goals=((Priority.HIGH, timedelta(hours=1)),), warnings=(1.5,))
    target = SlaTarget(name="resolution", goals=((Priority.HIGH, timedelta(hours=1)),))
    with pytest.raises(SlaPolicyError, match="given twice"):
        SlaPolicy(name="p", targets=(target, target))
    policy = SlaPolicy(name="p", targets=(target,))
    with pytest.raises(SlaPolicyError, match="only one default"):
        SlaPolicySet(policies=(policy, SlaPolicy(name="q", targets=(target,))))


POLICIES = SlaPolicySet.from_dict(
    {
        "policies": [
            {
                "name": "default",
                "targets": {"resolution": {"goals": {"normal": "24h"}, "business": False}},
            },
            {
                "name": "vip",
                "when": 'customer_id in ["c-1", "c-2"]',
                "targets": {"resolution": {"goals": {"normal": "4h"}, "business": False}},
            },
            {
                "name": "complaints",
                "when": 'ticket.type == "complaint"',
                "targets": {"resolution": {"goals": {"normal": "8h"}, "business": False}},
            },
        ]
    }
)


def test_first_matching_policy_wins_and_default_is_last():
    assert POLICIES.select(ticket(customer_id="c-1", type="complaint").ticket).name == "vip"
    assert POLICIES.select(ticket(type="complaint").ticket).name == "complaints"
    assert POLICIES.select(ticket().ticket).name == "default"  # type: ignore[union-attr]
    report = POLICIES.evaluate(ticket(customer_id="c-2"), now=T0 + timedelta(hours=1))
    assert report.policy == "vip"
    assert report.current("resolution").due_at == T0 + timedelta(hours=4)  # type: ignore[union-attr]


def test_no_matching_policy_gives_an_empty_report():
    only_vip = SlaPolicySet(policies=(POLICIES.policies[1],))
    report = only_vip.evaluate(ticket(), now=T0)
    assert (report.policy, report.cycles, report.next_event_at) == (None, (), None)
    with pytest.raises(SlaPolicyError, match="now"):
        only_vip.evaluate(ticket(), now=T0 - timedelta(seconds=1))


def test_policy_set_round_trip():
    assert SlaPolicySet.from_dict(POLICIES.to_dict()) == POLICIES


durations = st.integers(1, 500 * 3600).map(lambda s: timedelta(seconds=s))
targets = st.builds(
    lambda name, goals, business, warnings, pause: SlaTarget(
        name=name,
        goals=tuple(sorted(goals.items(), key=lambda kv: kv[0].rank)),
        business=business,
        warnings=tuple(sorted(warnings)),
        pause=frozenset(pause),
    ),
    st.sampled_from(TARGET_NAMES),
    st.dictionaries(st.sampled_from(list(Priority)), durations, min_size=1),
    st.booleans(),
    st.sets(st.floats(0.01, 0.99, allow_nan=False), max_size=4),
    st.sets(st.sampled_from(["new", "open", "pending", "on_hold"]).map(StatusCategory)),
)


@given(
    st.lists(targets, min_size=1, max_size=4, unique_by=lambda t: t.name),
    st.sampled_from([None, 'priority >= "high"', 'type == "repair" and not fields.vip']),
)
def test_policy_round_trip(items: list[SlaTarget], when: str | None):
    data: dict[str, Any] = {"name": "generated", "targets": {t.name: t.to_dict() for t in items}}
    if when is not None:
        data["when"] = when
    policy = SlaPolicy.from_dict(data)
    assert policy.targets == tuple(items)
    assert SlaPolicy.from_dict(policy.to_dict()) == policy
    assert policy.to_dict() == SlaPolicy.from_dict(policy.to_dict()).to_dict()
