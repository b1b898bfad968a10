"""The shape of an action definition: its parameters, their types, its checks.

The actions themselves (one [`ActionSpec`][csmkit.automation.ActionSpec] each, validation and
execution side by side) are in ``_actions``; this module holds the types they are written in, so the
rules, the engine and the docs can read one table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from csmkit._duration import parse_duration
from csmkit._jsonvalue import EMPTY, JsonValue, freeze_mapping, thaw
from csmkit.automation._template import placeholders
from csmkit.errors import AutomationError, DurationError
from csmkit.timeline import Event, Priority, SurveyKind

if TYPE_CHECKING:
    from csmkit.automation._run import Step

__all__ = [
    "PARAMETER_TYPES",
    "Action",
    "ActionParameter",
    "ActionSpec",
    "Known",
]


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _text(value: object) -> str | None:
    return None if _is_text(value) else f"{value!r} is not a non-empty string"


def _any(value: object) -> str | None:
    return None


def _priority(value: object) -> str | None:
    ok = isinstance(value, str) and value in [p.value for p in Priority]
    return None if ok else f"{value!r} is not a priority ({', '.join(p.value for p in Priority)})"


def _texts(value: object) -> str | None:
    if isinstance(value, (list, tuple)) and value and all(_is_text(v) for v in value):
        return None
    return "must be a non-empty list of strings"


def _level(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"{value!r} is not an integer >= 1"
    return None


def _count(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        return f"{value!r} is not an integer >= 2"
    return None


def _mapping(value: object) -> str | None:
    return None if isinstance(value, Mapping) else "must be a dict"


def _flag(value: object) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


_SURVEY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def _survey(value: object) -> str | None:
    if isinstance(value, str) and _SURVEY_NAME.fullmatch(value):
        return None  # a kind or a declared survey's name (the desk checks the names)
    kinds = [s.value for s in SurveyKind]
    return f"{value!r} is not {', '.join(kinds)} or a survey name ([A-Za-z0-9_.-]+)"


def _duration(value: object) -> str | None:
    try:
        parse_duration(value, "")
    except DurationError as exc:
        return str(exc).lstrip(": ")
    return None


def _message_template(value: object) -> str | None:
    if not isinstance(value, str):
        return "a template must be a string"
    try:
        placeholders(value)
    except AutomationError as exc:
        return str(exc)
    return None


PARAMETER_TYPES: Mapping[str, tuple[str, Callable[[object], str | None]]] = {
    "text": ("a non-empty string", _text),
    "value": ("any JSON value", _any),
    "priority": ("a priority: low, normal, high, urgent", _priority),
    "texts": ("a non-empty list of strings", _texts),
    "level": ("an integer >= 1", _level),
    "count": ("an integer >= 2", _count),
    "mapping": ("a dict", _mapping),
    "flag": ("true or false", _flag),
    "survey": ("csat, nps, ces or a declared survey's name", _survey),
    "duration": ("a duration (`30d`, `P30D`)", _duration),
    "message": ("a message template (`{ticket_id}`, `{fields.<name>}`)", _message_template),
}
"""Parameter types: name -> (what the docs call it, check returning a problem or None)."""


@attrs.frozen
class ActionParameter:
    """One parameter of an action.

    Attributes:
        name: Its key in the action's dict.
        type: A key of `PARAMETER_TYPES`.
        required: Whether the action needs it.
        templated: Whether its strings may hold ``{root.name}`` placeholders resolved
            from the rule's context when the action runs.
        default: What an absent optional parameter means, in words (for the docs).
    """

    name: str
    type: str
    required: bool = False
    templated: bool = False
    default: str = ""

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` for this parameter, or ``None``."""
        return PARAMETER_TYPES[self.type][1](value)


@attrs.frozen(kw_only=True)
class Known:
    """What a desk knows that rules refer to; ``None`` skips that check."""

    fields: Collection[str] | None = None
    channels: Collection[str] | None = None
    transitions: Collection[str] | None = None
    ticket_types: Collection[str] | None = None
    surveys: Collection[str] | None = None


def _frozen(value: Mapping[str, Any]) -> Mapping[str, JsonValue]:
    return freeze_mapping(value, "params")


@attrs.frozen
class Action:
    """One action of a rule: a name from [`ACTIONS`][csmkit.automation.ACTIONS] and its parameters.

    Attributes:
        do: The action name (``"notify"``, ``"escalate"`` …).
        params: Its parameters (JSON-safe), e.g. ``{"channel": "sms", "to": "...",
            "template": "..."}``.
    """

    do: str
    params: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=_frozen)

    @property
    def produces(self) -> frozenset[str]:
        """Event kinds this action may write (used to find loops between rules)."""
        from csmkit.automation._actions import ACTION_SPECS

        spec = ACTION_SPECS.get(self.do)
        return frozenset() if spec is None else spec.produces

    def to_dict(self) -> dict[str, Any]:
        """``{"do": name, **params}``."""
        return {"do": self.do, **{k: thaw(v) for k, v in self.params.items()}}


Execute = Callable[["Step"], list[Event]]
Check = Callable[[Mapping[str, Any], str, list[str]], None]
CheckKnown = Callable[[Mapping[str, Any], str, Known, list[str]], None]


@attrs.frozen(kw_only=True)
class ActionSpec:
    """The one definition of an action: what the validator, the engine and the docs read.

    Attributes:
        name: The action's name (its ``do``).
        summary: One line for the docs.
        parameters: Its parameters, in documentation order.
        writes: What it writes or asks for, in words (for the docs).
        produces: Event kinds it may write (loop detection between rules).
        execute: Runs it: takes a step, returns the events to append.
        check: Shape checks beyond the parameter types, at load time.
        check_known: Checks against what the desk knows (fields, channels …).
        for_assets: Whether an asset rule (``of: "asset"``) may use it.
    """

    name: str
    summary: str
    parameters: tuple[ActionParameter, ...]
    writes: str
    produces: frozenset[str]
    execute: Execute
    check: Check | None = None
    check_known: CheckKnown | None = None
    for_assets: bool = False

    def parameter(self, name: str) -> ActionParameter | None:
        """The parameter called ``name``, or ``None``."""
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def required(self) -> frozenset[str]:
        """Names of the required parameters."""
        return frozenset(p.name for p in self.parameters if p.required)

    @property
    def optional(self) -> frozenset[str]:
        """Names of the optional parameters."""
        return frozenset(p.name for p in self.parameters if not p.required)
