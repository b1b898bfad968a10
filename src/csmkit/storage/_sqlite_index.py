"""SQL of [`SqliteStore`][csmkit.storage.SqliteStore]'s ticket index (rows, filters, pages)
and of its customer directory."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from csmkit._time import format_instant, parse_instant
from csmkit.errors import StorageError
from csmkit.storage._common import Query, order_key
from csmkit.storage._model import Customer, Identity, TicketSummary
from csmkit.storage._queries import SlaDue
from csmkit.storage._snapshot import dump_state
from csmkit.timeline import Priority, StatusCategory, Ticket

__all__ = [
    "COUNT_COLUMNS",
    "INSERT_CHANGE",
    "INSERT_EVENT",
    "INSERT_MESSAGE_ID",
    "INSERT_TICKET",
    "SELECT_TICKET",
    "SUMMARY_COLUMNS",
    "due_columns",
    "filters",
    "find_customer",
    "page_sql",
    "read_customer",
    "summary",
    "ticket_row",
    "write_customer",
]

SUMMARY_COLUMNS = (
    "ticket_id, version, status, category, priority, assignee, group_name, customer_id, "
    "created_at, updated_at, type, due_at, due_target, updated_key, due_key"
)

INSERT_EVENT = "INSERT INTO events (ticket_id, version, kind, at, payload) VALUES (?, ?, ?, ?, ?)"
INSERT_CHANGE = "INSERT INTO changes (ticket_id, version, kind) VALUES (?, ?, ?)"
INSERT_MESSAGE_ID = "INSERT OR IGNORE INTO message_ids (message_id, ticket_id) VALUES (?, ?)"

# Every column of a ticket's index row, in the order of SELECT_TICKET and ticket_row().
_TICKET_COLUMNS = (
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
SELECT_TICKET = f"SELECT {', '.join(_TICKET_COLUMNS)} FROM tickets WHERE ticket_id = ?"
INSERT_TICKET = (
    f"INSERT INTO tickets ({', '.join(_TICKET_COLUMNS)}, ticket_id) "
    f"VALUES ({', '.join('?' * (len(_TICKET_COLUMNS) + 1))})"
)


def ticket_row(
    ticket: Ticket, due: tuple[str | None, str | None, str | None], stored: Sequence[Any] | None
) -> tuple[str, tuple[Any, ...]]:
    """The statement writing ``ticket``'s index row: an INSERT for a new ticket, else an
    UPDATE of the columns whose value changed, so SQLite leaves the indexes of unchanged
    columns (assignee, group, type … most of the time) untouched."""
    created_at = format_instant(ticket.created_at)
    updated_at = format_instant(ticket.updated_at)
    values = (
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
        *due,
    )
    if stored is None:
        return INSERT_TICKET, (*values, ticket.id)
    changed = [i for i, value in enumerate(values) if stored[i] != value]
    assignments = ", ".join(f"{_TICKET_COLUMNS[i]} = ?" for i in changed)
    return (
        f"UPDATE tickets SET {assignments} WHERE ticket_id = ?",
        (*(values[i] for i in changed), ticket.id),
    )


# count_tickets(by=...) -> column
COUNT_COLUMNS = {
    "assignee": "assignee",
    "category": "category",
    "group": "group_name",
    "priority": "priority",
    "status": "status",
    "type": "type",
}


def due_columns(due: SlaDue | None) -> tuple[str | None, str | None, str | None]:
    """``(due_at, due_key, due_target)`` of a mark."""
    if due is None:
        return None, None, None
    return format_instant(due.at), order_key(due.at), due.target


def filters(query: Query) -> tuple[list[str], list[Any]]:
    """The WHERE terms and parameters of a query's attribute filters."""
    where: list[str] = []
    params: list[Any] = []
    if query.categories is not None:
        where.append(f"category IN ({', '.join('?' * len(query.categories))})")
        params.extend(sorted(query.categories))
    for column, value in (
        ("assignee", query.assignee),
        ("customer_id", query.customer_id),
        ("group_name", query.group),
        ("type", query.type),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return where, params


def page_sql(
    query: Query, where: list[str], params: list[Any], order: str
) -> tuple[str, list[Any]]:
    """The SELECT of one page ordered by ``(order, ticket_id)`` (one row more than the
    page, to know whether another follows)."""
    where = list(where)
    params = list(params)
    if query.after is not None:
        where.append(f"({order} > ? OR ({order} = ? AND ticket_id > ?))")
        params.extend([query.after[0], query.after[0], query.after[1]])
    sql = f"SELECT {SUMMARY_COLUMNS} FROM tickets"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order}, ticket_id LIMIT ?"
    params.append(query.limit + 1)
    return sql, params


def summary(row: Sequence[Any]) -> TicketSummary:
    """A summary from a ``SUMMARY_COLUMNS`` row."""
    due = None
    if row[11] is not None:
        due = SlaDue(at=parse_instant(row[11]), target=row[12])
    return TicketSummary(
        ticket_id=row[0],
        version=row[1],
        status=row[2],
        category=StatusCategory(row[3]),
        priority=Priority(row[4]),
        assignee=row[5],
        group=row[6],
        customer_id=row[7],
        created_at=parse_instant(row[8]),
        updated_at=parse_instant(row[9]),
        type=row[10],
        due=due,
    )


def write_customer(connection: sqlite3.Connection, customer: Customer) -> None:
    """Insert or replace ``customer`` (inside the caller's write transaction).

    Raises:
        StorageError: one of its identities belongs to another customer.
    """
    for identity in customer.identities:
        row = connection.execute(
            "SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?",
            (identity.kind, identity.value),
        ).fetchone()
        if row is not None and row[0] != customer.id:
            raise StorageError(
                f"identity {identity.kind}:{identity.value} already belongs to "
                f"customer {row[0]!r}, not {customer.id!r}"
            )
    connection.execute(
        "INSERT INTO customers (customer_id, name) VALUES (?, ?) "
        "ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name",
        (customer.id, customer.name),
    )
    connection.execute("DELETE FROM customer_identities WHERE customer_id = ?", (customer.id,))
    connection.executemany(
        "INSERT INTO customer_identities (kind, value, customer_id) VALUES (?, ?, ?)",
        [(i.kind, i.value, customer.id) for i in customer.identities],
    )


def read_customer(connection: sqlite3.Connection, customer_id: str) -> Customer | None:
    """The stored customer, or ``None``."""
    row = connection.execute(
        "SELECT name FROM customers WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        return None
    identities = connection.execute(
        "SELECT kind, value FROM customer_identities WHERE customer_id = ?", (customer_id,)
    ).fetchall()
    return Customer(
        customer_id,
        name=row[0],
        identities=[Identity(kind, value) for kind, value in identities],
    )


def find_customer(connection: sqlite3.Connection, identity: Identity) -> Customer | None:
    """The customer owning ``identity``, or ``None``."""
    row = connection.execute(
        "SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?",
        (identity.kind, identity.value),
    ).fetchone()
    return None if row is None else read_customer(connection, row[0])
