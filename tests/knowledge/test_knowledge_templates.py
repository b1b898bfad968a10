"""Reply templates: placeholders checked at definition time, filled safely, braces escaped."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.knowledge import ReplyTemplate, TemplateError, TemplateSet
from csmkit.timeline import Ticket, TicketCreated

AT = datetime(2026, 9, 30, 9, tzinfo=timezone.utc)


def _ticket() -> Ticket:
    return Ticket.created(
        TicketCreated(ticket_id="T-42", at=AT, type="repair", channel="phone", subject="空调不制冷")
    )


def test_placeholders_are_filled_from_ticket_customer_and_agent() -> None:
    template = ReplyTemplate(
        "ack",
        "zh",
        "{customer.name}您好，工单 {ticket.id}（{ticket.subject}，{ticket.priority}）"
        "由{agent.name}跟进。",
    )
    context = {"ticket": _ticket(), "customer": {"name": "王女士"}, "agent": {"name": "李工"}}
    assert template.render(context) == "王女士您好，工单 T-42（空调不制冷，normal）由李工跟进。"
    assert template.names == (
        "customer.name",
        "ticket.id",
        "ticket.subject",
        "ticket.priority",
        "agent.name",
    )


def test_unknown_and_invalid_placeholders_are_rejected_at_definition_time() -> None:
    with pytest.raises(TemplateError) as info:
        ReplyTemplate(
            "x", "en", "Hi {user.name} {ticket.id:>10} {ticket.fields[0]} { } { ticket.id"
        )
    assert len(info.value.problems) == 5
    assert "unknown placeholder {user.name}" in info.value.problems[0]
    assert "lone '{'" in info.value.problems[4]
    with pytest.raises(TemplateError, match="unknown placeholder"):
        ReplyTemplate("x", "en", "{ticket.fields.secret}", placeholders=["ticket.id", "customer.*"])
    assert ReplyTemplate("x", "en", "{ticket.id}", placeholders=["ticket.id"]).names == (
        "ticket.id",
    )


def test_braces_are_escaped_by_doubling() -> None:
    template = ReplyTemplate("json", "en", '{{"ticket": "{ticket.id}"}}')
    assert template.render({"ticket": {"id": "T-1"}}) == '{"ticket": "T-1"}'
    with pytest.raises(TemplateError, match="lone '}'"):
        ReplyTemplate("x", "en", "a } b")


def test_values_are_never_parsed_again() -> None:
    template = ReplyTemplate("x", "en", "Dear {customer.name}")
    assert template.render({"customer": {"name": "{ticket.id} {{"}}) == "Dear {ticket.id} {{"


def test_missing_and_unwritable_values_are_errors_not_blanks() -> None:
    template = ReplyTemplate("x", "en", "{customer.name} {ticket.fields} {agent.name}")
    with pytest.raises(TemplateError) as info:
        template.render({"ticket": _ticket(), "agent": {"name": "Li"}})
    assert info.value.problems == (
        "{customer.name}: no value",
        "{ticket.fields}: a FrozenMap cannot be written into a reply",
    )


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x", "language": "en"},
        {"name": "x", "language": "en", "body": "", "colour": 1},
        {"name": "has space", "language": "en", "body": ""},
        {"name": "x", "language": "English", "body": ""},
        {"name": "x", "language": "en", "body": "", "placeholders": ["a b"]},
        {"name": "x", "language": "en", "body": "x" * 20_001},
        {"name": "x", "language": "en", "body": "", "actions": {"do": "transition"}},
        {"name": "x", "language": "en", "body": "", "actions": [{"transition": "solve"}]},
        {"name": "x", "language": "en", "body": "", "actions": ["solve"]},
        {"name": "x", "language": "en", "body": "", "actions": [{"do": "x", "v": float("nan")}]},
    ],
)
def test_malformed_templates(data: dict[str, object]) -> None:
    with pytest.raises(TemplateError):
        ReplyTemplate.from_dict(data)


@given(
    name=st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
    language=st.sampled_from(["zh", "en", "zh-CN"]),
    pieces=st.lists(
        st.sampled_from(["{customer.name}", "{ticket.id}", "{{", "}}", "您好", " ", "text"]),
        max_size=8,
    ),
    actions=st.lists(
        st.one_of(
            st.builds(
                lambda name, value: {"do": "set_field", "name": name, "value": value},
                st.sampled_from(["resolution_code", "note"]),
                st.one_of(st.text(max_size=5), st.integers(), st.none(), st.lists(st.booleans())),
            ),
            st.sampled_from(["solve", "close"]).map(
                lambda t: {"do": "transition", "transition": t}
            ),
        ),
        max_size=3,
    ),
)
def test_template_round_trip(
    name: str, language: str, pieces: list[str], actions: list[dict[str, object]]
) -> None:
    template = ReplyTemplate(name, language, "".join(pieces), "标题", actions=actions)
    data = template.to_dict()
    assert data.get("actions", []) == actions
    again = ReplyTemplate.from_dict(json.loads(json.dumps(data)))
    assert again == template
    assert hash(again) == hash(template)
    assert again.render({"customer": {"name": "N"}, "ticket": {"id": "I"}}) == template.render(
        {"customer": {"name": "N"}, "ticket": {"id": "I"}}
    )


@given(st.text(max_size=40))
def test_escaped_text_renders_as_itself(text: str) -> None:
    escaped = text.replace("{", "{{").replace("}", "}}")
    assert ReplyTemplate("t", "en", escaped).render({}) == text


def test_template_set_languages_and_problems() -> None:
    data = {
        "templates": [
            {"name": "ack", "language": "zh", "body": "您好 {customer.name}"},
            {"name": "ack", "language": "en", "body": "Hello {customer.name}"},
        ]
    }
    templates = TemplateSet.from_dict(data)
    assert templates.get("ack", "zh-CN").language == "zh"
    assert templates.get("ack", "fr").language == "en"
    assert TemplateSet.from_dict(templates.to_dict()).to_dict() == templates.to_dict()
    with pytest.raises(TemplateError, match="no reply template 'nope'"):
        templates.get("nope", "zh")
    bad = {
        "templates": [
            *data["templates"],
            {"name": "x", "language": "en", "body": "{oops}"},
            data["templates"][0],
        ]
    }
    with pytest.raises(TemplateError) as info:
        TemplateSet.from_dict(bad)
    assert info.value.problems[0].startswith("templates[2]: position 0: unknown placeholder {oops}")
