"""Markdown articles with a small, safe front-matter subset, and importing a directory.

Front matter is the block between two ``---`` lines at the top of the file::

    ---
    id: ac-not-cooling
    title: 空调不制冷怎么办
    language: zh
    tags: [制冷, 滤网]
    review_by: 2027-03-01
    status: published
    ---
    正文 (Markdown) …

Each line is ``key: value`` where the value is plain text, a quoted string (``"…"`` or
``'…'``) or a flow list ``[a, b, "c, d"]``; ``#`` starts a comment line. Nothing else of
YAML is accepted (no nesting, anchors or tags), so no file can do more than set these
fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from csmkit.errors import NotFoundError
from csmkit.knowledge._article import Article
from csmkit.knowledge._base import KnowledgeBase
from csmkit.knowledge._errors import KnowledgeError
from csmkit.workflow import Actor

__all__ = ["ImportResult", "import_directory", "parse_markdown", "read_directory"]

MAX_FILE_BYTES = 2_000_000
_LIST_KEYS = frozenset({"tags", "attachments", "related_articles", "related_tickets"})
_KEYS = frozenset(attrs.fields_dict(Article)) - {"body"} | {"status"}
_STATUSES = ("draft", "published")
_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)")
_ITEM = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^,"']*?)\s*(?:,|$)""")


def _scalar(text: str, where: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        inner = text[1:-1]
        return re.sub(r"\\(.)", r"\1", inner) if text[0] == '"' else inner
    if text and text[0] in "\"'[]{}&*!|>%@`":
        raise KnowledgeError(f"unsupported value {text!r} (quote it)", path=where)
    return text


def _flow_list(text: str, where: str) -> list[str]:
    inner = text.strip()[1:-1].strip()
    if not inner:
        return []
    items: list[str] = []
    position = 0
    while position < len(inner):
        match = _ITEM.match(inner, position)
        if match is None or match.end() == position:
            raise KnowledgeError(f"malformed list {text!r}", path=where)
        items.append(_scalar(match.group(1), where))
        position = match.end()
    if any(not item for item in items):
        raise KnowledgeError(f"empty item in list {text!r}", path=where)
    return items


def parse_markdown(text: str, *, source: str = "<text>") -> tuple[Article, str]:
    """An article and its requested status (``draft`` or ``published``) from Markdown.

    Args:
        text: The file's text.
        source: The file name used in error messages (``kb/ac.md:3: …``).

    Raises:
        KnowledgeError: malformed front matter or invalid fields, naming file and line.

    Examples:
        >>> text = "---\\nid: a1\\ntitle: 门锁没电\\ntags: [门锁, 电池]\\n---\\n用应急电源。\\n"
        >>> article, status = parse_markdown(text)
        >>> article.title, article.tags, article.body, status
        ('门锁没电', ('电池', '门锁'), '用应急电源。\\n', 'published')
    """
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise KnowledgeError(
            "the file must start with a '---' front-matter line", path=f"{source}:1"
        )
    values: dict[str, Any] = {}
    lines_of: dict[str, int] = {}
    end = None
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r\n")
        where = f"{source}:{number}"
        if line.strip() == "---":
            end = number
            break
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise KnowledgeError(f"expected 'key: value', got {line.strip()!r:.60}", path=where)
        key, value = match.groups()
        if key not in _KEYS:
            raise KnowledgeError(f"unknown key {key!r}; allowed: {sorted(_KEYS)}", path=where)
        if key in values:
            raise KnowledgeError(f"duplicate key {key!r}", path=where)
        value = value.strip()
        if key in _LIST_KEYS:
            if not (value.startswith("[") and value.endswith("]")):
                raise KnowledgeError(f"{key} must be a list like [a, b]", path=where)
            values[key] = _flow_list(value, where)
        else:
            values[key] = _scalar(value, where) or None
        lines_of[key] = number
    if end is None:
        raise KnowledgeError("the front matter is not closed with '---'", path=f"{source}:1")
    status = values.pop("status", None) or "published"
    if status not in _STATUSES:
        raise KnowledgeError(
            f"status must be one of {list(_STATUSES)}, got {status!r}",
            path=f"{source}:{lines_of['status']}",
        )
    values["body"] = "".join(lines[end:]).lstrip("\r\n")
    try:
        return Article.from_dict(values), status
    except KnowledgeError as exc:
        key = exc.path.split(".")[0].split("[")[0]
        raise KnowledgeError(str(exc), path=f"{source}:{lines_of.get(key, 1)}") from None


def read_directory(directory: str | Path) -> Iterator[tuple[Path, Article, str]]:
    """Every ``*.md`` file below ``directory`` (sorted) as ``(path, article, status)``.

    Raises:
        KnowledgeError: a malformed or oversized file (named), or duplicate ids.
        OSError: the directory cannot be read.
    """
    root = Path(directory)
    if not root.is_dir():
        raise KnowledgeError(f"{root}: not a directory")
    seen: dict[str, Path] = {}
    for path in sorted(root.rglob("*.md")):
        if path.stat().st_size > MAX_FILE_BYTES:
            raise KnowledgeError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise KnowledgeError(f"{path}: not UTF-8 text ({exc.reason})") from None
        article, status = parse_markdown(text, source=str(path))
        if article.id in seen:
            raise KnowledgeError(f"{path}: id {article.id!r} is also used by {seen[article.id]}")
        seen[article.id] = path
        yield path, article, status


@attrs.frozen
class ImportResult:
    """What [`import_directory()`][csmkit.knowledge.import_directory] did.

    Attributes:
        created: Ids of new articles.
        updated: Ids saved as a new version.
        unchanged: Ids whose content was already the latest version.
    """

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


def import_directory(
    kb: KnowledgeBase, directory: str | Path, *, author: Actor, reviewer: Actor, at: datetime
) -> ImportResult:
    """Import Markdown articles: new ones are created, changed ones get a new version.

    Files whose status is ``published`` are submitted by ``author`` and published by
    ``reviewer`` (the lifecycle's role checks apply). Every file is parsed before
    anything is written, so a malformed file leaves the knowledge base untouched.
    """
    parsed = list(read_directory(directory))
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for _path, article, status in parsed:
        try:
            record = kb.get(article.id)
        except NotFoundError:
            record = kb.create(article, author=author, at=at, note="imported")
            created.append(article.id)
        else:
            if record.latest.article == article and (
                status != "published" or record.status == status
            ):
                unchanged.append(article.id)
                continue
            if record.latest.article != article:
                record = kb.edit(article, author=author, at=at, note="imported")
            updated.append(article.id)
        if status == "published" and record.status != "published":
            if record.status == "draft":
                kb.submit(article.id, actor=author, at=at)
            kb.publish(article.id, actor=reviewer, at=at)
    return ImportResult(tuple(created), tuple(updated), tuple(unchanged))
