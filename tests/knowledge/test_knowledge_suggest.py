"""Suggestions for a ticket and the article-used link on its timeline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from csmkit.knowledge import (
    ARTICLES_FIELD,
    Article,
    KnowledgeBase,
    KnowledgeError,
    link_article,
    linked_articles,
    suggest_articles,
)
from csmkit.timeline import Event, Ticket, TicketCreated, Timeline
from csmkit.workflow import Actor

T0 = datetime(2026, 9, 1, tzinfo=timezone.utc)
AUTHOR, REVIEWER = Actor("li", {"author"}), Actor("wang", {"reviewer"})


def _kb() -> KnowledgeBase:
    kb = KnowledgeBase()
    articles = [
        Article(id="ac-cool", title="空调不制冷的排查", body="检查滤网和室外机。", language="zh"),
        Article(id="ac-leak", title="空调漏水", body="检查排水管是否堵塞。", language="zh"),
        Article(
            id="lock-bat", title="智能门锁电池更换", body="门锁没电时使用应急电源。", language="zh"
        ),
        Article(id="draft", title="空调不制冷（草稿）", body="草稿内容。", language="zh"),
    ]
    for article in articles:
        kb.create(article, author=AUTHOR, at=T0)
        if article.id != "draft":
            kb.submit(article.id, actor=AUTHOR, at=T0)
            kb.publish(article.id, actor=REVIEWER, at=T0)
    return kb


def _ticket(subject: str) -> Ticket:
    return Ticket.created(
        TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="web", subject=subject)
    )


def test_suggestions_come_from_subject_and_first_message() -> None:
    kb = _kb()
    hits = suggest_articles(kb, _ticket("空调有问题"), "开了一小时还是不制冷，滤网刚洗过")
    assert [h.article_id for h in hits][:1] == ["ac-cool"]
    assert "draft" not in [h.article_id for h in hits]  # only published versions
    assert set(hits[0].matched) >= {"空调", "不制冷", "滤网"}
    assert hits[0].score > 0
    assert suggest_articles(kb, _ticket("门锁没电"))[0].article_id == "lock-bat"


def test_linking_is_a_field_change_on_the_timeline_and_idempotent() -> None:
    kb = _kb()
    ticket = _ticket("空调不制冷")
    top = suggest_articles(kb, ticket)[0]
    event = link_article(
        ticket, top.article_id, actor="li", at=T0 + timedelta(minutes=5), version=top.version
    )
    assert event is not None
    timeline = Timeline([*_created(ticket), event])
    linked = timeline.ticket
    assert linked_articles(linked) == ("ac-cool",)
    assert linked.fields[ARTICLES_FIELD] == ("ac-cool",)
    assert Event.from_dict(event.to_dict()) == event
    assert link_article(linked, "ac-cool", actor="li", at=T0) is None
    second = link_article(linked, "ac-leak", actor="system", at=T0, rule="auto-link")
    assert (
        second is not None
        and second.new == ("ac-cool", "ac-leak")
        and second.meta["rule"] == "auto-link"
    )
    # a used article is not suggested again
    assert "ac-cool" not in [h.article_id for h in suggest_articles(kb, linked)]


def _created(ticket: Ticket) -> list[Event]:
    return [
        TicketCreated(
            ticket_id=ticket.id, at=T0, type="repair", channel="web", subject=ticket.subject
        )
    ]


def test_bad_links_are_errors() -> None:
    ticket = _ticket("x")
    with pytest.raises(KnowledgeError):
        link_article(ticket, "", actor="li", at=T0)
    with pytest.raises(KnowledgeError):
        link_article(ticket, "a", actor="li", at=T0, version=0)
    with pytest.raises(KnowledgeError):
        suggest_articles(_kb(), "T-1")  # type: ignore[arg-type]
