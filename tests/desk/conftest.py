"""The article's repair desk, shared by the desk tests (the ``kit`` fixture)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csmkit.desk import ServiceDesk, TicketType, problem_workflow
from csmkit.plugins import PluginManager
from csmkit.routing import Agent, AgentPool, Router, RoutingRules
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.storage import open_store
from csmkit.workflow import Workflow, template_dict

SH = ZoneInfo("Asia/Shanghai")


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Outbox:
    """A test outbound channel: remembers what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, notification: Any) -> dict[str, Any]:
        self.sent.append(notification)
        return {"accepted": True, "n": len(self.sent)}


def repair_workflow() -> Workflow:
    data = template_dict("repair")
    data["form"]["fields"] += [
        {"name": "region", "type": "choice", "choices": ["east", "north", "south"]},
        {"name": "symptom", "type": "text"},
    ]
    return Workflow.from_dict(data)


def feedback_workflow() -> Workflow:
    return Workflow.from_dict(
        {
            "name": "feedback",
            "states": [
                {
                    "name": "new",
                    "category": "new",
                    "initial": True,
                    "labels": {"customer": {"en": "Received", "zh": "已收到"}},
                },
                {
                    "name": "planned",
                    "category": "open",
                    "labels": {"customer": {"en": "Planned", "zh": "已排期"}},
                },
                {
                    "name": "released",
                    "category": "solved",
                    "labels": {"customer": {"en": "Released", "zh": "已上线"}},
                },
                {
                    "name": "closed",
                    "category": "closed",
                    "labels": {"customer": {"en": "Closed", "zh": "已关闭"}},
                },
            ],
            "transitions": [
                {"name": "plan", "sources": "new", "target": "planned"},
                {"name": "release", "sources": "planned", "target": "released"},
                {"name": "close", "sources": "released", "target": "closed"},
            ],
            "reopen": "planned",
        }
    )


CALENDAR = {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}

SLA = {
    "name": "repair",
    "targets": {
        "first_response": {"goals": {"urgent": "2h", "normal": "8h"}},
        "resolution": {"goals": {"urgent": "6h", "normal": "24h"}, "warnings": [0.5, 0.75]},
    },
}

ROUTING = {
    "rules": [
        {
            "name": "urgent-repair",
            "when": 'ticket.type == "repair" and ticket.priority == "urgent"',
            "group": "engineers",
            "target": 'agent.region == ticket.fields.region and agent.tier == "senior"',
            "strategy": "least_loaded",
        }
    ],
    "default": {"strategy": "round_robin", "group": "engineers"},
}

AGENTS = [
    Agent(
        id="wang",
        name="王工",
        groups=["engineers"],
        attributes={"region": "east", "tier": "senior"},
        capacity={"phone": 3},
    ),
    Agent(
        id="zhao",
        name="赵工",
        groups=["engineers"],
        attributes={"region": "east", "tier": "junior"},
        capacity={"phone": 3},
    ),
    Agent(
        id="li",
        name="李工",
        groups=["engineers"],
        attributes={"region": "north", "tier": "senior"},
        capacity={"phone": 3},
    ),
    Agent(id="chen", name="陈主管", groups=["supervisors"], capacity={"phone": 5}),
]

RULES: dict[str, Any] = {
    "rules": [
        {
            "id": "dispatch-urgent",
            "on": "created",
            "when": 'ticket.type == "repair" and ticket.priority == "urgent"',
            "actions": [
                {"do": "assign"},
                {
                    "do": "notify",
                    "channel": "sms",
                    "to": "supervisor:{fields.region}",
                    "template": "紧急报修 {ticket_id}（{fields.region}）：{subject}，"
                    "已派给 {assignee}",
                },
            ],
        },
        {
            "id": "escalate-unanswered",
            "on": {"after": "2h", "since": "created", "clock": "business"},
            "when": 'ticket.priority == "urgent" and stats.agent_replies == 0',
            "actions": [
                {
                    "do": "escalate",
                    "group": "supervisors",
                    "reason": "no response in 2 business hours",
                },
                {
                    "do": "notify",
                    "channel": "sms",
                    "to": "supervisor:{fields.region}",
                    "template": "工单 {ticket_id} 2 小时未响应，已升级",
                },
            ],
        },
        {
            "id": "sla-warning",
            "on": ["sla_warning", "sla_breach"],
            "when": 'event.target == "resolution"',
            "actions": [
                {
                    "do": "notify",
                    "channel": "sms",
                    "to": "{assignee}",
                    "template": "{ticket_id} 解决时限已用 {percent}，截止 {due_at}",
                },
            ],
        },
        {
            "id": "survey-on-close",
            "on": "status_changed",
            "when": 'ticket.status == "closed"',
            "actions": [
                {
                    "do": "send_survey",
                    "survey": "csat",
                    "channel": "sms",
                    "template": "您的报修 {ticket_id} 已完成，请为本次服务打分（1-5）",
                },
            ],
        },
    ]
}


def make_desk(
    url: str | Path,
    clock: Clock,
    outbox: Outbox,
    *,
    rules: dict[str, Any] | None = None,
    plugins: PluginManager | None = None,
) -> ServiceDesk:
    store = open_store(url if isinstance(url, str) else f"sqlite:///{url}")
    return ServiceDesk(
        store,
        types=[
            TicketType("repair", repair_workflow(), SlaPolicy.from_dict(SLA)),
            TicketType("problem", problem_workflow()),
            TicketType("feedback", feedback_workflow()),
        ],
        clock=clock,
        plugins=plugins or PluginManager(load_entrypoints=False),
        calendar=BusinessCalendar.from_dict(CALENDAR),
        router=Router(RoutingRules.from_dict(ROUTING)),
        agents=AgentPool(AGENTS),
        rules=RULES if rules is None else rules,
        channels={"sms": outbox},
    )


FIELDS = {
    "address": "上海市浦东新区",
    "contact_phone": "+86 138 0013 8000",
    "region": "east",
    "product_model": "KFR-35GW",
    "symptom": "不制冷",
}


@pytest.fixture
def kit() -> Any:
    """This module: the scenario's building blocks."""
    return sys.modules[__name__]
