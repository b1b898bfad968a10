"""The one place where a committed state becomes the SLA due mark its batch carries to the
store (``store.append(..., due=...)``), so ``store.due_before(T)`` answers "which tickets
fall due before T" without loading or evaluating any timeline."""

from __future__ import annotations

from collections.abc import Mapping

from csmkit.desk._types import TicketType
from csmkit.sla import BusinessCalendar, SlaTracker
from csmkit.storage import SlaDue
from csmkit.timeline import Timeline

__all__ = ["committed_due"]


def committed_due(
    timeline: Timeline,
    types: Mapping[str, TicketType],
    calendar: BusinessCalendar | None,
    trackers: Mapping[str, SlaTracker] | None = None,
) -> SlaDue | None:
    """The SLA due mark of the state a committed batch produces.

    The ticket's type policy is evaluated at the timeline's own latest instant, so the
    mark is a pure function of the stored timeline (a restarted desk, another process or
    a re-index compute the same one); a running cycle's due instant does not move while
    nothing is appended. The earliest due instant of a **running** cycle wins (ties: the
    target name); paused and finished cycles have none.

    Args:
        timeline: The ticket's timeline including the batch about to be appended.
        types: The desk's ticket types (their SLA policies).
        calendar: The desk's business calendar.
        trackers: SLA trackers by ticket type, used only for due marks: a ticket's
            marks are evaluated at its own latest instant, which never moves back, so a
            tracker advances from the last batch instead of walking the timeline again.

    Returns:
        The mark, or ``None`` when the type has no policy or no cycle is running.

    Raises:
        SlaPolicyError, CalendarError: the policy cannot be evaluated (as for
            ``desk.sla()``); raised before anything is appended.
    """
    kind = types.get(timeline.ticket.type)
    if kind is None or kind.sla is None:
        return None
    tracker = None if trackers is None else trackers.get(timeline.ticket.type)
    if tracker is not None:
        # The instants only: the tracker builds no report for them.
        instants = tracker.instants(timeline, calendar=calendar, now=timeline.updated_at)
    else:
        report = kind.sla.evaluate(timeline, calendar=calendar, now=timeline.updated_at)
        instants = report.instants()
    if instants.due_at is None or instants.due_target is None:
        return None
    return SlaDue(at=instants.due_at, target=instants.due_target)
