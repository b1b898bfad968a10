"""``fire``'s fast path gives exactly what the validating constructors and Ticket.apply give."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import TimelineError, TransitionNotAllowed
from csmkit.timeline import (
    Event,
    FieldChanged,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketCreated,
    Timeline,
)
from csmkit.timeline._events import trusted_event
from csmkit.workflow import Actor, Observer, TransitionContext, Workflow, _fast
from csmkit.workflow._engine import check_data
from csmkit.workflow._execute import reference_fire_events

T0 = datetime(2026, 9, 30, 9, tzinfo=timezone(timedelta(hours=8)))
AGENT = Actor("li.wei", {"agent"})

WF = Workflow.from_dict(
    {
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
            {"name": "ask", "sources": "open", "target": "pending"},
            {"name": "reply", "sources": "pending", "target": "open"},
            {
                "name": "solve",
                "sources": ["open", "pending"],
                "target": "solved",
                "condition": 'ticket.priority != "low" and "agent" in actor.roles',
            },
            {"name": "reopen", "sources": "solved", "target": "open"},
            {"name": "close", "sources": "*", "target": "closed"},
        ],
    }
)
NAMES = [t.name for t in WF.transitions]
VALUES = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.integers(-3, 3),
    st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.sampled_from(["k", "v"]), st.integers(0, 2), max_size=2),
)
DATA = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["a", "b", "note"]), VALUES, max_size=3),
    st.fixed_dictionaries(
        {},
        optional={
            "priority": st.sampled_from(["low", "normal", "high", "urgent"]),
            "subject": st.text(max_size=4),
            "tags": st.lists(st.sampled_from(["x", "y", "z"]), max_size=3),
            "a": VALUES,
        },
    ),
)


def test_fast_builders_are_in_use_and_match_the_fallbacks() -> None:
    assert _fast.FAST  # a Foundation change to Ticket/StatusChanged fields turns this off
    ticket = Ticket.created(
        TicketCreated(ticket_id="T", at=T0, type="t", channel="web", fields={"a": 1})
    )
    args = ("T", T0, "x", "new", "open", StatusCategory.OPEN, "accept", "why")
    fast = _fast.status_changed(*args)
    assert type(fast) is StatusChanged
    assert fast == _fast._slow_status_changed(*args)
    assert fast == StatusChanged(
        ticket_id="T", at=T0, actor="x", from_status="new", to_status="open",
        category="open", transition="accept", reason="why",
    )  # fmt: skip
    moved = _fast.enter(ticket, "open", StatusCategory.OPEN, T0, 2)
    assert type(moved) is Ticket
    assert moved == _fast._slow_enter(ticket, "open", StatusCategory.OPEN, T0, 2)
    assert moved == ticket.apply(fast)
    changes = {"status": "open", "fields": _fast.freeze_fields({"b": 2}), "version": 5}
    assert _fast.replace_ticket(ticket, changes) == _fast._slow_replace(ticket, changes)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        moved.status = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.reason = "x"  # type: ignore[misc]
    assert hash(moved) == hash(ticket.apply(fast))


def _validated(event: Event) -> Event:
    """The same event rebuilt by its validating constructor."""
    values = {a.name: getattr(event, a.name) for a in attrs.fields(type(event))}
    return type(event)(**values)


@given(
    st.lists(
        st.tuples(st.sampled_from([*NAMES, "nope"]), DATA, st.sampled_from([None, "because"])),
        max_size=12,
    ),
    st.sampled_from(["low", "normal", "urgent"]),
    st.booleans(),
)
def test_fire_equals_validating_reference(
    steps: list[tuple[str, Any, str | None]], priority: str, use_timeline: bool
) -> None:
    created = WF.created_event(
        ticket_id="T", at=T0, type="x", channel="web", priority=priority, fields={"a": 1}
    )
    timeline = Timeline([created])
    for i, (name, data, reason) in enumerate(steps):
        current = timeline.ticket
        when = T0 + timedelta(minutes=i)
        verdict = WF.check(current, name, actor=AGENT, data=data)
        try:
            new, events = WF.fire(
                timeline if use_timeline else current,
                name,
                actor=AGENT,
                at=when,
                data=data,
                reason=reason,
            )
        except TransitionNotAllowed as exc:
            assert exc.verdict == verdict
            continue
        assert verdict, verdict.explain()
        frozen = check_data(WF.form, data or {})[0]
        ref_ticket, ref_events = reference_fire_events(
            current,
            name,
            WF.state(WF.transition(name).target),
            actor=AGENT.id,
            at=when,
            data=frozen,
            reason=reason,
        )
        assert type(new) is Ticket
        assert new == ref_ticket
        assert events == ref_events
        assert all(type(e) is type(r) for e, r in zip(events, ref_events, strict=True))
        assert events == tuple(_validated(e) for e in events)
        timeline = timeline.append(*events)
        assert timeline.ticket == new


def test_fire_keeps_the_timeline_errors() -> None:
    ticket = Ticket.created(WF.created_event(ticket_id="T", at=T0, type="x", channel="web"))
    with pytest.raises(TimelineError, match="out of order"):
        WF.fire(ticket, "accept", actor=AGENT, at=T0 - timedelta(seconds=1))
    with pytest.raises(TimelineError, match="out of order"):
        WF.fire(ticket, "accept", actor=AGENT, at=T0 - timedelta(seconds=1), data={"a": 1})
    with pytest.raises(TimelineError, match="reason"):
        WF.fire(ticket, "accept", actor=AGENT, at=T0, reason="")
    with pytest.raises(TimelineError, match="reason"):
        WF.fire(ticket, "accept", actor=AGENT, at=T0, reason=3)  # type: ignore[arg-type]


def test_invalid_core_attribute_values_are_refused_by_check_and_fire_alike() -> None:
    ticket = Ticket.created(WF.created_event(ticket_id="T", at=T0, type="x", channel="web"))
    for key, value in [
        ("priority", "bogus"),
        ("priority", None),
        ("subject", 3),
        ("customer_id", ""),
        ("type", ""),
        ("tags", "vip"),
        ("tags", ["ok", ""]),
    ]:
        verdict = WF.check(ticket, "accept", actor=AGENT, data={key: value})
        assert verdict.codes == ("invalid_data",), (key, value)
        assert verdict.reasons[0].path.startswith(f"data.{key}")
        with pytest.raises(TransitionNotAllowed) as caught:
            WF.fire(ticket, "accept", actor=AGENT, at=T0, data={key: value})
        assert caught.value.verdict == verdict
    assert WF.check(ticket, "accept", actor=AGENT, data={"customer_id": None})
    assert WF.check(ticket, "accept", actor=AGENT, data={"priority": "urgent", "tags": ["b"]})


def test_fire_accepts_other_aware_timezones_and_datetime_subclasses() -> None:
    class Instant(datetime):
        pass

    from zoneinfo import ZoneInfo

    ticket = Ticket.created(WF.created_event(ticket_id="T", at=T0, type="x", channel="web"))
    for when in (
        datetime(2026, 9, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        Instant(2026, 9, 30, 3, tzinfo=timezone.utc),
    ):
        new, (event,) = WF.fire(ticket, "accept", actor=AGENT, at=when)
        assert new.updated_at == when
        assert event == StatusChanged(
            ticket_id="T", at=when, actor="li.wei", from_status="new", to_status="open",
            category="open", transition="accept",
        )  # fmt: skip


def test_observers_see_the_same_verdict_on_the_fast_path() -> None:
    seen: list[TransitionContext] = []

    class Spy(Observer):
        def before_transition(self, context: TransitionContext) -> None:
            seen.append(context)

    ticket = Ticket.created(WF.created_event(ticket_id="T", at=T0, type="x", channel="web"))
    WF.fire(ticket, "accept", actor=AGENT, at=T0, observers=[Spy()])
    assert seen[0].verdict == WF.check(ticket, "accept", actor=AGENT)
    assert seen[0].transition == WF.transition("accept")


def test_field_changed_from_trusted_values_equals_validated() -> None:
    event = trusted_event(
        FieldChanged, ticket_id="T", at=T0, actor="x", name="a", old=(1, 2), new=None
    )
    assert event == FieldChanged(ticket_id="T", at=T0, actor="x", name="a", old=[1, 2], new=None)


_FULL = Ticket(
    id="T-9", type="repair", channel="web", status="doing", category="open",
    priority="high", customer_id="C-1", subject="s", assignee="a1", group="g1",
    fields={"x": 1}, tags=["t"], created_at=T0, updated_at=T0, version=7, workflow="w",
    workflow_version=3, escalation_level=2,
)  # fmt: skip
_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["open", "done"]),
        "category": st.sampled_from(list(StatusCategory)),
        "subject": st.text(max_size=4),
        "fields": st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 2)).map(
            _fast.freeze_fields
        ),
        "version": st.integers(8, 9),
        "assignee": st.none() | st.just("b2"),
    },
)


@given(_CHANGES)
def test_replace_ticket_equals_the_validating_evolve(changes: dict[str, Any]) -> None:
    # every field away from its default, so a field the copy left out is seen
    got = _fast.replace_ticket(_FULL, changes)
    want = attrs.evolve(_FULL, **changes)
    assert type(got) is Ticket
    assert attrs.asdict(got, recurse=False) == attrs.asdict(want, recurse=False)
