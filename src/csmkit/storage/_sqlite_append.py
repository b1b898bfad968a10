"""How [`SqliteStore.append()`][csmkit.storage.SqliteStore.append] writes a batch: the event
rows, their write positions and message ids, and the ticket's index row.

The index row is written as an ``UPDATE`` of the columns whose value changed, so SQLite
leaves the indexes of unchanged columns (assignee, group, type … most of the time) alone.
The old values come either from the row itself (a ``SELECT``, which also reads the version
for the optimistic check and the state snapshot to fold onto), or, when the handle wrote
the ticket's expected version itself, from the values it wrote then. In that case the
``UPDATE`` carries every one of those old values in its ``WHERE`` clause: a compare-and-set
of the whole row, which changes the row only if it is exactly what the handle wrote (same
version, same due mark, same everything), and otherwise changes nothing, and the append
goes on with the ``SELECT`` in the same transaction. Either way the statement written is
the same: the one the ``SELECT`` path computes from the row it reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from csmkit._time import format_instant
from csmkit.errors import TimelineError
from csmkit.storage._common import Folded, check_append, fold_trusted, order_key
from csmkit.storage._eventjson import encode_event
from csmkit.storage._snapshot import dump_state
from csmkit.storage._text import check_payload_text
from csmkit.timeline import Event, MessageAdded, Ticket

__all__ = [
    "INSERT_TICKET",
    "SELECT_TICKET",
    "Batch",
    "Row",
    "expected_write",
    "row_statement",
    "row_values",
    "with_due",
    "write_events",
    "write_expected",
]

INSERT_EVENT = "INSERT INTO events (ticket_id, version, kind, at, payload) VALUES (?, ?, ?, ?, ?)"
INSERT_CHANGE = "INSERT INTO changes (ticket_id, version, kind) VALUES (?, ?, ?)"
INSERT_MESSAGE_ID = "INSERT OR IGNORE INTO message_ids (message_id, ticket_id) VALUES (?, ?)"

# Every column of a ticket's index row, in the order of SELECT_TICKET and Row.
_COLUMNS = (
    "version",
    "state",
    "status",
    "category",
    "priority",
    "assignee",
    "group_name",
    "customer_id",
    "created_at",
    "updated_at",
    "updated_key",
    "type",
    "due_at",
    "due_key",
    "due_target",
)
_CREATED_AT = _COLUMNS.index("created_at")
SELECT_TICKET = f"SELECT {', '.join(_COLUMNS)} FROM tickets WHERE ticket_id = ?"
INSERT_TICKET = (
    f"INSERT INTO tickets ({', '.join(_COLUMNS)}, ticket_id) "
    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"
)
_GUARD = " AND ".join(f"{column} IS ?" for column in _COLUMNS)

#: A ticket's index row: the values of ``_COLUMNS``, as written.
Row = tuple[Any, ...]


class Batch:
    """A batch ready to write: checked, its events encoded, its text checked, before any
    transaction begins.

    Attributes:
        ticket_id: The stream.
        expected: The version the batch continues.
        events: The events.
        rows: The event rows (``ticket_id, version, kind, at, payload``).
        message_ids: ``(message_id, ticket_id)`` of its messages that have one.
        due: The due mark's columns (``due_at, due_key, due_target``).
        instants: Each event's instant, formatted.
    """

    __slots__ = ("due", "events", "expected", "instants", "message_ids", "rows", "ticket_id")

    def __init__(
        self,
        ticket_id: object,
        events: object,
        expected_version: object,
        due: tuple[str | None, str | None, str | None],
    ) -> None:
        batch = check_append(ticket_id, events, expected_version)
        ticket_id, expected_version = cast(str, ticket_id), cast(int, expected_version)
        instants = [format_instant(event.at) for event in batch]
        payloads = [encode_event(event, at) for event, at in zip(batch, instants, strict=True)]
        check_payload_text(ticket_id, batch, payloads)
        self.ticket_id = ticket_id
        self.expected = expected_version
        self.events: tuple[Event, ...] = batch
        self.instants = instants
        self.due = due
        self.rows = [
            (ticket_id, expected_version + i, event.kind, at, payload)
            for i, (event, at, payload) in enumerate(zip(batch, instants, payloads, strict=True), 1)
        ]
        self.message_ids = [
            (event.message_id, ticket_id)
            for event in batch
            if isinstance(event, MessageAdded) and event.message_id is not None
        ]


def row_values(ticket: Ticket, batch: Batch, created_at: str | None = None) -> Row:
    """The index row of ``ticket``, the state ``batch`` leads to (``created_at``: its
    creation instant already formatted, if known)."""
    if created_at is None:
        created_at = format_instant(ticket.created_at)
    # The state's last update is the batch's last event (Ticket.apply keeps its instant).
    updated_at = (
        batch.instants[-1]
        if ticket.updated_at is batch.events[-1].at
        else format_instant(ticket.updated_at)
    )
    return (
        ticket.version,
        dump_state(ticket, created_at, updated_at),
        ticket.status,
        ticket.category.value,
        ticket.priority.value,
        ticket.assignee,
        ticket.group,
        ticket.customer_id,
        created_at,
        updated_at,
        order_key(ticket.updated_at),
        ticket.type,
        *batch.due,
    )


@lru_cache(maxsize=1024)
def _update(changed: tuple[int, ...], guarded: bool) -> str:
    """``UPDATE`` of the ``changed`` columns (by index), with the whole-row guard or not."""
    assignments = ", ".join(f"{_COLUMNS[i]} = ?" for i in changed)
    guard = f" AND {_GUARD}" if guarded else ""
    return f"UPDATE tickets SET {assignments} WHERE ticket_id = ?{guard}"


def _changed(values: Row, stored: Sequence[Any]) -> tuple[int, ...]:
    return tuple(i for i, value in enumerate(values) if stored[i] != value)


def row_statement(ticket_id: str, values: Row, stored: Sequence[Any] | None) -> tuple[str, Row]:
    """The statement writing the index row ``values``: an ``INSERT`` for a new ticket, else
    an ``UPDATE`` of the columns whose value differs from ``stored`` (the row as read)."""
    if stored is None:
        return INSERT_TICKET, (*values, ticket_id)
    changed = _changed(values, stored) or (0,)  # (the version always moves)
    return _update(changed, False), (*(values[i] for i in changed), ticket_id)


def expected_write(
    batch: Batch, written: tuple[Ticket, Row] | None, folded: Folded | None
) -> tuple[Ticket, Row, str, Row] | None:
    """The state, index row and statement of ``batch`` if the ticket is what the handle
    expects: nothing yet (a new stream), or exactly the state and row ``written`` (what
    the handle wrote at ``batch.expected``). The statement is an ``INSERT`` that fails if
    the ticket exists, or the guarded ``UPDATE`` that changes nothing unless the row is
    ``written``'s; `write_expected()` runs it.

    ``None`` when the batch does not fold onto that state: the ``SELECT`` path then says
    whether the ticket moved on (a conflict) or the batch is invalid.
    """
    prior = None if written is None else written[0]
    try:
        ticket = fold_trusted(prior, batch.events, batch.expected, folded)
    except TimelineError:
        return None
    if written is None:
        first = batch.instants[0] if ticket.created_at is batch.events[0].at else None
        values = row_values(ticket, batch, first)
        return ticket, values, INSERT_TICKET, (*values, batch.ticket_id)
    held_ticket, held_row = written
    created = held_row[_CREATED_AT] if ticket.created_at is held_ticket.created_at else None
    values = row_values(ticket, batch, created)
    changed = _changed(values, held_row) or (0,)  # (the version always moves)
    parameters = (*(values[i] for i in changed), batch.ticket_id, *held_row)
    return ticket, values, _update(changed, True), parameters


def with_due(row: Row, due: tuple[str | None, str | None, str | None]) -> Row:
    """``row`` with other due mark columns (after ``set_due``)."""
    return (*row[: _COLUMNS.index("due_at")], *due)


def write_expected(connection: sqlite3.Connection, statement: str, parameters: Row) -> bool:
    """Run `expected_write()`'s statement; whether it wrote the row (else it changed
    nothing: the ticket exists, or its row is not the one the handle wrote)."""
    if statement is INSERT_TICKET:
        try:
            connection.execute(statement, parameters)
        except sqlite3.IntegrityError:  # the ticket exists: the SELECT path says how
            return False
        return True
    return connection.execute(statement, parameters).rowcount == 1


def write_events(connection: sqlite3.Connection, batch: Batch) -> None:
    """Insert the batch's events, their write positions and its message ids."""
    connection.executemany(INSERT_EVENT, batch.rows)
    # Positions come from the caller's BEGIN IMMEDIATE transaction: one writer at a
    # time, so position order is commit order.
    connection.executemany(INSERT_CHANGE, [row[:3] for row in batch.rows])
    if batch.message_ids:
        connection.executemany(INSERT_MESSAGE_ID, batch.message_ids)
