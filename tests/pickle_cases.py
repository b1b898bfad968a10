"""One representative instance of every public value class, for the pickling tests.

``CASES`` maps each class to a function building a realistic instance through the
public API. ``EXCLUDED`` lists the public classes that are not values, each with the
reason; ``tests/test_pickling.py`` fails when a public class is in neither.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from csmkit import (
    automation,
    channels,
    conditions,
    customers,
    desk,
    hookspecs,
    metrics,
    plugins,
    routing,
    sla,
    storage,
    testing,
    timeline,
    workflow,
)
from csmkit.conditions import Condition
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


def _accumulator(kind: type[Any], values: list[Any], **options: Any) -> Any:
    acc = kind(**options)
    for value in values:
        acc.update(value)
    return acc


def _quantiles() -> metrics.QuantileAccumulator:
    acc = metrics.QuantileAccumulator(exact_limit=4)
    return acc.update_many([0.0, 1.5, 2.0, -3.0, 100.0, 7.25])


def _durations() -> metrics.DurationAccumulator:
    acc = _accumulator(
        metrics.DurationAccumulator, [timedelta(hours=2), None, timedelta(minutes=5)], business=True
    )
    assert isinstance(acc, metrics.DurationAccumulator)
    return acc


def _ticket_metrics() -> metrics.TicketMetrics:
    return metrics.ticket_metrics(a_timeline(), now=T0 + timedelta(days=1), clock=calendar())


def _table() -> metrics.Table:
    return metrics.report([a_timeline()], ["csat", "first_response_time"], by=["type"])


def _summary() -> storage.TicketSummary:
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
    )


def _message() -> channels.InboundMessage:
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


def _verdict() -> workflow.Verdict:
    return a_workflow().check(
        a_ticket(),
        "close",
        actor=workflow.Actor("li", {"agent"}),
    )


def _warranty() -> customers.WarrantyStatus:
    return customers.WarrantyStatus(
        state=customers.WarrantyState.IN_WARRANTY, until=date(2027, 1, 1), days_left=93
    )


def _asset() -> customers.Asset:
    return customers.Asset(
        serial="SN-1",
        model="KFR-35",
        customer_id="c-88",
        purchased=date(2025, 1, 1),
        warranty_until=date(2027, 1, 1),
        attributes={"colour": "white"},
    )


def _survey() -> customers.SurveyRecord:
    return customers.SurveyRecord(ticket_id="T-7", survey="csat", score=5, comment=None, at=T0)


def _audit() -> customers.AuditEntry:
    return customers.AuditEntry(
        at=T0, action="merged", customer_id="c-88", actor="li", details={"from": "c-9"}
    )


def _customer() -> storage.Customer:
    phone = storage.Identity("phone", "+8613800138000")
    return storage.Customer("c-88", name="王女士", identities=[phone])


def _notification() -> automation.Notification:
    return automation.Notification(
        channel="sms", to="supervisor", text="紧急工单 T-7", ticket_id="T-7", at=T0
    )


def _linked() -> desk.LinkedStatus:
    return desk.LinkedStatus(
        ticket_id="P-1",
        relation="problem",
        status="open",
        category="open",
        label="处理中",
        updated_at=T0,
    )


def _escalation_step() -> routing.EscalationStep:
    return routing_rules().rules[0].steps[0]


CASES: dict[type[Any], Callable[[], Any]] = {
    # ----------------------------------------------------------------- automation
    automation.Action: lambda: rule_set().rules[0].actions[0],
    automation.Automation: lambda: automation.Automation(rule_set()),
    automation.Environment: lambda: automation.Environment(
        workflow=a_workflow(),
        router=router(),
        agents=agents(),
        routing_state=routing_state(),
        sla=policy_set(),
        calendar=calendar(),
        timezone=SH,
    ),
    automation.Notification: _notification,
    automation.Outcome: lambda: automation.Outcome(
        events=events()[1:3],
        notifications=(_notification(),),
        fired=("tag-urgent",),
        routing_state=routing_state(),
        retry_at=T0,
    ),
    automation.ProblemCluster: lambda: automation.ProblemCluster(
        (("type", "repair"), ("fields.model", "KFR-35")), ("T-1", "T-7"), T0, T0
    ),
    automation.ProblemRequest: lambda: automation.ProblemRequest(
        ticket_id="P-1",
        by=("type",),
        window=timedelta(days=7),
        min_count=3,
        subject="重复报修",
        rule="r",
        at=T0,
    ),
    automation.Rule: lambda: rule_set().rules[1],
    automation.RuleSet: rule_set,
    automation.Skipped: lambda: automation.Skipped("r", 0, "no agent", retry_at=T0),
    automation.TicketRequest: lambda: automation.TicketRequest(
        ticket_id="T-8",
        type="repair",
        subject="回访",
        fields={"a": [1, {"b": None}]},
        at=T0,
        chain=("r",),
    ),
    automation.TimeTrigger: lambda: rule_set().rules[1].time,
    automation.TimerIndex: lambda: _timers(),
    # ----------------------------------------------------------------- channels
    channels.Attachment: lambda: _message().attachments[0],
    channels.DeliveryReceipt: lambda: channels.DeliveryReceipt("email", "<x@y>", ("a@b.c",)),
    channels.EmailLimits: lambda: channels.EmailLimits(max_parts=20),
    channels.EmailNotification: lambda: channels.EmailNotification(
        to=("li@example.com",),
        subject="Re: 空调",
        text="已派工",
        at=T0,
        headers={"X-Ticket": "T-7"},
    ),
    channels.EmailParser: lambda: channels.EmailParser(
        limits=channels.EmailLimits(max_parts=20), subject_tag=channels.SubjectTag("BX")
    ),
    channels.InboundMessage: _message,
    channels.IntakeResult: lambda: channels.IntakeResult("created", "T-7", events=events()[:1]),
    channels.SubjectTag: lambda: channels.SubjectTag("BX"),
    channels.WebhookNotification: lambda: channels.WebhookNotification(
        id="n-1", type="ticket.created", data={"ticket": "T-7", "n": [1, 2]}, at=T0
    ),
    # ----------------------------------------------------------------- conditions
    conditions.And: lambda: Condition.parse("a == 1 and b").tree,
    conditions.Call: lambda: Condition.parse('lower(x) == "y"').tree.left,
    conditions.Compare: lambda: Condition.parse("x in [1, 2.5, null]").tree,
    conditions.Condition: lambda: Condition.parse(
        'priority >= "high" and ticket.fields.region in ["east", "north"] or not agent.away'
    ),
    conditions.Literal: lambda: conditions.Literal(("a", 1, 2.5, None, True)),
    conditions.Name: lambda: conditions.Name(("ticket", "fields", "区域")),
    conditions.Not: lambda: Condition.parse("not a").tree,
    conditions.Or: lambda: Condition.parse("a or b").tree,
    conditions.Truth: lambda: Condition.parse("a").tree,
    # ----------------------------------------------------------------- customers
    customers.Asset: _asset,
    customers.AssetView: lambda: customers.AssetView(_asset(), _warranty()),
    customers.AuditEntry: _audit,
    customers.CustomerView: lambda: customers.CustomerView(
        customer=_customer(),
        profile={"vip": True},
        merged_from=("c-9",),
        tickets=(customers.TicketView(_summary(), sla=sla_report()),),
        surveys=(_survey(),),
        assets=(customers.AssetView(_asset(), _warranty()),),
        history=(_audit(),),
        now=T0,
    ),
    customers.SurveyRecord: _survey,
    customers.TicketView: lambda: customers.TicketView(_summary(), sla=sla_report()),
    customers.WarrantyStatus: _warranty,
    # ----------------------------------------------------------------- desk
    desk.FeedbackStatus: lambda: desk.FeedbackStatus("T-7", "open", "处理中", (_linked(),)),
    desk.LinkedStatus: _linked,
    desk.TickResult: lambda: desk.TickResult(
        T0, woken=("T-7",), events=2, notifications=(_notification(),)
    ),
    desk.TicketType: lambda: desk.TicketType("repair", a_workflow(), sla=policy_set()),
    # ----------------------------------------------------------------- metrics
    metrics.BacklogResult: lambda: metrics.backlog(
        [a_timeline()], T0 + timedelta(minutes=30), clock=calendar()
    ),
    metrics.ChurnResult: lambda: metrics.churn(["a", "b", "c"], ["b", "c", "d"]),
    metrics.DurationAccumulator: _durations,
    metrics.DurationResult: lambda: _durations().result(),
    metrics.FcrRule: lambda: metrics.no_reopen_within(7, business_day=timedelta(hours=8)),
    metrics.LtvResult: lambda: metrics.ltv(margin=100.0, retention=0.8, discount_rate=0.1),
    metrics.MeanAccumulator: lambda: _accumulator(metrics.MeanAccumulator, [1, 2.5, 4]),
    metrics.MeanResult: lambda: _accumulator(metrics.MeanAccumulator, [1, 2.5, 4]).result(),
    metrics.NpsAccumulator: lambda: metrics.NpsAccumulator().update_many([10, 9, 7, 3]),
    metrics.NpsComparison: lambda: metrics.compare([10, 9, 3, 7], [9, 5, 3, 9], paired=True),
    metrics.NpsResult: lambda: metrics.nps([10, 10, 9, 8, 7, 4]),
    metrics.ProportionAccumulator: lambda: _accumulator(
        metrics.ProportionAccumulator, [True, False, True]
    ),
    metrics.QuantileAccumulator: _quantiles,
    metrics.QuantileSummary: lambda: _quantiles().result(),
    metrics.Rate: lambda: metrics.Rate(3, 4, name="fcr", skipped=1),
    metrics.RatingAccumulator: lambda: metrics.RatingAccumulator("csat").update_many([5, 4, 1]),
    metrics.RatingResult: lambda: metrics.csat([5, 4, 3, 1]),
    metrics.RetentionUplift: lambda: metrics.retention_uplift(0.8, 0.85),
    metrics.RoiResult: lambda: metrics.roi(ltv_gain=1000.0, investment=400.0),
    metrics.Table: _table,
    metrics.TicketMetrics: _ticket_metrics,
    # ----------------------------------------------------------------- plugins
    plugins.CalendarRegistration: lambda: plugins.CalendarRegistration("cal", plugin_factory),
    plugins.InboundChannelRegistration: lambda: plugins.InboundChannelRegistration(
        "sms", plugin_factory
    ),
    plugins.OutboundChannelRegistration: lambda: plugins.OutboundChannelRegistration(
        "sms", plugin_factory
    ),
    plugins.PluginInfo: lambda: plugins.PluginInfo("memory", "builtin", version="1"),
    plugins.RoutingStrategyRegistration: lambda: plugins.RoutingStrategyRegistration(
        "mine", plugin_factory
    ),
    plugins.StoreBackend: lambda: plugins.StoreBackend("mem", plugin_factory),
    # ----------------------------------------------------------------- routing
    routing.Agent: lambda: agents()["wang"],
    routing.AgentPool: agents,
    routing.BestSkill: lambda: routing.BestSkill(),
    routing.CandidateVerdict: lambda: decision().candidates[0],
    routing.ChoiceContext: lambda: routing.ChoiceContext(
        ticket=a_ticket(), state=routing_state(), now=T0, channel="phone", skills=("hvac",)
    ),
    routing.Decision: decision,
    routing.EffectiveTarget: lambda: routing_rules().rules[0].at_step(1),
    routing.EscalationStep: _escalation_step,
    routing.FairnessReport: lambda: routing.fairness_report(
        [decision()], now=T0 + timedelta(hours=1), agents=["wang", "chen"], state=routing_state()
    ),
    routing.LeastLoaded: lambda: routing.LeastLoaded(),
    routing.MostSpareCapacity: lambda: routing.MostSpareCapacity(),
    routing.QueueEntry: lambda: routing.QueueEntry(
        ticket=a_ticket(),
        enqueued_at=T0,
        priority=a_ticket().priority,
        group="engineers",
        target=Condition.parse("agent.x"),
    ),
    routing.RoundRobin: lambda: routing.RoundRobin(),
    routing.Router: router,
    routing.RoutingRule: lambda: routing_rules().rules[0],
    routing.RoutingRules: routing_rules,
    routing.RoutingState: routing_state,
    routing.SeededRandom: lambda: routing.SeededRandom(seed=7),
    routing.Sticky: lambda: routing.Sticky(routing.LeastLoaded()),
    routing.TargetFilter: lambda: routing_rules().rules[0].at_step(0).filters[0],
    routing.WorkQueue: lambda: routing.WorkQueue(aging=timedelta(hours=1)).add(
        a_ticket(), at=T0, decision=decision()
    ),
    # ----------------------------------------------------------------- sla
    sla.BusinessCalendar: calendar,
    sla.SlaCycle: lambda: sla_report().cycles[0],
    sla.SlaPolicy: policy,
    sla.SlaPolicySet: policy_set,
    sla.SlaReport: sla_report,
    sla.SlaTarget: lambda: policy().target("resolution"),
    sla.SlaWarning: lambda: sla_report().current("resolution").warnings[0],
    # ----------------------------------------------------------------- storage
    storage.Customer: _customer,
    storage.Identity: lambda: storage.Identity("email", "li@example.com"),
    storage.TicketPage: lambda: storage.TicketPage((_summary(),), "cursor-1"),
    storage.TicketSummary: _summary,
    # ----------------------------------------------------------------- timeline
    timeline.Assigned: lambda: events()[1],
    timeline.Escalated: lambda: timeline.Escalated(ticket_id="T-7", at=T0, level=2, reason="x"),
    timeline.FieldChanged: lambda: timeline.FieldChanged(
        ticket_id="T-7", at=T0, name="region", old=None, new={"a": [1, 2.5]}
    ),
    timeline.Linked: lambda: timeline.Linked(
        ticket_id="T-7", at=T0, relation="problem", other_ticket="P-1"
    ),
    timeline.MessageAdded: lambda: events()[2],
    timeline.StatusChanged: lambda: events()[3],
    timeline.SurveyAnswered: lambda: events()[4],
    timeline.Ticket: a_ticket,
    timeline.TicketCreated: lambda: events()[0],
    timeline.Timeline: a_timeline,
    timeline.Unassigned: lambda: timeline.Unassigned(ticket_id="T-7", at=T0, agent="li"),
    timeline.WorkflowMigrated: lambda: timeline.WorkflowMigrated(
        ticket_id="T-7",
        at=T0,
        workflow="repair",
        from_version=1,
        to_version=2,
        from_status="new",
        to_status="new",
        category="new",
    ),
    # ----------------------------------------------------------------- workflow
    workflow.Actor: lambda: workflow.Actor("li", {"agent", "engineer"}),
    workflow.Due: lambda: workflow.Due(
        transition="auto_close", state="solved", due_at=T0, since=T0, data={"k": [1]}
    ),
    workflow.FieldError: lambda: workflow.FieldError(
        field="engineer", code="required", message="required"
    ),
    workflow.FieldSpec: lambda: _form().fields[0],
    workflow.FormResult: lambda: _form().validate({"engineer": "e7", "count": 2}),
    workflow.FormSchema: lambda: _form(),
    workflow.Migration: lambda: workflow.Migration(
        workflow="repair", from_version=1, to_version=2, status_map={"new": "triage"}
    ),
    workflow.MigrationPlan: lambda: workflow.MigrationPlan(
        moves=(_move(),), skipped=(("T-8", "unknown state"),)
    ),
    workflow.PlannedMove: lambda: _move(),
    workflow.Reason: lambda: workflow.Reason("role", "needs role engineer"),
    workflow.SeparationOfDuty: lambda: workflow.SeparationOfDuty(
        not_actor_of=("approve",), scope="any"
    ),
    workflow.State: lambda: a_workflow().states[0],
    workflow.TimedTransition: lambda: workflow.TimedTransition(
        state="solved", transition="close", after=timedelta(days=7), data={"reason": "auto"}
    ),
    workflow.Transition: lambda: a_workflow().transitions[0],
    workflow.TransitionContext: lambda: workflow.TransitionContext(
        workflow=a_workflow(),
        ticket=a_ticket(),
        transition=a_workflow().transitions[0],
        actor=workflow.Actor("li", {"agent"}),
        at=T0,
        data={"k": 1},
        verdict=_verdict(),
    ),
    workflow.Verdict: _verdict,
    workflow.Workflow: a_workflow,
    workflow.WorkflowRegistry: lambda: workflow.WorkflowRegistry([a_workflow()]),
}


def _form() -> workflow.FormSchema:
    return workflow.FormSchema.from_dict(
        {
            "fields": [
                {"name": "engineer", "type": "text", "required": True, "pattern": "^e[0-9]+$"},
                {"name": "count", "type": "number", "min": 0, "max": 9},
                {"name": "kind", "type": "choice", "choices": ["a", "b"], "default": "a"},
            ]
        }
    )


def _move() -> workflow.PlannedMove:
    return workflow.PlannedMove(ticket_id="T-7", from_status="new", to_status="triage")


def _timers() -> automation.TimerIndex:
    timers = automation.TimerIndex()
    timers.schedule("T-1", T0 + timedelta(hours=1))
    timers.schedule("T-2", T0)
    timers.schedule("T-1", T0 + timedelta(hours=2))
    return timers


EQUAL_BY: dict[type[Any], Callable[[Any], Any]] = {
    # Engines built from a value, with caches but no value equality of their own: the
    # loaded one must be built from an equal value.
    automation.Automation: lambda engine: engine.rules,
    workflow.WorkflowRegistry: lambda registry: tuple(registry),
}
"""How to compare the classes that are engines rather than values."""

EXCLUDED: dict[type[Any], str] = {
    # Protocols: interfaces, not values.
    channels.BlobStore: "protocol",
    channels.CustomerResolver: "protocol",
    customers.CustomerRecords: "protocol",
    metrics.Accumulator: "protocol",
    metrics.BusinessClock: "protocol",
    plugins.InboundMessageLike: "protocol",
    routing.ShiftCalendar: "protocol",
    routing.Strategy: "protocol",
    routing.StrategyFactory: "protocol",
    storage.TicketStore: "protocol",
    workflow.BusinessClock: "protocol",
    workflow.Observer: "protocol",
    timeline.Event: "abstract base: every event kind has its own case",
    # Live resources: connections, files, locks, sockets, loaded entry points.
    channels.Intake: "composes a store, plugins and a blob store (live resources)",
    channels.MemoryBlobStore: "a store: its content lives in the process",
    channels.SmtpChannel: "an SMTP client (network endpoint and credentials)",
    channels.WebhookChannel: "an HTTP client (network endpoint and signing secret)",
    channels.WebhookParser: "replay-protection memory and signing secrets, behind a lock",
    customers.CustomerDirectory: "composes a ticket store and customer records (live)",
    customers.MemoryCustomerRecords: "a store: its content lives in the process",
    customers.SqliteCustomerRecords: "a store: an open SQLite connection",
    desk.ServiceDesk: "the composition root: stores, plugins, a clock",
    plugins.PluginManager: "loaded plugins and entry points of this process",
    routing.StrategyRegistry: "a mutable registry of factories (rebuild with default_registry)",
    storage.MemoryStore: "a store: its content lives in the process",
    storage.SqliteStore: "a store: an open SQLite connection",
    # Test helpers and hook specifications.
    hookspecs.CsmkitSpecs: "hook specifications for pluggy",
    testing.CustomerStoreContract: "a conformance test base",
    testing.PluginContract: "a conformance test base",
    testing.StoreContract: "a conformance test base",
}


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
