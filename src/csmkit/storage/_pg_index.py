"""SQL of [`PostgresStore`][csmkit.storage.PostgresStore]'s ticket index (rows, filters,
pages) and of its customer directory."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from csmkit.errors import StorageError
from csmkit.storage._common import Query
from csmkit.storage._model import Customer, Identity
from csmkit.storage._sqlite_index import SUMMARY_COLUMNS
from csmkit.timeline import Event
from csmkit.timeline.trusted import stored_events

if TYPE_CHECKING:
    import psycopg

    Connection = psycopg.Connection[tuple[Any, ...]]

__all__ = [
    "INSERT_TICKET",
    "UPDATE_TICKET",
    "filters",
    "find_customer",
    "list_customers",
    "page_sql",
    "read_customer",
    "read_events",
    "write_customer",
]

# Same parameter order for both (the summary columns of _sqlite_index, same row layout).
INSERT_TICKET = (
    "INSERT INTO tickets (version, status, category, priority, assignee, group_name, "
    "customer_id, created_at, updated_at, updated_key, state, type, due_at, due_key, "
    "due_target, ticket_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
UPDATE_TICKET = (
    "UPDATE tickets SET version = %s, status = %s, category = %s, priority = %s, "
    "assignee = %s, group_name = %s, customer_id = %s, created_at = %s, updated_at = %s, "
    "updated_key = %s, state = %s, type = %s, due_at = %s, due_key = %s, due_target = %s "
    "WHERE ticket_id = %s"
)


# What a damaged row may raise on the fast path; each sends the rows to the loop below.
_FALL_BACK = (ValueError, TypeError, KeyError, AttributeError)  # Untrusted is a ValueError


def read_events(connection: Connection, ticket_id: str, where: str) -> list[Event]:
    """The ticket's events in version order; a gap or an unreadable row is a ``StorageError``.

    The common kinds are decoded by ``stored_events``, which checks each value by its
    exact type instead of running the constructors (the same events); anything it does
    not vouch for is decoded row by row through ``Event.from_dict``, which names the row.
    """
    rows = connection.execute(
        "SELECT version, payload FROM events WHERE ticket_id = %s ORDER BY version",
        (ticket_id,),
    ).fetchall()
    if rows and [row[0] for row in rows] == list(range(1, len(rows) + 1)):
        try:
            return stored_events([json.loads(payload) for _, payload in rows])
        except _FALL_BACK:
            pass  # the loop below gives the events, or the error naming the row
    events: list[Event] = []
    for expected, (version, payload) in enumerate(rows, 1):
        if version != expected:
            raise StorageError(f"{where}: ticket {ticket_id!r} misses event version {expected}")
        try:
            events.append(Event.from_dict(json.loads(payload)))
        except (ValueError, TypeError) as exc:
            raise StorageError(
                f"{where}: ticket {ticket_id!r} event {version} is unreadable: {exc}"
            ) from None
    return events


def filters(query: Query) -> tuple[list[str], list[Any]]:
    """The WHERE terms and parameters of a query's attribute filters."""
    where: list[str] = []
    params: list[Any] = []
    if query.categories is not None:
        where.append("category = ANY(%s)")
        params.append(sorted(query.categories))
    for column, value in (
        ("assignee", query.assignee),
        ("customer_id", query.customer_id),
        ("group_name", query.group),
        ("type", query.type),
    ):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    return where, params


def page_sql(
    query: Query, where: list[str], params: list[Any], order: str
) -> tuple[str, list[Any]]:
    """The SELECT of one page ordered by ``(order, ticket_id)``, one row more than the page."""
    where = list(where)
    params = list(params)
    if query.after is not None:
        where.append(f"({order}, ticket_id) > (%s, %s)")
        params.extend(query.after)
    sql = f"SELECT {SUMMARY_COLUMNS} FROM tickets"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order}, ticket_id LIMIT %s"
    params.append(query.limit + 1)
    return sql, params


def write_customer(connection: Connection, customer: Customer) -> None:
    """Insert or replace ``customer`` (inside the caller's transaction).

    Raises:
        StorageError: one of its identities belongs to another customer.
    """
    for identity in customer.identities:
        row = connection.execute(
            "SELECT customer_id FROM customer_identities WHERE kind = %s AND value = %s FOR UPDATE",
            (identity.kind, identity.value),
        ).fetchone()
        if row is not None and row[0] != customer.id:
            raise StorageError(
                f"identity {identity.kind}:{identity.value} already belongs to "
                f"customer {row[0]!r}, not {customer.id!r}"
            )
    connection.execute(
        "INSERT INTO customers (customer_id, name) VALUES (%s, %s) "
        "ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name",
        (customer.id, customer.name),
    )
    connection.execute("DELETE FROM customer_identities WHERE customer_id = %s", (customer.id,))
    connection.cursor().executemany(
        "INSERT INTO customer_identities (kind, value, customer_id) VALUES (%s, %s, %s)",
        [(i.kind, i.value, customer.id) for i in customer.identities],
    )


def read_customer(connection: Connection, customer_id: str) -> Customer | None:
    """The stored customer, or ``None``."""
    row = connection.execute(
        "SELECT name FROM customers WHERE customer_id = %s", (customer_id,)
    ).fetchone()
    if row is None:
        return None
    identities = connection.execute(
        "SELECT kind, value FROM customer_identities WHERE customer_id = %s", (customer_id,)
    ).fetchall()
    return Customer(
        customer_id,
        name=row[0],
        identities=[Identity(kind, value) for kind, value in identities],
    )


def find_customer(connection: Connection, identity: Identity) -> Customer | None:
    """The customer owning ``identity``, or ``None``."""
    row = connection.execute(
        "SELECT customer_id FROM customer_identities WHERE kind = %s AND value = %s",
        (identity.kind, identity.value),
    ).fetchone()
    return None if row is None else read_customer(connection, row[0])


def list_customers(connection: Connection) -> list[Customer]:
    """Every customer with its identities, ordered by id."""
    names = connection.execute(
        "SELECT customer_id, name FROM customers ORDER BY customer_id"
    ).fetchall()
    rows = connection.execute("SELECT customer_id, kind, value FROM customer_identities").fetchall()
    identities: dict[str, list[Identity]] = {}
    for owner, kind, value in rows:
        identities.setdefault(owner, []).append(Identity(kind, value))
    return [Customer(cid, name=name, identities=identities.get(cid, ())) for cid, name in names]
