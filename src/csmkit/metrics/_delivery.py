"""Delivery failures per channel: how often the desk's outbound messages bounce."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from csmkit.errors import MetricsError, TimelineError
from csmkit.metrics._results import Rate
from csmkit.timeline import DeliveryFailed, Direction, MessageAdded, Timeline

__all__ = ["delivery_failures"]


def _timeline(item: object, index: int) -> Timeline:
    if isinstance(item, Timeline):
        return item
    if isinstance(item, Mapping):
        try:
            return Timeline.from_dict(item)
        except TimelineError as exc:
            raise MetricsError(f"timelines[{index}]: {exc}") from None
    raise MetricsError(f"timelines[{index}]: expected a Timeline, got {type(item).__name__}")


def delivery_failures(timelines: Iterable[Any]) -> dict[str, Rate]:
    """Share of outbound messages that bounced (``DeliveryFailed`` with action
    ``failed``), per channel, with a Wilson interval.

    A message counts once however many of its recipients failed; ``delayed`` reports
    are not failures. Reports naming no outbound message of the ticket (no or an
    unknown ``message_id``) are counted in the channel's ``skipped``.

    Args:
        timelines: Timelines or their ``to_dict()`` forms.

    Returns:
        A [`Rate`][csmkit.metrics.Rate] per channel that sent messages or had failures, named
        ``delivery_failures[<channel>]``.

    Raises:
        MetricsError: an item is not a timeline.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import TicketCreated
        >>> at = datetime(2026, 10, 8, 9, tzinfo=timezone.utc)
        >>> events = [
        ...     TicketCreated(ticket_id="T-1", at=at, type="repair", channel="email"),
        ...     MessageAdded(ticket_id="T-1", at=at, direction="outbound", channel="email",
        ...                  message_id="<m1@desk>"),
        ...     MessageAdded(ticket_id="T-1", at=at, direction="outbound", channel="email",
        ...                  message_id="<m2@desk>"),
        ...     DeliveryFailed(ticket_id="T-1", at=at, channel="email", recipient="x@y.cn",
        ...                    status="5.1.1", message_id="<m2@desk>"),
        ... ]
        >>> rate = delivery_failures([Timeline(events)])["email"]
        >>> rate.successes, rate.trials, rate.score
        (1, 2, 50.0)
    """
    if isinstance(timelines, (str, bytes, Timeline)) or not isinstance(timelines, Iterable):
        raise MetricsError(f"expected an iterable of timelines, got {type(timelines).__name__}")
    sent: dict[str, int] = {}
    failed: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for index, item in enumerate(timelines):
        timeline = _timeline(item, index)
        outbound: dict[str | None, str] = {}
        anonymous = 0
        for event in timeline.events:
            if isinstance(event, MessageAdded) and event.direction is Direction.OUTBOUND:
                sent[event.channel] = sent.get(event.channel, 0) + 1
                if event.message_id is not None:
                    outbound[event.message_id] = event.channel
                else:
                    anonymous += 1
        bounced: set[str] = set()
        for event in timeline.events:
            if not isinstance(event, DeliveryFailed) or event.action != "failed":
                continue
            if event.message_id in outbound and event.message_id is not None:
                bounced.add(event.message_id)
            else:
                skipped[event.channel] = skipped.get(event.channel, 0) + 1
        for message_id in bounced:
            channel = outbound[message_id]
            failed[channel] = failed.get(channel, 0) + 1
    channels = sorted(set(sent) | set(skipped))
    return {
        channel: Rate(
            failed.get(channel, 0),
            sent.get(channel, 0),
            name=f"delivery_failures[{channel}]",
            skipped=skipped.get(channel, 0),
        )
        for channel in channels
    }
