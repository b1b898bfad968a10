"""A handle appending to a ticket it wrote last writes the index row without reading it
(a compare-and-set of the whole row), and falls back to reading it whenever the row is
not exactly what it wrote: the rows and outcomes are those of the reading path."""

from __future__ import annotations

import sqlite3
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _sqlite_trace import statements
from csmkit._time import format_instant
from csmkit.errors import ConcurrencyError, TimelineError
from csmkit.storage import SlaDue, SqliteStore
from csmkit.storage._common import order_key
from csmkit.storage._snapshot import load_state
from csmkit.testing import ACTIONS, OFFSETS, T0, created, next_event
from csmkit.timeline import Event, StatusCategory, StatusChanged, Timeline

_COLUMNS = (
    "version, state, status, category, priority, assignee, group_name, customer_id, "
    "created_at, updated_at, updated_key, type, due_at, due_key, due_target"
)


def _row(path: Path, ticket_id: str) -> tuple[Any, ...]:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(
            f"SELECT {_COLUMNS} FROM tickets WHERE ticket_id = ?", (ticket_id,)
        ).fetchone()
    finally:
        connection.close()
    assert row is not None
    return tuple(row)


def _expected_row(events: list[Event], due: SlaDue | None) -> tuple[Any, ...]:
    """The index row of a stream, from its definition: the fold's attributes, instants
    as written (with their offsets) and as UTC order keys, the latest due mark."""
    ticket = Timeline(events).ticket
    return (
        ticket.version,
        ticket,  # the state snapshot, compared by what it loads as
        ticket.status,
        ticket.category.value,
        ticket.priority.value,
        ticket.assignee,
        ticket.group,
        ticket.customer_id,
        format_instant(ticket.created_at),
        format_instant(ticket.updated_at),
        order_key(ticket.updated_at),
        ticket.type,
        None if due is None else format_instant(due.at),
        None if due is None else order_key(due.at),
        None if due is None else due.target,
    )


def _check_row(path: Path, ticket_id: str, events: list[Event], due: SlaDue | None) -> None:
    row = _row(path, ticket_id)
    expected = _expected_row(events, due)
    assert load_state(row[1], ticket_id, row[0]) == expected[1]
    assert row[:1] + row[2:] == expected[:1] + expected[2:]


def _grow(events: list[Event], action: str, seconds: int = 60, **options: Any) -> Event:
    ticket = Timeline(events).ticket
    event = next_event(ticket, action, ticket.updated_at + timedelta(seconds=seconds), **options)
    events.append(event)
    return event


def _due(minutes: int, offset: timezone = timezone.utc, target: str = "resolution") -> SlaDue:
    return SlaDue(at=(T0 + timedelta(minutes=minutes)).astimezone(offset), target=target)


def test_the_writing_handle_does_not_read_the_row(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    events: list[Event] = [created("T-1", customer_id="C-1")]
    with SqliteStore(path) as store:
        seen: list[str] = []
        with statements(store) as more:
            store.append("T-1", events, 0, due=_due(30))
        seen += more
        _check_row(path, "T-1", events, _due(30))
        batch = [_grow(events, "assign"), _grow(events, "open")]
        with statements(store) as more:
            store.append("T-1", batch, 1, due=_due(30))
        seen += more
        _check_row(path, "T-1", events, _due(30))
        with statements(store) as more:
            store.append("T-1", [_grow(events, "message", message_id="<1@x>")], 3)
        seen += more
        _check_row(path, "T-1", events, None)
    # BEGIN, the ticket row, each event and its position, the message id, COMMIT.
    assert len(seen) == (2 + 3) + (2 + 2 * 2 + 1) + (2 + 2 + 1 + 1), seen
    assert not [s for s in seen if s.lstrip().upper().startswith("SELECT")], seen


@pytest.mark.parametrize("offset", [timezone.utc, OFFSETS[1]], ids=["same text", "other offset"])
def test_a_due_mark_set_by_another_handle_is_replaced(tmp_path: Path, offset: timezone) -> None:
    # The writer's own row says due at +30 min; another handle moves it (same version).
    # The writer's next append with the +30 min mark again must write it back, although
    # the mark equals the one it wrote itself.
    path = tmp_path / "desk.db"
    events: list[Event] = [created("T-1")]
    with SqliteStore(path) as writer, SqliteStore(path) as other:
        writer.append("T-1", events, 0, due=_due(30))
        assert other.set_due("T-1", _due(30, offset, "first_response"), version=1)
        writer.append("T-1", [_grow(events, "assign")], 1, due=_due(30))
        _check_row(path, "T-1", events, _due(30))
        # After its own set_due, the writer knows its row: no read.
        assert writer.set_due("T-1", _due(45), version=2)
        with statements(writer) as seen:
            writer.append("T-1", [_grow(events, "open")], 2, due=_due(45))
        assert not [s for s in seen if s.startswith("SELECT")], seen
        _check_row(path, "T-1", events, _due(45))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("assignee", "someone.else"),
        ("status", "tampered"),
        ("state", None),
        ("updated_key", "0000"),
        ("type", None),
        ("due_target", "first_response"),
    ],
)
def test_a_row_changed_behind_the_handle_is_written_whole(
    tmp_path: Path, column: str, value: str | None
) -> None:
    path = tmp_path / "desk.db"
    events: list[Event] = [created("T-1")]
    with SqliteStore(path) as store:
        store.append("T-1", events, 0, due=_due(30))
        store.append("T-1", [_grow(events, "assign")], 1, due=_due(30))
        connection = sqlite3.connect(path)
        connection.execute(f"UPDATE tickets SET {column} = ?", (value,))
        connection.commit()
        connection.close()
        store.append("T-1", [_grow(events, "message")], 2, due=_due(30))
    _check_row(path, "T-1", events, _due(30))


def test_a_stale_writer_gets_a_conflict_with_the_actual_version(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    events: list[Event] = [created("T-1")]
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", events, 0)
        mine = [*events]
        second.append("T-1", [_grow(events, "assign")], 1)
        with pytest.raises(ConcurrencyError) as info:
            first.append("T-1", [_grow(mine, "open")], 1)
        assert (info.value.expected, info.value.actual) == (1, 2)
        # Nothing of the refused batch was written; the writer goes on from the file.
        assert first.load("T-1").events == tuple(events)
        assert first.position() == 2
        first.append("T-1", [_grow(events, "open")], 2)
    _check_row(path, "T-1", events, None)


def test_a_second_creation_gets_a_conflict_with_the_actual_version(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", [created("T-1")], 0)
        with pytest.raises(ConcurrencyError) as info:
            second.append("T-1", [created("T-1", T0 + timedelta(hours=1))], 0)
        assert (info.value.expected, info.value.actual) == (0, 1)
        assert second.load("T-1").events == (created("T-1"),)


def test_a_stale_writer_with_an_invalid_batch_gets_the_conflict(tmp_path: Path) -> None:
    # Which error comes first is the reading path's: the version, then the batch.
    path = tmp_path / "desk.db"
    events: list[Event] = [created("T-1")]
    bad = StatusChanged(
        ticket_id="T-1",
        at=T0 + timedelta(hours=1),
        from_status="not-new",
        to_status="open",
        category=StatusCategory.OPEN,
    )
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", events, 0)
        second.append("T-1", [_grow(events, "assign")], 1)
        with pytest.raises(ConcurrencyError):
            first.append("T-1", [bad], 1)
        with pytest.raises(TimelineError):
            second.append("T-1", [bad], 2)
    _check_row(path, "T-1", events, None)


_STEP = st.tuples(
    st.sampled_from(["append", "append", "append", "set_due", "edit"]),
    st.integers(0, 1),  # handle
    st.integers(0, 2),  # ticket
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3),
    st.none() | st.tuples(st.integers(-60, 60), st.sampled_from(OFFSETS)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_STEP, max_size=25))
def test_rows_equal_their_definition_whichever_handle_writes(
    tmp_path_factory: pytest.TempPathFactory, steps: list[Any]
) -> None:
    """Appends through two handles of one file, due marks moved by either, columns
    changed behind both: after each append the ticket's row is the one its stream
    and due mark define, and each handle's outcome is the reference's (a stale
    handle's append is a conflict)."""
    path = tmp_path_factory.mktemp("written") / "desk.db"
    streams: dict[str, list[Event]] = {}
    edited: set[str] = set()  # rows changed behind the handles since their last append
    handles = (SqliteStore(path, synchronous="off"), SqliteStore(path, synchronous="off"))
    clock = T0
    try:
        for kind, handle, number, actions, mark in steps:
            ticket_id = f"T-{number}"
            store = handles[handle]
            due = None if mark is None else _due(mark[0], mark[1])
            events = streams.get(ticket_id)
            if kind == "append":
                clock += timedelta(minutes=1)
                if events is None:
                    batch: list[Event] = [created(ticket_id, clock)]
                    events = streams[ticket_id] = []
                else:
                    batch = []
                    ticket = Timeline(events).ticket
                    for action in actions:
                        clock += timedelta(seconds=1)
                        event = next_event(ticket, action, clock, message_id=f"<{clock}@x>")
                        batch.append(event)
                        ticket = ticket.apply(event)
                store.append(ticket_id, batch, len(events), due=due)
                events.extend(batch)
                edited.discard(ticket_id)
                _check_row(path, ticket_id, events, due)
            elif events is not None and kind == "set_due":
                assert store.set_due(ticket_id, due, version=len(events))
                if ticket_id not in edited:
                    _check_row(path, ticket_id, events, due)
            elif events is not None:  # a column changed behind both handles
                edited.add(ticket_id)
                connection = sqlite3.connect(path)
                connection.execute(
                    "UPDATE tickets SET assignee = 'x', updated_key = '0' WHERE ticket_id = ?",
                    (ticket_id,),
                )
                connection.commit()
                connection.close()
            # A handle that did not write the latest version conflicts, the other goes on.
            for other in handles:
                if events:
                    stale = other.version(ticket_id) - 1
                    with pytest.raises(ConcurrencyError):
                        other.append(ticket_id, [events[-1]], stale)
        for ticket_id, events in streams.items():
            assert list(handles[0].load(ticket_id)) == events
            assert list(handles[1].load(ticket_id)) == events
    finally:
        for store in handles:
            store.close()
