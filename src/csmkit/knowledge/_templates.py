"""Reply templates (应答模板 / macros): named, per language, with safe placeholders."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs

from csmkit._jsonvalue import JsonValue, freeze_mapping, thaw
from csmkit._pickling import reduce_by_init
from csmkit.conditions import resolve
from csmkit.knowledge._errors import TemplateError

__all__ = ["DEFAULT_PLACEHOLDERS", "MAX_TEMPLATE_CHARS", "ReplyTemplate", "TemplateSet"]

DEFAULT_PLACEHOLDERS: tuple[str, ...] = ("agent.*", "customer.*", "ticket.*")
"""Names a template may use unless told otherwise: anything under ``agent``,
``customer`` and ``ticket`` (``name.*`` allows every name below ``name``)."""

MAX_TEMPLATE_CHARS = 20_000
"""Longest accepted template body."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def _allowed(name: str, declared: Collection[str]) -> bool:
    if name in declared:
        return True
    parts = name.split(".")
    return any(".".join(parts[:i]) + ".*" in declared for i in range(1, len(parts)))


def _parse(body: str, declared: Collection[str]) -> tuple[tuple[str, str | None], ...]:
    """Split ``body`` into (literal, placeholder) pieces; every problem is collected."""
    pieces: list[tuple[str, str | None]] = []
    problems: list[str] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(body):
        literal.append(body[position : match.start()])
        position = match.end()
        text = match.group(0)
        if text in ("{{", "}}"):
            literal.append(text[0])
        elif match.group(1) is None:
            problems.append(f"position {match.start()}: a lone {text!r} (write {text * 2!r})")
        else:
            name = match.group(1).strip()
            if not _NAME.fullmatch(name):
                problems.append(
                    f"position {match.start()}: {{{match.group(1)}}} is not a dotted name "
                    "(no format specs or expressions)"
                )
            elif not _allowed(name, declared):
                problems.append(
                    f"position {match.start()}: unknown placeholder {{{name}}} "
                    f"(allowed: {', '.join(sorted(declared))})"
                )
            else:
                pieces.append(("".join(literal), name))
                literal = []
    literal.append(body[position:])
    pieces.append(("".join(literal), None))
    if problems:
        raise TemplateError("invalid reply template", problems=problems)
    return tuple(pieces)


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None if value is None else ("true" if value else "false")
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return None


def _names(value: Sequence[str]) -> tuple[str, ...]:
    return tuple(value)


def _actions(value: Sequence[object]) -> tuple[Mapping[str, JsonValue], ...]:
    """Each action as an immutable JSON-safe dict (its meaning is checked by the desk)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise TemplateError(f"actions: must be a list of action dicts, got {value!r}")
    problems = []
    out = []
    for index, action in enumerate(value):
        where = f"actions[{index}]"
        if not isinstance(action, Mapping):
            problems.append(f"{where}: an action must be a dict with 'do', got {action!r}")
            continue
        if not isinstance(action.get("do"), str) or not action["do"]:
            problems.append(f"{where}.do: must name an action, got {action.get('do')!r}")
            continue
        try:
            out.append(freeze_mapping(action, where))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise TemplateError("invalid reply template actions", problems=problems)
    return tuple(out)


@attrs.frozen
class ReplyTemplate:
    """A named reply in one language with placeholders such as ``{customer.name}``.

    Placeholders are dotted names resolved with
    [`csmkit.conditions.resolve()`][csmkit.conditions.resolve] (the same name resolution conditions
    use); there is no ``eval`` and no format spec. ``{{`` and ``}}`` write literal braces. Unknown
    placeholders are rejected when the template is defined, every problem listed.

    Attributes:
        name: The template's name (``"ac-not-cooling"``).
        language: Its language tag (``"zh"``, ``"en"``).
        body: The text with placeholders.
        title: A human label for pickers, if any.
        placeholders: The declared names (``"ticket.*"`` allows everything under
            ``ticket``); default [`DEFAULT_PLACEHOLDERS`][csmkit.knowledge.DEFAULT_PLACEHOLDERS].
        actions: What replying with it also does, as plain action dicts in the automation
            rules' form (``{"do": "transition", "transition": "solve"}``). Kept here as
            data only (JSON-safe, each with a ``do``); the desk checks them against the
            automation's action table and its workflows when it is built, and applies them
            with the reply (see ``docs/knowledge.md``).

    Examples:
        >>> t = ReplyTemplate("greet", "zh", "{customer.name}您好，工单 {ticket.id} 已受理。")
        >>> t.render({"customer": {"name": "王女士"}, "ticket": {"id": "T-42"}})
        '王女士您好，工单 T-42 已受理。'
        >>> ReplyTemplate("bad", "en", "Hi {customer.name!r} {secret}")
        Traceback (most recent call last):
        ...
        csmkit.knowledge._errors.TemplateError: reply template 'bad' (en)
          - position 3: {customer.name!r} is not a dotted name (no format specs or expressions)
          - position 21: unknown placeholder {secret} (allowed: agent.*, customer.*, ticket.*)
    """

    name: str
    language: str
    body: str
    title: str = ""
    placeholders: tuple[str, ...] = attrs.field(default=DEFAULT_PLACEHOLDERS, converter=_names)
    actions: tuple[Mapping[str, JsonValue], ...] = attrs.field(default=(), converter=_actions)
    _pieces: tuple[tuple[str, str | None], ...] = attrs.field(
        init=False, repr=False, eq=False, factory=tuple
    )

    def __reduce__(self) -> tuple[Any, ...]:
        # The parsed pieces are derived: parse (and check) the body again on load.
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        problems = []
        if not isinstance(self.name, str) or not _TEMPLATE_NAME.fullmatch(self.name):
            problems.append(f"name: must be 1-64 letters, digits, '_', '.', '-', got {self.name!r}")
        if not isinstance(self.language, str) or not _LANGUAGE.fullmatch(self.language):
            problems.append(f"language: must be a tag like 'zh' or 'en', got {self.language!r}")
        if not isinstance(self.body, str) or len(self.body) > MAX_TEMPLATE_CHARS:
            problems.append(f"body: must be a string of at most {MAX_TEMPLATE_CHARS} characters")
        if not isinstance(self.title, str):  # data from JSON may be anything
            problems.append(f"title: must be a string, got {self.title!r}")  # type: ignore[unreachable]
        for name in self.placeholders:
            stem = name[:-2] if isinstance(name, str) and name.endswith(".*") else name
            if not isinstance(stem, str) or not _NAME.fullmatch(stem):
                problems.append(f"placeholders: {name!r} is not a dotted name or 'name.*'")
        if problems:
            raise TemplateError(f"invalid reply template {self.name!r}", problems=problems)
        try:
            pieces = _parse(self.body, frozenset(self.placeholders))
        except TemplateError as exc:
            raise TemplateError(
                f"reply template {self.name!r} ({self.language})", problems=exc.problems
            ) from None
        object.__setattr__(self, "_pieces", pieces)

    @property
    def names(self) -> tuple[str, ...]:
        """The placeholders the body uses, in order of first use."""
        return tuple(dict.fromkeys(name for _, name in self._pieces if name is not None))

    def render(self, context: Mapping[str, Any]) -> str:
        """Fill the placeholders from ``context`` (e.g. ``{"ticket": ticket, ...}``).

        Values are inserted as text and never parsed again, so a customer name
        containing ``{ticket.id}`` stays as written.

        Raises:
            TemplateError: a placeholder has no value, or a value that is not text, a
                number, a date or an enum (every such placeholder listed).
        """
        out: list[str] = []
        problems: list[str] = []
        for literal, name in self._pieces:
            out.append(literal)
            if name is None:
                continue
            value = resolve(context, name)
            text = _text(value)
            if text is None:
                problems.append(
                    f"{{{name}}}: no value"
                    if value is None
                    else f"{{{name}}}: a {type(value).__name__} cannot be written into a reply"
                )
            else:
                out.append(text)
        if problems:
            raise TemplateError(
                f"reply template {self.name!r} ({self.language}) cannot be filled",
                problems=problems,
            )
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        """The dict form (``placeholders`` only when not the default)."""
        data: dict[str, Any] = {"name": self.name, "language": self.language, "body": self.body}
        if self.title:
            data["title"] = self.title
        if self.placeholders != DEFAULT_PLACEHOLDERS:
            data["placeholders"] = list(self.placeholders)
        if self.actions:
            data["actions"] = [thaw(action) for action in self.actions]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplyTemplate:
        """Build a template from [`to_dict()`][csmkit.knowledge.ReplyTemplate.to_dict] output.

        Raises:
            TemplateError: missing or unknown keys, invalid values, unknown placeholders.
        """
        if not isinstance(data, Mapping):
            raise TemplateError(f"a template must be a mapping, got {type(data).__name__}")
        allowed = {"name", "language", "body", "title", "placeholders", "actions"}
        unknown = sorted(set(data) - allowed, key=str)
        missing = sorted({"name", "language", "body"} - set(data))
        if unknown or missing:
            raise TemplateError(
                "invalid reply template",
                problems=[f"unknown key {k!r}" for k in unknown]
                + [f"missing key {k!r}" for k in missing],
            )
        placeholders = data.get("placeholders", DEFAULT_PLACEHOLDERS)
        if isinstance(placeholders, str) or not isinstance(placeholders, Sequence):
            raise TemplateError("placeholders must be a list of names")
        return cls(
            data["name"],
            data["language"],
            data["body"],
            data.get("title", ""),
            placeholders,
            data.get("actions", ()),
        )


class TemplateSet:
    """Reply templates by name and language, with a language fallback.

    Examples:
        >>> templates = TemplateSet.from_dict({"templates": [
        ...     {"name": "greet", "language": "zh", "body": "您好 {customer.name}"},
        ...     {"name": "greet", "language": "en", "body": "Hello {customer.name}"}]})
        >>> templates.get("greet", "en-GB").body
        'Hello {customer.name}'
    """

    def __init__(self, templates: Sequence[ReplyTemplate] = (), *, fallback: str = "en") -> None:
        self.fallback = fallback
        self._templates: dict[tuple[str, str], ReplyTemplate] = {}
        problems = []
        for index, template in enumerate(templates):
            key = (template.name, template.language)
            if key in self._templates:
                problems.append(
                    f"templates[{index}]: duplicate {template.name!r} ({template.language})"
                )
            self._templates[key] = template
        if problems:
            raise TemplateError("invalid template set", problems=problems)

    def __iter__(self) -> Iterator[ReplyTemplate]:
        return iter(self._templates.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TemplateSet):
            return NotImplemented
        return self.fallback == other.fallback and self._templates == other._templates

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_template_set, (tuple(self._templates.values()), self.fallback))

    def __len__(self) -> int:
        return len(self._templates)

    def get(self, name: str, language: str) -> ReplyTemplate:
        """The template ``name`` in ``language``, its base language, or the fallback.

        Raises:
            TemplateError: no such template in any of those languages.
        """
        for candidate in (language, language.split("-")[0], self.fallback):
            found = self._templates.get((name, candidate))
            if found is not None:
                return found
        raise TemplateError(f"no reply template {name!r} in {language!r} or {self.fallback!r}")

    def to_dict(self) -> dict[str, Any]:
        """``{"templates": [...]}``."""
        return {"templates": [t.to_dict() for t in self._templates.values()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, fallback: str = "en") -> TemplateSet:
        """Build a set from ``{"templates": [...]}``, every problem reported at once.

        Raises:
            TemplateError: any template is invalid (its index named).
        """
        if not isinstance(data, Mapping) or set(data) != {"templates"}:
            raise TemplateError("a template set is a mapping with exactly the key 'templates'")
        items = data["templates"]
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise TemplateError("templates must be a list")
        templates: list[ReplyTemplate] = []
        problems: list[str] = []
        for index, item in enumerate(items):
            try:
                templates.append(ReplyTemplate.from_dict(item))
            except TemplateError as exc:
                lines = exc.problems or (str(exc),)
                problems.extend(f"templates[{index}]: {line}" for line in lines)
        if problems:
            raise TemplateError("invalid template set", problems=problems)
        return cls(templates, fallback=fallback)


def _template_set(templates: tuple[ReplyTemplate, ...], fallback: str) -> TemplateSet:
    """Unpickle a [`TemplateSet`][csmkit.knowledge.TemplateSet] (checked again, as any new set)."""
    return TemplateSet(templates, fallback=fallback)
