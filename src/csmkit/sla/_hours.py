"""Parsing and rendering of opening hours, weekday keys and dates.

Everything here works on plain data and reports problems as ``(path, message)`` lines so
that a calendar or policy loader can collect all of them before raising.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

__all__ = [
    "DAY_SECONDS",
    "WEEKDAYS",
    "Hours",
    "Interval",
    "format_hours",
    "format_interval",
    "hours_problems",
    "parse_date",
    "parse_hours",
    "parse_weekday_key",
]

DAY_SECONDS = 86_400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[int, int]
"""Opening and closing as seconds after the owning day's local midnight.

The closing value exceeds 86,400 for an interval that crosses midnight (``22:00-06:00``
is ``(79200, 108000)``): the interval belongs to the day it starts on.
"""

Hours = tuple[Interval, ...]
"""The sorted, non-overlapping intervals of one day."""

_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")


def _parse_time(text: str, *, allow_24: bool) -> int | None:
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if minute > 59 or second > 59:
        return None
    if hour == 24 and allow_24 and minute == 0 and second == 0:
        return DAY_SECONDS
    if hour > 23:
        return None
    return hour * 3600 + minute * 60 + second


def _parse_interval(value: object) -> tuple[Interval | None, str]:
    if not isinstance(value, str):
        return None, f"expected text like '09:00-18:00', got {type(value).__name__} {value!r}"
    parts = value.strip().split("-")
    if len(parts) != 2:
        return None, f"{value!r} is not an interval like '09:00-18:00'"
    start = _parse_time(parts[0].strip(), allow_24=False)
    end = _parse_time(parts[1].strip(), allow_24=True)
    if start is None:
        return None, f"{value!r}: opening {parts[0].strip()!r} is not a time 00:00..23:59"
    if end is None:
        return None, f"{value!r}: closing {parts[1].strip()!r} is not a time 00:00..24:00"
    if end == start:
        return None, f"{value!r}: opening and closing are equal (an empty interval)"
    if end < start:
        end += DAY_SECONDS  # crosses midnight: belongs to the day it starts on
    return (start, end), ""


def hours_problems(hours: Hours) -> list[str]:
    """Problems of an already-parsed day's hours (unsorted or overlapping intervals)."""
    problems = []
    for (s1, e1), (s2, e2) in pairwise(hours):
        if s2 < e1:
            problems.append(
                f"intervals {format_interval((s1, e1))!r} and {format_interval((s2, e2))!r} overlap"
            )
        elif s2 < s1:
            problems.append("intervals are not sorted")
    for start, end in hours:
        if not (0 <= start < DAY_SECONDS and start < end < start + DAY_SECONDS + 1):
            problems.append(f"interval {(start, end)!r} is out of range")
    return problems


def parse_hours(value: object, path: str, problems: list[str]) -> Hours:
    """Parse a list of ``"HH:MM-HH:MM"`` texts into sorted day hours.

    Problems (malformed times, empty or overlapping intervals) are appended to
    ``problems`` as ``"path[i]: message"`` lines; the valid part is returned.
    """
    if not isinstance(value, (list, tuple)):
        problems.append(
            f"{path}: expected a list of intervals like ['09:00-18:00'], "
            f"got {type(value).__name__} {value!r}"
        )
        return ()
    parsed: list[tuple[Interval, int]] = []
    for i, item in enumerate(value):
        interval, message = _parse_interval(item)
        if interval is None:
            problems.append(f"{path}[{i}]: {message}")
        else:
            parsed.append((interval, i))
    parsed.sort()
    for (first, i), (second, j) in pairwise(parsed):
        if second[0] < first[1]:
            problems.append(
                f"{path}[{j}]: {value[j]!r} overlaps {path}[{i}] {value[i]!r} on the same day"
            )
    return tuple(interval for interval, _ in parsed)


def _format_time(seconds: int) -> str:
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    return f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")


def format_interval(interval: Interval) -> str:
    """``(32400, 64800)`` → ``"09:00-18:00"``; overnight and ``24:00`` kept."""
    start, end = interval
    if end > DAY_SECONDS:
        end -= DAY_SECONDS
    return f"{_format_time(start)}-{_format_time(end)}"


def format_hours(hours: Hours) -> list[str]:
    """The list-of-text form of one day's hours."""
    return [format_interval(interval) for interval in hours]


def parse_weekday_key(key: object) -> tuple[int, ...] | None:
    """``"mon"`` → ``(0,)``; ``"mon-fri"`` → ``(0, 1, 2, 3, 4)``; ``"fri-mon"`` wraps.

    Returns ``None`` when the key is not a weekday name or range.
    """
    if not isinstance(key, str):
        return None
    parts = [part.strip().lower() for part in key.split("-")]
    if len(parts) == 1 and parts[0] in WEEKDAYS:
        return (WEEKDAYS.index(parts[0]),)
    if len(parts) == 2 and parts[0] in WEEKDAYS and parts[1] in WEEKDAYS:
        first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[1])
        if first == last:
            return None
        count = (last - first) % 7 + 1
        return tuple((first + k) % 7 for k in range(count))
    return None


def parse_date(value: object, path: str, problems: list[str]) -> date | None:
    """Parse ``"YYYY-MM-DD"`` (or accept a `date`)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"{path}: {value!r} is not a date like '2026-10-01'")
    return None
