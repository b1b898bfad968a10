"""``csmkit kb``: import Markdown articles, search them, list the stale ones."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["add_kb_parser"]

_EPILOG = """\
examples from a checkout of csmkit (examples/knowledge holds a sample knowledge base):
  csmkit kb import examples/knowledge --db kb.sqlite3
  csmkit kb search "空调 不制冷" --dir examples/knowledge
  csmkit kb search "door lock battery" --dir examples/knowledge --lang en
  csmkit kb stale --dir examples/knowledge --today 2027-06-01
Files are Markdown with front matter (see docs/knowledge.md). A synonyms.json next to
the articles ({"groups": [["空调", "冷气", "air conditioner"]]}) is used by search.
"""


def add_kb_parser(subparsers: Any) -> None:
    """Add ``kb import``, ``kb search`` and ``kb stale`` to an argparse ``subparsers``."""
    parser = subparsers.add_parser(
        "kb",
        help="knowledge base: import Markdown articles, search, stale articles",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="import a directory of Markdown articles into --db")
    imp.add_argument("directory", metavar="DIR")
    imp.add_argument("--db", metavar="PATH", required=True, help="SQLite knowledge file")
    imp.add_argument("--author", default="import", help="author id recorded (default: import)")
    imp.add_argument("--json", action="store_true", help="print JSON")
    imp.set_defaults(handler=_run_import)

    search = sub.add_parser("search", help="search published articles")
    search.add_argument("query", metavar="QUERY")
    _source(search)
    search.add_argument("--lang", help="only articles in this language (zh, en …)")
    search.add_argument("--product", help="only articles about this product")
    search.add_argument(
        "--audience",
        choices=["internal", "customer"],
        default="internal",
        help="internal (agents, default) or customer (customer articles only)",
    )
    search.add_argument("--limit", type=int, default=5, help="results (1-100, default 5)")
    search.add_argument("--synonyms", metavar="FILE", help="synonym groups as JSON")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(handler=_run_search)

    stale = sub.add_parser("stale", help="published articles past their review-by date")
    _source(stale)
    stale.add_argument("--today", metavar="YYYY-MM-DD", help="the date to compare with")
    stale.add_argument("--json", action="store_true", help="print JSON")
    stale.set_defaults(handler=_run_stale)


def _source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--db", metavar="PATH", help="SQLite knowledge file (from `kb import`)")
    group.add_argument("--dir", metavar="DIR", help="read Markdown articles from DIR directly")


def _open(args: argparse.Namespace, synonyms: Any = None) -> Any:
    from csmkit.cli._main import UsageError
    from csmkit.knowledge import (
        KnowledgeBase,
        SearchIndex,
        SqliteKnowledgeStore,
        import_directory,
    )
    from csmkit.workflow import Actor

    index = SearchIndex(synonyms=synonyms)
    if args.dir is not None:
        kb = KnowledgeBase(index=index)
        author = Actor("import", {"author", "reviewer"})
        import_directory(kb, args.dir, author=author, reviewer=author, at=_now())
        return kb
    path = Path(args.db)
    if not path.is_file():
        raise UsageError(f"{path}: no such knowledge file (create it with `csmkit kb import`)")
    return KnowledgeBase(SqliteKnowledgeStore(path), index=index)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _run_import(args: argparse.Namespace) -> int:
    from csmkit.knowledge import KnowledgeBase, SqliteKnowledgeStore, import_directory
    from csmkit.workflow import Actor

    store = SqliteKnowledgeStore(args.db)
    try:
        kb = KnowledgeBase(store)
        actor = Actor(args.author, {"author", "reviewer"})
        result = import_directory(kb, args.directory, author=actor, reviewer=actor, at=_now())
    finally:
        store.close()
    if args.json:
        json.dump(
            {
                "created": list(result.created),
                "updated": list(result.updated),
                "unchanged": list(result.unchanged),
            },
            sys.stdout,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write(
            f"{args.db}: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged\n"
        )
    return 0


def _load_synonyms(args: argparse.Namespace) -> Any:
    from csmkit.knowledge import Synonyms

    path: Path | None = Path(args.synonyms) if args.synonyms else None
    if path is None and args.dir is not None and (Path(args.dir) / "synonyms.json").is_file():
        path = Path(args.dir) / "synonyms.json"
    if path is None:
        return None
    return Synonyms.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _run_search(args: argparse.Namespace) -> int:
    from csmkit.cli._main import UsageError

    if not 1 <= args.limit <= 100:
        raise UsageError(f"--limit must be from 1 to 100, got {args.limit}")
    kb = _open(args, _load_synonyms(args))
    hits = kb.search(
        args.query,
        audience=args.audience,
        language=args.lang,
        product=args.product,
        limit=args.limit,
        highlight=("[", "]"),
    )
    if args.json:
        rows = [
            {
                "id": h.article_id,
                "version": h.version,
                "title": h.title,
                "score": round(h.score, 4),
                "matched": list(h.matched),
                "snippet": h.snippet,
                "fallback": h.fallback,
            }
            for h in hits
        ]
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not hits:
        sys.stdout.write("no published article matches\n")
        return 0
    for rank, hit in enumerate(hits, start=1):
        note = "  (only single characters matched)" if hit.fallback else ""
        sys.stdout.write(
            f"{rank}. {hit.title}  [{hit.article_id} v{hit.version}]  score {hit.score:.2f}{note}\n"
            f"   matched: {', '.join(hit.matched)}\n   {hit.snippet}\n"
        )
    return 0


def _run_stale(args: argparse.Namespace) -> int:
    from csmkit.cli._main import UsageError

    try:
        today = date.fromisoformat(args.today) if args.today else _now().date()
    except ValueError:
        raise UsageError(f"--today must be YYYY-MM-DD, got {args.today!r}") from None
    kb = _open(args)
    stale = kb.stale(today=today)
    rows = []
    for record in stale:
        article = record.version(record.published).article
        rows.append({"id": record.id, "title": article.title, "review_by": str(article.review_by)})
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif not rows:
        sys.stdout.write(f"no published article is past its review date on {today}\n")
    else:
        for row in rows:
            sys.stdout.write(f"{row['review_by']}  {row['id']}  {row['title']}\n")
    return 0
