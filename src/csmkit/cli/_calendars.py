"""Calendars for the command line: files, presets, plugins; durations; ``explain``."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from csmkit.errors import CalendarError
from csmkit.sla import BusinessCalendar

__all__ = [
    "PRESETS",
    "DayExplanation",
    "LoadedCalendar",
    "check_calendar_extra",
    "explain_days",
    "load_calendar",
    "preset_zone",
]

CN_WEEK: dict[str, list[str]] = {"mon-fri": ["09:00-12:00", "13:00-18:00"]}

PRESETS: dict[str, str] = {
    "cn": (
        "mainland China: Mon-Fri 09:00-12:00, 13:00-18:00 Asia/Shanghai, public holidays "
        "and 调休 make-up workdays from the 'holidays' package (the years of your data)"
    ),
}
"""Calendar presets of ``--calendar`` and what they are."""

_PRESET_ZONES: dict[str, str] = {"cn": "Asia/Shanghai"}


def preset_zone(spec: str) -> ZoneInfo | None:
    """The time zone of preset ``spec`` (its years are local years), else ``None``."""
    name = _PRESET_ZONES.get(spec.lower())
    return ZoneInfo(name) if name is not None and not Path(spec).is_file() else None


@attrs.frozen
class LoadedCalendar:
    """A calendar and what the command line knows about its dates.

    Attributes:
        calendar: The business calendar.
        source: Where it came from (a file, ``preset cn``, ``plugin NAME``).
        holiday_names: Names of holidays by date, when the source knows them.
    """

    calendar: BusinessCalendar
    source: str
    holiday_names: dict[date, str] = attrs.field(factory=dict)


def _holidays_module() -> Any:
    try:
        return importlib.import_module("holidays")
    except ImportError:
        raise CalendarError(
            '--calendar cn needs the holidays extra: pip install "csmkit[holidays]"'
            " (or pass a calendar JSON file)"
        ) from None


def check_calendar_extra(spec: str) -> None:
    """Fail now, before any work, when ``--calendar spec`` names a preset whose extra is missing.

    Raises:
        CalendarError: the preset's package is not installed, with the ``pip install`` line.
    """
    if spec.lower() in PRESETS and not Path(spec).is_file():
        _holidays_module()


def _cn(years: list[int], allow_partial: bool) -> LoadedCalendar:
    module = _holidays_module()
    try:
        calendar = BusinessCalendar.from_holidays(
            "CN", years=years, week=CN_WEEK, allow_partial=allow_partial
        )
    except CalendarError as exc:
        if "allow_partial" not in str(exc):
            raise
        text = str(exc).replace("allow_partial=True", "--partial-calendar")
        text = text.replace("(BusinessCalendar.from_dict)", "(a calendar JSON file)")
        raise CalendarError(f"--calendar cn: {text}") from None
    names: dict[date, str] = {}
    for language in ("zh_CN", "en_US"):
        try:
            table = module.country_holidays("CN", years=years, language=language)
        except (NotImplementedError, ValueError, TypeError):
            continue
        for day, name in table.items():
            names[day] = f"{names[day]} / {name}" if day in names and names[day] != name else name
    source = f"preset cn ({years[0]}..{years[-1]})"
    if allow_partial:
        source += ", partial: years without official data have rule-based holidays only"
    return LoadedCalendar(calendar, source, names)


def load_calendar(
    spec: str, years: Iterable[int], *, allow_partial: bool = False
) -> LoadedCalendar:
    """The calendar named by ``--calendar``: a JSON file, a preset or a plugin calendar.

    Args:
        spec: A path to a ``BusinessCalendar.from_dict`` JSON file, a preset name
            (`PRESETS`), or the name of a calendar a plugin registers.
        years: The years the preset must cover (those of the data or the instants).
        allow_partial: Let a preset cover years its data does not fully know
            (``--partial-calendar``; see ``BusinessCalendar.from_holidays``).

    Raises:
        CalendarError: bad file, unknown name, the preset's extra is missing, or the
            preset's data does not cover the years (without ``allow_partial``).
    """
    path = Path(spec)
    if path.suffix.lower() == ".json" or path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CalendarError(f"{spec}: cannot read the calendar: {exc}") from None
        except json.JSONDecodeError as exc:
            raise CalendarError(f"{spec}: not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CalendarError(f"{spec}: a calendar file holds one JSON object")
        try:
            return LoadedCalendar(BusinessCalendar.from_dict(data), spec)
        except CalendarError as exc:
            raise CalendarError(f"{spec}: {exc}") from None
    year_list = sorted(set(years))
    if spec.lower() in PRESETS:
        if not year_list:
            raise CalendarError("the 'cn' preset needs instants to know which years to load")
        return _cn(list(range(year_list[0], year_list[-1] + 1)), allow_partial)
    from csmkit.plugins import PluginManager

    registered = PluginManager().calendars()
    if spec.lower() in registered:
        made = registered[spec.lower()].factory()
        if not isinstance(made, BusinessCalendar):
            raise CalendarError(
                f"calendar {spec!r} of a plugin is a {type(made).__name__}, "
                "not a csmkit.sla.BusinessCalendar"
            )
        return LoadedCalendar(made, f"plugin calendar {spec!r}")
    known = sorted({*PRESETS, *registered})
    raise CalendarError(
        f"--calendar {spec!r}: no such file, preset or plugin calendar; "
        f"use a JSON file or one of: {', '.join(known)}"
    )


@attrs.frozen
class DayExplanation:
    """Why a local date is open or closed.

    Attributes:
        day: The local date.
        hours: Its hours (``[]`` = closed).
        rule: ``override``, ``holiday``, ``make-up workday``, ``weekly`` or
            ``outside covered range``.
        note: Extra words: a holiday's name, ``weekday closed``.
    """

    day: date
    hours: tuple[str, ...]
    rule: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "date": self.day.isoformat(),
            "weekday": self.day.strftime("%a"),
            "open": bool(self.hours),
            "hours": list(self.hours),
            "rule": self.rule,
            "note": self.note,
        }


def explain_days(loaded: LoadedCalendar, first: date, last: date) -> list[DayExplanation]:
    """The hours of each local date ``first..last`` and the rule that decided them.

    The rules are those of [`BusinessCalendar`][csmkit.sla.BusinessCalendar], first that applies:
    overrides, holidays, make-up workdays, weekly hours.
    """
    calendar = loaded.calendar
    overrides = dict(calendar.overrides)
    out: list[DayExplanation] = []
    day = first
    while day <= last:
        hours = tuple(calendar.hours_on(day))
        name = loaded.holiday_names.get(day, "")
        if calendar.covers is not None and not (calendar.covers[0] <= day <= calendar.covers[1]):
            rule, note = "outside covered range", "weekly hours only"
        elif day in overrides:
            rule, note = "override", name
        elif day in calendar.holidays:
            rule, note = "holiday", name
        elif day in calendar.workdays:
            rule, note = "make-up workday", "补班 (working day in exchange for a holiday)"
        else:
            rule = "weekly"
            note = "" if hours else f"{day.strftime('%A')} is closed"
        out.append(DayExplanation(day, hours, rule, note))
        day += timedelta(days=1)
    return out


def localise(value: datetime, calendar: BusinessCalendar) -> datetime:
    """``value`` in the calendar's zone."""
    return value.astimezone(calendar.zone)
