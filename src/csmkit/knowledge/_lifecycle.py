"""The article lifecycle as a [`csmkit.workflow`][csmkit.workflow] definition."""

from __future__ import annotations

from datetime import datetime

from csmkit.knowledge._article import ArticleRecord
from csmkit.timeline import Ticket, TicketCreated
from csmkit.workflow import Actor, Workflow

__all__ = ["ARTICLE_WORKFLOW", "AUTHOR", "REVIEWER", "fire_transition"]

AUTHOR = "author"
"""The role that writes, edits, restores and submits articles."""

REVIEWER = "reviewer"
"""The role that publishes, rejects and archives articles."""


def _labels(en: str, zh: str) -> dict[str, dict[str, str]]:
    return {"agent": {"en": en, "zh": zh}}


ARTICLE_WORKFLOW: Workflow = Workflow.from_dict(
    {
        "name": "kb_article",
        "version": 1,
        "labels": _labels("Knowledge article", "知识文章"),
        "description": "Draft, review, published, archived; authors write, reviewers publish.",
        "states": [
            {
                "name": "draft",
                "category": "new",
                "initial": True,
                "labels": _labels("Draft", "草稿"),
            },
            {"name": "in_review", "category": "open", "labels": _labels("In review", "审核中")},
            {"name": "published", "category": "solved", "labels": _labels("Published", "已发布")},
            {"name": "archived", "category": "closed", "labels": _labels("Archived", "已归档")},
        ],
        "transitions": [
            {
                "name": "submit",
                "sources": "draft",
                "target": "in_review",
                "roles": [AUTHOR],
                "labels": _labels("Submit for review", "提交审核"),
            },
            {
                "name": "reject",
                "sources": "in_review",
                "target": "draft",
                "roles": [REVIEWER],
                "labels": _labels("Send back", "退回修改"),
            },
            {
                "name": "publish",
                "sources": "in_review",
                "target": "published",
                "roles": [REVIEWER],
                "labels": _labels("Publish", "发布"),
            },
            {
                "name": "revise",
                "sources": ["in_review", "published"],
                "target": "draft",
                "roles": [AUTHOR],
                "labels": _labels("Revise", "修订"),
            },
            {
                "name": "archive",
                "sources": ["draft", "in_review", "published"],
                "target": "archived",
                "roles": [REVIEWER],
                "labels": _labels("Archive", "归档"),
            },
        ],
    }
)
"""The article lifecycle: ``draft → in_review → published → archived``.

``submit`` and ``revise`` need the ``author`` role; ``publish``, ``reject`` and ``archive``
need ``reviewer``. Editing an article that is in review or published fires ``revise``
(the published version stays served until the new draft is published). ``archived`` is
terminal.
"""


def fire_transition(
    workflow: Workflow,
    record: ArticleRecord,
    transition: str,
    *,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
) -> str:
    """Fire ``transition`` on ``record``'s lifecycle with the real workflow engine.

    The article is presented to [`Workflow.fire()`][csmkit.workflow.Workflow.fire] as a ticket in
    its current state; the engine checks the source state, the actor's roles and ``at``.

    Returns:
        The new state name.

    Raises:
        TransitionNotAllowed: the workflow refuses (wrong state or role).
        TimelineError: ``at`` is before the record's last change.
    """
    assert record.updated_at is not None
    state = workflow.state(record.status)
    ticket = Ticket.created(
        TicketCreated(
            ticket_id=record.id,
            at=record.updated_at,
            type="kb_article",
            channel="knowledge",
            status=state.name,
            category=state.category,
            workflow=workflow.name,
            workflow_version=workflow.version,
        )
    )
    moved, _events = workflow.fire(ticket, transition, actor=actor, at=at, reason=reason)
    return moved.status
