"""Property tests of BusinessCalendar arithmetic over generated calendars.

The reference implementation below walks real time minute by minute and decides
"open" from the wall clock, which makes it slow and obviously right:

* ``W(m)``, the latest wall-clock reading shown up to minute ``m``, is monotone even
  across an autumn overlap; a day's interval ``[s, e)`` is open exactly while
  ``d + s <= W(m) < d + e``. That is the calendar's documented rule: a wall time
  means the first instant the clock shows it (or a later time, inside a spring gap).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume, given
from hypothesis import strategies as st

from csmkit.sla import BusinessCalendar

MINUTE = timedelta(minutes=1)
UTC = timezone.utc
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Around daylight-saving changes (spring and autumn, both zones) and an ordinary week.
BASES = {
    "America/New_York": [date(2024, 3, 10), date(2024, 11, 3)],
    "Europe/Berlin": [date(2024, 3, 31), date(2024, 10, 27)],
    "Asia/Shanghai": [date(2026, 9, 30)],
    "UTC": [date(2024, 12, 31)],
}


def _hhmm(half_hours: int) -> str:
    return f"{half_hours // 2:02d}:{30 * (half_hours % 2):02d}"


@st.composite
def day_hours(draw: Any) -> list[str]:
    """0-3 intervals on a half-hour grid; the last may cross midnight."""
    count = draw(st.integers(0, 3))
    if not count:
        return []
    points = sorted(draw(st.sets(st.integers(0, 48), min_size=2 * count, max_size=2 * count)))
    pairs = [(points[2 * i], points[2 * i + 1]) for i in range(count)]
    out = [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in pairs]
    if draw(st.booleans()) and pairs[-1][0] < 48:
        start = pairs[-1][0]
        end = draw(st.integers(1, start)) if start > 0 else 0
        if 0 < end < start:  # overnight: e.g. 22:00-06:00
            out[-1] = f"{_hhmm(start)}-{_hhmm(end)}"
    return out


@st.composite
def calendars(draw: Any) -> tuple[BusinessCalendar, datetime]:
    zone = draw(st.sampled_from(sorted(BASES)))
    base = draw(st.sampled_from(BASES[zone]))
    week = {day: draw(day_hours()) for day in WEEKDAYS}
    week = {k: v for k, v in week.items() if v}
    if not week:
        week = {"mon-fri": ["09:00-18:00"]}
    near = [base + timedelta(days=k) for k in range(-3, 5)]
    chosen = draw(st.lists(st.sampled_from(near), unique=True, max_size=4))
    kinds = draw(st.lists(st.sampled_from(["holiday", "workday", "override"]), min_size=4))
    data: dict[str, Any] = {"timezone": zone, "week": week}
    for day, kind in zip(chosen, kinds, strict=False):
        if kind == "holiday":
            data.setdefault("holidays", []).append(day.isoformat())
        elif kind == "workday":
            data.setdefault("workdays", []).append(day.isoformat())
            data["workday_hours"] = draw(day_hours().filter(bool))
        else:
            data.setdefault("overrides", {})[day.isoformat()] = draw(day_hours())
    calendar = BusinessCalendar.from_dict(data)
    origin = datetime(base.year, base.month, base.day, tzinfo=ZoneInfo(zone)) - timedelta(days=1)
    return calendar, origin.astimezone(UTC)


class Reference:
    """Minute-walking reference for a calendar (only for minute-aligned instants)."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.timezone)
        self.cache: dict[date, list[tuple[datetime, datetime]]] = {}

    def _hours(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.cache:
            return self.cache[day]
        out = self.cache[day] = []
        midnight = datetime(day.year, day.month, day.day)
        for text in self.calendar.hours_on(day):
            a, b = text.split("-")
            start = midnight + timedelta(hours=int(a[:2]), minutes=int(a[3:]))
            end = midnight + timedelta(hours=int(b[:2]), minutes=int(b[3:]))
            if end <= start:
                end += timedelta(days=1)
            out.append((start, end))
        return out

    def open_minutes(self, start: datetime, end: datetime) -> list[bool]:
        """Open flag of each real minute in ``[start, end)``."""
        return list(self.walk(start, end))

    def walk(self, start: datetime, end: datetime) -> Iterator[bool]:
        """Yield the open flag of each real minute in ``[start, end)``."""
        wall_max = None
        m = start - timedelta(hours=3)
        while m < end:
            wall = m.astimezone(self.zone).replace(tzinfo=None)
            wall_max = wall if wall_max is None or wall > wall_max else wall_max
            if m >= start:
                day = wall_max.date()
                yield any(
                    s <= wall_max < e
                    for d in (day, day - timedelta(days=1), day - timedelta(days=2))
                    for s, e in self._hours(d)
                )
            m += MINUTE

    def between(self, a: datetime, b: datetime) -> timedelta:
        if b < a:
            return -self.between(b, a)
        return sum(self.open_minutes(a, b)) * MINUTE

    def add(self, a: datetime, minutes: int, horizon: timedelta) -> datetime | None:
        count = 0
        for i, flag in enumerate(self.walk(a, a + horizon)):
            count += flag
            if flag and count == minutes:
                return a + (i + 1) * MINUTE
        return None


minutes_in_window = st.integers(0, 4 * 24 * 60)


@given(calendars(), minutes_in_window, st.integers(0, 3 * 24 * 60))
def test_between_matches_minute_walk(case: tuple[BusinessCalendar, datetime], x: int, y: int):
    calendar, origin = case
    a, b = origin + x * MINUTE, origin + x * MINUTE + y * MINUTE
    assert calendar.between(a, b) == Reference(calendar).between(a, b)
    assert calendar.between(b, a) == -calendar.between(a, b)


@given(calendars(), minutes_in_window, st.integers(1, 12 * 60))
def test_add_matches_minute_walk(case: tuple[BusinessCalendar, datetime], x: int, d: int):
    calendar, origin = case
    a = origin + x * MINUTE
    expected = Reference(calendar).add(a, d, timedelta(days=4))
    assume(expected is not None)
    assert calendar.add(a, d * MINUTE) == expected


@given(calendars(), minutes_in_window)
def test_is_open_and_open_intervals_match_minute_walk(
    case: tuple[BusinessCalendar, datetime], x: int
):
    calendar, origin = case
    a = origin + x * MINUTE
    b = a + timedelta(hours=30)
    flags = Reference(calendar).open_minutes(a, b)
    assert calendar.is_open(a) == flags[0]
    covered = [False] * len(flags)
    for start, end in calendar.open_intervals(a, b):
        assert a <= start < end <= b
        for i in range((start - a) // MINUTE, (end - a) // MINUTE):
            covered[i] = True
    assert covered == flags
    opening = calendar.next_open(a)
    if True in flags:
        assert opening == a + flags.index(True) * MINUTE


durations = st.integers(0, 40 * 3600 * 10**6).map(lambda us: timedelta(microseconds=us))
offsets = st.integers(0, 4 * 86400 * 10**6).map(lambda us: timedelta(microseconds=us))


@given(calendars(), offsets, durations)
def test_between_of_add_gives_back_the_duration(
    case: tuple[BusinessCalendar, datetime], x: timedelta, d: timedelta
):
    calendar, origin = case
    a = origin + x
    assert calendar.between(a, calendar.add(a, d)) == d
    assert calendar.between(calendar.add(a, -d), a) == d


@given(calendars(), offsets, offsets, durations, durations)
def test_add_is_monotone(
    case: tuple[BusinessCalendar, datetime],
    x: timedelta,
    y: timedelta,
    d1: timedelta,
    d2: timedelta,
):
    calendar, origin = case
    a, b = sorted([origin + x, origin + y])
    d1, d2 = sorted([d1, d2])
    assert calendar.add(a, d1) <= calendar.add(b, d1)
    assert calendar.add(a, d1) <= calendar.add(a, d2)
    assert calendar.add(a, -d2) <= calendar.add(a, -d1)


@given(calendars(), offsets, offsets, offsets)
def test_between_is_additive(
    case: tuple[BusinessCalendar, datetime], x: timedelta, y: timedelta, z: timedelta
):
    calendar, origin = case
    a, b, c = origin + x, origin + y, origin + z
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)


@given(calendars(), offsets, durations, durations, st.booleans())
def test_add_composes(
    case: tuple[BusinessCalendar, datetime],
    x: timedelta,
    d1: timedelta,
    d2: timedelta,
    backwards: bool,
):
    calendar, origin = case
    a = origin + x
    if backwards:
        d1, d2 = -d1, -d2
    assert calendar.add(calendar.add(a, d1), d2) == calendar.add(a, d1 + d2)


@given(calendars())
def test_dict_round_trip(case: tuple[BusinessCalendar, datetime]):
    calendar, _ = case
    data = calendar.to_dict()
    again = BusinessCalendar.from_dict(data)
    assert again == calendar
    assert again.to_dict() == data
    assert hash(again) == hash(calendar)
