"""The JSON Schema of a workflow's dict form (published in the docs)."""

from __future__ import annotations

from typing import Any

from csmkit._duration import DURATION_PATTERN

__all__ = ["WORKFLOW_SCHEMA"]

_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"^\S(.*\S)?$"}
_NAMES: dict[str, Any] = {"type": "array", "items": _NAME}
_LABELS: dict[str, Any] = {
    "type": "object",
    "description": "{audience: {language: text}}, e.g. {'agent': {'zh': '上门中'}}",
    "additionalProperties": {
        "type": "object",
        "additionalProperties": {"type": "string", "minLength": 1},
    },
}
_CONDITION: dict[str, Any] = {
    "description": "csmkit.conditions text (or its dict form) over ticket, fields, data, actor",
    "type": ["string", "object"],
}
_DURATION: dict[str, Any] = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "description": "a duration: compact (7d, 1h30m) or ISO 8601 (P7D, PT1H30M)",
}
_FIELD: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type"],
    "additionalProperties": False,
    "properties": {
        "name": _NAME,
        "type": {
            "enum": [
                "text",
                "long_text",
                "number",
                "choice",
                "multi_choice",
                "date",
                "datetime",
                "phone",
                "email",
                "attachment",
                "boolean",
            ]
        },
        "labels": _LABELS,
        "required": {"type": "boolean"},
        "required_if": _CONDITION,
        "visible_if": _CONDITION,
        "pattern": {"type": "string"},
        "min": {"type": ["number", "string"]},
        "max": {"type": ["number", "string"]},
        "choices": _NAMES,
        "default": {},
        "description": {"type": "string"},
    },
}

WORKFLOW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://csmkit.invalid/schemas/workflow.json",
    "title": "csmkit workflow definition",
    "type": "object",
    "required": ["name", "states", "transitions"],
    "additionalProperties": False,
    "properties": {
        "name": _NAME,
        "version": {"type": "integer", "minimum": 1, "default": 1},
        "labels": _LABELS,
        "description": {"type": "string"},
        "states": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "category"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "category": {"enum": ["new", "open", "pending", "on_hold", "solved", "closed"]},
                    "initial": {"type": "boolean", "default": False},
                    "labels": _LABELS,
                    "description": {"type": "string"},
                },
            },
        },
        "transitions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "sources", "target"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "sources": {"anyOf": [{"const": "*"}, _NAME, {**_NAMES, "minItems": 1}]},
                    "target": _NAME,
                    "labels": _LABELS,
                    "roles": _NAMES,
                    "condition": _CONDITION,
                    "required": _NAMES,
                    "separation": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["not_actor_of"],
                            "additionalProperties": False,
                            "properties": {
                                "not_actor_of": {"oneOf": [_NAME, _NAMES]},
                                "scope": {"enum": ["last", "any"], "default": "last"},
                            },
                        },
                    },
                    "metadata": {"type": "object"},
                },
            },
        },
        "reopen": _NAME,
        "timed": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["state", "transition", "after"],
                "additionalProperties": False,
                "properties": {
                    "state": _NAME,
                    "transition": _NAME,
                    "after": _DURATION,
                    "clock": {"enum": ["calendar", "business"], "default": "calendar"},
                    "since": {"enum": ["entered", "updated"], "default": "entered"},
                    "data": {
                        "type": "object",
                        "description": "field values the transition is fired with",
                    },
                },
            },
        },
        "form": {
            "type": "object",
            "required": ["fields"],
            "additionalProperties": False,
            "properties": {
                "fields": {"type": "array", "items": _FIELD},
                "allow_unknown": {"type": "boolean", "default": False},
            },
        },
        "metadata": {"type": "object"},
    },
}
"""JSON Schema (draft 2020-12) of [`Workflow.to_dict()`][csmkit.workflow.Workflow.to_dict] /
[`Workflow.from_dict()`][csmkit.workflow.Workflow.from_dict].

The schema checks shape only; [`Workflow.from_dict()`][csmkit.workflow.Workflow.from_dict] also
checks references, rules and the graph (unreachable states, dead ends …).
"""
