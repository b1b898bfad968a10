"""A typed form engine: field definitions that validate a ticket's fields, all errors at once."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from csmkit._jsonvalue import EMPTY, JsonValue, freeze, thaw
from csmkit._pickling import reduce_by_init
from csmkit._time import parse_instant
from csmkit.conditions import Condition
from csmkit.errors import ConditionError, WorkflowError
from csmkit.workflow._model import Labels, _labels_to_dict, label_of, to_labels

__all__ = ["FIELD_TYPES", "FieldError", "FieldSpec", "FormResult", "FormSchema"]

FIELD_TYPES: tuple[str, ...] = (
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
)
"""The field types a [`FieldSpec`][csmkit.workflow.FieldSpec] may have."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARS = re.compile(r"^\+?[0-9][0-9 ()\-]*$")
_RANGE_TYPES = frozenset({"text", "long_text", "number", "multi_choice", "date", "datetime"})


def _parse_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)  # an offset is required (naive text is refused)
    except ValueError:
        return None


@attrs.frozen(kw_only=True)
class FieldError:
    """One problem with one field's value.

    Attributes:
        field: The field name.
        code: A stable code: ``required``, ``type``, ``pattern``, ``min``, ``max``,
            ``choice``, ``unknown``, ``condition``.
        message: A human explanation naming the value.
    """

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@attrs.frozen(kw_only=True)
class FormResult:
    """The outcome of [`FormSchema.validate()`][csmkit.workflow.FormSchema.validate].

    Attributes:
        errors: Every problem found, in field order.
        values: The values with defaults filled in for absent fields.
    """

    errors: tuple[FieldError, ...]
    values: Mapping[str, JsonValue]

    @property
    def ok(self) -> bool:
        """Whether there are no errors."""
        return not self.errors

    def __bool__(self) -> bool:
        return self.ok


def _opt_condition(value: object) -> Condition | None:
    if value is None or isinstance(value, Condition):
        return value
    try:
        return Condition.coerce(value)  # type: ignore[arg-type]
    except ConditionError as exc:
        raise WorkflowError(f"invalid condition: {exc}") from None


def _not_a_dict(what: str, data: object) -> WorkflowError:
    message = f"{what} must be a dict, got {type(data).__name__} {data!r:.60}"
    return WorkflowError(message, problems=[message])


def _choices(value: object) -> Any:
    # a text or a mapping is not a list of choices; kept as given so _problems names it
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _default(value: object) -> JsonValue:
    return freeze(value, "default")


@attrs.frozen(kw_only=True)
class FieldSpec:
    """One field of a form.

    Attributes:
        name: The key in ``Ticket.fields``.
        type: One of [`FIELD_TYPES`][csmkit.workflow.FIELD_TYPES].
        labels: ``{audience: {language: text}}``.
        required: Whether a value must be present (unless the field is hidden).
        required_if: A condition that makes the field required when it holds.
        visible_if: A condition; when it does not hold the field is hidden: never
            required, and a value present is ignored by the requirement rules (but still
            type-checked).
        pattern: A regular expression the whole text must match (text-like types).
        min: Lower bound: the number for ``number``; the length for ``text`` and
            ``long_text``; the count for ``multi_choice``; an ISO date/datetime text for
            ``date`` / ``datetime``.
        max: Upper bound, same meaning.
        choices: The allowed values of ``choice`` and ``multi_choice``.
        default: The value used when the field is absent (must itself be valid).
        description: Help text.
    """

    name: str
    type: str
    labels: Labels = attrs.field(default=EMPTY, converter=to_labels)
    required: bool = False
    required_if: Condition | None = attrs.field(default=None, converter=_opt_condition)
    visible_if: Condition | None = attrs.field(default=None, converter=_opt_condition)
    pattern: str | None = None
    min: float | str | None = None
    max: float | str | None = None
    choices: tuple[str, ...] = attrs.field(default=(), converter=_choices)
    default: JsonValue = attrs.field(default=None, converter=_default)
    description: str = ""
    _regex: re.Pattern[str] | None = attrs.field(init=False, eq=False, repr=False, default=None)

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled pattern is derived: pickle the definition only.
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise WorkflowError(f"field {self.name!r} is invalid", problems=problems)
        if self.pattern is not None:
            object.__setattr__(self, "_regex", re.compile(self.pattern))
        if self.default is not None:
            bad = self.check_value(self.default)
            if bad:
                raise WorkflowError(
                    f"field {self.name!r} is invalid",
                    problems=[f"{self.name}.default: {error.message}" for error in bad],
                )

    def _problems(self) -> list[str]:
        where = f"{self.name!r}" if isinstance(self.name, str) else repr(self.name)
        out: list[str] = []
        if not isinstance(self.name, str) or not self.name:
            out.append(f"field {where}: name must be a non-empty string")
        if self.type not in FIELD_TYPES:
            out.append(
                f"field {where}: unknown type {self.type!r}; expected one of "
                + ", ".join(FIELD_TYPES)
            )
        required: object = self.required
        if not isinstance(required, bool):
            out.append(f"field {where}: required must be true or false, got {required!r}")
        description: object = self.description
        if not isinstance(description, str):
            out.append(f"field {where}: description must be text, got {description!r}")
        choices: object = self.choices
        if not isinstance(choices, tuple):
            out.append(f"field {where}: choices must be a list of texts, got {choices!r}")
            return out
        if self.pattern is not None:
            if self.type not in ("text", "long_text", "phone", "email", "attachment"):
                out.append(f"field {where}: a pattern applies only to text-like types")
            try:
                re.compile(self.pattern)
            except (re.error, TypeError) as exc:
                out.append(f"field {where}: pattern {self.pattern!r} is invalid: {exc}")
        for bound_name in ("min", "max"):
            bound = getattr(self, bound_name)
            if bound is None:
                continue
            if self.type not in _RANGE_TYPES:
                out.append(f"field {where}: {bound_name} does not apply to type {self.type!r}")
            elif self.type in ("date", "datetime"):
                parse = _parse_date if self.type == "date" else _parse_datetime
                if parse(bound) is None:
                    out.append(
                        f"field {where}: {bound_name} {bound!r} is not an ISO {self.type}"
                        + (" with offset" if self.type == "datetime" else "")
                    )
            elif (
                isinstance(bound, bool)
                or not isinstance(bound, (int, float))
                or not math.isfinite(bound)
            ):
                out.append(f"field {where}: {bound_name} must be a finite number, got {bound!r}")
        if self.type in ("choice", "multi_choice"):
            if not self.choices:
                out.append(f"field {where}: a {self.type} field needs choices")
            if any(not isinstance(c, str) or not c for c in self.choices):
                out.append(f"field {where}: choices must be non-empty strings")
            if len(set(self.choices)) != len(self.choices):
                out.append(f"field {where}: duplicate choices")
        elif self.choices:
            out.append(f"field {where}: choices apply only to choice and multi_choice")
        if not out and self.min is not None and self.max is not None:
            low, high = self._bound(self.min), self._bound(self.max)
            if low > high:
                out.append(f"field {where}: min {self.min!r} is greater than max {self.max!r}")
        return out

    def _bound(self, bound: float | str) -> Any:
        if self.type == "date":
            return _parse_date(bound)
        if self.type == "datetime":
            return _parse_datetime(bound)
        return bound

    def label(self, lang: str = "en", audience: str = "agent") -> str:
        """The label for ``audience`` in ``lang``, falling back to ``agent``, ``en``, the name."""
        return label_of(self.labels, self.name, lang, audience)

    def check_value(self, value: JsonValue) -> list[FieldError]:
        """Type, pattern, range and choice errors of one present (non-``None``) value."""
        name, kind = self.name, self.type

        def error(code: str, message: str) -> list[FieldError]:
            return [FieldError(field=name, code=code, message=message)]

        measure: Any = None
        if kind in ("text", "long_text", "attachment", "phone", "email"):
            if not isinstance(value, str):
                return error("type", f"expected text, got {value!r}")
            if kind == "text" and "\n" in value:
                return error("type", "a single-line text may not contain line breaks")
            if kind == "attachment" and not value.strip():
                return error("type", "an attachment reference must not be blank")
            if kind == "phone":
                digits = re.sub(r"\D", "", value)
                if not _PHONE_CHARS.match(value) or not 6 <= len(digits) <= 15:
                    return error("type", f"{value!r} is not a phone number")
            if kind == "email" and not _EMAIL.match(value):
                return error("type", f"{value!r} is not an e-mail address")
            if self._regex is not None and not self._regex.fullmatch(value):
                return error("pattern", f"{value!r} does not match {self.pattern!r}")
            measure = len(value)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return error("type", f"expected a number, got {value!r}")
            measure = value
        elif kind == "boolean":
            if not isinstance(value, bool):
                return error("type", f"expected true or false, got {value!r}")
        elif kind == "choice":
            if value not in self.choices:
                return error("choice", f"{value!r} is not one of {list(self.choices)}")
        elif kind == "multi_choice":
            if not isinstance(value, tuple):
                return error("type", f"expected a list of choices, got {value!r}")
            wrong = [item for item in value if item not in self.choices]
            if wrong:
                return error("choice", f"{wrong!r} not among {list(self.choices)}")
            if len(set(value)) != len(value):
                return error("choice", "a choice is selected twice")
            measure = len(value)
        elif kind in ("date", "datetime"):
            measure = _parse_date(value) if kind == "date" else _parse_datetime(value)
            if measure is None:
                what = (
                    "an ISO date (2026-10-01)"
                    if kind == "date"
                    else ("an ISO datetime with offset (2026-10-01T09:00:00+08:00)")
                )
                return error("type", f"expected {what}, got {value!r}")
        if measure is not None:
            unit = (
                " characters"
                if kind in ("text", "long_text", "phone", "email", "attachment")
                else (" choices" if kind == "multi_choice" else "")
            )
            if self.min is not None and measure < self._bound(self.min):
                return error("min", f"{value!r} is below the minimum {self.min!r}{unit}")
            if self.max is not None and measure > self._bound(self.max):
                return error("max", f"{value!r} is above the maximum {self.max!r}{unit}")
        return []

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldSpec:
        """Build from [`to_dict()`][csmkit.workflow.FieldSpec.to_dict] output.

        Raises:
            WorkflowError: unknown keys or invalid values.
        """
        if not isinstance(data, Mapping):
            raise _not_a_dict("a field", data)
        allowed = {f.name.lstrip("_") for f in attrs.fields(cls) if f.init}
        where = f"field {data.get('name')!r}"
        problems = []
        extra = sorted(set(data) - allowed, key=str)
        if extra:
            problems.append(f"{where}: unknown key(s) {extra}")
        missing = [key for key in ("name", "type") if key not in data]
        if missing:
            problems.append(f"{where}: missing key(s) {missing}")
        if problems:
            known = {key: value for key, value in data.items() if key in allowed}
            if not missing:  # the other values are checked too, so every problem is listed
                try:
                    cls(**known)
                except WorkflowError as exc:
                    problems.extend(exc.problems or (str(exc),))
            raise WorkflowError(f"{where} is invalid", problems=problems)
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form; keys at their default are left out."""
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.labels:
            out["labels"] = _labels_to_dict(self.labels)
        if self.required:
            out["required"] = True
        for key in ("required_if", "visible_if"):
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value)
        for key in ("pattern", "min", "max"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.choices:
            out["choices"] = list(self.choices)
        if self.default is not None:
            out["default"] = thaw(self.default)
        if self.description:
            out["description"] = self.description
        return out


def _present(value: object) -> bool:
    return value is not None and value != "" and value != () and value != []


def _field_tuple(value: object) -> tuple[FieldSpec, ...]:
    if not isinstance(value, (list, tuple)):
        message = f"fields: expected a list, got {type(value).__name__} {value!r}"
        raise WorkflowError(message, problems=[message])
    problems: list[str] = []
    out: list[FieldSpec] = []
    for i, item in enumerate(value):
        try:
            out.append(item if isinstance(item, FieldSpec) else FieldSpec.from_dict(item))
        except WorkflowError as exc:
            problems.extend(f"fields[{i}]: {p}" for p in exc.problems or (str(exc),))
        except TypeError as exc:
            problems.append(f"fields[{i}]: {exc}")
    names = [spec.name for spec in out]
    problems.extend(
        f"fields: field {n!r} is defined more than once"
        for n in sorted({n for n in names if names.count(n) > 1})
    )
    if problems:
        raise WorkflowError("invalid form", problems=problems)
    return tuple(out)


@attrs.frozen
class FormSchema:
    """A typed form: the fields a ticket type has and the rules their values follow.

    Values are JSON data as stored in ``Ticket.fields``: dates and datetimes are ISO
    8601 text, multi-choice values are lists, attachments are reference strings.

    Conditions (``required_if``, ``visible_if``) see ``fields`` (the values being
    validated, defaults filled in) plus whatever ``context`` is passed to
    [`validate()`][csmkit.workflow.FormSchema.validate] (e.g. ``ticket``).

    Examples:
        >>> form = FormSchema.from_dict({"fields": [
        ...     {"name": "phone", "type": "phone", "required": True},
        ...     {"name": "model", "type": "choice", "choices": ["X1", "X2"]},
        ... ]})
        >>> [str(e) for e in form.validate({"model": "X9"}).errors]
        ['phone: a value is required', "model: 'X9' is not one of ['X1', 'X2']"]
    """

    fields: tuple[FieldSpec, ...] = attrs.field(converter=_field_tuple)
    allow_unknown: bool = attrs.field(default=False, kw_only=True)

    @allow_unknown.validator
    def _check_allow_unknown(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, bool):
            message = f"allow_unknown: must be true or false, got {value!r}"
            raise WorkflowError(message, problems=[message])

    _index: Mapping[str, FieldSpec] = attrs.field(init=False, eq=False, repr=False, default=EMPTY)

    def __reduce__(self) -> tuple[Any, ...]:
        # The field index is derived: pickle the definition only.
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {spec.name: spec for spec in self.fields})

    @property
    def names(self) -> frozenset[str]:
        """The field names."""
        return frozenset(self._index)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``.

        Raises:
            KeyError: no such field.
        """
        return self._index[name]

    def validate(
        self, values: Mapping[str, Any], context: Mapping[str, Any] | None = None
    ) -> FormResult:
        """Check ``values`` against every field and return all errors at once.

        Args:
            values: Field values (``Ticket.fields`` or a submission).
            context: Extra names for the conditions (``ticket``, ``actor`` …).

        Raises:
            WorkflowError: ``values`` is not a mapping or not JSON-safe.
        """
        if not isinstance(values, Mapping):
            raise WorkflowError(f"form values must be a mapping, got {type(values).__name__}")
        try:
            frozen = freeze(dict(values), "fields")
        except ValueError as exc:
            raise WorkflowError(str(exc)) from None
        filled = dict(frozen)
        for spec in self.fields:
            if spec.name not in filled and spec.default is not None:
                filled[spec.name] = spec.default
        ctx: dict[str, Any] = dict(context or {})
        ctx["fields"] = filled
        errors: list[FieldError] = []
        if not self.allow_unknown:
            errors.extend(
                FieldError(field=n, code="unknown", message="is not a field of this form")
                for n in filled
                if n not in self._index
            )
        for spec in self.fields:
            value = filled.get(spec.name)
            try:
                visible = spec.visible_if is None or spec.visible_if.evaluate(ctx)
                required = visible and (
                    spec.required
                    or (spec.required_if is not None and spec.required_if.evaluate(ctx))
                )
            except ConditionError as exc:
                errors.append(FieldError(field=spec.name, code="condition", message=str(exc)))
                continue
            if not _present(value):
                if required:
                    errors.append(
                        FieldError(field=spec.name, code="required", message="a value is required")
                    )
                continue
            errors.extend(spec.check_value(value))
        return FormResult(errors=tuple(errors), values=freeze(filled, "fields"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FormSchema:
        """Build from ``{"fields": [...], "allow_unknown": false}``.

        Raises:
            WorkflowError: every problem of every field, with its index.
        """
        if not isinstance(data, Mapping):
            raise _not_a_dict("a form", data)
        problems: list[str] = []
        extra = sorted(set(data) - {"fields", "allow_unknown"}, key=str)
        if extra:
            problems.append(f"unknown key(s) {extra}")
        allow_unknown = data.get("allow_unknown", False)
        if not isinstance(allow_unknown, bool):
            problems.append(f"allow_unknown: must be true or false, got {allow_unknown!r}")
        fields: tuple[FieldSpec, ...] = ()
        try:
            fields = _field_tuple(data.get("fields", []))
        except WorkflowError as exc:
            problems.extend(exc.problems or (str(exc),))
        if problems:
            raise WorkflowError("invalid form", problems=problems)
        return cls(fields, allow_unknown=allow_unknown)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form."""
        out: dict[str, Any] = {"fields": [spec.to_dict() for spec in self.fields]}
        if self.allow_unknown:
            out["allow_unknown"] = True
        return out
