"""SQLite appends fold onto the stored state: no re-reading of a ticket's history."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from _sqlite_trace import statements
from csmkit.errors import ConcurrencyError
from csmkit.storage import Change, Customer, SlaDue, SqliteStore, TicketPage, TicketStore
from csmkit.storage._snapshot import dump_state, load_state
from csmkit.testing import ACTIONS, T0, created, next_event, run_store_state_machine
from csmkit.timeline import Event, StatusCategory, Ticket, Timeline


def _history(ticket_id: str, size: int) -> list[Event]:
    first = created(ticket_id, T0)
    events: list[Event] = [first]
    ticket = Ticket.created(first)
    for n in range(size - 1):
        action = ACTIONS[n % len(ACTIONS)]
        event = next_event(ticket, action, T0 + timedelta(minutes=n + 1), message_id=f"<{n}@x>")
        events.append(event)
        ticket = ticket.apply(event)
    return events


def _next(store: TicketStore, ticket_id: str, action: str = "message") -> tuple[Event, int]:
    ticket = store.load(ticket_id).ticket
    at = ticket.updated_at + timedelta(seconds=1)
    return next_event(ticket, action, at), ticket.version


def _reads_events(seen: list[str]) -> list[str]:
    return [s for s in seen if "FROM events" in s or "from events" in s]


def test_append_after_another_writer_does_not_read_the_history(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", _history("T-1", 60), 0)
        event, version = _next(first, "T-1")
        # `second` never saw the ticket (cold cache): one snapshot row, no events.
        with statements(second) as seen:
            assert second.append("T-1", [event], version) == 61
        assert _reads_events(seen) == [], seen
        assert any("SELECT version, state, " in s and "FROM tickets" in s for s in seen)
        # `first` is now stale (its cache holds version 60): same again.
        event, version = _next(second, "T-1", "assign")
        with statements(first) as seen:
            assert first.append("T-1", [event], version) == 62
        assert _reads_events(seen) == [], seen
        assert list(first.load("T-1")) == list(second.load("T-1"))
        assert second.load("T-1").ticket == first.load("T-1").ticket


def test_a_lost_update_between_handles_is_still_a_conflict(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", _history("T-1", 5), 0)
        mine, version = _next(second, "T-1")
        theirs, _ = _next(first, "T-1", "assign")
        first.append("T-1", [theirs], version)
        with statements(second) as seen, pytest.raises(ConcurrencyError) as info:
            second.append("T-1", [mine], version)
        assert (info.value.expected, info.value.actual) == (5, 6)
        assert _reads_events(seen) == []
        assert second.version("T-1") == 6
        assert list(second.load("T-1"))[-1] == theirs


def _tickets_state(path: Path, ticket_id: str) -> tuple[int, str | None]:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(
            "SELECT version, state FROM tickets WHERE ticket_id = ?", (ticket_id,)
        ).fetchone()
    finally:
        connection.close()
    return int(row[0]), row[1]


@pytest.mark.parametrize(
    "state",
    [None, "not json", '{"id": "T-1"}', "WRONG-VERSION", "OTHER-TICKET"],
    ids=["missing (before schema 3)", "garbage", "partial", "stale", "other ticket"],
)
def test_missing_or_unusable_state_folds_the_stream_once(tmp_path: Path, state: str | None) -> None:
    path = tmp_path / "desk.db"
    events = _history("T-1", 12)
    with SqliteStore(path) as store:
        store.append("T-1", events, 0)
    folded = Timeline(events).ticket
    if state == "WRONG-VERSION":
        state = dump_state(Timeline(events[:-1]).ticket)
    elif state == "OTHER-TICKET":
        state = dump_state(Timeline(_history("T-2", 12)).ticket)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE tickets SET state = ?", (state,))
    connection.commit()
    connection.close()
    with SqliteStore(path) as store:
        event, version = _next(store, "T-1")
        with statements(store) as seen:
            assert store.append("T-1", [event], version) == 13
        assert _reads_events(seen) != []  # folded from the stream
        assert store.load("T-1").ticket == folded.apply(event)
    version, text = _tickets_state(path, "T-1")
    assert load_state(text, "T-1", version) == folded.apply(event)  # and stored again


def test_stored_state_is_the_fold_of_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        for n, size in enumerate((1, 2, 9, 30)):
            events = _history(f"T-{n}", size)
            for start in range(0, size, 4):  # several appends per ticket
                store.append(f"T-{n}", events[start : start + 4], start)
            version, text = _tickets_state(path, f"T-{n}")
            assert version == size
            assert load_state(text, f"T-{n}", version) == Timeline(events).ticket


class TwoHandles:
    """One SQLite file behind two store handles; writes alternate, so caches go stale."""

    def __init__(self, path: Path) -> None:
        self.handles = (SqliteStore(path, synchronous="off"), SqliteStore(path))
        self.turn = itertools.cycle(self.handles)

    def append(
        self,
        ticket_id: str,
        events: Sequence[Event],
        expected_version: int,
        *,
        due: SlaDue | None = None,
    ) -> int:
        return next(self.turn).append(ticket_id, events, expected_version, due=due)

    def due_before(self, before: datetime, **filters: Any) -> TicketPage:
        return self.handles[0].due_before(before, **filters)

    def set_due(self, ticket_id: str, due: SlaDue | None, *, version: int) -> bool:
        return self.handles[1].set_due(ticket_id, due, version=version)

    def count_tickets(self, by: str, **filters: Any) -> dict[str | None, int]:
        return self.handles[0].count_tickets(by, **filters)

    def load(self, ticket_id: str) -> Timeline:
        return self.handles[1].load(ticket_id)

    def version(self, ticket_id: str) -> int:
        return self.handles[0].version(ticket_id)

    def find_tickets(
        self,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        customer_id: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        return self.handles[1].find_tickets(
            category=category,
            assignee=assignee,
            customer_id=customer_id,
            updated_since=updated_since,
            limit=limit,
            cursor=cursor,
        )

    def find_ticket_by_message_id(self, message_id: str) -> str | None:
        return self.handles[0].find_ticket_by_message_id(message_id)

    def position(self) -> int:
        return self.handles[1].position()

    def changes_after(self, position: int, *, limit: int = 1000) -> list[Change]:
        return self.handles[0].changes_after(position, limit=limit)

    def save_customer(self, customer: Customer) -> None:
        next(self.turn).save_customer(customer)

    def get_customer(self, customer_id: str) -> Customer:
        return self.handles[1].get_customer(customer_id)

    def find_customer(self, kind: str, value: str) -> Customer | None:
        return self.handles[0].find_customer(kind, value)

    def close(self) -> None:
        for handle in self.handles:
            handle.close()

    def __enter__(self) -> TwoHandles:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def test_two_handles_behave_like_the_memory_model(tmp_path: Path) -> None:
    counter = itertools.count()

    def make() -> TicketStore:
        return TwoHandles(tmp_path / f"d{next(counter)}.db")

    run_store_state_machine(make, max_examples=15)
