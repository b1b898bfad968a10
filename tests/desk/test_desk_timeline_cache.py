"""The desk's timeline cache is never served as the truth: whoever else writes a ticket
between two of the desk's operations (another store object on the same file, a desk on
it, a second desk or the user on the desk's own store object), the desk's next read
shows that write and its next operation builds on it, nothing lost."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _ticker_desk import DAY, Clock, Outbox, mail, make_desk

from csmkit.desk import ServiceDesk
from csmkit.storage import SqliteStore
from csmkit.timeline import MessageAdded, Timeline

NOON = DAY.replace(hour=10)

#: How the other write is made: (same store object?, through a desk?).
WRITERS = {
    "another store object on the file": (False, False),
    "a desk on another store object": (False, True),
    "the desk's own store object, directly": (True, False),
    "a second desk on the same store object": (True, True),
}


def _writer(
    store: SqliteStore, path: str, writer: str, clock: Clock
) -> tuple[Callable[[str], None], SqliteStore]:
    """A function writing one outbound message to a ticket, as ``writer`` does."""
    same, through_desk = WRITERS[writer]
    handle = store if same else SqliteStore(path)
    if through_desk:
        other = make_desk(handle, clock, Outbox())
        return (lambda ticket_id: _reply(other, ticket_id, "agent-2")), handle

    def append(ticket_id: str) -> None:
        version = handle.version(ticket_id)
        event = MessageAdded(
            ticket_id=ticket_id,
            at=clock.now,
            direction="outbound",
            channel="email",
            author="agent-2",
        )
        handle.append(ticket_id, [event], version)

    return append, handle


def _reply(desk: ServiceDesk, ticket_id: str, author: str) -> None:
    desk.reply(ticket_id, author=author)


def _authors(timeline: Timeline) -> list[str | None]:
    return [event.author for event in timeline if isinstance(event, MessageAdded)]


#: (database, writer): an in-memory database has no other store object.
CASES = [("desk.db", writer) for writer in WRITERS] + [
    (":memory:", writer) for writer, (same, _) in WRITERS.items() if same
]


@pytest.mark.parametrize("read_first", [True, False], ids=["read", "operate"])
@pytest.mark.parametrize(("name", "writer"), CASES)
def test_a_write_between_two_operations_is_seen_and_kept(
    tmp_path: Path, name: str, writer: str, read_first: bool
) -> None:
    path = name if name == ":memory:" else str(tmp_path / name)
    clock = Clock(NOON)
    store = SqliteStore(path)
    desk = make_desk(store, clock, Outbox())
    write, handle = _writer(store, path, writer, clock)
    ticket_id = desk.receive(mail("li", NOON)).ticket_id
    assert ticket_id is not None
    desk.tick(NOON)
    clock.now += timedelta(minutes=1)
    _reply(desk, ticket_id, "agent-1")  # the desk's cache now holds the ticket
    before = desk.ticket(ticket_id).version
    clock.now += timedelta(minutes=1)
    write(ticket_id)
    stored = handle.load(ticket_id)
    assert len(stored) > before
    if read_first:
        assert desk.ticket(ticket_id).version == len(stored)
        assert desk.timeline(ticket_id) == stored
    clock.now += timedelta(minutes=1)
    _reply(desk, ticket_id, "agent-3")
    desk.tick(clock.now)
    final = handle.load(ticket_id)  # (a store object that did not write last)
    if path != ":memory:":
        with SqliteStore(path) as reader:
            assert reader.load(ticket_id) == final
    assert tuple(final)[: len(stored)] == tuple(stored)  # nothing lost, nothing rewritten
    assert _authors(final)[-3:] == ["agent-1", "agent-2", "agent-3"]
    assert desk.timeline(ticket_id) == final
    assert [event for event in final if isinstance(event, MessageAdded)][-1].at == clock.now
