"""A SQLite handle hands out the timelines it wrote or read only while they are current.

The handle keeps the timeline of each stream it appended to or loaded; ``load`` checks
the stream's version in the file first. These tests compare every load, through handles
that write in turns (so each one's timelines go stale), with the reference: a timeline
folded from all events so far, and a new handle reading the file.
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import ConcurrencyError, StorageError
from csmkit.storage import SqliteStore
from csmkit.testing import T0, created, next_event
from csmkit.timeline import Event, Timeline
from strategies import timelines_events

_files = itertools.count()


def _same(loaded: Timeline, events: list[Event]) -> None:
    reference = Timeline(events)
    assert loaded == reference
    assert [type(e) for e in loaded] == [type(e) for e in events]
    assert [e.at.utcoffset() for e in loaded] == [e.at.utcoffset() for e in events]
    assert loaded.ticket == reference.ticket
    assert loaded.version == len(events)
    for event in events:  # the memoised states agree too
        assert loaded.state_at(event.at) == reference.state_at(event.at)


@given(
    events=timelines_events(max_events=10),
    plan=st.lists(st.tuples(st.integers(1, 4), st.sampled_from([0, 1]), st.booleans())),
    readers=st.lists(st.sampled_from([0, 1]), max_size=4),
)
def test_loads_through_writing_handles_equal_the_reference(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[Event],
    plan: list[tuple[int, int, bool]],
    readers: list[int],
) -> None:
    path = tmp_path_factory.mktemp("cache") / f"d{next(_files)}.db"
    ticket_id = events[0].ticket_id
    with SqliteStore(path) as first, SqliteStore(path, synchronous="off") as second:
        handles = (first, second)
        written = 0
        steps = iter(plan)
        while written < len(events):
            size, writer, stale = next(steps, (len(events), 0, False))
            batch = events[written : written + size]
            if stale and written > 0:
                # a writer that missed the last batch loses and changes nothing
                with pytest.raises(ConcurrencyError):
                    handles[writer].append(ticket_id, batch, written - 1)
            assert handles[writer].append(ticket_id, batch, written) == written + len(batch)
            written += len(batch)
            for reader in readers:
                _same(handles[reader].load(ticket_id), events[:written])
        for handle in handles:
            _same(handle.load(ticket_id), events)
    with SqliteStore(path) as fresh:
        _same(fresh.load(ticket_id), events)


def test_another_handles_append_is_seen_not_the_held_timeline(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    first_event = created("T-1", T0)
    with SqliteStore(path) as mine, SqliteStore(path) as theirs:
        mine.append("T-1", [first_event], 0)
        held = mine.load("T-1")
        assert mine.load("T-1") is held  # current: handed out again
        event = next_event(held.ticket, "message", T0.replace(hour=10))
        theirs.append("T-1", [event], 1)
        again = mine.load("T-1")
        assert again is not held
        _same(again, [first_event, event])


def test_held_timelines_do_not_hide_a_damaged_file_from_new_handles(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1", T0)], 0)
        store.load("T-1")
        connection = sqlite3.connect(path)
        connection.execute('UPDATE events SET payload = \'{"kind": "exploded"}\'')
        connection.execute("UPDATE tickets SET version = 2")  # a version it does not hold
        connection.commit()
        connection.close()
        with pytest.raises(StorageError):
            store.load("T-1")  # re-read, not the held timeline
    with SqliteStore(path) as store, pytest.raises(StorageError):
        store.load("T-1")


def test_an_append_onto_a_stale_held_timeline_does_not_extend_it(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    events: list[Event] = [created("T-1", T0)]
    timeline = Timeline(events)
    for n in range(4):
        event = next_event(timeline.ticket, "message", T0.replace(hour=10 + n))
        events.append(event)
        timeline = timeline.append(event)
    with SqliteStore(path) as mine, SqliteStore(path) as theirs:
        mine.append("T-1", events[:2], 0)  # mine holds the timeline at version 2
        theirs.append("T-1", events[2:3], 2)
        mine.append("T-1", events[3:], 3)  # its held timeline is one batch behind
        _same(mine.load("T-1"), events)
        _same(theirs.load("T-1"), events)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("DELETE FROM events WHERE version = 2", "misses event version 2"),
        ("UPDATE events SET payload = '[1]' WHERE version = 3", "event 3 is unreadable"),
        ("UPDATE events SET payload = '{' WHERE version = 1", "event 1 is unreadable"),
    ],
)
def test_a_damaged_stream_is_an_error_naming_the_row(
    tmp_path: Path, damage: str, message: str
) -> None:
    path = tmp_path / "desk.db"
    first = created("T-1", T0)
    timeline = Timeline([first])
    events: list[Event] = [first]
    for n in range(3):
        event = next_event(timeline.ticket, "message", T0.replace(hour=10 + n))
        events.append(event)
        timeline = timeline.append(event)
    with SqliteStore(path) as store:
        store.append("T-1", events, 0)
    connection = sqlite3.connect(path)
    connection.execute(damage)
    connection.commit()
    connection.close()
    with SqliteStore(path) as store, pytest.raises(StorageError, match=f"'T-1' {message}"):
        store.load("T-1")
