"""The JSON Schema of a desk configuration (published as ``docs/desk-config.schema.json``).

The schema checks the shape (sections, keys, types); the parts' own ``from_dict``
check the meaning (durations, conditions, references), which a schema cannot.
"""

from __future__ import annotations

import copy
from typing import Any

from csmkit.workflow import TEMPLATE_NAMES

__all__ = ["config_schema"]

_OBJECT: dict[str, Any] = {"type": "object"}
_NAMES: dict[str, Any] = {"type": "array", "items": {"type": "string"}}

_CALENDAR: dict[str, Any] = {
    "description": "A BusinessCalendar in its dict form, a preset or a calendar plugin.",
    "oneOf": [
        {
            "type": "object",
            "required": ["preset", "years"],
            "additionalProperties": False,
            "properties": {
                "preset": {"enum": ["cn"]},
                "years": {
                    "oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]
                },
                "week": _OBJECT,
                "partial": {"type": "boolean"},
            },
        },
        {
            "type": "object",
            "required": ["plugin"],
            "additionalProperties": False,
            "properties": {"plugin": {"type": "string"}, "options": _OBJECT},
        },
        {
            "type": "object",
            "required": ["timezone"],
            "not": {"anyOf": [{"required": ["preset"]}, {"required": ["plugin"]}]},
            "properties": {
                "timezone": {"type": "string"},
                "week": _OBJECT,
                "holidays": _NAMES,
                "workdays": _NAMES,
                "covers": _OBJECT,
            },
        },
    ],
}

_FIELD: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type"],
    "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
}

_TYPE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "workflow": {
            "description": "A built-in template name or an inline workflow.",
            "oneOf": [{"enum": list(TEMPLATE_NAMES)}, {"type": "object"}],
        },
        "fields": {
            "description": "Form fields added to the workflow's form.",
            "type": "array",
            "items": _FIELD,
        },
        "sla": {
            "description": "An SlaPolicy dict (its name defaults to the type's) or "
            "{'policies': [...]}.",
            "type": "object",
            "properties": {"targets": _OBJECT, "policies": {"type": "array"}},
        },
        "survey": {
            "description": "The survey(s) of this type: a kind (csat, nps, ces: its "
            "default scale) or csmkit.metrics.Survey tables (name, kind, scale, convention, "
            "satisfied, higher_is_better).",
            "oneOf": [
                {"enum": ["csat", "nps", "ces"]},
                {"type": "object", "required": ["name", "kind"]},
                {
                    "type": "array",
                    "items": {"type": "object", "required": ["name", "kind"]},
                },
            ],
        },
    },
}

_AGENT: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "groups": _NAMES,
        "skills": {"type": "object", "additionalProperties": {"type": "number"}},
        "languages": _NAMES,
        "attributes": _OBJECT,
        "capacity": {
            "oneOf": [
                {"type": "integer"},
                {"type": "object", "additionalProperties": {"type": "integer"}},
            ]
        },
        "costs": _OBJECT,
        "presence": {"type": "string"},
        "shift": {"type": "string"},
    },
}

_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://csmkit.invalid/schemas/desk-config.json",
    "title": "csmkit desk configuration",
    "description": "A whole service desk as data (ServiceDesk.from_config).",
    "type": "object",
    "required": ["types"],
    "additionalProperties": False,
    "properties": {
        "calendar": {"oneOf": [{"type": "string"}, _CALENDAR]},
        "calendars": {"type": "object", "additionalProperties": _CALENDAR},
        "types": {"type": "object", "minProperties": 1, "additionalProperties": _TYPE},
        "agents": {"type": "array", "items": _AGENT},
        "groups": {"type": "object", "additionalProperties": _NAMES},
        "routing": {
            "type": "object",
            "required": ["default"],
            "additionalProperties": False,
            "properties": {"rules": {"type": "array", "items": _OBJECT}, "default": _OBJECT},
        },
        "automation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "rules": {"type": "array", "items": _OBJECT},
                "max_actions": {"type": "integer", "minimum": 1},
            },
        },
        "channels": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"plugin": {"type": "string"}, "options": _OBJECT},
            },
        },
        "intake_type": {"type": "string"},
        "templates": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "language", "body"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "language": {"type": "string"},
                    "body": {"type": "string"},
                    "title": {"type": "string"},
                    "placeholders": {"type": "array", "items": {"type": "string"}},
                    "actions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["do"],
                            "properties": {"do": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a desk configuration, a fresh copy.

    Examples:
        >>> from csmkit.desk import config_schema
        >>> sorted(config_schema()["properties"])[:3]
        ['agents', 'automation', 'calendar']
    """
    return copy.deepcopy(_SCHEMA)
