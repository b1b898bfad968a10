"""The PostgreSQL schema of [`PostgresStore`][csmkit.storage.PostgresStore] and its migrations.

Every table lives in one PostgreSQL schema (``public`` unless the store is opened with
``schema=``), so one database can hold several desks. Text that is ordered (ticket ids,
the updated-at key) uses the ``"C"`` collation: byte order of UTF-8, which is code point
order, the order Python's ``str`` comparison and the other stores use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from csmkit.errors import StorageError
from csmkit.storage._schema import Migration

if TYPE_CHECKING:
    import psycopg

__all__ = ["PG_MIGRATIONS", "PG_SCHEMA_VERSION", "prepare_pg"]

_LOCK_KEY = 0x63736D6B  # b"csmk": serialises schema set-up between processes

PG_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "event streams, ticket index, message ids and write positions",
        (
            """CREATE TABLE events (
                ticket_id TEXT COLLATE "C" NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1),
                kind TEXT NOT NULL,
                at TEXT NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (ticket_id, version)
            )""",
            """CREATE TABLE tickets (
                ticket_id TEXT COLLATE "C" PRIMARY KEY,
                version INTEGER NOT NULL,
                status TEXT NOT NULL,
                category TEXT NOT NULL,
                priority TEXT NOT NULL,
                assignee TEXT,
                group_name TEXT,
                customer_id TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                updated_key TEXT COLLATE "C" NOT NULL,
                state TEXT NOT NULL
            )""",
            "CREATE INDEX tickets_by_updated ON tickets (updated_key, ticket_id)",
            "CREATE INDEX tickets_by_category ON tickets (category, updated_key, ticket_id)",
            "CREATE INDEX tickets_by_assignee ON tickets (assignee, updated_key, ticket_id)",
            "CREATE INDEX tickets_by_customer ON tickets (customer_id, updated_key, ticket_id)",
            """CREATE TABLE message_ids (
                message_id TEXT PRIMARY KEY,
                ticket_id TEXT NOT NULL
            )""",
            # Positions are handed out from one counter row, updated in the append's
            # transaction: its row lock is held until commit, so positions are assigned
            # in commit order and a reader never sees p before a smaller p' commits.
            """CREATE TABLE write_position (
                id SMALLINT PRIMARY KEY CHECK (id = 1),
                last BIGINT NOT NULL CHECK (last >= 0)
            )""",
            "INSERT INTO write_position (id, last) VALUES (1, 0)",
            """CREATE TABLE changes (
                position BIGINT PRIMARY KEY CHECK (position >= 1),
                ticket_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                kind TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "customers and their identities",
        (
            """CREATE TABLE customers (
                customer_id TEXT PRIMARY KEY,
                name TEXT NOT NULL
            )""",
            """CREATE TABLE customer_identities (
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                customer_id TEXT NOT NULL
                    REFERENCES customers (customer_id) ON DELETE CASCADE,
                PRIMARY KEY (kind, value)
            )""",
            "CREATE INDEX identities_by_customer ON customer_identities (customer_id)",
        ),
    ),
    Migration(
        3,
        "desk queries: ticket type, group index and the SLA due index",
        (
            "ALTER TABLE tickets ADD COLUMN type TEXT",
            # A ticket's type never changes: it is its TicketCreated event's. (json, not
            # jsonb: jsonb refuses the \u0000 escapes a payload may hold.)
            "UPDATE tickets SET type = (SELECT e.payload::json ->> 'type' FROM events e "
            "WHERE e.ticket_id = tickets.ticket_id AND e.version = 1)",
            # The SLA due mark the desk hands over with each batch (NULL: none).
            "ALTER TABLE tickets ADD COLUMN due_at TEXT",
            'ALTER TABLE tickets ADD COLUMN due_key TEXT COLLATE "C"',
            "ALTER TABLE tickets ADD COLUMN due_target TEXT",
            # Partial: only tickets with a running SLA are in it, so "due before T" costs
            # what it lists, however many closed tickets the database holds.
            "CREATE INDEX tickets_by_due ON tickets (due_key, ticket_id) WHERE due_key IS NOT NULL",
            "CREATE INDEX tickets_by_group ON tickets (group_name, updated_key, ticket_id)",
            "CREATE INDEX tickets_by_type ON tickets (type, updated_key, ticket_id)",
        ),
    ),
)
"""Every step of the PostgreSQL schema, oldest first."""

PG_SCHEMA_VERSION = PG_MIGRATIONS[-1].version
"""The PostgreSQL schema version this csmkit writes."""

_VERSION_TABLE = "csmkit_schema"


def _tables(connection: psycopg.Connection[tuple[object, ...]], schema: str) -> list[str]:
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "ORDER BY table_name",
        (schema,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def _stored_version(
    connection: psycopg.Connection[tuple[object, ...]], schema: str, where: str
) -> int | None:
    tables = _tables(connection, schema)
    if not tables:
        return None
    if _VERSION_TABLE not in tables:
        shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
        raise StorageError(
            f"{where}: schema {schema!r} is not a csmkit store (it has tables {shown} but no "
            f"{_VERSION_TABLE!r} table); it was left untouched"
        )
    row = connection.execute(f"SELECT max(version) FROM {_VERSION_TABLE}").fetchone()
    if row is None or not isinstance(row[0], int):
        raise StorageError(f"{where}: the {_VERSION_TABLE!r} table is empty or corrupt")
    return row[0]


def prepare_pg(
    connection: psycopg.Connection[tuple[object, ...]],
    schema: str,
    where: str,
    migrations: tuple[Migration, ...] = PG_MIGRATIONS,
) -> int:
    """Create or migrate the store's tables in ``schema``; refuse foreign and newer ones.

    The connection must be in autocommit mode with ``search_path`` set to ``schema``.
    Set-up runs in one transaction holding an advisory lock, so two processes opening a
    new store at once do not both create it; a failed step leaves nothing behind.

    Returns:
        The schema version afterwards.

    Raises:
        StorageError: a foreign schema, or one newer than ``migrations``.
        psycopg.Error: the driver failed (callers map it).
    """
    from psycopg import sql

    target = migrations[-1].version
    current = _stored_version(connection, schema, where)
    if current is not None and current > target:
        raise StorageError(
            f"{where} has csmkit schema version {current}, newer than the {target} this "
            "csmkit understands; upgrade csmkit (the database was left untouched)"
        )
    if current == target:
        return current
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        current = _stored_version(connection, schema, where)  # another process may have won
        if current is not None and current > target:
            raise StorageError(f"{where} has csmkit schema version {current}, newer than {target}")
        if current is None:
            connection.execute(
                f"CREATE TABLE {_VERSION_TABLE} ("
                "version INTEGER PRIMARY KEY, description TEXT NOT NULL)"
            )
            current = 0
        for migration in migrations:
            if migration.version <= current:
                continue
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute(
                f"INSERT INTO {_VERSION_TABLE} (version, description) VALUES (%s, %s)",
                (migration.version, migration.description),
            )
            current = migration.version
    return current
