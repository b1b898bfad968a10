"""The instant codec and the aware-datetime check, shared by every part of csmkit.

Instants are written with `datetime.isoformat()` and read with
`datetime.fromisoformat()`, so every aware datetime round-trips exactly -- including
offsets with seconds (Asia/Shanghai before 1901 is ``+08:05:43``) and microseconds. The
few ISO 8601 forms Python 3.10's ``fromisoformat`` lacks (a trailing ``Z``, a ``,``
before the fraction, fractions of other than 3 or 6 digits, basic formats such as
``20261008T093000+0800``, an offset of hours only, ``24:00``) are rewritten into the form it
reads, so every supported Python gives the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from csmkit.errors import TimelineError

__all__ = ["format_instant", "is_aware", "parse_instant", "require_aware"]

_ISO = re.compile(
    r"(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2})(?::?(?P<mi>\d{2})(?::?(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?)?"
    r" ?(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?",
    re.ASCII,
)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})?(?::?(\d{2}(?:\.\d+)?))?", re.ASCII)


# Zones whose ``utcoffset()`` of a datetime is never ``None`` (a fixed offset, an IANA
# zone): exactly these classes, not subclasses, which may answer ``None``.
_ALWAYS_AWARE: frozenset[type] = frozenset({timezone, ZoneInfo})


def is_aware(value: datetime) -> bool:
    """Return whether ``value`` carries a usable UTC offset."""
    if type(value) is datetime and type(value.tzinfo) in _ALWAYS_AWARE:
        return True
    return value.tzinfo is not None and value.utcoffset() is not None


def require_aware(
    value: object, where: str, error: Callable[[str], Exception] = TimelineError
) -> datetime:
    """``value`` if it is a timezone-aware datetime; else ``error`` naming ``where``.

    Args:
        value: The argument to check.
        where: Its name as the caller knows it (``"now"``, ``"TicketCreated.at"``).
        error: The exception class (or factory) the caller documents, e.g.
            [`RoutingError`][csmkit.errors.RoutingError];
            [`TimelineError`][csmkit.errors.TimelineError] by default.

    Raises:
        Exception: ``error(message)``: ``value`` is naive or not a datetime.
    """
    if type(value) is datetime and type(value.tzinfo) in _ALWAYS_AWARE:
        return value  # the common case, without the zone's utcoffset() lookup
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value
        got = f"naive {value!r} (attach a tzinfo, e.g. ZoneInfo('Asia/Shanghai'))"
    else:
        got = f"{type(value).__name__} {value!r}"
    raise error(f"{where} must be a timezone-aware datetime, got {got}")


def format_instant(value: datetime) -> str:
    """ISO 8601 text with the UTC offset, microseconds kept when present."""
    return value.isoformat()


def _rewrite(text: str) -> datetime | None:
    """Read the forms Python 3.10's ``fromisoformat`` refuses; ``None`` if not ISO 8601."""
    if text[-1:] in ("Z", "z"):  # the common one first: "...T09:30:00.123456Z"
        try:
            return datetime.fromisoformat(text[:-1] + "+00:00")
        except ValueError:
            pass
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    part = match.groupdict()
    fraction = (part["f"] or "")[:6].ljust(6, "0")  # finer than a µs: dropped, as 3.11 does
    clock = f"{part['h'] or '00'}:{part['mi'] or '00'}:{part['s'] or '00'}.{fraction}"
    next_day = clock == "24:00:00.000000"
    if next_day:
        clock = "00:00:00.000000"
    offset = ""
    if part["tz"] in ("Z", "z"):
        offset = "+00:00"
    elif part["tz"]:
        offset_match = _OFFSET.fullmatch(part["tz"])
        assert offset_match is not None  # _ISO admits only what _OFFSET reads
        sign, hours, minutes, seconds = offset_match.groups()
        offset = f"{sign}{hours}:{minutes or '00'}"
        if seconds:
            whole, _, micros = seconds.partition(".")
            offset += f":{whole}" + (f".{micros.ljust(6, '0')}" if micros else "")
    try:
        value = datetime.fromisoformat(f"{part['y']}-{part['mo']}-{part['d']}T{clock}{offset}")
    except ValueError:
        return None
    return value + timedelta(days=1) if next_day else value


def _sub_second_offset(text: str, value: datetime) -> datetime:
    """Keep an offset's fraction of a second, which some CPython versions' C
    ``fromisoformat`` drop (``+00:00:00.000001`` read as ``+00:00``)."""
    sign_at = max(text.rfind("+"), text.rfind("-"))
    offset = text[sign_at:]
    if sign_at <= text.find("T") or "." not in offset:
        return value  # the fraction belongs to the time of day, not the offset
    match = _OFFSET.fullmatch(offset)
    if match is None:
        return value
    sign, hours, minutes, seconds = match.groups()
    whole, _, fraction = (seconds or "0").partition(".")
    delta = timedelta(
        hours=int(hours),
        minutes=int(minutes or 0),
        seconds=int(whole),
        microseconds=int(fraction[:6].ljust(6, "0")),
    )
    delta = -delta if sign == "-" else delta
    if value.utcoffset() == delta:
        return value
    return value.replace(tzinfo=timezone(delta))


def parse_instant(text: object, where: str = "", *, zone: tzinfo | None = None) -> datetime:
    """Parse ISO 8601 text that carries an offset (``Z``, ``+08:00``, ``+08:05:43``).

    Args:
        text: The text, as written by `format_instant()` or any ISO 8601 writer.
        where: Where it came from, for the error (``"events[3].at"``).
        zone: Read text without an offset as wall-clock time in this zone instead of
            refusing it (for exports whose instants are local times).

    Raises:
        TimelineError: (a ``ValueError``) not ISO 8601, or no offset and no ``zone``.
    """
    try:
        value = datetime.fromisoformat(text)  # type: ignore[arg-type]
        if value.tzinfo is not None and "." in text[-16:]:  # type: ignore[index]
            value = _sub_second_offset(text, value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        parsed = _rewrite(text) if isinstance(text, str) else None
        if parsed is None:
            raise TimelineError(
                f"{text!r} is not an ISO 8601 instant such as '2026-10-08T09:30:00+08:00'",
                path=where,
            ) from None
        value = parsed
    if value.tzinfo is None or value.utcoffset() is None:
        if zone is None:
            raise TimelineError(
                f"instant {text!r} has no UTC offset (write one, e.g. '+08:00' or 'Z')",
                path=where,
            )
        value = value.replace(tzinfo=zone)
    return value
