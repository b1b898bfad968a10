"""Definition, dict form and validation of csmkit.workflow.Workflow."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from csmkit.errors import WorkflowError
from csmkit.timeline import StatusCategory
from csmkit.workflow import (
    Actor,
    State,
    TimedTransition,
    Transition,
    Workflow,
    format_duration,
    parse_duration,
)


def basic() -> dict[str, Any]:
    return {
        "name": "basic",
        "version": 2,
        "states": [
            {
                "name": "new",
                "category": "new",
                "initial": True,
                "labels": {"agent": {"en": "New", "zh": "新建"}, "customer": {"zh": "已受理"}},
            },
            {"name": "open", "category": "open"},
            {"name": "pending", "category": "pending"},
            {"name": "solved", "category": "solved"},
            {"name": "closed", "category": "closed"},
        ],
        "transitions": [
            {"name": "accept", "sources": "new", "target": "open", "roles": ["agent"]},
            {"name": "ask", "sources": ["open"], "target": "pending"},
            {"name": "reply", "sources": "pending", "target": "open"},
            {
                "name": "solve",
                "sources": ["open", "pending"],
                "target": "solved",
                "required": ["resolution"],
                "condition": 'ticket.priority != "low"',
            },
            {"name": "reopen", "sources": "solved", "target": "open"},
            {
                "name": "close",
                "sources": "solved",
                "target": "closed",
                "separation": [{"not_actor_of": ["solve"]}],
                "metadata": {"colour": "grey"},
            },
            {"name": "cancel", "sources": "*", "target": "closed"},
        ],
        "reopen": "open",
        "timed": [{"state": "solved", "transition": "close", "after": "P7D"}],
    }


def problems(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(WorkflowError) as info:
        Workflow.from_dict(data)
    return info.value.problems


def test_round_trip_and_lookups() -> None:
    wf = Workflow.from_dict(basic())
    assert Workflow.from_dict(wf.to_dict()) == wf
    assert wf.to_dict() == Workflow.from_dict(wf.to_dict()).to_dict()
    assert wf.initial.name == "new"
    assert wf.state("solved").category is StatusCategory.SOLVED
    assert wf.state("new").label("zh", "customer") == "已受理"
    assert wf.state("new").label("en", "customer") == "New"  # falls back to agent
    assert wf.state("open").label("zh") == "open"  # falls back to the name
    assert wf.sources_of("cancel") == {"new", "open", "pending", "solved"}
    assert [t.name for t in wf.outgoing("solved")] == ["reopen", "close", "cancel"]
    assert wf.transition("close").metadata["colour"] == "grey"
    assert wf.timed[0].after == timedelta(days=7)


def test_dict_input_is_not_kept() -> None:
    data = basic()
    wf = Workflow.from_dict(data)
    data["states"][0]["labels"]["agent"]["en"] = "changed"
    assert wf.state("new").label() == "New"


def test_built_from_values_equals_dict_form() -> None:
    wf = Workflow(
        name="mini",
        states=(State(name="a", category="new", initial=True), State(name="z", category="closed")),
        transitions=(Transition(name="go", sources="a", target="z"),),
    )
    assert Workflow.from_dict(wf.to_dict()) == wf
    assert wf.to_dict()["transitions"] == [{"name": "go", "sources": ["a"], "target": "z"}]


def test_import_does_not_load_networkx() -> None:
    code = "import sys, csmkit.workflow; print('networkx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_problem_is_reported_at_once() -> None:
    data = basic()
    data["states"].append({"name": "open", "category": "open"})  # duplicate
    data["states"][1]["initial"] = True  # several initial states
    data["transitions"][1]["target"] = "waiting"  # undefined target
    data["transitions"][2]["sources"] = ["pendng"]  # undefined source
    data["transitions"].append({"name": "accept", "sources": "open", "target": "open"})
    data["transitions"][3]["condition"] = "ticket.priority == "  # syntax error
    data["reopen"] = "solved"  # not an open state
    found = problems(data)
    text = "\n".join(found)
    assert "duplicate state name 'open'" in text
    assert "several initial states ['new', 'open']" in text
    assert "transitions[1] 'ask'.target: state 'waiting' is not defined" in text
    assert "transitions[2] 'reply'.sources: state 'pendng' is not defined" in text
    assert "duplicate transition name 'accept'" in text
    assert "transitions[3] 'solve'" in text and "condition" in text
    assert "reopen: state 'solved' has category 'solved'" in text
    assert len(found) >= 7


def test_no_initial_state() -> None:
    data = basic()
    del data["states"][0]["initial"]
    assert any("no initial state" in p for p in problems(data))


def test_unreachable_dead_end_and_no_way_to_end() -> None:
    data = basic()
    data["states"] += [
        {"name": "orphan", "category": "open"},
        {"name": "trap", "category": "on_hold"},
        {"name": "loop_a", "category": "open"},
        {"name": "loop_b", "category": "open"},
    ]
    data["transitions"] += [
        {"name": "park", "sources": "open", "target": "trap"},
        {"name": "to_a", "sources": "pending", "target": "loop_a"},
        {"name": "to_b", "sources": "loop_a", "target": "loop_b"},
        {"name": "back_a", "sources": "loop_b", "target": "loop_a"},
    ]
    # cancel from "*" would rescue everything; restrict it
    data["transitions"][6]["sources"] = ["new"]
    found = problems(data)
    assert "states[5] 'orphan': unreachable from the initial state 'new'" in found
    assert any(p.startswith("states[6] 'trap': no transition leaves it") for p in found)
    assert "states[7] 'loop_a': no path leads from it to a 'solved' or 'closed' state" in found
    assert "states[8] 'loop_b': no path leads from it to a 'solved' or 'closed' state" in found


def test_terminal_states_cannot_be_left_and_star_skips_them() -> None:
    data = basic()
    data["transitions"].append({"name": "unclose", "sources": "closed", "target": "open"})
    assert any("state 'closed' is terminal" in p for p in problems(data))


def test_required_fields_unknown_to_the_form() -> None:
    data = basic()
    data["form"] = {"fields": [{"name": "summary", "type": "text"}]}
    found = problems(data)
    assert "transitions[3] 'solve'.required: field 'resolution' is not in the form" in found


def test_condition_names_must_have_known_roots() -> None:
    data = basic()
    data["transitions"][0]["condition"] = "priority == 'high'"
    assert any("name 'priority' is unknown" in p for p in problems(data))


def test_timed_rules_are_checked() -> None:
    data = basic()
    data["timed"] = [
        {"state": "nowhere", "transition": "close", "after": "P1D"},
        {"state": "open", "transition": "close", "after": "P1D"},
        {"state": "new", "transition": "accept", "after": "PT1H"},
        {"state": "solved", "transition": "close", "after": "1 day"},
    ]
    found = "\n".join(problems(data))
    assert "timed[0].state: state 'nowhere' is not defined" in found
    assert "timed[1].transition: 'close' does not leave state 'open'" in found
    assert "timed[2].transition: 'accept' is limited to roles ['agent']" in found
    assert "timed[3]" in found and "ISO 8601" in found


def test_timed_data_round_trips_and_is_checked() -> None:
    data = basic()
    data["timed"] = [
        {"state": "open", "transition": "solve", "after": "P3D", "data": {"resolution": "自动解决"}}
    ]
    wf = Workflow.from_dict(data)
    (rule,) = wf.timed
    assert rule.data == {"resolution": "自动解决"}
    assert wf.to_dict()["timed"][0]["data"] == {"resolution": "自动解决"}
    assert Workflow.from_dict(wf.to_dict()) == wf
    assert "data" not in Workflow.from_dict(basic()).to_dict()["timed"][0]
    assert TimedTransition(state="a", transition="b", after="P1D", data={"x": [1]}).data == {
        "x": (1,)
    }
    data["timed"] = [
        {"state": "open", "transition": "solve", "after": "P1D", "data": {"status": "x"}},
        {"state": "open", "transition": "solve", "after": "P1D", "data": {"resolution": ""}},
        {"state": "open", "transition": "solve", "after": "P1D", "data": {"r": float("inf")}},
        {"state": "open", "transition": "solve", "after": "P1D", "data": ["resolution"]},
    ]
    found = "\n".join(problems(data))
    assert "timed[0].data.status: data may not write ticket attribute 'status'" in found
    assert "timed[1].data.resolution: required by 'solve' but empty" in found
    assert "timed[2]" in found and "not a finite number" in found
    assert "timed[3]" in found and "must be a mapping" in found
    data["timed"] = [
        {"state": "open", "transition": "solve", "after": "P1D", "data": {"resolution": 3}},
        {"state": "open", "transition": "solve", "after": "P1D", "data": {"colour": "red"}},
    ]
    data["form"] = {"fields": [{"name": "resolution", "type": "text"}]}
    found = "\n".join(problems(data))
    assert "timed[0].data.resolution: expected text, got 3" in found
    assert "timed[1].data.colour: field 'colour' is not in the form" in found


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(version=0), "version: must be an integer >= 1"),
        (lambda d: d.update(name=""), "name: must be a non-empty string"),
        (lambda d: d.update(extra=1), "unknown key(s) 'extra'"),
        (lambda d: d["states"][1].update(category="waiting"), "unknown status category"),
        (lambda d: d["states"][1].update(colour="red"), "unknown key(s) 'colour'"),
        (lambda d: d["transitions"][0].pop("target"), "missing key(s) 'target'"),
        (lambda d: d["transitions"][0].update(roles="agent"), "roles must be a list"),
        (lambda d: d["transitions"][0].update(labels={"agent": "x"}), "expected {language: text}"),
        (lambda d: d["transitions"][5].update(separation=[{"who": 1}]), "unknown key(s)"),
        (
            lambda d: d["transitions"][5].update(separation=[{"not_actor_of": ["nope"]}]),
            "transition 'nope' is not defined",
        ),
        (lambda d: d["transitions"][0].update(metadata={"x": float("nan")}), "not a finite number"),
        (lambda d: d.update(states="new"), "states: expected a list"),
        (lambda d: d["transitions"].append("go"), "expected a dict"),
        (lambda d: d.update(form={"fields": [{"name": "a", "type": "colour"}]}), "unknown type"),
    ],
)
def test_malformed_inputs(mutate: Any, expected: str) -> None:
    data = copy.deepcopy(basic())
    mutate(data)
    assert any(expected in p for p in problems(data)), problems(data)


def test_broken_state_is_not_reported_again_as_undefined() -> None:
    data = basic()
    data["states"][3]["category"] = "done"
    found = problems(data)
    assert not any("'solved' is not defined" in p for p in found)
    assert any("states[3] 'solved'" in p and "unknown status category" in p for p in found)


def test_not_a_dict() -> None:
    with pytest.raises(WorkflowError, match="must be a dict"):
        Workflow.from_dict([])  # type: ignore[arg-type]


def test_values_reject_bad_input() -> None:
    with pytest.raises(WorkflowError):
        State(name=" x", category="open")
    with pytest.raises(WorkflowError):
        Transition(name="t", sources=[""], target="a")
    with pytest.raises(WorkflowError):
        TimedTransition(state="a", transition="t", after=timedelta(0))
    with pytest.raises(WorkflowError):
        TimedTransition(state="a", transition="t", after="P1M")
    with pytest.raises(WorkflowError):
        Actor("")
    with pytest.raises(WorkflowError, match="expected State items"):
        Workflow(name="x", states=({"name": "a"},), transitions=())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "delta", "canonical"),
    [
        ("P7D", timedelta(days=7), "P7D"),
        ("7d", timedelta(days=7), "P7D"),
        ("P1W", timedelta(days=7), "P7D"),
        ("PT4H30M", timedelta(hours=4, minutes=30), "PT4H30M"),
        ("4h30m", timedelta(hours=4, minutes=30), "PT4H30M"),
        ("P1DT12H", timedelta(days=1, hours=12), "P1DT12H"),
        ("PT90S", timedelta(seconds=90), "PT1M30S"),
    ],
)
def test_durations(text: str, delta: timedelta, canonical: str) -> None:
    assert parse_duration(text) == delta
    assert format_duration(delta, iso=True) == canonical
    assert parse_duration(canonical) == delta
    timed = TimedTransition(state="a", transition="t", after=text)
    assert timed.after == delta
    assert timed.to_dict()["after"] == canonical


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "7 days", "P1M", "P1Y", "PT0S", "P-1D"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"TimedTransition\.after"):
        TimedTransition(state="a", transition="t", after=text)
    with pytest.raises(WorkflowError):
        TimedTransition(state="a", transition="t", after=text)


def test_business_timers_are_written_in_hours() -> None:
    timed = {"state": "open", "transition": "close", "after": "P2D", "clock": "business"}
    data = {
        "name": "w",
        "states": [
            {"name": "open", "category": "open", "initial": True},
            {"name": "done", "category": "closed"},
        ],
        "transitions": [{"name": "close", "sources": ["open"], "target": "done"}],
        "timed": [timed],
    }
    with pytest.raises(WorkflowError, match=r"timed\[0\]: after: 'P2D' has a day or week unit"):
        Workflow.from_dict(data)
    timed["after"] = "48h"
    workflow = Workflow.from_dict(data)
    assert workflow.to_dict()["timed"][0]["after"] == "PT48H"
    assert Workflow.from_dict(workflow.to_dict()) == workflow
