"""An in-memory inverted index with BM25F ranking, filters and highlighted snippets."""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Collection, Iterable, Mapping
from operator import itemgetter
from types import MappingProxyType

import attrs

from csmkit.knowledge._errors import KnowledgeError
from csmkit.knowledge._text import (
    QueryTerm,
    Stemmer,
    Synonyms,
    analyze_query,
    matched_words,
    tokenize,
)

__all__ = ["FIELD_WEIGHTS", "SearchHit", "SearchIndex"]

FIELD_WEIGHTS: Mapping[str, float] = {"title": 3.0, "tags": 2.0, "body": 1.0}
"""Default BM25F field weights: a title match counts three body matches."""

FALLBACK_WEIGHT = 0.1
"""Weight of single CJK characters of a longer query run (a fallback only)."""

_SNIPPET_CHARS = 80
_CACHE_MIN_POSTING = 64  # shorter posting lists are cheap to score from scratch
_SCORE = itemgetter(1)
_MAX_LIMIT = 1000


@attrs.frozen
class SearchHit:
    """One search result.

    Attributes:
        key: The indexed document's key.
        score: Its BM25F score (higher is better; comparable within one query only).
        matched: The query words the document contains (adjacent CJK bigrams merged).
        snippet: A short passage of the body around the first match, matches wrapped in
            the highlight markers.
        facets: The document's filter values (language, product, audience, status …).
        fallback: True when only single characters matched (ranked below every real
            match).
    """

    key: str
    score: float
    matched: tuple[str, ...]
    snippet: str
    facets: Mapping[str, str | None]
    fallback: bool = False


@attrs.define
class _Doc:
    key: str
    length: float
    tokens: tuple[str, ...]
    body: str
    facets: dict[str, str | None]


class SearchIndex:
    """BM25F search over weighted fields, updated one document at a time.

    Args:
        field_weights: Weight per field name (default
            [`FIELD_WEIGHTS`][csmkit.knowledge.FIELD_WEIGHTS]).
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
        synonyms: Synonym groups applied to queries.
        stemmer: Applied to Latin words when indexing and querying.

    Examples:
        >>> index = SearchIndex()
        >>> index.add("a", {"title": "空调不制冷", "body": "先检查滤网是否堵塞。"})
        >>> index.add("b", {"title": "冰箱异响", "body": "调整底脚。"})
        >>> [(h.key, h.matched) for h in index.search("制冷 滤网")]
        [('a', ('制冷', '滤网'))]
    """

    def __init__(
        self,
        *,
        field_weights: Mapping[str, float] = FIELD_WEIGHTS,
        k1: float = 1.2,
        b: float = 0.75,
        synonyms: Synonyms | None = None,
        stemmer: Stemmer | None = None,
    ) -> None:
        for name, weight in field_weights.items():
            if not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight <= 0:
                raise KnowledgeError(
                    f"must be a positive number, got {weight!r}", path=f"field_weights.{name}"
                )
        if not (k1 >= 0 and 0 <= b <= 1):
            raise KnowledgeError(f"k1 must be >= 0 and b within [0, 1], got k1={k1!r}, b={b!r}")
        self.field_weights = dict(field_weights)
        self.k1 = float(k1)
        self.b = float(b)
        self.synonyms = synonyms
        self.stemmer = stemmer
        self._postings: dict[str, dict[int, float]] = {}
        self._docs: dict[int, _Doc] = {}
        self._numbers: dict[str, int] = {}
        self._lengths: list[float] = []  # by document number; numbers are never reused
        self._impacts: dict[str, dict[int, float]] = {}
        self._total_length = 0.0

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: object) -> bool:
        return key in self._numbers

    def add(
        self,
        key: str,
        fields: Mapping[str, str],
        *,
        facets: Mapping[str, str | None] | None = None,
    ) -> None:
        """Index (or re-index) one document; an existing ``key`` is replaced.

        Args:
            key: The document's key.
            fields: Text per field; fields without a weight are an error.
            facets: Values [`search()`][csmkit.knowledge.SearchIndex.search] can filter on.

        Raises:
            KnowledgeError: an unknown field.
        """
        unknown = sorted(set(fields) - set(self.field_weights))
        if unknown:
            raise KnowledgeError(
                f"fields {unknown} have no weight; known: {sorted(self.field_weights)}"
            )
        if key in self._numbers:
            self.remove(key)
        weighted: dict[str, float] = {}
        length = 0.0
        for name, text in fields.items():
            weight = self.field_weights[name]
            tokens = tokenize(text, stemmer=self.stemmer)
            length += weight * len(tokens)
            for token in tokens:
                weighted[token] = weighted.get(token, 0.0) + weight
        self._impacts.clear()
        number = len(self._lengths)
        self._lengths.append(length)
        self._numbers[key] = number
        self._docs[number] = _Doc(
            key, length, tuple(weighted), fields.get("body", ""), dict(facets or {})
        )
        self._total_length += length
        for token, tf in weighted.items():
            self._postings.setdefault(token, {})[number] = tf

    def remove(self, key: str) -> bool:
        """Drop a document; returns whether it was indexed."""
        number = self._numbers.pop(key, None)
        if number is None:
            return False
        self._impacts.clear()
        doc = self._docs.pop(number)
        self._lengths[number] = 0.0
        self._total_length -= doc.length
        for token in doc.tokens:
            posting = self._postings[token]
            del posting[number]
            if not posting:
                del self._postings[token]
        return True

    def search(
        self,
        query: str,
        *,
        filters: Mapping[str, str | Collection[str | None] | None] | None = None,
        limit: int = 10,
        highlight: tuple[str, str] = ("**", "**"),
    ) -> tuple[SearchHit, ...]:
        """The best ``limit`` documents for ``query``; never raises on the query text.

        Documents match on real terms: a word, a CJK bigram, a lone CJK character the
        user typed. Single characters of a longer CJK run are a fallback, searched only
        when no document matches a real term, and flagged ``fallback`` (so ``默想``
        never returns a text that only shares ``默``).

        Args:
            query: Free text from a user (operators and control characters are plain
                separators; long text is cut to a bounded number of terms).
            filters: Facet name to the required value or a collection of allowed values.
            limit: How many hits at most (1 to 1000).
            highlight: The markers put around matches in snippets.

        Raises:
            KnowledgeError: a bad ``limit`` or ``filters`` (programming errors, not
                user text).
        """
        if type(limit) is not int or not 1 <= limit <= _MAX_LIMIT:
            raise KnowledgeError(f"limit must be an integer from 1 to {_MAX_LIMIT}, got {limit!r}")
        allowed = _filters(filters)
        terms = analyze_query(query, stemmer=self.stemmer, synonyms=self.synonyms)
        primary = self._score([t for t in terms if not t.fallback], 1.0, allowed, limit)
        ranked = self._top(primary, allowed, limit)
        fallback_hits: list[tuple[float, int]] = []
        if not ranked and any(t.fallback for t in terms):
            extra = self._score([t for t in terms if t.fallback], FALLBACK_WEIGHT, allowed, limit)
            fallback_hits = self._top(extra, allowed, limit)
        hits = [self._hit(n, s, terms, highlight, False) for s, n in ranked]
        hits += [self._hit(n, s, terms, highlight, True) for s, n in fallback_hits]
        return tuple(hits)

    # ------------------------------------------------------------------ internals
    def _score(
        self,
        terms: list[QueryTerm],
        weight: float,
        allowed: dict[str, frozenset[str | None]],
        limit: int,
    ) -> dict[int, float]:
        """Exact BM25F scores of every document that can still reach the top ``limit``.

        Terms are taken rarest first (MaxScore): once the ``limit``-th best score so far
        exceeds what all remaining terms together could add, a document not seen yet
        can no longer enter the top, so the remaining (frequent) terms only update the
        documents already scored instead of walking their whole posting lists.
        """
        count = len(self._docs)
        if not count:
            return {}
        k1p = self.k1 + 1.0
        plan: list[tuple[float, dict[int, float]]] = []
        for term in terms:
            posting = self._postings.get(term.token)
            if posting:
                df = len(posting)
                idf = weight * math.log(1.0 + (count - df + 0.5) / (df + 0.5))
                plan.append((idf, self._impact(term.token, posting)))
        plan.sort(key=lambda item: -item[0])
        remaining = [0.0] * (len(plan) + 1)  # bound of what terms i.. can still add
        for i in range(len(plan) - 1, -1, -1):
            remaining[i] = remaining[i + 1] + plan[i][0] * k1p
        scores: dict[int, float] = {}
        pruned = False
        for i, (idf, impact) in enumerate(plan):
            # The k-th score is at most what terms 0..i-1 can add: only then may it win.
            if not pruned and i and len(scores) >= limit and remaining[i] < remaining[0] / 2:
                pruned = _kth(scores, self._docs, allowed, limit) > remaining[i]
            if pruned:
                if len(impact) < len(scores):
                    for number, part in impact.items():
                        if number in scores:
                            scores[number] += idf * part
                else:
                    find = impact.get
                    for number in scores:
                        found = find(number)
                        if found is not None:
                            scores[number] += idf * found
            elif not scores:
                scores = {number: idf * part for number, part in impact.items()}
            else:
                get = scores.get
                for number, part in impact.items():
                    scores[number] = get(number, 0.0) + idf * part
        return scores

    def _impact(self, token: str, posting: dict[int, float]) -> dict[int, float]:
        """``tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))`` per document of ``posting``.

        Cached per token until the index changes (any add or remove moves ``avgdl``),
        so repeated queries on a stable index skip the arithmetic.
        """
        cached = self._impacts.get(token)
        if cached is not None:
            return cached
        k1, b = self.k1, self.b
        k1p = k1 + 1.0
        base = k1 * (1.0 - b)
        scale = k1 * b / (self._total_length / len(self._docs) or 1.0)
        lengths = self._lengths
        impact = {
            number: tf * k1p / (tf + base + scale * lengths[number])
            for number, tf in posting.items()
        }
        if len(posting) >= _CACHE_MIN_POSTING:
            self._impacts[token] = impact
        return impact

    def _top(
        self, scores: dict[int, float], allowed: dict[str, frozenset[str | None]], limit: int
    ) -> list[tuple[float, int]]:
        items: Iterable[tuple[int, float]] = scores.items()
        if allowed:
            docs = self._docs
            items = [
                (number, score)
                for number, score in items
                if all(docs[number].facets.get(name) in values for name, values in allowed.items())
            ]
        # nlargest is stable: equal scores keep the order the documents were scored in.
        return [(score, number) for number, score in heapq.nlargest(limit, items, key=_SCORE)]

    def _hit(
        self,
        number: int,
        score: float,
        terms: list[QueryTerm],
        highlight: tuple[str, str],
        fallback: bool,
    ) -> SearchHit:
        doc = self._docs[number]
        postings = self._postings

        def hit(token: str) -> bool:
            return number in postings.get(token, ())

        words = matched_words(terms, hit)
        body = snippet(doc.body, words, highlight)
        return SearchHit(doc.key, score, words, body, MappingProxyType(doc.facets), fallback)


def _kth(
    scores: dict[int, float],
    docs: dict[int, _Doc],
    allowed: dict[str, frozenset[str | None]],
    limit: int,
) -> float:
    """The ``limit``-th best score among documents passing the filters (or -inf)."""
    if allowed:
        values: Collection[float] = [
            score
            for number, score in scores.items()
            if all(docs[number].facets.get(name) in ok for name, ok in allowed.items())
        ]
    else:
        values = scores.values()
    if len(values) < limit:
        return -math.inf
    return heapq.nlargest(limit, values)[-1]


def _filters(
    filters: Mapping[str, str | Collection[str | None] | None] | None,
) -> dict[str, frozenset[str | None]]:
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise KnowledgeError(f"filters must be a mapping, got {type(filters).__name__}")
    out: dict[str, frozenset[str | None]] = {}
    for name, value in filters.items():
        if value is None or isinstance(value, str):
            out[name] = frozenset([value])
        elif isinstance(value, Collection):
            out[name] = frozenset(value)
        else:
            raise KnowledgeError(
                f"must be a string or a collection of strings, got {value!r}",
                path=f"filters.{name}",
            )
    return out


def snippet(body: str, words: tuple[str, ...], highlight: tuple[str, str] = ("**", "**")) -> str:
    """A passage of ``body`` around the first of ``words``, each match highlighted.

    Examples:
        >>> snippet("安装后空调不制冷，请先检查滤网。", ("制冷",), ("[", "]"))
        '安装后空调不[制冷]，请先检查滤网。'
    """
    text = " ".join(body.split())
    if not words:
        return _cut(text, 0, _SNIPPET_CHARS)
    alternatives = sorted(words, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in alternatives), re.IGNORECASE)
    found = pattern.search(text)
    if found is None:
        return _cut(text, 0, _SNIPPET_CHARS)
    start = max(0, found.start() - _SNIPPET_CHARS // 3)
    window = _cut(text, start, start + _SNIPPET_CHARS)
    left, right = highlight
    return pattern.sub(lambda m: f"{left}{m.group(0)}{right}", window)


def _cut(text: str, start: int, end: int) -> str:
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + text[start:end] + suffix
