"""KnowledgeBase: versions, diff, restore, the review lifecycle, what is served."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import ConcurrencyError, NotFoundError, TimelineError, TransitionNotAllowed
from csmkit.knowledge import (
    ARTICLE_WORKFLOW,
    Article,
    KnowledgeBase,
    KnowledgeError,
    MemoryKnowledgeStore,
    SqliteKnowledgeStore,
)
from csmkit.workflow import Actor

T0 = datetime(2026, 9, 1, 9, tzinfo=timezone.utc)
AUTHOR = Actor("li", {"author"})
REVIEWER = Actor("wang", {"reviewer"})
AGENT = Actor("zhao", {"agent"})


def _article(version: str = "1", **changes: object) -> Article:
    base = Article(
        id="ac-1",
        title=f"空调不制冷 {version}",
        body=f"先检查滤网是否堵塞，再看室外机。版本 {version}",
        language="zh",
        product="空调",
        tags=("制冷",),
    )
    return attrs.evolve(base, **changes)


def _published(kb: KnowledgeBase, article: Article | None = None) -> None:
    kb.create(article or _article(), author=AUTHOR, at=T0)
    kb.submit("ac-1", actor=AUTHOR, at=T0 + timedelta(minutes=1))
    kb.publish("ac-1", actor=REVIEWER, at=T0 + timedelta(minutes=2))


def test_lifecycle_is_a_valid_workflow_with_author_and_reviewer_roles() -> None:
    assert [s.name for s in ARTICLE_WORKFLOW.states] == [
        "draft",
        "in_review",
        "published",
        "archived",
    ]
    assert ARTICLE_WORKFLOW.transition("publish").roles == frozenset({"reviewer"})
    assert ARTICLE_WORKFLOW.transition("submit").roles == frozenset({"author"})


def test_only_published_versions_are_served() -> None:
    kb = KnowledgeBase()
    record = kb.create(_article(), author=AUTHOR, at=T0)
    assert record.status == "draft"
    assert kb.served("ac-1") is None
    assert kb.search("滤网") == ()
    kb.submit("ac-1", actor=AUTHOR, at=T0 + timedelta(minutes=1))
    assert kb.served("ac-1") is None
    kb.publish("ac-1", actor=REVIEWER, at=T0 + timedelta(minutes=2))
    assert kb.served("ac-1") == _article()
    # A new draft does not replace what customers see until it is published.
    kb.edit(_article("2"), author=AUTHOR, at=T0 + timedelta(minutes=3))
    record = kb.get("ac-1")
    assert (record.status, record.published, len(record.versions)) == ("draft", 1, 2)
    assert kb.served("ac-1") == _article()
    assert [(h.version, h.status) for h in kb.search("版本")] == [(1, "published")]
    assert [
        (h.version, h.status) for h in kb.search("版本", audience="internal", status="draft")
    ] == [(2, "draft")]
    kb.submit("ac-1", actor=AUTHOR, at=T0 + timedelta(minutes=4))
    kb.publish("ac-1", actor=REVIEWER, at=T0 + timedelta(minutes=5))
    assert kb.served("ac-1") == _article("2")
    assert [h.version for h in kb.search("版本")] == [2]
    kb.archive("ac-1", actor=REVIEWER, at=T0 + timedelta(minutes=6))
    assert kb.served("ac-1") is None
    assert kb.served("ac-1", audience="internal") is None
    assert kb.search("版本") == ()
    assert [h.status for h in kb.search("版本", audience="internal", status=None)] == ["archived"]


def test_internal_articles_are_never_served_to_customers() -> None:
    kb = KnowledgeBase()
    _published(kb, _article(audience="internal"))
    assert kb.served("ac-1") is None
    assert kb.served("ac-1", audience="internal") == _article(audience="internal")
    assert kb.search("滤网") == ()
    assert [h.article_id for h in kb.search("滤网", audience="internal")] == ["ac-1"]
    # audience="customer" overrides a status filter that would show drafts
    assert kb.search("滤网", status=None) == ()


def test_the_workflow_engine_enforces_roles_and_states() -> None:
    kb = KnowledgeBase()
    kb.create(_article(), author=AUTHOR, at=T0)
    with pytest.raises(TransitionNotAllowed) as info:
        kb.publish("ac-1", actor=REVIEWER, at=T0)  # still a draft
    assert "state" in str(info.value)
    kb.submit("ac-1", actor=AUTHOR, at=T0)
    with pytest.raises(TransitionNotAllowed, match="reviewer"):
        kb.publish("ac-1", actor=AUTHOR, at=T0)
    with pytest.raises(TransitionNotAllowed, match="author"):
        kb.create(attrs.evolve(_article(), id="ac-2"), author=AGENT, at=T0)
    with pytest.raises(TransitionNotAllowed, match="author"):
        kb.edit(_article("2"), author=REVIEWER, at=T0)
    assert kb.get("ac-1").revision == 2  # refused calls wrote nothing
    kb.reject("ac-1", actor=REVIEWER, at=T0, reason="补充图片")
    assert kb.get("ac-1").status == "draft"


def test_archived_articles_cannot_be_edited() -> None:
    kb = KnowledgeBase()
    _published(kb)
    kb.archive("ac-1", actor=REVIEWER, at=T0 + timedelta(hours=1))
    with pytest.raises(TransitionNotAllowed):
        kb.edit(_article("2"), author=AUTHOR, at=T0 + timedelta(hours=2))
    assert len(kb.history("ac-1")) == 1


def test_time_goes_forward_and_must_be_aware() -> None:
    kb = KnowledgeBase()
    kb.create(_article(), author=AUTHOR, at=T0)
    with pytest.raises(TimelineError):
        kb.submit("ac-1", actor=AUTHOR, at=T0 - timedelta(seconds=1))
    with pytest.raises(KnowledgeError, match="timezone-aware"):
        kb.submit("ac-1", actor=AUTHOR, at=datetime(2026, 9, 2))


def test_create_twice_and_unknown_articles() -> None:
    kb = KnowledgeBase()
    kb.create(_article(), author=AUTHOR, at=T0)
    with pytest.raises(KnowledgeError, match="already exists"):
        kb.create(_article(), author=AUTHOR, at=T0)
    with pytest.raises(NotFoundError):
        kb.edit(attrs.evolve(_article(), id="nope"), author=AUTHOR, at=T0)
    with pytest.raises(NotFoundError):
        kb.submit("nope", actor=AUTHOR, at=T0)


def test_history_and_diff() -> None:
    kb = KnowledgeBase()
    kb.create(_article(), author=AUTHOR, at=T0, note="初稿")
    kb.edit(_article("2", tags=("制冷", "滤网")), author=AUTHOR, at=T0 + timedelta(hours=1))
    history = kb.history("ac-1")
    assert [(v.number, v.author, v.note) for v in history] == [(1, "li", "初稿"), (2, "li", "")]
    diff = kb.diff("ac-1", 1, 2)
    assert diff.startswith("--- ac-1 v1\n+++ ac-1 v2\n")
    assert "-title: 空调不制冷 1\n+title: 空调不制冷 2\n" in diff
    assert "+tags: ['制冷', '滤网']" in diff
    assert (
        "-先检查滤网是否堵塞，再看室外机。版本 1\n+先检查滤网是否堵塞，再看室外机。版本 2\n" in diff
    )
    assert kb.diff("ac-1", 2, 2) == ""


def test_stale_lists_published_articles_past_their_review_date() -> None:
    kb = KnowledgeBase()
    _published(kb, _article(review_by=date(2026, 10, 1)))
    assert kb.stale(today=date(2026, 10, 1)) == ()
    assert [r.id for r in kb.stale(today=date(2026, 10, 2))] == ["ac-1"]


def test_stale_writes_are_refused_by_the_store() -> None:
    store = MemoryKnowledgeStore()
    first, second = KnowledgeBase(store), KnowledgeBase(store)
    first.create(_article(), author=AUTHOR, at=T0)
    stale = first.get("ac-1")
    second.edit(_article("2"), author=AUTHOR, at=T0 + timedelta(minutes=1))
    with pytest.raises(ConcurrencyError):
        store.put(attrs.evolve(stale, revision=stale.revision + 1))


def test_a_knowledge_base_reopened_on_sqlite_is_searchable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = SqliteKnowledgeStore(tmp_path / "kb.db")
    _published(KnowledgeBase(store))
    store.close()
    store = SqliteKnowledgeStore(tmp_path / "kb.db")
    kb = KnowledgeBase(store)
    assert [h.article_id for h in kb.search("室外机")] == ["ac-1"]
    store.close()


@given(
    bodies=st.lists(st.text(max_size=30), min_size=1, max_size=6),
    pick=st.integers(min_value=0, max_value=100),
)
def test_restore_round_trips(bodies: list[str], pick: int) -> None:
    """Restoring version n saves a new version whose content equals version n."""
    kb = KnowledgeBase()
    at = T0
    bodies = ["".join(ch for ch in body if ch.isprintable() or ch in "\n\t") for body in bodies]
    kb.create(_article(body=bodies[0]), author=AUTHOR, at=at)
    for body in bodies[1:]:
        at += timedelta(minutes=1)
        kb.edit(_article(body=body), author=AUTHOR, at=at)
    n = 1 + pick % len(bodies)
    before = kb.history("ac-1")
    record = kb.restore("ac-1", n, author=AUTHOR, at=at + timedelta(minutes=1))
    assert record.versions[:-1] == before  # history is kept
    assert record.latest.article == before[n - 1].article
    assert record.latest.note == f"restored version {n}"
    assert kb.diff("ac-1", n, len(record.versions)) == ""
