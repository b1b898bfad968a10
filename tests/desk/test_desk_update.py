"""desk.update: fields checked by the type's form, FieldChanged events, rules run; every
built-in template works as the intake type (fields a later transition requires may be
empty until then)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from csmkit.channels import InboundMessage
from csmkit.desk import ServiceDesk, TicketType
from csmkit.errors import AutomationError, TransitionNotAllowed, WorkflowError
from csmkit.storage import open_store
from csmkit.timeline import FieldChanged
from csmkit.workflow import TEMPLATE_NAMES, Actor, template


def _message(at: datetime, external_id: str = "wx-1") -> InboundMessage:
    return InboundMessage(
        channel="wechat",
        external_id=external_id,
        sender="wxid_u1",
        sender_kind="wechat",
        subject="空调不制冷",
        text="请上门",
        received_at=at,
    )


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_built_in_template_is_an_intake_type(kit: Any, name: str) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    desk = ServiceDesk(
        open_store("memory://"),
        types=[TicketType(name, template(name))],
        clock=lambda: at,
        intake_type=name,
    )
    result = desk.receive(_message(at))
    assert result.ticket_id is not None
    ticket = desk.ticket(result.ticket_id)
    form = template(name).form
    assert form is not None
    defaults = {spec.name: spec.default for spec in form.fields if spec.default is not None}
    assert (ticket.type, ticket.status, dict(ticket.fields)) == (name, "new", defaults)


def _repair_desk(kit: Any, clock: Any, rules: dict[str, Any] | None = None) -> ServiceDesk:
    return ServiceDesk(
        open_store("memory://"),
        types=[TicketType("repair", kit.repair_workflow())],
        clock=clock,
        rules=rules,
        intake_type="repair",
    )


def test_a_deferred_field_is_required_by_its_transition(kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    desk = _repair_desk(kit, clock)
    ticket_id = desk.receive(_message(clock.now)).ticket_id
    assert ticket_id is not None
    dispatcher = Actor("d1", {"dispatcher"})
    with pytest.raises(TransitionNotAllowed, match="address"):
        desk.transition(ticket_id, "dispatch", actor=dispatcher, data={"engineer": "wang"})
    desk.update(ticket_id, fields={"address": "上海市浦东新区", "contact_phone": "13800138000"})
    ticket = desk.transition(ticket_id, "dispatch", actor=dispatcher, data={"engineer": "wang"})
    assert ticket.status == "dispatched"
    # open_ticket (an agent with the customer on the phone) still needs them at once
    with pytest.raises(WorkflowError, match="address: a value is required"):
        desk.open_ticket("repair", channel="phone", fields={"region": "east"})


def test_update_records_field_changes_and_runs_the_rules(kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    rules = {
        "rules": [
            {
                "id": "tag-east",
                "on": "field_changed",
                "when": 'ticket.fields.region == "east"',
                "actions": [{"do": "add_tags", "tags": ["east"]}],
            }
        ]
    }
    desk = _repair_desk(kit, clock, rules)
    ticket_id = desk.receive(_message(clock.now)).ticket_id
    assert ticket_id is not None
    at = datetime(2026, 10, 15, 10, 7, tzinfo=kit.SH)
    ticket = desk.update(
        ticket_id, fields={"region": "east", "symptom": "不制冷"}, actor="kf1", at=at
    )
    assert ticket.fields["region"] == "east" and ticket.tags == ("east",)
    changes = [e for e in desk.timeline(ticket_id) if isinstance(e, FieldChanged)]
    assert [(e.name, e.old, e.new, e.actor, e.at) for e in changes[:2]] == [
        ("region", None, "east", "kf1", at),
        ("symptom", None, "不制冷", "kf1", at),
    ]
    assert changes[2].meta["rule"] == "tag-east"
    # the same values again record nothing; None clears an optional field
    version = len(desk.timeline(ticket_id))
    desk.update(ticket_id, fields={"region": "east"})
    assert len(desk.timeline(ticket_id)) == version
    assert "symptom" not in desk.update(ticket_id, fields={"symptom": None}).fields


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"regoin": "east"}, "regoin: is not a field of the form of type 'repair'"),
        ({"region": "west"}, "region: 'west' is not one of"),
        ({"appointment": "tomorrow"}, "appointment:"),
        ({"region": ["east"]}, "region:"),
        ({"priority": "urgent"}, "priority: is a ticket attribute, not a form field"),
        ({"status": "closed"}, "status: is a ticket attribute"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_written(
    kit: Any, fields: dict[str, Any], message: str
) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    desk = _repair_desk(kit, clock)
    ticket_id = desk.receive(_message(clock.now)).ticket_id
    assert ticket_id is not None
    before = len(desk.timeline(ticket_id))
    with pytest.raises(WorkflowError) as caught:
        desk.update(ticket_id, fields=fields)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems
    assert len(desk.timeline(ticket_id)) == before


def test_update_arguments_are_checked(kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    desk = _repair_desk(kit, clock)
    ticket_id = desk.receive(_message(clock.now)).ticket_id
    assert ticket_id is not None
    with pytest.raises(WorkflowError, match="non-empty mapping"):
        desk.update(ticket_id, fields={})
    with pytest.raises(AutomationError, match="at"):
        desk.update(ticket_id, fields={"region": "east"}, at=datetime(2026, 10, 15, 10, 5))
    # a deferred field may be cleared before its transition, not after it
    fields = {"address": "上海市浦东新区", "contact_phone": "13800138000"}
    desk.update(ticket_id, fields=fields)
    assert "address" not in desk.update(ticket_id, fields={"address": None}).fields
    desk.update(ticket_id, fields=fields)
    desk.transition(
        ticket_id, "dispatch", actor=Actor("d1", {"dispatcher"}), data={"engineer": "wang"}
    )
    with pytest.raises(WorkflowError) as caught:
        desk.update(ticket_id, fields={"address": None})
    assert caught.value.problems == ("address: a value is required",)


def test_a_type_without_a_form_takes_any_json_field(kit: Any) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    free = template("consultation")
    free = type(free).from_dict({k: v for k, v in free.to_dict().items() if k != "form"})
    desk = ServiceDesk(
        open_store("memory://"),
        types=[TicketType("question", free)],
        clock=lambda: at,
        intake_type="question",
    )
    ticket_id = desk.receive(_message(at)).ticket_id
    assert ticket_id is not None
    assert desk.update(ticket_id, fields={"anything": [1, "two"]}).fields["anything"] == (1, "two")
    with pytest.raises(WorkflowError, match="ticket attribute"):
        desk.update(ticket_id, fields={"assignee": "wang"})
