"""attrs validators and converters for timeline values; each raises TimelineError."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import attrs

from csmkit._jsonvalue import JsonValue, freeze, freeze_mapping
from csmkit._time import is_aware, require_aware
from csmkit.errors import TimelineError
from csmkit.timeline._enums import Direction, Priority, StatusCategory, SurveyKind, parse_enum

__all__ = [
    "aware",
    "int_at_least",
    "non_empty_str",
    "optional_str",
    "str_value",
    "tag_tuple",
    "to_category",
    "to_direction",
    "to_fields",
    "to_meta",
    "to_new",
    "to_old",
    "to_priority",
    "to_survey",
]


def int_at_least(minimum: int) -> Any:
    """A validator requiring an ``int`` (not ``bool``) of at least ``minimum``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise TimelineError(
                f"{_where(instance, attribute)} must be an integer >= {minimum}, got {value!r}",
                path=attribute.name,
            )

    return check


def _where(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def non_empty_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a non-empty ``str``."""
    if not isinstance(value, str) or not value:
        raise TimelineError(
            f"{_where(instance, attribute)} must be a non-empty string, got {value!r}",
            path=attribute.name,
        )


def str_value(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a ``str`` (possibly empty)."""
    if not isinstance(value, str):
        raise TimelineError(
            f"{_where(instance, attribute)} must be a string, got {value!r}", path=attribute.name
        )


def optional_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require ``None`` or a non-empty ``str``."""
    if value is not None:
        non_empty_str(instance, attribute, value)


def aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a timezone-aware `datetime`."""
    if not isinstance(value, datetime) or not is_aware(value):  # fast path first
        require_aware(
            value, _where(instance, attribute), partial(TimelineError, path=attribute.name)
        )


def tag_tuple(value: object) -> tuple[str, ...]:
    """Tags as a sorted tuple of unique non-empty strings (their canonical form)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TimelineError(f"tags must be a list of strings, got {value!r}", path="tags")
    tags = list(value)
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or not tag:
            raise TimelineError(f"tag {tag!r} is not a non-empty string", path=f"tags[{i}]")
    return tuple(sorted(set(tags)))


def to_priority(value: object) -> Priority:
    """Converter: a [`Priority`][csmkit.timeline.Priority] from a member or its value."""
    return parse_enum(Priority, value, "priority", path="priority")  # type: ignore[no-any-return]


def to_category(value: object) -> StatusCategory:
    """Converter: a [`StatusCategory`][csmkit.timeline.StatusCategory] from a member or its
    value."""
    return parse_enum(StatusCategory, value, "category", path="category")  # type: ignore[no-any-return]


def to_direction(value: object) -> Direction:
    """Converter: a [`Direction`][csmkit.timeline.Direction] from a member or its value."""
    return parse_enum(Direction, value, "direction", path="direction")  # type: ignore[no-any-return]


def to_survey(value: object) -> SurveyKind:
    """Converter: a [`SurveyKind`][csmkit.timeline.SurveyKind] from a member or its value."""
    return parse_enum(SurveyKind, value, "survey", path="survey")  # type: ignore[no-any-return]


def _freeze_mapping_at(value: object, name: str) -> Mapping[str, JsonValue]:
    try:
        return freeze_mapping(value, name)
    except ValueError as exc:
        raise TimelineError(str(exc), path=name) from None


def _freeze_at(value: object, name: str) -> JsonValue:
    try:
        return freeze(value, name)
    except ValueError as exc:
        raise TimelineError(str(exc), path=name) from None


def to_fields(value: object) -> Mapping[str, JsonValue]:
    """Converter: frozen JSON-safe ``fields``."""
    return _freeze_mapping_at(value, "fields")


def to_meta(value: object) -> Mapping[str, JsonValue]:
    """Converter: frozen JSON-safe ``meta``."""
    return _freeze_mapping_at(value, "meta")


def to_old(value: object) -> JsonValue:
    """Converter: frozen JSON-safe ``old`` value."""
    return _freeze_at(value, "old")


def to_new(value: object) -> JsonValue:
    """Converter: frozen JSON-safe ``new`` value."""
    return _freeze_at(value, "new")
