"""SQLite specifics: URLs, schema versions, foreign and corrupt files, several handles."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from csmkit.errors import NotFoundError, StorageError, StoreArgumentError
from csmkit.hookspecs import hookimpl
from csmkit.plugins import PluginManager, StoreBackend
from csmkit.storage import SCHEMA_VERSION, Customer, Identity, MemoryStore, SqliteStore, open_store
from csmkit.storage._schema import MIGRATIONS, prepare
from csmkit.testing import T0, created, next_event
from csmkit.timeline import Timeline


def _digest(path: Path) -> tuple[str, list[str]]:
    siblings = sorted(p.name for p in path.parent.iterdir())
    return hashlib.sha256(path.read_bytes()).hexdigest(), siblings


# ------------------------------------------------------------------ URLs
def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///relative.db") as store:
        assert isinstance(store, SqliteStore)
        assert store.path == "relative.db"
    assert (tmp_path / "relative.db").exists()
    absolute = tmp_path / "sub dir" / "desk.db"
    absolute.parent.mkdir()
    with open_store(f"sqlite:///{absolute}?busy_timeout=0.5&synchronous=NORMAL") as store:
        assert store.path == str(absolute)  # type: ignore[attr-defined]
    with open_store("sqlite://") as store:
        assert store.path == ":memory:"  # type: ignore[attr-defined]
    with open_store("sqlite:///:memory:") as store:
        assert store.path == ":memory:"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://host/desk.db",
        "sqlite:///desk.db?cache=shared",
        "sqlite:///desk.db?busy_timeout=soon",
        "sqlite:///desk.db?synchronous=sometimes",
        "memory://named",
        "desk.db",
    ],
)
def test_bad_store_urls(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreArgumentError):
        open_store(url)
    assert not (tmp_path / "desk.db").exists()


@pytest.mark.parametrize("scheme", ["SQLITE", "Sqlite", "sQLite"])
def test_sqlite_scheme_is_case_insensitive(
    scheme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store(f"{scheme}:///x.db") as store:
        assert isinstance(store, SqliteStore)
        assert store.path == "x.db"
        store.append("T-1", [created("T-1")], 0)
    with open_store(f"{scheme}://") as store:
        assert store.path == ":memory:"  # type: ignore[attr-defined]
    with open_store("sqlite:///x.db") as store:
        assert store.version("T-1") == 1


@pytest.mark.parametrize("url", ["Memory://", "MEMORY://", "memory:///"])
def test_memory_scheme_is_case_insensitive(url: str) -> None:
    with open_store(url) as store:
        assert isinstance(store, MemoryStore)


class ShoutingBackend:
    """A plugin registering a scheme in capitals; its factory sees the lower-case URL."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    @hookimpl
    def csmkit_store_backends(self) -> list[StoreBackend]:
        return [StoreBackend("Desk-Archive", self.open)]

    def open(self, url: str) -> MemoryStore:
        self.urls.append(url)
        return MemoryStore()


def test_plugin_schemes_are_case_insensitive() -> None:
    plugin = ShoutingBackend()
    manager = PluginManager([("shouting", plugin)], load_entrypoints=False)
    for url in ("desk-archive://Shelf/B", "DESK-ARCHIVE://Shelf/B", "Desk-Archive://Shelf/B"):
        with open_store(url, plugins=manager) as store:
            assert isinstance(store, MemoryStore)
    # Only the scheme is folded: the rest of the URL reaches the factory as written.
    assert plugin.urls == ["desk-archive://Shelf/B"] * 3


def test_unknown_scheme_names_the_known_ones() -> None:
    known = r"registered: memory://, postgresql://, sqlite://"
    with pytest.raises(StorageError, match=r"mongodb://.*" + known):
        open_store("mongodb://localhost/desk")


def test_options_as_keywords(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path}/a.db", busy_timeout=1, synchronous="off") as store:
        assert isinstance(store, SqliteStore)
    with pytest.raises(StoreArgumentError):
        open_store(f"sqlite:///{tmp_path}/b.db", journal="delete")


# ------------------------------------------------------------------ the file
def test_file_uses_wal_and_unique_positions(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        payload = connection.execute("SELECT payload FROM events").fetchone()[0]
        assert json.loads(payload)["kind"] == "created"
        kind = connection.execute("SELECT json_extract(payload, '$.type') FROM events")
        assert kind.fetchone()[0] == "repair"
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(
                "INSERT INTO events (ticket_id, version, kind, at, payload) "
                "SELECT ticket_id, version, kind, at, payload FROM events"
            )
        versions = connection.execute("SELECT version FROM csmkit_schema ORDER BY 1").fetchall()
        assert [v for (v,) in versions] == list(range(1, SCHEMA_VERSION + 1))
    finally:
        connection.close()


def test_corrupt_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    path.write_bytes(b"this is a spreadsheet, not a database\n" * 200)
    before = _digest(path)
    with pytest.raises(StorageError, match="left untouched"):
        SqliteStore(path)
    assert _digest(path) == before


def test_foreign_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO contacts (name) VALUES ('王芳')")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(StorageError, match=r"not a csmkit database .*contacts"):
        open_store(f"sqlite:///{path}")
    assert _digest(path) == before


def test_empty_database_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA application_id = 1234")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(StorageError, match="another application"):
        SqliteStore(path)
    assert _digest(path) == before


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO csmkit_schema VALUES (?, 'from the future')", (99,))
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(StorageError, match="schema version 99, newer"):
        SqliteStore(path)
    assert _digest(path) == before


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="directory"):
        SqliteStore(tmp_path)


def test_missing_parent_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        SqliteStore(tmp_path / "no" / "such" / "desk.db")


def test_old_schema_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert prepare(connection, str(path), MIGRATIONS[:1]) == 1
    connection.execute(
        "INSERT INTO message_ids (message_id, ticket_id) VALUES ('<old@example.cn>', 'T-0')"
    )
    connection.close()
    with SqliteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.find_ticket_by_message_id("<old@example.cn>") == "T-0"
        store.save_customer(Customer("C-1", identities=[Identity("phone", "+8613800138000")]))
        assert store.get_customer("C-1").identities[0].kind == "phone"


def test_unreadable_event_row_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)
    connection = sqlite3.connect(path)
    connection.execute('UPDATE events SET payload = \'{"kind": "exploded"}\'')
    connection.commit()
    connection.close()
    with SqliteStore(path) as store, pytest.raises(StorageError, match="'T-1' event 1"):
        store.load("T-1")


def test_bad_options() -> None:
    with pytest.raises(StoreArgumentError):
        SqliteStore(":memory:", busy_timeout=-1)
    with pytest.raises(StoreArgumentError):
        SqliteStore(":memory:", synchronous="FULL")


# ------------------------------------------------------------------ several handles
def test_two_handles_on_one_file_see_each_other(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", [created("T-1")], 0)
        timeline = second.load("T-1")  # the second handle caches this state
        at = T0 + timedelta(minutes=1)
        moved = next_event(timeline.ticket, "open", at)
        first.append("T-1", [moved], 1)
        # The second handle's cached state is stale: it must fold from the file.
        state = Timeline([*timeline, moved]).ticket
        waiting = next_event(state, "pending", at + timedelta(minutes=1))
        assert second.append("T-1", [waiting], 2) == 3
        (summary,) = first.find_tickets().items
        assert (summary.status, summary.version) == ("waiting_customer", 3)
        assert list(first.load("T-1")) == list(second.load("T-1"))


def test_reopened_store_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    events = [created("T-1", customer_id="C-1")]
    with SqliteStore(path) as store:
        store.append("T-1", events, 0)
        store.save_customer(Customer("C-1", name="王芳"))
    with open_store(f"sqlite:///{path}") as store:
        assert list(store.load("T-1")) == events
        assert store.get_customer("C-1").name == "王芳"
        with pytest.raises(NotFoundError):
            store.load("T-2")


def test_file_is_not_left_locked_after_close(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    store = SqliteStore(path)
    store.append("T-1", [created("T-1")], 0)
    store.close()
    os.replace(path, tmp_path / "moved.db")
    with SqliteStore(tmp_path / "moved.db") as again:
        assert again.version("T-1") == 1
