"""Inbound messages through the intake, then the rules; the customer's 360° view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csmkit.channels import InboundMessage
from csmkit.customers import CustomerDirectory
from csmkit.desk import ServiceDesk, TicketType
from csmkit.plugins import PluginManager
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.storage import open_store


def test_receive_threads_resolves_and_runs_rules(kit: Any) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    store = open_store("memory://")
    directory = CustomerDirectory(store)
    directory.register("C-1", at=at, name="王芳", identities=["wechat:wxid_wf"])
    outbox = kit.Outbox()
    desk = ServiceDesk(
        store,
        types=[TicketType("repair", kit.repair_workflow(), SlaPolicy.from_dict(kit.SLA))],
        clock=lambda: at,
        plugins=PluginManager(load_entrypoints=False),
        calendar=BusinessCalendar.from_dict(kit.CALENDAR),
        rules={
            "rules": [
                {
                    "id": "ack",
                    "on": "message_in",
                    "actions": [
                        {
                            "do": "notify",
                            "channel": "sms",
                            "to": "{customer_id}",
                            "template": "已收到：{subject}",
                        }
                    ],
                }
            ]
        },
        channels={"sms": outbox},
        customers=directory,
        intake_type="repair",
    )
    message = InboundMessage(
        channel="wechat",
        external_id="wx-1",
        sender="wxid_wf",
        sender_kind="wechat",
        subject="空调不制冷",
        text="请上门",
        received_at=at,
    )
    first = desk.receive(message)
    assert first.outcome == "created" and first.customer_id == "C-1"
    assert [n.text for n in outbox.sent] == ["已收到：空调不制冷"]
    assert desk.receive(message).outcome == "duplicate"
    assert len(outbox.sent) == 1
    reply = InboundMessage(
        channel="wechat",
        external_id="wx-2",
        in_reply_to="wx-1",
        sender="wxid_wf",
        sender_kind="wechat",
        text="还在等",
        received_at=at,
    )
    assert desk.receive(reply).ticket_id == first.ticket_id
    kinds = [(e.kind, e.meta.get("rule")) for e in desk.timeline(first.ticket_id)]
    assert kinds == [
        ("created", None),
        ("message_added", None),
        ("message_added", "ack"),
        ("message_added", None),
        ("message_added", "ack"),
    ]
    view = desk.customer_view("C-1")
    (ticket_view,) = view.tickets
    assert ticket_view.summary.ticket_id == first.ticket_id
    assert ticket_view.sla is not None
