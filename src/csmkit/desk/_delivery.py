"""Notification delivery that fails after its recording event is stored: markers in
the timeline, so a later tick (in this desk or a restarted one) delivers it again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csmkit._jsonvalue import thaw
from csmkit._time import format_instant, parse_instant
from csmkit.automation import Notification
from csmkit.timeline import Direction, MessageAdded, Timeline

__all__ = ["pending_deliveries", "redelivered_marker", "undelivered_marker"]

UNDELIVERED = "undelivered"
REDELIVERED = "redelivered"


def _to_dict(notification: Notification) -> dict[str, Any]:
    return {
        "channel": notification.channel,
        "to": notification.to,
        "text": notification.text,
        "subject": notification.subject,
        "survey": notification.survey,
        "at": format_instant(notification.at),
    }


def _from_dict(data: Any, ticket_id: str, rule: str) -> Notification:
    return Notification(
        channel=str(data["channel"]),
        to=str(data["to"]),
        text=str(data["text"]),
        subject=str(data.get("subject") or ""),
        survey=data.get("survey"),
        at=parse_instant(str(data["at"])),
        ticket_id=ticket_id,
        rule=rule,
    )


def _internal(ticket_id: str, at: datetime, channel: str, meta: dict[str, Any]) -> MessageAdded:
    return MessageAdded(
        ticket_id=ticket_id,
        at=at,
        actor="system",
        direction=Direction.INTERNAL,
        channel=channel,
        author="system",
        public=False,
        meta=meta,
    )


def undelivered_marker(
    notification: Notification, error: BaseException, at: datetime
) -> MessageAdded:
    """The internal event recording that ``notification`` could not be delivered."""
    assert notification.ticket_id is not None
    return _internal(
        notification.ticket_id,
        at,
        notification.channel,
        {
            "rule": notification.rule,
            UNDELIVERED: _to_dict(notification),
            "error": f"{type(error).__name__}: {error}"[:500],
        },
    )


def redelivered_marker(position: int, notification: Notification, at: datetime) -> MessageAdded:
    """The internal event recording that the failure at ``position`` was delivered."""
    assert notification.ticket_id is not None
    return _internal(
        notification.ticket_id,
        at,
        notification.channel,
        {"rule": notification.rule, REDELIVERED: position},
    )


def pending_deliveries(timeline: Timeline) -> list[tuple[int, Notification]]:
    """Failed deliveries of the ticket not yet delivered again: (marker position,
    notification), oldest first."""
    failed: dict[int, Notification] = {}
    for position, event in enumerate(timeline.events):
        meta = event.meta
        if UNDELIVERED in meta:
            failed[position] = _from_dict(
                thaw(meta[UNDELIVERED]), timeline.ticket_id, str(meta.get("rule", ""))
            )
        elif REDELIVERED in meta:
            failed.pop(int(thaw(meta[REDELIVERED])), None)
    return sorted(failed.items())
