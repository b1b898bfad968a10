"""Safe ``{placeholder}`` templates for notifications: substitution only, no code.

A template is parsed with `string.Formatter` (so ``{{`` and ``}}`` escape braces),
but it is never *formatted* by it: every replacement field must be a name from a fixed
whitelist, conversions (``!r``) and format specs (``:>10``) are refused, and values are
looked up in a flat table by the whole name. ``{fields.region}`` is the key
``"fields.region"`` of that table, not attribute access; ``{0}``, ``{ticket.__class__}``
or ``{x[0]}`` are refused when the rule is loaded.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping

from csmkit.errors import AutomationError

__all__ = ["PLACEHOLDERS", "placeholders", "render"]

PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "ticket_id",
        "subject",
        "type",
        "priority",
        "status",
        "category",
        "channel",
        "customer_id",
        "assignee",
        "group",
        "escalation_level",
        "tags",
        "rule",
        "at",
        "target",
        "fraction",
        "percent",
        "due_at",
        "survey",
        "source_ticket",
    }
)
"""Placeholders every template may use; ``fields.<name>`` adds the ticket's form fields."""

_FORMATTER = string.Formatter()


def placeholders(template: str, *, fields: Collection[str] | None = None) -> tuple[str, ...]:
    """The placeholder names of ``template``, checked against the whitelist.

    Args:
        template: The text, e.g. ``"紧急报修 {ticket_id}: {subject}"``.
        fields: Form field names allowed as ``{fields.<name>}``; ``None`` allows any
            well-formed field name.

    Returns:
        The names in order of appearance.

    Raises:
        AutomationError: unbalanced braces, a positional or unknown placeholder,
            attribute or index syntax, a conversion or a format spec.
    """
    if not isinstance(template, str):
        raise AutomationError(f"a template must be a string, got {template!r}")
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise AutomationError(f"template {template!r}: {exc}") from None
    names: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion is not None or spec:
            raise AutomationError(
                f"template {template!r}: placeholder {{{name}}} may not have a conversion "
                "or a format spec (substitution only)"
            )
        if name.startswith("fields."):
            field = name[len("fields.") :]
            if (
                not field.isidentifier()
                or field.startswith("_")
                or (fields is not None and field not in fields)
            ):
                raise AutomationError(
                    f"template {template!r}: unknown placeholder {{{name}}} "
                    f"(not a form field{'' if fields is None else f' of {sorted(fields)}'})"
                )
        elif name not in PLACEHOLDERS:
            raise AutomationError(
                f"template {template!r}: unknown placeholder {{{name}}}; "
                f"use one of {', '.join(sorted(PLACEHOLDERS))} or fields.<name>"
            )
        names.append(name)
    return tuple(names)


def render(template: str, values: Mapping[str, object]) -> str:
    """Substitute ``values`` into ``template`` (checked with
    [`placeholders()`][csmkit.automation.placeholders]).

    Missing values and ``None`` render as the empty string; other values with ``str``.

    Examples:
        >>> render("工单 {ticket_id} 已升级到 {group}", {"ticket_id": "T-1", "group": "主管"})
        '工单 T-1 已升级到 主管'
        >>> render("{ticket_id.__class__}", {})
        Traceback (most recent call last):
        ...
        csmkit.errors.AutomationError: template '{ticket_id.__class__}': unknown placeholder ...
    """
    placeholders(template)
    out: list[str] = []
    for literal, name, _, _ in _FORMATTER.parse(template):
        out.append(literal)
        if name is not None:
            value = values.get(name)
            out.append("" if value is None else str(value))
    return "".join(out)
