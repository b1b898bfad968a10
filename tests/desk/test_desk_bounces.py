"""The desk records bounces and auto-replies on the ticket; rules see them, the
auto-acknowledgement does not answer them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from csmkit.channels import AutoReply, DeliveryReport, InboundMessage, RecipientStatus
from csmkit.desk import ServiceDesk, TicketType
from csmkit.plugins import PluginManager
from csmkit.storage import open_store
from csmkit.timeline import AutoReplyReceived, DeliveryFailed
from csmkit.workflow import Workflow, template_dict

RULES = {
    "rules": [
        {
            "id": "ack",
            "on": "message_in",
            "actions": [
                {"do": "notify", "channel": "sms", "to": "{customer_id}", "template": "已收到"}
            ],
        },
        {
            "id": "tell-the-agent",
            "on": "delivery_failed",
            "actions": [
                {
                    "do": "notify",
                    "channel": "sms",
                    "to": "agent-on-duty",
                    "template": "{ticket_id}: 邮件退信",
                }
            ],
        },
    ]
}


def _desk(kit: Any, at: datetime, outbox: Any) -> ServiceDesk:
    return ServiceDesk(
        open_store("memory://"),
        types=[TicketType("complaint", Workflow.from_dict(template_dict("complaint")))],
        clock=lambda: at,
        plugins=PluginManager(load_entrypoints=False),
        rules=RULES,
        channels={"sms": outbox},
        intake_type="complaint",
    )


def _mail(at: datetime, external_id: str, **extra: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": "email",
        "external_id": external_id,
        "sender": "wang@customer.example",
        "subject": "空调不制冷",
        "text": "请上门",
        "received_at": at,
    }
    values.update(extra)
    return InboundMessage(**values)


def test_auto_replies_are_recorded_and_not_acknowledged(kit: Any) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    outbox = kit.Outbox()
    desk = _desk(kit, at, outbox)
    first = desk.receive(_mail(at, "<m1@customer.example>"))
    assert first.outcome == "created" and len(outbox.sent) == 1  # the acknowledgement
    auto = AutoReply(
        message=_mail(
            at + timedelta(minutes=1),
            "<ooo@customer.example>",
            in_reply_to="<m1@customer.example>",
            subject="自动回复: 休假中",
        ),
        reason="subject '自动回复: 休假中'",
    )
    result = desk.receive(auto)
    assert result.outcome == "recorded" and result.ticket_id == first.ticket_id
    assert isinstance(result.events[0], AutoReplyReceived)
    assert len(outbox.sent) == 1  # never answered
    assert len(desk.store.find_tickets().items) == 1


def test_a_bounce_is_recorded_and_the_rules_see_it(kit: Any) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    outbox = kit.Outbox()
    desk = _desk(kit, at, outbox)
    first = desk.receive(_mail(at, "<m1@customer.example>"))
    report = DeliveryReport(
        message=_mail(
            at + timedelta(minutes=2),
            "<dsn-1@mx.example>",
            sender="mailer-daemon@mx.example",
            subject="Undelivered Mail Returned to Sender",
        ),
        recipients=(
            RecipientStatus(recipient="wang@customer.example", action="failed", status="5.1.1"),
        ),
        original_message_id="<m1@customer.example>",
    )
    result = desk.receive(report)
    assert result.outcome == "recorded" and result.ticket_id == first.ticket_id
    failed = [e for e in result.events if isinstance(e, DeliveryFailed)]
    assert [(e.recipient, e.status) for e in failed] == [("wang@customer.example", "5.1.1")]
    assert [n.to for n in outbox.sent][-1] == "agent-on-duty"
    assert len(outbox.sent) == 2
