"""Templated action parameters: ``{ticket.assignee}``, ``{customer.region}`` — no eval.

A templated parameter's strings may name values of the rule's context (see
``_context``) in braces. Names are read with
[`csmkit.conditions.resolve()`][csmkit.conditions.resolve], the same walk conditions use, so an
action sees exactly what a condition sees:

* a string that is one placeholder and nothing else (``"{customer.tier}"``) takes the
  value with its type (a number stays a number, a list a list);
* placeholders inside text (``"回访 {customer.name}"``) are formatted as text;
* ``{{`` and ``}}`` are literal braces;
* strings inside lists and dicts are resolved the same way (dict keys are not).

Names are checked when the rule is loaded (unknown roots, ticket attributes, form
fields, stats); a value that is missing when the action runs refuses the action.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import string
from collections.abc import Collection, Mapping
from typing import Any

from csmkit._jsonvalue import thaw
from csmkit._time import format_instant
from csmkit.automation._context import check_name
from csmkit.conditions import resolve

__all__ = [
    "MissingValue",
    "check_templates",
    "has_braces",
    "resolve_template",
    "template_names",
]

_FORMATTER = string.Formatter()


class MissingValue(LookupError):
    """A placeholder had no value when the action ran (private to the engine)."""

    def __init__(self, name: str, reason: str = "has no value") -> None:
        super().__init__(f"{{{name}}} {reason}")
        self.name = name


def _parse(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    return list(_FORMATTER.parse(text))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


def has_braces(value: Any) -> bool:
    """Whether a string of ``value`` has a brace (a placeholder or an escape)."""
    return any("{" in text or "}" in text for text in _strings(value))


def template_names(value: Any) -> list[str]:
    """The placeholder names in the strings of ``value`` (malformed text skipped)."""
    names: list[str] = []
    for text in _strings(value):
        try:
            names.extend(name for _, name, _, _ in _parse(text) if name)
        except ValueError:
            continue
    return names


def check_templates(
    value: Any, where: str, fields: Collection[str] | None, problems: list[str]
) -> None:
    """Append a problem for every malformed or unknown placeholder in ``value``."""
    for text in _strings(value):
        try:
            parsed = _parse(text)
        except ValueError as exc:
            problems.append(f"{where}: template {text!r}: {exc} (write {{{{ and }}}} for braces)")
            continue
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if conversion is not None or spec:
                problems.append(
                    f"{where}: placeholder {{{name}}} may not have a conversion or a format "
                    "spec (substitution only)"
                )
            elif not all(part.isidentifier() for part in name.split(".")):
                problems.append(f"{where}: placeholder {{{name}}} is not a dotted name")
            elif name == "ticket":
                problems.append(f"{where}: placeholder {{ticket}}: name a ticket attribute")
            else:
                check_name(name, f"{where}: placeholder {{{name}}}", fields, problems)


def _plain(value: Any, name: str) -> Any:
    """The JSON-safe form of a resolved value (enums by value, instants as ISO 8601)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _dt.datetime):
        return format_instant(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v, name) for k, v in thaw(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, name) for v in value]
    raise MissingValue(name, f"is a {type(value).__name__}, not a plain value")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict, bool)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _value(context: Mapping[str, Any], name: str) -> Any:
    value = _plain(resolve(context, name), name)
    if value is None:
        raise MissingValue(name)
    return value


def _resolve_text(text: str, context: Mapping[str, Any]) -> Any:
    parsed = _parse(text)
    if len(parsed) == 1 and parsed[0][0] == "" and parsed[0][1] is not None:
        return _value(context, parsed[0][1])
    out: list[str] = []
    for literal, name, _, _ in parsed:
        out.append(literal)
        if name is not None:
            out.append(_text(_value(context, name)))
    return "".join(out)


def resolve_template(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced from ``context`` (JSON-safe result).

    Raises:
        MissingValue: a placeholder resolved to ``None`` (or to no plain value).

    Examples:
        >>> ctx = {"ticket": {"assignee": "li"}, "customer": {"tier": 3, "name": "王芳"}}
        >>> resolve_template({"engineer": "{ticket.assignee}"}, ctx)
        {'engineer': 'li'}
        >>> resolve_template("{customer.tier}", ctx), resolve_template("T{customer.tier}", ctx)
        (3, 'T3')
        >>> resolve_template("{{literal}} {customer.name}", ctx)
        '{literal} 王芳'
    """
    if isinstance(value, str):
        return _resolve_text(value, context)
    if isinstance(value, Mapping):
        return {str(k): resolve_template(v, context) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve_template(v, context) for v in value]
    return thaw(value)
