"""Reply templates at the desk: their actions checked against the automation's action table.

The knowledge layer keeps a template's actions as data only; the desk, which knows the
workflows and forms, checks them when it is built (every problem with its path, e.g.
``templates['ac-not-cooling'/zh].actions[0].transition``) and applies them with the reply.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from csmkit.automation import ACTION_SPECS, placeholders
from csmkit.errors import AutomationError
from csmkit.knowledge import ReplyTemplate, TemplateError, TemplateSet
from csmkit.timeline import CORE_FIELDS, RESERVED_FIELDS

__all__ = ["REPLY_ACTIONS", "desk_templates", "template_problems"]

REPLY_ACTIONS: tuple[str, ...] = ("set_field", "transition")
"""The automation actions a reply template may carry (applied in the reply's commit)."""


def desk_templates(
    templates: TemplateSet | Mapping[str, Any] | None,
    *,
    fields: Collection[str] | None,
    transitions: Collection[str],
) -> TemplateSet:
    """The desk's template set, every template's actions checked.

    Raises:
        AutomationError: an invalid set, or actions the desk cannot run (every problem
            listed with its path under ``templates``).
    """
    if templates is None:
        return TemplateSet()
    if isinstance(templates, TemplateSet):
        found = templates
    elif isinstance(templates, Mapping):
        try:
            found = TemplateSet.from_dict(templates)
        except TemplateError as exc:
            lines = exc.problems or (str(exc),)
            raise _error(
                "templates: invalid template set", [f"templates.{p}" for p in lines]
            ) from None
    else:
        raise AutomationError(
            f"templates: expected a TemplateSet or its dict form, got {type(templates).__name__}"
        )
    problems: list[str] = []
    for template in found:
        problems.extend(template_problems(template, fields=fields, transitions=transitions))
    if problems:
        raise _error("templates: actions the desk cannot run", problems)
    return found


def template_problems(
    template: ReplyTemplate,
    *,
    fields: Collection[str] | None,
    transitions: Collection[str] | None,
) -> list[str]:
    """Every problem of ``template``'s actions (``None``: any field or transition name)."""
    problems: list[str] = []
    base = f"templates[{template.name!r}/{template.language}]"
    for index, action in enumerate(template.actions):
        where = f"{base}.actions[{index}]"
        name = str(action.get("do"))
        spec = ACTION_SPECS.get(name)
        if spec is None:
            problems.append(
                f"{where}.do: unknown action {name!r}; use one of {', '.join(ACTION_SPECS)}"
            )
            continue
        if name not in REPLY_ACTIONS:
            problems.append(
                f"{where}.do: {name!r} cannot run with a reply; a template may "
                f"{' or '.join(REPLY_ACTIONS)}"
            )
            continue
        params = {k: v for k, v in action.items() if k != "do"}
        for key in sorted(spec.required - set(params)):
            problems.append(f"{where}: {name} needs {key!r}")
        for key, value in params.items():
            parameter = spec.parameter(key)
            if parameter is None:
                problems.append(f"{where}: unknown parameter {key!r} for {name}")
                continue
            problem = parameter.problem(value)
            if problem is not None:
                problems.append(f"{where}.{key}: {problem}")
            elif parameter.templated and _has_placeholder(value):
                problems.append(
                    f"{where}.{key}: placeholders are not filled in a template's actions "
                    "(write the value itself)"
                )
        if name == "set_field" and isinstance(params.get("name"), str):
            field = params["name"]
            if field in CORE_FIELDS or field in RESERVED_FIELDS:
                problems.append(
                    f"{where}.name: {field!r} is a ticket attribute; a reply template sets "
                    "form fields only"
                )
            elif fields is not None and field not in fields:
                problems.append(f"{where}.name: no ticket type's form has a field {field!r}")
        target = params.get("transition")
        if (
            name == "transition"
            and isinstance(target, str)
            and transitions is not None
            and target not in transitions
        ):
            problems.append(f"{where}.transition: no workflow has a transition {target!r}")
    return problems


def _error(message: str, problems: list[str]) -> AutomationError:
    return AutomationError(f"{message}:\n  - " + "\n  - ".join(problems), problems=problems)


def _has_placeholder(value: object) -> bool:
    if isinstance(value, str):
        try:
            return bool(placeholders(value)) or "{{" in value
        except AutomationError:
            return True
    if isinstance(value, Mapping):
        return any(_has_placeholder(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_placeholder(v) for v in value)
    return False
