"""check / fire / available / observers / timed transitions of csmkit.workflow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from csmkit.errors import TimelineError, TransitionNotAllowed, WorkflowError
from csmkit.timeline import (
    Event,
    FieldChanged,
    StatusChanged,
    Ticket,
    TicketCreated,
    Timeline,
)
from csmkit.workflow import Actor, Observer, TransitionContext, Workflow

T0 = datetime(2026, 9, 30, 9, 0, tzinfo=timezone(timedelta(hours=8)))
AGENT = Actor("li.wei", {"agent"})
OTHER = Actor("wang.fang", {"agent", "supervisor"})


def definition() -> dict[str, Any]:
    return {
        "name": "desk",
        "states": [
            {"name": "new", "category": "new", "initial": True},
            {"name": "open", "category": "open"},
            {"name": "pending", "category": "pending"},
            {"name": "solved", "category": "solved"},
            {"name": "closed", "category": "closed"},
        ],
        "transitions": [
            {"name": "accept", "sources": "new", "target": "open", "roles": ["agent"]},
            {"name": "ask", "sources": "open", "target": "pending", "roles": ["agent"]},
            {"name": "reply", "sources": "pending", "target": "open"},
            {
                "name": "solve",
                "sources": "open",
                "target": "solved",
                "roles": ["agent"],
                "required": ["resolution"],
                "condition": 'ticket.priority != "low"',
            },
            {"name": "reopen", "sources": "solved", "target": "open"},
            {
                "name": "close",
                "sources": "solved",
                "target": "closed",
                "roles": ["supervisor", "system"],
                "separation": [{"not_actor_of": "solve"}],
            },
            {"name": "auto_close", "sources": "solved", "target": "closed", "roles": ["system"]},
            {"name": "stale_close", "sources": "pending", "target": "closed", "roles": ["system"]},
        ],
        "reopen": "open",
        "timed": [
            {"state": "solved", "transition": "auto_close", "after": "P7D"},
            {
                "state": "pending",
                "transition": "stale_close",
                "after": "PT8H",
                "clock": "business",
                "since": "updated",
            },
        ],
    }


@pytest.fixture
def wf() -> Workflow:
    return Workflow.from_dict(definition())


def new_ticket(wf: Workflow, **kw: Any) -> Ticket:
    return Ticket.created(
        wf.created_event(ticket_id="T-1", at=T0, type="support", channel="email", **kw)
    )


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_fire_returns_new_ticket_and_events(wf: Workflow) -> None:
    ticket = new_ticket(wf)
    assert (ticket.status, ticket.workflow, ticket.workflow_version) == ("new", "desk", 1)
    opened, events = wf.fire(ticket, "accept", actor=AGENT, at=at(1))
    assert ticket.status == "new"  # unchanged
    assert opened.status == "open" and opened.category == "open" and opened.version == 2
    (event,) = events
    assert isinstance(event, StatusChanged)
    assert (event.from_status, event.to_status, event.transition, event.actor) == (
        "new",
        "open",
        "accept",
        "li.wei",
    )
    solved, events = wf.fire(
        opened, "solve", actor=AGENT, at=at(2), data={"resolution": "reset"}, reason="fixed"
    )
    assert [type(e) for e in events] == [FieldChanged, StatusChanged]
    assert events[0].name == "resolution" and events[0].new == "reset"
    assert events[1].reason == "fixed"
    assert solved.fields["resolution"] == "reset"
    # the fast path equals the reference fold
    replay = opened
    for e in events:
        replay = replay.apply(e)
    assert replay == solved
    assert (
        Timeline([wf.created_event(ticket_id="T-1", at=T0, type="support", channel="email")])
        .append(*wf.fire(ticket, "accept", actor=AGENT, at=at(1))[1])
        .ticket.status
        == "open"
    )


def test_unchanged_data_writes_no_field_event(wf: Workflow) -> None:
    ticket = new_ticket(wf, fields={"resolution": "x"})
    opened, _ = wf.fire(ticket, "accept", actor=AGENT, at=at(1))
    _, events = wf.fire(opened, "solve", actor=AGENT, at=at(2), data={"resolution": "x"})
    assert [e.kind for e in events] == ["status_changed"]


def test_core_field_in_data_changes_ticket_attribute(wf: Workflow) -> None:
    opened, _ = wf.fire(new_ticket(wf), "accept", actor=AGENT, at=at(1))
    out, events = wf.fire(opened, "ask", actor=AGENT, at=at(2), data={"priority": "urgent"})
    assert out.priority == "urgent" and events[0].old == "normal"


def test_check_lists_every_reason(wf: Workflow) -> None:
    ticket = new_ticket(wf, priority="low")
    verdict = wf.check(ticket, "solve", actor=Actor("x", {"customer"}))
    assert not verdict
    assert verdict.codes == ("wrong_state", "role", "missing_field", "condition")
    assert verdict.target == "solved"
    assert "only from ['open']" in verdict.explain()
    assert verdict.to_dict()["allowed"] is False


@pytest.mark.parametrize(
    ("transition", "actor", "data", "code"),
    [
        ("fly", AGENT, None, "unknown_transition"),
        ("reply", AGENT, None, "wrong_state"),
        ("accept", Actor("c", {"customer"}), None, "role"),
        ("accept", AGENT, {"status": "closed"}, "invalid_data"),
        ("accept", AGENT, {"when": datetime(2026, 1, 1, tzinfo=timezone.utc)}, "invalid_data"),
        ("accept", AGENT, {"": 1}, "invalid_data"),
    ],
)
def test_fire_refuses_and_leaves_ticket_alone(
    wf: Workflow, transition: str, actor: Actor, data: Any, code: str
) -> None:
    ticket = new_ticket(wf)
    before = attrs.asdict(ticket)
    with pytest.raises(TransitionNotAllowed) as info:
        wf.fire(ticket, transition, actor=actor, at=at(1), data=data)
    assert code in info.value.verdict.codes
    assert info.value.verdict == wf.check(ticket, transition, actor=actor, data=data)
    assert attrs.asdict(ticket) == before


def test_missing_required_field_counts_ticket_fields_and_data(wf: Workflow) -> None:
    opened, _ = wf.fire(new_ticket(wf), "accept", actor=AGENT, at=at(1))
    assert wf.check(opened, "solve", actor=AGENT).codes == ("missing_field",)
    assert wf.check(opened, "solve", actor=AGENT, data={"resolution": ""}).codes == (
        "missing_field",
    )
    assert wf.check(opened, "solve", actor=AGENT, data={"resolution": "ok"})
    with_field = new_ticket(wf, fields={"resolution": "ok"})
    opened2, _ = wf.fire(with_field, "accept", actor=AGENT, at=at(1))
    assert wf.check(opened2, "solve", actor=AGENT)
    # data that clears the field does not satisfy the requirement
    assert not wf.check(opened2, "solve", actor=AGENT, data={"resolution": None})


def test_condition_sees_fields_data_and_actor() -> None:
    data = definition()
    data["transitions"][1]["condition"] = (
        'fields.reason in ["info", "photo"] and actor.id != "bot" and data.reason == fields.reason'
    )
    wf = Workflow.from_dict(data)
    opened, _ = wf.fire(new_ticket(wf), "accept", actor=AGENT, at=at(1))
    assert wf.check(opened, "ask", actor=AGENT, data={"reason": "photo"})
    assert wf.check(opened, "ask", actor=AGENT, data={"reason": "other"}).codes == ("condition",)
    assert wf.check(
        opened, "ask", actor=Actor("bot", {"agent"}), data={"reason": "info"}
    ).codes == ("condition",)


def test_condition_evaluation_error_is_a_reason() -> None:
    data = definition()
    data["transitions"][1]["condition"] = "fields.count > 3"
    wf = Workflow.from_dict(data)
    opened, _ = wf.fire(new_ticket(wf), "accept", actor=AGENT, at=at(1))
    verdict = wf.check(opened, "ask", actor=AGENT, data={"count": "many"})
    assert verdict.codes == ("condition",) and "failed" in verdict.reasons[0].message


def _solved_timeline(wf: Workflow, solver: Actor) -> Timeline:
    tl = Timeline([wf.created_event(ticket_id="T-1", at=T0, type="s", channel="web")])
    for i, (name, actor, data) in enumerate(
        [("accept", AGENT, None), ("solve", solver, {"resolution": "ok"})]
    ):
        _, events = wf.fire(tl, name, actor=actor, at=at(i + 1), data=data)
        tl = tl.append(*events)
    return tl


def test_separation_of_duty_needs_history(wf: Workflow) -> None:
    solver = Actor("wang.fang", {"agent", "supervisor"})
    tl = _solved_timeline(wf, solver)
    verdict = wf.check(tl, "close", actor=solver)
    assert verdict.codes == ("separation_of_duty",)
    assert wf.check(tl, "close", actor=Actor("boss", {"supervisor"}))
    assert wf.check(tl.ticket, "close", actor=Actor("boss", {"supervisor"})).codes == (
        "history_needed",
    )


def test_separation_scope_last_vs_any() -> None:
    data = definition()
    wf_last = Workflow.from_dict(data)
    data["transitions"][5]["separation"] = [{"not_actor_of": ["solve"], "scope": "any"}]
    wf_any = Workflow.from_dict(data)
    a = Actor("a", {"agent", "supervisor"})
    b = Actor("b", {"agent", "supervisor"})
    for wf, expected in ((wf_last, True), (wf_any, False)):
        tl = _solved_timeline(wf, a)
        for i, (name, actor, d) in enumerate(
            [("reopen", b, None), ("solve", b, {"resolution": "again"})]
        ):
            tl = tl.append(*wf.fire(tl, name, actor=actor, at=at(10 + i), data=d)[1])
        assert bool(wf.check(tl, "close", actor=a)) is expected


def test_workflow_mismatch(wf: Workflow) -> None:
    other = Workflow.from_dict({**definition(), "version": 2})
    ticket = new_ticket(wf)
    assert other.check(ticket, "accept", actor=AGENT).codes == ("workflow_mismatch",)
    renamed = Workflow.from_dict({**definition(), "name": "other"})
    assert renamed.check(ticket, "accept", actor=AGENT).codes == ("workflow_mismatch",)


def test_ticket_in_unknown_state(wf: Workflow) -> None:
    ticket = Ticket.created(
        TicketCreated(ticket_id="X", at=T0, type="s", channel="web", status="limbo")
    )
    assert wf.check(ticket, "accept", actor=AGENT).codes == ("unknown_state",)


def test_bad_arguments(wf: Workflow) -> None:
    ticket = new_ticket(wf)
    with pytest.raises(WorkflowError, match="timezone-aware"):
        wf.fire(ticket, "accept", actor=AGENT, at=datetime(2026, 10, 1))
    with pytest.raises(WorkflowError, match="actor must be an Actor"):
        wf.check(ticket, "accept", actor="li.wei")  # type: ignore[arg-type]
    with pytest.raises(WorkflowError, match="Ticket or a Timeline"):
        wf.check({"status": "new"}, "accept", actor=AGENT)  # type: ignore[arg-type]
    with pytest.raises(TimelineError, match="out of order"):
        wf.fire(ticket, "accept", actor=AGENT, at=T0 - timedelta(seconds=1))


def test_available(wf: Workflow) -> None:
    opened, _ = wf.fire(new_ticket(wf), "accept", actor=AGENT, at=at(1))
    names = [t.name for t in wf.available(opened, AGENT)]
    assert names == ["ask", "solve"]  # solve only lacks a field the UI will collect
    assert [t.name for t in wf.available(opened, Actor("c", {"customer"}))] == []


class Recorder(Observer):
    def __init__(self, log: list[str], tag: str, veto: bool = False) -> None:
        self.log, self.tag, self.veto = log, tag, veto

    def before_transition(self, context: TransitionContext) -> None:
        self.log.append(f"{self.tag}.before:{context.transition.name}:{context.ticket.status}")
        if self.veto:
            raise RuntimeError("vetoed")

    def after_transition(
        self, context: TransitionContext, ticket: Ticket, events: Sequence[Event]
    ) -> None:
        self.log.append(f"{self.tag}.after:{ticket.status}:{len(events)}")


def test_observer_order(wf: Workflow) -> None:
    log: list[str] = []
    observed = wf.with_observers(Recorder(log, "a"), Recorder(log, "b"))
    assert observed == wf  # observers are not part of the definition
    observed.fire(new_ticket(wf), "accept", actor=AGENT, at=at(1), observers=[Recorder(log, "c")])
    assert log == [
        "a.before:accept:new",
        "b.before:accept:new",
        "c.before:accept:new",
        "a.after:open:1",
        "b.after:open:1",
        "c.after:open:1",
    ]


def test_observer_not_called_when_refused_and_can_veto(wf: Workflow) -> None:
    log: list[str] = []
    observed = wf.with_observers(Recorder(log, "a"))
    with pytest.raises(TransitionNotAllowed):
        observed.fire(new_ticket(wf), "solve", actor=AGENT, at=at(1))
    assert log == []
    with pytest.raises(RuntimeError, match="vetoed"):
        observed.fire(
            new_ticket(wf),
            "accept",
            actor=AGENT,
            at=at(1),
            observers=[Recorder(log, "v", veto=True)],
        )
    assert log == ["a.before:accept:new", "v.before:accept:new"]


class HourClock:
    """Business time = only the hours 9-17 count (a tiny stand-in for a calendar)."""

    def add(self, start: datetime, delta: timedelta) -> datetime:
        current, left = start, delta
        while left > timedelta(0):
            day_end = current.replace(hour=17, minute=0, second=0, microsecond=0)
            if current.hour < 9:
                current = current.replace(hour=9, minute=0, second=0, microsecond=0)
                continue
            if current >= day_end:
                current = (current + timedelta(days=1)).replace(hour=9, minute=0, second=0)
                continue
            step = min(left, day_end - current)
            current, left = current + step, left - step
        return current


def test_due_transitions_calendar_time(wf: Workflow) -> None:
    tl = _solved_timeline(wf, AGENT)
    solved_at = at(2)
    assert wf.due_transitions(tl, solved_at + timedelta(days=7) - timedelta(seconds=1)) == ()
    (due,) = wf.due_transitions(tl, solved_at + timedelta(days=7))
    assert (due.transition, due.due_at, due.since) == (
        "auto_close",
        solved_at + timedelta(days=7),
        solved_at,
    )
    closed, _ = wf.fire(tl, due.transition, actor=Actor.system(), at=due.due_at)
    assert closed.status == "closed"
    with pytest.raises(WorkflowError, match="pass the ticket's Timeline"):
        wf.due_transitions(tl.ticket, at(10_000))


def test_due_transitions_business_time_needs_a_calendar(wf: Workflow) -> None:
    opened, _ = wf.fire(new_ticket(wf), "accept", actor=AGENT, at=at(1))
    pending, _ = wf.fire(opened, "ask", actor=AGENT, at=at(2))  # 09:02 local
    with pytest.raises(WorkflowError, match="calendar="):
        wf.due_transitions(pending, at(600))
    clock = HourClock()
    assert wf.due_transitions(pending, T0 + timedelta(hours=8), calendar=clock) == ()
    assert wf.due_transitions(pending, T0 + timedelta(days=1), calendar=clock) == ()
    (due,) = wf.due_transitions(pending, at(2) + timedelta(days=1), calendar=clock)
    assert due.due_at == at(2) + timedelta(days=1)  # 8 business hours = next day 09:02
    assert wf.scheduled_transitions(pending, clock)[0].due_at == due.due_at
    with pytest.raises(WorkflowError, match="timezone-aware"):
        wf.due_transitions(pending, datetime(2026, 10, 1))


def test_due_transitions_only_for_current_state(wf: Workflow) -> None:
    ticket = new_ticket(wf)
    assert wf.due_transitions(ticket, at(100_000)) == ()
