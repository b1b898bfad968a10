"""Suggestions for a ticket, and linking the article used to the ticket's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from csmkit.knowledge._base import ArticleHit, KnowledgeBase
from csmkit.knowledge._errors import KnowledgeError
from csmkit.timeline import FieldChanged, Ticket

__all__ = ["ARTICLES_FIELD", "link_article", "linked_articles", "suggest_articles"]

ARTICLES_FIELD = "kb_articles"
"""The ticket field that lists the ids of the articles used on it (sorted).

Linking an article writes a [`FieldChanged`][csmkit.timeline.FieldChanged] of this field, so the
link is an ordinary event of the ticket's timeline: stored, replayed and visible to
automation rules and metrics like any other field change."""


def suggest_articles(
    kb: KnowledgeBase,
    ticket: Ticket,
    first_message: str = "",
    *,
    limit: int = 5,
    audience: str = "internal",
    language: str | None = None,
) -> tuple[ArticleHit, ...]:
    """The best published articles for ``ticket``, from its subject and first message.

    Each hit carries its score and the words that matched. Articles already linked to
    the ticket are left out.

    Args:
        kb: The knowledge base.
        ticket: The ticket (its ``subject`` is used).
        first_message: The text of the customer's first message (bodies are not events).
        limit: How many suggestions at most.
        audience: ``"internal"`` for agents (default), ``"customer"`` for self-service.
        language: Only articles in this language.
    """
    if not isinstance(ticket, Ticket):
        raise KnowledgeError(f"ticket must be a Ticket, got {type(ticket).__name__}")
    query = f"{ticket.subject}\n{first_message if isinstance(first_message, str) else ''}"
    used = set(linked_articles(ticket))
    hits = kb.search(query, audience=audience, language=language, limit=limit + len(used))
    return tuple(hit for hit in hits if hit.article_id not in used)[:limit]


def linked_articles(ticket: Ticket) -> tuple[str, ...]:
    """The ids of the articles linked to ``ticket`` (sorted)."""
    value = ticket.fields.get(ARTICLES_FIELD)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(str(item) for item in value)
    return ()


def link_article(
    ticket: Ticket,
    article_id: str,
    *,
    actor: str,
    at: datetime,
    version: int | None = None,
    rule: str | None = None,
) -> FieldChanged | None:
    """The event recording that ``article_id`` was used on ``ticket``, or ``None``.

    ``None`` means the article is linked already (linking is idempotent). Append the
    event to the ticket's timeline yourself.

    Args:
        ticket: The ticket.
        article_id: The article used.
        actor: Who used it (an agent id, or ``"system"`` for a rule).
        at: When (timezone-aware, not before the ticket's last event).
        version: The article version that was used, recorded in the event's meta.
        rule: The automation rule that linked it, if any (recorded in meta).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import TicketCreated
        >>> at = datetime(2026, 9, 30, 9, tzinfo=timezone.utc)
        >>> t = Ticket.created(TicketCreated(ticket_id="T-1", at=at, type="repair", channel="web"))
        >>> event = link_article(t, "ac-1", actor="li", at=at, version=2)
        >>> event.name, event.new, dict(event.meta)
        ('kb_articles', ('ac-1',), {'article': 'ac-1', 'article_version': 2})
        >>> linked_articles(t.apply(event))
        ('ac-1',)
    """
    if not isinstance(article_id, str) or not article_id:
        raise KnowledgeError(f"article_id must be a non-empty string, got {article_id!r}")
    current = linked_articles(ticket)
    if article_id in current:
        return None
    meta: dict[str, str | int] = {"article": article_id}
    if version is not None:
        if type(version) is not int or version < 1:
            raise KnowledgeError(f"version must be an integer >= 1, got {version!r}")
        meta["article_version"] = version
    if rule is not None:
        meta["rule"] = rule
    return FieldChanged(
        ticket_id=ticket.id,
        at=at,
        actor=actor,
        meta=meta,
        name=ARTICLES_FIELD,
        old=list(current) if current else None,
        new=sorted({*current, article_id}),
    )
