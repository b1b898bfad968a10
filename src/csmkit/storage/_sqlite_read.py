"""What [`SqliteStore`][csmkit.storage.SqliteStore] reads back: a stream's event rows, and
the states and timelines a handle holds between calls."""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict

from csmkit.errors import StorageError
from csmkit.storage._eventjson import decode_event
from csmkit.storage._sqlite_append import Row, with_due
from csmkit.timeline import Event, Ticket, Timeline
from csmkit.timeline.trusted import Untrusted, stored_events

__all__ = ["Held", "read_events"]

_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError)
_FALL_BACK = (Untrusted, *_UNREADABLE)
_RAW_DECODE = json.JSONDecoder().raw_decode


def _object(text: str) -> object:
    """``json.loads(text)`` for the compact text the store writes; else `Untrusted`."""
    value, end = _RAW_DECODE(text)
    if end != len(text):
        raise Untrusted
    return value


def read_events(connection: sqlite3.Connection, where: str, ticket_id: str) -> list[Event]:
    """The stream's events in version order (empty when there is none).

    Raises:
        StorageError: a version is missing or a row is not a stored event (the message
            names the ticket and the version).
    """
    rows = connection.execute(
        "SELECT version, payload FROM events WHERE ticket_id = ? ORDER BY version",
        (ticket_id,),
    ).fetchall()
    if rows and [row[0] for row in rows] == list(range(1, len(rows) + 1)):
        try:
            # The common kinds checked value by value without their constructors
            # (the same events); anything it does not vouch for takes the loop below.
            return stored_events([_object(payload) for _, payload in rows])
        except _FALL_BACK:
            pass  # the loop below names the row
    events: list[Event] = []
    for expected, (version, payload) in enumerate(rows, 1):
        if version != expected:
            raise StorageError(f"{where}: ticket {ticket_id!r} misses event version {expected}")
        try:
            events.append(decode_event(payload))
        except _UNREADABLE as exc:
            raise StorageError(
                f"{where}: ticket {ticket_id!r} event {version} is unreadable: {exc}"
            ) from None
    return events


class Held:
    """The latest states and timelines one handle wrote or read, least recently used
    dropped first. Each is only valid at its own version: callers compare it with the
    version in the file (in the same transaction for writes) before using it. With a
    state the handle wrote, the ticket's index row as written (see `_sqlite_append`).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.tickets: OrderedDict[str, tuple[Ticket, Row]] = OrderedDict()
        self.timelines: OrderedDict[str, Timeline] = OrderedDict()

    def ticket(self, ticket_id: str, version: int) -> Ticket | None:
        """The held state of ``ticket_id`` if it is at ``version``."""
        held = self.tickets.get(ticket_id)
        return held[0] if held is not None and held[0].version == version else None

    def written(self, ticket_id: str, version: int) -> tuple[Ticket, Row] | None:
        """The state and index row this handle wrote for ``ticket_id`` at ``version``."""
        held = self.tickets.get(ticket_id)
        return held if held is not None and held[0].version == version else None

    def timeline(self, ticket_id: str) -> Timeline | None:
        """The held timeline of ``ticket_id`` (at whatever version it is)."""
        return self.timelines.get(ticket_id)

    def wrote(self, ticket: Ticket, row: Row, timeline: Timeline | None) -> None:
        """After an append: its state and index row, and its timeline when the handle
        could build it (else the older one is dropped)."""
        self.tickets[ticket.id] = (ticket, row)
        self.tickets.move_to_end(ticket.id)
        if len(self.tickets) > self.size:
            self.tickets.popitem(last=False)
        if timeline is None:
            self.timelines.pop(ticket.id, None)
        else:
            self.read(timeline)

    def due_set(
        self, ticket_id: str, version: int, due: tuple[str | None, str | None, str | None]
    ) -> None:
        """After ``set_due`` changed the due columns of the row at ``version``."""
        held = self.written(ticket_id, version)
        if held is not None:
            self.tickets[ticket_id] = (held[0], with_due(held[1], due))

    def read(self, timeline: Timeline) -> None:
        """After a load (or an append that built the timeline)."""
        self.timelines[timeline.ticket_id] = timeline
        self.timelines.move_to_end(timeline.ticket_id)
        if len(self.timelines) > self.size:
            self.timelines.popitem(last=False)

    def clear(self) -> None:
        self.tickets.clear()
        self.timelines.clear()
