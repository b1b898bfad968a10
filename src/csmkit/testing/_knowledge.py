"""The conformance suite for [`KnowledgeStore`][csmkit.knowledge.KnowledgeStore] implementations."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone

import attrs
import pytest

from csmkit.errors import ConcurrencyError, NotFoundError
from csmkit.knowledge import Article, ArticleRecord, ArticleVersion, KnowledgeStore

__all__ = ["KnowledgeStoreContract"]

KnowledgeStoreFactory = Callable[[], KnowledgeStore]

_T0 = datetime(2026, 9, 30, 17, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))


def _record(article_id: str, versions: int = 1, *, revision: int = 1) -> ArticleRecord:
    made = []
    for number in range(1, versions + 1):
        article = Article(
            id=article_id,
            title=f"空调不制冷 v{number}",
            body=f"# 排查\n\n1. 清洗滤网\n2. 检查冷媒 {'x' * number}\n",
            language="zh",
            product="空调",
            category="troubleshooting",
            tags=("制冷", "ac"),
            audience="customer",
            attachments=("s3://kb/ac/filter.png",),
            review_by=date(2027, 3, 1),
            related_articles=("other-article",),
            related_tickets=("T-1",),
        )
        at = _T0 + timedelta(minutes=number)
        made.append(ArticleVersion(number=number, article=article, at=at, author="li", note="改"))
    return ArticleRecord(id=article_id, versions=tuple(made), status="draft", revision=revision)


class KnowledgeStoreContract:
    """The behaviour every [`KnowledgeStore`][csmkit.knowledge.KnowledgeStore] must have.

    Subclass it in a test module (name the subclass ``Test…``) and provide a
    ``make_store`` fixture returning a callable that creates a **new, empty** store::

        class TestMyKnowledgeStore(KnowledgeStoreContract):
            @pytest.fixture
            def make_store(self, tmp_path):
                paths = iter(range(10**6))
                return lambda: MyKnowledgeStore(tmp_path / f"kb{next(paths)}")

    A store with a ``close()`` method is closed after each test.
    """

    #: Threads racing to write the same article in the concurrency test.
    writer_threads = 4

    @pytest.fixture
    def store(self, make_store: KnowledgeStoreFactory) -> Iterator[KnowledgeStore]:
        """One empty store, closed afterwards when it can be."""
        store = make_store()
        try:
            yield store
        finally:
            close = getattr(store, "close", None)
            if callable(close):
                close()

    def test_is_a_knowledge_store(self, store: KnowledgeStore) -> None:
        assert isinstance(store, KnowledgeStore)

    def test_new_store_is_empty(self, store: KnowledgeStore) -> None:
        assert store.ids() == []
        assert list(store.records()) == []
        with pytest.raises(NotFoundError):
            store.get("ac-1")

    def test_round_trip_is_exact(self, store: KnowledgeStore) -> None:
        record = _record("空调-1", versions=3)
        store.put(record)
        loaded = store.get("空调-1")
        assert loaded == record
        assert loaded.to_dict() == record.to_dict()
        assert loaded.latest.at.utcoffset() == timedelta(hours=8)
        assert loaded.latest.at.microsecond == 123456

    def test_ids_and_records_are_in_id_order(self, store: KnowledgeStore) -> None:
        for article_id in ("b", "a", "c"):
            store.put(_record(article_id))
        assert store.ids() == ["a", "b", "c"]
        assert [r.id for r in store.records()] == ["a", "b", "c"]

    def test_revisions_advance_one_at_a_time(self, store: KnowledgeStore) -> None:
        first = _record("ac-1")
        store.put(first)
        second = attrs.evolve(_record("ac-1", versions=2), revision=2)
        store.put(second)
        assert store.get("ac-1") == second

    def test_stale_or_skipping_writes_are_conflicts(self, store: KnowledgeStore) -> None:
        store.put(_record("ac-1"))
        with pytest.raises(ConcurrencyError):
            store.put(_record("ac-1", versions=2))  # revision 1 again: stale
        with pytest.raises(ConcurrencyError):
            store.put(_record("ac-1", versions=2, revision=3))  # skips revision 2
        with pytest.raises(ConcurrencyError):
            store.put(_record("new", revision=2))  # a new article starts at revision 1
        assert store.get("ac-1") == _record("ac-1")
        assert store.ids() == ["ac-1"]

    def test_concurrent_writers_never_lose_an_update(self, store: KnowledgeStore) -> None:
        store.put(_record("ac-1"))
        wins: list[int] = []
        conflicts: list[int] = []
        barrier = threading.Barrier(self.writer_threads)

        def write(index: int) -> None:
            barrier.wait()
            try:
                store.put(_record("ac-1", versions=2 + index, revision=2))
                wins.append(index)
            except ConcurrencyError:
                conflicts.append(index)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(self.writer_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(wins) == 1
        assert len(conflicts) == self.writer_threads - 1
        assert len(store.get("ac-1").versions) == 2 + wins[0]
