"""The built-in templates: valid, labelled in zh and en, able to reach a terminal state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import networkx as nx
import pytest

from csmkit.errors import NotFoundError
from csmkit.timeline import Timeline
from csmkit.workflow import TEMPLATE_NAMES, Actor, Workflow, template, template_dict

T0 = datetime(2026, 9, 30, 9, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_is_valid_labelled_and_can_end(name: str) -> None:
    wf = template(name)
    assert wf.name == name
    assert Workflow.from_dict(wf.to_dict()) == wf
    assert wf.label("zh") != name and wf.label("en") != name
    for state in wf.states:
        assert state.labels["agent"]["zh"] and state.labels["agent"]["en"]
        assert state.labels["customer"]["zh"] and state.labels["customer"]["en"]
    for transition in wf.transitions:
        assert transition.labels["agent"]["zh"] and transition.labels["agent"]["en"]
    graph = wf.to_networkx()
    terminal = {s.name for s in wf.states if s.terminal}
    for state in wf.states:
        assert any(nx.has_path(graph, state.name, end) for end in terminal), state.name
    assert wf.reopen is not None
    assert wf.form is not None


def test_unknown_template() -> None:
    with pytest.raises(NotFoundError, match="expected one of consultation"):
        template("nope")


def test_template_dict_is_a_copy() -> None:
    data = template_dict("repair")
    data["states"].clear()
    assert template("repair").states


def run(wf: Workflow, fields: dict[str, Any], steps: list[tuple[str, Actor, Any]]) -> Timeline:
    tl = Timeline(
        [wf.created_event(ticket_id="T-9", at=T0, type=wf.name, channel="phone", fields=fields)]
    )
    for i, (name, actor, data) in enumerate(steps):
        _, events = wf.fire(tl, name, actor=actor, at=T0 + timedelta(hours=i + 1), data=data)
        tl = tl.append(*events)
    return tl


DISPATCHER = Actor("zhao", {"dispatcher"})
ENGINEER = Actor("e7", {"engineer"})
AGENT = Actor("li.wei", {"agent"})
SUPERVISOR = Actor("wang", {"supervisor"})


def test_repair_happy_path_with_loops_and_auto_close() -> None:
    wf = template("repair")
    tl = run(
        wf,
        {"address": "上海市徐汇区漕溪北路 1 号", "contact_phone": "+86 138 0013 8000"},
        [
            ("dispatch", DISPATCHER, {"engineer": "e7"}),
            ("accept", ENGINEER, None),
            ("arrive", ENGINEER, None),
            ("wait_parts", ENGINEER, {"parts": ["board"]}),
            ("parts_arrived", ENGINEER, None),
            ("arrive", ENGINEER, None),
            ("repair", ENGINEER, {"repair_notes": "更换主板"}),
            ("follow_up", AGENT, None),
        ],
    )
    assert tl.ticket.status == "follow_up"
    (due,) = wf.due_transitions(tl, tl.updated_at + timedelta(days=7))
    closed, _ = wf.fire(tl, due.transition, actor=Actor.system(), at=due.due_at)
    assert closed.status == "closed" and closed.category == "closed"


def test_repair_rules() -> None:
    wf = template("repair")
    tl = run(
        wf,
        {"address": "x", "contact_phone": "13800138000"},
        [("dispatch", DISPATCHER, {"engineer": "e7"})],
    )
    # only the dispatched engineer may accept
    assert wf.check(tl, "accept", actor=Actor("e8", {"engineer"})).codes == ("condition",)
    # the engineer who repaired may not close the follow-up
    tl = run(
        wf,
        {"address": "x", "contact_phone": "13800138000"},
        [
            ("dispatch", DISPATCHER, {"engineer": "e7"}),
            ("accept", ENGINEER, None),
            ("arrive", ENGINEER, None),
            ("repair", Actor("e7", {"engineer", "agent"}), {"repair_notes": "ok"}),
            ("follow_up", AGENT, None),
        ],
    )
    assert wf.check(tl, "close", actor=Actor("e7", {"agent"})).codes == ("separation_of_duty",)
    assert wf.check(tl, "close", actor=AGENT)


def test_complaint_needs_a_different_supervisor() -> None:
    wf = template("complaint")
    tl = run(
        wf,
        {},
        [
            ("accept", SUPERVISOR, None),
            ("resolve", SUPERVISOR, {"root_cause": "延误", "resolution": "道歉并补偿"}),
        ],
    )
    assert wf.check(tl, "confirm", actor=SUPERVISOR).codes == ("separation_of_duty",)
    assert (
        wf.fire(tl, "confirm", actor=Actor("chen", {"supervisor"}), at=T0 + timedelta(days=1))[
            0
        ].status
        == "closed"
    )


def test_return_exchange_and_consultation_paths() -> None:
    wf = template("return_exchange")
    tl = run(
        wf,
        {"order_id": "JD-20261001-77"},
        [
            ("accept", AGENT, None),
            ("approve", SUPERVISOR, {"return_type": "exchange"}),
            ("item_received", Actor("wh", {"warehouse"}), {"tracking_number": "SF123"}),
        ],
    )
    assert wf.check(tl, "complete", actor=AGENT).codes == ("condition",)
    done, _ = wf.fire(
        tl, "complete", actor=AGENT, at=T0 + timedelta(days=2), data={"inspection_passed": True}
    )
    assert done.status == "completed"
    consult = template("consultation")
    tl = run(consult, {"topic": "billing"}, [("answer", AGENT, {"answer_summary": "见账单"})])
    assert [d.transition for d in consult.due_transitions(tl, T0 + timedelta(days=4))] == ["close"]


class Hours:
    """A toy business clock: counts only 09:00-18:00, every day (enough for this test)."""

    def add(self, at: datetime, delta: timedelta) -> datetime:
        left = delta
        now = at
        while left > timedelta(0):
            day_start = now.replace(hour=9, minute=0, second=0, microsecond=0)
            day_end = now.replace(hour=18, minute=0, second=0, microsecond=0)
            if now < day_start:
                now = day_start
            if now >= day_end:
                now = day_start + timedelta(days=1)
                continue
            step = min(left, day_end - now)
            now += step
            left -= step
        return now


def test_repair_cancels_with_its_reason_after_48_business_hours() -> None:
    wf = template("repair")
    tl = run(
        wf,
        {"address": "广州市天河区", "contact_phone": "13800138000"},
        [
            ("dispatch", DISPATCHER, {"engineer": "e7"}),
            ("accept", ENGINEER, None),
            ("wait_customer", ENGINEER, None),
        ],
    )
    (rule,) = [t for t in wf.timed if t.transition == "cancel"]
    assert dict(rule.data) == {"cancel_reason": "no response from customer"}
    assert wf.check(tl, "cancel", actor=Actor.system()).codes == ("missing_field",)
    (scheduled,) = wf.scheduled_transitions(tl, Hours())
    assert scheduled.transition == "cancel" and scheduled.data == rule.data
    assert wf.due_transitions(tl, scheduled.due_at - timedelta(seconds=1), Hours()) == ()
    (due,) = wf.due_transitions(tl, scheduled.due_at, Hours())
    ticket, events = wf.fire(tl, due.transition, actor=Actor.system(), at=due.due_at, data=due.data)
    assert ticket.status == "cancelled"
    assert ticket.fields["cancel_reason"] == "no response from customer"
    assert [e.kind for e in events] == ["field_changed", "status_changed"]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_dicts_match_the_json_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from csmkit.workflow import WORKFLOW_SCHEMA

    jsonschema.Draft202012Validator.check_schema(WORKFLOW_SCHEMA)
    validator = jsonschema.Draft202012Validator(WORKFLOW_SCHEMA)
    data = template(name).to_dict()
    assert list(validator.iter_errors(data)) == []
    broken = template_dict(name)
    broken["timed"] = [{"state": "x", "transition": "y", "after": "P1D", "data": ["not", "a map"]}]
    assert list(validator.iter_errors(broken))


def test_published_schema_is_the_code_schema() -> None:
    import json
    from pathlib import Path

    from csmkit.workflow import WORKFLOW_SCHEMA

    text = (Path(__file__).parents[2] / "docs" / "workflow.md").read_text(encoding="utf-8")
    block = text.split("## JSON Schema of the dict form", 1)[1].split("```json\n", 1)[1]
    assert json.loads(block.split("\n```", 1)[0]) == WORKFLOW_SCHEMA
