"""Ticket metrics folded from timelines: response, resolution, waits, touches, reopens, FCR."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from csmkit._time import require_aware
from csmkit.errors import CsmkitError, MetricsError, TimelineError
from csmkit.metrics._accumulators import DurationAccumulator
from csmkit.metrics._results import DurationResult
from csmkit.sla import SYSTEM_ACTOR, is_opening_comment, is_public_reply
from csmkit.timeline import (
    Direction,
    MessageAdded,
    StatusCategory,
    StatusChanged,
    Ticket,
    Timeline,
)

__all__ = [
    "DURATION_METRICS",
    "BusinessClock",
    "TicketMetrics",
    "agent_wait_time",
    "check_instant",
    "durations",
    "first_resolution_time",
    "first_response_time",
    "full_resolution_time",
    "iter_ticket_metrics",
    "on_hold_time",
    "requester_wait_time",
    "ticket_metrics",
]

_REQUESTER_WAITING = frozenset({StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.ON_HOLD})


@runtime_checkable
class BusinessClock(Protocol):
    """Anything that measures business time between two instants.

    ``csmkit.sla.BusinessCalendar`` satisfies it; so does any object with this method.
    """

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (``start <= end``)."""
        ...


def check_instant(value: object, name: str) -> datetime:
    """``value`` if it is an aware datetime, else a [`MetricsError`][csmkit.errors.MetricsError]
    naming ``name``."""
    return require_aware(value, name, MetricsError)


def _span(clock: BusinessClock | None, start: datetime, end: datetime) -> timedelta:
    if clock is None:
        return end - start
    try:
        spent = clock.between(start, end)
    except CsmkitError as exc:  # e.g. CalendarError: outside the covered range
        raise MetricsError(
            f"clock.between({start.isoformat()}, {end.isoformat()}): {exc}"
        ) from None
    if not isinstance(spent, timedelta) or spent < timedelta(0):
        raise MetricsError(f"clock.between() must return a timedelta >= 0, got {spent!r}")
    return spent


@attrs.frozen
class TicketMetrics:
    """Per-ticket measurements, the input of every ticket aggregate.

    Definitions follow Zendesk's native metrics (support.zendesk.com 4408834848154):

    * ``first_response``: creation → first public agent reply. What is a public reply is
      the SLA clock's rule, [`csmkit.sla.is_public_reply()`][csmkit.sla.is_public_reply] (outbound,
      ``public=True``, not from the ``"system"`` actor): internal notes, non-public outbound
      messages and automatic acknowledgements never count; nor does an agent's opening comment of a
      ticket it created ([`csmkit.sla.is_opening_comment()`][csmkit.sla.is_opening_comment]).
    * ``agent_replies``: public agent replies counted the same way (the one-touch and
      one-agent-reply FCR rules read it); ``agent_touches`` adds internal notes and
      non-public outbound messages.
    * ``first_resolution`` / ``full_resolution``: creation → first / last entry into a
      solved or closed category; ``full_resolution`` is ``None`` while the ticket is not
      done.
    * ``requester_wait``: time in ``new``, ``open`` and ``on_hold``; ``agent_wait``: time
      in ``pending``; ``on_hold``: time in ``on_hold``. They run to ``now`` for tickets not
      yet done and are ``None`` when no ``now`` was given for such a ticket.
    * ``reopens``: changes from a solved/closed category back to any other.
    * ``customer_followups``: inbound messages other than the initial contact (the first
      inbound message when it precedes every agent reply).

    All durations are business time when a clock was given.
    """

    ticket: Ticket
    as_of: datetime | None
    business: bool
    first_response: timedelta | None
    first_resolution: timedelta | None
    full_resolution: timedelta | None
    requester_wait: timedelta | None
    agent_wait: timedelta | None
    on_hold: timedelta | None
    agent_replies: int
    agent_touches: int
    customer_followups: int
    reopens: int
    first_resolved_at: datetime | None
    reopened_at: tuple[datetime, ...]

    @property
    def ticket_id(self) -> str:
        """The ticket's id."""
        return self.ticket.id

    @property
    def resolved(self) -> bool:
        """Whether the ticket is solved or closed (as of ``as_of``)."""
        return self.ticket.category.is_done

    def to_dict(self) -> dict[str, Any]:
        """Plain dict; durations in seconds."""
        out: dict[str, Any] = {"ticket_id": self.ticket_id, "resolved": self.resolved}
        for field in attrs.fields(TicketMetrics):
            value = getattr(self, field.name)
            if field.name == "ticket":
                continue
            if isinstance(value, timedelta):
                value = value.total_seconds()
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = [v.isoformat() for v in value]
            out[field.name] = value
        return out


def ticket_metrics(
    timeline: Timeline, *, clock: BusinessClock | None = None, now: datetime | None = None
) -> TicketMetrics:
    """Measure one ticket (see [`TicketMetrics`][csmkit.metrics.TicketMetrics] for the definitions).

    Args:
        timeline: The ticket's history.
        clock: A [`BusinessClock`][csmkit.metrics.BusinessClock] for business time; ``None`` for
            calendar time.
        now: Evaluate as of this instant (later events are ignored); needed for the wait
            times of tickets not yet done.

    Raises:
        MetricsError: ``now`` is naive or before the ticket was created, or ``clock`` lacks
            ``between``.
    """
    if not isinstance(timeline, Timeline):
        raise MetricsError(f"expected a Timeline, got {type(timeline).__name__} {timeline!r}")
    if clock is not None and not isinstance(clock, BusinessClock):
        raise MetricsError(f"clock must have between(start, end), got {clock!r}")
    created = timeline.created_at
    events = timeline.events
    if now is not None:
        check_instant(now, "now")
        if now < created:
            raise MetricsError(
                f"ticket {timeline.ticket_id!r} was created at {created.isoformat()}, "
                f"after now={now.isoformat()}"
            )
        events = tuple(event for event in events if event.at <= now)
        ticket = timeline.state_at(now)
    else:
        ticket = timeline.ticket

    first_reply_at: datetime | None = None
    replies = touches = inbound = 0
    initial_inbound = False
    first_done: datetime | None = None
    last_done: datetime | None = None
    reopened: list[datetime] = []
    waits = {"requester": timedelta(0), "agent": timedelta(0), "hold": timedelta(0)}
    category = events[0].category  # type: ignore[attr-defined]
    since = created

    def close_segment(until: datetime) -> None:
        spent = _span(clock, since, until) if until > since else timedelta(0)
        if category in _REQUESTER_WAITING:
            waits["requester"] += spent
        if category is StatusCategory.PENDING:
            waits["agent"] += spent
        if category is StatusCategory.ON_HOLD:
            waits["hold"] += spent

    for event in events[1:]:
        if isinstance(event, MessageAdded):
            if event.direction is Direction.INBOUND:
                inbound += 1
                if inbound == 1 and first_reply_at is None:
                    initial_inbound = True
            elif event.actor == SYSTEM_ACTOR:
                continue  # an automatic message: neither a reply nor a touch
            elif is_opening_comment(event, created_at=created, messages_before=inbound + touches):
                continue  # the opening comment of an agent-created ticket
            elif is_public_reply(event):  # the SLA clock's rule
                replies += 1
                touches += 1
                if first_reply_at is None:
                    first_reply_at = event.at
            else:  # an internal note or a non-public outbound message
                touches += 1
        elif isinstance(event, StatusChanged):
            close_segment(event.at)
            was_done = category.is_done
            category = event.category
            since = event.at
            if category.is_done and not was_done:
                first_done = first_done or event.at
                last_done = event.at
            elif was_done and not category.is_done:
                reopened.append(event.at)

    done = ticket.category.is_done
    finished: bool
    if done:
        finished = True  # the last segment is solved/closed time, counted nowhere
    elif now is not None:
        close_segment(now)
        finished = True
    else:
        finished = False
    return TicketMetrics(
        ticket=ticket,
        as_of=now,
        business=clock is not None,
        first_response=None if first_reply_at is None else _span(clock, created, first_reply_at),
        first_resolution=None if first_done is None else _span(clock, created, first_done),
        full_resolution=None if last_done is None or not done else _span(clock, created, last_done),
        requester_wait=waits["requester"] if finished else None,
        agent_wait=waits["agent"] if finished else None,
        on_hold=waits["hold"] if finished else None,
        agent_replies=replies,
        agent_touches=touches,
        customer_followups=inbound - (1 if initial_inbound else 0),
        reopens=len(reopened),
        first_resolved_at=first_done,
        reopened_at=tuple(reopened),
    )


def iter_ticket_metrics(
    timelines: Iterable[Any], *, clock: BusinessClock | None = None, now: datetime | None = None
) -> Iterator[TicketMetrics]:
    """Measure each of ``timelines`` (Timelines, their ``to_dict()`` forms, or metrics).

    Raises:
        MetricsError: an item is neither; the message gives its position.
    """
    if isinstance(timelines, (str, bytes, Timeline)) or not isinstance(timelines, Iterable):
        raise MetricsError(f"expected an iterable of timelines, got {type(timelines).__name__}")
    for index, item in enumerate(timelines):
        if isinstance(item, TicketMetrics):
            yield item
            continue
        if isinstance(item, Mapping):
            try:
                item = Timeline.from_dict(item)
            except TimelineError as exc:
                raise MetricsError(f"timelines[{index}]: {exc}") from None
        if not isinstance(item, Timeline):
            raise MetricsError(
                f"timelines[{index}]: expected a Timeline, got {type(item).__name__} {item!r}"
            )
        try:
            yield ticket_metrics(item, clock=clock, now=now)
        except MetricsError as exc:
            raise MetricsError(f"timelines[{index}] ({item.ticket_id!r}): {exc}") from None


DURATION_METRICS: Mapping[str, str] = {
    "first_response_time": "first_response",
    "first_resolution_time": "first_resolution",
    "full_resolution_time": "full_resolution",
    "requester_wait_time": "requester_wait",
    "agent_wait_time": "agent_wait",
    "on_hold_time": "on_hold",
}
"""Duration metric names and the [`TicketMetrics`][csmkit.metrics.TicketMetrics] attribute each
reads."""


def durations(
    timelines: Iterable[Any],
    metric: str,
    *,
    clock: BusinessClock | None = None,
    now: datetime | None = None,
    missing: Literal["skip", "raise"] = "skip",
    exact_limit: int = 10_000,
    relative_accuracy: float = 0.01,
) -> DurationResult:
    """Summary (mean, median, p90, p99 …) of one duration metric over many tickets.

    Args:
        timelines: Timelines (or their dict forms).
        metric: One of [`DURATION_METRICS`][csmkit.metrics.DURATION_METRICS].
        clock: Business clock; ``None`` for calendar time.
        now: Evaluation instant (see [`ticket_metrics()`][csmkit.metrics.ticket_metrics]).
        missing: Tickets lacking the needed event (no reply yet …) are counted in
            ``missing`` (``"skip"``, default) or raise [`MetricsError`][csmkit.errors.MetricsError]
            (``"raise"``).
        exact_limit: Exact quantiles up to this many values, DDSketch beyond.
        relative_accuracy: The sketch's relative-error bound.
    """
    if metric not in DURATION_METRICS:
        raise MetricsError(
            f"unknown duration metric {metric!r}; use one of {', '.join(DURATION_METRICS)}"
        )
    if missing not in ("skip", "raise"):
        raise MetricsError(f"missing must be 'skip' or 'raise', got {missing!r}")
    attribute = DURATION_METRICS[metric]
    accumulator = DurationAccumulator(
        metric,
        business=clock is not None,
        exact_limit=exact_limit,
        relative_accuracy=relative_accuracy,
    )
    for index, metrics in enumerate(iter_ticket_metrics(timelines, clock=clock, now=now)):
        value = getattr(metrics, attribute)
        if value is None and missing == "raise":
            raise MetricsError(
                f"timelines[{index}] ({metrics.ticket_id!r}): no {metric.replace('_', ' ')} "
                "(the timeline lacks the needed events, or now= is missing)"
            )
        accumulator.update(value)
    return accumulator.result()


def _duration_function(metric: str, summary: str) -> Any:
    def function(
        timelines: Iterable[Any],
        *,
        clock: BusinessClock | None = None,
        now: datetime | None = None,
        missing: Literal["skip", "raise"] = "skip",
    ) -> DurationResult:
        return durations(timelines, metric, clock=clock, now=now, missing=missing)

    function.__name__ = function.__qualname__ = metric
    function.__doc__ = (
        f"{summary}\n\nSame as ``durations(timelines, {metric!r}, ...)``; see "
        "[`durations()`][csmkit.metrics.durations] and "
        "[`TicketMetrics`][csmkit.metrics.TicketMetrics] for the definitions."
    )
    return function


first_response_time = _duration_function(
    "first_response_time", "Creation to first public agent reply, over many tickets."
)
first_resolution_time = _duration_function(
    "first_resolution_time", "Creation to first solved/closed, over many tickets."
)
full_resolution_time = _duration_function(
    "full_resolution_time", "Creation to last solved/closed (done tickets), over many tickets."
)
requester_wait_time = _duration_function(
    "requester_wait_time", "Time in new/open/on_hold, over many tickets."
)
agent_wait_time = _duration_function("agent_wait_time", "Time in pending, over many tickets.")
on_hold_time = _duration_function("on_hold_time", "Time in on_hold, over many tickets.")
