"""Search: Chinese without spaces, BM25F field weights, filters, snippets, hostile queries."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.knowledge import (
    MAX_QUERY_TERMS,
    KnowledgeError,
    SearchIndex,
    Synonyms,
    analyze_query,
    tokenize,
)


def _index(docs: dict[str, str], **options: object) -> SearchIndex:
    index = SearchIndex(**options)  # type: ignore[arg-type]
    for key, body in docs.items():
        index.add(key, {"body": body})
    return index


def _keys(index: SearchIndex, query: str, **options: object) -> list[str]:
    return [hit.key for hit in index.search(query, **options)]  # type: ignore[arg-type]


# ------------------------------------------------------------------ Chinese
def test_two_character_words_inside_sentences_are_found() -> None:
    index = _index(
        {
            "article": "这是一篇关于空调维修的文章，请仔细阅读。",
            "meditate": "每天早晨默想五分钟。",
            "default": "系统默认设置已经恢复。",
        }
    )
    assert _keys(index, "文章") == ["article"]
    assert _keys(index, "一篇") == ["article"]
    assert _keys(index, "默想") == ["meditate"]  # not 默认: one shared character is no match
    hit = index.search("文章")[0]
    assert hit.matched == ("文章",)
    assert "**文章**" in hit.snippet


def test_single_character_overlap_is_only_a_flagged_fallback() -> None:
    noise = "空空空 调调调 空气 调整 空间 调度 天空 协调 空白 音调"  # 空 and 调, never 空调
    index = _index({"noise": noise, "match": "空调"})
    hits = index.search("空调")
    assert [(h.key, h.fallback) for h in hits] == [("match", False)]
    # With no real match at all, documents sharing characters come back, flagged.
    index.remove("match")
    hits = index.search("空调")
    assert [(h.key, h.fallback, h.matched) for h in hits] == [("noise", True, ("空", "调"))]


def test_a_longer_query_matches_its_words_and_reports_them_merged() -> None:
    index = _index({"a": "安装后空调不制冷，先检查滤网。", "b": "冰箱制冷正常。"})
    hits = index.search("空调不制冷怎么办")
    assert hits[0].key == "a"
    assert hits[0].matched == ("空调不制冷",)
    assert index.search("空调 滤网")[0].matched == ("空调", "滤网")


def test_a_single_character_query_is_a_real_term() -> None:
    index = _index({"a": "门锁没电了", "b": "灯不亮"})
    assert _keys(index, "锁") == ["a"]
    assert not index.search("锁")[0].fallback


def test_cjk_tokens() -> None:
    assert tokenize("空调") == ["空", "调", "空调"]
    assert tokenize("空") == ["空"]
    assert tokenize("Wi-Fi 密码") == ["wi", "fi", "密", "码", "密码"]


# ------------------------------------------------------------------ Latin
def test_case_folding_and_full_width_letters() -> None:
    index = _index({"a": "Reset the ROUTER", "b": "Restart the fridge"})
    assert _keys(index, "router") == ["a"]
    assert _keys(index, "ＲＯＵＴＥＲ") == ["a"]
    assert _keys(index, "Straße") == []


def test_optional_stemmer_hook() -> None:
    def stem(word: str) -> str:
        return word[:-1] if word.endswith("s") else word

    plain = _index({"a": "replace the filters"})
    stemmed = _index({"a": "replace the filters"}, stemmer=stem)
    assert _keys(plain, "filter") == []
    assert _keys(stemmed, "filter") == ["a"]


# ------------------------------------------------------------------ ranking
def test_field_weights_rank_title_over_tags_over_body() -> None:
    index = SearchIndex()
    index.add("body", {"title": "Guide one", "tags": "misc", "body": "filter cleaning steps"})
    index.add("tags", {"title": "Guide two", "tags": "filter", "body": "cleaning steps here"})
    index.add("title", {"title": "Filter guide", "tags": "misc", "body": "cleaning steps now"})
    assert _keys(index, "filter") == ["title", "tags", "body"]


def test_scores_follow_the_bm25_formula() -> None:
    docs = {"a": "door lock battery", "b": "door bell", "c": "lock"}
    index = _index(docs)
    hits = {h.key: h.score for h in index.search("lock")}
    n, df, avgdl = 3, 2, 6 / 3
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    for key, length in (("a", 3), ("c", 1)):
        expected = idf * 1 * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * length / avgdl))
        assert hits[key] == pytest.approx(expected)


def test_filters_and_limits() -> None:
    index = SearchIndex()
    index.add("zh", {"body": "空调 filter"}, facets={"language": "zh", "product": "ac"})
    index.add("en", {"body": "filter"}, facets={"language": "en", "product": "ac"})
    index.add("en2", {"body": "filter"}, facets={"language": "en", "product": "fridge"})
    assert _keys(index, "filter", filters={"language": "en"}) == ["en", "en2"]
    assert _keys(index, "filter", filters={"language": "en", "product": "ac"}) == ["en"]
    assert sorted(_keys(index, "filter", filters={"language": ["zh", "en"], "product": "ac"})) == [
        "en",
        "zh",
    ]
    assert _keys(index, "filter", filters={"product": None}) == []
    assert len(index.search("filter", limit=2)) == 2
    with pytest.raises(KnowledgeError, match="limit"):
        index.search("filter", limit=0)
    with pytest.raises(KnowledgeError, match=r"filters\.language"):
        index.search("filter", filters={"language": 3})  # type: ignore[dict-item]


def test_incremental_add_replace_and_remove() -> None:
    index = _index({"a": "空调漏水", "b": "冰箱异响"})
    assert _keys(index, "漏水") == ["a"]
    index.add("a", {"body": "洗衣机漏水"})  # replaces
    index.add("c", {"body": "热水器漏水"})
    assert sorted(_keys(index, "漏水")) == ["a", "c"]
    assert _keys(index, "空调") == []
    assert index.remove("a") and not index.remove("a")
    assert _keys(index, "漏水") == ["c"]
    assert len(index) == 2 and "a" not in index
    with pytest.raises(KnowledgeError, match="no weight"):
        index.add("d", {"summary": "x"})


# ------------------------------------------------------------------ synonyms
def test_synonyms_are_data_and_expand_queries() -> None:
    synonyms = Synonyms.from_dict({"groups": [["空调", "冷气", "Air Conditioner"]]})
    assert Synonyms.from_dict(synonyms.to_dict()) == synonyms
    index = _index(
        {"zh": "冷气不凉怎么办", "en": "The air conditioner is not cooling", "other": "air filter"},
        synonyms=synonyms,
    )
    # A multi-word member is searched as its words: the phrase outranks one word of it.
    assert sorted(_keys(index, "空调")[:2]) == ["en", "zh"]
    assert _keys(index, "空调")[2:] == ["other"]
    assert "zh" in _keys(index, "AIR  conditioner")


@pytest.mark.parametrize(
    "data",
    [
        {"groups": [["空调"]]},
        {"groups": [["a", 3]]},
        {"groups": "x"},
        {"group": []},
        {"groups": [["!!", "b"]]},
    ],
)
def test_bad_synonyms_are_errors(data: dict[str, object]) -> None:
    with pytest.raises(KnowledgeError):
        Synonyms.from_dict(data)


# ------------------------------------------------------------------ hostile input
@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        'title:"x" AND (NOT y) OR z* ~2 ^3 -a +b',
        "\x00\x01\x1b[31m\u202e\ufeff",
        "a" * 100_000,
        "空调 " * 20_000,
        "😀" * 1000,
        "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(50_000)),
        "\ud800",
        "%s %d {0} ${x} '; DROP TABLE kb; --",
    ],
)
def test_hostile_queries_never_raise(query: str) -> None:
    index = _index({"a": "空调 a drop table kb x y z"})
    hits = index.search(query)
    assert isinstance(hits, tuple)
    assert sum(1 for t in analyze_query(query) if not t.fallback) <= MAX_QUERY_TERMS
    assert sum(1 for t in analyze_query(query) if t.fallback) <= MAX_QUERY_TERMS


def test_non_string_queries_find_nothing() -> None:
    assert _index({"a": "x"}).search(None) == ()  # type: ignore[arg-type]


# ------------------------------------------------------------------ properties
_WORDS_ZH = [
    "空调",
    "冷气",
    "滤网",
    "漏水",
    "异响",
    "制冷",
    "门锁",
    "电池",
    "一篇",
    "文章",
    "默认",
    "默想",
]
_WORDS_EN = ["router", "filter", "battery", "lock", "reset", "fridge", "noise", "leak"]


@given(
    docs=st.lists(
        st.lists(st.sampled_from(_WORDS_ZH + ["的", "了", "，", "不"]), min_size=1, max_size=8).map(
            "".join
        ),
        min_size=1,
        max_size=12,
    ),
    word=st.sampled_from(_WORDS_ZH),
)
def test_every_document_containing_a_chinese_word_is_found_first(
    docs: list[str], word: str
) -> None:
    index = _index({f"d{i}": text for i, text in enumerate(docs)})
    containing = {f"d{i}" for i, text in enumerate(docs) if word in text}
    hits = index.search(word, limit=len(docs))
    if containing:
        assert {h.key for h in hits} == containing
        assert not any(h.fallback for h in hits)
    else:
        assert all(h.fallback for h in hits)


@given(
    docs=st.lists(
        st.lists(st.sampled_from(_WORDS_EN), min_size=1, max_size=8), min_size=1, max_size=12
    ),
    word=st.sampled_from(_WORDS_EN),
    upper=st.booleans(),
)
def test_every_document_containing_a_latin_word_is_found(
    docs: list[list[str]], word: str, upper: bool
) -> None:
    index = _index({f"d{i}": " ".join(words) for i, words in enumerate(docs)})
    containing = {f"d{i}" for i, words in enumerate(docs) if word in words}
    query = word.upper() if upper else word
    assert set(_keys(index, query, limit=len(docs))) == containing


@given(
    docs=st.lists(
        st.lists(st.sampled_from(_WORDS_EN[:5] + ["x", "y"]), min_size=1, max_size=30),
        min_size=1,
        max_size=40,
    ),
    query=st.lists(st.sampled_from(_WORDS_EN[:5]), min_size=1, max_size=4, unique=True),
    limit=st.integers(min_value=1, max_value=5),
    language=st.none() | st.just("en"),
)
def test_pruned_top_k_equals_the_full_ranking(
    docs: list[list[str]], query: list[str], limit: int, language: str | None
) -> None:
    """MaxScore pruning never changes the top k: same scores as scoring every document."""
    index = SearchIndex()
    for i, words in enumerate(docs):
        index.add(f"d{i}", {"body": " ".join(words)}, facets={"language": ["en", "zh"][i % 2]})
    filters = None if language is None else {"language": language}
    top = index.search(" ".join(query), limit=limit, filters=filters)
    full = index.search(" ".join(query), limit=1000, filters=filters)
    assert [h.score for h in top] == pytest.approx([h.score for h in full[:limit]])
    if top:
        cut = top[-1].score
        assert {h.key for h in top if h.score > cut + 1e-9} == {
            h.key for h in full if h.score > cut + 1e-9
        }


def test_cached_impacts_follow_every_update() -> None:
    """Scores after adds and removes equal those of an index built from scratch."""
    docs = {f"d{i}": "lock " * (1 + i % 5) + "battery " * (i % 3) for i in range(100)}
    index = _index(docs)
    index.search("lock battery")  # warms the cache of both (long) posting lists
    index.add("new", {"body": "lock lock lock door"})
    index.remove("d3")
    rebuilt = _index({k: v for k, v in docs.items() if k != "d3"})
    rebuilt.add("new", {"body": "lock lock lock door"})
    for query in ("lock battery", "lock", "door"):
        got = {h.key: h.score for h in index.search(query, limit=200)}
        want = {h.key: h.score for h in rebuilt.search(query, limit=200)}
        assert got == pytest.approx(want)
