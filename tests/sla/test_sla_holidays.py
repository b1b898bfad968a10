"""BusinessCalendar.from_holidays with the optional ``holidays`` package (China 调休)."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from csmkit.errors import CalendarError
from csmkit.sla import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
WEEK = {"mon-fri": ["09:00-12:00", "13:00-18:00"]}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def test_missing_package_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "holidays", None)  # makes `import holidays` fail
    with pytest.raises(CalendarError, match=r"pip install 'csmkit\[holidays\]'"):
        BusinessCalendar.from_holidays("CN", years=2026, week=WEEK)


def test_china_2026_national_day_with_make_up_days():
    pytest.importorskip("holidays")
    cal = BusinessCalendar.from_holidays("CN", years=2026, week=WEEK)
    assert cal.timezone == "Asia/Shanghai"
    assert cal.covers == (date(2026, 1, 1), date(2026, 12, 31))
    # 2026-10-01..07 closed (10-04 is a Sunday), make-up workdays Sun 09-20 and Sat 10-10.
    for day in range(1, 8):
        assert cal.hours_on(date(2026, 10, day)) == []
    assert date(2026, 9, 20) in cal.workdays and date(2026, 10, 10) in cal.workdays
    assert cal.hours_on(date(2026, 10, 10)) == ["09:00-12:00", "13:00-18:00"]
    # Fri 09-18 17:00 + 2h lands on the make-up Sunday 09-20.
    assert cal.add(sh(2026, 9, 18, 17), 2 * H) == sh(2026, 9, 20, 10)
    # Wed 09-30 17:00 + 2h skips the whole Golden Week.
    assert cal.add(sh(2026, 9, 30, 17), 2 * H) == sh(2026, 10, 8, 10)
    assert cal.between(sh(2026, 9, 30, 9), sh(2026, 10, 11, 9)) == 8 * 4 * H
    # The covered range is exactly the loaded years.
    with pytest.raises(CalendarError, match="covered range"):
        cal.is_open(sh(2027, 1, 4, 10))
    assert BusinessCalendar.from_dict(cal.to_dict()) == cal


def test_make_up_days_are_optional_and_years_must_be_consecutive():
    pytest.importorskip("holidays")
    market = BusinessCalendar.from_holidays("CN", years=2026, week=WEEK, make_up_workdays=False)
    assert not market.workdays
    assert market.hours_on(date(2026, 9, 20)) == []
    two = BusinessCalendar.from_holidays("CN", years=range(2025, 2027), week=WEEK)
    assert two.covers == (date(2025, 1, 1), date(2026, 12, 31))
    with pytest.raises(CalendarError, match="not consecutive"):
        BusinessCalendar.from_holidays("CN", years=[2024, 2026], week=WEEK)
    with pytest.raises(CalendarError, match="timezone: required"):
        BusinessCalendar.from_holidays("US", years=2026, week=WEEK)
    with pytest.raises(CalendarError, match="does not know"):
        BusinessCalendar.from_holidays("XX", years=2026, week=WEEK, timezone="UTC")


def test_overrides_win_over_package_holidays():
    pytest.importorskip("holidays")
    cal = BusinessCalendar.from_holidays(
        "CN", years=2026, week=WEEK, overrides={"2026-10-01": ["10:00-12:00"]}
    )
    assert cal.hours_on(date(2026, 10, 1)) == ["10:00-12:00"]
