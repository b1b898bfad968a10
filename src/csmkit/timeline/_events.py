"""The event vocabulary: everything that can happen to a ticket.

Every event is an immutable ``attrs`` class with keyword-only fields. All share
``ticket_id``, a timezone-aware ``at``, an optional ``actor`` and free ``meta`` (JSON-safe
provenance such as the automation rule that caused the event). Each class has a stable
``kind`` string used in serialized form and by automation rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

from csmkit._jsonvalue import EMPTY, JsonValue
from csmkit.errors import TimelineError
from csmkit.timeline._enums import Direction, Priority, StatusCategory, SurveyKind, parse_enum
from csmkit.timeline._validators import (
    aware,
    int_at_least,
    non_empty_str,
    optional_str,
    str_value,
    tag_tuple,
    to_category,
    to_direction,
    to_fields,
    to_meta,
    to_new,
    to_old,
    to_priority,
    to_survey,
)

__all__ = [
    "CORE_FIELDS",
    "RESERVED_FIELDS",
    "ActionFailed",
    "Assigned",
    "AutoReplyReceived",
    "DeliveryFailed",
    "Escalated",
    "Event",
    "FieldChanged",
    "Linked",
    "MessageAdded",
    "StatusChanged",
    "SurveyAnswered",
    "TicketCreated",
    "Unassigned",
    "WorkflowMigrated",
    "trusted_event",
]


@attrs.frozen(kw_only=True)
class Event:
    """Base class of every timeline event.

    Attributes:
        ticket_id: The ticket the event belongs to.
        at: When it happened (timezone-aware).
        actor: Who caused it (an agent id, ``"customer:42"``, ``"system"``), if known.
        meta: JSON-safe provenance, e.g. ``{"rule": "escalate-urgent"}``.
    """

    kind: ClassVar[str] = ""

    ticket_id: str = attrs.field(validator=non_empty_str)
    at: datetime = attrs.field(validator=aware)
    actor: str | None = attrs.field(default=None, validator=optional_str)
    meta: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=to_meta)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form: ``kind`` plus every field, instants as ISO 8601."""
        from csmkit.timeline._codec import event_to_dict

        return event_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Rebuild an event from [`to_dict()`][csmkit.timeline.Event.to_dict] output.

        Called on [`Event`][csmkit.timeline.Event] it accepts any kind; called on a subclass it
        accepts only that kind.

        Raises:
            TimelineError: unknown kind, missing or unexpected keys, invalid values.
        """
        from csmkit.timeline._codec import event_from_dict

        return event_from_dict(data, expect=cls)


@attrs.frozen(kw_only=True)
class TicketCreated(Event):
    """A ticket came into existence; always the first event of a timeline.

    Attributes:
        type: The ticket type (``"repair"``, ``"consultation"``, ``"complaint"`` …).
        channel: Where it arrived (``"phone"``, ``"email"``, ``"web"``, ``"wechat"`` …).
        priority: Initial priority.
        customer_id: The requesting customer, if known.
        subject: A one-line summary.
        fields: The form's field values (JSON-safe).
        tags: Labels; stored sorted and without duplicates.
        status: The initial workflow state name.
        category: The initial state's status category.
        workflow: Name of the workflow definition the ticket follows, if any.
        workflow_version: Version of that definition.
    """

    kind: ClassVar[str] = "created"

    type: str = attrs.field(validator=non_empty_str)
    channel: str = attrs.field(validator=non_empty_str)
    priority: Priority = attrs.field(default=Priority.NORMAL, converter=to_priority)
    customer_id: str | None = attrs.field(default=None, validator=optional_str)
    subject: str = attrs.field(default="", validator=str_value)
    fields: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=to_fields)
    tags: tuple[str, ...] = attrs.field(default=(), converter=tag_tuple)
    status: str = attrs.field(default="new", validator=non_empty_str)
    category: StatusCategory = attrs.field(default=StatusCategory.NEW, converter=to_category)
    workflow: str | None = attrs.field(default=None, validator=optional_str)
    workflow_version: int | None = attrs.field(default=None)

    @workflow_version.validator
    def _check_version(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TimelineError(
                f"workflow_version must be a positive integer, got {value!r}",
                path="workflow_version",
            )
        if self.workflow is None:
            raise TimelineError(
                "workflow_version is set but workflow is not", path="workflow_version"
            )


@attrs.frozen(kw_only=True)
class StatusChanged(Event):
    """The ticket moved from one workflow state to another.

    Attributes:
        from_status: The state it left (must be the ticket's current state).
        to_status: The state it entered.
        category: The status category of ``to_status``.
        transition: The workflow transition that moved it, if any.
        reason: Free text, e.g. why it was put on hold.
    """

    kind: ClassVar[str] = "status_changed"

    from_status: str = attrs.field(validator=non_empty_str)
    to_status: str = attrs.field(validator=non_empty_str)
    category: StatusCategory = attrs.field(converter=to_category)
    transition: str | None = attrs.field(default=None, validator=optional_str)
    reason: str | None = attrs.field(default=None, validator=optional_str)


@attrs.frozen(kw_only=True)
class Assigned(Event):
    """The ticket was given to an agent and/or a group.

    Attributes:
        agent: The agent now responsible (``None`` to assign to a group's queue only).
        group: The group (team) now responsible; ``None`` keeps the current group.
        decision: Reference to the routing decision that chose them, for audit.
    """

    kind: ClassVar[str] = "assigned"

    agent: str | None = attrs.field(default=None, validator=optional_str)
    group: str | None = attrs.field(default=None, validator=optional_str)
    decision: str | None = attrs.field(default=None, validator=optional_str)

    def __attrs_post_init__(self) -> None:
        if self.agent is None and self.group is None:
            raise TimelineError("Assigned needs an agent, a group or both", path="agent")


@attrs.frozen(kw_only=True)
class Unassigned(Event):
    """The ticket's agent was removed (it returns to its group's queue).

    Attributes:
        agent: The agent that was removed, for the record.
        group: When given and equal to the ticket's group, the ticket leaves that group
            too (its group becomes ``None``).
        reason: Why, e.g. ``"agent went offline"``.
    """

    kind: ClassVar[str] = "unassigned"

    agent: str | None = attrs.field(default=None, validator=optional_str)
    group: str | None = attrs.field(default=None, validator=optional_str)
    reason: str | None = attrs.field(default=None, validator=optional_str)


def _default_public(self: MessageAdded) -> bool:
    return self.direction is not Direction.INTERNAL


@attrs.frozen(kw_only=True)
class MessageAdded(Event):
    """A message was added to the ticket's conversation.

    Attributes:
        direction: ``inbound`` from the customer, ``outbound`` public reply, ``internal``
            note.
        channel: The channel it travelled on (``"email"``, ``"phone"``, ``"wechat"`` …).
        author: Who wrote it (agent id or customer id), if known.
        public: Whether the customer can see it. Defaults to ``True`` except for internal
            notes, which can never be public; inbound messages are always public.
        message_id: The channel's id for the message (e.g. an e-mail ``Message-ID``),
            used to thread replies.
        body_ref: Where the body is kept (a storage key or URL); bodies are not events.
    """

    kind: ClassVar[str] = "message_added"

    direction: Direction = attrs.field(converter=to_direction)
    channel: str = attrs.field(validator=non_empty_str)
    author: str | None = attrs.field(default=None, validator=optional_str)
    public: bool = attrs.field(default=attrs.Factory(_default_public, takes_self=True))
    message_id: str | None = attrs.field(default=None, validator=optional_str)
    body_ref: str | None = attrs.field(default=None, validator=optional_str)

    @public.validator
    def _check_public(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, bool):
            raise TimelineError(f"public must be a bool, got {value!r}", path="public")
        if value and self.direction is Direction.INTERNAL:
            raise TimelineError("an internal note cannot be public", path="public")
        if not value and self.direction is Direction.INBOUND:
            raise TimelineError("an inbound customer message is always public", path="public")


CORE_FIELDS: frozenset[str] = frozenset({"priority", "subject", "type", "customer_id", "tags"})
"""Ticket attributes that [`FieldChanged`][csmkit.timeline.FieldChanged] changes directly instead of
``fields``."""

RESERVED_FIELDS: frozenset[str] = frozenset(
    {"id", "status", "category", "assignee", "group", "created_at", "updated_at", "version"}
    | {"workflow", "workflow_version", "escalation_level", "channel", "fields"}
)
"""Ticket attributes [`FieldChanged`][csmkit.timeline.FieldChanged] may not touch (they have their
own events)."""


def _check_core_value(name: str, value: JsonValue, path: str) -> JsonValue:
    """Validate and normalise a value of one of the [`CORE_FIELDS`][csmkit.timeline.CORE_FIELDS]."""
    if name == "priority":
        return parse_enum(Priority, value, "priority", path=path).value
    if name == "tags":
        return tag_tuple(value)
    if name == "customer_id":
        if value is not None and (not isinstance(value, str) or not value):
            raise TimelineError(f"customer_id must be a non-empty string or None, got {value!r}")
        return value
    if name == "type" and (not isinstance(value, str) or not value):
        raise TimelineError(f"type must be a non-empty string, got {value!r}", path=path)
    if name == "subject" and not isinstance(value, str):
        raise TimelineError(f"subject must be a string, got {value!r}", path=path)
    return value


@attrs.frozen(kw_only=True)
class FieldChanged(Event):
    """A field of the ticket changed value.

    ``name`` is either one of [`CORE_FIELDS`][csmkit.timeline.CORE_FIELDS] (``priority``,
    ``subject``, ``type``, ``customer_id``, ``tags``), which changes that attribute of the ticket,
    or the name of a form field in ``Ticket.fields``. A ``new`` value of ``None`` removes a form
    field. Status, assignment and escalation have their own events and cannot be changed here.

    Attributes:
        name: Which field.
        old: The value before (``None`` if it was absent).
        new: The value after.
    """

    kind: ClassVar[str] = "field_changed"

    name: str = attrs.field(validator=non_empty_str)
    old: JsonValue = attrs.field(default=None, converter=to_old)
    new: JsonValue = attrs.field(default=None, converter=to_new)

    def __attrs_post_init__(self) -> None:
        if self.name in RESERVED_FIELDS:
            raise TimelineError(
                f"field {self.name!r} cannot be changed with FieldChanged "
                "(use StatusChanged, Assigned/Unassigned, Escalated or WorkflowMigrated)",
                path="name",
            )
        if self.name in CORE_FIELDS:
            object.__setattr__(self, "new", _check_core_value(self.name, self.new, "new"))
            if self.old is not None:
                object.__setattr__(self, "old", _check_core_value(self.name, self.old, "old"))


@attrs.frozen(kw_only=True)
class Escalated(Event):
    """The ticket was escalated.

    Attributes:
        level: The escalation level reached (1 = first escalation).
        reason: Why, e.g. ``"unassigned for 2 business hours"``.
    """

    kind: ClassVar[str] = "escalated"

    level: int = attrs.field(validator=int_at_least(1))
    reason: str | None = attrs.field(default=None, validator=optional_str)


@attrs.frozen(kw_only=True)
class Linked(Event):
    """The ticket was linked to another ticket.

    Attributes:
        relation: How they relate (``"duplicate_of"``, ``"parent"``, ``"child"``,
            ``"related"``, ``"problem"`` …).
        other_ticket: The other ticket's id.
    """

    kind: ClassVar[str] = "linked"

    relation: str = attrs.field(validator=non_empty_str)
    other_ticket: str = attrs.field(validator=non_empty_str)

    def __attrs_post_init__(self) -> None:
        if self.other_ticket == self.ticket_id:
            raise TimelineError("a ticket cannot be linked to itself", path="other_ticket")


@attrs.frozen(kw_only=True)
class SurveyAnswered(Event):
    """The customer answered a satisfaction survey about this ticket.

    Attributes:
        survey: ``csat``, ``nps`` or ``ces``.
        score: The answer. NPS answers are integers 0 to 10; CSAT and CES scales are the
            survey's own (checked by [`csmkit.metrics`][csmkit.metrics] against the scale you name).
        comment: Free text, if any.
    """

    kind: ClassVar[str] = "survey_answered"

    survey: SurveyKind = attrs.field(converter=to_survey)
    score: int | float = attrs.field()
    comment: str | None = attrs.field(default=None)

    @score.validator
    def _check_score(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TimelineError(f"score must be a number, got {value!r}", path="score")
        if not math.isfinite(value) or value < 0:
            raise TimelineError(f"score must be finite and >= 0, got {value!r}", path="score")
        if self.survey is SurveyKind.NPS and (not isinstance(value, int) or value > 10):
            raise TimelineError(
                f"an NPS answer must be an integer from 0 to 10, got {value!r}", path="score"
            )

    @comment.validator
    def _check_comment(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, str):
            raise TimelineError(f"comment must be a string, got {value!r}", path="comment")


@attrs.frozen(kw_only=True)
class WorkflowMigrated(Event):
    """The ticket moved to another version (or another definition) of its workflow.

    Written when a workflow migration is applied; the ticket's workflow, version, state
    and category change together so the history says exactly when and how.

    Attributes:
        workflow: The workflow definition the ticket follows from now on.
        from_version: The version it followed before (must be the ticket's current one;
            ``None`` if it followed none).
        to_version: The version it follows from now on.
        from_status: The state it was in (must be the ticket's current state).
        to_status: The state it is in under the new version (often the same name).
        category: The status category of ``to_status``.
        reason: Free text, e.g. the migration's name.
    """

    kind: ClassVar[str] = "workflow_migrated"

    workflow: str = attrs.field(validator=non_empty_str)
    from_version: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(int_at_least(1))
    )
    to_version: int = attrs.field(validator=int_at_least(1))
    from_status: str = attrs.field(validator=non_empty_str)
    to_status: str = attrs.field(validator=non_empty_str)
    category: StatusCategory = attrs.field(converter=to_category)
    reason: str | None = attrs.field(default=None, validator=optional_str)


_DELIVERY_ACTIONS = frozenset({"failed", "delayed"})
_STATUS_CODE = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")


@attrs.frozen(kw_only=True)
class DeliveryFailed(Event):
    """An outbound message of the ticket could not be delivered (a bounce, RFC 3464).

    Recorded from a delivery status notification matched to the ticket; it is not a
    customer message, so SLA clocks and response metrics ignore it.

    Attributes:
        channel: The channel the failed message went out on (``"email"``).
        recipient: The address that failed (``""`` when the report names none).
        action: ``failed`` (permanent) or ``delayed`` (the server is still trying).
        status: The enhanced status code (``"5.1.1"``), if the report gave one.
        diagnostic: The remote server's words, if any.
        message_id: The id of the outbound message that failed, if known.
        report_id: The id of the notification itself (de-duplication).
    """

    kind: ClassVar[str] = "delivery_failed"

    channel: str = attrs.field(validator=non_empty_str)
    recipient: str = attrs.field(default="", validator=str_value)
    action: str = attrs.field(default="failed")
    status: str | None = attrs.field(default=None)
    diagnostic: str | None = attrs.field(default=None, validator=optional_str)
    message_id: str | None = attrs.field(default=None, validator=optional_str)
    report_id: str | None = attrs.field(default=None, validator=optional_str)

    @action.validator
    def _check_action(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in _DELIVERY_ACTIONS:
            raise TimelineError(
                f"action must be 'failed' or 'delayed', got {value!r}", path="action"
            )

    @status.validator
    def _check_status(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and (not isinstance(value, str) or not _STATUS_CODE.fullmatch(value)):
            raise TimelineError(
                f"status must be an enhanced status code such as '5.1.1', got {value!r}",
                path="status",
            )


@attrs.frozen(kw_only=True)
class AutoReplyReceived(Event):
    """An automatic response arrived for the ticket (out of office, autoresponder).

    Recorded instead of a customer message (RFC 3834): it never answers a question,
    so SLA clocks and response metrics ignore it and nobody replies to it.

    Attributes:
        channel: The channel it arrived on.
        sender: Who sent it (the address).
        reason: Why it was taken for an automatic response.
        message_id: Its own id (de-duplication).
        in_reply_to: The id of the message it answers, if it says.
        subject: Its subject line.
        body_ref: Where its body is kept, if it was kept.
    """

    kind: ClassVar[str] = "auto_reply_received"

    channel: str = attrs.field(validator=non_empty_str)
    sender: str = attrs.field(validator=str_value)
    reason: str = attrs.field(validator=non_empty_str)
    message_id: str | None = attrs.field(default=None, validator=optional_str)
    in_reply_to: str | None = attrs.field(default=None, validator=optional_str)
    subject: str = attrs.field(default="", validator=str_value)
    body_ref: str | None = attrs.field(default=None, validator=optional_str)


@attrs.frozen(kw_only=True)
class ActionFailed(Event):
    """An automation rule's action could not run, or a chain of rules was stopped.

    A record, not a change: the fold leaves the ticket as it was (only ``updated_at``
    and ``version`` move), so the timeline says what automation meant to do and why
    it did not (a transition the workflow refused, a template value that was missing,
    a chain of rules that exceeded its cap).

    Attributes:
        rule: The rule whose action failed (or where a runaway chain was stopped).
        action: The action's name (``"transition"``, ``"assign"`` …).
        index: The action's position in the rule (0-based).
        reason: Why, in words.
    """

    kind: ClassVar[str] = "action_failed"

    rule: str = attrs.field(validator=non_empty_str)
    action: str = attrs.field(validator=non_empty_str)
    index: int = attrs.field(default=0, validator=int_at_least(0))
    reason: str = attrs.field(validator=non_empty_str)


_E = TypeVar("_E", bound=Event)
_TRUSTED: dict[type[Event], tuple[type[Event], tuple[tuple[str, Any], ...], frozenset[str]]] = {}


def _mutable_twin(cls: type[Event]) -> type[Event]:
    """A subclass with the same slots and ordinary attribute assignment (never escapes)."""
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
    }
    return type(f"_Mutable{cls.__name__}", (cls,), namespace)


def trusted_event(cls: type[_E], **values: Any) -> _E:
    """An event of ``cls`` from values the caller has already validated, without running
    its validators, converters or ``__attrs_post_init__`` checks.

    Checks only that every name is a field of ``cls`` and that each field without a
    default is given (else ``TypeError``); fields left out take their defaults (a field
    whose default is computed, such as ``MessageAdded.public``, must be given). It does
    not check types, emptiness, enum membership, awareness of ``at`` or the rules
    between fields (an ``Assigned`` to nobody, a public internal note), and converts
    nothing: each value must already be what the validating constructor would store
    (enum members, ``meta``/``fields`` as frozen mappings, tags as a sorted tuple of
    unique strings, aware instants). With such values the result equals ``cls(**values)``;
    with any other it is a wrong event, not an error.

    For hot paths that produce values they have just checked (a workflow firing a
    transition it validated); never for data from outside.

    Args:
        cls: The event class.
        **values: Its fields, by name.

    Raises:
        TypeError: an unknown field name, or a field without a (plain) default left out.
    """
    entry = _TRUSTED.get(cls)
    if entry is None:
        defaults = tuple((a.name, a.default) for a in attrs.fields(cls))
        entry = (_mutable_twin(cls), defaults, frozenset(name for name, _ in defaults))
        _TRUSTED[cls] = entry
    twin, defaults, names = entry
    if not names.issuperset(values):
        raise TypeError(f"{cls.__name__}: unknown field(s) {sorted(set(values) - names)}")
    event: Any = object.__new__(twin)
    for name, default in defaults:
        value = values.get(name, default)
        if value is attrs.NOTHING or isinstance(value, attrs.Factory):  # type: ignore[arg-type]
            raise TypeError(f"{cls.__name__}: missing value for {name!r}")
        setattr(event, name, value)
    event.__class__ = cls
    result: _E = event
    return result
