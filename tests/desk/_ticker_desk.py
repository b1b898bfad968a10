"""The desk of the ticker tests: one intake type with a first-response SLA and three
timed effects per ticket (an SLA warning, a reminder time rule, a breach escalation),
each with a notification. Imported by the tests and by their child processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from csmkit.channels import InboundMessage
from csmkit.desk import ServiceDesk, TicketType
from csmkit.plugins import PluginManager
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.storage import TicketStore
from csmkit.timeline import Timeline
from csmkit.workflow import Workflow, template_dict

SH = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 10, 14, tzinfo=SH)  # a Wednesday

CALENDAR = {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}
SLA = {
    "name": "complaint",
    "targets": {
        "first_response": {"goals": {"normal": "2h"}, "warnings": [0.5], "pause": ["pending"]}
    },
}
RULES: dict[str, Any] = {
    "rules": [
        {
            "id": "warn",
            "on": "sla_warning",
            "when": 'event.target == "first_response"',
            "actions": [
                {"do": "notify", "channel": "sms", "to": "duty", "template": "{ticket_id} 首响过半"}
            ],
        },
        {
            "id": "remind",
            "on": {"after": "90m", "since": "created", "clock": "business"},
            "when": 'stats.agent_replies == 0 and ticket.status == "new"',
            "actions": [
                {"do": "notify", "channel": "sms", "to": "duty", "template": "{ticket_id} 待回复"}
            ],
        },
        {
            "id": "escalate",
            "on": "sla_breach",
            "when": 'event.target == "first_response"',
            "actions": [
                {"do": "escalate", "reason": "no first response in 2 business hours"},
                {"do": "notify", "channel": "sms", "to": "lead", "template": "{ticket_id} 已超时"},
            ],
        },
    ]
}
#: The timed effects each unanswered ticket gets exactly once, after its creation.
EFFECTS = {
    "warn": timedelta(hours=1),
    "remind": timedelta(minutes=90),
    "escalate": timedelta(hours=2),
}


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Outbox:
    """An outbound channel remembering (ticket, rule) of what it sent, optionally also
    appending it to a JSON-lines file (for child processes)."""

    def __init__(self, log: Path | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.log = log

    def send(self, notification: Any) -> dict[str, bool]:
        item = (str(notification.ticket_id), str(notification.rule))
        self.sent.append(item)
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as file:
                file.write(json.dumps(item) + "\n")
        return {"accepted": True}


def make_desk(store: TicketStore, clock: Callable[[], datetime], outbox: Outbox) -> ServiceDesk:
    return ServiceDesk(
        store,
        types=[
            TicketType(
                "complaint",
                Workflow.from_dict(template_dict("complaint")),
                SlaPolicy.from_dict(SLA),
            )
        ],
        clock=clock,
        plugins=PluginManager(load_entrypoints=False),
        calendar=BusinessCalendar.from_dict(CALENDAR),
        rules=RULES,
        channels={"sms": outbox},
        intake_type="complaint",
    )


def mail(sender: str, received_at: datetime) -> InboundMessage:
    return InboundMessage(
        channel="email",
        external_id=f"<{sender}@mail.example.cn>",
        sender=f"{sender}@example.cn",
        sender_kind="email",
        subject=f"{sender}: 空调不制冷",
        text="请尽快上门",
        received_at=received_at,
    )


def fired(timeline: Timeline) -> list[str]:
    """The rules whose notification is recorded in the timeline, one entry per
    recording event (each occurrence of these rules records exactly one)."""
    return sorted(
        str(event.meta["rule"])
        for event in timeline
        if "rule" in event.meta and "notify" in event.meta
    )
