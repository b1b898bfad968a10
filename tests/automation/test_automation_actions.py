"""The action table, templated parameters, the rule context and recorded refusals."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit._jsonvalue import thaw
from csmkit.automation import (
    ACTION_SPECS,
    ACTIONS,
    CONDITION_ROOTS,
    Automation,
    Environment,
    RuleSet,
)
from csmkit.automation._actions import reference_table
from csmkit.automation._params import MissingValue, resolve_template
from csmkit.automation._spec import PARAMETER_TYPES
from csmkit.errors import AutomationError
from csmkit.timeline import (
    ActionFailed,
    Assigned,
    FieldChanged,
    TicketCreated,
    Timeline,
)
from csmkit.workflow import Workflow, template_dict

T0 = datetime(2026, 10, 15, 9, 0, tzinfo=timezone.utc)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "automation.md"
NORTH = {"id": "C-1", "name": "王芳", "region": "north", "tier": 3}
ASSETS = [{"serial": "SN-1", "model": "KFR-35GW", "warranty_until": "2027-05-31"}]


def _created(**changes: Any) -> TicketCreated:
    data: dict[str, Any] = {
        "ticket_id": "T-1",
        "at": T0,
        "type": "repair",
        "channel": "phone",
        "customer_id": "C-1",
    }
    data.update(changes)
    return TicketCreated(**data)


def _react(
    actions: list[dict[str, Any]],
    *,
    env: Environment | None = None,
    when: str | None = None,
    events: list[Any] | None = None,
) -> Any:
    rule: dict[str, Any] = {"id": "r", "on": "created", "actions": actions}
    if when is not None:
        rule["when"] = when
    engine = Automation(RuleSet.from_dict({"rules": [rule]}))
    timeline = Timeline(events or [_created()])
    return engine.react(timeline, [timeline[0]], now=timeline.updated_at, env=env)


# ---------------------------------------------------------------------- the table
def test_actions_is_read_from_the_spec_table() -> None:
    assert set(ACTIONS) == set(ACTION_SPECS)
    for name, spec in ACTION_SPECS.items():
        assert spec.name == name
        assert ACTIONS[name] == (spec.required, spec.optional)
        assert spec.required.isdisjoint(spec.optional)
        assert all(p.type in PARAMETER_TYPES for p in spec.parameters)
        assert len({p.name for p in spec.parameters}) == len(spec.parameters)


def _docs_table() -> dict[str, list[str]]:
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("<!-- actions:start -->")[1].split("<!-- actions:end -->")[0]
    assert block.strip() == reference_table(), "regenerate the table: reference_table()"
    table: dict[str, list[str]] = {}
    current = ""
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        current = cells[0].strip("`") or current
        table.setdefault(current, []).append(cells[1].strip("`"))
    return table


def test_the_docs_reference_table_lists_exactly_the_spec_table() -> None:
    table = _docs_table()
    assert list(table) == list(ACTION_SPECS)
    for name, spec in ACTION_SPECS.items():
        assert table[name] == [p.name for p in spec.parameters]


def test_every_problem_of_an_action_is_reported_with_its_path() -> None:
    data = {
        "rules": [
            {"id": "ok", "on": "created", "actions": [{"do": "add_tags", "tags": ["x"]}]},
            {
                "id": "bad",
                "on": "created",
                "actions": [
                    {"do": "escalate", "level": 0, "group": ""},
                    {"do": "assign", "agent": 7, "team": "x"},
                    {"do": "send_survey", "survey": "5 stars", "template": "{oops}"},
                ],
            },
        ]
    }
    with pytest.raises(AutomationError) as info:
        RuleSet.from_dict(data)
    problems = info.value.problems
    for expected in [
        "rules[1] 'bad'.actions[0].level: 0 is not an integer >= 1",
        "rules[1] 'bad'.actions[0].group: '' is not a non-empty string",
        "rules[1] 'bad'.actions[1].agent: 7 is not a non-empty string",
        "rules[1] 'bad'.actions[1]: unknown parameter 'team' for assign",
        "rules[1] 'bad'.actions[2]: send_survey needs 'channel'",
        "rules[1] 'bad'.actions[2].survey: '5 stars' is not csat, nps, ces or a survey name",
        "rules[1] 'bad'.actions[2].template: template '{oops}': unknown placeholder {oops}",
    ]:
        assert any(p.startswith(expected) for p in problems), (expected, problems)


# ---------------------------------------------------------------------- templates at load
@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"do": "transition", "transition": "dispatch", "data": {"engineer": "{ticket.who}"}},
            "actions[0].data: placeholder {ticket.who}: 'ticket.who': a ticket has no "
            "attribute 'who'",
        ),
        (
            {"do": "set_field", "name": "region", "value": "{client.region}"},
            "actions[0].value: placeholder {client.region}: unknown name 'client.region'",
        ),
        (
            {"do": "set_field", "name": "region", "value": "{fields.regoin}"},
            "unknown field 'regoin'",
        ),
        ({"do": "assign", "agent": "{stats.calls}"}, "'stats.calls': stats are"),
        ({"do": "assign", "group": "{customer.region!r}"}, "may not have a conversion"),
        ({"do": "assign", "group": "{customer.region"}, "write {{ and }} for braces"),
        ({"do": "assign", "group": "{assets[0]}"}, "is not a dotted name"),
        ({"do": "assign", "group": "{assets.serial}"}, "assets is a list"),
        ({"do": "assign", "group": "{ticket}"}, "name a ticket attribute"),
        ({"do": "set_priority", "value": "very {customer.tier}"}, "is not a priority"),
    ],
)
def test_unknown_template_names_are_refused_at_load(action: dict[str, Any], message: str) -> None:
    data = {"rules": [{"id": "r", "on": "created", "actions": [action]}]}
    with pytest.raises(AutomationError) as info:
        RuleSet.from_dict(data, fields={"region", "engineer"})
    assert any(message in p for p in info.value.problems), info.value.problems


def test_template_names_follow_the_condition_roots() -> None:
    assert {"customer", "assets"} <= CONDITION_ROOTS
    actions = [
        {"do": "set_field", "name": "region", "value": "{customer.region}"},
        {"do": "assign", "agent": "{ticket.assignee}", "group": "{fields.region}-team"},
        {"do": "transition", "transition": "dispatch", "data": {"engineer": "{ticket.assignee}"}},
        {"do": "escalate", "reason": "{{literal}} {event.kind}"},
    ]
    rules = RuleSet.from_dict(
        {"rules": [{"id": "r", "on": "created", "actions": actions}]},
        fields={"region", "engineer"},
    )
    assert RuleSet.from_dict(rules.to_dict()) == rules


# ---------------------------------------------------------------------- templates at run time
def test_a_whole_placeholder_keeps_its_type_and_text_is_formatted() -> None:
    outcome = _react(
        [
            {"do": "set_field", "name": "tier", "value": "{customer.tier}"},
            {"do": "set_field", "name": "label", "value": "T{customer.tier} {{x}} {customer.name}"},
            {"do": "set_field", "name": "devices", "value": "{assets}"},
        ],
        env=Environment(customer=NORTH, assets=ASSETS),
    )
    changes = {e.name: e.new for e in outcome.events if isinstance(e, FieldChanged)}
    assert changes["tier"] == 3
    assert changes["label"] == "T3 {x} 王芳"
    assert thaw(changes["devices"]) == ASSETS


def _repair_dispatched_by_the_system() -> Workflow:
    data = template_dict("repair")
    for transition in data["transitions"]:
        if transition["name"] == "dispatch":
            transition["roles"] = [*transition["roles"], "system"]
    return Workflow.from_dict(data)


def test_fire_passes_the_routed_engineer_on() -> None:
    workflow = _repair_dispatched_by_the_system()
    created = _created(
        fields={"address": "上海", "contact_phone": "+8613800138000"},
        workflow=workflow.name,
        workflow_version=workflow.version,
    )
    assigned = Assigned(ticket_id="T-1", at=T0, agent="li", actor="router")
    engine = Automation(
        RuleSet.from_dict(
            {
                "rules": [
                    {
                        "id": "auto-dispatch",
                        "on": "assigned",
                        "actions": [
                            {
                                "do": "transition",
                                "transition": "dispatch",
                                "data": {"engineer": "{ticket.assignee}"},
                            }
                        ],
                    }
                ]
            }
        )
    )
    timeline = Timeline([created, assigned])
    outcome = engine.react(timeline, [assigned], now=T0, env=Environment(workflow=workflow))
    final = timeline.append(*outcome.events).ticket
    assert (final.status, final.fields["engineer"]) == ("dispatched", "li")


def test_a_missing_value_refuses_the_action_and_records_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="csmkit.automation"):
        outcome = _react(
            [
                {"do": "set_field", "name": "region", "value": "{customer.region}"},
                {"do": "add_tags", "tags": ["seen"]},
            ]
        )
    failed, tagged = outcome.events
    assert isinstance(failed, ActionFailed) and isinstance(tagged, FieldChanged)
    assert (failed.rule, failed.action, failed.index) == ("r", "set_field", 0)
    assert failed.reason == "value: {customer.region} has no value"
    assert dict(failed.meta) == {"rule": "r"} and failed.actor == "system"
    assert outcome.skipped[0].reason == failed.reason
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("INFO", "ticket T-1: rule r fired on created") in messages
    assert (
        "WARNING",
        "ticket T-1: rule r action 0 (set_field) refused: value: {customer.region} has no value",
    ) in messages


def test_a_resolved_value_of_the_wrong_type_is_refused() -> None:
    outcome = _react(
        [{"do": "set_priority", "value": "{customer.tier}"}],
        env=Environment(customer=NORTH),
    )
    (failed,) = outcome.events
    assert isinstance(failed, ActionFailed)
    assert failed.reason.startswith("value: 3 is not a priority")


def test_a_refused_transition_is_recorded_on_the_timeline() -> None:
    workflow = _repair_dispatched_by_the_system()
    created = _created(workflow=workflow.name, workflow_version=workflow.version)
    outcome = _react(
        [{"do": "transition", "transition": "dispatch"}],
        env=Environment(workflow=workflow),
        events=[created],
    )
    (failed,) = outcome.events
    assert isinstance(failed, ActionFailed) and failed.action == "transition"
    assert "engineer" in failed.reason
    Timeline([created, failed])


def test_a_refused_time_rule_is_recorded_once() -> None:
    engine = Automation(
        RuleSet.from_dict(
            {
                "rules": [
                    {
                        "id": "late",
                        "on": {"after": "1h", "since": "created"},
                        "actions": [{"do": "assign", "group": "{customer.region}"}],
                    }
                ]
            }
        )
    )
    timeline = Timeline([_created()])
    first = engine.wake(timeline, now=T0 + timedelta(hours=2))
    (failed,) = first.events
    assert isinstance(failed, ActionFailed) and failed.at == T0 + timedelta(hours=1)
    assert failed.meta["rule"] == "late" and "anchor" in failed.meta
    again = timeline.append(*first.events)
    assert engine.wake(again, now=T0 + timedelta(hours=3)).events == ()
    assert engine.next_wakeup(again, now=T0 + timedelta(hours=3)) is None


def test_escalating_to_the_current_level_is_no_failure() -> None:
    outcome = _react([{"do": "escalate", "level": 1}, {"do": "escalate", "level": 1}])
    assert [e.kind for e in outcome.events] == ["escalated"]
    assert outcome.skipped[0].reason == "already at escalation level 1"


# ---------------------------------------------------------------------- the context
def test_customer_and_assets_are_in_the_condition_context() -> None:
    env = Environment(customer=NORTH, assets=ASSETS)
    when = 'customer.region == "north" and customer.tier >= 3 and len(assets) == 1'
    outcome = _react([{"do": "add_tags", "tags": ["north"]}], env=env, when=when)
    assert [e.kind for e in outcome.events] == ["field_changed"]
    east = Environment(customer={**NORTH, "region": "east"}, assets=ASSETS)
    assert _react([{"do": "add_tags", "tags": ["north"]}], env=east, when=when).events == ()
    assert _react([{"do": "add_tags", "tags": ["north"]}], when=when).events == ()


def test_a_skipped_rule_is_logged_with_the_ticket(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="csmkit.automation"):
        _react([{"do": "add_tags", "tags": ["x"]}], when='customer.region == "north"')
    assert "ticket T-1: rule r skipped on created (condition false)" in caplog.messages


def test_the_package_logger_is_silent_unless_configured() -> None:
    handlers = logging.getLogger("csmkit").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


# ---------------------------------------------------------------------- properties
plain_text = st.text(st.characters(blacklist_characters="{}", blacklist_categories=["Cs"]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    plain_text,
    st.lists(st.integers(), max_size=3),
)


@given(st.text(st.characters(blacklist_categories=["Cs"])))
def test_escaped_text_resolves_to_itself(text: str) -> None:
    escaped = text.replace("{", "{{").replace("}", "}}")
    assert resolve_template(escaped, {}) == text


@given(scalars, plain_text, plain_text)
def test_whole_placeholders_keep_values_and_text_formats_them(
    value: Any, before: str, after: str
) -> None:
    context = {"customer": {"x": value}}
    if value is None:
        with pytest.raises(MissingValue):
            resolve_template("{customer.x}", context)
        return
    assert resolve_template("{customer.x}", context) == value
    inside = resolve_template(f"{before}{{customer.x}}{after}", context)
    if before or after:
        assert isinstance(inside, str) and inside.startswith(before) and inside.endswith(after)


def test_resolution_never_reaches_private_or_callable_attributes() -> None:
    created = _created()
    context = {"ticket": Timeline([created]).ticket}
    for name in ("ticket.__class__", "ticket.apply", "ticket._replace"):
        with pytest.raises(MissingValue):
            resolve_template("{" + name + "}", context)
    assert re.fullmatch(r"T-1", resolve_template("{ticket.id}", context))


@pytest.mark.parametrize(
    ("rule", "reads"),
    [
        ({"when": 'ticket.priority == "urgent"', "actions": [{"do": "assign"}]}, False),
        ({"when": 'customer.tier == "gold"', "actions": [{"do": "assign"}]}, True),
        ({"when": "len(assets) > 0", "actions": [{"do": "assign"}]}, True),
        ({"actions": [{"do": "assign", "group": "{customer.region}"}]}, True),
        ({"actions": [{"do": "assign", "group": "{{customer.region}}"}]}, False),
    ],
)
def test_the_engine_knows_whether_rules_read_the_customer(
    rule: dict[str, Any], reads: bool
) -> None:
    data = {"rules": [{"id": "r", "on": "created", **rule}]}
    assert Automation(RuleSet.from_dict(data)).reads_customer is reads


def test_values_the_timeline_refuses_are_refused_actions_not_crashes() -> None:
    workflow = _repair_dispatched_by_the_system()
    created = _created(workflow=workflow.name, workflow_version=workflow.version)
    outcome = _react(
        [
            {"do": "set_field", "name": "priority", "value": "{customer.tier}"},
            {"do": "transition", "transition": "no-such-move"},
            {"do": "add_tags", "tags": ["still-runs"]},
        ],
        env=Environment(workflow=workflow, customer=NORTH),
        events=[created],
    )
    first, second, tagged = outcome.events
    assert isinstance(first, ActionFailed) and first.reason.startswith("priority: ")
    assert isinstance(second, ActionFailed) and "no-such-move" in second.reason
    assert isinstance(tagged, FieldChanged) and tagged.new == ("still-runs",)


def test_a_stopped_time_rule_is_recorded_once() -> None:
    tags = [{"do": "add_tags", "tags": [t]} for t in "xyz"]
    engine = Automation(
        RuleSet.from_dict(
            {
                "max_actions": 2,
                "rules": [
                    {"id": "late", "on": {"after": "1h", "since": "created"}, "actions": tags}
                ],
            }
        )
    )
    timeline = Timeline([_created()])
    (failed,) = engine.wake(timeline, now=T0 + timedelta(hours=2)).events
    assert isinstance(failed, ActionFailed) and "more than 2 chained actions" in failed.reason
    assert (failed.rule, failed.index, failed.meta["rule"]) == ("late", 2, "late")
    assert engine.wake(timeline.append(failed), now=T0 + timedelta(hours=3)).events == ()


def test_send_survey_names_a_kind_or_a_declared_survey() -> None:
    def rules(survey: object) -> dict[str, Any]:
        action = {"do": "send_survey", "survey": survey, "channel": "sms", "template": "?"}
        return {"rules": [{"id": "ask", "on": "created", "actions": [action]}]}

    for name in ("csat", "after-repair", "v2.post_sale"):
        RuleSet.from_dict(rules(name))  # any name is fine without the declared ones
    for bad in ("", "5 stars", 5, "x" * 101):
        with pytest.raises(AutomationError, match=r"actions\[0\]\.survey"):
            RuleSet.from_dict(rules(bad))
    declared = {"after-repair"}
    RuleSet.from_dict(rules("nps"), surveys=declared)
    RuleSet.from_dict(rules("after-repair"), surveys=declared).check(surveys=declared)
    ruleset = RuleSet.from_dict(rules("after-sale"))
    assert ruleset.problems(surveys=declared) == [
        "rules[0] 'ask'.actions[0].survey: 'after-sale' is neither csat, nps, ces nor a "
        "declared survey (declared: after-repair)"
    ]
    with pytest.raises(AutomationError, match="'after-sale' is neither"):
        ruleset.check(surveys=declared)
    ruleset.check(surveys=None)  # not checked
