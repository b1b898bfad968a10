"""Exact top-k retrieval over score-ordered posting lists (the threshold algorithm).

Scoring every document that contains a query term costs one dictionary update per
posting: a Chinese sentence query whose words each occur in a sixth of 100,000
documents touches ~70,000 postings to rank ten. Instead, each term keeps its postings
ordered by their contribution to the score, best first. The lists are read a block at a
time, always from the list whose next contribution is largest, and every document met
for the first time is scored completely by looking its number up in every term.

A document not met yet sits, in every list that holds it, at or below the current
depth, so its score is at most the sum of the contributions at the current depths.
Once the ``k``-th best score found is strictly above that bound, no unread document can
enter the top (not even by a tie, which would be broken by document number), and the
walk stops — usually after the rare terms' short lists and a few blocks of the frequent
ones. The result equals scoring every document exhaustively: the bound and every score
add the same per-term contributions in the same term order, and rounding to nearest is
monotone, so the bound also holds for the computed (rounded) sums.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

import attrs

__all__ = ["ScoredTerm", "TermPostings", "exhaustive_top", "top_k"]

_BLOCK = 128  # postings read from one list before the bound is checked again
_SLACK = 1.0 + 1e-9  # covers rounding when a bound is scaled (stale order)


@attrs.frozen
class TermPostings:
    """One query term's contributions, for lookups and in descending order.

    Attributes:
        by_number: Document number to the term's (idf-weighted) score contribution.
        numbers: The document numbers, largest contribution first.
        values: Their contributions, in the same order (non-increasing).
    """

    by_number: dict[int, float]
    numbers: list[int]
    values: list[float]

    @classmethod
    def from_contributions(cls, by_number: dict[int, float]) -> TermPostings:
        """Order a term's contributions, largest first."""
        numbers = sorted(by_number, key=by_number.__getitem__, reverse=True)
        return cls(by_number, numbers, [by_number[number] for number in numbers])


@attrs.frozen
class ScoredTerm:
    """One query term as [`top_k`][] reads it.

    Attributes:
        contribution: ``contribution(number, default)``: the document's exact
            contribution, ``default`` when the term is not in it.
        lists: Document numbers with bound values, each list non-increasing; every
            document of the term is in exactly one list, and its contribution is at
            most its bound value times ``factor``.
        factor: 1.0 when the bound values are the contributions themselves; larger
            for an order computed before the index changed (bounds, not scores).
    """

    contribution: Callable[[int, float], float]
    lists: tuple[tuple[Sequence[int], Sequence[float]], ...]
    factor: float = 1.0

    @classmethod
    def fresh(cls, postings: TermPostings) -> ScoredTerm:
        """A term whose ordered contributions are current."""
        return cls(postings.by_number.get, ((postings.numbers, postings.values),))


def top_k(
    terms: Sequence[ScoredTerm],
    limit: int,
    accept: Callable[[int], bool] | None = None,
    *,
    block: int = _BLOCK,
) -> list[tuple[float, int]]:
    """The ``limit`` best ``(score, number)`` pairs, by score then lower number first.

    A document's score is the sum of its contributions over ``terms``, added in the
    order of ``terms``; documents scoring 0 (no longer indexed) and documents ``accept``
    rejects (filters) are skipped; ``block`` postings are read between two checks of
    the bound.
    """
    gets = [term.contribution for term in terms]
    cursors = [(owner, *pair) for owner, term in enumerate(terms) for pair in term.lists]
    factors = [term.factor for term in terms]
    slack = 1.0 if all(factor == 1.0 for factor in factors) else _SLACK
    depths = [0] * len(cursors)
    best: list[tuple[float, int]] = []  # min-heap of (score, -number): the weakest at [0]
    seen: set[int] = set()
    while True:
        heads = [0.0] * len(terms)  # per term, the most an unread document can get
        chosen = -1
        chosen_value = 0.0
        for index, (owner, _, values) in enumerate(cursors):
            depth = depths[index]
            if depth < len(values):
                value = values[depth] * factors[owner]
                heads[owner] = max(heads[owner], value)
                if chosen < 0 or value > chosen_value:
                    chosen, chosen_value = index, value
        if chosen < 0:
            break
        bound = 0.0
        for head in heads:
            bound += head
        if len(best) == limit and best[0][0] > bound * slack:
            break
        start = depths[chosen]
        depths[chosen] = start + block
        for number in cursors[chosen][1][start : start + block]:
            if number in seen:
                continue
            seen.add(number)
            if accept is not None and not accept(number):
                continue
            score = 0.0
            for get in gets:
                score += get(number, 0.0)
            if score <= 0.0:
                continue
            item = (score, -number)
            if len(best) < limit:
                heapq.heappush(best, item)
            elif item > best[0]:
                heapq.heapreplace(best, item)
    return [(score, -negated) for score, negated in sorted(best, reverse=True)]


def exhaustive_top(
    terms: Sequence[TermPostings], limit: int, accept: Callable[[int], bool] | None = None
) -> list[tuple[float, int]]:
    """What ``top_k`` must return, by scoring every document of every term.

    The reference for tests (and the definition of the ranking): no pruning at all.
    """
    scores: dict[int, float] = {}
    for term in terms:
        for number, value in term.by_number.items():
            scores[number] = scores.get(number, 0.0) + value
    ranked = sorted(
        ((score, -number) for number, score in scores.items() if accept is None or accept(number)),
        reverse=True,
    )
    return [(score, -negated) for score, negated in ranked[:limit]]
