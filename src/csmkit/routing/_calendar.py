"""The calendar interface routing needs: shifts and escalation timeouts in business time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["ShiftCalendar"]


@runtime_checkable
class ShiftCalendar(Protocol):
    """What routing needs from a business calendar (``csmkit.sla.BusinessCalendar`` fits).

    Routing never imports a calendar implementation: any object with these two methods
    works, so an application may plug in its own shift plan.
    """

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls inside business (shift) hours."""
        ...  # pragma: no cover

    def add(self, at: datetime, delta: timedelta) -> datetime:
        """The instant ``delta`` of business time after ``at``."""
        ...  # pragma: no cover
