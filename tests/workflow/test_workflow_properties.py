"""Hypothesis properties: dict round trips, fire never leaves the graph, check ≡ fire ≡ available.

One transition engine: ``check``, ``fire`` and ``available`` agree for every input.

The documented rule: ``available`` lists a transition exactly when ``check`` finds no
reason other than ``missing_field`` (the UI collects required fields on the click), so
with the same data a transition is available and has no missing field exactly when
``fire`` succeeds, and ``fire`` succeeds exactly when ``check`` allows it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import TransitionNotAllowed, WorkflowError
from csmkit.timeline import Ticket, Timeline
from csmkit.workflow import REASON_CODES, Actor, Workflow
from csmkit.workflow._engine import check_data
from csmkit.workflow._execute import reference_fire_events

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
ROLES = ["agent", "engineer", "supervisor"]
CONDITIONS = [None, 'ticket.priority != "low"', "fields.count > 1", 'actor.id != "bot"']
MIDDLE = ["open", "pending", "on_hold", "solved"]


@st.composite
def workflows(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(min_value=2, max_value=7))
    names = [f"s{i}" for i in range(n)]
    cats = ["new"] + [draw(st.sampled_from(MIDDLE)) for _ in range(n - 2)] + ["closed"]
    states = []
    for name, cat in zip(names, cats, strict=True):
        state: dict[str, Any] = {"name": name, "category": cat}
        if name == "s0":
            state["initial"] = True
        if draw(st.booleans()):
            state["labels"] = {"agent": {"en": name.upper(), "zh": f"状态{name}"}}
        if draw(st.booleans()):
            state["description"] = draw(st.text(max_size=10))
        states.append(state)
    edges = [(names[i], names[i + 1]) for i in range(n - 1)]  # a chain: all reachable, all end
    extra = draw(
        st.lists(st.tuples(st.sampled_from(names[:-1]), st.sampled_from(names)), max_size=6)
    )
    edges += extra
    transitions = []
    for i, (src, dst) in enumerate(edges):
        t: dict[str, Any] = {"name": f"t{i}", "sources": src, "target": dst}
        if draw(st.booleans()):
            t["sources"] = [src]
        roles = draw(st.lists(st.sampled_from(ROLES), unique=True, max_size=2))
        if roles:
            t["roles"] = sorted(roles)
        cond = draw(st.sampled_from(CONDITIONS))
        if cond:
            t["condition"] = cond
        if draw(st.booleans()):
            t["required"] = draw(st.lists(st.sampled_from(["a", "b"]), unique=True, min_size=1))
        if draw(st.booleans()):
            t["labels"] = {"agent": {"zh": f"动作{i}"}, "customer": {"en": f"do {i}"}}
        if draw(st.booleans()):
            t["metadata"] = {"order": i, "tags": ["x"], "nested": {"k": None}}
        transitions.append(t)
    if n > 2 and draw(st.booleans()):
        transitions.append({"name": "cancel", "sources": "*", "target": names[-1]})
    data: dict[str, Any] = {
        "name": "w",
        "version": draw(st.integers(1, 5)),
        "states": states,
        "transitions": transitions,
    }
    opens = [s["name"] for s in states if s["category"] == "open"]
    if opens and draw(st.booleans()):
        data["reopen"] = opens[0]
    middle = [
        (tr["name"], tr["sources"])
        for tr in transitions
        if "roles" not in tr and tr["sources"] != "*"
    ]
    if middle and draw(st.booleans()):
        name, src = middle[0]
        src = src if isinstance(src, str) else src[0]
        clock = draw(st.sampled_from(["calendar", "business"]))
        # business time is written in hours (a business day would be ambiguous)
        afters = ["PT48H", "4h", "PT1H30M"] if clock == "business" else ["P7D", "4h", "P1DT30M"]
        data["timed"] = [
            {
                "state": src,
                "transition": name,
                "after": draw(st.sampled_from(afters)),
                "clock": clock,
            }
        ]
        timed_data = draw(
            st.dictionaries(
                st.sampled_from(["a", "b", "note"]),
                st.one_of(
                    st.text(min_size=1, max_size=5),
                    st.integers(),
                    st.lists(st.booleans(), min_size=1),
                ),
                max_size=2,
            )
        )
        if timed_data:
            data["timed"][0]["data"] = timed_data
    return data


@given(workflows())
def test_valid_workflows_round_trip(data: dict[str, Any]) -> None:
    wf = Workflow.from_dict(data)
    dumped = wf.to_dict()
    again = Workflow.from_dict(dumped)
    assert again == wf
    assert again.to_dict() == dumped


ACTORS = [
    Actor("a1", {"agent"}),
    Actor("e1", {"engineer"}),
    Actor("bot", set(ROLES)),
    Actor("s1", {"supervisor", "agent"}),
    Actor("nobody"),
]
DATA = [None, {"a": "x"}, {"a": "x", "b": 1}, {"count": 5}, {"count": "many"}, {"b": None}]


@given(
    workflows(),
    st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from(ACTORS), st.sampled_from(DATA)), max_size=25
    ),
    st.sampled_from(["low", "normal", "urgent"]),
)
def test_fire_stays_in_graph_and_agrees_with_check(
    data: dict[str, Any], steps: list[tuple[int, Actor, Any]], priority: str
) -> None:
    wf = Workflow.from_dict(data)
    graph = wf.to_networkx()
    names = [t.name for t in wf.transitions] + ["nonexistent"]
    created = wf.created_event(ticket_id="T", at=T0, type="x", channel="web", priority=priority)
    timeline = Timeline([created])
    for i, (index, actor, payload) in enumerate(steps):
        name = names[index % len(names)]
        before = timeline.ticket
        snapshot = (before.status, dict(before.fields), before.version)
        verdict = wf.check(timeline, name, actor=actor, data=payload)
        try:
            ticket, events = wf.fire(
                timeline, name, actor=actor, at=T0 + timedelta(minutes=i), data=payload
            )
        except TransitionNotAllowed as exc:
            assert not verdict
            assert exc.verdict == verdict
            assert (before.status, dict(before.fields), before.version) == snapshot
            continue
        assert verdict, verdict.explain()
        reference = reference_fire_events(
            before,
            name,
            wf.state(wf.transition(name).target),
            actor=actor.id,
            at=T0 + timedelta(minutes=i),
            data=check_data(wf.form, payload or {})[0],
            reason=None,
        )
        assert (ticket, events) == reference
        assert graph.has_edge(before.status, ticket.status, key=name)
        assert ticket.status in graph.nodes
        timeline = timeline.append(*events)
        assert timeline.ticket == ticket  # fast path == reference fold
        assert isinstance(ticket, Ticket)
    if timeline.ticket.status in graph.nodes and graph.nodes[timeline.ticket.status]["terminal"]:
        assert wf.outgoing(timeline.ticket.status) == ()


# ---------------------------------------------------------------- one transition engine
ENGINE_ACTORS = [
    Actor("a1", {"agent"}),
    Actor("e1", {"engineer"}),
    Actor("bot", {"agent", "engineer", "supervisor"}),
    Actor("nobody"),
]
VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", "x", "low", "normal", "urgent", "bogus", "vip"]),
    st.integers(-2, 7),
    st.lists(st.sampled_from(["", "a", "b"]), max_size=3),
)
KEYS = st.sampled_from(
    ["a", "b", "count", "note", "priority", "subject", "customer_id", "type", "tags"]
    + ["status", "assignee", "", "fields"]
)
ENGINE_DATA = st.one_of(
    st.none(),
    st.dictionaries(KEYS, VALUES, max_size=4),
    st.just(["a"]),
    st.just({1: "x"}),
)
FIELDS = st.dictionaries(st.sampled_from(["a", "b", "count"]), st.one_of(st.integers(), st.text()))
FORM = {
    "fields": [
        {"name": "a", "type": "text"},
        {"name": "b", "type": "number", "min": 0},
        {"name": "count", "type": "number"},
    ]
}


@st.composite
def definitions(draw: st.DrawFn) -> Workflow:
    data = draw(workflows())
    transitions = data["transitions"]
    if draw(st.booleans()):
        rule = {"not_actor_of": [transitions[0]["name"]]}
        transitions[draw(st.integers(0, len(transitions) - 1))]["separation"] = [rule]
    if draw(st.booleans()):
        data["form"] = {**FORM, "allow_unknown": draw(st.booleans())}
        data.pop("timed", None)  # timed data is drawn without the form in mind
    return Workflow.from_dict(data)


@st.composite
def tickets(draw: st.DrawFn, wf: Workflow) -> Ticket:
    status = draw(st.sampled_from([s.name for s in wf.states] + ["ghost"]))
    category = wf.state(status).category if status != "ghost" else "open"
    return Ticket(
        id="T",
        type="repair",
        channel="web",
        status=status,
        category=category,
        priority=draw(st.sampled_from(["low", "normal", "high", "urgent"])),
        customer_id=draw(st.sampled_from([None, "c1"])),
        subject="s",
        fields=draw(FIELDS),
        created_at=T0,
        updated_at=T0,
        workflow=draw(st.sampled_from([wf.name, wf.name, "other", None])),
        workflow_version=draw(st.sampled_from([wf.version, wf.version, wf.version + 1, None])),
    )


def _assert_agree(
    wf: Workflow, subject: Ticket | Timeline, name: str, actor: Actor, data: Any
) -> None:
    verdict = wf.check(subject, name, actor=actor, data=data)
    assert set(verdict.codes) <= set(REASON_CODES)
    offered = name in [t.name for t in wf.available(subject, actor, data=data)]
    assert offered == all(code == "missing_field" for code in verdict.codes), verdict.explain()
    current = subject if isinstance(subject, Ticket) else subject.ticket
    try:
        wf.fire(subject, name, actor=actor, at=current.updated_at + timedelta(1), data=data)
    except TransitionNotAllowed as exc:
        assert not verdict.allowed
        assert exc.verdict == verdict
    else:
        assert verdict.allowed, verdict.explain()
        assert offered


@given(st.data())
def test_check_fire_and_available_agree_on_random_tickets(draw: st.DataObject) -> None:
    wf = draw.draw(definitions())
    ticket = draw.draw(tickets(wf))
    names = [t.name for t in wf.transitions] + ["nonexistent"]
    for _ in range(4):
        name = draw.draw(st.sampled_from(names))
        actor = draw.draw(st.sampled_from(ENGINE_ACTORS))
        data = draw.draw(ENGINE_DATA)
        _assert_agree(wf, ticket, name, actor, data)


@given(st.data())
def test_check_fire_and_available_agree_along_a_history(draw: st.DataObject) -> None:
    wf = draw.draw(definitions())
    created = wf.created_event(ticket_id="T", at=T0, type="x", channel="web")
    timeline = Timeline([created])
    names = [t.name for t in wf.transitions]
    for i in range(6):
        name = draw.draw(st.sampled_from(names))
        actor = draw.draw(st.sampled_from(ENGINE_ACTORS))
        data = draw.draw(ENGINE_DATA)
        _assert_agree(wf, timeline, name, actor, data)
        _assert_agree(wf, timeline.ticket, name, actor, data)
        if wf.check(timeline, name, actor=actor, data=data):
            _, events = wf.fire(timeline, name, actor=actor, at=T0 + timedelta(hours=i), data=data)
            timeline = timeline.append(*events)


def test_reasons_have_paths_and_come_in_a_fixed_order() -> None:
    wf = Workflow.from_dict(
        {
            "name": "w",
            "states": [
                {"name": "new", "category": "new", "initial": True},
                {"name": "done", "category": "closed"},
            ],
            "transitions": [
                {
                    "name": "finish",
                    "sources": "new",
                    "target": "done",
                    "roles": ["agent"],
                    "required": ["code"],
                    "condition": "fields.code != 'x'",
                }
            ],
        }
    )
    ticket = wf.created_event(ticket_id="T", at=T0, type="x", channel="web")
    verdict = wf.check(
        Ticket.created(ticket),
        "finish",
        actor=Actor("u"),
        data={"code": "", "priority": "bogus", "status": "done"},
    )
    assert [(r.code, r.path) for r in verdict.reasons] == [
        ("role", "actor.roles"),
        ("invalid_data", "data.priority"),
        ("invalid_data", "data.status"),
        ("missing_field", "data.code"),
    ]
    assert verdict.to_dict()["reasons"][0]["path"] == "actor.roles"
    assert wf.check(Ticket.created(ticket), "nope", actor=Actor("u")).reasons[0].path == (
        "transition"
    )


def test_argument_errors_stay_workflow_errors() -> None:
    wf = Workflow.from_dict(
        {
            "name": "w",
            "states": [
                {"name": "new", "category": "new", "initial": True},
                {"name": "done", "category": "closed"},
            ],
            "transitions": [{"name": "finish", "sources": "new", "target": "done"}],
        }
    )
    ticket = Ticket.created(wf.created_event(ticket_id="T", at=T0, type="x", channel="web"))
    with pytest.raises(WorkflowError, match="actor must be an Actor"):
        wf.check(ticket, "finish", actor="root")  # type: ignore[arg-type]
    with pytest.raises(WorkflowError, match="actor must be an Actor"):
        wf.available(ticket, "root")  # type: ignore[arg-type]
    with pytest.raises(WorkflowError, match="actor must be an Actor"):
        wf.fire(ticket, "finish", actor="root", at=T0)  # type: ignore[arg-type]
    with pytest.raises(TransitionNotAllowed) as caught:
        wf.fire(ticket, ["finish"], actor=Actor("u"), at=T0)  # type: ignore[arg-type]
    assert caught.value.verdict is not None
    assert caught.value.verdict.codes == ("unknown_transition",)
