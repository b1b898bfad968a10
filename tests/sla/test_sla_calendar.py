"""Examples, edge conventions and bad input of BusinessCalendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from csmkit.errors import CalendarError, CsmkitError
from csmkit.sla import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
UTC = timezone.utc
H = timedelta(hours=1)

ISSUE_EXAMPLE = {
    "timezone": "Asia/Shanghai",
    "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-14:00"]},
    "holidays": ["2026-10-01", "2026-10-02"],
    "workdays": ["2026-09-27"],
    "workday_hours": ["09:00-12:00", "13:00-18:00"],
    "overrides": {"2026-12-24": ["09:00-13:00"]},
}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


@pytest.fixture
def issue_calendar() -> BusinessCalendar:
    return BusinessCalendar.from_dict(ISSUE_EXAMPLE)


@pytest.fixture
def nine_to_six() -> BusinessCalendar:
    return BusinessCalendar.from_dict({"timezone": "UTC", "week": {"mon-fri": ["09:00-18:00"]}})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ------------------------------------------------------------------- the issue's example
def test_issue_example_round_trips(issue_calendar: BusinessCalendar):
    assert issue_calendar.to_dict() == ISSUE_EXAMPLE
    assert BusinessCalendar.from_dict(issue_calendar.to_dict()) == issue_calendar


def test_issue_example_rules(issue_calendar: BusinessCalendar):
    assert issue_calendar.hours_on(date(2026, 9, 27)) == ["09:00-12:00", "13:00-18:00"]  # Sun
    assert issue_calendar.hours_on(date(2026, 10, 1)) == []
    assert issue_calendar.hours_on(date(2026, 10, 3)) == ["10:00-14:00"]  # Saturday
    assert issue_calendar.hours_on(date(2026, 10, 4)) == []  # Sunday
    assert issue_calendar.hours_on(date(2026, 12, 24)) == ["09:00-13:00"]
    # Wed 17:00 + 2h: 1h on Wednesday, holidays Thu/Fri, then Saturday 10:00-11:00.
    assert issue_calendar.add(sh(2026, 9, 30, 17), 2 * H) == sh(2026, 10, 3, 11)
    # Sat 2026-09-26 13:30 + 1h lands on the make-up Sunday.
    assert issue_calendar.add(sh(2026, 9, 26, 13, 30), H) == sh(2026, 9, 27, 9, 30)
    # The lunch break does not count.
    assert issue_calendar.between(sh(2026, 9, 28, 11), sh(2026, 9, 28, 14)) == 2 * H
    assert issue_calendar.add(sh(2026, 9, 28, 11, 30), H) == sh(2026, 9, 28, 13, 30)


# ------------------------------------------------------------------- conventions
def test_half_open_intervals(nine_to_six: BusinessCalendar):
    assert nine_to_six.is_open(utc(2024, 1, 2, 9))
    assert not nine_to_six.is_open(utc(2024, 1, 2, 18))
    assert nine_to_six.is_open(utc(2024, 1, 2, 17, 59, 59, 999999))
    assert not nine_to_six.is_open(utc(2024, 1, 2, 8, 59, 59, 999999))


def test_deadline_on_closing_time_stays_there(nine_to_six: BusinessCalendar):
    assert nine_to_six.add(utc(2024, 1, 1, 9), 9 * H) == utc(2024, 1, 1, 18)  # not Tue 09:00
    assert nine_to_six.add(utc(2024, 1, 1, 14), 4 * H) == utc(2024, 1, 1, 18)
    # ... and subtracting lands on the opening time (pandas issue #50531).
    assert nine_to_six.add(utc(2024, 1, 1, 10), -H) == utc(2024, 1, 1, 9)
    assert nine_to_six.add(utc(2024, 1, 2, 9), -H) == utc(2024, 1, 1, 17)
    assert nine_to_six.add(utc(2024, 1, 6, 12), timedelta(0)) == utc(2024, 1, 6, 12)


def test_businesstime_regressions(nine_to_six: BusinessCalendar):
    # seatgeek/businesstime #3 and #13
    assert nine_to_six.between(utc(2024, 1, 2, 9), utc(2024, 1, 3, 9)) == 9 * H
    assert nine_to_six.between(utc(2024, 1, 5, 18), utc(2024, 1, 8, 18)) == 9 * H
    # businesstimedelta README: 40 h from Mon 09:00 to the next Mon 09:00 with lunch
    lunch = BusinessCalendar.from_dict(
        {"timezone": "UTC", "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}
    )
    assert lunch.between(utc(2024, 1, 1, 9), utc(2024, 1, 8, 9)) == 40 * H
    assert lunch.add(utc(2024, 1, 1, 9), 40 * H) == utc(2024, 1, 5, 18)


def test_between_is_negative_when_reversed(nine_to_six: BusinessCalendar):
    a, b = utc(2024, 1, 1, 10), utc(2024, 1, 2, 10)
    assert nine_to_six.between(b, a) == -9 * H
    assert nine_to_six.between(a, a) == timedelta(0)


def test_results_keep_the_callers_zone(nine_to_six: BusinessCalendar):
    start = sh(2024, 1, 1, 17)  # 09:00 UTC
    result = nine_to_six.add(start, H)
    assert result == sh(2024, 1, 1, 18)
    assert result.tzinfo is SH
    assert nine_to_six.next_open(sh(2024, 1, 6, 12)).tzinfo is SH


def test_next_open(nine_to_six: BusinessCalendar):
    assert nine_to_six.next_open(utc(2024, 1, 1, 10)) == utc(2024, 1, 1, 10)
    assert nine_to_six.next_open(utc(2024, 1, 1, 18)) == utc(2024, 1, 2, 9)
    assert nine_to_six.next_open(utc(2024, 1, 6, 12)) == utc(2024, 1, 8, 9)


def test_open_intervals(issue_calendar: BusinessCalendar):
    got = issue_calendar.open_intervals(sh(2026, 9, 30, 10), sh(2026, 10, 4))
    assert got == [
        (sh(2026, 9, 30, 10), sh(2026, 9, 30, 12)),
        (sh(2026, 9, 30, 13), sh(2026, 9, 30, 18)),
        (sh(2026, 10, 3, 10), sh(2026, 10, 3, 14)),
    ]


def test_microseconds_are_exact(nine_to_six: BusinessCalendar):
    a = utc(2024, 1, 1, 9, 0, 0, 1)
    assert nine_to_six.add(a, timedelta(microseconds=7)) == utc(2024, 1, 1, 9, 0, 0, 8)
    far = datetime(9000, 1, 3, 9, 0, 0, 123457, tzinfo=UTC)
    assert nine_to_six.add(far, H).microsecond == 123457


def test_long_spans_cross_index_blocks(nine_to_six: BusinessCalendar):
    a = utc(2024, 1, 1, 9)
    years = nine_to_six.between(a, utc(2034, 1, 2, 9))
    weekdays = sum(
        1
        for k in range((date(2034, 1, 2) - date(2024, 1, 1)).days)
        if (date(2024, 1, 1) + timedelta(days=k)).weekday() < 5
    )
    assert years == weekdays * 9 * H
    # Mon 2034-01-02 09:00 is the same business instant as the Friday before at 18:00.
    assert nine_to_six.add(a, years) == utc(2033, 12, 30, 18)
    assert nine_to_six.add(utc(2034, 1, 2, 9), -years) == a


# ------------------------------------------------------------------- overnight and DST
def test_overnight_interval_belongs_to_its_start_day():
    cal = BusinessCalendar.from_dict({"timezone": "UTC", "week": {"mon-fri": ["22:00-06:00"]}})
    # Fri 23:00 -> Sat 05:00 is inside Friday's shift (business-duration says 1h).
    assert cal.between(utc(2024, 3, 8, 23), utc(2024, 3, 9, 5)) == 6 * H
    # Thu 23:00 -> Fri 01:00 (businesstimedelta says 0).
    assert cal.between(utc(2024, 3, 7, 23), utc(2024, 3, 8, 1)) == 2 * H
    assert cal.add(utc(2024, 3, 7, 23), H) == utc(2024, 3, 8, 0)
    # Subtracting across it (businesstimedelta raises OverflowError).
    assert cal.add(utc(2024, 3, 9, 5), -6 * H) == utc(2024, 3, 8, 23)
    # Monday 00:00-06:00 is Sunday's shift: closed.
    assert cal.between(utc(2024, 3, 11, 0), utc(2024, 3, 12, 6)) == 8 * H
    assert not cal.is_open(utc(2024, 3, 11, 3))


def test_all_day_and_overnight_spill_are_united():
    cal = BusinessCalendar.from_dict(
        {
            "timezone": "UTC",
            "week": {"mon": ["00:00-24:00"], "tue": ["20:00-04:00"], "wed": ["02:00-05:00"]},
        }
    )
    assert cal.to_dict()["week"]["mon"] == ["00:00-24:00"]
    assert cal.open_intervals(utc(2024, 1, 1), utc(2024, 1, 4)) == [
        (utc(2024, 1, 1), utc(2024, 1, 2)),
        (utc(2024, 1, 2, 20), utc(2024, 1, 3, 5)),
    ]
    assert cal.between(utc(2024, 1, 1), utc(2024, 1, 4)) == 33 * H


def test_dst_spring_forward_counts_real_hours():
    overnight = BusinessCalendar.from_dict(
        {"timezone": "America/New_York", "week": {"mon-sun": ["22:00-06:00"]}}
    )
    # Sat 22:00 EST -> Sun 06:00 EDT is 7 real hours (pandas counts 8 wall hours).
    assert overnight.between(ny(2024, 3, 9, 22), ny(2024, 3, 10, 6)) == 7 * H
    assert overnight.add(ny(2024, 3, 9, 22), 7 * H) == ny(2024, 3, 10, 6)
    office = BusinessCalendar.from_dict(
        {"timezone": "America/New_York", "week": {"mon-fri": ["09:00-18:00"]}}
    )
    assert office.between(ny(2024, 3, 8, 17), ny(2024, 3, 11, 10)) == 2 * H
    assert office.add(ny(2024, 3, 8, 17), 2 * H) == ny(2024, 3, 11, 10)


def test_dst_fall_back_and_gap_openings():
    cal = BusinessCalendar.from_dict(
        {
            "timezone": "America/New_York",
            "week": {"sun": ["00:00-01:30", "01:30-03:00"], "sat": ["02:30-05:00"]},
        }
    )
    # 2024-11-03: 01:00-02:00 happens twice; 01:30 means its first occurrence.
    first = datetime(2024, 11, 3, 1, 30, tzinfo=NY)  # EDT, fold=0
    assert cal.between(ny(2024, 11, 3, 0), first) == 1.5 * H
    assert cal.between(first, ny(2024, 11, 3, 3)) == 2.5 * H
    # 2024-03-09 is a Saturday without a gap; 2024-03-10 has the gap at 02:00-03:00.
    gap = BusinessCalendar.from_dict(
        {"timezone": "America/New_York", "week": {"sun": ["02:30-05:00"]}}
    )
    opening = gap.next_open(ny(2024, 3, 10, 0))
    assert opening == datetime(2024, 3, 10, 7, tzinfo=UTC)  # 03:00 EDT, the gap's end
    assert gap.between(ny(2024, 3, 10, 0), ny(2024, 3, 10, 6)) == 2 * H


# ------------------------------------------------------------------- covered range
def test_covered_range_refuses_outside_queries():
    cal = BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "week": {"mon-fri": ["09:00-18:00"]},
            "covers": {"from": "2026-01-01", "to": "2026-12-31"},
        }
    )
    with pytest.raises(CalendarError, match="outside the calendar's covered range"):
        cal.is_open(sh(2027, 1, 4, 10))
    with pytest.raises(CalendarError, match="beyond the end"):
        cal.add(sh(2026, 12, 31, 17), 2 * H)
    with pytest.raises(CalendarError, match="before the start"):
        cal.add(sh(2026, 1, 1, 10), -2 * H)
    assert cal.add(sh(2026, 12, 31, 17), H) == sh(2026, 12, 31, 18)
    with pytest.raises(CalendarError, match="covered range"):
        cal.between(sh(2026, 12, 1), sh(2027, 1, 5))


def test_outside_weekly_fallback_is_opt_in():
    cal = BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "week": {"mon-fri": ["09:00-18:00"]},
            "holidays": ["2026-12-31"],
            "covers": {"from": "2026-01-01", "to": "2026-12-31"},
            "outside": "weekly",
        }
    )
    assert cal.add(sh(2026, 12, 30, 17), 2 * H) == sh(2027, 1, 1, 10)
    assert BusinessCalendar.from_dict(cal.to_dict()) == cal


def test_no_open_time_after_the_last_override_is_an_error():
    cal = BusinessCalendar.from_dict(
        {"timezone": "UTC", "week": {}, "overrides": {"2026-05-01": ["09:00-10:00"]}}
    )
    assert cal.add(utc(2026, 4, 1), H) == utc(2026, 5, 1, 10)
    with pytest.raises(CalendarError, match="no open time after"):
        cal.add(utc(2026, 4, 1), 2 * H)
    with pytest.raises(CalendarError, match="no open time after"):
        cal.next_open(utc(2026, 5, 1, 10))
    with pytest.raises(CalendarError, match="no open time before"):
        cal.add(utc(2026, 5, 2), -2 * H)


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"timezone": "Mars/Olympus", "week": {"mon": ["09:00-18:00"]}},
            "timezone: unknown IANA time zone 'Mars/Olympus'",
        ),
        ({"week": {"mon": ["09:00-18:00"]}}, "timezone: required"),
        (
            {"timezone": "UTC", "week": {"mon": ["25:00-26:00"]}},
            "week.mon[0]: '25:00-26:00': opening '25:00'",
        ),
        ({"timezone": "UTC", "week": {"mon": ["09:00-24:30"]}}, "closing '24:30'"),
        (
            {"timezone": "UTC", "week": {"mon": ["09:00-09:00"]}},
            "week.mon[0]: '09:00-09:00': opening and closing are equal",
        ),
        ({"timezone": "UTC", "week": {"mon": ["9-18"]}}, "week.mon[0]"),
        ({"timezone": "UTC", "week": {"mon": "09:00-18:00"}}, "week.mon: expected a list"),
        (
            {"timezone": "UTC", "week": {"mon": ["09:00-12:00", "11:00-13:00"]}},
            "week.mon[1]: '11:00-13:00' overlaps week.mon[0] '09:00-12:00'",
        ),
        ({"timezone": "UTC", "week": {"mon": ["22:00-06:00", "23:00-23:30"]}}, "overlaps"),
        (
            {"timezone": "UTC", "week": {"monday": ["09:00-18:00"]}},
            "week.monday: unknown weekday name",
        ),
        (
            {"timezone": "UTC", "week": {"mon-fri": ["09:00-18:00"], "fri": ["10:00-11:00"]}},
            "week.fri: fri is already given by week.mon-fri",
        ),
        (
            {
                "timezone": "UTC",
                "week": {"mon": ["09:00-18:00"]},
                "holidays": ["2026-10-01"],
                "workdays": ["2026-10-01"],
            },
            "workdays: 2026-10-01 is also listed in holidays",
        ),
        (
            {"timezone": "UTC", "week": {"mon": ["09:00-18:00"]}, "holidays": ["2026-13-01"]},
            "holidays[0]: '2026-13-01' is not a date",
        ),
        (
            {
                "timezone": "UTC",
                "week": {"mon": ["09:00-18:00"]},
                "overrides": {"2026-10-01": ["10:00-09:00", "08:00-12:00"]},
            },
            "overrides.2026-10-01[1]",
        ),
        (
            {
                "timezone": "UTC",
                "week": {"mon": ["09:00-18:00"]},
                "holidays": ["2026-10-01"],
                "overrides": {"2026-10-01": []},
            },
            "overrides: 2026-10-01 is also listed in holidays",
        ),
        (
            {"timezone": "UTC", "week": {"sat": ["09:00-18:00"]}, "workdays": ["2026-10-11"]},
            "workday_hours: required because Monday has no hours",
        ),
        ({"timezone": "UTC", "week": {}}, "no open time at all"),
        (
            {"timezone": "UTC", "week": {"mon": []}, "holidays": ["2026-01-01"]},
            "no open time at all",
        ),
        ({"timezone": "UTC", "week": {"mon": ["09:00-18:00"]}, "wek": {}}, "wek: unknown key"),
        (
            {
                "timezone": "UTC",
                "week": {"mon": ["09:00-18:00"]},
                "covers": {"from": "2026-12-31", "to": "2026-01-01"},
            },
            "covers: 'from' 2026-12-31 is after 'to' 2026-01-01",
        ),
        (
            {
                "timezone": "UTC",
                "week": {"mon": ["09:00-18:00"]},
                "holidays": ["2025-12-25"],
                "covers": {"from": "2026-01-01", "to": "2026-12-31"},
            },
            "holidays: 2025-12-25 is outside covers",
        ),
        (
            {"timezone": "UTC", "week": {"mon": ["09:00-18:00"]}, "outside": "guess"},
            "outside: expected 'error' or 'weekly'",
        ),
    ],
)
def test_bad_definitions(data: dict[str, object], message: str):
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(data)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, CsmkitError)


def test_all_problems_are_collected():
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(
            {
                "timezone": "Nowhere/City",
                "week": {"mon": ["25:00-26:00"], "xyz": []},
                "holidays": ["2026-10-01"],
                "workdays": ["2026-10-01", "bad"],
            }
        )
    text = str(info.value)
    for part in ("timezone", "week.mon[0]", "week.xyz", "workdays[1]", "also listed"):
        assert part in text


def test_naive_and_wrong_arguments(nine_to_six: BusinessCalendar):
    naive = datetime(2024, 1, 1, 10)
    with pytest.raises(CalendarError, match="at must be a timezone-aware datetime, got naive"):
        nine_to_six.is_open(naive)
    with pytest.raises(CalendarError, match="at must be a timezone-aware datetime, got naive"):
        nine_to_six.add(naive, H)
    with pytest.raises(CalendarError, match="end must be a timezone-aware datetime, got naive"):
        nine_to_six.between(utc(2024, 1, 1), naive)
    with pytest.raises(CalendarError, match="start must be a timezone-aware datetime, got naive"):
        nine_to_six.open_intervals(naive, utc(2024, 1, 1))
    with pytest.raises(CalendarError, match="at must be a timezone-aware datetime"):
        nine_to_six.next_open("2024-01-01T10:00:00Z")  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="delta must be a timedelta"):
        nine_to_six.add(utc(2024, 1, 1), 3600)  # type: ignore[arg-type]
    fresh = BusinessCalendar.from_dict(nine_to_six.to_dict())
    with pytest.raises(CalendarError, match="delta must be a timedelta, got NoneType"):
        fresh.add(utc(2024, 1, 1), None)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="day must be a date"):
        nine_to_six.hours_on(utc(2024, 1, 1))


def test_direct_construction_is_validated():
    with pytest.raises(CalendarError, match="overlap"):
        BusinessCalendar(timezone="UTC", week=(((0, 7200), (3600, 9000)),) + ((),) * 6)
    with pytest.raises(CalendarError, match="7 days"):
        BusinessCalendar(timezone="UTC", week=())
