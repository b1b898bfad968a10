"""The knowledge base: versioned articles in a store, their lifecycle, and search."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import attrs

from csmkit._time import is_aware
from csmkit.errors import NotFoundError, TransitionNotAllowed
from csmkit.knowledge._article import AUDIENCES, Article, ArticleRecord, ArticleVersion
from csmkit.knowledge._errors import KnowledgeError
from csmkit.knowledge._index import SearchIndex
from csmkit.knowledge._lifecycle import ARTICLE_WORKFLOW, AUTHOR, fire_transition
from csmkit.knowledge._store import KnowledgeStore, MemoryKnowledgeStore
from csmkit.workflow import Actor, Workflow

__all__ = ["ArticleHit", "KnowledgeBase"]


@attrs.frozen
class ArticleHit:
    """One article found by [`KnowledgeBase.search()`][csmkit.knowledge.KnowledgeBase.search].

    Attributes:
        article_id: The article.
        version: The version that matched (the published one for customers).
        title: Its title.
        score: BM25F score (comparable within one query).
        matched: The query words it contains.
        snippet: A highlighted passage of the body.
        status: The lifecycle state of that version.
        fallback: Only single characters matched (ranked below real matches).
    """

    article_id: str
    version: int
    title: str
    score: float
    matched: tuple[str, ...]
    snippet: str
    status: str
    fallback: bool = False


def _key(article_id: str, number: int) -> str:
    return f"{article_id}@{number}"


def _check_at(at: object) -> datetime:
    if not isinstance(at, datetime) or not is_aware(at):
        raise KnowledgeError(f"at must be a timezone-aware datetime, got {at!r}", path="at")
    return at


class KnowledgeBase:
    """Versioned articles with a review lifecycle, kept in a store and searchable.

    Every edit is a new version; [`publish()`][csmkit.knowledge.KnowledgeBase.publish] makes the
    latest version the one served to readers; the search index is updated incrementally on every
    change.

    Args:
        store: Where records live (default: a new
            [`MemoryKnowledgeStore`][csmkit.knowledge.MemoryKnowledgeStore]). Articles already in it
            are indexed at once.
        index: The search index (default: a [`SearchIndex`][csmkit.knowledge.SearchIndex] with
            default weights).
        workflow: The lifecycle definition (default
            [`ARTICLE_WORKFLOW`][csmkit.knowledge.ARTICLE_WORKFLOW]).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.workflow import Actor
        >>> kb = KnowledgeBase()
        >>> at = datetime(2026, 9, 1, tzinfo=timezone.utc)
        >>> author, reviewer = Actor("li", {"author"}), Actor("wang", {"reviewer"})
        >>> article = Article(id="ac-1", title="空调不制冷", body="先清洗滤网。", language="zh")
        >>> _ = kb.create(article, author=author, at=at)
        >>> _ = kb.submit("ac-1", actor=author, at=at)
        >>> kb.publish("ac-1", actor=reviewer, at=at).status
        'published'
        >>> [hit.article_id for hit in kb.search("滤网")]
        ['ac-1']
    """

    def __init__(
        self,
        store: KnowledgeStore | None = None,
        *,
        index: SearchIndex | None = None,
        workflow: Workflow = ARTICLE_WORKFLOW,
    ) -> None:
        self.store: KnowledgeStore = MemoryKnowledgeStore() if store is None else store
        self.index = SearchIndex() if index is None else index
        self.workflow = workflow
        self._keys: dict[str, tuple[str, ...]] = {}
        for record in self.store.records():
            self._reindex(record)

    def __repr__(self) -> str:
        return f"KnowledgeBase({self.store!r}, {len(self.index)} indexed versions)"

    # ------------------------------------------------------------------ reading
    def get(self, article_id: str) -> ArticleRecord:
        """The record of ``article_id`` (every version and the lifecycle state).

        Raises:
            NotFoundError: no such article.
        """
        return self.store.get(article_id)

    def records(self) -> Iterator[ArticleRecord]:
        """Every article record, in id order."""
        return self.store.records()

    def history(self, article_id: str) -> tuple[ArticleVersion, ...]:
        """Every version of ``article_id``, oldest first."""
        return self.get(article_id).versions

    def diff(self, article_id: str, old: int, new: int) -> str:
        """A unified diff between two versions (see
        [`ArticleRecord.diff()`][csmkit.knowledge.ArticleRecord.diff])."""
        return self.get(article_id).diff(old, new)

    def served(self, article_id: str, *, audience: str = "customer") -> Article | None:
        """The content a reader of ``audience`` may see, or ``None`` (never a draft)."""
        version = self.get(article_id).served(audience=audience)
        return None if version is None else version.article

    def stale(self, *, today: date) -> tuple[ArticleRecord, ...]:
        """Published articles whose ``review_by`` date is before ``today``."""
        out = []
        for record in self.store.records():
            served = record.served(audience="internal")
            review_by = None if served is None else served.article.review_by
            if review_by is not None and review_by < today:
                out.append(record)
        return tuple(out)

    # ------------------------------------------------------------------ writing
    def create(
        self, article: Article, *, author: Actor, at: datetime, note: str = ""
    ) -> ArticleRecord:
        """Save a new article as version 1, in state ``draft``.

        Raises:
            KnowledgeError: an article with that id exists, or ``at`` is naive.
            TransitionNotAllowed: ``author`` does not hold the ``author`` role.
        """
        _check_author(author)
        try:
            self.store.get(article.id)
        except NotFoundError:
            pass
        else:
            raise KnowledgeError(
                f"article {article.id!r} already exists; edit it instead", path="id"
            )
        version = ArticleVersion(
            number=1, article=article, at=_check_at(at), author=author.id, note=note
        )
        record = ArticleRecord(id=article.id, versions=(version,), status="draft", revision=1)
        return self._save(record)

    def edit(
        self, article: Article, *, author: Actor, at: datetime, note: str = ""
    ) -> ArticleRecord:
        """Save ``article`` as a new version of the article with its id.

        An article in review or published goes back to ``draft`` through the workflow's
        ``revise`` transition; its published version stays served until the new version
        is published. Archived articles cannot be edited.

        Raises:
            NotFoundError: no such article.
            TransitionNotAllowed: wrong role, or the article is archived.
        """
        _check_author(author)
        record = self.get(article.id)
        at = _check_at(at)
        status = record.status
        if status != "draft":
            status = fire_transition(self.workflow, record, "revise", actor=author, at=at)
        number = len(record.versions) + 1
        version = ArticleVersion(number=number, article=article, at=at, author=author.id, note=note)
        return self._save(
            attrs.evolve(
                record,
                versions=(*record.versions, version),
                status=status,
                revision=record.revision + 1,
                updated_at=at,
            )
        )

    def restore(
        self, article_id: str, version: int, *, author: Actor, at: datetime
    ) -> ArticleRecord:
        """Save the content of an earlier ``version`` as a new version (history is kept)."""
        old = self.get(article_id).version(version)
        return self.edit(old.article, author=author, at=at, note=f"restored version {version}")

    def submit(self, article_id: str, *, actor: Actor, at: datetime) -> ArticleRecord:
        """Send the draft for review (role ``author``)."""
        return self._transition(article_id, "submit", actor, at, None)

    def reject(
        self, article_id: str, *, actor: Actor, at: datetime, reason: str | None = None
    ) -> ArticleRecord:
        """Send an article in review back to draft (role ``reviewer``)."""
        return self._transition(article_id, "reject", actor, at, reason)

    def publish(self, article_id: str, *, actor: Actor, at: datetime) -> ArticleRecord:
        """Publish the reviewed version (role ``reviewer``); it is indexed at once."""
        return self._transition(article_id, "publish", actor, at, None)

    def archive(
        self, article_id: str, *, actor: Actor, at: datetime, reason: str | None = None
    ) -> ArticleRecord:
        """Retire the article (role ``reviewer``): nothing of it is served any more."""
        return self._transition(article_id, "archive", actor, at, reason)

    # ------------------------------------------------------------------ search
    def search(
        self,
        query: str,
        *,
        audience: str = "customer",
        language: str | None = None,
        product: str | None = None,
        status: str | None = "published",
        limit: int = 10,
        highlight: tuple[str, str] = ("**", "**"),
    ) -> tuple[ArticleHit, ...]:
        """Articles for ``query``, best first; never raises on the query text.

        Args:
            query: Free text (Chinese without spaces works: any 2+ character word).
            audience: ``"customer"`` sees published customer articles only, whatever
                ``status`` says; ``"internal"`` sees every audience.
            language: Only articles in this language.
            product: Only articles about this product.
            status: Only versions in this state (``None``: any state).
            limit: How many articles at most.
            highlight: Markers around matches in snippets.
        """
        if audience not in AUDIENCES:
            raise KnowledgeError(
                f"must be one of {list(AUDIENCES)}, got {audience!r}", path="audience"
            )
        filters: dict[str, str | None] = {}
        if audience == "customer":
            filters["audience"] = "customer"
            status = "published"
        if status is not None:
            filters["status"] = status
        if language is not None:
            filters["language"] = language
        if product is not None:
            filters["product"] = product
        # An article may be indexed twice (published and newer draft): ask for more.
        raw = self.index.search(
            query, filters=filters, limit=min(1000, 2 * limit), highlight=highlight
        )
        hits: dict[str, ArticleHit] = {}
        for hit in raw:
            article_id, _, number = hit.key.rpartition("@")
            if article_id in hits:
                continue
            hits[article_id] = ArticleHit(
                article_id=article_id,
                version=int(number),
                title=str(hit.facets.get("title")),
                score=hit.score,
                matched=hit.matched,
                snippet=hit.snippet,
                status=str(hit.facets.get("status")),
                fallback=hit.fallback,
            )
            if len(hits) == limit:
                break
        return tuple(hits.values())

    # ------------------------------------------------------------------ internals
    def _transition(
        self, article_id: str, name: str, actor: Actor, at: datetime, reason: str | None
    ) -> ArticleRecord:
        record = self.get(article_id)
        status = fire_transition(
            self.workflow, record, name, actor=actor, at=_check_at(at), reason=reason
        )
        published = record.published
        if status == "published":
            published = len(record.versions)
        elif status == "archived":
            published = None
        return self._save(
            attrs.evolve(
                record,
                status=status,
                published=published,
                revision=record.revision + 1,
                updated_at=at,
            )
        )

    def _save(self, record: ArticleRecord) -> ArticleRecord:
        self.store.put(record)
        self._reindex(record)
        return record

    def _reindex(self, record: ArticleRecord) -> None:
        for key in self._keys.pop(record.id, ()):
            self.index.remove(key)
        entries: list[tuple[ArticleVersion, str]] = []
        if record.published is not None:
            entries.append((record.version(record.published), "published"))
        if record.published != len(record.versions):
            entries.append((record.latest, record.status))
        keys = []
        for version, status in entries:
            article = version.article
            key = _key(record.id, version.number)
            self.index.add(
                key,
                {"title": article.title, "tags": " ".join(article.tags), "body": article.body},
                facets={
                    "title": article.title,
                    "language": article.language,
                    "product": article.product,
                    "category": article.category,
                    "audience": article.audience,
                    "status": status,
                },
            )
            keys.append(key)
        self._keys[record.id] = tuple(keys)


def _check_author(author: Actor) -> None:
    if not isinstance(author, Actor):
        raise KnowledgeError(f"author must be an Actor, got {type(author).__name__}", path="author")
    if AUTHOR not in author.roles:
        raise TransitionNotAllowed(
            f"actor {author.id!r} with roles {sorted(author.roles)} may not write articles "
            f"(needs role {AUTHOR!r})"
        )
