"""csmkit.knowledge search against rank_bm25 and SQLite FTS5 (same process, same machine).

1. English corpus (N generated documents, Zipf-distributed vocabulary): csmkit's
   SearchIndex (body field only, k1 = 1.5, b = 0.75) and rank_bm25's BM25Okapi given the
   **same tokens** and the same idf (Lucene's ``log(1 + (N - n + 0.5) / (n + 0.5))``,
   which csmkit uses; rank_bm25's own idf goes negative for words in more than half the
   documents). The top 10 of every query must agree (same scores; the same documents
   above the 10th score). Then p50/p95 query latency of csmkit, rank_bm25 and SQLite
   FTS5 (``MATCH`` with the words OR-ed, ``ORDER BY bm25``).
2. Chinese corpus (N generated documents without spaces, words drawn from a list of
   2-4 character words): recall of 2-character queries (every document containing the
   word as a substring must be returned), for csmkit's bigrams, FTS5's ``unicode61``
   tokenizer and, when installed, ``jieba.cut_for_search``; p95 latency of sentence
   queries such as ``空调不制冷怎么办`` at N documents; incremental publish cost.

    python benchmarks/bench_knowledge.py               # 100,000 documents
    python benchmarks/bench_knowledge.py --docs 10000  # quicker
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from csmkit.knowledge import SearchIndex, tokenize

QUERIES = 300
TOP = 10
REPEATS = 3  # interleaved runs per engine; the best is reported


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def timed(run: Callable[[str], Any], queries: Sequence[str]) -> tuple[float, float]:
    """p50 and p95 in ms of CPU time (the shared machine's wall clock is mostly waiting)."""
    samples = []
    for query in queries:
        start = time.process_time()
        run(query)
        samples.append((time.process_time() - start) * 1000)
    return percentile(samples, 0.5), percentile(samples, 0.95)


def best_of(
    engines: Sequence[tuple[str, Callable[[str], Any], Sequence[str]]], repeats: int
) -> list[tuple[str, float, float]]:
    """Each engine's best p50 and best p95 over ``repeats`` interleaved runs.

    Other processes load the machine unevenly; interleaving the engines and keeping the
    best run of each compares them under the same conditions.
    """
    best: dict[str, list[float]] = {name: [math.inf, math.inf] for name, _, _ in engines}
    for _ in range(repeats):
        for name, run, queries in engines:
            p50, p95 = timed(run, queries)
            best[name] = [min(best[name][0], p50), min(best[name][1], p95)]
    return [(name, *best[name]) for name, _, _ in engines]


def print_table(rows: Sequence[tuple[str, float, float]], width: int = 34) -> None:
    print(f"  {'query CPU time (ms)':<{width}}{'p50':>8}{'p95':>8}")
    for name, p50, p95 in rows:
        print(f"  {name:<{width}}{p50:>8.2f}{p95:>8.2f}")


# ------------------------------------------------------------------ English
def english_corpus(n: int, rng: random.Random) -> tuple[list[str], list[str]]:
    vocabulary = [f"w{i}" for i in range(20_000)]
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(vocabulary))]
    docs = [" ".join(rng.choices(vocabulary, weights, k=rng.randint(20, 80))) for _ in range(n)]
    # Queries: 2-4 distinct words of middling frequency (ranks 50..5000), like real searches.
    queries = [" ".join(rng.sample(vocabulary[50:5000], rng.randint(2, 4))) for _ in range(QUERIES)]
    return docs, queries


def rank_bm25_index(tokens: list[list[str]]) -> Any:
    from rank_bm25 import BM25Okapi

    class LuceneIdf(BM25Okapi):  # type: ignore[misc]
        """BM25Okapi with csmkit's (Lucene's) idf, so both rank by the same formula."""

        def _calc_idf(self, nd: dict[str, int]) -> None:
            for word, freq in nd.items():
                self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))

    return LuceneIdf(tokens, k1=1.5, b=0.75)


def compare_english(n: int, rng: random.Random) -> None:
    import numpy as np

    docs, queries = english_corpus(n, rng)
    tokens = [tokenize(doc) for doc in docs]
    gc.disable()
    start = time.perf_counter()
    index = SearchIndex(field_weights={"body": 1.0}, k1=1.5, b=0.75)
    for number, doc in enumerate(docs):
        index.add(str(number), {"body": doc})
    csmkit_build = time.perf_counter() - start
    start = time.perf_counter()
    baseline = rank_bm25_index(tokens)
    rank_build = time.perf_counter() - start
    gc.enable()

    def rank_top(query: str) -> list[tuple[float, int]]:
        scores = baseline.get_scores(tokenize(query))
        best = np.argpartition(-scores, TOP)[:TOP]
        return sorted(((float(scores[i]), int(i)) for i in best if scores[i] > 0), reverse=True)

    agree = 0
    for query in queries:
        ours = [(hit.score, int(hit.key)) for hit in index.search(query, limit=TOP)]
        theirs = rank_top(query)
        same_scores = len(ours) == len(theirs) and all(
            math.isclose(a[0], b[0], rel_tol=1e-9) for a, b in zip(ours, theirs, strict=True)
        )
        cut = ours[-1][0] if ours else 0.0
        above = {d for s, d in ours if s > cut * (1 + 1e-9)}
        same_docs = above == {d for s, d in theirs if s > cut * (1 + 1e-9)}
        agree += same_scores and same_docs
    print(f"English corpus, {n:,} documents, {len(queries)} queries of 2-4 words")
    print(f"  build: csmkit {csmkit_build:.1f} s, rank_bm25 {rank_build:.1f} s")
    print(f"  top-{TOP} rankings agree with rank_bm25 on {agree}/{len(queries)} queries")

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
    db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)", enumerate(docs))

    def fts(query: str) -> list[Any]:
        match = " OR ".join(f'"{word}"' for word in query.split())
        sql = "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10"
        return db.execute(sql, (match,)).fetchall()

    rows = best_of(
        [
            ("csmkit SearchIndex", lambda q: index.search(q, limit=TOP), queries),
            ("rank_bm25 BM25Okapi", rank_top, queries[:60]),
            ("SQLite FTS5", fts, queries),
        ],
        REPEATS,
    )
    print_table(rows)
    print(f"  rank_bm25 p95 / csmkit p95 = {rows[1][2] / rows[0][2]:.1f}x")
    print(f"  FTS5 p95 / csmkit p95 = {rows[2][2] / rows[0][2]:.2f}x")


# ------------------------------------------------------------------ Chinese
_WORD_LINES = (
    "空调 冷气 制冷 制热 滤网 漏水 排水 异响 噪音 冰箱 冷藏 冷冻 洗衣机 脱水 震动 门锁 指纹 密码 "
    "电池 充电 扫地机器人 主刷 边刷 热水器 燃气 水压 网关 离线 路由器 配网 遥控器 室外机 室内机 "
    "压缩机 冷媒 保修 维修 上门 工程师 安装 更换 故障码 显示屏 电源 插头 跳闸 温度 湿度 风速 "
    "模式 定时 预约 清洗 消毒 异味 结霜 结冰 漏电 保护 升级 固件 应用 手机 绑定 解绑 家人 分享 "
    "报警 防撬 开门 关门 反锁 应急 钥匙 面板 按键 失灵 卡住 缠绕 毛发 地毯 吸力 电机 风扇 "
    "文章 一篇 默想 默认 设置 恢复 出厂 重启 断电 通电 指示灯 闪烁 常亮 蓝色 红色",
)
WORDS = [word for line in _WORD_LINES for word in line.split()]
FILLER = list("的了是在有和就都而及与着或一不也很到说要去你会这那们他她它请先再后")
SENTENCES = ["空调不制冷怎么办", "冰箱冷藏室结霜", "门锁指纹失灵", "洗衣机脱水震动", "热水器水压低"]


def chinese_corpus(n: int, rng: random.Random) -> list[str]:
    docs = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(8, 30)):
            parts.append(rng.choice(WORDS))
            parts.extend(rng.choices(FILLER, k=rng.randint(0, 2)))
        docs.append("".join(parts))
    return docs


def recall_chinese(n: int, rng: random.Random) -> None:
    docs = chinese_corpus(n, rng)
    two = [w for w in WORDS if len(w) == 2]
    index = SearchIndex(field_weights={"body": 1.0})
    start = time.perf_counter()
    for number, doc in enumerate(docs):
        index.add(str(number), {"body": doc})
    build = time.perf_counter() - start
    # Recall on every 2-character word, over a slice small enough for limit=1000 pages.
    sample = docs[: min(len(docs), 2000)]
    small = SearchIndex(field_weights={"body": 1.0})
    for number, doc in enumerate(sample):
        small.add(str(number), {"body": doc})
    found = expected = 0
    for word in two:
        truth = {str(i) for i, doc in enumerate(sample) if word in doc}
        hits = {h.key for h in small.search(word, limit=1000) if not h.fallback}
        found += len(truth & hits)
        expected += len(truth)
        assert hits <= truth, word  # no false positives either
    print(f"Chinese corpus, {n:,} documents without spaces ({len(two)} two-character query words)")
    print(f"  build: csmkit {build:.1f} s")
    print(f"  recall of 2-character words (on {len(sample):,} documents):")
    print(f"    csmkit bigrams            {found / expected:7.1%}  ({found:,}/{expected:,})")

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")  # unicode61 tokenizer
    db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)", enumerate(sample))
    fts_found = 0
    for word in two:
        truth = {i for i, doc in enumerate(sample) if word in doc}
        rows = db.execute("SELECT rowid FROM docs WHERE docs MATCH ?", (f'"{word}"',)).fetchall()
        fts_found += len(truth & {r[0] for r in rows})
    print(f"    SQLite FTS5 unicode61     {fts_found / expected:7.1%}")
    try:
        import jieba  # type: ignore[import-untyped]
    except ImportError:
        print("    jieba cut_for_search      (not installed: pip install jieba)")
    else:
        jieba.setLogLevel(60)
        jieba_tokens = [set(jieba.cut_for_search(doc)) for doc in sample]
        jieba_found = sum(
            sum(1 for i, doc in enumerate(sample) if word in doc and word in jieba_tokens[i])
            for word in two
        )
        print(f"    jieba cut_for_search      {jieba_found / expected:7.1%}")

    queries = [rng.choice(SENTENCES) + rng.choice(["", "怎么处理", " 急"]) for _ in range(QUERIES)]
    engines = [("csmkit SearchIndex (bigrams)", lambda q: index.search(q, limit=TOP), queries)]
    engines += fts_chinese(docs, queries)
    print(f"  sentence queries ({SENTENCES[0]} …), {n:,} documents:")
    print_table(best_of(engines, REPEATS))
    publish, first = [], []
    for number in range(50):
        start = time.process_time()
        index.add(f"new{number}", {"body": docs[number]})
        publish.append((time.process_time() - start) * 1000)
        start = time.process_time()
        index.search(queries[number], limit=TOP)
        first.append((time.process_time() - start) * 1000)
    median = statistics.median(publish)
    print(f"  incremental publish (one article into {n:,}): median {median:.2f} ms")
    print(
        f"  first query after a publish (cached order kept): "
        f"median {statistics.median(first):.1f} ms, max {max(first):.1f} ms"
    )


def fts_chinese(
    docs: Sequence[str], queries: Sequence[str]
) -> list[tuple[str, Callable[[str], Any], Sequence[str]]]:
    """SQLite FTS5 over csmkit's bigrams and over jieba's words (space-separated tokens)."""
    engines: list[tuple[str, Callable[[str], Any], Sequence[str]]] = []

    def bigrams(text: str) -> list[str]:
        return [token for token in tokenize(text) if len(token) == 2] or tokenize(text)

    segmenters: list[tuple[str, Callable[[str], list[str]]]] = [("bigrams", bigrams)]
    try:
        import jieba
    except ImportError:
        print("  (jieba not installed: pip install jieba)")
    else:
        jieba.setLogLevel(60)
        jieba.initialize()

        def words(text: str) -> list[str]:
            return [word for word in jieba.cut_for_search(text) if word.strip()]

        segmenters.append(
            ("jieba", lambda text: [w for w in jieba.cut_for_search(text) if w.strip()])
        )
    for name, segment in segmenters:
        start = time.process_time()
        db = sqlite3.connect(":memory:")
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
        rows = ((number, " ".join(segment(doc))) for number, doc in enumerate(docs))
        db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)", rows)
        print(f"  build: SQLite FTS5 + {name} {time.process_time() - start:.1f} s CPU")

        def run(query: str, db: sqlite3.Connection = db, segment: Any = segment) -> list[Any]:
            match = " OR ".join(f'"{word}"' for word in dict.fromkeys(segment(query)))
            sql = "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10"
            return db.execute(sql, (match,)).fetchall()

        engines.append((f"SQLite FTS5 + {name}", run, queries[:100]))  # slow: fewer
    return engines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="documents per corpus")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=["english", "chinese"], help="run one corpus only")
    args = parser.parse_args()
    if args.only != "chinese":
        compare_english(args.docs, random.Random(args.seed))
        print()
    if args.only != "english":
        recall_chinese(args.docs, random.Random(args.seed + 1))


if __name__ == "__main__":
    main()
