"""Problem records (clusters of recurring tickets) and customer feedback views.

Opening a problem record returns the outcomes of the commands it ran (the problem
ticket's, the links'), for the [outcome runner][csmkit.desk._outcomes.OutcomeRunner]."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from csmkit.automation import (
    PROBLEM_RELATION,
    Outcome,
    ProblemCluster,
    ProblemRequest,
    derived_ticket_id,
    recurring_problems,
)
from csmkit.desk._core import DeskKernel
from csmkit.desk._tickets import Done, TicketOperations
from csmkit.desk._types import FeedbackStatus, LinkedStatus
from csmkit.errors import ConcurrencyError
from csmkit.timeline import Linked, Ticket

__all__ = ["ProblemsAndFeedback"]

_log = logging.getLogger(__name__)


class ProblemsAndFeedback:
    """Problem records and feedback, built from linked tickets.

    Args:
        kernel: The desk's kernel.
        tickets: Opens and links the tickets.
    """

    def __init__(self, kernel: DeskKernel, tickets: TicketOperations) -> None:
        self._kernel = kernel
        self._tickets = tickets

    # ------------------------------------------------------------------ problems
    def recurring_problems(
        self,
        window: timedelta,
        by: Sequence[str],
        min_count: int = 3,
        *,
        now: datetime | None = None,
    ) -> tuple[ProblemCluster, ...]:
        """[`ServiceDesk.recurring_problems()`][csmkit.desk.ServiceDesk.recurring_problems]."""
        return recurring_problems(
            self._kernel.timelines(),
            by=by,
            window=window,
            now=now or self._kernel.now(),
            min_count=min_count,
        )

    def open_problem(
        self,
        cluster: ProblemCluster | Sequence[str],
        *,
        subject: str | None = None,
        rule: str | None = None,
    ) -> tuple[str, list[Outcome]]:
        """[`ServiceDesk.open_problem()`][csmkit.desk.ServiceDesk.open_problem]."""
        kernel = self._kernel
        kernel.kind("problem")
        if isinstance(cluster, ProblemCluster):
            ids, key, existing = cluster.ticket_ids, repr(cluster.key), cluster.problems
            text = subject or "Recurring: " + ", ".join(f"{k}={v}" for k, v in cluster.key)
        else:
            ids, key, existing = tuple(cluster), repr(sorted(cluster)), ()
            text = subject or f"Problem of {', '.join(ids)}"
        problem_id = existing[0] if existing else derived_ticket_id("problem", key, prefix="PRB-")
        opened = kernel.store.version(problem_id) == 0
        outcomes: list[Outcome] = []
        if opened:
            # opened by another desk meanwhile: ConcurrencyError
            with contextlib.suppress(ConcurrencyError):
                _, outcomes = self._tickets.open_ticket(
                    "problem",
                    channel="internal",
                    subject=text,
                    ticket_id=problem_id,
                    actor="system",
                    meta={"rule": rule} if rule else None,
                )
        for ticket_id in ids:
            _, linked = self._tickets.link(
                ticket_id, problem_id, PROBLEM_RELATION, back="incident", actor="system"
            )
            outcomes.extend(linked)
        _log.info(
            "problem %s %s with ticket(s) %s%s",
            problem_id,
            "opened" if opened else "joined",
            ", ".join(ids),
            f" (rule {rule!r})" if rule else "",
        )
        return problem_id, outcomes

    def requested(self, request: ProblemRequest) -> tuple[list[str], list[Outcome]]:
        """Open the problem of the requesting ticket's cluster, if it has one: the
        problem opened or joined (none or one), and the outcomes to run."""
        clusters = recurring_problems(
            self._kernel.timelines(),
            by=request.by,
            window=request.window,
            now=request.at,
            min_count=request.min_count,
        )
        for cluster in clusters:
            if request.ticket_id in cluster.ticket_ids:
                problem_id, outcomes = self.open_problem(
                    cluster, subject=request.subject or None, rule=request.rule
                )
                return [problem_id], outcomes
        _log.debug(
            "ticket %s: rule %r asked for a problem, but the ticket is in no cluster of %d",
            request.ticket_id,
            request.rule,
            request.min_count,
        )
        return [], []

    # ------------------------------------------------------------------ feedback
    def link_requirement(
        self, feedback_id: str, requirement_id: str, *, actor: str | None = None
    ) -> Done:
        """[`ServiceDesk.link_requirement()`][csmkit.desk.ServiceDesk.link_requirement]."""
        return self._tickets.link(
            feedback_id, requirement_id, "requirement", back="feedback", actor=actor
        )

    def feedback_status(self, feedback_id: str, *, lang: str = "zh") -> FeedbackStatus:
        """[`ServiceDesk.feedback_status()`][csmkit.desk.ServiceDesk.feedback_status]."""
        timeline = self._kernel.cache.load(feedback_id)
        ticket = timeline.ticket
        linked: list[LinkedStatus] = []
        seen: set[str] = set()
        for event in timeline.of_type(Linked):
            if event.relation != "requirement" or event.other_ticket in seen:
                continue
            seen.add(event.other_ticket)
            other = self._kernel.cache.load(event.other_ticket).ticket
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
        kind = self._kernel.types.get(ticket.type)
        if kind is None:
            return ticket.status
        try:
            return kind.workflow.state(ticket.status).label(lang, "customer")
        except Exception:  # a state of another workflow version: show its name
            return ticket.status
