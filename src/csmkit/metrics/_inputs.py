"""Turning user input (lists, NumPy arrays, pandas objects, rows, timelines) into values."""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from csmkit.errors import MetricsError
from csmkit.timeline import SurveyAnswered, SurveyKind, Timeline

__all__ = [
    "OnInvalid",
    "check_on_invalid",
    "check_recorded",
    "integer_score",
    "pair",
    "recorded_scale",
    "survey_values",
    "to_list",
]

OnInvalid = Literal["raise", "skip"]


def check_on_invalid(value: object) -> OnInvalid:
    """Validate the ``on_invalid`` argument."""
    if value == "raise":
        return "raise"
    if value == "skip":
        return "skip"
    raise MetricsError(f"on_invalid must be 'raise' or 'skip', got {value!r}")


def _module_of(obj: object) -> str:
    return type(obj).__module__.split(".", 1)[0]


def to_list(data: object, *, field: str | None, what: str) -> list[Any] | Mapping[Any, Any]:
    """Materialise ``data`` as a list of values, or return a ``{value: count}`` mapping.

    Accepted: any iterable of values; a mapping read as a histogram ``{score: count}``;
    NumPy arrays; pandas Series; pandas DataFrames (``field`` names the column); rows
    (mappings or objects) when ``field`` is given; timelines (handled by the caller).
    """
    module = _module_of(data)
    if module == "pandas" and hasattr(data, "columns"):
        if field is None:
            raise MetricsError(f"{what}: pass field='column name' to read a pandas DataFrame")
        if field not in data.columns:  # type: ignore[attr-defined,unused-ignore]
            raise MetricsError(f"{what}: the DataFrame has no column {field!r}")
        return list(data[field].tolist())  # type: ignore[index,unused-ignore]
    if module in {"pandas", "numpy"} and hasattr(data, "tolist"):
        return list(data.tolist())
    if isinstance(data, Mapping):
        return data
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise MetricsError(f"{what}: expected an iterable of values, got {type(data).__name__}")
    values = data if isinstance(data, list) else list(data)
    if field is not None:
        return [_read_field(row, field, index, what) for index, row in enumerate(values)]
    return values


def _read_field(row: object, field: str, index: int, what: str) -> object:
    if isinstance(row, Mapping):
        if field not in row:
            raise MetricsError(f"{what}[{index}]: row has no field {field!r}: {row!r}")
        return row[field]
    try:
        return getattr(row, field)
    except AttributeError:
        raise MetricsError(f"{what}[{index}]: {row!r} has no field {field!r}") from None


def pair(value: object) -> tuple[int, int] | None:
    """``value`` as a ``(low, high)`` pair of integers, ``None`` when it is not one."""
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in value)
    ):
        return int(value[0]), int(value[1])
    return None


def recorded_scale(event: SurveyAnswered) -> tuple[int, int] | None:
    """The scale stamped on an answer by [`Survey.stamp()`][csmkit.metrics.Survey.stamp], ``None``
    when absent.

    Raises:
        MetricsError: the stamp is not a pair of integers.
    """
    scale = event.meta.get("scale")
    if scale is None:
        return None
    found = pair(scale)
    if found is None:
        raise MetricsError(
            f"ticket {event.ticket_id!r}: answer's meta scale {scale!r} is not [low, high]"
        )
    return found


def check_recorded(event: SurveyAnswered, scale: tuple[int, int], where: str) -> None:
    """Refuse an answer recorded on another scale than the one being computed."""
    recorded = recorded_scale(event)
    if recorded is not None and recorded != scale:
        name = event.meta.get("survey")
        survey = f" (survey {name!r})" if isinstance(name, str) else ""
        raise MetricsError(
            f"{where}: the {event.survey.value.upper()} answer of ticket {event.ticket_id!r} "
            f"was recorded on {recorded[0]}–{recorded[1]}{survey}, but the figure is computed "
            f"on {scale[0]}–{scale[1]}; answers on different scales cannot be combined "
            "(pass the survey definition, or group the report by survey)"
        )


def survey_values(
    values: Sequence[Any], kind: SurveyKind, scale: tuple[int, int] | None = None
) -> tuple[list[Any], int]:
    """Replace timelines by their latest answer of ``kind``; returns (values, missing).

    With ``scale``, an answer stamped with another scale (see ``Survey.stamp``) is an
    error: answers on different scales never fold into one figure.
    """
    if not values or not any(isinstance(value, Timeline) for value in values[:1]):
        return list(values) if not isinstance(values, list) else values, 0
    out: list[Any] = []
    missing = 0
    for index, item in enumerate(values):
        if not isinstance(item, Timeline):
            raise MetricsError(
                f"{kind.value}[{index}]: expected a Timeline like the first item, got "
                f"{type(item).__name__} {item!r}"
            )
        answer = None
        for event in reversed(item.events):
            if isinstance(event, SurveyAnswered) and event.survey is kind:
                if scale is not None:
                    check_recorded(event, scale, f"{kind.value}[{index}]")
                answer = event.score
                break
        if answer is None:
            missing += 1
        else:
            out.append(answer)
    return out, missing


def integer_score(value: object, low: int, high: int) -> int | None:
    """``value`` as an integer score in ``[low, high]``, or ``None`` when it is not one.

    Integral floats (``9.0``, as pandas stores integer columns with gaps) are accepted;
    booleans, NaN, fractions like ``8.5`` and values outside the scale are not.
    """
    if type(value) is int:
        return value if low <= value <= high else None
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value.is_integer() and low <= value <= high:
            return int(value)
        return None
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None
    return number if low <= number <= high else None


def describe_invalid(value: object, low: int, high: int) -> str:
    """Why ``value`` is not an integer score in ``[low, high]``."""
    if isinstance(value, bool):
        return f"{value!r} is a boolean, not a score"
    if isinstance(value, float) and math.isnan(value):
        return "NaN is not a score (a missing answer?)"
    if isinstance(value, (int, float)) and not (
        isinstance(value, float) and not value.is_integer()
    ):
        return f"{value!r} is outside the scale {low}–{high}"
    if isinstance(value, float):
        return f"{value!r} is not an integer"
    return f"{value!r} ({type(value).__name__}) is not an integer score"
