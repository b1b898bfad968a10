"""Exact top-k: the threshold walk over score-ordered postings equals exhaustive scoring."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.knowledge import SearchIndex, analyze_query, tokenize
from csmkit.knowledge._ranking import ScoredTerm, TermPostings, exhaustive_top, top_k

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
    got = top_k([ScoredTerm.fresh(p) for p in postings], limit, accept, block=block)
    assert got == exhaustive_top(postings, limit, accept)
    assert got == sorted(got, key=lambda item: (-item[0], item[1]))


def test_top_k_stops_early_on_a_rare_and_a_frequent_term() -> None:
    rare = TermPostings.from_contributions(dict.fromkeys(range(0, 40, 2), 5.0))
    frequent = TermPostings.from_contributions({n: 1.0 + n / 10_000 for n in range(5_000)})
    read: list[int] = []

    def accept(number: int) -> bool:
        read.append(number)
        return True

    got = top_k([ScoredTerm.fresh(rare), ScoredTerm.fresh(frequent)], 3, accept, block=16)
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


@settings(max_examples=12)  # each example builds a 300-document index
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


def _dense(rng: random.Random) -> dict[str, str]:
    return {
        "title": "".join(rng.choices(_ZH, k=rng.randint(1, 3))),
        "body": "".join(rng.choices(_ZH, k=rng.randint(3, 25))),
    }


@settings(max_examples=12)  # each example builds and rebuilds 150-document indexes
@given(
    seed=st.integers(0, 2**32),
    operations=st.lists(
        st.sampled_from(["add", "replace", "remove", "search"]), min_size=1, max_size=40
    ),
)
def test_searches_between_publishes_equal_a_rebuilt_index(seed: int, operations: list[str]) -> None:
    """Cached orders kept across adds and removes never change a result (bit for bit)."""
    rng = random.Random(seed)
    docs = {f"d{i}": _dense(rng) for i in range(150)}
    order = list(docs)  # keys by document number: ties rank in this order
    index = SearchIndex()
    for key in order:
        index.add(key, docs[key])
    queries = ["空调制冷", "冰箱冷藏结霜", "不", "门锁 指纹失灵", "滤网漏水的"]
    index.search(queries[0])  # caches ordered lists
    operations.append("search")
    for step, operation in enumerate(operations):
        if operation == "add":
            key = f"n{step}"
        elif operation in ("replace", "remove"):
            key = rng.choice(order)
            order.remove(key)
            if operation == "remove":
                del docs[key]
                assert index.remove(key)
                continue
        else:
            query = rng.choice(queries)
            limit = rng.randint(1, 12)
            rebuilt = SearchIndex()
            for key in order:
                rebuilt.add(key, docs[key])
            got = [(h.key, h.score) for h in index.search(query, limit=limit)]
            assert got == [(h.key, h.score) for h in rebuilt.search(query, limit=limit)]
            continue
        docs[key] = _dense(rng)
        order.append(key)
        index.add(key, docs[key])


def test_many_publishes_rebuild_a_worn_order() -> None:
    rng = random.Random(5)
    index = SearchIndex()
    docs = [_dense(rng) for _ in range(400)]
    for number, fields in enumerate(docs[:200]):
        index.add(f"d{number}", fields)
    index.search("空调制冷")
    for number, fields in enumerate(docs[200:], start=200):
        index.add(f"d{number}", fields)
        if number % 100 == 0:  # 100 adds between searches: worn orders are dropped
            index.search("空调制冷")
    assert all(len(cached.added) < 100 for cached in index._cache.values())  # rebuilt
    rebuilt = SearchIndex()
    for number, fields in enumerate(docs):
        rebuilt.add(f"d{number}", fields)
    for query in ("空调制冷", "冷藏结霜"):
        got = [(h.key, h.score) for h in index.search(query, limit=10)]
        assert got == [(h.key, h.score) for h in rebuilt.search(query, limit=10)]


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32), adds=st.integers(0, 40), removes=st.integers(0, 20))
def test_a_kept_order_bounds_every_current_contribution(seed: int, adds: int, removes: int) -> None:
    """After publishes, each listed document's contribution is within its bound × factor."""
    rng = random.Random(seed)
    index = SearchIndex()
    for number in range(120):
        index.add(f"d{number}", _dense(rng))
    index.search("空调制冷结霜")  # caches the ordered lists
    for number in range(adds):
        # Short documents without the query words: N grows, avgdl falls, idf rises.
        index.add(f"n{number}", {"body": rng.choice(["门", "锁", "的不"])})
    for key in rng.sample([f"d{n}" for n in range(120)], removes):
        index.remove(key)
    for term in index._terms(analyze_query("空调制冷结霜"), 1.0):
        for numbers, values in term.lists:
            assert list(values) == sorted(values, reverse=True)
            for number, value in zip(numbers, values, strict=True):
                assert term.contribution(number, 0.0) <= value * term.factor * (1 + 1e-12)
