"""The built-in knowledge stores pass csmkit's own conformance suite."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from csmkit.errors import StorageError
from csmkit.knowledge import KnowledgeStore, MemoryKnowledgeStore, SqliteKnowledgeStore
from csmkit.testing import KnowledgeStoreContract


class TestMemoryKnowledgeStore(KnowledgeStoreContract):
    @pytest.fixture
    def make_store(self) -> Callable[[], KnowledgeStore]:
        return MemoryKnowledgeStore


class TestSqliteKnowledgeStore(KnowledgeStoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        counter = itertools.count()
        return lambda: SqliteKnowledgeStore(tmp_path / f"kb-{next(counter)}.db")


class TestSqliteInMemoryKnowledgeStore(KnowledgeStoreContract):
    @pytest.fixture
    def make_store(self) -> Callable[[], KnowledgeStore]:
        return lambda: SqliteKnowledgeStore(":memory:")


def test_sqlite_store_persists_across_connections(tmp_path: Path) -> None:
    from csmkit.testing._knowledge import _record

    path = tmp_path / "kb.db"
    store = SqliteKnowledgeStore(path)
    store.put(_record("ac-1", versions=2))
    store.close()
    again = SqliteKnowledgeStore(path)
    assert again.get("ac-1") == _record("ac-1", versions=2)
    again.close()


def test_sqlite_store_refuses_a_corrupt_row(tmp_path: Path) -> None:
    path = tmp_path / "kb.db"
    SqliteKnowledgeStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO kb_articles VALUES ('x', 1, '{\"id\": 1}')")
    db.close()
    store = SqliteKnowledgeStore(path)
    with pytest.raises(StorageError, match="article 'x' is unreadable"):
        store.get("x")
    store.close()


def test_sqlite_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "kb.db"
    SqliteKnowledgeStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kb_meta SET value = '99' WHERE key = 'schema'")
    db.close()
    with pytest.raises(StorageError, match="knowledge schema 99"):
        SqliteKnowledgeStore(path)


def test_a_file_that_is_not_sqlite_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "kb.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StorageError):
        SqliteKnowledgeStore(path)
