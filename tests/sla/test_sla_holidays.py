"""BusinessCalendar.from_holidays with the optional ``holidays`` package (China 调休)."""

from __future__ import annotations

import sys
import types
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


# ---------------------------------------------------------------------- coverage (调休)
def test_a_covered_year_has_its_make_up_days():
    pytest.importorskip("holidays")
    cal = BusinessCalendar.from_holidays("CN", years=2025, week=WEEK)
    # 2025 Spring Festival: Sun 01-26 and Sat 02-08 are make-up working days (补班).
    assert {date(2025, 1, 26), date(2025, 2, 8)} <= cal.workdays
    assert cal.hours_on(date(2025, 1, 26)) == ["09:00-12:00", "13:00-18:00"]
    assert all(cal.hours_on(date(2025, 1, day)) == [] for day in range(28, 32))
    # Fri 01-24 17:00 + 2h lands on the working Sunday.
    assert cal.add(sh(2025, 1, 24, 17), 2 * H) == sh(2025, 1, 26, 10)


@pytest.mark.parametrize(
    ("years", "named"), [(2090, "2090"), (range(2026, 2029), "2027..2028"), (2101, "2101")]
)
def test_a_year_without_official_data_is_refused(years: int | range, named: str):
    pytest.importorskip("holidays")
    from csmkit.sla._holidays import _spans, covered_years

    covered = covered_years("CN")
    assert 2025 in covered and 2090 not in covered
    with pytest.raises(CalendarError) as caught:
        BusinessCalendar.from_holidays("CN", years=years, week=WEEK)
    message = str(caught.value)
    assert f"does not fully cover CN in {named}:" in message
    assert f"make-up workdays (调休) of {_spans(covered)} only" in message
    assert "allow_partial=True" in message
    # The same for a calendar that does not work the make-up days: the bridge days
    # off are still only in the official data.
    with pytest.raises(CalendarError, match=named):
        BusinessCalendar.from_holidays("CN", years=years, week=WEEK, make_up_workdays=False)


def test_allow_partial_uses_the_rule_based_holidays():
    pytest.importorskip("holidays")
    cal = BusinessCalendar.from_holidays("CN", years=2090, week=WEEK, allow_partial=True)
    assert cal.covers == (date(2090, 1, 1), date(2090, 12, 31))
    assert not cal.workdays  # no make-up days: nobody has announced them
    assert cal.hours_on(date(2090, 10, 2)) == []  # the statutory National Day holiday
    mixed = BusinessCalendar.from_holidays(
        "CN", years=range(2026, 2028), week=WEEK, allow_partial=True
    )
    assert date(2026, 10, 10) in mixed.workdays
    assert not [day for day in mixed.workdays if day.year == 2027]


def test_countries_without_make_up_days_are_covered_by_the_package_range():
    holidays = pytest.importorskip("holidays")
    japan = holidays.country_holidays("JP")
    cal = BusinessCalendar.from_holidays("JP", years=2030, week=WEEK)
    assert date(2030, 1, 1) in cal.holidays
    after = japan.end_year + 1
    with pytest.raises(CalendarError, match=f"JP in {after}: it has the holidays of "):
        BusinessCalendar.from_holidays("JP", years=after, week=WEEK)


class _FakeTable(dict):  # type: ignore[type-arg]
    start_year, end_year = 2000, 2100

    def __init__(self, years: list[int] | None) -> None:
        super().__init__()
        self.special_public_holidays = {2030: ((5, 6, 5, 11),), 2031: ((5, 6, 5, 10),)}
        self.weekend_workdays = {date(2030, 5, 11)} if years is not None else set()
        for year in years or ():
            self[date(year, 5, 1)] = "Labour Day"


def test_coverage_is_read_from_the_installed_package(monkeypatch: pytest.MonkeyPatch):
    """No year list is written in csmkit: a package that knows 2030..2031 covers those."""
    fake = types.ModuleType("holidays")
    fake.country_holidays = lambda country, subdiv=None, years=None, **_: _FakeTable(years)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "holidays", fake)
    cal = BusinessCalendar.from_holidays("CN", years=2030, week=WEEK)
    assert cal.workdays == {date(2030, 5, 11)} and date(2030, 5, 1) in cal.holidays
    with pytest.raises(CalendarError, match=r"in 2032: it has .* of 2030\.\.2031 only"):
        BusinessCalendar.from_holidays("CN", years=2032, week=WEEK)
