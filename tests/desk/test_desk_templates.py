"""desk.reply(template=...): rendered with ticket, customer and agent; the template's actions
applied in the reply's one commit (all or nothing); invalid actions refused when the desk is
built, every problem with its path."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from csmkit.customers import CustomerDirectory
from csmkit.desk import DeskConfig, ServiceDesk, TicketType, config_schema
from csmkit.errors import AutomationError, TransitionNotAllowed, WorkflowError
from csmkit.knowledge import ReplyTemplate, TemplateError, TemplateSet
from csmkit.routing import Agent, AgentPool
from csmkit.storage import open_store
from csmkit.timeline import Direction, FieldChanged, MessageAdded, StatusChanged
from csmkit.workflow import Actor, template

AT = datetime(2026, 10, 15, 2, 0, tzinfo=timezone.utc)
AGENT = Actor("li.wei", {"agent"})

ANSWER = {
    "name": "billing-answer",
    "language": "zh",
    "body": "{customer.name}您好，工单 {ticket.id} 已答复。客服 {agent.name}",
    "actions": [
        {"do": "set_field", "name": "answer_summary", "value": "账单已更正"},
        {"do": "transition", "transition": "answer"},
    ],
}


def _desk(templates: Any, *, customers: bool = True, agents: AgentPool | None = None) -> Any:
    store = open_store("memory://")
    directory = CustomerDirectory(store) if customers else None
    desk = ServiceDesk(
        store,
        types=[TicketType("consultation", template("consultation"))],
        clock=lambda: AT,
        customers=directory,
        agents=agents,
        templates=templates,
    )
    if directory is not None:
        directory.register("c-1", at=AT, name="王女士", profile={"language": "zh"})
    return desk


def _open(desk: Any, **fields: Any) -> str:
    ticket = desk.open_ticket(
        "consultation",
        channel="wechat",
        customer_id="c-1",
        subject="账单疑问",
        fields={"topic": "billing", **fields},
        ticket_id="T-1",
    )
    return str(ticket.id)


def test_reply_renders_customer_and_agent_and_applies_actions_in_one_batch() -> None:
    pool = AgentPool([Agent(id="li.wei", name="李伟")])
    desk = _desk({"templates": [ANSWER]}, agents=pool)
    ticket_id = _open(desk)
    before = desk.store.version(ticket_id)
    ticket = desk.reply(ticket_id, template="billing-answer", author="li.wei", actor=AGENT)
    assert ticket.status == "answered"
    assert ticket.fields["answer_summary"] == "账单已更正"
    new = desk.timeline(ticket_id).events[before:]
    assert [type(e) for e in new[:3]] == [MessageAdded, FieldChanged, StatusChanged]
    message = new[0]
    assert isinstance(message, MessageAdded)
    assert message.direction is Direction.OUTBOUND and message.author == "li.wei"
    assert dict(message.meta) == {
        "body": "王女士您好，工单 T-1 已答复。客服 李伟",
        "template": "billing-answer",
        "language": "zh",
    }
    assert message.body_ref is None
    assert len({e.at for e in new}) == 1


def test_language_and_agent_name_are_chosen_explicitly_or_fall_back() -> None:
    english = {**ANSWER, "language": "en", "body": "Dear {customer.name}, from {agent.name}"}
    desk = _desk({"templates": [ANSWER, english]})
    ticket_id = _open(desk)
    desk.reply(ticket_id, template="billing-answer", language="en-GB", author="li.wei", actor=AGENT)
    message = next(e for e in desk.timeline(ticket_id).events if isinstance(e, MessageAdded))
    assert message.meta["body"] == "Dear 王女士, from li.wei"
    assert message.meta["language"] == "en"


def test_a_refused_transition_writes_nothing() -> None:
    desk = _desk({"templates": [ANSWER]})
    ticket_id = _open(desk)
    before = desk.timeline(ticket_id).events
    with pytest.raises(TransitionNotAllowed):  # the agent role is missing
        desk.reply(ticket_id, template="billing-answer", author="li.wei")
    # neither the message nor the field set before the refused transition was written
    assert desk.timeline(ticket_id).events == before
    assert "answer_summary" not in desk.ticket(ticket_id).fields


def test_a_field_the_form_refuses_writes_nothing() -> None:
    bad = {**ANSWER, "actions": [{"do": "set_field", "name": "topic", "value": "weather"}]}
    desk = _desk({"templates": [bad]})
    ticket_id = _open(desk)
    before = desk.timeline(ticket_id).events
    with pytest.raises(WorkflowError, match=r"template 'billing-answer' \(zh\) actions\[0\]"):
        desk.reply(ticket_id, template="billing-answer", author="li.wei", actor=AGENT)
    assert desk.timeline(ticket_id).events == before


def test_a_missing_placeholder_value_writes_nothing() -> None:
    desk = _desk(TemplateSet([ReplyTemplate.from_dict(ANSWER)]), customers=False)
    ticket_id = _open(desk)
    before = desk.timeline(ticket_id).events
    with pytest.raises(TemplateError, match="cannot be filled") as info:
        desk.reply(ticket_id, template="billing-answer", language="zh", author="li.wei")
    assert info.value.problems == ("{customer.name}: no value",)
    assert desk.timeline(ticket_id).events == before
    with pytest.raises(TemplateError, match="no reply template 'nope'"):
        desk.reply(ticket_id, template="nope", language="zh", author="li.wei")
    with pytest.raises(TemplateError, match="not both"):
        desk.reply(ticket_id, template="billing-answer", body_ref="x", author="li.wei")
    assert desk.timeline(ticket_id).events == before


def test_invalid_template_actions_are_refused_with_paths_when_the_desk_is_built() -> None:
    actions = [
        {"do": "transition", "transition": "solve"},
        {"do": "explode"},
        {"do": "notify", "channel": "sms", "to": "x", "template": "hi"},
        {"do": "set_field", "name": "colour", "value": 1},
        {"do": "set_field", "name": "status", "value": "closed"},
        {"do": "set_field", "value": 1, "extra": True},
        {"do": "set_field", "name": "topic", "value": "{fields.topic}"},
        {"do": "transition", "transition": "answer", "data": []},
    ]
    data = {"templates": [{**ANSWER, "name": "ac-not-cooling", "actions": actions}]}
    with pytest.raises(AutomationError) as info:
        _desk(data)
    where = "templates['ac-not-cooling'/zh].actions"
    assert list(info.value.problems) == [
        f"{where}[0].transition: no workflow has a transition 'solve'",
        f"{where}[1].do: unknown action 'explode'; use one of " + ", ".join(_action_names()),
        f"{where}[2].do: 'notify' cannot run with a reply; a template may set_field or transition",
        f"{where}[3].name: no ticket type's form has a field 'colour'",
        f"{where}[4].name: 'status' is a ticket attribute; a reply template sets form fields only",
        f"{where}[5]: set_field needs 'name'",
        f"{where}[5]: unknown parameter 'extra' for set_field",
        f"{where}[6].value: placeholders are not filled in a template's actions (write the "
        "value itself)",
        f"{where}[7].data: must be a dict",
    ]


def test_a_malformed_template_set_is_refused_with_its_path() -> None:
    with pytest.raises(AutomationError) as info:
        _desk({"templates": [{**ANSWER, "actions": [{"transition": "answer"}]}]})
    assert list(info.value.problems) == [
        "templates.templates[0]: actions[0].do: must name an action, got None",
    ]
    with pytest.raises(AutomationError, match="expected a TemplateSet"):
        _desk(["not", "a", "set"])


def test_templates_without_actions_need_no_workflow_knowledge() -> None:
    desk = _desk({"templates": [{**ANSWER, "actions": []}]})
    ticket_id = _open(desk)
    ticket = desk.reply(ticket_id, template="billing-answer", author="li.wei")
    assert ticket.status == "new"
    assert len(desk.templates) == 1


def _action_names() -> list[str]:
    from csmkit.automation import ACTION_SPECS

    return list(ACTION_SPECS)


CONFIG: dict[str, Any] = {
    "types": {"consultation": {"workflow": "consultation"}},
    "templates": [ANSWER, {"name": "hello", "language": "en", "body": "Hi {customer.name}"}],
}


def test_templates_in_the_desk_config_round_trip_and_follow_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    config = DeskConfig.from_dict(CONFIG)
    assert config.to_dict()["templates"] == CONFIG["templates"]
    again = DeskConfig.from_dict(config.to_dict())
    assert again == config and again.templates == config.templates
    jsonschema.validate(CONFIG, config_schema())
    assert "reply templates: billing-answer/zh, hello/en" in config.summary()
    store = open_store("memory://")
    directory = CustomerDirectory(store)
    directory.register("c-1", at=AT, name="王女士")
    desk = ServiceDesk.from_config(CONFIG, store=store, clock=lambda: AT, customers=directory)
    assert desk.templates == config.templates
    _open(desk)
    ticket = desk.reply(
        "T-1", template="billing-answer", language="zh", author="li.wei", actor=AGENT
    )
    assert (ticket.status, ticket.fields["answer_summary"]) == ("answered", "账单已更正")


def test_bad_template_actions_in_the_desk_config_are_reported_with_paths() -> None:
    bad = {**ANSWER, "actions": [{"do": "transition", "transition": "solve"}]}
    with pytest.raises(AutomationError) as info:
        DeskConfig.from_dict({**CONFIG, "templates": [bad, {"name": "x", "language": "en"}]})
    assert list(info.value.problems) == ["templates[1]: missing key 'body'"]
    with pytest.raises(AutomationError) as info:
        DeskConfig.from_dict({**CONFIG, "templates": [bad]})
    assert list(info.value.problems) == [
        "templates['billing-answer'/zh].actions[0].transition: no workflow has a transition 'solve'"
    ]
