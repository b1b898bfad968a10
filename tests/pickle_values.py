"""Realistic values built through the public API, for the pickling tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from csmkit import (
    automation,
    channels,
    customers,
    desk,
    metrics,
    routing,
    sla,
    storage,
    workflow,
)
from csmkit.timeline import (
    Assigned,
    MessageAdded,
    StatusChanged,
    SurveyAnswered,
    Ticket,
    TicketCreated,
    Timeline,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 30, 16, 0, tzinfo=SH)


def plugin_factory() -> object:
    """A module-level factory, as a plugin registration would hold."""
    return object()


@cache
def calendar() -> sla.BusinessCalendar:
    return sla.BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
            "holidays": ["2026-10-01", "2026-10-02", "2026-10-05"],
            "workdays": ["2026-09-20", "2026-10-10"],
            "overrides": {"2026-10-09": ["10:00-16:00"]},
            "covers": {"from": "2026-01-01", "to": "2026-12-31"},
        }
    )


@cache
def events() -> tuple[Any, ...]:
    created = TicketCreated(
        ticket_id="T-7",
        at=T0,
        type="repair",
        channel="wechat",
        priority="urgent",
        customer_id="c-88",
        subject="空调不制冷",
        fields={"region": "pudong", "model": ["KFR-35", 2]},
        tags=["vip"],
    )
    return (
        created,
        Assigned(ticket_id="T-7", at=T0 + timedelta(minutes=5), agent="li"),
        MessageAdded(
            ticket_id="T-7", at=T0 + timedelta(minutes=40), direction="outbound", channel="wechat"
        ),
        StatusChanged(
            ticket_id="T-7",
            at=T0 + timedelta(hours=1),
            from_status="new",
            to_status="solved",
            category="solved",
        ),
        SurveyAnswered(ticket_id="T-7", at=T0 + timedelta(hours=2), survey="csat", score=5),
    )


@cache
def a_timeline() -> Timeline:
    return Timeline(events())


@cache
def a_ticket() -> Ticket:
    return a_timeline().ticket


@cache
def policy() -> sla.SlaPolicy:
    return sla.SlaPolicy.from_dict(
        {
            "name": "standard",
            "when": 'priority == "urgent"',
            "targets": {
                "first_response": {"goals": {"normal": "2h", "urgent": "30m"}},
                "resolution": {"goals": {"normal": "16h", "urgent": "4h"}, "warnings": [0.5]},
            },
        }
    )


@cache
def policy_set() -> sla.SlaPolicySet:
    return sla.SlaPolicySet.from_dict(
        {
            "policies": [
                policy().to_dict(),
                {"name": "default", "targets": {"resolution": {"goals": {"normal": "16h"}}}},
            ]
        }
    )


@cache
def sla_report() -> sla.SlaReport:
    return policy().evaluate(a_timeline(), calendar=calendar(), now=T0 + timedelta(hours=3))


@cache
def a_workflow() -> workflow.Workflow:
    return workflow.template("repair")


@cache
def routing_rules() -> routing.RoutingRules:
    return routing.RoutingRules.from_dict(
        {
            "rules": [
                {
                    "name": "urgent-repair",
                    "when": 'ticket.type == "repair" and ticket.priority == "urgent"',
                    "group": "engineers",
                    "target": "agent.skills.hvac >= 3 and agent.region == ticket.fields.region",
                    "strategy": "least_loaded",
                    "steps": [{"after": "30m", "widen": ["agent.region"]}],
                }
            ],
            "default": {"strategy": "round_robin"},
        },
        ticket_fields={"region"},
        agent_attributes={"region"},
    )


@cache
def agents() -> routing.AgentPool:
    return routing.AgentPool(
        [
            routing.Agent(
                id="wang",
                name="王工",
                groups=["engineers"],
                skills={"hvac": 4},
                attributes={"region": "pudong"},
                capacity={"phone": 1, "wechat": 2},
            ),
            routing.Agent(id="chen", groups=["supervisors"], capacity={"wechat": 3}),
        ]
    )


@cache
def router() -> routing.Router:
    return routing.Router(routing_rules(), calendar=calendar())


@cache
def routing_state() -> routing.RoutingState:
    return routing.RoutingState().with_load("wang", "phone", 1)


@cache
def decision() -> routing.Decision:
    return router().route(a_ticket(), agents(), routing_state(), T0)


@cache
def rule_set() -> automation.RuleSet:
    return automation.RuleSet.from_dict(
        {
            "rules": [
                {
                    "id": "tag-urgent",
                    "on": "created",
                    "when": 'ticket.priority == "urgent"',
                    "actions": [{"do": "add_tags", "tags": ["urgent"]}],
                },
                {
                    "id": "escalate-2h",
                    "on": {"after": "2h", "since": "created", "clock": "business"},
                    "when": "stats.agent_replies == 0",
                    "actions": [{"do": "escalate", "group": "supervisors"}],
                },
            ]
        }
    )


def accumulator(kind: type[Any], values: list[Any], **options: Any) -> Any:
    acc = kind(**options)
    for value in values:
        acc.update(value)
    return acc


def quantiles() -> metrics.QuantileAccumulator:
    acc = metrics.QuantileAccumulator(exact_limit=4)
    return acc.update_many([0.0, 1.5, 2.0, -3.0, 100.0, 7.25])


def durations() -> metrics.DurationAccumulator:
    acc = accumulator(
        metrics.DurationAccumulator, [timedelta(hours=2), None, timedelta(minutes=5)], business=True
    )
    assert isinstance(acc, metrics.DurationAccumulator)
    return acc


def ticket_metrics() -> metrics.TicketMetrics:
    return metrics.ticket_metrics(a_timeline(), now=T0 + timedelta(days=1), clock=calendar())


def table() -> metrics.Table:
    return metrics.report([a_timeline()], ["csat", "first_response_time"], by=["type"])


def summary() -> storage.TicketSummary:
    ticket = a_ticket()
    return storage.TicketSummary(
        ticket_id=ticket.id,
        version=ticket.version,
        status=ticket.status,
        category=ticket.category,
        priority=ticket.priority,
        assignee=ticket.assignee,
        group=ticket.group,
        customer_id=ticket.customer_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        type=ticket.type,
        due=sla_due(),
    )


def sla_due() -> storage.SlaDue:
    return storage.SlaDue(at=T0 + timedelta(hours=2), target="first_response")


def message() -> channels.InboundMessage:
    attachment = channels.Attachment(
        filename="报修单.pdf",
        content_type="application/pdf",
        size=3,
        sha256="ab" * 32,
        content_ref="blob:1",
    )
    return channels.InboundMessage(
        channel="email",
        external_id="<m1@example.com>",
        references=("<m0@example.com>",),
        sender="li@example.com",
        sender_name="李雷",
        recipients=("support@example.com",),
        subject="空调不制冷 [#T-7]",
        text="你好",
        attachments=(attachment,),
        received_at=T0,
        headers={"X-Mailer": "test"},
        ticket_ref="T-7",
    )


def verdict() -> workflow.Verdict:
    return a_workflow().check(
        a_ticket(),
        "close",
        actor=workflow.Actor("li", {"agent"}),
    )


def warranty() -> customers.WarrantyStatus:
    return customers.WarrantyStatus(
        state=customers.WarrantyState.IN_WARRANTY, until=date(2027, 1, 1), days_left=93
    )


def asset() -> customers.Asset:
    return customers.Asset(
        serial="SN-1",
        model="KFR-35",
        customer_id="c-88",
        purchased=date(2025, 1, 1),
        warranty_until=date(2027, 1, 1),
        attributes={"colour": "white"},
    )


def survey() -> customers.SurveyRecord:
    return customers.SurveyRecord(ticket_id="T-7", survey="csat", score=5, comment=None, at=T0)


def audit() -> customers.AuditEntry:
    return customers.AuditEntry(
        at=T0, action="merged", customer_id="c-88", actor="li", details={"from": "c-9"}
    )


def customer() -> storage.Customer:
    phone = storage.Identity("phone", "+8613800138000")
    return storage.Customer("c-88", name="王女士", identities=[phone])


def notification() -> automation.Notification:
    return automation.Notification(
        channel="sms", to="supervisor", text="紧急工单 T-7", ticket_id="T-7", at=T0
    )


def linked() -> desk.LinkedStatus:
    return desk.LinkedStatus(
        ticket_id="P-1",
        relation="problem",
        status="open",
        category="open",
        label="处理中",
        updated_at=T0,
    )


def escalation_step() -> routing.EscalationStep:
    return routing_rules().rules[0].steps[0]


def form() -> workflow.FormSchema:
    return workflow.FormSchema.from_dict(
        {
            "fields": [
                {"name": "engineer", "type": "text", "required": True, "pattern": "^e[0-9]+$"},
                {"name": "count", "type": "number", "min": 0, "max": 9},
                {"name": "kind", "type": "choice", "choices": ["a", "b"], "default": "a"},
            ]
        }
    )


def move() -> workflow.PlannedMove:
    return workflow.PlannedMove(ticket_id="T-7", from_status="new", to_status="triage")


def timers() -> automation.TimerIndex:
    timers = automation.TimerIndex()
    timers.schedule("T-1", T0 + timedelta(hours=1))
    timers.schedule("T-2", T0)
    timers.schedule("T-1", T0 + timedelta(hours=2))
    return timers


def business_response_times(
    job: tuple[sla.BusinessCalendar, list[Timeline], datetime],
) -> tuple[metrics.DurationAccumulator, list[metrics.TicketMetrics]]:
    """A worker process's share of a report: business-time first responses.

    Module level so that a ``spawn`` worker can import it; everything it gets and
    returns crosses the process boundary by pickle.
    """
    clock, timelines, now = job
    acc = metrics.DurationAccumulator("first_response_time", business=True)
    measured = [metrics.ticket_metrics(item, clock=clock, now=now) for item in timelines]
    for one in measured:
        acc.update(one.first_response)
    return acc, measured


def article() -> Any:
    from csmkit.knowledge import Article

    return Article(
        id="ac-not-cooling",
        title="空调不制冷怎么办",
        body="先取下滤网冲洗。",
        language="zh",
        product="空调",
        tags=("制冷", "滤网"),
        review_by=T0.date(),
    )
