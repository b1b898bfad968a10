"""Markdown front matter, `csmkit kb import/search/stale`, and the example knowledge base."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from csmkit.cli import main
from csmkit.knowledge import (
    KnowledgeBase,
    KnowledgeError,
    import_directory,
    parse_markdown,
    read_directory,
)
from csmkit.workflow import Actor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "knowledge"
AT = datetime(2026, 12, 1, tzinfo=timezone.utc)
BOTH = Actor("import", {"author", "reviewer"})

GOOD = """\
---
# a comment
id: ac-1
title: "空调: 不制冷"
language: zh
tags: [制冷, "a, b", 'c']
review_by: 2027-01-01
status: draft
---

正文第一行
"""


def test_front_matter_subset() -> None:
    article, status = parse_markdown(GOOD, source="kb/ac.md")
    assert article.title == "空调: 不制冷"
    assert article.tags == ("a, b", "c", "制冷")
    assert article.review_by == date(2027, 1, 1)
    assert article.body == "正文第一行\n"
    assert status == "draft"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("id: a\n", "kb/x.md:1", "must start with a '---'"),
        ("---\nid: a\ntitle: t\n", "kb/x.md:1", "not closed"),
        ("---\nid: a\ntitle: t\ncolour: red\n---\n", "kb/x.md:4", "unknown key 'colour'"),
        ("---\nid: a\nid: b\n---\n", "kb/x.md:3", "duplicate key"),
        ("---\nid: a\n  - nested\n---\n", "kb/x.md:3", "expected 'key: value'"),
        ("---\nid: a\ntitle: t\ntags: 制冷\n---\n", "kb/x.md:4", "must be a list"),
        ("---\nid: a\ntitle: t\ntags: [a, , b]\n---\n", "kb/x.md:4", "empty item"),
        ("---\nid: a\ntitle: &anchor t\n---\n", "kb/x.md:3", "unsupported value"),
        ("---\nid: a\ntitle: t\nlanguage: Chinese\n---\n", "kb/x.md:4", "language tag"),
        ("---\nid: a\ntitle: t\nreview_by: soon\n---\n", "kb/x.md:4", "YYYY-MM-DD"),
        ("---\nid: a\ntitle: t\nstatus: archived\n---\n", "kb/x.md:4", "status must be"),
        ("---\nid: a\n---\nbody\n", "kb/x.md:1", "title: is required"),
    ],
)
def test_malformed_front_matter_names_file_and_line(text: str, where: str, message: str) -> None:
    with pytest.raises(KnowledgeError, match=message) as info:
        parse_markdown(text, source="kb/x.md")
    assert info.value.path == where


def test_import_creates_updates_and_leaves_unchanged(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD.replace("status: draft", "status: published"), "utf-8")
    (tmp_path / "b.md").write_text(GOOD.replace("ac-1", "ac-2"), "utf-8")
    kb = KnowledgeBase()
    result = import_directory(kb, tmp_path, author=BOTH, reviewer=BOTH, at=AT)
    assert result.created == ("ac-1", "ac-2")
    assert kb.get("ac-1").status == "published" and kb.get("ac-2").status == "draft"
    (tmp_path / "a.md").write_text(
        GOOD.replace("status: draft", "status: published") + "更多\n", "utf-8"
    )
    result = import_directory(kb, tmp_path, author=BOTH, reviewer=BOTH, at=AT)
    assert (result.updated, result.unchanged) == (("ac-1",), ("ac-2",))
    assert [v.number for v in kb.history("ac-1")] == [1, 2]
    assert kb.get("ac-1").published == 2


def test_a_bad_file_imports_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD, "utf-8")
    (tmp_path / "z.md").write_text("---\nid: broken\n", "utf-8")
    kb = KnowledgeBase()
    with pytest.raises(KnowledgeError, match=r"z\.md:1"):
        import_directory(kb, tmp_path, author=BOTH, reviewer=BOTH, at=AT)
    assert kb.store.ids() == []


def test_duplicate_ids_and_bad_encoding(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD, "utf-8")
    (tmp_path / "b.md").write_text(GOOD, "utf-8")
    with pytest.raises(KnowledgeError, match="is also used by"):
        list(read_directory(tmp_path))
    (tmp_path / "b.md").write_bytes(GOOD.encode("gb18030"))
    with pytest.raises(KnowledgeError, match="not UTF-8"):
        list(read_directory(tmp_path))


# ------------------------------------------------------------------ the example knowledge base
def _example_kb() -> KnowledgeBase:
    kb = KnowledgeBase()
    import_directory(kb, EXAMPLES, author=BOTH, reviewer=BOTH, at=AT)
    return kb


def test_example_knowledge_base_has_30_articles_in_chinese_and_english() -> None:
    records = list(_example_kb().records())
    languages = [r.latest.article.language for r in records]
    assert len(records) >= 30
    assert languages.count("zh") >= 12 and languages.count("en") >= 12


def test_every_example_article_is_found_by_its_title() -> None:
    kb = _example_kb()
    for record in kb.records():
        article = record.latest.article
        hits = kb.search(article.title, audience="internal", language=article.language, limit=3)
        assert article.id in [h.article_id for h in hits], article.title


def test_cli_search_on_the_example_knowledge_base(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["kb", "search", "空调 不制冷", "--dir", str(EXAMPLES), "--lang", "zh", "--json"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == "zh-ac-not-cooling"
    assert rows[0]["matched"] == ["空调", "不制冷"]
    assert "[不制冷]" in rows[0]["snippet"]
    # synonyms.json next to the articles: 冷气 finds 空调 articles
    assert main(["kb", "search", "冷气", "--dir", str(EXAMPLES), "--lang", "zh", "--json"]) == 0
    assert {r["id"] for r in json.loads(capsys.readouterr().out)} >= {"zh-ac-not-cooling"}
    # customers never see internal articles
    assert main(["kb", "search", "派工规则", "--dir", str(EXAMPLES), "--audience", "customer"]) == 0
    assert "zh-dispatch-rules" not in capsys.readouterr().out


def test_cli_import_search_stale_on_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "kb.sqlite3")
    assert main(["kb", "import", str(EXAMPLES), "--db", db]) == 0
    assert "31 created" in capsys.readouterr().out
    assert main(["kb", "import", str(EXAMPLES), "--db", db, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["unchanged"]) == 31
    assert main(["kb", "search", "door lock battery", "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. Smart lock battery is flat")
    assert main(["kb", "stale", "--db", db, "--today", "2026-12-07", "--json"]) == 0
    stale = {row["id"] for row in json.loads(capsys.readouterr().out)}
    assert stale == {"en-hub-offline", "zh-hub-offline", "zh-ac-noise"}
    assert main(["kb", "stale", "--db", db, "--today", "2026-01-01"]) == 0
    assert "no published article is past its review date" in capsys.readouterr().out


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "search", "x", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no such knowledge file" in capsys.readouterr().err
    (tmp_path / "bad.md").write_text("---\nid: a\ntitle: t\ncolour: red\n---\n", "utf-8")
    assert main(["kb", "import", str(tmp_path), "--db", str(tmp_path / "kb.db")]) == 1
    assert "bad.md:4: unknown key 'colour'" in capsys.readouterr().err
    assert main(["kb", "stale", "--dir", str(EXAMPLES), "--today", "tomorrow"]) == 2
    assert main(["kb", "search", "x", "--dir", str(EXAMPLES), "--limit", "0"]) == 2
    capsys.readouterr()
    assert main(["kb", "search", "\x00" + "空调 OR " * 20_000, "--dir", str(EXAMPLES)]) == 0
