"""Read-only views of the desk: SLA reports, the customer's 360° view, metrics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from csmkit.customers import CustomerView
from csmkit.desk._core import DeskCore
from csmkit.errors import AutomationError
from csmkit.metrics import Table, report
from csmkit.sla import SlaReport
from csmkit.timeline import Timeline

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

    def timelines(self) -> Iterator[Timeline]:
        """Every ticket's timeline, oldest change first."""
        return self._timelines()
