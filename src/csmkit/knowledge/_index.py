"""An in-memory inverted index with BM25F ranking, filters and highlighted snippets."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType

import attrs

from csmkit.knowledge._errors import KnowledgeError
from csmkit.knowledge._ranking import ScoredTerm, TermPostings, top_k
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
_CACHE_MAX_TERMS = 4096  # bounds the memory of cached postings
_MAX_LIMIT = 1000
_MAX_DRIFT = 1.05  # a cached order is rebuilt once avgdl has moved this much


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
        self._cache: dict[tuple[str, float], _Cached] = {}
        self._version = 0  # counts adds and removes: tells a current cached order
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
        number = len(self._lengths)
        self._version += 1
        for token in weighted:
            for weight in (1.0, FALLBACK_WEIGHT):
                cached = self._cache.get((token, weight))
                if cached is not None:
                    cached.added.append(number)
                    if len(cached.added) > _worn_after(cached):  # bounds the memory
                        del self._cache[(token, weight)]
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
        self._version += 1
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
        accept = self._acceptor(allowed)
        primary = top_k(self._terms([t for t in terms if not t.fallback], 1.0), limit, accept)
        fallback_hits: list[tuple[float, int]] = []
        if not primary and any(t.fallback for t in terms):
            fallback_terms = self._terms([t for t in terms if t.fallback], FALLBACK_WEIGHT)
            fallback_hits = top_k(fallback_terms, limit, accept)
        hits = [self._hit(n, s, terms, highlight, False) for s, n in primary]
        hits += [self._hit(n, s, terms, highlight, True) for s, n in fallback_hits]
        return tuple(hits)

    # ------------------------------------------------------------------ internals
    def _terms(self, terms: list[QueryTerm], weight: float) -> list[ScoredTerm]:
        """The query terms found in the index, highest idf first.

        Scores add the terms' contributions in this order (the order never changes
        the ranking, only the last bit of a score).
        """
        count = len(self._docs)
        k1p = self.k1 + 1.0
        base = self.k1 * (1.0 - self.b)
        scale = self.k1 * self.b / (self._total_length / count or 1.0) if count else 0.0
        lengths = self._lengths
        found: list[tuple[float, ScoredTerm]] = []
        for term in terms:
            posting = self._postings.get(term.token)
            if posting:
                df = len(posting)
                idf = weight * math.log(1.0 + (count - df + 0.5) / (df + 0.5))

                def contribution(
                    number: int,
                    default: float,
                    posting: dict[int, float] = posting,
                    idf: float = idf,
                ) -> float:
                    tf = posting.get(number)
                    if tf is None:
                        return default
                    return idf * (tf * k1p / (tf + base + scale * lengths[number]))

                key = (term.token, weight)
                found.append((idf, self._scored(key, posting, idf, scale, contribution)))
        found.sort(key=lambda item: -item[0])
        return [scored for _, scored in found]

    def _scored(
        self,
        key: tuple[str, float],
        posting: dict[int, float],
        idf: float,
        scale: float,
        contribution: Callable[[int, float], float],
    ) -> ScoredTerm:
        """One term's ``idf · tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))`` per document.

        Long posting lists are ordered once and cached. Publishing or removing an
        article moves ``avgdl`` and every idf a little; rather than ordering the list
        again, a cached order stays in use with a bound factor that covers the change,
        scores are computed afresh, and documents added since are ordered on their own.
        The order is rebuilt once those drift too far.
        """
        cached = self._cache.get(key)
        if cached is not None and cached.version == self._version:
            return ScoredTerm.fresh(cached.postings)
        if cached is not None and not _worn(cached, posting, scale):
            added = {n: contribution(n, 0.0) for n in cached.added if n in posting}
            newer = TermPostings.from_contributions(added)
            drift = max(1.0, cached.scale / scale) if scale != cached.scale else 1.0
            return ScoredTerm(
                contribution,
                ((cached.postings.numbers, cached.postings.values), (newer.numbers, newer.values)),
                idf / cached.idf * drift,
            )
        postings = TermPostings.from_contributions(
            {number: contribution(number, 0.0) for number in posting}
        )
        if len(posting) >= _CACHE_MIN_POSTING:
            if len(self._cache) >= _CACHE_MAX_TERMS:
                self._cache.clear()
            self._cache[key] = _Cached(postings, idf, scale, self._version)
        return ScoredTerm.fresh(postings)

    def _acceptor(self, allowed: dict[str, frozenset[str | None]]) -> Callable[[int], bool] | None:
        if not allowed:
            return None
        docs = self._docs
        conditions = list(allowed.items())

        def accept(number: int) -> bool:
            doc = docs.get(number)  # None: removed since a cached order was made
            return doc is not None and all(
                doc.facets.get(name) in values for name, values in conditions
            )

        return accept

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


@attrs.define
class _Cached:
    """A term's contributions ordered at index version ``version``."""

    postings: TermPostings
    idf: float
    scale: float
    version: int
    added: list[int] = attrs.Factory(list)  # documents indexed since, with the term


def _worn(cached: _Cached, posting: dict[int, float], scale: float) -> bool:
    """Whether a cached order has drifted enough to be rebuilt."""
    ordered = len(cached.postings.numbers)
    changed = len(cached.added) + abs(ordered + len(cached.added) - len(posting))
    if changed > _worn_after(cached):
        return True
    if scale == cached.scale:
        return False
    return scale == 0.0 or not 1 / _MAX_DRIFT <= cached.scale / scale <= _MAX_DRIFT


def _worn_after(cached: _Cached) -> int:
    """How many documents may be added to or removed from a cached order."""
    return max(_CACHE_MIN_POSTING, len(cached.postings.numbers) // 16)


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
