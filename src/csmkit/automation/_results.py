"""What a rule run returns: events to append and side-effect intents for the desk."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs

from csmkit._jsonvalue import EMPTY, JsonValue, freeze_mapping
from csmkit.routing import AgentPool, Router, RoutingState
from csmkit.sla import BusinessCalendar, SlaPolicy, SlaPolicySet, SlaTracker
from csmkit.timeline import Event
from csmkit.workflow import Workflow

__all__ = [
    "Environment",
    "Notification",
    "Outcome",
    "ProblemRequest",
    "Skipped",
    "TicketRequest",
    "derived_ticket_id",
]


def derived_ticket_id(*parts: str, prefix: str = "T-") -> str:
    """A stable ticket id from ``parts`` (so a repeated request names the same ticket)."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).digest()
    return prefix + base64.b32encode(digest).decode("ascii")[:16]


def _frozen(value: Mapping[str, Any]) -> Mapping[str, JsonValue]:
    return freeze_mapping(value, "fields")


def _optional(value: Mapping[str, Any] | None) -> Mapping[str, JsonValue] | None:
    return None if value is None else freeze_mapping(value, "customer")


def _records(value: Iterable[Mapping[str, Any]]) -> tuple[Mapping[str, JsonValue], ...]:
    return tuple(freeze_mapping(v, f"assets[{i}]") for i, v in enumerate(value))


@attrs.frozen(kw_only=True)
class Notification:
    """A notification a rule wants delivered (the desk hands it to an outbound channel).

    Attributes:
        channel: The outbound channel name (``"sms"``, ``"email"`` …).
        to: The recipient, as the rule rendered it (``"supervisor:east"``, a customer id).
        text: The rendered body.
        subject: The rendered subject (``""`` when none).
        ticket_id: The ticket it is about (``None`` for asset rules).
        rule: The rule that sent it.
        at: When the rule fired.
        survey: ``csat``/``nps``/``ces`` for a survey invitation, else ``None``.
    """

    channel: str
    to: str
    text: str
    subject: str = ""
    ticket_id: str | None = None
    rule: str = ""
    at: datetime
    survey: str | None = None

    def __str__(self) -> str:
        return self.text


@attrs.frozen(kw_only=True)
class TicketRequest:
    """A ticket a rule wants created (follow-up or proactive task).

    The id is derived from the rule and what triggered it, so asking twice (a repeated
    tick, a restarted desk) names the same ticket and the desk creates it once.

    Attributes:
        ticket_id: The new ticket's id.
        type: Its ticket type.
        subject: Rendered subject.
        priority: Initial priority.
        fields: Initial form fields.
        channel: Its channel (default ``"automation"``).
        customer_id: The customer (the source ticket's, or the asset owner's).
        source_ticket: The ticket that caused it, if any.
        relation: How the source ticket links to it (``"follow_up"`` …).
        rule: The rule.
        at: When.
        chain: Rules already in the causal chain (they will not fire on the new ticket).
        source_asset: The asset (serial) an asset rule fired for, else ``None``; the
            desk writes it into the new ticket's ``meta["asset"]``.
    """

    ticket_id: str
    type: str
    subject: str
    priority: str = "normal"
    fields: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=_frozen)
    channel: str = "automation"
    customer_id: str | None = None
    source_ticket: str | None = None
    relation: str = "follow_up"
    rule: str = ""
    at: datetime
    chain: tuple[str, ...] = ()
    source_asset: str | None = None


@attrs.frozen(kw_only=True)
class ProblemRequest:
    """A rule asks the desk to open (or join) a problem record for recurring tickets.

    Attributes:
        ticket_id: The ticket that triggered it.
        by: Ticket attributes that define "similar" (``"fields.product_model"`` …).
        window: How far back similar tickets count.
        min_count: How many similar tickets make a problem.
        subject: Rendered subject for the problem ticket, or ``""``.
        rule: The rule.
        at: When.
    """

    ticket_id: str
    by: tuple[str, ...]
    window: timedelta
    min_count: int
    subject: str = ""
    rule: str = ""
    at: datetime


@attrs.frozen
class Skipped:
    """An action that could not run (e.g. a transition the workflow refused).

    Attributes:
        rule: The rule.
        action: Index of the action in the rule.
        reason: Why, in words.
        retry_at: When the action may succeed if tried again (the router's next
            escalation step for a queued ``assign``), else ``None``.
    """

    rule: str
    action: int
    reason: str
    retry_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Outcome:
    """What a rule run decided. Nothing has happened yet: the caller appends ``events``
    (atomically, with the timeline's version) and then executes the intents.

    Attributes:
        events: New events for the ticket, in order, each with ``meta["rule"]``.
        notifications: Notifications to deliver.
        tickets: Tickets to create.
        problems: Problem records to open or join.
        skipped: Actions that could not run.
        fired: Ids of the rules that fired, in order (with repeats).
        routing_state: The routing state after the run's assignments.
        retry_at: For [`wake()`][csmkit.automation.Automation.wake]: the earliest instant
            after ``now`` at which a due time rule whose actions wrote nothing (a
            router that queued the ticket) is tried again, else ``None``. Schedule the
            ticket's next wake-up no later than this.
    """

    events: tuple[Event, ...] = ()
    notifications: tuple[Notification, ...] = ()
    tickets: tuple[TicketRequest, ...] = ()
    problems: tuple[ProblemRequest, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    fired: tuple[str, ...] = ()
    routing_state: RoutingState | None = None
    retry_at: datetime | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is to be done."""
        return not (self.events or self.notifications or self.tickets or self.problems)


@attrs.frozen(kw_only=True)
class Environment:
    """What a rule run may use besides the timeline (all optional).

    Attributes:
        workflow: The ticket's workflow (``transition`` actions, timed transitions).
        router: Routes ``assign`` actions without an explicit agent.
        agents: The agent pool for the router.
        routing_state: Load snapshot for the router (derive it from your store).
        sla: The SLA policy or policy set (``sla_warning`` / ``sla_breach`` triggers), or an
            [`SlaTracker`][csmkit.sla.SlaTracker] of one (the same answers, evaluated
            incrementally per ticket).
        calendar: Business calendar (business-time rules, SLA, timed transitions).
        timezone: Zone in which field dates (``warranty_until``) start their day;
            default: the calendar's zone, else UTC.
        customer: The ticket's customer as rules see it (``customer.region``,
            ``customer.tier`` …): the profile plus ``id`` and ``name``; ``None`` when
            unknown.
        assets: The customer's assets as dicts (``serial``, ``model``,
            ``product_line``, ``warranty_until``, ``region`` …), read as ``assets``.
    """

    workflow: Workflow | None = None
    router: Router | None = None
    agents: AgentPool | None = None
    routing_state: RoutingState | None = None
    sla: SlaPolicy | SlaPolicySet | SlaTracker | None = None
    calendar: BusinessCalendar | None = None
    timezone: tzinfo | None = None
    customer: Mapping[str, JsonValue] | None = attrs.field(default=None, converter=_optional)
    assets: tuple[Mapping[str, JsonValue], ...] = attrs.field(default=(), converter=_records)

    def zone(self) -> tzinfo:
        """The zone for field dates."""
        if self.timezone is not None:
            return self.timezone
        if self.calendar is not None:
            from zoneinfo import ZoneInfo

            return ZoneInfo(self.calendar.timezone)
        return timezone.utc

    def evolve(self, **changes: Any) -> Environment:
        """A copy with ``changes``."""
        return attrs.evolve(self, **changes)
