"""A [`KnowledgeStore`][csmkit.knowledge.KnowledgeStore] in one SQLite file (stdlib ``sqlite3``)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from csmkit.errors import StorageError
from csmkit.knowledge._article import ArticleRecord
from csmkit.knowledge._errors import KnowledgeError
from csmkit.knowledge._store import conflict, not_found

__all__ = ["SqliteKnowledgeStore"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kb_articles (
    id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    record TEXT NOT NULL
);
"""


class SqliteKnowledgeStore:
    """Article records as JSON rows in SQLite (WAL mode, ``BEGIN IMMEDIATE`` writes).

    Args:
        path: The database file (created if missing), or ``":memory:"``.

    Raises:
        StorageError: the file is not a csmkit knowledge database or has a newer schema.

    Examples:
        >>> store = SqliteKnowledgeStore(":memory:")
        >>> store.ids()
        []
        >>> store.close()
    """

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StorageError(f"{self._path}: cannot open the knowledge database: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM kb_meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO kb_meta VALUES ('schema', ?)", (str(_SCHEMA_VERSION),)
                )
            elif row[0] != str(_SCHEMA_VERSION):
                raise StorageError(
                    f"{self._path}: knowledge schema {row[0]}, this csmkit reads {_SCHEMA_VERSION}"
                )
        except (sqlite3.Error, StorageError) as exc:
            self._db.close()
            if isinstance(exc, StorageError):
                raise
            raise StorageError(f"{self._path}: not a knowledge database: {exc}") from exc

    def __repr__(self) -> str:
        return f"SqliteKnowledgeStore({self._path!r})"

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def get(self, article_id: str) -> ArticleRecord:
        """See [`KnowledgeStore.get()`][csmkit.knowledge.KnowledgeStore.get]."""
        rows = self._query("SELECT record FROM kb_articles WHERE id = ?", (article_id,))
        if not rows:
            raise not_found(article_id)
        return self._decode(article_id, rows[0][0])

    def put(self, record: ArticleRecord) -> None:
        """See [`KnowledgeStore.put()`][csmkit.knowledge.KnowledgeStore.put]."""
        if not isinstance(record, ArticleRecord):
            raise TypeError(f"put() needs an ArticleRecord, got {type(record).__name__}")
        text = json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    row = self._db.execute(
                        "SELECT revision FROM kb_articles WHERE id = ?", (record.id,)
                    ).fetchone()
                    actual = 0 if row is None else int(row[0])
                    if actual != record.revision - 1:
                        raise conflict(record.id, record.revision - 1, actual)
                    self._db.execute(
                        "INSERT OR REPLACE INTO kb_articles (id, revision, record) "
                        "VALUES (?, ?, ?)",
                        (record.id, record.revision, text),
                    )
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(
                    f"{self._path}: cannot store article {record.id!r}: {exc}"
                ) from exc

    def ids(self) -> list[str]:
        """See [`KnowledgeStore.ids()`][csmkit.knowledge.KnowledgeStore.ids]."""
        return [row[0] for row in self._query("SELECT id FROM kb_articles ORDER BY id", ())]

    def records(self) -> Iterator[ArticleRecord]:
        """See [`KnowledgeStore.records()`][csmkit.knowledge.KnowledgeStore.records]."""
        rows = self._query("SELECT id, record FROM kb_articles ORDER BY id", ())
        for article_id, text in rows:
            yield self._decode(article_id, text)

    def _query(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"{self._path}: {exc}") from exc

    def _decode(self, article_id: str, text: str) -> ArticleRecord:
        try:
            return ArticleRecord.from_dict(json.loads(text))
        except (ValueError, KnowledgeError) as exc:
            raise StorageError(
                f"{self._path}: article {article_id!r} is unreadable: {exc}"
            ) from exc
