"""``Ticket.apply`` dispatches an event of exactly one of the fold's classes on its class
(``_passed``): the same ticket, or the same error, as the checked ``isinstance`` path
(``_apply_checked``) that every other object takes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import TimelineError
from csmkit.testing import T0
from csmkit.timeline import (
    Assigned,
    Event,
    FieldChanged,
    Priority,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketCreated,
    Unassigned,
    WorkflowMigrated,
)
from csmkit.timeline._events import trusted_event
from csmkit.timeline._ticket import _copy
from strategies import timelines_events


def _outcome(apply: Any, event: Any) -> tuple[str, Any]:
    try:
        ticket = apply(event)
    except (TimelineError, ValueError) as exc:
        return "error", (type(exc), str(exc), getattr(exc, "path", None))
    return "ok", (attrs.asdict(ticket, recurse=False), type(ticket.fields), type(ticket))


def _mangled(event: Event, ticket: Ticket, data: st.DataObject) -> Any:
    """``event`` as it is, or changed so that ``apply`` may refuse it."""
    how = data.draw(
        st.sampled_from(["as is", "as is", "other ticket", "earlier", "from", "version", "object"])
    )
    if how == "other ticket":
        return attrs.evolve(event, ticket_id=event.ticket_id + "x")
    if how == "earlier":
        return attrs.evolve(event, at=ticket.updated_at - timedelta(seconds=1))
    if how == "from" and isinstance(event, StatusChanged):
        return attrs.evolve(event, from_status=event.from_status + "x")
    if how == "version":
        return WorkflowMigrated(
            ticket_id=event.ticket_id,
            at=event.at,
            workflow="w",
            from_version=data.draw(st.none() | st.integers(1, 2)),
            to_version=3,
            from_status=data.draw(st.sampled_from([ticket.status, "nowhere"])),
            to_status="open",
            category="open",
        )
    if how == "object":
        return data.draw(st.sampled_from(["not an event", events_created(event)]))
    return event


def events_created(event: Event) -> TicketCreated:
    return TicketCreated(ticket_id=event.ticket_id, at=event.at, type="r", channel="web")


@given(timelines_events(), st.data())
def test_apply_equals_the_checked_path(events: list[Event], data: st.DataObject) -> None:
    ticket = Ticket.created(events[0])  # type: ignore[arg-type]
    for event in events[1:]:
        candidate = _mangled(event, ticket, data)
        assert _outcome(ticket.apply, candidate) == _outcome(ticket._apply_checked, candidate)
        ticket = ticket._apply_checked(event)  # carry on along the valid stream


def test_a_priority_change_to_no_priority_fails_the_same_way() -> None:
    ticket = Ticket.created(TicketCreated(ticket_id="T-1", at=T0, type="r", channel="web"))
    # no constructor makes one (FieldChanged checks its priority): a trusted event does
    event = trusted_event(
        FieldChanged, ticket_id="T-1", at=T0, actor=None, name="priority", old=None, new="asap"
    )
    assert _outcome(ticket.apply, event) == _outcome(ticket._apply_checked, event)
    assert _outcome(ticket.apply, event)[0] == "error"


def test_an_event_subclass_takes_the_checked_path() -> None:
    @attrs.frozen(kw_only=True)
    class Handed(Assigned):
        pass

    ticket = Ticket.created(TicketCreated(ticket_id="T-1", at=T0, type="r", channel="web"))
    event = Handed(ticket_id="T-1", at=T0, agent="a1")
    assert ticket.apply(event) == ticket._apply_checked(event)
    assert ticket.apply(event).assignee == "a1"
    gone = Unassigned(ticket_id="T-1", at=T0 + timedelta(hours=1))
    assert ticket.apply(event).apply(gone).assignee is None


def test_copy_takes_every_field() -> None:
    # every field away from its default, so a field the copy left out is seen
    ticket = Ticket(
        id="T-9",
        type="repair",
        channel="web",
        status="doing",
        category=StatusCategory.OPEN,
        priority=Priority.HIGH,
        customer_id="C-1",
        subject="s",
        assignee="a1",
        group="g1",
        fields={"x": 1},
        tags=["t"],
        created_at=T0,
        updated_at=datetime(2027, 1, 1, tzinfo=timezone.utc),
        version=7,
        workflow="w",
        workflow_version=3,
        escalation_level=2,
    )
    copied = _copy(ticket)
    copied.__class__ = Ticket
    for field in attrs.fields(Ticket):
        assert getattr(copied, field.name) == getattr(ticket, field.name), field.name
        assert getattr(copied, field.name) != field.default, field.name
    assert copied == ticket


@given(timelines_events(max_events=1))
def test_created_equals_the_validating_constructor(events: list[Event]) -> None:
    first = events[0]
    assert isinstance(first, TicketCreated)
    got, want = Ticket.created(first), Ticket._created_checked(first)
    assert attrs.asdict(got, recurse=False) == attrs.asdict(want, recurse=False)
    assert type(got) is Ticket
    assert type(got.fields) is type(want.fields)


def test_a_creation_subclass_takes_the_validating_constructor() -> None:
    @attrs.frozen(kw_only=True)
    class Opened(TicketCreated):
        pass

    event = Opened(ticket_id="T-1", at=T0, type="r", channel="web")
    assert Ticket.created(event) == Ticket._created_checked(event)
    with pytest.raises(TimelineError, match="starts with a TicketCreated"):
        Ticket.created(Unassigned(ticket_id="T-1", at=T0))  # type: ignore[arg-type]
