"""The one duration grammar of csmkit: every duration a user writes is read here.

Two spellings of the same thing, accepted everywhere (SLA goals, automation delays,
workflow timers, routing escalation, the command line, configuration files):

* compact: ``90s``, ``45m``, ``2h``, ``1h30m``, ``7d``, ``2w``, ``1.5s`` -- units in
  descending order (``w d h m s``), each at most once, optionally separated by spaces;
* ISO 8601: ``PT4H``, ``P7D``, ``P1DT2H``, ``P2W``, ``PT0.5S``.

Both are case-insensitive, may carry a sign (``-2h``, ``-PT2H``; refused unless the
caller allows negative durations), and only seconds may have a fraction (at most six
digits: a timedelta counts microseconds). Years and months are refused: their length
depends on the calendar. A day is 24 hours and a week 7 days; where a duration counts
*business* time a day unit is refused (is a business day 24 business hours or one working
day?) -- callers pass ``days=False`` there.
"""

from __future__ import annotations

import re
from datetime import timedelta

from csmkit.errors import DurationError

__all__ = ["DURATION_PATTERN", "format_duration", "parse_duration"]

_FORMS = (
    "write compact units like '1h30m', '45m', '7d', '2w' or ISO 8601 like 'PT1H30M', 'P7D' "
    "(weeks, days, hours, minutes, seconds)"
)
_MAX_LENGTH = 64
_SECONDS = r"(?P<s>\d+(?:[.,]\d+)?)"
_COMPACT = re.compile(
    r"(?:(?P<w>\d+)w\s*)?(?:(?P<d>\d+)d\s*)?(?:(?P<h>\d+)h\s*)?(?:(?P<m>\d+)m\s*)?"
    rf"(?:{_SECONDS}s)?",
    re.IGNORECASE,
)
_ISO = re.compile(
    r"p(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:t(?=\d)(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?"
    rf"(?:{_SECONDS}s)?)?",
    re.IGNORECASE,
)
_CALENDAR_UNITS = re.compile(r"p(?:\d+[.,]?\d*[ym])+", re.IGNORECASE)
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60}

DURATION_PATTERN = (
    r"^\s*[-+]?(?:[Pp](?:\d+[Ww])?(?:\d+[Dd])?(?:[Tt](?:\d+[Hh])?(?:\d+[Mm])?"
    r"(?:\d+(?:[.,]\d{1,6})?[Ss])?)?"
    r"|(?:\d+[Ww]\s*)?(?:\d+[Dd]\s*)?(?:\d+[Hh]\s*)?(?:\d+[Mm]\s*)?(?:\d+(?:[.,]\d{1,6})?[Ss])?)\s*$"
)
"""A JSON Schema ``pattern`` for duration text (loose: it does not refuse an empty unit
list such as ``"P"``; [`parse_duration()`][csmkit.automation.parse_span] does)."""


def _fail(value: object, where: str, reason: str) -> DurationError:
    return DurationError(f"{where}: {value!r} {reason}", value=value, where=where)


def _syntax(value: object, where: str) -> DurationError:
    return _fail(value, where, f"is not a duration: {_FORMS}")


def _parse_text(text: str, where: str, days: bool) -> timedelta:
    body = text.strip()
    if len(body) > _MAX_LENGTH:
        raise _syntax(text, where)
    negative = body[:1] == "-"
    if body[:1] in ("+", "-"):
        body = body[1:]
    iso = body[:1] in ("P", "p")
    match = (_ISO if iso else _COMPACT).fullmatch(body)
    if match is None or not any(match.groupdict().values()):
        if iso and _CALENDAR_UNITS.match(body):
            raise _fail(
                text,
                where,
                "has years or months, whose length depends on the calendar; "
                "write days or weeks (e.g. 'P30D', '4w')",
            )
        raise _syntax(text, where)
    parts = match.groupdict()
    if not days and (parts["w"] or parts["d"]):
        raise _fail(
            text,
            where,
            "has a day or week unit, but this counts business time: is a business day 24 "
            "business hours or one working day? write hours (e.g. '48h' or 'PT48H')",
        )
    whole = sum(int(parts[unit] or 0) * size for unit, size in _UNIT_SECONDS.items())
    micros = 0
    if parts["s"]:
        seconds, _, fraction = parts["s"].replace(",", ".").partition(".")
        if len(fraction) > 6:
            raise _fail(text, where, "is finer than a microsecond")
        whole += int(seconds)
        micros = int(fraction.ljust(6, "0"))
    try:
        delta = timedelta(seconds=whole, microseconds=micros)
    except OverflowError:
        raise _fail(text, where, "is too long for a timedelta") from None
    return -delta if negative else delta


def parse_duration(
    value: object,
    where: str = "duration",
    *,
    signed: bool = False,
    allow_zero: bool = False,
    days: bool = True,
) -> timedelta:
    """Read a duration in the compact or the ISO 8601 form (or accept a ``timedelta``).

    Args:
        value: ``"1h30m"``, ``"PT1H30M"``, ``"7d"``, ``"P7D"``, ``"-2h"`` … or a
            `timedelta` (checked by the same rules).
        where: Where the value came from, for the error (``"targets.resolution.goals.high"``).
        signed: Allow negative durations (``"-2h"``, ``"-PT2H"``), e.g. an offset.
        allow_zero: Allow a zero duration.
        days: Allow day and week units; ``False`` where the duration counts business time.

    Returns:
        The duration; positive unless ``signed`` / ``allow_zero`` say otherwise.

    Raises:
        DurationError: naming the value and ``where``: not a duration in either form,
            years or months, a day unit where ``days`` is false, finer than a
            microsecond, negative or zero where not allowed.

    Examples:
        >>> parse_duration("1h30m") == parse_duration("PT1H30M") == timedelta(minutes=90)
        True
        >>> parse_duration("P1DT2H")
        datetime.timedelta(days=1, seconds=7200)
        >>> parse_duration("-2h", signed=True)
        datetime.timedelta(days=-1, seconds=79200)
    """
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, str):
        delta = _parse_text(value, where, days)
    else:
        raise _syntax(value, where)
    if (delta < timedelta(0) and not signed) or (not delta and not allow_zero):
        raise _fail(
            value, where, "must not be negative" if allow_zero else "must be longer than zero"
        )
    return delta


def format_duration(value: timedelta, *, days: bool = True, iso: bool = False) -> str:
    """The text of a duration that [`parse_duration()`][csmkit.automation.parse_span] reads back
    exactly.

    Args:
        value: Any ``timedelta`` (negative ones get a leading ``-``).
        days: Use the day unit; ``False`` writes hours only (``"48h"``), as business
            time is written.
        iso: Write ISO 8601 (``"P1DT2H"``) instead of the compact form (``"1d2h"``).

    Examples:
        >>> format_duration(timedelta(days=1, minutes=90))
        '1d1h30m'
        >>> format_duration(timedelta(days=1, minutes=90), days=False, iso=True)
        'PT25H30M'
        >>> format_duration(timedelta(seconds=-1.5))
        '-1.5s'
    """
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    total = value.days * 86_400 + value.seconds
    day_count, rest = divmod(total, 86_400) if days else (0, total)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    second_text = str(seconds)
    if value.microseconds:
        second_text += f".{value.microseconds:06d}".rstrip("0")
    clock = [(hours, "h", str(hours)), (minutes, "m", str(minutes))]
    clock.append((seconds or value.microseconds, "s", second_text))
    if iso:
        time_part = "".join(text + unit.upper() for n, unit, text in clock if n)
        date_part = f"{day_count}D" if day_count else ""
        if not time_part and not date_part:
            time_part = "0S"
        return f"{sign}P{date_part}" + (f"T{time_part}" if time_part else "")
    text = (f"{day_count}d" if day_count else "") + "".join(
        text + unit for n, unit, text in clock if n
    )
    return sign + (text or "0s")
