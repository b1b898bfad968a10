"""FormSchema: field types, rules, conditions, all errors at once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import WorkflowError
from csmkit.workflow import FIELD_TYPES, FieldSpec, FormSchema


def form(*fields: dict[str, Any]) -> FormSchema:
    return FormSchema.from_dict({"fields": list(fields)})


@pytest.mark.parametrize(
    ("spec", "good", "bad", "code"),
    [
        ({"type": "text"}, "上门维修", "two\nlines", "type"),
        ({"type": "text", "min": 2, "max": 4}, "abc", "abcde", "max"),
        ({"type": "text", "min": 2}, "ab", "a", "min"),
        ({"type": "long_text"}, "line1\nline2", 5, "type"),
        ({"type": "text", "pattern": "[A-Z]{2}-\\d+"}, "SH-12", "sh-12", "pattern"),
        ({"type": "number", "min": 0, "max": 10}, 2.5, 11, "max"),
        ({"type": "number"}, 0, True, "type"),
        ({"type": "choice", "choices": ["a", "b"]}, "a", "c", "choice"),
        ({"type": "multi_choice", "choices": ["a", "b"]}, ["a", "b"], ["a", "z"], "choice"),
        ({"type": "multi_choice", "choices": ["a", "b"]}, ["a"], ["a", "a"], "choice"),
        ({"type": "multi_choice", "choices": ["a", "b"], "max": 1}, ["b"], ["a", "b"], "max"),
        ({"type": "date", "min": "2026-10-01"}, "2026-10-08", "2026-09-30", "min"),
        ({"type": "date"}, "2026-10-01", "2026/10/01", "type"),
        ({"type": "datetime"}, "2026-10-01T09:00:00+08:00", "2026-10-01T09:00:00", "type"),
        (
            {"type": "datetime", "max": "2026-12-31T00:00:00Z"},
            "2026-10-01T09:00:00Z",
            "2027-01-01T00:00:00+00:00",
            "max",
        ),
        ({"type": "phone"}, "+86 138 0013 8000", "call me", "type"),
        ({"type": "phone"}, "021-6432 1234", "12", "type"),
        ({"type": "email"}, "li.wei@example.cn", "li.wei@", "type"),
        ({"type": "attachment"}, "s3://bucket/photo.jpg", " ", "type"),
        ({"type": "boolean"}, False, "yes", "type"),
    ],
)
def test_field_types(spec: dict[str, Any], good: Any, bad: Any, code: str) -> None:
    schema = form({"name": "f", **spec})
    assert schema.validate({"f": good}).ok
    errors = schema.validate({"f": bad}).errors
    assert [(e.field, e.code) for e in errors] == [("f", code)]


def test_all_errors_at_once_and_defaults() -> None:
    schema = form(
        {"name": "phone", "type": "phone", "required": True},
        {"name": "kind", "type": "choice", "choices": ["refund", "exchange"], "default": "refund"},
        {
            "name": "amount",
            "type": "number",
            "min": 0,
            "required_if": 'fields.kind == "refund"',
            "visible_if": 'fields.kind == "refund"',
        },
        {"name": "email", "type": "email"},
    )
    result = schema.validate({"email": "x", "extra": 1})
    assert [(e.field, e.code) for e in result.errors] == [
        ("extra", "unknown"),
        ("phone", "required"),
        ("amount", "required"),
        ("email", "type"),
    ]
    assert result.values["kind"] == "refund"
    # hidden field: not required any more
    ok = schema.validate({"phone": "13800138000", "kind": "exchange"})
    assert ok.ok and bool(ok)


def test_condition_context_and_errors() -> None:
    schema = form(
        {"name": "vip_note", "type": "text", "required_if": 'ticket.priority == "urgent"'}
    )
    assert not schema.validate({}, context={"ticket": {"priority": "urgent"}}).ok
    assert schema.validate({}, context={"ticket": {"priority": "low"}}).ok
    broken = form(
        {"name": "n", "type": "number"},
        {"name": "x", "type": "text", "required_if": "fields.n > 3"},
    )
    assert [e.code for e in broken.validate({"n": "many"}).errors] == ["type", "condition"]


def test_allow_unknown() -> None:
    schema = FormSchema.from_dict(
        {"fields": [{"name": "a", "type": "text"}], "allow_unknown": True}
    )
    assert schema.validate({"b": 1}).ok
    assert FormSchema.from_dict(schema.to_dict()) == schema


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"name": "a", "type": "colour"}], "unknown type"),
        ([{"name": "a", "type": "choice"}], "needs choices"),
        ([{"name": "a", "type": "text", "choices": ["x"]}], "choices apply only"),
        ([{"name": "a", "type": "number", "pattern": "x"}], "pattern applies only"),
        ([{"name": "a", "type": "text", "pattern": "("}], "is invalid"),
        ([{"name": "a", "type": "boolean", "min": 1}], "does not apply"),
        ([{"name": "a", "type": "number", "min": 5, "max": 1}], "greater than max"),
        ([{"name": "a", "type": "date", "min": "tomorrow"}], "not an ISO date"),
        ([{"name": "a", "type": "number", "default": "x"}], "default"),
        ([{"name": "a", "type": "text"}, {"name": "a", "type": "text"}], "more than once"),
        ([{"name": "a", "type": "text", "colour": 1}], "unknown key"),
        ([{"name": "a", "type": "text", "visible_if": "fields.a =="}], "invalid condition"),
    ],
)
def test_bad_form_definitions(fields: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(WorkflowError) as info:
        FormSchema.from_dict({"fields": fields})
    assert message in str(info.value)


def test_several_bad_fields_reported_together() -> None:
    with pytest.raises(WorkflowError) as info:
        form({"name": "a", "type": "x"}, {"name": "b", "type": "choice"})
    assert len(info.value.problems) == 2
    assert info.value.problems[0].startswith("fields[0]")
    assert info.value.problems[1].startswith("fields[1]")


def test_values_must_be_json_mapping() -> None:
    schema = form({"name": "a", "type": "text"})
    with pytest.raises(WorkflowError):
        schema.validate(["a"])  # type: ignore[arg-type]
    with pytest.raises(WorkflowError):
        schema.validate({"a": object()})


def test_lookups_and_labels() -> None:
    schema = form({"name": "a", "type": "text", "labels": {"agent": {"zh": "地址"}}})
    assert "a" in schema and schema.names == {"a"}
    assert schema.field("a").label("zh") == "地址"
    assert schema.field("a").label("en") == "a"


_SPECS = st.sampled_from(
    [
        {"type": "text", "max": 10},
        {"type": "number", "min": -1, "max": 5.5},
        {"type": "choice", "choices": ["x", "y"]},
        {"type": "multi_choice", "choices": ["x", "y", "z"], "min": 1},
        {"type": "date", "min": "2026-01-01"},
        {"type": "phone", "required": True},
        {"type": "boolean", "default": True},
        {"type": "email", "visible_if": "fields.f0 != null"},
        {"type": "long_text", "required_if": "fields.f0 == 1"},
        {"type": "attachment", "pattern": "s3://.+"},
    ]
)


@given(st.lists(_SPECS, min_size=1, max_size=6))
def test_form_round_trip(specs: list[dict[str, Any]]) -> None:
    schema = form(*({"name": f"f{i}", **spec} for i, spec in enumerate(specs)))
    again = FormSchema.from_dict(schema.to_dict())
    assert again == schema
    assert again.to_dict() == schema.to_dict()
    assert {spec["type"] for spec in specs} <= set(FIELD_TYPES)


def test_fieldspec_direct() -> None:
    spec = FieldSpec(name="n", type="number", min=1)
    assert [e.code for e in spec.check_value(0)] == ["min"]
