"""The contract of ``csmkit.timeline.trusted``: on valid input each trusted constructor
builds exactly what the validating one builds, and the decoders either agree with the
validating decoders or raise ``Untrusted`` where they say they do."""

from __future__ import annotations

import json
from functools import reduce
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csmkit.timeline.trusted as trusted
from csmkit.errors import CsmkitError, TimelineError
from csmkit.testing import T0, created, next_event
from csmkit.timeline import (
    Assigned,
    Direction,
    Escalated,
    Event,
    Linked,
    MessageAdded,
    Ticket,
    Timeline,
)
from csmkit.timeline.trusted import (
    Untrusted,
    decode_timeline,
    folded_timeline,
    replaced_ticket,
    stored_events,
    trusted_event,
    trusted_ticket,
)
from strategies import timelines_events

_INVALID = (ValueError, TypeError, KeyError)
ODD_VALUES = st.sampled_from(
    [None, "", "x", 0, 3, 1.5, True, [], {}, ["a"], {"k": 1}, "2026-09-28T10:00:00", "open"]
)


def _values(value: Any) -> dict[str, Any]:
    return {a.name: getattr(value, a.name) for a in attrs.fields(type(value))}


def _same(got: list[Any], want: list[Any]) -> None:
    assert [type(item) for item in got] == [type(item) for item in want]
    assert got == want
    # equality of instants ignores their offsets; the dict form does not
    assert [item.to_dict() for item in got] == [item.to_dict() for item in want]


def _states(events: list[Event]) -> list[Ticket]:
    states = [Ticket.created(events[0])]  # type: ignore[arg-type]
    for event in events[1:]:
        states.append(states[-1].apply(event))
    return states


def test_the_module_exports_its_contract() -> None:
    for name in trusted.__all__:
        assert getattr(trusted, name).__doc__, name
    assert issubclass(Untrusted, CsmkitError)
    assert issubclass(Untrusted, ValueError)


# ------------------------------------------------------------------ trusted_event
@given(timelines_events())
def test_trusted_event_equals_the_validating_constructor(events: list[Event]) -> None:
    for event in events:
        values = _values(event)
        built = trusted_event(type(event), **values)
        assert type(built) is type(event)
        _same([built], [type(event)(**values)])
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            built.actor = "someone"  # type: ignore[misc]


def test_trusted_event_refuses_missing_and_unknown_fields() -> None:
    with pytest.raises(TypeError, match="missing value for 'public'"):
        trusted_event(
            MessageAdded, ticket_id="T-1", at=T0, direction=Direction.INBOUND, channel="w"
        )
    with pytest.raises(TypeError, match="missing value for 'level'"):
        trusted_event(Escalated, ticket_id="T-1", at=T0)
    with pytest.raises(TypeError, match="unknown field"):
        trusted_event(Escalated, ticket_id="T-1", at=T0, level=1, colour="red")
    assert trusted_event(Escalated, ticket_id="T-1", at=T0, level=1) == Escalated(
        ticket_id="T-1", at=T0, level=1
    )


def test_trusted_event_does_not_validate_as_documented() -> None:
    # the documented hazard: a value the constructor refuses gives a wrong event
    with pytest.raises(TimelineError):
        Assigned(ticket_id="T-1", at=T0)
    assert trusted_event(Assigned, ticket_id="T-1", at=T0).agent is None


# ------------------------------------------------------------------ trusted_ticket
@given(timelines_events())
def test_trusted_ticket_equals_the_validating_constructor(events: list[Event]) -> None:
    for state in _states(events):
        values = _values(state)
        built = trusted_ticket(**values)
        assert type(built) is Ticket
        assert built == Ticket(**values) == state
        assert built.fields == state.fields
        assert built.created_at.utcoffset() == state.created_at.utcoffset()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            built.status = "x"  # type: ignore[misc]


def test_trusted_ticket_takes_defaults_and_refuses_missing_and_unknown_fields() -> None:
    ticket = Ticket.created(created("T-1", T0))
    required = {
        name: value
        for name, value in _values(ticket).items()
        if attrs.fields_dict(Ticket)[name].default is attrs.NOTHING
    }
    assert trusted_ticket(**required) == Ticket(**required)
    with pytest.raises(TypeError, match="missing value for 'updated_at'"):
        trusted_ticket(**{k: v for k, v in required.items() if k != "updated_at"})
    with pytest.raises(TypeError, match="unknown field"):
        trusted_ticket(**required, colour="red")


# ------------------------------------------------------------------ replaced_ticket
@given(timelines_events(), st.data())
def test_replaced_ticket_equals_evolve(events: list[Event], data: st.DataObject) -> None:
    # Any subset of one state's fields replaced by another state's values (every value
    # valid): the same ticket as attrs.evolve, which runs every validator.
    states = _states(events)
    ticket, other = data.draw(st.sampled_from(states)), data.draw(st.sampled_from(states))
    names = data.draw(st.sets(st.sampled_from([a.name for a in attrs.fields(Ticket)])))
    changes = {name: getattr(other, name) for name in names}
    built = replaced_ticket(ticket, **changes)
    assert type(built) is Ticket
    assert _values(built) == _values(attrs.evolve(ticket, **changes))
    assert _values(ticket) == _values(_states(events)[states.index(ticket)])  # untouched
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.status = "x"  # type: ignore[misc]


def test_replaced_ticket_refuses_unknown_fields() -> None:
    ticket = Ticket.created(created("T-1", T0))
    with pytest.raises(TypeError, match=r"unknown field\(s\) \['colour'\]"):
        replaced_ticket(ticket, status="open", colour="red")


# ------------------------------------------------------------------ folded_timeline
@given(timelines_events(), st.data())
def test_folded_timeline_equals_the_validating_timeline(
    events: list[Event], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(events) - 1))
    base = None if split == 0 else Timeline(events[:split])
    start = Ticket.created(events[0]) if base is None else base.ticket  # type: ignore[arg-type]
    rest = events[1:] if base is None else events[split:]
    ticket = reduce(Ticket.apply, rest, start)
    folded = folded_timeline(base, events[split:] if base else events, ticket)
    reference = Timeline(events)
    assert folded == reference
    assert folded.ticket == reference.ticket
    assert folded.version == reference.version
    for event in events:
        assert folded.state_at(event.at) == reference.state_at(event.at)
    assert base is None or base.version == split  # base left unchanged


# ------------------------------------------------------------------ stored_events
@given(timelines_events())
def test_stored_events_equal_the_validating_decoder(events: list[Event]) -> None:
    rows = [json.loads(json.dumps(event.to_dict())) for event in events]
    _same(stored_events(rows), [Event.from_dict(row) for row in rows])
    _same(stored_events(rows), events)
    # any key order is the same record
    shuffled = [dict(sorted(row.items())) for row in rows]
    _same(stored_events(shuffled), events)


@given(timelines_events(max_events=6), st.data(), ODD_VALUES)
def test_damaged_rows_give_the_same_events_or_are_refused(
    events: list[Event], data: st.DataObject, odd: Any
) -> None:
    rows = [json.loads(json.dumps(event.to_dict())) for event in events]
    row = data.draw(st.sampled_from(rows))
    key = data.draw(st.sampled_from(sorted(row)))
    how = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if how == "replace":
        row[key] = odd
    elif how == "drop":
        del row[key]
    else:
        row["surprise"] = odd
    try:
        reference: list[Event] | None = [Event.from_dict(dict(row)) for row in rows]
    except _INVALID:
        reference = None
    try:
        fast = stored_events([dict(row) for row in rows])
    except _INVALID:  # Untrusted is a ValueError: the caller decodes the validating way
        return
    assert reference is not None, "stored_events accepted a row the constructors refuse"
    _same(fast, reference)


def _rows() -> list[dict[str, Any]]:
    timeline = Timeline([created("T-1", T0)])
    for hour, kind in enumerate(["open", "assign", "message"], 10):
        timeline = timeline.append(next_event(timeline.ticket, kind, T0.replace(hour=hour)))
    rows = [event.to_dict() for event in timeline]
    assert [row["kind"] for row in rows] == [
        "created",
        "status_changed",
        "assigned",
        "message_added",
    ]
    return rows


def _rare(ticket_id: str) -> dict[str, Any]:
    return Linked(
        ticket_id=ticket_id, at=T0.replace(hour=13), relation="related", other_ticket="T-9"
    ).to_dict()


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda rows: rows.clear(), "no rows"),
        (lambda rows: rows.__setitem__(0, [rows[0]]), "a row that is not a dict"),
        (lambda rows: rows[1].update(ticket_id="T-2"), "a common kind of another ticket"),
        (lambda rows: rows.append(_rare("T-2")), "a rare kind of another ticket"),
        (lambda rows: rows[1].update(category=3), "a value of another type"),
        (lambda rows: rows[1].update(category="done"), "not a member of the enum"),
        (lambda rows: rows[3].update(surprise=1), "a key the kind does not have"),
        (lambda rows: rows[3].pop("body_ref"), "a key left out (it has a default)"),
        (lambda rows: rows[2].update(agent=None, group=None), "an assignment to nobody"),
        (lambda rows: rows[3].update(public=False), "a private inbound message"),
        (lambda rows: rows[0].update(workflow_version=2), "a workflow version"),
        (lambda rows: rows[1].update(at="2026-09-28T10:00:00"), "a naive instant"),
    ],
)
def test_stored_events_raise_untrusted_where_documented(damage: Any, why: str) -> None:
    rows = _rows()
    damage(rows)
    with pytest.raises(Untrusted):
        stored_events(rows)


def test_a_rare_kind_is_built_by_its_validating_constructor() -> None:
    rows = [*_rows(), _rare("T-1")]
    assert stored_events(rows)[-1] == Linked.from_dict(rows[-1])
    rows[-1]["other_ticket"] = "T-1"  # linked to itself: the constructor's own error
    with pytest.raises(TimelineError, match="linked to itself"):
        stored_events(rows)


# ------------------------------------------------------------------ decode_timeline
def _outcome(decode: Any, record: Any) -> tuple[str, Any]:
    try:
        return "ok", decode(record)
    except TimelineError as exc:
        return "error", str(exc)


@given(timelines_events(), st.data(), ODD_VALUES)
def test_decode_timeline_answers_as_from_dict(
    events: list[Event], data: st.DataObject, odd: Any
) -> None:
    record = json.loads(json.dumps(Timeline(events).to_dict()))
    assert decode_timeline(record) == Timeline.from_dict(record) == Timeline(events)
    row = data.draw(st.sampled_from(record["events"]))
    row[data.draw(st.sampled_from(sorted(row)))] = odd
    assert _outcome(decode_timeline, record) == _outcome(Timeline.from_dict, record)


def test_decode_timeline_refuses_what_from_dict_refuses() -> None:
    record = {"ticket_id": "T-1", "events": _rows()}
    record["events"][1]["category"] = "done"
    with pytest.raises(TimelineError, match=r"events\[1\]\.category") as fast:
        decode_timeline(record)
    with pytest.raises(TimelineError) as reference:
        Timeline.from_dict(record)
    assert str(fast.value) == str(reference.value)
