"""SqliteStore.write_marker(): it moves on with every commit to the file, by this
handle or any other connection, and stays put while nothing is committed."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from csmkit.errors import ConcurrencyError, StorageError
from csmkit.storage import Customer, SlaDue, SqliteStore
from csmkit.timeline import TicketCreated

T0 = datetime(2026, 10, 12, 9, 0, tzinfo=timezone.utc)


def _created(ticket_id: str) -> TicketCreated:
    return TicketCreated(ticket_id=ticket_id, at=T0, type="repair", channel="email")


def test_the_marker_moves_with_every_commit_and_only_then(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store, SqliteStore(path) as other:
        first = store.write_marker()
        assert store.position() == 0
        assert store.changes_after(0) == []
        assert store.write_marker() == first
        store.append("T-1", [_created("T-1")], 0)
        own = store.write_marker()
        assert own != first
        assert own[0] == first[0]  # data_version ignores the connection's own commits
        other.append("T-2", [_created("T-2")], 0)
        seen = store.write_marker()
        assert seen[0] != own[0]
        assert store.write_marker() == seen
        assert store.set_due("T-1", SlaDue(at=T0, target="resolution"), version=1)
        assert store.write_marker() != seen


def _pragma_marker(store: SqliteStore) -> tuple[int, int]:
    """The marker as a file store reads it: ``PRAGMA data_version`` and the commits."""
    with store._session("read the reference marker") as connection:
        return int(connection.execute("PRAGMA data_version").fetchone()[0]), store._commits


def test_an_in_memory_marker_is_the_one_sqlite_would_give() -> None:
    """An in-memory database is read without a statement: its marker is still exactly
    the one ``PRAGMA data_version`` gives, moving with every commit of the handle
    (appends, due marks, customers) and with nothing else (a failed append)."""
    with SqliteStore(":memory:") as store:
        markers = [store.write_marker()]
        store.append("T-1", [_created("T-1")], 0)
        markers.append(store.write_marker())
        assert store.set_due("T-1", SlaDue(at=T0, target="resolution"), version=1)
        markers.append(store.write_marker())
        store.save_customer(Customer(id="C-1", name="Li"))
        markers.append(store.write_marker())
        with pytest.raises(ConcurrencyError):
            store.append("T-1", [_created("T-1")], 0)
        assert store.write_marker() == markers[-1] == _pragma_marker(store)
        assert len(set(markers)) == len(markers)
    with pytest.raises(StorageError):
        store.write_marker()
