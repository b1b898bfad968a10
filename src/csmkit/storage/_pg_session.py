"""Borrowing a [`PostgresStore`][csmkit.storage.PostgresStore]'s pooled connections."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from csmkit.storage._postgres import PostgresStore

if TYPE_CHECKING:
    import psycopg

__all__ = ["postgres_session"]


def postgres_session(
    store: PostgresStore, what: str
) -> AbstractContextManager[psycopg.Connection[tuple[Any, ...]]]:
    """A connection from ``store``'s pool, for adapters keeping tables next to the store's.

    The connection is in autocommit mode with ``search_path`` set to the store's schema
    (open ``connection.transaction()`` for several statements that belong together). Driver
    errors raised inside the block become a [`StorageError`][csmkit.errors.StorageError]
    naming ``what`` and the server without credentials; a closed store raises one too.

    Args:
        store: The store whose pool lends the connection.
        what: What the caller does, for error messages (``"save asset"``).

    Raises:
        TypeError: ``store`` is not a [`PostgresStore`][csmkit.storage.PostgresStore].
    """
    if not isinstance(store, PostgresStore):
        raise TypeError(f"expected a PostgresStore, got {type(store).__name__}")
    if not isinstance(what, str):
        raise TypeError(f"what must be a string, got {type(what).__name__}")
    return store._session(what)
