"""Read-only views of the desk: SLA reports, the customer's 360° view, metrics."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from csmkit.customers import CustomerView
from csmkit.desk._core import DeskKernel
from csmkit.desk._due import committed_due
from csmkit.errors import AutomationError
from csmkit.metrics import Table, report
from csmkit.sla import SlaReport
from csmkit.storage import TicketPage
from csmkit.timeline import StatusCategory, Timeline

#: The status categories of tickets still waiting for work (the default of ``queue``).
UNSOLVED: tuple[str, ...] = ("new", "open", "pending", "on_hold")

Categories = StatusCategory | str | Collection[StatusCategory | str] | None

__all__ = ["UNSOLVED", "Categories", "Views", "reindex_due"]


class _TypeSla:
    """Evaluates each ticket with its type's SLA policy (for the customer view)."""

    def __init__(self, kernel: DeskKernel) -> None:
        self._kernel = kernel

    def evaluate(self, timeline: Timeline, *, calendar: Any = None, now: datetime) -> Any:
        return self._kernel.sla_report(timeline, now)


class Views:
    """What the desk shows about its tickets; nothing here writes.

    Args:
        kernel: The desk's kernel.
    """

    def __init__(self, kernel: DeskKernel) -> None:
        self._kernel = kernel

    def sla(self, ticket_id: str, now: datetime | None = None) -> SlaReport | None:
        """[`ServiceDesk.sla()`][csmkit.desk.ServiceDesk.sla]."""
        return self._kernel.sla_report(self._kernel.cache.load(ticket_id), now)

    def customer_view(self, customer_id: str, now: datetime | None = None) -> CustomerView:
        """[`ServiceDesk.customer_view()`][csmkit.desk.ServiceDesk.customer_view]."""
        if self._kernel.customers is None:
            raise AutomationError("customer_view() needs ServiceDesk(customers=...)")
        return self._kernel.customers.customer_view(
            customer_id,
            now=now or self._kernel.now(),
            sla=_TypeSla(self._kernel),
            calendar=self._kernel.calendar,
        )

    def report(self, metrics: Sequence[str], **options: Any) -> Table:
        """[`ServiceDesk.report()`][csmkit.desk.ServiceDesk.report]."""
        options.setdefault("clock", self._kernel.calendar)
        options.setdefault("now", self._kernel.now())
        options.setdefault("sla", _TypeSla(self._kernel))
        options.setdefault("surveys", self._kernel.surveys.report_surveys())
        return report(list(self._kernel.timelines()), metrics, **options)

    # ------------------------------------------------------------------ listings
    def queue(
        self,
        *,
        category: Categories = UNSOLVED,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """[`ServiceDesk.queue()`][csmkit.desk.ServiceDesk.queue]."""
        return self._kernel.store.find_tickets(
            category=category, assignee=assignee, group=group, type=type, limit=limit, cursor=cursor
        )

    def due(
        self,
        before: datetime | None = None,
        *,
        category: Categories = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """[`ServiceDesk.due()`][csmkit.desk.ServiceDesk.due]."""
        return self._kernel.store.due_before(
            self._kernel.now() if before is None else before,
            category=category,
            assignee=assignee,
            group=group,
            type=type,
            limit=limit,
            cursor=cursor,
        )

    def counts(
        self,
        by: str,
        *,
        category: Categories = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
    ) -> dict[str | None, int]:
        """[`ServiceDesk.counts()`][csmkit.desk.ServiceDesk.counts]."""
        return self._kernel.store.count_tickets(
            by, category=category, assignee=assignee, group=group, type=type
        )

    def reindex_due(self) -> int:
        """[`ServiceDesk.reindex_due()`][csmkit.desk.ServiceDesk.reindex_due]."""
        return reindex_due(self._kernel)

    def timelines(self) -> Iterator[Timeline]:
        """[`ServiceDesk.timelines()`][csmkit.desk.ServiceDesk.timelines]."""
        return self._kernel.timelines()


def reindex_due(kernel: DeskKernel) -> int:
    """Store every ticket's SLA due mark recomputed from its timeline where it differs
    (see [`ServiceDesk.reindex_due()`][csmkit.desk.ServiceDesk.reindex_due]); how many
    marks were replaced."""
    changed = 0
    for summary in kernel.summaries():
        timeline = kernel.store.load(summary.ticket_id)
        if len(timeline) != summary.version:
            continue  # written meanwhile: that batch carried its own mark
        due = committed_due(timeline, kernel.types, kernel.calendar)
        if due != summary.due and kernel.store.set_due(
            summary.ticket_id, due, version=summary.version
        ):
            changed += 1
    return changed
