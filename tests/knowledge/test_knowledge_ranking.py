"""Exact top-k: the threshold walk over score-ordered postings equals exhaustive scoring."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.knowledge import SearchIndex, analyze_query, tokenize
from csmkit.knowledge._ranking import TermPostings, exhaustive_top, top_k

# Few distinct values, so ties between documents (and between bound and score) are common.
_values = st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 0.1 + 0.2])
_postings = st.dictionaries(st.integers(0, 60), _values, min_size=1, max_size=60)


@given(
    terms=st.lists(_postings, min_size=1, max_size=5),
    limit=st.integers(1, 12),
    block=st.integers(1, 5),
    rejected=st.none() | st.frozensets(st.integers(0, 60)),
)
def test_top_k_equals_exhaustive_scoring(
    terms: list[dict[int, float]], limit: int, block: int, rejected: frozenset[int] | None
) -> None:
    """Same documents, same scores (bit for bit), same order — ties by lower number."""
    postings = [TermPostings.from_contributions(term) for term in terms]
    accept = None if rejected is None else (lambda number: number not in rejected)
    got = top_k(postings, limit, accept, block=block)
    assert got == exhaustive_top(postings, limit, accept)
    assert got == sorted(got, key=lambda item: (-item[0], item[1]))


def test_top_k_stops_early_on_a_rare_and_a_frequent_term() -> None:
    rare = TermPostings.from_contributions(dict.fromkeys(range(0, 40, 2), 5.0))
    frequent = TermPostings.from_contributions({n: 1.0 + n / 10_000 for n in range(5_000)})
    read: list[int] = []

    def accept(number: int) -> bool:
        read.append(number)
        return True

    got = top_k([rare, frequent], 3, accept, block=16)
    assert got == exhaustive_top([rare, frequent], 3)
    assert len(read) < 100  # the frequent list is read a block or two deep, not 5,000


def test_no_terms_rank_nothing() -> None:
    assert top_k([], 5) == []
    assert exhaustive_top([], 5) == []


# ------------------------------------------------------------------ the index, end to end
_ZH = ["空调", "制冷", "滤网", "漏水", "冰箱", "冷藏", "结霜", "门锁", "指纹", "失灵", "不", "的"]


def _naive_scores(
    docs: list[dict[str, str]], query: str, weights: dict[str, float], k1: float, b: float
) -> dict[int, float]:
    """BM25F written out directly from the formula, one document at a time."""
    weighted: list[dict[str, float]] = []
    lengths: list[float] = []
    for fields in docs:
        tf: dict[str, float] = {}
        length = 0.0
        for name, text in fields.items():
            tokens = tokenize(text)
            length += weights[name] * len(tokens)
            for token in tokens:
                tf[token] = tf.get(token, 0.0) + weights[name]
        weighted.append(tf)
        lengths.append(length)
    avgdl = sum(lengths) / len(lengths)
    scores: dict[int, float] = {}
    for term in analyze_query(query):
        if term.fallback:
            continue
        df = sum(1 for tf in weighted if term.token in tf)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for number, tf in enumerate(weighted):
            f = tf.get(term.token)
            if f:
                norm = k1 * (1 - b + b * lengths[number] / avgdl)
                scores[number] = scores.get(number, 0.0) + idf * f * (k1 + 1) / (f + norm)
    return scores


@settings(max_examples=25)  # each example builds a 300-document index
@given(seed=st.integers(0, 2**32), limit=st.integers(1, 15), words=st.integers(1, 4))
def test_search_ranks_like_naive_bm25f_on_a_dense_chinese_corpus(
    seed: int, limit: int, words: int
) -> None:
    """300 documents whose words each occur in a large share: lists longer than a block."""
    rng = random.Random(seed)
    docs = [
        {
            "title": "".join(rng.choices(_ZH, k=rng.randint(1, 3))),
            "body": "".join(rng.choices(_ZH, k=rng.randint(3, 25))),
        }
        for _ in range(300)
    ]
    index = SearchIndex()
    for number, fields in enumerate(docs):
        index.add(f"d{number}", fields)
    query = "".join(rng.sample(_ZH[:10], words))
    naive = _naive_scores(docs, query, {"title": 3.0, "tags": 2.0, "body": 1.0}, 1.2, 0.75)
    expected = sorted(naive.items(), key=lambda item: (-item[1], item[0]))[:limit]
    hits = [h for h in index.search(query, limit=limit) if not h.fallback]
    assert [h.score for h in hits] == pytest.approx([score for _, score in expected], rel=1e-12)
    # Equal up to rounding: the order may differ only among scores within rounding.
    for hit, (number, score) in zip(hits, expected, strict=True):
        assert hit.key == f"d{number}" or math.isclose(hit.score, score, rel_tol=1e-12)


def test_equal_scores_rank_older_documents_first() -> None:
    index = SearchIndex()
    for key in ("c", "a", "b"):
        index.add(key, {"body": "router reset"})
    assert [h.key for h in index.search("router", limit=2)] == ["c", "a"]
    index.add("c", {"body": "router reset"})  # a re-indexed document is the newest
    assert [h.key for h in index.search("router")] == ["a", "b", "c"]


def test_ranking_follows_updates_of_a_long_cached_list() -> None:
    """Publishing and removing keep the cached, ordered postings exact."""
    docs = {f"d{i}": "空调 制冷" * (1 + i % 3) + " 滤网" * (i % 7 == 0) for i in range(400)}
    index = SearchIndex()
    for key, body in docs.items():
        index.add(key, {"body": body})
    before = index.search("空调滤网", limit=5)  # caches the ordered lists
    index.add("new", {"body": "空调滤网 空调滤网"})
    index.remove("d0")
    rebuilt = SearchIndex()
    for key, body in docs.items():
        if key != "d0":
            rebuilt.add(key, {"body": body})
    rebuilt.add("new", {"body": "空调滤网 空调滤网"})
    after = index.search("空调滤网", limit=5)
    assert after[0].key == "new" and before[0].key != "new"
    assert [(h.key, h.score) for h in after] == [
        (h.key, h.score) for h in rebuilt.search("空调滤网", limit=5)
    ]
