"""Read-only views of the desk: SLA reports, the customer's 360° view, metrics."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from csmkit.customers import CustomerView
from csmkit.desk._core import DeskCore
from csmkit.desk._due import committed_due
from csmkit.errors import AutomationError
from csmkit.metrics import Table, report
from csmkit.sla import SlaReport
from csmkit.storage import TicketPage
from csmkit.timeline import StatusCategory, Timeline

#: The status categories of tickets still waiting for work (the default of ``queue``).
UNSOLVED: tuple[str, ...] = ("new", "open", "pending", "on_hold")

_Categories = StatusCategory | str | Collection[StatusCategory | str] | None

__all__ = ["Views"]


class _TypeSla:
    """Evaluates each ticket with its type's SLA policy (for the customer view)."""

    def __init__(self, desk: DeskCore) -> None:
        self._desk = desk

    def evaluate(self, timeline: Timeline, *, calendar: Any = None, now: datetime) -> Any:
        return self._desk._sla_report(timeline, now)


class Views(DeskCore):
    """What the desk shows about its tickets; nothing here writes."""

    def sla(self, ticket_id: str, now: datetime | None = None) -> SlaReport | None:
        """The ticket's SLA report at ``now`` (default: the clock); ``None`` when its
        type has no policy."""
        return self._sla_report(self._cache.load(ticket_id), now)

    def customer_view(self, customer_id: str, now: datetime | None = None) -> CustomerView:
        """The customer's 360° view with each ticket's SLA state.

        Raises:
            AutomationError: the desk has no customer directory.
        """
        if self.customers is None:
            raise AutomationError("customer_view() needs ServiceDesk(customers=...)")
        return self.customers.customer_view(
            customer_id, now=now or self.now(), sla=_TypeSla(self), calendar=self.calendar
        )

    def report(self, metrics: Sequence[str], **options: Any) -> Table:
        """[`csmkit.metrics.report()`][csmkit.metrics.report] over every ticket of the store, with
        the desk's own definitions unless an option overrides them.

        Defaults: ``clock=`` the desk's calendar (business durations), ``now=`` the
        desk's clock, ``sla=`` each ticket's type policy (``sla[TARGET]`` metrics;
        tickets of unmeasured types have no cycles), ``surveys=`` the declared survey
        definitions (each type's, then the desk's), so a 0–10 CSAT survey is computed on
        0–10 and answers of two scales in one group raise instead of averaging.
        """
        options.setdefault("clock", self.calendar)
        options.setdefault("now", self.now())
        options.setdefault("sla", _TypeSla(self))
        options.setdefault("surveys", self.surveys.report_surveys())
        return report(list(self._timelines()), metrics, **options)

    # ------------------------------------------------------------------ listings
    def queue(
        self,
        *,
        category: _Categories = UNSOLVED,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Tickets by status category (default: every unsolved one), agent, group and
        type, least recently updated first, a page at a time; answered by the store's
        index (no timeline is loaded).

        Raises:
            StoreArgumentError: bad filters, ``limit < 1`` or a foreign cursor.
        """
        return self.store.find_tickets(
            category=category, assignee=assignee, group=group, type=type, limit=limit, cursor=cursor
        )

    def due(
        self,
        before: datetime | None = None,
        *,
        category: _Categories = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Tickets whose SLA falls due before ``before`` (default: the clock; overdue
        ones included), earliest first, each with its ``due`` mark; answered by the
        store's due index, maintained with every batch this desk commits.

        Raises:
            StoreArgumentError: a naive instant, bad filters, ``limit < 1``.
        """
        return self.store.due_before(
            self.now() if before is None else before,
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
        category: _Categories = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
    ) -> dict[str | None, int]:
        """How many tickets have each value of ``by`` (``"category"``, ``"assignee"``,
        ``"group"``, ``"type"``, ``"status"``, ``"priority"``), for dashboards.

        Raises:
            StoreArgumentError: an unknown ``by`` or bad filters.
        """
        return self.store.count_tickets(
            by, category=category, assignee=assignee, group=group, type=type
        )

    def reindex_due(self) -> int:
        """Recompute every ticket's SLA due mark from its timeline and store the ones
        that differ (tickets written by an import, an older csmkit, or another
        application). Loads every ticket: run it once after such writes, not routinely.

        A ticket changed meanwhile keeps the mark its newer batch carried.

        Returns:
            How many marks were replaced.
        """
        changed = 0
        for summary in self._summaries():
            timeline = self.store.load(summary.ticket_id)
            if len(timeline) != summary.version:
                continue  # written meanwhile: that batch carried its own mark
            due = committed_due(timeline, self.types, self.calendar)
            if due != summary.due and self.store.set_due(
                summary.ticket_id, due, version=summary.version
            ):
                changed += 1
        return changed

    def timelines(self) -> Iterator[Timeline]:
        """Every ticket's timeline, oldest change first."""
        return self._timelines()
