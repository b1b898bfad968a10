"""The event vocabulary of a ticket's history, and the state folded from it.

A ticket's history is an ordered sequence of immutable events
([`Timeline`][csmkit.timeline.Timeline]); its current state ([`Ticket`][csmkit.timeline.Ticket]) is
a fold over them. SLA clocks and metrics are pure functions of a timeline and an instant.

Every constructor here validates. Code that has already validated its values (a decoder,
a workflow, a store) may skip the second check with the trusted constructors of
[`csmkit.timeline.trusted`][csmkit.timeline.trusted], whose contracts say what the caller
must vouch for.
"""

from __future__ import annotations

from csmkit.timeline._codec import EVENT_TYPES
from csmkit.timeline._enums import Direction, Priority, StatusCategory, SurveyKind
from csmkit.timeline._events import (
    CORE_FIELDS,
    RESERVED_FIELDS,
    ActionFailed,
    Assigned,
    AutoReplyReceived,
    DeliveryFailed,
    Escalated,
    Event,
    FieldChanged,
    Linked,
    MessageAdded,
    StatusChanged,
    SurveyAnswered,
    TicketCreated,
    Unassigned,
    WorkflowMigrated,
)
from csmkit.timeline._ticket import Ticket
from csmkit.timeline._timeline import Timeline

__all__ = [
    "CORE_FIELDS",
    "EVENT_TYPES",
    "RESERVED_FIELDS",
    "ActionFailed",
    "Assigned",
    "AutoReplyReceived",
    "DeliveryFailed",
    "Direction",
    "Escalated",
    "Event",
    "FieldChanged",
    "Linked",
    "MessageAdded",
    "Priority",
    "StatusCategory",
    "StatusChanged",
    "SurveyAnswered",
    "SurveyKind",
    "Ticket",
    "TicketCreated",
    "Timeline",
    "Unassigned",
    "WorkflowMigrated",
]
