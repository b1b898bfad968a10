"""Finding the directory's records next to a ticket store (same file, same schema)."""

from __future__ import annotations

import sqlite3

from csmkit.customers._pg_records import PostgresCustomerRecords, has_pg_records
from csmkit.customers._records import SqliteCustomerRecords
from csmkit.errors import StorageError
from csmkit.storage import PostgresStore, SqliteStore, TicketStore

__all__ = ["customer_records_for"]


def _sqlite_has_records(path: str) -> bool:
    try:
        connection = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot look for customer records in {path}: {exc}") from None
    try:
        row = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'csmkit_customers_schema'"
        ).fetchone()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot look for customer records in {path}: {exc}") from None
    finally:
        connection.close()
    return row is not None


def customer_records_for(
    store: TicketStore, *, create: bool = False
) -> SqliteCustomerRecords | PostgresCustomerRecords | None:
    """The directory's records kept next to ``store``: in the same SQLite file, or in the
    same PostgreSQL database and schema (sharing the store's connection pool).

    A desk opened from one URL gets its whole 360° picture from it::

        store = open_store(url)
        directory = CustomerDirectory(store, customer_records_for(store, create=True))

    Args:
        store: An open [`SqliteStore`][csmkit.storage.SqliteStore] (on a file) or
            [`PostgresStore`][csmkit.storage.PostgresStore].
        create: Create the records' tables when there are none yet; otherwise such a
            store gives ``None`` and nothing is written.

    Returns:
        The records (close them before the store), or ``None`` when the store keeps
        none and ``create`` is false.

    Raises:
        StorageError: ``create`` for a store that cannot keep records next to it (a
            [`MemoryStore`][csmkit.storage.MemoryStore], an in-memory SQLite database,
            a plugin's store: pass the records to the directory yourself), or the
            records' schema is newer than this csmkit.
    """
    if not isinstance(create, bool):
        raise TypeError(f"create must be a bool, got {create!r}")
    if isinstance(store, PostgresStore):
        if not create and not has_pg_records(store):
            return None
        return PostgresCustomerRecords(store)
    if isinstance(store, SqliteStore) and store.path != ":memory:":
        if not create and not _sqlite_has_records(store.path):
            return None
        return SqliteCustomerRecords(store.path)
    if not create:
        return None
    raise StorageError(
        f"{store!r} keeps no customer records next to its tickets; give the directory "
        "MemoryCustomerRecords() or records of your own"
    )
