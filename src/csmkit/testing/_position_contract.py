"""Contract tests for write positions (``position`` / ``changes_after``); mixed into
[`StoreContract`][csmkit.testing.StoreContract]."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from csmkit.errors import ConcurrencyError, CsmkitError, StoreArgumentError, TimelineError
from csmkit.storage import Change, TicketStore
from csmkit.testing._scenario import T0, created, next_event
from csmkit.timeline import StatusChanged

__all__ = ["PositionContract"]


def _all_changes(store: TicketStore, after: int = 0, limit: int = 1000) -> list[Change]:
    """Every change after ``after``, paged ``limit`` at a time."""
    found: list[Change] = []
    while True:
        page = store.changes_after(after, limit=limit)
        assert len(page) <= limit
        if not page:
            return found
        found.extend(page)
        after = page[-1].position


def _grow(store: TicketStore, ticket_id: str, steps: int) -> None:
    """Create ``ticket_id`` (when new) and append ``steps`` message events one by one."""
    version = store.version(ticket_id)
    if version == 0:
        store.append(ticket_id, [created(ticket_id)], 0)
        version = 1
    ticket = store.load(ticket_id).ticket
    for _ in range(steps):
        event = next_event(ticket, "message", ticket.updated_at + timedelta(minutes=1))
        version = store.append(ticket_id, [event], version)
        ticket = ticket.apply(event)


class PositionContract:
    """Write positions: strictly increasing in commit order, each event exactly once."""

    def test_empty_store_is_at_position_zero(self, store: TicketStore) -> None:
        assert store.position() == 0
        assert store.changes_after(0) == []

    def test_every_event_gets_one_increasing_position(self, store: TicketStore) -> None:
        _grow(store, "T-1", 2)
        _grow(store, "T-2", 1)
        ticket = store.load("T-1").ticket
        at = ticket.updated_at + timedelta(minutes=1)
        first = next_event(ticket, "assign", at)
        second = next_event(ticket.apply(first), "open", at)
        store.append("T-1", [first, second], 3)
        changes = _all_changes(store)
        assert [(c.ticket_id, c.version) for c in changes] == [
            ("T-1", 1),
            ("T-1", 2),
            ("T-1", 3),
            ("T-2", 1),
            ("T-2", 2),
            ("T-1", 4),
            ("T-1", 5),
        ]
        positions = [c.position for c in changes]
        assert positions == sorted(set(positions))
        assert positions[0] >= 1
        assert store.position() == positions[-1]
        timeline = store.load("T-1")
        assert [c.kind for c in changes if c.ticket_id == "T-1"] == [e.kind for e in timeline]

    def test_changes_after_any_position_are_the_later_ones(self, store: TicketStore) -> None:
        for number in range(4):
            _grow(store, f"T-{number % 2}", 2)
        everything = _all_changes(store)
        for index, change in enumerate(everything):
            assert _all_changes(store, change.position) == everything[index + 1 :]
        assert _all_changes(store, store.position()) == []

    def test_paging_visits_every_change_once(self, store: TicketStore) -> None:
        _grow(store, "T-1", 6)
        _grow(store, "T-2", 4)
        everything = store.changes_after(0, limit=1000)
        assert len(everything) == 12
        for limit in (1, 2, 5, 11, 12, 13):
            assert _all_changes(store, 0, limit) == everything

    def test_rejected_batches_take_no_visible_position(self, store: TicketStore) -> None:
        _grow(store, "T-1", 1)
        before = store.position()
        ticket = store.load("T-1").ticket
        at = ticket.updated_at + timedelta(minutes=1)
        good = next_event(ticket, "message", at)
        bad = StatusChanged(
            ticket_id="T-1", at=at, from_status="no-such-state", to_status="x", category="open"
        )
        with pytest.raises(TimelineError):
            store.append("T-1", [good, bad], 2)
        with pytest.raises(ConcurrencyError):
            store.append("T-1", [good], 1)
        assert store.position() == before
        assert store.changes_after(before) == []
        store.append("T-1", [good], 2)
        (change,) = store.changes_after(before)
        assert change.position > before
        assert (change.ticket_id, change.version) == ("T-1", 3)
        assert [c.version for c in _all_changes(store)] == [1, 2, 3]

    def test_concurrent_writers_get_distinct_ordered_positions(self, store: TicketStore) -> None:
        errors: list[BaseException] = []

        def writer(number: int) -> None:
            try:
                _grow(store, f"W-{number}", 5)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        changes = _all_changes(store)
        assert len(changes) == 24
        assert len({c.position for c in changes}) == 24
        assert [c.position for c in changes] == sorted(c.position for c in changes)
        for number in range(4):
            versions = [c.version for c in changes if c.ticket_id == f"W-{number}"]
            assert versions == [1, 2, 3, 4, 5, 6]  # each stream in its own order

    def test_bad_change_queries_are_rejected(self, store: TicketStore) -> None:
        for position, limit in ((-1, 10), (True, 10), (1.0, 10), (0, 0), (0, True), (0, -3)):
            with pytest.raises(StoreArgumentError):
                store.changes_after(position, limit=limit)  # type: ignore[arg-type]

    def test_position_of_a_closed_store_is_refused(self, store: TicketStore) -> None:
        store.append("T-1", [created("T-1", T0)], 0)
        store.close()
        with pytest.raises(CsmkitError):
            store.position()
        with pytest.raises(CsmkitError):
            store.changes_after(0)
