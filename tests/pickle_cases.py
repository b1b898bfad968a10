"""One representative instance of every public value class, for the pickling tests.

``CASES`` maps each class to a function building a realistic instance through the
public API (builders in ``pickle_values``). ``EXCLUDED`` lists the public classes that
are not values, each with the reason; ``tests/test_pickling.py`` fails when a public
class is in neither.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pickle_values as v
from csmkit import (
    automation,
    channels,
    conditions,
    customers,
    desk,
    hookspecs,
    io,
    knowledge,
    metrics,
    plugins,
    routing,
    sla,
    storage,
    testing,
    timeline,
    web,
    workflow,
)
from csmkit.conditions import Condition
from pickle_values import SH, T0

CASES: dict[type[Any], Callable[[], Any]] = {
    # ----------------------------------------------------------------- knowledge
    knowledge.Article: v.article,
    knowledge.ArticleVersion: lambda: knowledge.ArticleVersion(
        number=1, article=v.article(), at=T0, author="li", note="首版"
    ),
    knowledge.ArticleRecord: lambda: knowledge.ArticleRecord(
        id="ac-not-cooling",
        versions=[knowledge.ArticleVersion(number=1, article=v.article(), at=T0, author="li")],
        status="published",
        published=1,
        updated_at=T0,
    ),
    knowledge.ArticleHit: lambda: knowledge.ArticleHit(
        "ac-not-cooling", 1, "空调不制冷怎么办", 3.5, ("制冷",), "空调不[制冷]怎么办", "published"
    ),
    knowledge.SearchHit: lambda: knowledge.SearchHit(
        "ac-not-cooling", 3.5, ("制冷",), "空调不[制冷]", {"language": "zh", "product": None}
    ),
    knowledge.QueryTerm: lambda: knowledge.QueryTerm("制冷", "制冷", group=1, position=2),
    knowledge.ImportResult: lambda: knowledge.ImportResult(created=("a",), updated=("b",)),
    knowledge.Synonyms: lambda: knowledge.Synonyms.from_dict(
        {"groups": [["空调", "冷气", "air conditioner"]]}
    ),
    knowledge.ReplyTemplate: lambda: knowledge.ReplyTemplate(
        "greeting",
        "zh",
        "{customer.name} 您好，工单 {ticket.id} 已受理。",
        actions=[{"do": "set_field", "name": "code", "value": ["a", {"b": 1}]}],
    ),
    knowledge.TemplateSet: lambda: knowledge.TemplateSet(
        [knowledge.ReplyTemplate("greeting", "en", "Hello {customer.name}")]
    ),
    knowledge.RateComparison: lambda: knowledge.RateComparison(
        "fcr", metrics.Rate(8, 10, name="fcr"), metrics.Rate(5, 10, name="fcr")
    ),
    knowledge.KnowledgeUsage: lambda: knowledge.KnowledgeUsage(
        tickets=20,
        usage=(("ac-not-cooling", 3),),
        assisted_resolution=metrics.Rate(3, 20, name="assisted"),
        fcr=knowledge.RateComparison(
            "fcr", metrics.Rate(8, 10, name="fcr"), metrics.Rate(5, 10, name="fcr")
        ),
        csat=knowledge.RateComparison(
            "csat", metrics.Rate(7, 8, name="csat"), metrics.Rate(5, 8, name="csat")
        ),
        never_used=("lock-battery",),
        past_review=(),
        problems_without_article=("P-1",),
    ),
    # ----------------------------------------------------------------- bounces, auto-replies
    channels.RecipientStatus: lambda: channels.RecipientStatus(
        recipient="wang@example.cn", action="failed", status="5.1.1", diagnostic="550 no such user"
    ),
    channels.DeliveryReport: lambda: channels.DeliveryReport(
        message=v.message(),
        recipients=(channels.RecipientStatus(recipient="wang@example.cn", action="failed"),),
        original_message_id="<m1@desk.example>",
        original_subject="工单 T-1",
    ),
    channels.AutoReply: lambda: channels.AutoReply(message=v.message(), reason="auto-submitted"),
    timeline.DeliveryFailed: lambda: timeline.DeliveryFailed(
        ticket_id="T-1",
        at=T0,
        channel="email",
        recipient="wang@example.cn",
        status="5.1.1",
        diagnostic="550 no such user",
        message_id="<m1@desk.example>",
    ),
    timeline.AutoReplyReceived: lambda: timeline.AutoReplyReceived(
        ticket_id="T-1",
        at=T0,
        channel="email",
        sender="wang@example.cn",
        reason="auto-submitted",
        subject="自动回复: 工单 T-1",
    ),
    # ----------------------------------------------------------------- webhooks, WeChat
    channels.Delivery: lambda: channels.Delivery(
        id="msg_1", timestamp=1_700_000_000, signature="v1,x"
    ),
    channels.FieldPath: lambda: channels.FieldPath("/issue/title", prefix="gh:", optional=True),
    channels.PayloadMapping: lambda: channels.PayloadMapping.from_dict(
        channels.MAPPING_EXAMPLES["github-issues"]
    ),
    channels.WebhookSignature: channels.WebhookSignature.standard,
    channels.WeChatMessage: lambda: channels.WeChatMessage(
        to_user="gh_1",
        open_id="oUser",
        create_time=1_700_000_000,
        msg_type="text",
        msg_id="123",
        fields={"Content": "空调不制冷"},
    ),
    channels.WeChatNotification: lambda: channels.WeChatNotification(to="oUser", text="您好"),
    # ----------------------------------------------------------------- automation
    automation.Action: lambda: v.rule_set().rules[0].actions[0],
    automation.ActionParameter: lambda: automation.ACTION_SPECS["transition"].parameters[1],
    automation.ActionSpec: lambda: automation.ACTION_SPECS["transition"],
    automation.Automation: lambda: automation.Automation(v.rule_set()),
    automation.Environment: lambda: automation.Environment(
        workflow=v.a_workflow(),
        router=v.router(),
        agents=v.agents(),
        routing_state=v.routing_state(),
        sla=v.policy_set(),
        calendar=v.calendar(),
        timezone=SH,
        customer={"id": "C-1", "name": "王芳", "region": "north", "tier": "gold"},
        assets=[{"serial": "SN-1", "model": "KFR-35GW", "warranty_until": "2027-05-31"}],
    ),
    automation.Notification: v.notification,
    automation.Outcome: lambda: automation.Outcome(
        events=v.events()[1:3],
        notifications=(v.notification(),),
        fired=("tag-urgent",),
        routing_state=v.routing_state(),
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
    automation.Rule: lambda: v.rule_set().rules[1],
    automation.RuleSet: v.rule_set,
    automation.Skipped: lambda: automation.Skipped("r", 0, "no agent", retry_at=T0),
    automation.TicketRequest: lambda: automation.TicketRequest(
        ticket_id="T-8",
        type="repair",
        subject="回访",
        fields={"a": [1, {"b": None}]},
        at=T0,
        chain=("r",),
    ),
    automation.TimeTrigger: lambda: v.rule_set().rules[1].time,
    automation.TimerIndex: lambda: v.timers(),
    # ----------------------------------------------------------------- channels
    channels.Attachment: lambda: v.message().attachments[0],
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
    channels.InboundMessage: v.message,
    channels.IntakeResult: lambda: channels.IntakeResult("created", "T-7", events=v.events()[:1]),
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
    customers.Asset: v.asset,
    customers.AssetView: lambda: customers.AssetView(v.asset(), v.warranty()),
    customers.AuditEntry: v.audit,
    customers.CustomerView: lambda: customers.CustomerView(
        customer=v.customer(),
        profile={"vip": True},
        merged_from=("c-9",),
        tickets=(customers.TicketView(v.summary(), sla=v.sla_report()),),
        surveys=(v.survey(),),
        assets=(customers.AssetView(v.asset(), v.warranty()),),
        history=(v.audit(),),
        now=T0,
    ),
    customers.SurveyRecord: v.survey,
    customers.TicketView: lambda: customers.TicketView(v.summary(), sla=v.sla_report()),
    customers.WarrantyStatus: v.warranty,
    # ----------------------------------------------------------------- desk
    desk.ChannelSpec: lambda: desk.ChannelSpec("sms", "sms-gateway", {"region": "cn"}),
    desk.DeskConfig: lambda: desk.DeskConfig.from_dict(
        {
            "types": {
                "repair": {
                    "workflow": "repair",
                    "sla": {"targets": {"first_response": {"goals": {"urgent": "2h"}}}},
                }
            }
        }
    ),
    desk.FeedbackStatus: lambda: desk.FeedbackStatus("T-7", "open", "处理中", (v.linked(),)),
    desk.LinkedStatus: v.linked,
    desk.TickResult: lambda: desk.TickResult(
        T0, woken=("T-7",), events=2, notifications=(v.notification(),)
    ),
    desk.TicketType: lambda: desk.TicketType("repair", v.a_workflow(), sla=v.policy_set()),
    # ----------------------------------------------------------------- metrics
    metrics.BacklogResult: lambda: metrics.backlog(
        [v.a_timeline()], T0 + timedelta(minutes=30), clock=v.calendar()
    ),
    metrics.ChurnResult: lambda: metrics.churn(["a", "b", "c"], ["b", "c", "d"]),
    metrics.DurationAccumulator: v.durations,
    metrics.ReportAccumulator: lambda: metrics.ReportAccumulator(
        ["tickets", "first_response_time", "csat"], by=["channel"], now="latest"
    ).update(v.a_timeline()),
    io.ColumnMapping: lambda: io.load_mapping("zendesk"),
    io.SkippedRow: lambda: io.SkippedRow("export.csv", 4, "export.csv:4: bad"),
    io.Export: lambda: io.Export(
        (v.a_timeline(),), (io.SkippedRow("e.jsonl", 2, "e.jsonl:2: not JSON"),), frozenset()
    ),
    io.ExportReport: lambda: io.ExportReport(
        metrics.report([v.a_timeline()], ["tickets"]), 1, (), T0, frozenset({"group"})
    ),
    metrics.DurationResult: lambda: v.durations().result(),
    metrics.FcrRule: lambda: metrics.no_reopen_within(7, business_day=timedelta(hours=8)),
    metrics.LtvResult: lambda: metrics.ltv(margin=100.0, retention=0.8, discount_rate=0.1),
    metrics.MeanAccumulator: lambda: v.accumulator(metrics.MeanAccumulator, [1, 2.5, 4]),
    metrics.MeanResult: lambda: v.accumulator(metrics.MeanAccumulator, [1, 2.5, 4]).result(),
    metrics.NpsAccumulator: lambda: metrics.NpsAccumulator().update_many([10, 9, 7, 3]),
    metrics.NpsComparison: lambda: metrics.compare([10, 9, 3, 7], [9, 5, 3, 9], paired=True),
    metrics.NpsResult: lambda: metrics.nps([10, 10, 9, 8, 7, 4]),
    metrics.ProportionAccumulator: lambda: v.accumulator(
        metrics.ProportionAccumulator, [True, False, True]
    ),
    metrics.QuantileAccumulator: v.quantiles,
    metrics.QuantileSummary: lambda: v.quantiles().result(),
    metrics.Rate: lambda: metrics.Rate(3, 4, name="fcr", skipped=1),
    metrics.RatingAccumulator: lambda: metrics.RatingAccumulator("csat").update_many([5, 4, 1]),
    metrics.RatingResult: lambda: metrics.csat([5, 4, 3, 1]),
    metrics.Survey: lambda: metrics.Survey(
        "after-repair", "csat", scale=(0, 10), convention="mean"
    ),
    metrics.RetentionUplift: lambda: metrics.retention_uplift(0.8, 0.85),
    metrics.RoiResult: lambda: metrics.roi(ltv_gain=1000.0, investment=400.0),
    metrics.Table: v.table,
    metrics.TicketMetrics: v.ticket_metrics,
    # ----------------------------------------------------------------- plugins
    plugins.CalendarRegistration: lambda: plugins.CalendarRegistration("cal", v.plugin_factory),
    plugins.InboundChannelRegistration: lambda: plugins.InboundChannelRegistration(
        "sms", v.plugin_factory
    ),
    plugins.OutboundChannelRegistration: lambda: plugins.OutboundChannelRegistration(
        "sms", v.plugin_factory
    ),
    plugins.PluginInfo: lambda: plugins.PluginInfo("memory", "builtin", version="1"),
    plugins.RoutingStrategyRegistration: lambda: plugins.RoutingStrategyRegistration(
        "mine", v.plugin_factory
    ),
    plugins.StoreBackend: lambda: plugins.StoreBackend("mem", v.plugin_factory),
    # ----------------------------------------------------------------- routing
    routing.Agent: lambda: v.agents()["wang"],
    routing.AgentPool: v.agents,
    routing.BestSkill: lambda: routing.BestSkill(),
    routing.CandidateVerdict: lambda: v.decision().candidates[0],
    routing.ChoiceContext: lambda: routing.ChoiceContext(
        ticket=v.a_ticket(), state=v.routing_state(), now=T0, channel="phone", skills=("hvac",)
    ),
    routing.Decision: v.decision,
    routing.EffectiveTarget: lambda: v.routing_rules().rules[0].at_step(1),
    routing.EscalationStep: v.escalation_step,
    routing.FairnessReport: lambda: routing.fairness_report(
        [v.decision()],
        now=T0 + timedelta(hours=1),
        agents=["wang", "chen"],
        state=v.routing_state(),
    ),
    routing.LeastLoaded: lambda: routing.LeastLoaded(),
    routing.MostSpareCapacity: lambda: routing.MostSpareCapacity(),
    routing.Pick: lambda: v.router().pick(v.a_ticket(), v.agents(), v.routing_state(), T0),
    routing.QueueEntry: lambda: routing.QueueEntry(
        ticket=v.a_ticket(),
        enqueued_at=T0,
        priority=v.a_ticket().priority,
        group="engineers",
        target=Condition.parse("agent.x"),
    ),
    routing.RoundRobin: lambda: routing.RoundRobin(),
    routing.Router: v.router,
    routing.RoutingRule: lambda: v.routing_rules().rules[0],
    routing.RoutingRules: v.routing_rules,
    routing.RoutingState: v.routing_state,
    routing.SeededRandom: lambda: routing.SeededRandom(seed=7),
    routing.Sticky: lambda: routing.Sticky(routing.LeastLoaded()),
    routing.TargetFilter: lambda: v.routing_rules().rules[0].at_step(0).filters[0],
    routing.WorkQueue: lambda: routing.WorkQueue(aging=timedelta(hours=1)).add(
        v.a_ticket(), at=T0, decision=v.decision()
    ),
    # ----------------------------------------------------------------- sla
    sla.BusinessCalendar: v.calendar,
    sla.SlaCrossing: lambda: sla.SlaCrossing("resolution", 1, 0.5, v.T0),
    sla.SlaCycle: lambda: v.sla_report().cycles[0],
    sla.SlaInstants: lambda: v.sla_report().instants(),
    sla.SlaPolicy: v.policy,
    sla.SlaPolicySet: v.policy_set,
    sla.SlaReport: v.sla_report,
    sla.SlaTarget: lambda: v.policy().target("resolution"),
    sla.SlaTracker: lambda: sla.SlaTracker(v.policy(), size=10),
    sla.SlaWarning: lambda: v.sla_report().current("resolution").warnings[0],
    # ----------------------------------------------------------------- storage
    storage.Change: lambda: storage.Change(
        position=7, ticket_id="T-1", version=2, kind="message_added"
    ),
    storage.Customer: v.customer,
    storage.Identity: lambda: storage.Identity("email", "li@example.com"),
    storage.TicketPage: lambda: storage.TicketPage((v.summary(),), "cursor-1"),
    storage.TicketSummary: v.summary,
    storage.CopyReport: lambda: storage.CopyReport(
        tickets=3, events=12, customers=2, skipped=1, checksum="ab" * 32
    ),
    storage.SlaDue: v.sla_due,
    # ----------------------------------------------------------------- timeline
    timeline.ActionFailed: lambda: timeline.ActionFailed(
        ticket_id="T-7", at=T0, rule="dispatch", action="transition", index=1, reason="refused"
    ),
    timeline.Assigned: lambda: v.events()[1],
    timeline.Escalated: lambda: timeline.Escalated(ticket_id="T-7", at=T0, level=2, reason="x"),
    timeline.FieldChanged: lambda: timeline.FieldChanged(
        ticket_id="T-7", at=T0, name="region", old=None, new={"a": [1, 2.5]}
    ),
    timeline.Linked: lambda: timeline.Linked(
        ticket_id="T-7", at=T0, relation="problem", other_ticket="P-1"
    ),
    timeline.MessageAdded: lambda: v.events()[2],
    timeline.StatusChanged: lambda: v.events()[3],
    timeline.SurveyAnswered: lambda: v.events()[4],
    timeline.Ticket: v.a_ticket,
    timeline.TicketCreated: lambda: v.events()[0],
    timeline.Timeline: v.a_timeline,
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
    workflow.FieldSpec: lambda: v.form().fields[0],
    workflow.FormResult: lambda: v.form().validate({"engineer": "e7", "count": 2}),
    workflow.FormSchema: lambda: v.form(),
    workflow.Migration: lambda: workflow.Migration(
        workflow="repair", from_version=1, to_version=2, status_map={"new": "triage"}
    ),
    workflow.MigrationPlan: lambda: workflow.MigrationPlan(
        moves=(v.move(),), skipped=(("T-8", "unknown state"),)
    ),
    workflow.PlannedMove: lambda: v.move(),
    workflow.Reason: lambda: workflow.Reason("role", "needs role engineer"),
    workflow.SeparationOfDuty: lambda: workflow.SeparationOfDuty(
        not_actor_of=("approve",), scope="any"
    ),
    workflow.State: lambda: v.a_workflow().states[0],
    workflow.TimedTransition: lambda: workflow.TimedTransition(
        state="solved", transition="close", after=timedelta(days=7), data={"reason": "auto"}
    ),
    workflow.Transition: lambda: v.a_workflow().transitions[0],
    workflow.TransitionContext: lambda: workflow.TransitionContext(
        workflow=v.a_workflow(),
        ticket=v.a_ticket(),
        transition=v.a_workflow().transitions[0],
        actor=workflow.Actor("li", {"agent"}),
        at=T0,
        data={"k": 1},
        verdict=v.verdict(),
    ),
    workflow.Verdict: v.verdict,
    workflow.Workflow: v.a_workflow,
    workflow.WorkflowRegistry: lambda: workflow.WorkflowRegistry([v.a_workflow()]),
    # ----------------------------------------------------------------- web
    web.ApiKey: lambda: web.ApiKey("kf", "0" * 64, "s1", frozenset({"agent"}), write=False),
    web.Dashboard: lambda: web.Dashboard(region="fields.city", due_within=timedelta(hours=2)),
    web.WebSettings: lambda: web.WebSettings(
        api_keys=(web.ApiKey("kf", "0" * 64, "s1"),),
        wechat={"token": "t"},
        hooks={"gh": {"signature": {"scheme": "github"}, "mapping": {}, "secrets": ["s"]}},
        cors_origins=("https://kf.example.cn",),
    ),
}


EQUAL_BY: dict[type[Any], Callable[[Any], Any]] = {
    # Engines built from a value, with caches but no value equality of their own: the
    # loaded one must be built from an equal value.
    automation.Automation: lambda engine: engine.rules,
    workflow.WorkflowRegistry: lambda registry: tuple(registry),
    sla.SlaTracker: lambda tracker: (tracker.policy, tracker._size),
    # Mergeable report state: equal when it reports the same table.
    metrics.ReportAccumulator: lambda accumulator: (accumulator.tickets, accumulator.result()),
    io.ColumnMapping: lambda mapping: (mapping.columns, mapping.values, mapping.name),
}
"""How to compare the classes that are engines rather than values."""

EXCLUDED: dict[type[Any], str] = {
    io.ExportReader: "a one-pass reader of an open file (live state)",
    knowledge.KnowledgeStore: "protocol",
    knowledge.KnowledgeBase: "composes a knowledge store and a search index (live state)",
    knowledge.MemoryKnowledgeStore: "a store: its content lives in the process",
    knowledge.SqliteKnowledgeStore: "a store: holds a database connection",
    knowledge.SearchIndex: "a live index kept current by its knowledge base",
    testing.KnowledgeStoreContract: "a pytest contract base class, not a value",
    channels.ReplayGuard: "live state: the keys seen in this process's time window",
    channels.WeChatChannel: "holds an HTTP sender and an access-token source (live resources)",
    channels.WeChatCrypto: "holds key material; rebuilt from configuration, never shipped",
    channels.WeChatParser: "an endpoint: holds secrets and a replay guard (live state)",
    channels.WeChatPlugin: "a plugin object registered in a PluginManager",
    channels.WebhookReceiver: "an endpoint: holds secrets and a replay guard (live state)",
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
    storage.CopyableRecords: "protocol",
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
    customers.PostgresCustomerRecords: "a store: a pool of open PostgreSQL connections",
    desk.ServiceDesk: "the composition root: stores, plugins, a clock",
    plugins.PluginManager: "loaded plugins and entry points of this process",
    routing.StrategyRegistry: "a mutable registry of factories (rebuild with default_registry)",
    storage.MemoryStore: "a store: its content lives in the process",
    storage.SqliteStore: "a store: an open SQLite connection",
    storage.PostgresStore: "a store: a pool of open PostgreSQL connections",
    # Test helpers and hook specifications.
    hookspecs.CsmkitSpecs: "hook specifications for pluggy",
    testing.CustomerRecordsContract: "a conformance test base",
    testing.CustomerStoreContract: "a conformance test base",
    testing.PluginContract: "a conformance test base",
    testing.StoreContract: "a conformance test base",
}
