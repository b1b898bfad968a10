"""Problem records (clusters of recurring tickets) and customer feedback views."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from csmkit.automation import (
    PROBLEM_RELATION,
    ProblemCluster,
    ProblemRequest,
    derived_ticket_id,
    recurring_problems,
)
from csmkit.desk._tickets import TicketOperations
from csmkit.desk._types import FeedbackStatus, LinkedStatus
from csmkit.errors import ConcurrencyError
from csmkit.timeline import Linked, Ticket

__all__ = ["ProblemsAndFeedback"]

_log = logging.getLogger(__name__)


class ProblemsAndFeedback(TicketOperations):
    """Problem records and feedback, built from linked tickets."""

    # ------------------------------------------------------------------ problems
    def recurring_problems(
        self,
        window: timedelta,
        by: Sequence[str],
        min_count: int = 3,
        *,
        now: datetime | None = None,
    ) -> tuple[ProblemCluster, ...]:
        """Clusters of similar tickets (see
        [`csmkit.automation.recurring_problems()`][csmkit.automation.recurring_problems])."""
        return recurring_problems(
            self._timelines(), by=by, window=window, now=now or self.now(), min_count=min_count
        )

    def open_problem(
        self,
        cluster: ProblemCluster | Sequence[str],
        *,
        subject: str | None = None,
        rule: str | None = None,
    ) -> str:
        """Open (or join) a problem record and link the tickets to it.

        A cluster already linked to a problem joins that one; otherwise the problem id
        is derived from the cluster's key, so asking twice opens one record.

        Raises:
            AutomationError: the desk has no ``problem`` ticket type.
        """
        self._kind("problem")
        if isinstance(cluster, ProblemCluster):
            ids, key, existing = cluster.ticket_ids, repr(cluster.key), cluster.problems
            text = subject or "Recurring: " + ", ".join(f"{k}={v}" for k, v in cluster.key)
        else:
            ids, key, existing = tuple(cluster), repr(sorted(cluster)), ()
            text = subject or f"Problem of {', '.join(ids)}"
        problem_id = existing[0] if existing else derived_ticket_id("problem", key, prefix="PRB-")
        opened = self.store.version(problem_id) == 0
        if opened:
            with contextlib.suppress(ConcurrencyError):  # opened by another desk meanwhile
                self.open_ticket(
                    "problem",
                    channel="internal",
                    subject=text,
                    ticket_id=problem_id,
                    actor="system",
                    meta={"rule": rule} if rule else None,
                )
        for ticket_id in ids:
            self.link(ticket_id, problem_id, PROBLEM_RELATION, back="incident", actor="system")
        _log.info(
            "problem %s %s with ticket(s) %s%s",
            problem_id,
            "opened" if opened else "joined",
            ", ".join(ids),
            f" (rule {rule!r})" if rule else "",
        )
        return problem_id

    def _problem_requested(self, request: ProblemRequest) -> str | None:
        """Open the problem of the requesting ticket's cluster, if it has one."""
        clusters = recurring_problems(
            self._timelines(),
            by=request.by,
            window=request.window,
            now=request.at,
            min_count=request.min_count,
        )
        for cluster in clusters:
            if request.ticket_id in cluster.ticket_ids:
                return self.open_problem(
                    cluster, subject=request.subject or None, rule=request.rule
                )
        _log.debug(
            "ticket %s: rule %r asked for a problem, but the ticket is in no cluster of %d",
            request.ticket_id,
            request.rule,
            request.min_count,
        )
        return None

    # ------------------------------------------------------------------ feedback
    def link_requirement(
        self, feedback_id: str, requirement_id: str, *, actor: str | None = None
    ) -> Ticket:
        """Link a feedback ticket to the internal requirement that answers it."""
        return self.link(feedback_id, requirement_id, "requirement", back="feedback", actor=actor)

    def feedback_status(self, feedback_id: str, *, lang: str = "zh") -> FeedbackStatus:
        """What the customer sees: the feedback's state and each linked requirement's
        state, with the workflows' customer-facing labels."""
        timeline = self._cache.load(feedback_id)
        ticket = timeline.ticket
        linked: list[LinkedStatus] = []
        seen: set[str] = set()
        for event in timeline.of_type(Linked):
            if event.relation != "requirement" or event.other_ticket in seen:
                continue
            seen.add(event.other_ticket)
            other = self._cache.load(event.other_ticket).ticket
            linked.append(
                LinkedStatus(
                    ticket_id=other.id,
                    relation=event.relation,
                    status=other.status,
                    category=other.category.value,
                    label=self._label(other, lang),
                    updated_at=other.updated_at,
                )
            )
        return FeedbackStatus(feedback_id, ticket.status, self._label(ticket, lang), tuple(linked))

    def _label(self, ticket: Ticket, lang: str) -> str:
        kind = self.types.get(ticket.type)
        if kind is None:
            return ticket.status
        try:
            return kind.workflow.state(ticket.status).label(lang, "customer")
        except Exception:  # a state of another workflow version: show its name
            return ticket.status
