"""Knowledge in the metrics: article usage, assisted resolution, FCR and CSAT with vs
without an article, unused and overdue articles, problems without an article."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs

from csmkit.knowledge._article import ArticleRecord
from csmkit.knowledge._errors import KnowledgeError
from csmkit.knowledge._suggest import linked_articles
from csmkit.metrics import FcrRule, Rate, csat, fcr, wilson_interval
from csmkit.timeline import Linked, StatusCategory, Timeline

__all__ = ["KnowledgeUsage", "RateComparison", "knowledge_usage"]

_RESOLVED = frozenset({StatusCategory.SOLVED, StatusCategory.CLOSED})


@attrs.frozen
class RateComparison:
    """A rate for tickets with an article vs tickets without, and their difference.

    Attributes:
        name: What is compared (``"fcr[one_touch]"``, ``"csat"``).
        with_article: The rate over tickets that had an article linked.
        without_article: The rate over the others.
    """

    name: str
    with_article: Rate
    without_article: Rate

    @property
    def difference(self) -> float | None:
        """``with − without`` in percentage points, ``None`` when either side is empty."""
        a, b = self.with_article.score, self.without_article.score
        return None if a is None or b is None else a - b

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Newcombe's hybrid score interval for the difference, in percentage points.

        Raises:
            MetricsError: either side has no tickets.
        """
        p1, p2 = _fraction(self.with_article), _fraction(self.without_article)
        l1, u1 = wilson_interval(self.with_article.successes, self.with_article.trials, confidence)
        l2, u2 = wilson_interval(
            self.without_article.successes, self.without_article.trials, confidence
        )
        d = p1 - p2
        low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        return 100.0 * low, 100.0 * high

    def p_value(self) -> float | None:
        """Two-sided p-value of the pooled two-proportion z-test (``None``: no test)."""
        a, b = self.with_article, self.without_article
        if not a.trials or not b.trials:
            return None
        pooled = (a.successes + b.successes) / (a.trials + b.trials)
        variance = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials)
        if variance == 0:
            return 1.0
        z = (_fraction(a) - _fraction(b)) / math.sqrt(variance)
        return math.erfc(abs(z) / math.sqrt(2))

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Plain dict: both rates, the difference, its interval and the p-value."""
        both = self.with_article.trials and self.without_article.trials
        return {
            "name": self.name,
            "with_article": self.with_article.to_dict(confidence),
            "without_article": self.without_article.to_dict(confidence),
            "difference": self.difference,
            "interval": list(self.interval(confidence)) if both else None,
            "p_value": self.p_value(),
        }


def _fraction(rate: Rate) -> float:
    return rate.successes / rate.trials if rate.trials else math.nan


@attrs.frozen
class KnowledgeUsage:
    """What the knowledge base did for the desk.

    Attributes:
        tickets: Tickets looked at.
        usage: Tickets per article id (articles linked at least once), most used first.
        assisted_resolution: Share of resolved tickets that had an article linked.
        fcr: First-contact resolution with vs without an article.
        csat: CSAT (top box) with vs without an article.
        never_used: Published articles no ticket links (sorted).
        past_review: Published articles whose ``review_by`` is before ``today``.
        problems_without_article: Problem records (tickets incidents link to with the
            ``problem`` relation, or of type ``problem``) that no article resolves yet —
            the root-cause analysis → knowledge loop's to-do list.
    """

    tickets: int
    usage: tuple[tuple[str, int], ...]
    assisted_resolution: Rate
    fcr: RateComparison
    csat: RateComparison
    never_used: tuple[str, ...]
    past_review: tuple[str, ...]
    problems_without_article: tuple[str, ...]

    @property
    def articles_per_ticket(self) -> float | None:
        """Mean number of linked articles per ticket (``None`` with no tickets)."""
        return sum(n for _, n in self.usage) / self.tickets if self.tickets else None

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "tickets": self.tickets,
            "usage": dict(self.usage),
            "articles_per_ticket": self.articles_per_ticket,
            "assisted_resolution": self.assisted_resolution.to_dict(confidence),
            "fcr": self.fcr.to_dict(confidence),
            "csat": self.csat.to_dict(confidence),
            "never_used": list(self.never_used),
            "past_review": list(self.past_review),
            "problems_without_article": list(self.problems_without_article),
        }


def knowledge_usage(
    timelines: Iterable[Timeline],
    articles: Iterable[ArticleRecord] = (),
    *,
    today: date | None = None,
    fcr_rule: FcrRule | str = "one_touch",
    csat_scale: int = 5,
    now: datetime | None = None,
    problem_relation: str = "problem",
) -> KnowledgeUsage:
    """Knowledge KPIs from ticket timelines and the knowledge base's records.

    A ticket "has an article" when its ``kb_articles`` field (written by
    [`link_article()`][csmkit.knowledge.link_article]) is non-empty at the end of its timeline.

    Args:
        timelines: The tickets.
        articles: Article records (``kb.records()``) for unused and overdue articles.
        today: The date for ``past_review`` (none are reported without it).
        fcr_rule: The FCR rule (see [`csmkit.metrics.fcr()`][csmkit.metrics.fcr]).
        csat_scale: The CSAT scale (top box of it counts as satisfied).
        now: Passed to the FCR computation.
        problem_relation: ``Linked.relation`` from an incident to its problem record
            (``csmkit.automation.PROBLEM_RELATION``).

    Raises:
        KnowledgeError: a timeline is not a [`Timeline`][csmkit.timeline.Timeline].
    """
    with_article: list[Timeline] = []
    without: list[Timeline] = []
    usage: Counter[str] = Counter()
    resolved = assisted = 0
    problems: set[str] = set()
    solved_problems: set[str] = set()
    for index, timeline in enumerate(timelines):
        if not isinstance(timeline, Timeline):
            raise KnowledgeError(
                f"not a Timeline: {type(timeline).__name__}", path=f"timelines[{index}]"
            )
        ticket = timeline.ticket
        used = linked_articles(ticket)
        usage.update(used)
        (with_article if used else without).append(timeline)
        if ticket.category in _RESOLVED:
            resolved += 1
            assisted += bool(used)
        problems.update(
            e.other_ticket for e in timeline.of_type(Linked) if e.relation == problem_relation
        )
        if ticket.type == problem_relation:
            problems.add(ticket.id)
        if used:
            solved_problems.add(ticket.id)
    records = list(articles)
    published = [r for r in records if r.served(audience="internal") is not None]
    never_used = sorted(r.id for r in published if r.id not in usage)
    past_review = []
    if today is not None:
        for record in published:
            served = record.served(audience="internal")
            review_by = None if served is None else served.article.review_by
            if review_by is not None and review_by < today:
                past_review.append(record.id)
    return KnowledgeUsage(
        tickets=len(with_article) + len(without),
        usage=tuple(sorted(usage.items(), key=lambda item: (-item[1], item[0]))),
        assisted_resolution=Rate(assisted, resolved, name="assisted_resolution"),
        fcr=RateComparison(
            "fcr",
            fcr(with_article, fcr_rule, now=now) if with_article else Rate(0, 0, name="fcr"),
            fcr(without, fcr_rule, now=now) if without else Rate(0, 0, name="fcr"),
        ),
        csat=RateComparison("csat", _csat(with_article, csat_scale), _csat(without, csat_scale)),
        never_used=tuple(never_used),
        past_review=tuple(sorted(past_review)),
        problems_without_article=tuple(sorted(problems - solved_problems)),
    )


def _csat(timelines: list[Timeline], scale: int) -> Rate:
    if not timelines:
        return Rate(0, 0, name="csat")
    result = csat(timelines, scale=scale)
    satisfied = sum(
        count
        for point, count in zip(range(result.low, result.high + 1), result.counts, strict=True)
        if point in result.satisfied
    )
    return Rate(satisfied, sum(result.counts), name="csat")
