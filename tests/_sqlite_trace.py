"""The SQL a `SqliteStore` runs, for tests that count or read its statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from csmkit.storage import SqliteStore


@contextmanager
def statements(store: SqliteStore) -> Iterator[list[str]]:
    """Every SQL statement the store's connection runs inside the block."""
    seen: list[str] = []
    connection = store._connection
    assert connection is not None
    connection.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)
