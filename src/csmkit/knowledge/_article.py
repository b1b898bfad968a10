"""Articles: the content value, one version of it, and an article's whole record."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from csmkit._time import format_instant, is_aware, parse_instant
from csmkit.knowledge._errors import KnowledgeError

__all__ = [
    "AUDIENCES",
    "MAX_BODY_CHARS",
    "MAX_TITLE_CHARS",
    "STATUSES",
    "Article",
    "ArticleRecord",
    "ArticleVersion",
]

AUDIENCES: tuple[str, ...] = ("customer", "internal")
"""Who may read an article: ``customer`` (served to customers once published) or
``internal`` (agents only)."""

STATUSES: tuple[str, ...] = ("draft", "in_review", "published", "archived")
"""The lifecycle states of an article (see
[`ARTICLE_WORKFLOW`][csmkit.knowledge.ARTICLE_WORKFLOW])."""

MAX_TITLE_CHARS = 500
"""Longest accepted title."""

MAX_BODY_CHARS = 1_000_000
"""Longest accepted body (characters): a bigger article is an error, not a slow index."""

_MAX_NAME_CHARS = 128
_MAX_LIST = 200
_ID = re.compile(r"[^\s\x00-\x1f\x7f/\\]{1,128}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fail(message: str, path: str) -> KnowledgeError:
    return KnowledgeError(message, path=path)


def _check_id(value: object, path: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise _fail(
            f"an id must be 1-128 characters without spaces, slashes or control "
            f"characters, got {value!r}",
            path,
        )
    return value


def _check_text(value: object, path: str, *, limit: int, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(f"must be a string, got {type(value).__name__} {value!r:.60}", path)
    if not empty and not value.strip():
        raise _fail("must not be empty", path)
    if len(value) > limit:
        raise _fail(f"is {len(value)} characters long; the limit is {limit}", path)
    if _CONTROL.search(value):
        raise _fail("contains control characters", path)
    return value


def _check_name(value: object, path: str) -> str | None:
    if value is None:
        return None
    text = _check_text(value, path, limit=_MAX_NAME_CHARS)
    if text != text.strip():
        raise _fail(f"has leading or trailing spaces: {text!r}", path)
    return text


def _names(value: object, path: str, check: Callable[[object, str], str | None]) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise _fail(f"must be a list of strings, got {type(value).__name__}", path)
    items = list(value)
    if len(items) > _MAX_LIST:
        raise _fail(f"has {len(items)} items; the limit is {_MAX_LIST}", path)
    out: list[str] = []
    for index, item in enumerate(items):
        checked = check(item, f"{path}[{index}]")
        if checked is None:
            raise _fail("must not be null", f"{path}[{index}]")
        out.append(checked)
    return tuple(out)


def _unique_sorted(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(items)))


@attrs.frozen(kw_only=True)
class Article:
    """The content of one article version: an immutable value.

    Attributes:
        id: Stable identifier (no spaces, slashes or control characters, ≤ 128 chars).
        title: The title (plain text).
        body: The body (Markdown).
        language: A language tag such as ``"zh"``, ``"en"`` or ``"zh-CN"``.
        product: The product it is about, if any.
        category: A category (``"troubleshooting"``, ``"faq"`` …), if any.
        tags: Labels, stored sorted and without duplicates.
        audience: ``"customer"`` or ``"internal"``.
        attachments: References (URLs or storage keys) to attached files; never content.
        review_by: The date by which the article must be reviewed again, if any.
        related_articles: Ids of related articles (sorted, unique).
        related_tickets: Ids of tickets it came from or resolves (sorted, unique).

    Examples:
        >>> a = Article(id="ac-1", title="空调不制冷", body="检查滤网。", language="zh")
        >>> Article.from_dict(a.to_dict()) == a
        True
    """

    id: str = attrs.field()
    title: str = attrs.field()
    body: str = attrs.field(default="")
    language: str = attrs.field(default="en")
    product: str | None = attrs.field(default=None)
    category: str | None = attrs.field(default=None)
    tags: tuple[str, ...] = attrs.field(default=())
    audience: str = attrs.field(default="customer")
    attachments: tuple[str, ...] = attrs.field(default=())
    review_by: date | None = attrs.field(default=None)
    related_articles: tuple[str, ...] = attrs.field(default=())
    related_tickets: tuple[str, ...] = attrs.field(default=())

    def __attrs_post_init__(self) -> None:
        set_ = object.__setattr__
        _check_id(self.id, "id")
        _check_text(self.title, "title", limit=MAX_TITLE_CHARS)
        _check_text(self.body, "body", limit=MAX_BODY_CHARS, empty=True)
        if not isinstance(self.language, str) or not _LANGUAGE.fullmatch(self.language):
            raise _fail(
                f"must be a language tag like 'zh' or 'en', got {self.language!r}", "language"
            )
        set_(self, "product", _check_name(self.product, "product"))
        set_(self, "category", _check_name(self.category, "category"))
        set_(self, "tags", _unique_sorted(_names(self.tags, "tags", _check_name)))
        if self.audience not in AUDIENCES:
            raise _fail(f"must be one of {list(AUDIENCES)}, got {self.audience!r}", "audience")
        set_(self, "attachments", _names(self.attachments, "attachments", _check_name))
        if self.review_by is not None and (
            type(self.review_by) is not date  # a datetime is a date too: refuse it
        ):
            raise _fail(f"must be a date, got {self.review_by!r}", "review_by")
        related = _unique_sorted(_names(self.related_articles, "related_articles", _check_id))
        if self.id in related:
            raise _fail("an article cannot be related to itself", "related_articles")
        set_(self, "related_articles", related)
        set_(
            self,
            "related_tickets",
            _unique_sorted(_names(self.related_tickets, "related_tickets", _check_id)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form (``review_by`` as ``YYYY-MM-DD``)."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "language": self.language,
            "product": self.product,
            "category": self.category,
            "tags": list(self.tags),
            "audience": self.audience,
            "attachments": list(self.attachments),
            "review_by": None if self.review_by is None else self.review_by.isoformat(),
            "related_articles": list(self.related_articles),
            "related_tickets": list(self.related_tickets),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str = "") -> Article:
        """Build an article from [`to_dict()`][csmkit.knowledge.Article.to_dict] output (optional
        keys may be left out).

        Raises:
            KnowledgeError: a missing or unknown key or an invalid value, naming its path.
        """
        prefix = f"{path}." if path else ""
        if not isinstance(data, Mapping):
            raise _fail(f"an article must be a mapping, got {type(data).__name__}", path)
        unknown = sorted(set(data) - _ARTICLE_KEYS, key=str)
        if unknown:
            raise _fail(f"unknown keys {unknown}; allowed: {sorted(_ARTICLE_KEYS)}", path)
        for required in ("id", "title"):
            if required not in data:
                raise _fail("is required", prefix + required)
        values = dict(data)
        review_by = values.get("review_by")
        if isinstance(review_by, str):
            try:
                values["review_by"] = date.fromisoformat(review_by)
            except ValueError:
                raise _fail(
                    f"must be a date YYYY-MM-DD, got {review_by!r}", prefix + "review_by"
                ) from None
        try:
            return cls(**values)
        except KnowledgeError as exc:
            raise _fail(str(exc).split(": ", 1)[-1], prefix + exc.path) from None

    def text(self) -> str:
        """The article as plain text for diffs: a header of its metadata, then the body."""
        meta = self.to_dict()
        lines = [f"title: {self.title}"]
        lines += [f"{key}: {meta[key]}" for key in sorted(meta) if key not in {"title", "body"}]
        body = self.body if self.body.endswith("\n") or not self.body else self.body + "\n"
        return "\n".join([*lines, "", body])


_ARTICLE_KEYS = frozenset(attrs.fields_dict(Article))


@attrs.frozen(kw_only=True)
class ArticleVersion:
    """One saved version of an article: every edit is a new version.

    Attributes:
        number: 1 for the first version, then consecutive.
        article: The content of this version.
        at: When it was saved (timezone-aware).
        author: Who saved it.
        note: The editor's change note (``"restored version 2"`` for a restore).
    """

    number: int = attrs.field()
    article: Article = attrs.field()
    at: datetime = attrs.field()
    author: str = attrs.field()
    note: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        if type(self.number) is not int or self.number < 1:
            raise _fail(f"must be an integer >= 1, got {self.number!r}", "number")
        if not isinstance(self.article, Article):
            raise _fail(f"must be an Article, got {type(self.article).__name__}", "article")
        if not isinstance(self.at, datetime) or not is_aware(self.at):
            raise _fail(f"must be a timezone-aware datetime, got {self.at!r}", "at")
        _check_id(self.author, "author")
        _check_text(self.note, "note", limit=MAX_TITLE_CHARS, empty=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form."""
        return {
            "number": self.number,
            "article": self.article.to_dict(),
            "at": format_instant(self.at),
            "author": self.author,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str = "") -> ArticleVersion:
        """Rebuild a version from [`to_dict()`][csmkit.knowledge.ArticleVersion.to_dict] output.

        Raises:
            KnowledgeError: malformed data, naming its path.
        """
        prefix = f"{path}." if path else ""
        if not isinstance(data, Mapping) or set(data) != {
            "number",
            "article",
            "at",
            "author",
            "note",
        }:
            raise _fail("a version needs exactly number, article, at, author and note", path)
        try:
            at = parse_instant(data["at"])
        except (TypeError, ValueError) as exc:
            raise _fail(str(exc), prefix + "at") from None
        article = Article.from_dict(data["article"], path=prefix + "article")
        try:
            return cls(
                number=data["number"],
                article=article,
                at=at,
                author=data["author"],
                note=data["note"],
            )
        except KnowledgeError as exc:
            raise _fail(str(exc).split(": ", 1)[-1], prefix + exc.path) from None


def _versions(value: Iterable[ArticleVersion]) -> tuple[ArticleVersion, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ArticleRecord:
    """Everything stored about one article: its versions and its lifecycle state.

    Attributes:
        id: The article id.
        versions: Every version, oldest first (numbers 1, 2, 3 …).
        status: The lifecycle state of the latest version (one of
            [`STATUSES`][csmkit.knowledge.STATUSES]).
        published: The number of the version served as published, or ``None``. A newer
            draft does not replace it until that draft is published in turn.
        revision: Counts every change to the record (edits and transitions); stores use
            it for optimistic concurrency.
        updated_at: When the record last changed.
    """

    id: str = attrs.field()
    versions: tuple[ArticleVersion, ...] = attrs.field(converter=_versions)
    status: str = attrs.field(default="draft")
    published: int | None = attrs.field(default=None)
    revision: int = attrs.field(default=1)
    updated_at: datetime | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        _check_id(self.id, "id")
        if not self.versions:
            raise _fail("an article has at least one version", "versions")
        for index, version in enumerate(self.versions):
            if not isinstance(version, ArticleVersion) or version.number != index + 1:
                raise _fail(
                    f"version numbers must be 1..n in order, got {version!r:.80}",
                    f"versions[{index}]",
                )
            if version.article.id != self.id:
                raise _fail(f"belongs to article {version.article.id!r}", f"versions[{index}]")
        if self.status not in STATUSES:
            raise _fail(f"must be one of {list(STATUSES)}, got {self.status!r}", "status")
        if self.published is not None and not (
            type(self.published) is int and 1 <= self.published <= len(self.versions)
        ):
            raise _fail(f"no version {self.published!r}", "published")
        if (self.status == "published") != (self.published == len(self.versions)):
            raise _fail(
                "the published version must be the latest exactly when status is published",
                "published",
            )
        if type(self.revision) is not int or self.revision < 1:
            raise _fail(f"must be an integer >= 1, got {self.revision!r}", "revision")
        if self.updated_at is None:
            object.__setattr__(self, "updated_at", self.versions[-1].at)
        elif not isinstance(self.updated_at, datetime) or not is_aware(self.updated_at):
            raise _fail(f"must be a timezone-aware datetime, got {self.updated_at!r}", "updated_at")

    @property
    def latest(self) -> ArticleVersion:
        """The newest version (whatever its status)."""
        return self.versions[-1]

    def version(self, number: int) -> ArticleVersion:
        """Version ``number`` (1-based).

        Raises:
            KnowledgeError: there is no such version.
        """
        if type(number) is not int or not 1 <= number <= len(self.versions):
            raise _fail(
                f"article {self.id!r} has versions 1..{len(self.versions)}, not {number!r}",
                "version",
            )
        return self.versions[number - 1]

    def served(self, *, audience: str = "customer") -> ArticleVersion | None:
        """The version a reader of ``audience`` may see, or ``None``.

        Customers see only the published version of a customer article; internal
        readers (agents) see the published version of any article.
        """
        if audience not in AUDIENCES:
            raise _fail(f"must be one of {list(AUDIENCES)}, got {audience!r}", "audience")
        if self.published is None or self.status == "archived":
            return None
        version = self.versions[self.published - 1]
        if audience == "customer" and version.article.audience != "customer":
            return None
        return version

    def diff(self, old: int, new: int) -> str:
        """A unified diff (`difflib`) from version ``old`` to version ``new``."""
        before, after = self.version(old), self.version(new)
        return "".join(
            difflib.unified_diff(
                before.article.text().splitlines(keepends=True),
                after.article.text().splitlines(keepends=True),
                fromfile=f"{self.id} v{old}",
                tofile=f"{self.id} v{new}",
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form."""
        assert self.updated_at is not None
        return {
            "id": self.id,
            "versions": [v.to_dict() for v in self.versions],
            "status": self.status,
            "published": self.published,
            "revision": self.revision,
            "updated_at": format_instant(self.updated_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArticleRecord:
        """Rebuild a record from [`to_dict()`][csmkit.knowledge.ArticleRecord.to_dict] output.

        Raises:
            KnowledgeError: malformed data, naming its path.
        """
        keys = {"id", "versions", "status", "published", "revision", "updated_at"}
        if not isinstance(data, Mapping) or set(data) != keys:
            raise _fail(f"a record needs exactly the keys {sorted(keys)}", "")
        versions = data["versions"]
        if not isinstance(versions, list):
            raise _fail("must be a list", "versions")
        try:
            updated = parse_instant(data["updated_at"])
        except (TypeError, ValueError) as exc:
            raise _fail(str(exc), "updated_at") from None
        return cls(
            id=data["id"],
            versions=[
                ArticleVersion.from_dict(v, path=f"versions[{i}]") for i, v in enumerate(versions)
            ],
            status=data["status"],
            published=data["published"],
            revision=data["revision"],
            updated_at=updated,
        )
