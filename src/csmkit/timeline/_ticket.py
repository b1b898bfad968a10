"""The current state of a ticket, folded from its events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from csmkit._jsonvalue import EMPTY, FrozenMap, JsonValue
from csmkit.errors import TimelineError
from csmkit.timeline._enums import Priority, StatusCategory
from csmkit.timeline._events import (
    CORE_FIELDS,
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
from csmkit.timeline._validators import (
    aware,
    int_at_least,
    non_empty_str,
    optional_str,
    str_value,
    tag_tuple,
    to_category,
    to_fields,
    to_priority,
)

__all__ = ["Ticket", "fold_all", "trusted_ticket"]


@attrs.frozen(kw_only=True)
class Ticket:
    """A ticket's state at one instant: the fold of its events up to then.

    Build one with [`Ticket.created()`][csmkit.timeline.Ticket.created] and
    [`apply()`][csmkit.timeline.Ticket.apply], or read ``Timeline.ticket``. Tickets are immutable;
    [`apply()`][csmkit.timeline.Ticket.apply] returns a new one.

    Attributes:
        id: The ticket id.
        type: Ticket type (``"repair"`` …).
        channel: The channel it arrived on.
        status: Current workflow state name.
        category: The status category of ``status``.
        priority: Current priority.
        customer_id: The requesting customer, if known.
        subject: One-line summary.
        assignee: The responsible agent, if any.
        group: The responsible group, if any.
        fields: Form field values.
        tags: Sorted, unique labels.
        created_at: Instant of the creation event.
        updated_at: Instant of the latest event.
        version: Number of events folded so far (1 right after creation).
        workflow: Workflow definition name, if any.
        workflow_version: Workflow definition version, if any.
        escalation_level: Highest escalation level reached (0 = never escalated).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import TicketCreated
        >>> created = TicketCreated(
        ...     ticket_id="T-1", at=datetime(2026, 9, 30, 9, tzinfo=timezone.utc),
        ...     type="repair", channel="phone", priority="high")
        >>> Ticket.created(created).priority
        <Priority.HIGH: 'high'>
    """

    id: str = attrs.field(validator=non_empty_str)
    type: str = attrs.field(validator=non_empty_str)
    channel: str = attrs.field(validator=non_empty_str)
    status: str = attrs.field(validator=non_empty_str)
    category: StatusCategory = attrs.field(converter=to_category)
    priority: Priority = attrs.field(converter=to_priority)
    customer_id: str | None = attrs.field(default=None, validator=optional_str)
    subject: str = attrs.field(default="", validator=str_value)
    assignee: str | None = attrs.field(default=None, validator=optional_str)
    group: str | None = attrs.field(default=None, validator=optional_str)
    fields: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=to_fields)
    tags: tuple[str, ...] = attrs.field(default=(), converter=tag_tuple)
    created_at: datetime = attrs.field(validator=aware)
    updated_at: datetime = attrs.field(validator=aware)
    version: int = attrs.field(default=1, validator=int_at_least(1))
    workflow: str | None = attrs.field(default=None, validator=optional_str)
    workflow_version: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(int_at_least(1))
    )
    escalation_level: int = attrs.field(default=0, validator=int_at_least(0))

    @classmethod
    def created(cls, event: TicketCreated) -> Ticket:
        """The ticket as it is right after its creation event."""
        if type(event) is TicketCreated and cls is Ticket:
            return _created(event)  # its values passed the checks the fields would run
        return cls._created_checked(event)

    @classmethod
    def _created_checked(cls, event: TicketCreated) -> Ticket:
        """`created()` through the validating constructor (any event, any subclass)."""
        if not isinstance(event, TicketCreated):
            raise TimelineError(
                f"a ticket starts with a TicketCreated event, got {type(event).__name__}"
            )
        return cls(
            id=event.ticket_id,
            type=event.type,
            channel=event.channel,
            status=event.status,
            category=event.category,
            priority=event.priority,
            customer_id=event.customer_id,
            subject=event.subject,
            fields=event.fields,
            tags=event.tags,
            created_at=event.at,
            updated_at=event.at,
            version=1,
            workflow=event.workflow,
            workflow_version=event.workflow_version,
        )

    def apply(self, event: Event) -> Ticket:
        """Return the ticket after ``event``; ``self`` is left unchanged.

        Raises:
            TimelineError: The event belongs to another ticket, is earlier than the
                ticket's latest event, is a second creation, or changes status from a
                state the ticket is not in.
        """
        cls = type(event)
        if cls in _FOLDABLE:
            # Exactly one of the fold's own classes, checks passed: dispatch on the class
            # (the isinstance ladder below is for subclasses, and raises every error).
            new = _passed(self, event)
            if new is not None:
                return new
        return self._apply_checked(event)

    def _apply_checked(self, event: Event) -> Ticket:
        """`apply()` for any object: every check, by ``isinstance`` (subclasses too)."""
        if not isinstance(event, Event):
            raise TimelineError(f"expected an Event, got {type(event).__name__} {event!r}")
        if event.ticket_id != self.id:
            raise TimelineError(
                f"{type(event).__name__} of ticket {event.ticket_id!r} cannot apply to "
                f"ticket {self.id!r}",
                path="ticket_id",
            )
        if event.at < self.updated_at:
            raise TimelineError(
                f"{type(event).__name__} at {event.at.isoformat()} is earlier than the "
                f"ticket's latest event at {self.updated_at.isoformat()} (events out of order)",
                path="at",
            )
        changes: dict[str, Any] = {"updated_at": event.at, "version": self.version + 1}
        if (
            isinstance(event, (StatusChanged, WorkflowMigrated))
            and event.from_status != self.status
        ):
            raise TimelineError(
                f"{type(event).__name__} from {event.from_status!r} but ticket {self.id!r} is "
                f"in {self.status!r}",
                path="from_status",
            )
        if isinstance(event, TicketCreated):
            raise TimelineError(f"ticket {self.id!r} was already created", path="kind")
        if isinstance(event, StatusChanged):
            changes["status"] = event.to_status
            changes["category"] = event.category
        elif isinstance(event, Assigned):
            if event.agent is not None:
                changes["assignee"] = event.agent
            if event.group is not None:
                changes["group"] = event.group
        elif isinstance(event, Unassigned):
            changes["assignee"] = None
            if event.group is not None and event.group == self.group:
                changes["group"] = None
        elif isinstance(event, FieldChanged):
            if event.name == "priority":
                changes["priority"] = Priority(event.new)
            elif event.name in CORE_FIELDS:
                changes[event.name] = event.new
            else:
                fields = dict(self.fields)
                if event.new is None:
                    fields.pop(event.name, None)
                else:
                    fields[event.name] = event.new
                changes["fields"] = FrozenMap(fields) if fields else EMPTY
        elif isinstance(event, Escalated):
            changes["escalation_level"] = max(self.escalation_level, event.level)
        elif isinstance(event, WorkflowMigrated):
            if event.from_version != self.workflow_version:
                raise TimelineError(
                    f"migration from version {event.from_version!r} but ticket {self.id!r} "
                    f"follows version {self.workflow_version!r}",
                    path="from_version",
                )
            changes["workflow"] = event.workflow
            changes["workflow_version"] = event.to_version
            changes["status"] = event.to_status
            changes["category"] = event.category
        # MessageAdded, Linked, SurveyAnswered, DeliveryFailed, AutoReplyReceived and
        # ActionFailed change only updated_at and version.
        return self._replace(changes)

    def _replace(self, changes: dict[str, Any]) -> Ticket:
        """A copy with ``changes`` applied, skipping validation.

        Only for values that are already valid (taken from validated events). The copy is
        filled as a private mutable twin of [`Ticket`][csmkit.timeline.Ticket] (same slots, plain
        attribute stores) and then turned into a real, frozen ``Ticket``: several times faster than
        ``attrs.evolve``, which re-runs every validator.
        """
        new = _copy(self)
        for name, value in changes.items():
            setattr(new, name, value)
        new.__class__ = Ticket
        result: Ticket = new
        return result


class _MutableTicket(Ticket):
    """Same slots as [`Ticket`][csmkit.timeline.Ticket] with ordinary attribute assignment; never
    escapes."""

    __slots__ = ()
    __setattr__ = object.__setattr__
    __delattr__ = object.__delattr__


def _copy(ticket: Ticket) -> Any:
    """A mutable twin with every field of ``ticket`` (each written out: several times
    faster than a loop of ``getattr``/``setattr``; a test checks that none is missing)."""
    new: Any = object.__new__(_MutableTicket)
    new.id = ticket.id
    new.type = ticket.type
    new.channel = ticket.channel
    new.status = ticket.status
    new.category = ticket.category
    new.priority = ticket.priority
    new.customer_id = ticket.customer_id
    new.subject = ticket.subject
    new.assignee = ticket.assignee
    new.group = ticket.group
    new.fields = ticket.fields
    new.tags = ticket.tags
    new.created_at = ticket.created_at
    new.updated_at = ticket.updated_at
    new.version = ticket.version
    new.workflow = ticket.workflow
    new.workflow_version = ticket.workflow_version
    new.escalation_level = ticket.escalation_level
    return new


_FIELD_NAMES: tuple[str, ...] = tuple(a.name for a in attrs.fields(Ticket))
_TICKET_DEFAULTS: tuple[tuple[str, Any], ...] = tuple(
    (a.name, a.default) for a in attrs.fields(Ticket)
)
_TICKET_NAMES = frozenset(_FIELD_NAMES)


def trusted_ticket(**values: Any) -> Ticket:
    """A [`Ticket`][csmkit.timeline.Ticket] from values the caller has already validated,
    without running its validators or converters.

    Checks only that every name is a field of ``Ticket`` and that each field without a
    default is given (else ``TypeError``); fields left out take their defaults. It does
    not check types, emptiness, enum membership, awareness of instants or the version
    bounds, and converts nothing: each value must already be what the validating
    constructor would store (a ``Priority`` and ``StatusCategory`` member, ``fields`` a
    frozen mapping, ``tags`` a sorted tuple of unique strings, aware instants). With such
    values the result equals ``Ticket(**values)``; with any other it is a wrong ticket,
    not an error.

    Raises:
        TypeError: an unknown field name, or a field without a default left out.
    """
    if not _TICKET_NAMES.issuperset(values):
        raise TypeError(f"Ticket: unknown field(s) {sorted(set(values) - _TICKET_NAMES)}")
    new: Any = object.__new__(_MutableTicket)
    for name, default in _TICKET_DEFAULTS:
        value = values.get(name, default)
        if value is attrs.NOTHING:
            raise TypeError(f"Ticket: missing value for {name!r}")
        setattr(new, name, value)
    new.__class__ = Ticket
    result: Ticket = new
    return result


def replaced_ticket(ticket: Ticket, **changes: Any) -> Ticket:
    """A copy of ``ticket`` with ``changes``, without running the validators or converters.

    Checks only that every name is a field of ``Ticket`` (else ``TypeError``). Each value
    must already be what the validating constructor would store (see
    [`trusted_ticket()`][csmkit.timeline.trusted.trusted_ticket]); with such values the
    result equals ``attrs.evolve(ticket, **changes)``, with any other it is a wrong ticket,
    not an error.

    Raises:
        TypeError: an unknown field name.
    """
    if not _TICKET_NAMES.issuperset(changes):
        raise TypeError(f"Ticket: unknown field(s) {sorted(set(changes) - _TICKET_NAMES)}")
    return ticket._replace(changes)


# Events that change only updated_at and version (see Ticket.apply).
_PASSIVE: frozenset[type] = frozenset(
    {MessageAdded, Linked, SurveyAnswered, DeliveryFailed, AutoReplyReceived, ActionFailed}
)
_FOLDABLE: frozenset[type] = _PASSIVE | {
    StatusChanged,
    Assigned,
    Unassigned,
    FieldChanged,
    Escalated,
    WorkflowMigrated,
}


def _passed(ticket: Ticket, event: Any) -> Ticket | None:
    """``ticket.apply(event)`` for an event of exactly one of the `_FOLDABLE` classes,
    dispatched on its class; ``None`` when ``apply`` would refuse it (another ticket, out
    of order, a move from another state or version), for the checked path to raise."""
    if event.ticket_id != ticket.id or event.at < ticket.updated_at:
        return None
    cls = type(event)
    new = _copy(ticket)
    new.updated_at = event.at
    new.version = ticket.version + 1
    # (the `_PASSIVE` classes change only updated_at and version: no branch below)
    if cls is StatusChanged:
        if event.from_status != ticket.status:
            return None
        new.status = event.to_status
        new.category = event.category
    elif cls is Assigned:
        if event.agent is not None:
            new.assignee = event.agent
        if event.group is not None:
            new.group = event.group
    elif cls is Unassigned:
        new.assignee = None
        if event.group is not None and event.group == ticket.group:
            new.group = None
    elif cls is FieldChanged:
        name = event.name
        if name == "priority":
            new.priority = Priority(event.new)
        elif name in CORE_FIELDS:
            setattr(new, name, event.new)
        else:
            fields = dict(ticket.fields)
            if event.new is None:
                fields.pop(name, None)
            else:
                fields[name] = event.new
            new.fields = FrozenMap(fields) if fields else EMPTY
    elif cls is Escalated:
        new.escalation_level = max(ticket.escalation_level, event.level)
    elif cls is WorkflowMigrated:
        if event.from_status != ticket.status or event.from_version != ticket.workflow_version:
            return None
        new.workflow = event.workflow
        new.workflow_version = event.to_version
        new.status = event.to_status
        new.category = event.category
    new.__class__ = Ticket
    result: Ticket = new
    return result


def _created(event: TicketCreated) -> Ticket:
    """``Ticket.created(event)`` without re-running the validators: a ``TicketCreated``'s
    values passed the same checks (and conversions) as the ``Ticket`` fields they fill."""
    new: Any = object.__new__(_MutableTicket)
    new.id = event.ticket_id
    new.type = event.type
    new.channel = event.channel
    new.status = event.status
    new.category = event.category
    new.priority = event.priority
    new.customer_id = event.customer_id
    new.subject = event.subject
    new.assignee = None
    new.group = None
    new.fields = event.fields
    new.tags = event.tags
    new.created_at = event.at
    new.updated_at = event.at
    new.version = 1
    new.workflow = event.workflow
    new.workflow_version = event.workflow_version
    new.escalation_level = 0
    new.__class__ = Ticket
    result: Ticket = new
    return result


def fold_all(first: TicketCreated, rest: Sequence[object]) -> Ticket | None:
    """``Ticket.created(first)`` with every event of ``rest`` applied in order, equal to
    folding them one by one with [`Ticket.apply()`][csmkit.timeline.Ticket.apply], but
    building one ``Ticket`` instead of one per event.

    Returns ``None`` when an event is not one this fold vouches for: not exactly one of the
    event classes (a subclass, not an event, a second creation), or one ``apply`` would
    refuse (another ticket, out of order, a move from another state or version). The
    caller then folds step by step, which raises the exact error.
    """
    base = _created(first) if type(first) is TicketCreated else Ticket.created(first)
    ticket_id = base.id
    updated = base.updated_at
    status = base.status
    group = base.group
    workflow_version = base.workflow_version
    escalation = base.escalation_level
    fields: dict[str, JsonValue] | None = None
    changes: dict[str, Any] = {}
    event: Any
    for event in rest:
        cls = type(event)
        if cls not in _FOLDABLE or event.ticket_id != ticket_id or event.at < updated:
            return None
        updated = event.at
        if cls in _PASSIVE:
            continue
        if cls is StatusChanged:
            if event.from_status != status:
                return None
            status = changes["status"] = event.to_status
            changes["category"] = event.category
        elif cls is Assigned:
            if event.agent is not None:
                changes["assignee"] = event.agent
            if event.group is not None:
                group = changes["group"] = event.group
        elif cls is Unassigned:
            changes["assignee"] = None
            if event.group is not None and event.group == group:
                group = changes["group"] = None
        elif cls is FieldChanged:
            name = event.name
            if name == "priority":
                changes["priority"] = Priority(event.new)
            elif name in CORE_FIELDS:
                changes[name] = event.new
            else:
                if fields is None:
                    fields = dict(base.fields)
                if event.new is None:
                    fields.pop(name, None)
                else:
                    fields[name] = event.new
        elif cls is Escalated:
            escalation = changes["escalation_level"] = max(escalation, event.level)
        else:  # WorkflowMigrated
            if event.from_status != status or event.from_version != workflow_version:
                return None
            changes["workflow"] = event.workflow
            workflow_version = changes["workflow_version"] = event.to_version
            status = changes["status"] = event.to_status
            changes["category"] = event.category
    if fields is not None:
        changes["fields"] = FrozenMap(fields) if fields else EMPTY
    changes["updated_at"] = updated
    changes["version"] = len(rest) + 1
    return base._replace(changes)
