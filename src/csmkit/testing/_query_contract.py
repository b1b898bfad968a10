"""Contract tests for the desk queries (filters, the SLA due index, counts); mixed into
[`StoreContract`][csmkit.testing.StoreContract]."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmkit.errors import ConcurrencyError, StoreArgumentError, TimelineError
from csmkit.storage import COUNT_BY, SlaDue, TicketStore, TicketSummary
from csmkit.testing._scenario import OFFSETS, T0, created, next_event
from csmkit.timeline import Assigned, Event, StatusChanged, Ticket

__all__ = ["QueryContract"]


def _due(minutes: int, target: str = "first_response", offset: int = 0) -> SlaDue:
    return SlaDue(
        at=(T0 + timedelta(minutes=minutes)).astimezone(OFFSETS[offset % len(OFFSETS)]),
        target=target,
    )


def _open(
    store: TicketStore,
    ticket_id: str,
    *,
    type: str = "repair",
    group: str | None = None,
    agent: str | None = None,
    due: SlaDue | None = None,
) -> Ticket:
    """Create a ticket (one batch), optionally assigned, with a due mark."""
    first = attrs.evolve(created(ticket_id), type=type)
    events: list[Event] = [first]
    ticket = Ticket.created(first)
    if group is not None or agent is not None:
        assigned = Assigned(ticket_id=ticket_id, at=T0, agent=agent, group=group)
        events.append(assigned)
        ticket = ticket.apply(assigned)
    store.append(ticket_id, events, 0, due=due)
    return ticket


def _solve(store: TicketStore, ticket: Ticket, due: SlaDue | None = None) -> Ticket:
    event = next_event(ticket, "solve", ticket.updated_at + timedelta(minutes=5))
    store.append(ticket.id, [event], ticket.version, due=due)
    return ticket.apply(event)


def _ids(store: TicketStore, before: datetime, limit: int = 1000, **filters: object) -> list[str]:
    """Every ticket id ``due_before`` lists, following cursors."""
    found: list[str] = []
    cursor = None
    while True:
        page = store.due_before(before, limit=limit, cursor=cursor, **filters)  # type: ignore[arg-type]
        assert len(page.items) <= limit
        found.extend(item.ticket_id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


class QueryContract:
    """Desk queries: filters by group and type, the SLA due index, counts."""

    def test_summaries_carry_type_and_due(self, store: TicketStore) -> None:
        due = _due(90, offset=2)
        ticket = _open(store, "T-1", type="complaint", group="g", agent="a", due=due)
        (item,) = store.find_tickets().items
        assert item == TicketSummary.of(ticket, due)
        assert item.type == "complaint"
        assert item.due is not None
        assert item.due.at.utcoffset() == due.at.utcoffset()
        assert TicketSummary.from_dict(item.to_dict()) == item

    def test_find_by_group_and_type(self, store: TicketStore) -> None:
        _open(store, "T-1", type="repair", group="north", agent="li")
        _open(store, "T-2", type="complaint", group="north")
        _open(store, "T-3", type="repair", group="south", agent="li")
        _open(store, "T-4", type="repair")

        def ids(**filters: object) -> list[str]:
            page = store.find_tickets(**filters)  # type: ignore[arg-type]
            return sorted(item.ticket_id for item in page.items)

        assert ids(group="north") == ["T-1", "T-2"]
        assert ids(type="repair") == ["T-1", "T-3", "T-4"]
        assert ids(type="repair", group="north") == ["T-1"]
        assert ids(type="repair", assignee="li", group="south") == ["T-3"]
        assert ids(type="survey") == []
        assert ids(group="\ud800") == []  # no store can hold it, so nothing matches
        with pytest.raises(StoreArgumentError):
            store.find_tickets(type=3)  # type: ignore[arg-type]

    def test_due_before_lists_earliest_first_strictly_before(self, store: TicketStore) -> None:
        _open(store, "T-late", due=_due(120))
        _open(store, "T-early", due=_due(30, offset=1))
        _open(store, "T-tie-b", due=_due(60, offset=3))
        _open(store, "T-tie-a", due=_due(60))
        _open(store, "T-none")
        assert _ids(store, T0 + timedelta(minutes=60)) == ["T-early"]
        assert _ids(store, T0 + timedelta(minutes=61)) == ["T-early", "T-tie-a", "T-tie-b"]
        assert _ids(store, T0 + timedelta(days=1)) == ["T-early", "T-tie-a", "T-tie-b", "T-late"]
        # overdue tickets (due in the past) are listed; every item has its mark
        page = store.due_before(T0 + timedelta(days=30))
        assert [item.due for item in page.items] == [_due(30), _due(60), _due(60), _due(120)]
        assert _ids(store, T0) == []

    def test_due_before_pages(self, store: TicketStore) -> None:
        for n in range(7):
            _open(store, f"T-{n}", due=_due(10 * (n % 3)))
        expected = sorted((10 * (n % 3), f"T-{n}") for n in range(7))
        for limit in (1, 2, 3, 7, 50):
            assert _ids(store, T0 + timedelta(days=1), limit=limit) == [t for _, t in expected]

    def test_due_before_filters(self, store: TicketStore) -> None:
        open_one = _open(store, "T-1", group="north", agent="li", due=_due(5))
        _open(store, "T-2", type="complaint", group="north", due=_due(6))
        _open(store, "T-3", group="south", due=_due(7))
        later = T0 + timedelta(hours=1)
        assert _ids(store, later, group="north") == ["T-1", "T-2"]
        assert _ids(store, later, type="repair") == ["T-1", "T-3"]
        assert _ids(store, later, assignee="li") == ["T-1"]
        assert _ids(store, later, category="new") == ["T-1", "T-2", "T-3"]
        _solve(store, open_one, due=_due(5))  # a mark on a solved ticket is still listed
        assert _ids(store, later, category=["solved"]) == ["T-1"]
        assert _ids(store, later, category="new") == ["T-2", "T-3"]

    def test_each_batch_replaces_the_mark(self, store: TicketStore) -> None:
        ticket = _open(store, "T-1", due=_due(30))
        event = next_event(ticket, "message", ticket.updated_at + timedelta(minutes=1))
        store.append("T-1", [event], 1, due=_due(240, target="resolution"))
        ticket = ticket.apply(event)
        (item,) = store.due_before(T0 + timedelta(days=1)).items
        assert item.due == _due(240, target="resolution")
        assert _ids(store, T0 + timedelta(hours=1)) == []
        _solve(store, ticket)  # due=None: nothing running any more
        assert _ids(store, T0 + timedelta(days=365)) == []
        (item,) = store.find_tickets().items
        assert item.due is None

    def test_rejected_batches_leave_the_mark(self, store: TicketStore) -> None:
        ticket = _open(store, "T-1", due=_due(30))
        event = next_event(ticket, "message", ticket.updated_at)
        with pytest.raises(ConcurrencyError):
            store.append("T-1", [event], 0, due=_due(1))
        bad = StatusChanged(
            ticket_id="T-1", at=T0, from_status="nope", to_status="open", category="open"
        )
        with pytest.raises(TimelineError):
            store.append("T-1", [bad], 1, due=_due(1))
        with pytest.raises(StoreArgumentError):
            store.append("T-1", [event], 1, due="soon")  # type: ignore[arg-type]
        assert store.version("T-1") == 1
        assert [item.due for item in store.due_before(T0 + timedelta(days=1)).items] == [_due(30)]

    def test_set_due_is_optimistic(self, store: TicketStore) -> None:
        ticket = _open(store, "T-1")
        assert store.set_due("T-1", _due(10), version=2) is False
        assert store.set_due("T-2", _due(10), version=1) is False
        assert _ids(store, T0 + timedelta(days=1)) == []
        assert store.set_due("T-1", _due(10), version=1) is True
        assert _ids(store, T0 + timedelta(days=1)) == ["T-1"]
        _solve(store, ticket, due=_due(20))
        assert store.set_due("T-1", None, version=1) is False  # stale: a newer state exists
        assert store.set_due("T-1", None, version=2) is True
        assert _ids(store, T0 + timedelta(days=1)) == []
        with pytest.raises(StoreArgumentError):
            store.set_due("T-1", _due(1), version=0)

    def test_bad_query_arguments(self, store: TicketStore) -> None:
        _open(store, "T-1", due=_due(1))
        _open(store, "T-2", due=_due(2))
        with pytest.raises(StoreArgumentError, match="before"):
            store.due_before(datetime(2026, 10, 8, 12, 0))  # naive
        with pytest.raises(StoreArgumentError):
            store.due_before(T0, limit=0)
        with pytest.raises(StoreArgumentError, match="by"):
            store.count_tickets("colour")
        # a cursor of one listing is refused by the other
        cursor = store.find_tickets(limit=1).next_cursor
        assert cursor is not None
        with pytest.raises(StoreArgumentError):
            store.due_before(T0 + timedelta(days=1), cursor=cursor)
        due_cursor = store.due_before(T0 + timedelta(days=1), limit=1).next_cursor
        assert due_cursor is not None
        with pytest.raises(StoreArgumentError):
            store.find_tickets(cursor=due_cursor)

    def test_counts(self, store: TicketStore) -> None:
        assert store.count_tickets("category") == {}
        one = _open(store, "T-1", group="north", agent="li")
        _open(store, "T-2", type="complaint", group="north")
        _open(store, "T-3", group="south", agent="li")
        _open(store, "T-4")
        _solve(store, one)
        assert store.count_tickets("category") == {"new": 3, "solved": 1}
        assert store.count_tickets("assignee") == {None: 2, "li": 2}
        assert list(store.count_tickets("assignee")) == [None, "li"]
        assert store.count_tickets("group") == {None: 1, "north": 2, "south": 1}
        assert store.count_tickets("type") == {"complaint": 1, "repair": 3}
        assert store.count_tickets("priority") == {"normal": 4}
        assert store.count_tickets("status", category="new") == {"new": 3}
        assert store.count_tickets("assignee", category=["new"], group="south") == {"li": 1}
        assert store.count_tickets("type", assignee="\ud800") == {}

    def test_due_index_matches_a_model(self, make_store: Callable[[], TicketStore]) -> None:
        """Whatever the appends, the index holds each ticket's latest mark."""

        @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(steps=_STEPS, before=st.integers(-600, 700))
        def check(steps: list[tuple[int, str, int | None, str]], before: int) -> None:
            with make_store() as store:
                _check_model(store, steps, before)

        check()


_STEPS = st.lists(
    st.tuples(
        st.integers(0, 5),  # ticket
        st.sampled_from(["message", "assign", "open", "pending", "solve"]),
        st.none() | st.integers(-600, 600),  # due, minutes from T0
        st.sampled_from(["repair", "complaint"]),
    ),
    min_size=1,
    max_size=25,
)


def _check_model(
    store: TicketStore, steps: list[tuple[int, str, int | None, str]], before: int
) -> None:
    tickets: dict[str, Ticket] = {}
    marks: dict[str, SlaDue | None] = {}
    for number, action, minutes, kind in steps:
        ticket_id = f"T-{number}"
        due = None if minutes is None else _due(minutes, offset=number)
        ticket = tickets.get(ticket_id)
        if ticket is None:
            tickets[ticket_id] = _open(store, ticket_id, type=kind, due=due)
        else:
            at = ticket.updated_at + timedelta(seconds=1)
            event = next_event(ticket, action, at, agent=f"agent-{number % 2}")
            store.append(ticket_id, [event], ticket.version, due=due)
            tickets[ticket_id] = ticket.apply(event)
        marks[ticket_id] = due
    instant = (T0 + timedelta(minutes=before)).astimezone(timezone.utc)
    expected = sorted(
        (mark.at, ticket_id)
        for ticket_id, mark in marks.items()
        if mark is not None and mark.at < instant
    )
    assert _ids(store, instant, limit=2) == [ticket_id for _, ticket_id in expected]
    page = store.find_tickets(limit=100)
    assert {item.ticket_id: item for item in page.items} == {
        ticket_id: TicketSummary.of(ticket, marks[ticket_id])
        for ticket_id, ticket in tickets.items()
    }
    for by in COUNT_BY:
        values = Counter(getattr(getattr(t, by), "value", getattr(t, by)) for t in tickets.values())
        assert store.count_tickets(by) == dict(values)
