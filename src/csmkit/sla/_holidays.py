"""Adapter from the optional ``holidays`` package to a calendar's plain-data form."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from csmkit.errors import CalendarError

__all__ = ["calendar_data", "covered_years"]

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


@functools.lru_cache(maxsize=32)
def _coverage(module: Any, country: str, subdiv: str | None) -> tuple[frozenset[int], bool]:
    """The years the package fully knows for ``country``, and whether it shifts workdays.

    Countries that move working days around holidays (China's 调休) publish each year's
    arrangement by notice; the package holds those as per-year special-day tables, and
    for any other year it can only apply the fixed rules (no bridge days, no make-up
    workdays). So for such a country a year is covered when a special table has it;
    for every other country, when it lies in the package's supported range.
    """
    table = module.country_holidays(country, subdiv=subdiv)
    start, end = getattr(table, "start_year", None), getattr(table, "end_year", None)
    special: set[int] = set()
    for name in dir(table):
        if name.startswith("special_") and name.endswith(("holidays", "holidays_observed")):
            value = getattr(table, name, None)
            if isinstance(value, Mapping):
                special.update(year for year in value if isinstance(year, int))
    if isinstance(start, int) and isinstance(end, int):
        supported = frozenset(range(start, end + 1))
        special &= supported
    else:  # an old package without a declared range: only its special tables are known
        supported = frozenset(special)
    if special:
        probe = module.country_holidays(country, subdiv=subdiv, years=sorted(special))
        if getattr(probe, "weekend_workdays", None):
            return frozenset(special), True
    return supported, False


def _spans(years: Iterable[int]) -> str:
    """``2001..2026, 2028`` for a set of years."""
    items = sorted(years)
    if not items:
        return "no year"
    parts: list[str] = []
    first = last = items[0]
    for year in [*items[1:], None]:
        if year is not None and year == last + 1:
            last = year
            continue
        parts.append(str(first) if first == last else f"{first}..{last}")
        if year is not None:
            first = last = year
    return ", ".join(parts)


def covered_years(country: str, *, subdiv: str | None = None) -> frozenset[int]:
    """The years for which the installed ``holidays`` package fully knows ``country``.

    For a country that shifts working days around its holidays (China's 调休), the
    years whose official arrangement (holidays *and* make-up workdays) the package
    holds; for other countries, its supported range.

    Raises:
        CalendarError: ``holidays`` is not installed or does not know the country.
    """
    module = _holidays_module()
    try:
        return _coverage(module, country, subdiv)[0]
    except NotImplementedError as exc:
        raise CalendarError(
            f"country: the holidays package does not know {country!r} ({exc})"
        ) from None


def _holidays_module() -> Any:
    try:
        return importlib.import_module("holidays")
    except ImportError:
        raise CalendarError(
            "BusinessCalendar.from_holidays needs the 'holidays' package: "
            "pip install 'csmkit[holidays]'"
        ) from None


def _check_coverage(
    module: Any, country: str, subdiv: str | None, years: list[int], allow_partial: bool
) -> None:
    covered, shifts = _coverage(module, country, subdiv)
    missing = [year for year in years if year not in covered]
    if not missing or allow_partial:
        return
    version = getattr(module, "__version__", "?")
    if shifts:
        what = "the official holidays and make-up workdays (调休)"
        fallback = "its rule-based holidays (no bridge days, no make-up workdays)"
    else:
        what, fallback = "the holidays", "no holidays at all"
    raise CalendarError(
        f"years: the holidays package ({version}) does not fully cover {country} in "
        f"{_spans(missing)}: it has {what} of {_spans(covered)} only. Give the dates "
        "yourself (BusinessCalendar.from_dict), or pass allow_partial=True to accept "
        f"{fallback} in those years"
    )


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
    allow_partial: bool = False,
) -> dict[str, Any]:
    """The [`BusinessCalendar.from_dict()`][csmkit.sla.BusinessCalendar.from_dict] data for a
    country's holidays."""
    holidays = _holidays_module()
    year_list = _years(years)
    if timezone is None:
        if not isinstance(country, str) or country.upper() not in _SINGLE_ZONE:
            raise CalendarError(
                f"timezone: required for country {country!r} (pass an IANA zone name)"
            )
        timezone = _SINGLE_ZONE[country.upper()]
    try:
        table = holidays.country_holidays(country, subdiv=subdiv, years=year_list)
        _check_coverage(holidays, country, subdiv, year_list, allow_partial)
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
