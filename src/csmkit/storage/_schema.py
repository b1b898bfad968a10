"""The SQLite schema of [`SqliteStore`][csmkit.storage.SqliteStore] and its forward migrations."""

from __future__ import annotations

import sqlite3

import attrs

from csmkit.errors import StorageError

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "Migration", "prepare"]

APPLICATION_ID = 0x63736D6B
"""``PRAGMA application_id`` of csmkit databases (``b"csmk"``)."""


@attrs.frozen
class Migration:
    """One forward step of the schema.

    Attributes:
        version: The schema version after this step (1, 2, …; contiguous).
        description: What it changes.
        statements: SQL statements, run in one transaction with the version row.
    """

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "event streams, ticket index and message ids",
        (
            """CREATE TABLE events (
                ticket_id TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1),
                kind TEXT NOT NULL,
                at TEXT NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (ticket_id, version)
            ) WITHOUT ROWID""",
            """CREATE TABLE tickets (
                ticket_id TEXT PRIMARY KEY,
                version INTEGER NOT NULL,
                status TEXT NOT NULL,
                category TEXT NOT NULL,
                priority TEXT NOT NULL,
                assignee TEXT,
                group_name TEXT,
                customer_id TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                updated_key TEXT NOT NULL
            )""",
            "CREATE INDEX tickets_by_updated ON tickets (updated_key, ticket_id)",
            "CREATE INDEX tickets_by_category ON tickets (category, updated_key, ticket_id)",
            "CREATE INDEX tickets_by_assignee ON tickets (assignee, updated_key, ticket_id)",
            "CREATE INDEX tickets_by_customer ON tickets (customer_id, updated_key, ticket_id)",
            """CREATE TABLE message_ids (
                message_id TEXT PRIMARY KEY,
                ticket_id TEXT NOT NULL
            ) WITHOUT ROWID""",
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
            ) WITHOUT ROWID""",
            "CREATE INDEX identities_by_customer ON customer_identities (customer_id)",
        ),
    ),
    Migration(
        3,
        "ticket state snapshots: appends fold onto them instead of the whole stream",
        # NULL for tickets written before; filled by their next append.
        ("ALTER TABLE tickets ADD COLUMN state TEXT",),
    ),
    Migration(
        4,
        "write positions: every event numbered in commit order, for tickers",
        (
            # AUTOINCREMENT: a position is never handed out twice, even after the
            # newest rows were deleted by hand; a rolled-back batch takes none.
            """CREATE TABLE changes (
                position INTEGER PRIMARY KEY AUTOINCREMENT,
                ticket_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                kind TEXT NOT NULL
            )""",
            # Schema 3 kept no write order (the event table has no rowid): number the
            # existing events ticket by ticket, each stream in version order. A ticker
            # reading from position 0 sees all of them either way.
            "INSERT INTO changes (ticket_id, version, kind) "
            "SELECT ticket_id, version, kind FROM events ORDER BY ticket_id, version",
        ),
    ),
    Migration(
        5,
        "desk queries: ticket type, group index and the SLA due index",
        (
            "ALTER TABLE tickets ADD COLUMN type TEXT",
            # A ticket's type never changes: it is its TicketCreated event's.
            "UPDATE tickets SET type = (SELECT json_extract(e.payload, '$.type') FROM events e "
            "WHERE e.ticket_id = tickets.ticket_id AND e.version = 1)",
            # The SLA due mark the desk hands over with each batch (NULL: none); tickets
            # written before have none until their next append or set_due.
            "ALTER TABLE tickets ADD COLUMN due_at TEXT",
            "ALTER TABLE tickets ADD COLUMN due_key TEXT",
            "ALTER TABLE tickets ADD COLUMN due_target TEXT",
            # Partial: only tickets with a running SLA are in it, so "due before T" costs
            # what it lists, however many closed tickets the file holds.
            "CREATE INDEX tickets_by_due ON tickets (due_key, ticket_id) WHERE due_key IS NOT NULL",
            # Every append moves updated_key, and SQLite rewrites each index holding a
            # changed column: only the listing orders (all tickets, by category) keep
            # it; agent, customer, group and type change rarely, so their indexes are
            # single-column and an append leaves them alone (their listings, an
            # agent's or a group's tickets, sort what they find).
            "DROP INDEX tickets_by_assignee",
            "DROP INDEX tickets_by_customer",
            "CREATE INDEX tickets_by_assignee ON tickets (assignee)",
            "CREATE INDEX tickets_by_customer ON tickets (customer_id)",
            "CREATE INDEX tickets_by_group ON tickets (group_name)",
            "CREATE INDEX tickets_by_type ON tickets (type)",
        ),
    ),
)
"""Every schema step, oldest first."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this csmkit writes."""

_VERSION_TABLE = "csmkit_schema"


def _tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _stored_version(connection: sqlite3.Connection, where: str) -> int | None:
    """The schema version, ``None`` for an empty database; raises for foreign ones."""
    tables = _tables(connection)
    if not tables:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        if application_id not in (0, APPLICATION_ID):
            raise StorageError(
                f"{where} is a SQLite database of another application "
                f"(application_id {application_id:#x}); it was left untouched"
            )
        return None
    if _VERSION_TABLE not in tables:
        shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
        raise StorageError(
            f"{where} is not a csmkit database (it has tables {shown} but no "
            f"{_VERSION_TABLE!r} table); it was left untouched"
        )
    row = connection.execute(f"SELECT max(version) FROM {_VERSION_TABLE}").fetchone()
    if row is None or not isinstance(row[0], int):
        raise StorageError(f"{where}: the {_VERSION_TABLE!r} table is empty or corrupt")
    return row[0]


def prepare(
    connection: sqlite3.Connection,
    where: str,
    migrations: tuple[Migration, ...] = MIGRATIONS,
    *,
    read_only: bool = False,
) -> int:
    """Create or migrate the schema; refuse foreign files and newer schemas.

    The connection must be in autocommit mode (``isolation_level=None``). Checks happen
    before anything is written, and again inside the write transaction, so two
    processes opening a new file at once do not both create it.

    Args:
        connection: An open connection.
        where: The database's name for messages (its path).
        migrations: The steps to apply (tests pass a prefix to build old schemas).
        read_only: The connection may not write: a missing or older schema is an error.

    Returns:
        The schema version of the database afterwards.

    Raises:
        StorageError: a foreign or corrupt file, or a schema newer than ``migrations``.
        sqlite3.Error: the driver failed (callers map it).
    """
    target = migrations[-1].version
    current = _stored_version(connection, where)
    if current is not None and current > target:
        raise StorageError(
            f"{where} has csmkit schema version {current}, newer than the {target} this "
            "csmkit understands; upgrade csmkit (the file was left untouched)"
        )
    if current == target:
        return current
    if read_only:
        state = "has no csmkit schema yet" if current is None else f"has schema version {current}"
        raise StorageError(
            f"{where} {state} and is opened read-only (mode=ro), so it cannot be set up for "
            f"schema version {target}; open it once without mode=ro (it was left untouched)"
        )
    connection.execute("BEGIN IMMEDIATE")
    try:
        current = _stored_version(connection, where)  # another process may have won
        if current is not None and current > target:
            raise StorageError(f"{where} has csmkit schema version {current}, newer than {target}")
        if current is None:
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
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
                f"INSERT INTO {_VERSION_TABLE} (version, description) VALUES (?, ?)",
                (migration.version, migration.description),
            )
            current = migration.version
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return current
