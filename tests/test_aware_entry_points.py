"""Every public entry point that takes an instant refuses a naive one the same way:
the exception class it documents, one phrasing naming the argument."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from csmkit.automation import TimerIndex, recurring_problems
from csmkit.channels import EmailParser, InboundMessage, WebhookParser, webhook_headers
from csmkit.customers import Asset
from csmkit.errors import (
    AutomationError,
    CalendarError,
    IdentityError,
    MessageFormatError,
    MetricsError,
    RoutingError,
    SlaPolicyError,
    StoreArgumentError,
    TimelineError,
    WebhookVerificationError,
    WorkflowError,
)
from csmkit.metrics import ticket_metrics
from csmkit.routing import RoutingState, WorkQueue, fairness_report
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.storage import MemoryStore
from csmkit.timeline import Ticket, TicketCreated, Timeline
from csmkit.workflow import Actor, template

NAIVE = datetime(2026, 10, 8, 9, 30)
T0 = datetime(2026, 10, 8, 9, 0, tzinfo=timezone.utc)
CREATED = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="phone")
TIMELINE = Timeline([CREATED])
CALENDAR = BusinessCalendar.from_dict({"timezone": "UTC", "week": {"mon-fri": ["09:00-18:00"]}})
POLICY = SlaPolicy.from_dict({"name": "p", "targets": {"resolution": {"goals": {"normal": "8h"}}}})

CASES: list[tuple[str, type[Exception], str, Callable[[], Any]]] = [
    (
        "event",
        TimelineError,
        "TicketCreated.at",
        lambda: CREATED.__class__(ticket_id="T-1", at=NAIVE, type="repair", channel="phone"),
    ),
    ("state_at", TimelineError, "at", lambda: TIMELINE.state_at(NAIVE)),
    (
        "store",
        StoreArgumentError,
        "updated_since",
        lambda: MemoryStore().find_tickets(updated_since=NAIVE),
    ),
    ("calendar", CalendarError, "at", lambda: CALENDAR.is_open(NAIVE)),
    ("sla", SlaPolicyError, "now", lambda: POLICY.evaluate(TIMELINE, calendar=CALENDAR, now=NAIVE)),
    ("metrics", MetricsError, "now", lambda: ticket_metrics(TIMELINE, now=NAIVE)),
    (
        "workflow",
        WorkflowError,
        "at",
        lambda: template("complaint").fire(
            Ticket.created(CREATED), "accept", actor=Actor("a", roles={"agent"}), at=NAIVE
        ),
    ),
    ("routing state", RoutingError, "at", lambda: RoutingState().assign("a", "phone", NAIVE)),
    ("queue", RoutingError, "now", lambda: WorkQueue().to_dict(NAIVE)),
    ("fairness", RoutingError, "now", lambda: fairness_report([], now=NAIVE)),
    ("timers", AutomationError, "at", lambda: TimerIndex().schedule("T-1", NAIVE)),
    ("timers due", AutomationError, "now", lambda: TimerIndex().pop_due(NAIVE)),
    (
        "problems",
        AutomationError,
        "now",
        lambda: recurring_problems([], by=["type"], window=timedelta(days=1), now=NAIVE),
    ),
    (
        "email",
        MessageFormatError,
        "received_at",
        lambda: EmailParser().parse(b"Subject: x\r\n\r\nbody", received_at=NAIVE),
    ),
    (
        "inbound",
        MessageFormatError,
        "InboundMessage.received_at",
        lambda: InboundMessage(
            channel="email", sender="a@example.com", subject="", text="x", received_at=NAIVE
        ),
    ),
    (
        "webhook headers",
        WebhookVerificationError,
        "at",
        lambda: webhook_headers("secret", "m-1", NAIVE, b"{}"),
    ),
    (
        "webhook verify",
        WebhookVerificationError,
        "now",
        lambda: WebhookParser("secret").verify({}, b"{}", now=NAIVE),
    ),
    ("asset", IdentityError, "at", lambda: Asset(serial="S-1").warranty_status(NAIVE)),
]


@pytest.mark.parametrize(
    ("error", "where", "call"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_naive_instants_are_refused_with_one_phrasing(
    error: type[Exception], where: str, call: Callable[[], Any]
) -> None:
    pattern = re.escape(f"{where} must be a timezone-aware datetime, got naive")
    with pytest.raises(error, match=pattern):
        call()
