"""The knowledge store port and its in-memory implementation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from csmkit.errors import ConcurrencyError, NotFoundError
from csmkit.knowledge._article import ArticleRecord

__all__ = ["KnowledgeStore", "MemoryKnowledgeStore"]


@runtime_checkable
class KnowledgeStore(Protocol):
    """Where article records live. Implement these four methods to add a backend.

    Writes use optimistic concurrency on `ArticleRecord.revision`: ``put`` of a
    record with revision ``n`` succeeds only when the store holds revision ``n - 1``
    (``0`` meaning "no such article yet"), so two editors never overwrite each other.
    [`csmkit.testing.KnowledgeStoreContract`][csmkit.testing.KnowledgeStoreContract] checks an
    implementation.
    """

    def get(self, article_id: str) -> ArticleRecord:
        """The record of ``article_id``.

        Raises:
            NotFoundError: no such article.
        """
        ...

    def put(self, record: ArticleRecord) -> None:
        """Store ``record`` if the store holds revision ``record.revision - 1``.

        Raises:
            ConcurrencyError: the stored revision is another one; nothing was written.
        """
        ...

    def ids(self) -> list[str]:
        """Every article id, sorted."""
        ...

    def records(self) -> Iterator[ArticleRecord]:
        """Every record, in id order."""
        ...


def conflict(article_id: str, expected: int, actual: int) -> ConcurrencyError:
    """The error for a stale write (shared by the stores)."""
    return ConcurrencyError(
        f"article {article_id!r}: write based on revision {expected}, but the store holds "
        f"revision {actual}; reload and retry",
        ticket_id=article_id,
        expected=expected,
        actual=actual,
    )


def not_found(article_id: str) -> NotFoundError:
    """The error for an unknown article (shared by the stores)."""
    return NotFoundError(f"no article {article_id!r} in the knowledge store")


class MemoryKnowledgeStore:
    """A [`KnowledgeStore`][csmkit.knowledge.KnowledgeStore] in a dict (thread-safe); for tests and
    notebooks.

    Examples:
        >>> store = MemoryKnowledgeStore()
        >>> store.ids()
        []
    """

    def __init__(self) -> None:
        self._records: dict[str, ArticleRecord] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryKnowledgeStore({len(self._records)} articles)"

    def get(self, article_id: str) -> ArticleRecord:
        """See [`KnowledgeStore.get()`][csmkit.knowledge.KnowledgeStore.get]."""
        record = self._records.get(article_id)
        if record is None:
            raise not_found(article_id)
        return record

    def put(self, record: ArticleRecord) -> None:
        """See [`KnowledgeStore.put()`][csmkit.knowledge.KnowledgeStore.put]."""
        if not isinstance(record, ArticleRecord):
            raise TypeError(f"put() needs an ArticleRecord, got {type(record).__name__}")
        with self._lock:
            current = self._records.get(record.id)
            actual = 0 if current is None else current.revision
            if actual != record.revision - 1:
                raise conflict(record.id, record.revision - 1, actual)
            self._records[record.id] = record

    def ids(self) -> list[str]:
        """See [`KnowledgeStore.ids()`][csmkit.knowledge.KnowledgeStore.ids]."""
        return sorted(self._records)

    def records(self) -> Iterator[ArticleRecord]:
        """See [`KnowledgeStore.records()`][csmkit.knowledge.KnowledgeStore.records]."""
        for article_id in self.ids():
            yield self._records[article_id]
