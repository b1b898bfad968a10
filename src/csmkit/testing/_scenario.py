"""Builders of valid events for store tests (explicit instants, no wall clock)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from csmkit.timeline import (
    Assigned,
    Escalated,
    Event,
    FieldChanged,
    MessageAdded,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketCreated,
    Unassigned,
)

__all__ = ["ACTIONS", "OFFSETS", "T0", "created", "next_event"]

CST = timezone(timedelta(hours=8), "CST")
T0 = datetime(2026, 10, 8, 9, 0, 0, 123456, tzinfo=CST)
"""A base instant with microseconds and a +08:00 offset."""

OFFSETS: tuple[timezone, ...] = (
    timezone.utc,
    CST,
    timezone(timedelta(hours=-5, minutes=-30)),
    timezone(timedelta(hours=5, minutes=45)),
)
"""Offsets events are written with, so round trips must keep each one."""

ACTIONS: tuple[str, ...] = (
    "assign",
    "unassign",
    "open",
    "pending",
    "solve",
    "message",
    "priority",
    "field",
    "escalate",
)
"""Action names [`next_event()`][csmkit.testing.next_event] understands."""

_STATUS = {
    "open": ("open", StatusCategory.OPEN),
    "pending": ("waiting_customer", StatusCategory.PENDING),
    "solve": ("solved", StatusCategory.SOLVED),
}


def created(
    ticket_id: str,
    at: datetime = T0,
    *,
    customer_id: str | None = None,
    priority: str = "normal",
    fields: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> TicketCreated:
    """A creation event for a repair ticket arriving by phone."""
    return TicketCreated(
        ticket_id=ticket_id,
        at=at,
        actor="agent:li.wei",
        type="repair",
        channel="phone",
        priority=priority,
        customer_id=customer_id,
        subject="空调不制冷 / AC not cooling",
        fields=fields or {},
        tags=("aircon",),
        meta=meta or {},
    )


def next_event(
    ticket: Ticket,
    action: str,
    at: datetime,
    *,
    agent: str = "zhang.san",
    message_id: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Event:
    """A valid event continuing ``ticket``.

    Args:
        ticket: The current state.
        action: One of [`ACTIONS`][csmkit.testing.ACTIONS].
        at: When (must not be earlier than ``ticket.updated_at``).
        agent: The agent for ``assign``.
        message_id: The message id for ``message``.
        meta: Provenance to attach (tests use it to count events).
    """
    common: dict[str, Any] = {"ticket_id": ticket.id, "at": at, "meta": meta or {}}
    if action == "assign":
        return Assigned(**common, agent=agent, group="repair-team")
    if action == "unassign":
        return Unassigned(**common, agent=ticket.assignee, reason="shift ended")
    if action in _STATUS:
        status, category = _STATUS[action]
        return StatusChanged(
            **common,
            from_status=ticket.status,
            to_status=status if ticket.status != status else status + "_again",
            category=category,
            transition=action,
        )
    if action == "message":
        return MessageAdded(
            **common,
            direction="inbound",
            channel="email",
            author=ticket.customer_id,
            message_id=message_id,
        )
    if action == "priority":
        new = "urgent" if ticket.priority.value != "urgent" else "low"
        return FieldChanged(**common, name="priority", old=ticket.priority.value, new=new)
    if action == "field":
        return FieldChanged(
            **common, name="区域", old=ticket.fields.get("区域"), new={"城市": "上海", "n": 1.5}
        )
    if action == "escalate":
        return Escalated(**common, level=ticket.escalation_level + 1, reason="SLA 80 %")
    raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
