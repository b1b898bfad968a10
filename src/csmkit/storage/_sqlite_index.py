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
from csmkit.timeline import Priority, StatusCategory

__all__ = [
    "COUNT_COLUMNS",
    "SUMMARY_COLUMNS",
    "due_columns",
    "filters",
    "find_customer",
    "page_sql",
    "read_customer",
    "summary",
    "write_customer",
]

SUMMARY_COLUMNS = (
    "ticket_id, version, status, category, priority, assignee, group_name, customer_id, "
    "created_at, updated_at, type, due_at, due_target, updated_key, due_key"
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
