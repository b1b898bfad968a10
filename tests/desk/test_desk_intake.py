"""Inbound messages through the intake, then the rules; the customer's 360° view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from csmkit.channels import InboundMessage
from csmkit.customers import CustomerDirectory
from csmkit.desk import ServiceDesk, TicketType
from csmkit.errors import AutomationError, StorageError
from csmkit.plugins import PluginManager
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.storage import TicketStore, open_store
from csmkit.workflow import Workflow, template_dict

ACK = {
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
}


def complaint() -> Workflow:
    """A workflow whose form an inbound message can satisfy (severity has a default)."""
    return Workflow.from_dict(template_dict("complaint"))


def _intake_desk(kit: Any, store: TicketStore, outbox: Any, at: datetime) -> ServiceDesk:
    return ServiceDesk(
        store,
        types=[TicketType("complaint", complaint())],
        clock=lambda: at,
        plugins=PluginManager(load_entrypoints=False),
        rules=ACK,
        channels={"sms": outbox},
        intake_type="complaint",
    )


def _message(at: datetime, external_id: str = "wx-1") -> InboundMessage:
    return InboundMessage(
        channel="wechat",
        external_id=external_id,
        sender="wxid_wf",
        sender_kind="wechat",
        subject="空调不制冷",
        text="请上门",
        received_at=at,
    )


def test_receive_threads_resolves_and_runs_rules(kit: Any) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    store = open_store("memory://")
    directory = CustomerDirectory(store)
    directory.register("C-1", at=at, name="王芳", identities=["wechat:wxid_wf"])
    outbox = kit.Outbox()
    desk = ServiceDesk(
        store,
        types=[TicketType("complaint", complaint(), SlaPolicy.from_dict(kit.SLA))],
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
        intake_type="complaint",
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
    # the ticket follows the intake type's workflow: name, version, form defaults
    ticket = desk.ticket(str(first.ticket_id))
    assert (ticket.workflow, ticket.workflow_version) == ("complaint", complaint().version)
    assert (ticket.status, dict(ticket.fields)) == ("new", {"severity": "minor"})
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


def test_intake_type_whose_form_needs_fields_is_refused(kit: Any) -> None:
    """A field the form requires and no transition requires cannot be left empty."""
    data = template_dict("repair")
    data["form"]["fields"].append({"name": "serial", "type": "text", "required": True})
    with pytest.raises(AutomationError, match="its form requires serial, which"):
        ServiceDesk(
            open_store("memory://"),
            types=[TicketType("repair", Workflow.from_dict(data))],
            clock=lambda: datetime(2026, 10, 15, tzinfo=kit.SH),
            intake_type="repair",
        )


@pytest.mark.parametrize("outcome", ["created", "appended"])
def test_message_and_rule_actions_are_one_batch(kit: Any, outcome: str) -> None:
    """A failing append stores neither the message nor the rules' actions; the retry
    stores both, once (there is no second append a crash could fall between)."""
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    store = open_store("memory://")
    outbox = kit.Outbox()
    desk = _intake_desk(kit, store, outbox, at)
    if outcome == "appended":
        desk.receive(_message(at, "wx-0"))
    appends: list[int] = []
    real_append = store.append

    def fail_once(ticket_id: str, events: Any, expected_version: int, **options: Any) -> int:
        appends.append(len(events))
        if len(appends) == 1:
            raise StorageError("disk full (simulated crash during the append)")
        return real_append(ticket_id, events, expected_version, **options)

    store.append = fail_once  # type: ignore[method-assign]
    sent = len(outbox.sent)
    message = _message(at) if outcome == "created" else _message(at, "wx-1")
    if outcome == "appended":
        message = InboundMessage(
            channel="wechat",
            external_id="wx-1",
            in_reply_to="wx-0",
            sender="wxid_wf",
            sender_kind="wechat",
            text="还在等",
            received_at=at,
        )
    with pytest.raises(StorageError):
        desk.receive(message)
    assert store.find_ticket_by_message_id("wx-1") is None  # nothing of it was stored
    assert len(outbox.sent) == sent
    result = desk.receive(message)
    assert result.outcome == outcome
    assert len(appends) == 2 and appends[-1] == len(result.events)
    rules = [e.meta.get("rule") for e in result.events]
    assert rules[-1] == "ack" and rules.count("ack") == 1
    assert len(outbox.sent) == sent + 1
    assert desk.receive(message).outcome == "duplicate"
    assert len(outbox.sent) == sent + 1
