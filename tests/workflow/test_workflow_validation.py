"""Validation completeness and safe diagram ids.

Every problem of every item is listed; graph problems come with reference and syntax
problems wherever the graph can still be built; option types are strict; Mermaid and
DOT node ids are unique, valid tokens for any state names.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import WorkflowError
from csmkit.workflow import FormSchema, State, Workflow
from csmkit.workflow._export import DOT_KEYWORDS, MERMAID_RESERVED


def three_states(**extra: Any) -> dict[str, Any]:
    return {
        "name": "w",
        "states": [
            {"name": "a", "category": "new", "initial": True},
            {"name": "b", "category": "open"},
            {"name": "z", "category": "closed"},
        ],
        "transitions": [{"name": "go", "sources": ["a"], "target": "z"}],
        **extra,
    }


def problems(data: Any) -> tuple[str, ...]:
    with pytest.raises(WorkflowError) as info:
        Workflow.from_dict(data)
    assert info.value.problems, "every failure lists its problems"
    return info.value.problems


def test_every_problem_of_one_state_is_listed() -> None:
    data = three_states()
    data["states"][1] = {"name": "b", "category": "nope", "initial": "yes", "description": 3}
    found = problems(data)
    assert any("states[1] 'b'" in p and "category" in p for p in found), found
    assert any("states[1] 'b'" in p and "initial must be true or false" in p for p in found)
    assert any("states[1] 'b'" in p and "description must be text" in p for p in found)


def test_every_problem_of_one_transition_is_listed() -> None:
    data = three_states()
    data["transitions"][0].update(roles="agent", separation="x", condition="ticket.x ==", oops=1)
    found = problems(data)
    for part in ("unknown key(s) 'oops'", "roles must be a list", "separation must be a list"):
        assert any(part in p for p in found), (part, found)
    assert any("condition" in p and "expected a value" in p for p in found), found


def test_every_problem_of_one_timer_is_listed() -> None:
    data = three_states(timed=[{"state": "a", "transition": "go", "after": "P1D"}])
    data["timed"][0].update(clock="moon", since="never")
    found = problems(data)
    assert any("clock must be" in p for p in found) and any("since must be" in p for p in found)


def test_graph_problems_come_with_reference_problems() -> None:
    data = three_states()
    data["transitions"].append({"name": "lost", "sources": ["a"], "target": "nowhere"})
    found = problems(data)
    assert "transitions[1] 'lost'.target: state 'nowhere' is not defined" in found
    assert any("states[1] 'b': unreachable" in p for p in found), found


def test_graph_problems_come_with_syntax_problems() -> None:
    data = three_states()
    data["transitions"][0]["condition"] = "ticket.priority =="
    found = problems(data)
    assert any("condition" in p for p in found)
    assert any("states[1] 'b': unreachable" in p for p in found), found
    assert any("states[1] 'b': no transition leaves it" in p for p in found), found


def test_values_built_directly_report_graph_and_reference_problems_together() -> None:
    with pytest.raises(WorkflowError) as info:
        Workflow(
            name="w",
            states=[
                State(name="a", category="new", initial=True),
                State(name="b", category="open"),
                State(name="z", category="closed"),
            ],
            transitions=[],
            reopen="nowhere",
        )
    found = info.value.problems
    assert "reopen: state 'nowhere' is not defined" in found
    assert any("unreachable" in p for p in found)


def test_empty_sources_is_a_problem() -> None:
    data = three_states()
    data["transitions"][0]["sources"] = []
    assert any("go'.sources: no source state" in p for p in problems(data))


@pytest.mark.parametrize("data", [[], "workflow", None, 3, [("name", "w")]])
def test_a_non_mapping_top_level_lists_a_problem(data: Any) -> None:
    (problem,) = problems(data)
    assert problem.startswith("a workflow must be a dict, got ")


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"fields": [], "allow_unknown": "no"}, "allow_unknown: must be true or false, got 'no'"),
        ({"fields": [], "allow_unknown": 1}, "allow_unknown: must be true or false, got 1"),
        (
            {"fields": [{"name": "x", "type": "text", "required": "no"}]},
            "fields[0]: field 'x': required must be true or false, got 'no'",
        ),
        (
            {"fields": [{"name": "x", "type": "choice", "choices": "ab"}]},
            "fields[0]: field 'x': choices must be a list of texts, got 'ab'",
        ),
        (
            {"fields": [{"name": "x", "type": "text", "description": 5}]},
            "fields[0]: field 'x': description must be text, got 5",
        ),
        ({"fields": [{"name": "x"}]}, "fields[0]: field 'x': missing key(s) ['type']"),
        ({"fields": "x"}, "fields: expected a list, got str 'x'"),
        ([1], "a form must be a dict, got list [1]"),
    ],
)
def test_form_options_are_strict(form: Any, expected: str) -> None:
    with pytest.raises(WorkflowError) as info:
        FormSchema.from_dict(form)
    assert expected in info.value.problems, info.value.problems
    with pytest.raises(WorkflowError) as inside:
        Workflow.from_dict(three_states(form=form))
    assert any(expected in p for p in inside.value.problems), inside.value.problems


def test_form_problems_are_all_listed() -> None:
    form = {
        "fields": [{"name": "x", "type": "text", "required": "no", "oops": 1}],
        "allow_unknown": "yes",
        "extra": True,
    }
    with pytest.raises(WorkflowError) as info:
        FormSchema.from_dict(form)
    assert len(info.value.problems) == 4, info.value.problems


# ------------------------------------------------------------------ diagram ids
MERMAID_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
STATE_LINE = re.compile(r'    state "([^"\n]*)" as (\S+)')
DOT_NODE = re.compile(r"    ([A-Za-z_][A-Za-z0-9_]*) \[label=(\"(?:[^\"\\]|\\\")*\"|<[^<>]*>)[,\]]")


def chain(names: list[str]) -> Workflow:
    cats = ["new"] + ["open"] * (len(names) - 2) + ["closed"]
    return Workflow.from_dict(
        {
            "name": "w",
            "states": [
                {"name": n, "category": c, **({"initial": True} if i == 0 else {})}
                for i, (n, c) in enumerate(zip(names, cats, strict=True))
            ],
            "transitions": [
                {"name": f"t{i}", "sources": [a], "target": b}
                for i, (a, b) in enumerate(itertools.pairwise(names))
            ],
        }
    )


def _check_ids(wf: Workflow) -> None:
    mermaid = wf.to_mermaid()
    found = STATE_LINE.findall(mermaid)
    assert len(found) == len(wf.states)
    ids = [i for _, i in found]
    assert len(set(ids)) == len(ids), ids
    for node in ids:
        assert MERMAID_ID.fullmatch(node) and node.lower() not in MERMAID_RESERVED, node
    body = mermaid.splitlines()[1:]
    assert len(body) == len(mermaid.rstrip("\n").splitlines()) - 1  # no name added a line
    for name, node in zip([s.name for s in wf.states], ids, strict=True):
        assert f"    [*] --> {node}" in mermaid or not wf.state(name).initial
    dot = wf.to_dot()
    nodes = DOT_NODE.findall(dot)
    assert len(nodes) == len(wf.states), dot
    dot_ids = [n for n, _ in nodes]
    assert len(set(dot_ids)) == len(dot_ids)
    assert all(n.lower() not in DOT_KEYWORDS for n in dot_ids)
    assert dot.count("\n") == 3 + len(wf.states) + len(wf.transitions) + 1


def test_colliding_and_reserved_names_get_distinct_safe_ids() -> None:
    names = ["a-b", "a_b", "end", "graph", "s1_", "s0_x", "新建", 'say "hi"', "x\\", "node", "z"]
    _check_ids(chain(names))
    mermaid = chain(names).to_mermaid()
    assert 'state "a_b" as a_b' in mermaid
    assert 'state "新建" as s6_' in mermaid
    assert 'state "say #34;hi#34;" as s7_sayhi' in mermaid
    dot = chain(names).to_dot()
    assert "s8_x [label=<x&#92;>" in dot
    assert 's7_sayhi [label="say \\"hi\\""' in dot


STATE_NAMES = st.text(min_size=1, max_size=8).filter(lambda n: n == n.strip())


@given(st.lists(STATE_NAMES, min_size=2, max_size=6, unique=True))
def test_ids_are_unique_and_valid_for_any_state_names(names: list[str]) -> None:
    _check_ids(chain(names))


def test_timed_data_for_core_attributes_follows_the_timeline_rule() -> None:
    data = three_states(
        timed=[
            {
                "state": "a",
                "transition": "go",
                "after": "P1D",
                "data": {"priority": "bogus", "tags": ["x", ""], "subject": "ok"},
            }
        ]
    )
    found = problems(data)
    assert any(p.startswith("timed[0].data.priority: unknown priority 'bogus'") for p in found)
    assert "timed[0].data.tags[1]: tag '' is not a non-empty string" in found
    assert not any("subject" in p for p in found)


def test_paths_name_the_input_index_when_earlier_items_failed() -> None:
    data = three_states()
    data["transitions"] = [
        {"name": "broken", "sources": ["a"], "target": "z", "condition": "=="},
        {"name": "park", "sources": [], "target": "b"},
        {"name": "park", "sources": ["a"], "target": "b"},
    ]
    data["timed"] = [
        {"state": "a", "transition": "go", "after": "P1D", "clock": "moon"},
        {"state": "a", "transition": "nope", "after": "P1D"},
    ]
    found = problems(data)
    assert "transitions[1] 'park'.sources: no source state (name at least one, or '*')" in found
    assert "transitions[1, 2]: duplicate transition name 'park'" in found
    assert "timed[1].transition: transition 'nope' is not defined" in found
