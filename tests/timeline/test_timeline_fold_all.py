"""``Timeline(events)`` folds a whole stream into one ``Ticket`` (``fold_all``): the same
state as applying the events one by one, and the same error for every stream the
step-by-step fold refuses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import TimelineError
from csmkit.testing import T0
from csmkit.timeline import (
    Event,
    StatusChanged,
    Ticket,
    TicketCreated,
    Timeline,
    Unassigned,
    WorkflowMigrated,
)
from csmkit.timeline._ticket import fold_all
from csmkit.timeline._timeline import _fold
from strategies import timelines_events


def _step_by_step(events: list[Any]) -> tuple[str, Any]:
    try:
        first = events[0]
        if not isinstance(first, TicketCreated):
            return "error", "not created"
        return "ok", _fold(Ticket.created(first), events[1:], start=1)
    except TimelineError as exc:
        return "error", str(exc)


def _timeline(events: list[Any]) -> tuple[str, Any]:
    try:
        return "ok", Timeline(events).ticket
    except TimelineError as exc:
        return "error", str(exc)


def _same_ticket(got: Ticket, want: Ticket) -> None:
    assert got == want
    assert attrs.asdict(got, recurse=False) == attrs.asdict(want, recurse=False)
    assert got.updated_at.utcoffset() == want.updated_at.utcoffset()
    assert type(got.fields) is type(want.fields)


@given(timelines_events())
def test_the_whole_fold_equals_the_step_by_step_fold(events: list[Event]) -> None:
    got = fold_all(events[0], events[1:])  # type: ignore[arg-type]
    assert got is not None
    outcome, want = _step_by_step(events)
    assert outcome == "ok"
    _same_ticket(got, want)
    _same_ticket(Timeline(events).ticket, want)
    for count in range(1, len(events) + 1):  # every prefix, as state_at sees it
        prefix = fold_all(events[0], events[1:count])  # type: ignore[arg-type]
        assert prefix is not None
        _same_ticket(prefix, _step_by_step(events[:count])[1])


def _broken(events: list[Event], data: st.DataObject) -> list[Any]:
    events = list(events)
    index = data.draw(st.integers(0, len(events) - 1))
    event = events[index]
    how = data.draw(
        st.sampled_from(["swap", "other ticket", "earlier", "from", "created", "object", "migrate"])
    )
    if how == "swap" and len(events) > 1:
        index = max(index, 1)  # a first event that is not a creation fails before any fold
        other = data.draw(st.integers(1, len(events) - 1))
        events[index], events[other] = events[other], events[index]
    elif how == "other ticket":
        events[index] = attrs.evolve(event, ticket_id=event.ticket_id + "x")
    elif how == "earlier":
        events[index] = attrs.evolve(event, at=event.at - timedelta(days=1))
    elif how == "from":
        events.insert(
            index + 1,
            StatusChanged(
                ticket_id=event.ticket_id,
                at=events[-1].at,
                from_status=data.draw(st.sampled_from(["new", "open", "nowhere"])),
                to_status="open",
                category="open",
            ),
        )
    elif how == "created":
        events.insert(index + 1, attrs.evolve(events[0], at=events[-1].at))
    elif how == "object":
        events.insert(index + 1, "not an event")
    else:
        events.append(
            WorkflowMigrated(
                ticket_id=event.ticket_id,
                at=events[-1].at,
                workflow="w",
                from_version=data.draw(st.none() | st.integers(1, 2)),
                to_version=2,
                from_status=data.draw(st.sampled_from(["new", "triage", "open"])),
                to_status="open",
                category="open",
            )
        )
        events.append(Unassigned(ticket_id=event.ticket_id, at=events[-1].at, group="g"))
    return events


@given(timelines_events(max_events=8), st.data())
def test_a_broken_stream_fails_or_folds_exactly_as_step_by_step(
    events: list[Event], data: st.DataObject
) -> None:
    broken = _broken(events, data)
    got, want = _timeline(broken), _step_by_step(broken)
    assert got[0] == want[0]
    if got[0] == "ok":
        _same_ticket(got[1], want[1])
    else:
        assert got[1] == want[1]


def test_an_event_subclass_takes_the_step_by_step_fold() -> None:
    @attrs.frozen(kw_only=True)
    class Noted(Unassigned):
        pass

    first = TicketCreated(ticket_id="T-1", at=T0, type="r", channel="web")
    later = Noted(ticket_id="T-1", at=first.at)
    assert fold_all(first, [later]) is None
    assert Timeline([first, later]).ticket == Ticket.created(first).apply(later)
