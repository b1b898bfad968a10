"""Adapter from the optional ``holidays`` package to a calendar's plain-data form."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from csmkit.errors import CalendarError

__all__ = ["calendar_data"]

_SINGLE_ZONE = {
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "MO": "Asia/Macau",
    "TW": "Asia/Taipei",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "SG": "Asia/Singapore",
}


def _years(value: int | Iterable[int]) -> list[int]:
    items = [value] if isinstance(value, int) else list(value)
    if not items or not all(isinstance(y, int) and not isinstance(y, bool) for y in items):
        raise CalendarError(f"years: expected a year or consecutive years, got {value!r}")
    items = sorted(set(items))
    if items != list(range(items[0], items[-1] + 1)):
        raise CalendarError(
            f"years: {items} are not consecutive; a gap year would be answered without its holidays"
        )
    return items


def calendar_data(
    country: str,
    *,
    years: int | Iterable[int],
    week: Mapping[str, Any],
    timezone: str | None,
    subdiv: str | None,
    make_up_workdays: bool,
    workday_hours: list[str] | None,
    overrides: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The :meth:`BusinessCalendar.from_dict` data for a country's holidays."""
    try:
        holidays = importlib.import_module("holidays")
    except ImportError:
        raise CalendarError(
            "BusinessCalendar.from_holidays needs the 'holidays' package: "
            "pip install 'csmkit[holidays]'"
        ) from None
    year_list = _years(years)
    if timezone is None:
        if not isinstance(country, str) or country.upper() not in _SINGLE_ZONE:
            raise CalendarError(
                f"timezone: required for country {country!r} (pass an IANA zone name)"
            )
        timezone = _SINGLE_ZONE[country.upper()]
    try:
        table = holidays.country_holidays(country, subdiv=subdiv, years=year_list)
    except NotImplementedError as exc:
        raise CalendarError(
            f"country: the holidays package does not know {country!r} ({exc})"
        ) from None
    first, last = date(year_list[0], 1, 1), date(year_list[-1], 12, 31)
    override_days: set[date] = set()
    for key in overrides or {}:
        try:
            override_days.add(date.fromisoformat(str(key)))
        except ValueError:
            continue  # reported by from_dict, with its path
    closed = sorted(d for d in table if first <= d <= last and d not in override_days)
    make_up: list[date] = []
    if make_up_workdays:
        # ``weekend_workdays`` may hold dates of other years (cross-year swaps): keep
        # only those inside the covered range.
        make_up = sorted(
            d
            for d in getattr(table, "weekend_workdays", ())
            if first <= d <= last and d not in override_days and d not in table
        )
    data: dict[str, Any] = {
        "timezone": timezone,
        "week": dict(week),
        "holidays": [d.isoformat() for d in closed],
        "covers": {"from": first.isoformat(), "to": last.isoformat()},
    }
    if make_up:
        data["workdays"] = [d.isoformat() for d in make_up]
    if workday_hours is not None:
        data["workday_hours"] = list(workday_hours)
    if overrides:
        data["overrides"] = dict(overrides)
    return data
