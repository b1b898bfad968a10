"""Knowledge in the metrics: usage, assisted resolution, with/without comparisons, to-dos."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.automation import PROBLEM_RELATION
from csmkit.errors import MetricsError
from csmkit.knowledge import (
    Article,
    KnowledgeBase,
    KnowledgeError,
    RateComparison,
    knowledge_usage,
    link_article,
)
from csmkit.metrics import Rate, fcr
from csmkit.timeline import (
    Event,
    Linked,
    MessageAdded,
    StatusChanged,
    SurveyAnswered,
    Ticket,
    TicketCreated,
    Timeline,
)
from csmkit.workflow import Actor

T0 = datetime(2026, 9, 1, 9, tzinfo=timezone.utc)


def _timeline(
    ticket_id: str,
    *,
    article: str | None = None,
    solved: bool = True,
    replies: int = 1,
    csat: int | None = None,
    problem: str | None = None,
    type: str = "repair",
) -> Timeline:
    at = T0
    events: list[Event] = [TicketCreated(ticket_id=ticket_id, at=at, type=type, channel="web")]
    ticket = Ticket.created(events[0])  # type: ignore[arg-type]
    events.append(MessageAdded(ticket_id=ticket_id, at=at, direction="inbound", channel="web"))
    if article is not None:
        link = link_article(ticket, article, actor="li", at=at, version=1)
        assert link is not None
        events.append(link)
    for _ in range(replies):
        at += timedelta(minutes=10)
        events.append(MessageAdded(ticket_id=ticket_id, at=at, direction="outbound", channel="web"))
    if problem is not None:
        events.append(Linked(ticket_id=ticket_id, at=at, relation="problem", other_ticket=problem))
    if solved:
        at += timedelta(minutes=1)
        events.append(
            StatusChanged(
                ticket_id=ticket_id, at=at, from_status="new", to_status="solved", category="solved"
            )
        )
    if csat is not None:
        events.append(SurveyAnswered(ticket_id=ticket_id, at=at, survey="csat", score=csat))
    return Timeline(events)


def test_usage_report() -> None:
    timelines = [
        _timeline("T1", article="ac-1", csat=5),
        _timeline("T2", article="ac-1", csat=4, problem="P1"),
        _timeline("T3", article="ac-2", csat=2, replies=3),
        _timeline("T4", csat=3, problem="P1"),
        _timeline("T5", csat=1, replies=2, problem="P2"),
        _timeline("T6", solved=False),
        _timeline("P2", type="problem", article="ac-2", solved=False),
        _timeline("P3", type="problem", solved=False),
    ]
    kb = KnowledgeBase()
    author, reviewer = Actor("li", {"author"}), Actor("wang", {"reviewer"})
    for article_id, review_by in (
        ("ac-1", date(2027, 1, 1)),
        ("ac-2", None),
        ("ac-3", date(2026, 1, 1)),
    ):
        kb.create(
            Article(id=article_id, title=article_id, review_by=review_by), author=author, at=T0
        )
        kb.submit(article_id, actor=author, at=T0)
        kb.publish(article_id, actor=reviewer, at=T0)
    kb.create(Article(id="draft", title="draft"), author=author, at=T0)
    usage = knowledge_usage(timelines, kb.records(), today=date(2026, 12, 1))
    assert usage.tickets == 8
    assert usage.usage == (("ac-1", 2), ("ac-2", 2))
    assert usage.articles_per_ticket == 0.5
    assert (usage.assisted_resolution.successes, usage.assisted_resolution.trials) == (3, 5)
    with_article = [t for t in timelines if t.ticket.fields.get("kb_articles")]
    without = [t for t in timelines if not t.ticket.fields.get("kb_articles")]
    assert usage.fcr.with_article == fcr(with_article)
    assert usage.fcr.without_article == fcr(without)
    assert (usage.csat.with_article.successes, usage.csat.with_article.trials) == (2, 3)
    assert (usage.csat.without_article.successes, usage.csat.without_article.trials) == (0, 2)
    assert usage.csat.difference == pytest.approx(100 * 2 / 3)
    assert usage.never_used == ("ac-3",)  # drafts are not counted
    assert usage.past_review == ("ac-3",)
    assert usage.problems_without_article == ("P1", "P3")
    assert usage.to_dict()["usage"] == {"ac-1": 2, "ac-2": 2}
    assert PROBLEM_RELATION == "problem"  # the default of problem_relation


def test_comparison_matches_known_values() -> None:
    # Newcombe (1998), method 10, example (a): 56/70 vs 48/80 → 0.0524 to 0.3339.
    comparison = RateComparison("x", Rate(56, 70), Rate(48, 80))
    low, high = comparison.interval(0.95)
    assert (round(low / 100, 4), round(high / 100, 4)) == (0.0524, 0.3339)
    assert comparison.difference == pytest.approx(20.0)
    # pooled z-test: z = 0.2 / sqrt(0.69333 * 0.30667 * (1/70 + 1/80)) = 2.6502, p = 0.00805
    assert comparison.p_value() == pytest.approx(0.00805, rel=1e-3)


@given(st.integers(0, 50), st.integers(1, 50), st.integers(0, 50), st.integers(1, 50))
def test_the_interval_contains_the_difference(s1: int, n1: int, s2: int, n2: int) -> None:
    comparison = RateComparison("x", Rate(min(s1, n1), n1), Rate(min(s2, n2), n2))
    low, high = comparison.interval()
    assert comparison.difference is not None
    assert -100 <= low <= comparison.difference + 1e-9 <= high + 2e-9 <= 100 + 2e-9
    p = comparison.p_value()
    assert p is not None and 0 <= p <= 1


def test_empty_groups() -> None:
    usage = knowledge_usage([_timeline("T1")])
    assert usage.fcr.with_article.trials == 0 and usage.fcr.difference is None
    assert usage.fcr.p_value() is None
    assert usage.to_dict()["fcr"]["interval"] is None
    with pytest.raises(MetricsError):
        usage.fcr.interval()
    assert knowledge_usage([]).articles_per_ticket is None
    with pytest.raises(KnowledgeError, match=r"timelines\[0\]"):
        knowledge_usage(["T1"])  # type: ignore[list-item]
