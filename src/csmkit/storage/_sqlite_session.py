"""The plumbing of [`SqliteStore`][csmkit.storage.SqliteStore]: the lock-and-errors session
every call runs in, and its write transactions.

Plain classes rather than ``contextlib.contextmanager`` generators: every call of the
store enters one, an append two, and a generator's set-up costs several times theirs.
"""

from __future__ import annotations

import sqlite3
import threading
from types import TracebackType
from typing import Protocol

from csmkit.errors import StorageError
from csmkit.storage._access import cannot_write, is_access_error

__all__ = ["Handle", "Session", "Transaction"]


class Handle(Protocol):
    """What the plumbing reads and counts on a store handle."""

    _lock: threading.RLock
    _connection: sqlite3.Connection | None
    _path: str
    _read_only: bool
    _commits: int


class Session:
    """The handle's lock held for a block, driver errors mapped onto
    [`StorageError`][csmkit.errors.StorageError] (the message names ``what`` and the
    file, and for a file that cannot be written, which part is read-only and what to do);
    the block gets the connection."""

    __slots__ = ("store", "what")

    def __init__(self, store: Handle, what: str) -> None:
        self.store = store
        self.what = what

    def __enter__(self) -> sqlite3.Connection:
        store = self.store
        store._lock.acquire()
        if store._connection is None:
            store._lock.release()
            raise StorageError(f"{self.what}: the store is closed")
        return store._connection

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store = self.store
        store._lock.release()
        if exc is None:
            return
        if isinstance(exc, sqlite3.Error):
            if is_access_error(exc):
                message = cannot_write(store._path, self.what, exc, read_only=store._read_only)
                raise StorageError(message) from exc
            raise StorageError(f"{self.what} in {store._path}: {exc}") from exc
        if isinstance(exc, UnicodeError):  # the checks before each call should make it moot
            raise StorageError(
                f"{self.what} in {store._path}: text that cannot be encoded as UTF-8 ({exc})"
            ) from None


class Transaction:
    """A write transaction for a block: ``BEGIN IMMEDIATE`` … ``COMMIT`` (counted in the
    handle's commits), or ``ROLLBACK`` on any exception."""

    __slots__ = ("connection", "store")

    def __init__(self, store: Handle, connection: sqlite3.Connection) -> None:
        self.store = store
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        if exc is None:
            try:
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            self.store._commits += 1
        elif connection.in_transaction:
            connection.execute("ROLLBACK")
