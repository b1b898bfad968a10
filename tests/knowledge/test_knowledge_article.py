"""Articles, versions and records: validation and lossless dict round trips."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import CsmkitError
from csmkit.knowledge import (
    MAX_BODY_CHARS,
    Article,
    ArticleRecord,
    ArticleVersion,
    KnowledgeError,
)

_name = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda s: "/" not in s and "\\" not in s)
_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
    | st.sampled_from("\n\t"),
    max_size=60,
)

articles = st.builds(
    Article,
    id=_name.filter(lambda s: s not in {"r1", "r2"}),
    title=_text.filter(lambda s: s.strip()),
    body=_text,
    language=st.sampled_from(["zh", "en", "zh-CN", "ja"]),
    product=st.none() | _name,
    category=st.none() | _name,
    tags=st.lists(_name, max_size=4).map(tuple),
    audience=st.sampled_from(["customer", "internal"]),
    attachments=st.lists(_name, max_size=3).map(tuple),
    review_by=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    related_articles=st.lists(st.sampled_from(["r1", "r2"]), max_size=3).map(tuple),
    related_tickets=st.lists(_name, max_size=3).map(tuple),
)


@given(articles)
def test_article_round_trips_through_json(article: Article) -> None:
    again = Article.from_dict(json.loads(json.dumps(article.to_dict())))
    assert again == article
    assert again.to_dict() == article.to_dict()


@given(
    st.lists(st.sampled_from(["b", "a", "c", "a"]), max_size=6),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=8)))),
)
def test_record_round_trips_through_json(tags: list[str], at: datetime) -> None:
    versions = tuple(
        ArticleVersion(
            number=i + 1,
            article=Article(id="a-1", title=f"t{i}", tags=tuple(tags), review_by=date(2027, 1, 1)),
            at=at,
            author="li",
        )
        for i in range(3)
    )
    record = ArticleRecord(id="a-1", versions=versions, status="draft", published=2, revision=7)
    again = ArticleRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record
    assert again.latest.article.tags == tuple(sorted(set(tags)))


def test_tags_and_relations_are_sorted_and_unique() -> None:
    article = Article(id="a", title="t", tags=("z", "a", "z"), related_tickets=("T-2", "T-1"))
    assert article.tags == ("a", "z")
    assert article.related_tickets == ("T-1", "T-2")


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"title": "x"}, "id"),
        ({"id": "a b", "title": "x"}, "id"),
        ({"id": "a/b", "title": "x"}, "id"),
        ({"id": "a", "title": "  "}, "title"),
        ({"id": "a", "title": "x", "language": "Chinese"}, "language"),
        ({"id": "a", "title": "x", "audience": "public"}, "audience"),
        ({"id": "a", "title": "x", "tags": "not-a-list"}, "tags"),
        ({"id": "a", "title": "x", "tags": ["ok", 3]}, "tags[1]"),
        ({"id": "a", "title": "x", "review_by": "next week"}, "review_by"),
        ({"id": "a", "title": "x", "related_articles": ["a"]}, "related_articles"),
        ({"id": "a", "title": "x", "body": "bell\x07"}, "body"),
        ({"id": "a", "title": "x", "colour": "red"}, ""),
    ],
)
def test_bad_article_data_names_the_path(data: dict[str, object], path: str) -> None:
    with pytest.raises(KnowledgeError) as info:
        Article.from_dict(data, path="articles[3]")
    assert isinstance(info.value, (CsmkitError, ValueError))
    assert info.value.path == ("articles[3]." + path if path else "articles[3]")


def test_huge_article_is_a_clear_error() -> None:
    with pytest.raises(KnowledgeError, match=f"limit is {MAX_BODY_CHARS}"):
        Article(id="a", title="t", body="x" * (MAX_BODY_CHARS + 1))


def test_review_by_must_be_a_date_not_a_datetime() -> None:
    with pytest.raises(KnowledgeError, match="review_by"):
        Article(id="a", title="t", review_by=datetime(2027, 1, 1, tzinfo=timezone.utc))  # type: ignore[arg-type]


def test_version_needs_an_aware_instant() -> None:
    with pytest.raises(KnowledgeError, match="timezone-aware"):
        ArticleVersion(
            number=1, article=Article(id="a", title="t"), at=datetime(2026, 1, 1), author="li"
        )


def test_record_invariants() -> None:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    v1 = ArticleVersion(number=1, article=Article(id="a", title="t"), at=at, author="li")
    other = ArticleVersion(number=2, article=Article(id="b", title="t"), at=at, author="li")
    with pytest.raises(KnowledgeError, match="belongs to article 'b'"):
        ArticleRecord(id="a", versions=(v1, other))
    with pytest.raises(KnowledgeError, match=r"1\.\.n in order"):
        ArticleRecord(id="a", versions=(v1, v1))
    with pytest.raises(KnowledgeError, match="latest exactly when status is published"):
        ArticleRecord(id="a", versions=(v1,), status="published")
    with pytest.raises(KnowledgeError, match="at least one version"):
        ArticleRecord(id="a", versions=())
    with pytest.raises(KnowledgeError, match=r"versions 1\.\.1, not 2"):
        ArticleRecord(id="a", versions=(v1,)).version(2)
