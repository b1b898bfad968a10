"""Write positions: the ``Change`` value, and schema 4's migration from a schema 3 file."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import StoreArgumentError
from csmkit.storage import SCHEMA_VERSION, Change, SqliteStore
from csmkit.storage._schema import MIGRATIONS, prepare
from csmkit.testing import created, next_event
from schema_steps import drop_schema_5


@given(
    position=st.integers(1, 2**62),
    ticket_id=st.text(min_size=1, max_size=8),
    version=st.integers(1, 10**6),
    kind=st.sampled_from(["created", "message_added", "status_changed"]),
)
def test_change_round_trips(position: int, ticket_id: str, version: int, kind: str) -> None:
    change = Change(position=position, ticket_id=ticket_id, version=version, kind=kind)
    assert Change.from_dict(change.to_dict()) == change


@pytest.mark.parametrize(
    "data",
    [
        {"position": 0, "ticket_id": "T", "version": 1, "kind": "k"},
        {"position": 1, "ticket_id": "", "version": 1, "kind": "k"},
        {"position": 1, "ticket_id": "T", "version": True, "kind": "k"},
        {"position": 1, "ticket_id": "T", "version": 1},
        {"position": 1, "ticket_id": "T", "version": 1, "kind": "k", "extra": 1},
        ["position"],
    ],
)
def test_bad_changes_are_refused(data: object) -> None:
    with pytest.raises(StoreArgumentError):
        Change.from_dict(data)  # type: ignore[arg-type]


def _schema(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    return connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()


def _make_schema_3_file(path: Path) -> None:
    """A schema 3 file with three tickets, written by this csmkit's append path.

    Schema 4 only adds the ``changes`` table and schema 5 columns and indexes of the
    ticket index, so dropping them (and their version rows) leaves exactly the file a
    schema 3 csmkit writes; checked against a fresh schema 3 database below.
    """
    with SqliteStore(path) as store:
        for ticket_id in ("T-b", "T-a", "T-c"):
            store.append(ticket_id, [created(ticket_id)], 0)
        ticket = store.load("T-a").ticket
        event = next_event(ticket, "message", ticket.updated_at + timedelta(minutes=3))
        store.append("T-a", [event], 1)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DROP TABLE changes")
    connection.execute("DELETE FROM sqlite_sequence")
    connection.execute("DELETE FROM csmkit_schema WHERE version >= 4")
    drop_schema_5(connection)
    connection.close()


def test_schema_3_file_is_numbered_on_migration(tmp_path: Path) -> None:
    assert SCHEMA_VERSION == 5
    path = tmp_path / "v3.db"
    _make_schema_3_file(path)
    fresh = sqlite3.connect(tmp_path / "fresh-v3.db", isolation_level=None)
    assert prepare(fresh, "fresh-v3.db", MIGRATIONS[:3]) == 3
    old = sqlite3.connect(path, isolation_level=None)
    assert _schema(old) == [row for row in _schema(fresh) if row[0] != "sqlite_sequence"]
    fresh.close()
    old.close()

    with SqliteStore(path) as store:
        assert store.schema_version == 5
        changes = store.changes_after(0)
        # every existing event once; each stream in version order
        assert [(c.ticket_id, c.version, c.kind) for c in changes] == [
            ("T-a", 1, "created"),
            ("T-a", 2, "message_added"),
            ("T-b", 1, "created"),
            ("T-c", 1, "created"),
        ]
        assert [c.position for c in changes] == [1, 2, 3, 4]
        assert store.position() == 4
        # new appends continue after the migrated numbers
        ticket = store.load("T-b").ticket
        store.append("T-b", [next_event(ticket, "assign", ticket.updated_at)], 1)
        (latest,) = store.changes_after(4)
        assert (latest.position, latest.ticket_id, latest.version) == (5, "T-b", 2)


def test_positions_are_shared_by_handles_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", [created("T-1")], 0)
        second.append("T-2", [created("T-2")], 0)
        first.append("T-3", [created("T-3")], 0)
        assert second.position() == first.position() == 3
        assert [c.ticket_id for c in second.changes_after(0)] == ["T-1", "T-2", "T-3"]
