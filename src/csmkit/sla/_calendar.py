"""`BusinessCalendar`: weekly hours, holidays, make-up workdays (调休) and per-date hours."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from csmkit._pickling import reduce_by_init
from csmkit._time import require_aware
from csmkit.errors import CalendarError
from csmkit.sla._hours import (
    WEEKDAYS,
    Hours,
    format_hours,
    hours_problems,
    parse_date,
    parse_hours,
    parse_weekday_key,
)
from csmkit.sla._index import EPOCH, MICROSECOND, Engine, from_us, wall_to_us

__all__ = ["BusinessCalendar"]

_KEYS = (
    "timezone",
    "week",
    "holidays",
    "workdays",
    "workday_hours",
    "overrides",
    "covers",
    "outside",
)
_OUTSIDE = ("error", "weekly")
_fromtimestamp = datetime.fromtimestamp


def _load_zone(name: object) -> tzinfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys, OSError
        return None


def _to_us(value: object, name: str) -> int:
    """Integer µs since the epoch of an aware datetime; clear errors otherwise."""
    try:
        result: int = (value - EPOCH) // MICROSECOND  # type: ignore[operator]
    except TypeError:
        require_aware(value, name, CalendarError)
        raise  # an aware datetime that does not subtract: not csmkit's to explain
    return result


def _delta_us(value: object, name: str) -> int:
    if not isinstance(value, timedelta):
        raise CalendarError(f"{name} must be a timedelta, got {type(value).__name__} {value!r}")
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def _date_set(value: Iterable[date]) -> frozenset[date]:
    out = frozenset(value)
    for day in out:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise CalendarError(f"expected dates, got {type(day).__name__} {day!r}")
    return out


def _check_week(week: tuple[Hours, ...]) -> list[str]:
    problems: list[str] = []
    if not isinstance(week, tuple) or len(week) != 7:
        return [f"week: expected 7 days of hours, got {week!r}"]
    for name, hours in zip(WEEKDAYS, week, strict=True):
        problems.extend(f"week.{name}: {p}" for p in hours_problems(hours))
    return problems


@attrs.frozen(eq=True)
class BusinessCalendar:
    """When a service desk is open: weekly hours, holidays, make-up workdays, special dates.

    Build one with [`from_dict()`][csmkit.sla.BusinessCalendar.from_dict] (or
    [`from_holidays()`][csmkit.sla.BusinessCalendar.from_holidays]);
    [`to_dict()`][csmkit.sla.BusinessCalendar.to_dict] gives the same data back. Hours are
    wall-clock times in the calendar's IANA zone, turned into real instants day by day, so
    daylight-saving gaps and overlaps count in real seconds.

    How the hours of a local date are decided, first rule that applies:

    1. ``overrides`` lists the date: those hours (``[]`` = closed).
    2. ``holidays`` lists it: closed all day.
    3. ``workdays`` lists it (a make-up working day, 补班): ``workday_hours``
       (default: Monday's hours).
    4. otherwise the weekly hours of its weekday.

    An interval such as ``"22:00-06:00"`` crosses midnight and belongs to the day it
    starts on (a Friday night shift runs into Saturday even when Saturday is closed).
    Open intervals are half-open, ``[opening, closing)``.

    Attributes:
        timezone: IANA zone name, e.g. ``"Asia/Shanghai"``.
        week: Hours of Monday .. Sunday (seconds after local midnight).
        holidays: Dates closed all day.
        workdays: Make-up working days (调休补班), open with ``workday_hours``.
        workday_hours: Hours of a make-up day; ``None`` means Monday's hours.
        overrides: ``(date, hours)`` pairs, sorted by date.
        covers: ``(first, last)`` dates the calendar's data is known for, or ``None``
            (valid for every date).
        outside: ``"error"`` (queries outside ``covers`` raise
            [`CalendarError`][csmkit.errors.CalendarError]) or ``"weekly"`` (outside ``covers`` only
            the weekly hours apply).

    Raises:
        CalendarError: Any problem in the definition; every problem found is listed.
    """

    timezone: str
    week: tuple[Hours, ...]
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_date_set)
    workdays: frozenset[date] = attrs.field(default=frozenset(), converter=_date_set)
    workday_hours: Hours | None = None
    overrides: tuple[tuple[date, Hours], ...] = ()
    covers: tuple[date, date] | None = None
    outside: str = "error"
    _engine: Engine = attrs.field(init=False, eq=False, repr=False, hash=False)
    _zone: tzinfo = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        zone = _load_zone(self.timezone)
        if zone is None:
            problems.append(f"timezone: unknown IANA time zone {self.timezone!r}")
        problems.extend(_check_week(self.week))
        override_days = {day for day, _ in self.overrides}
        for day in sorted(self.workdays & self.holidays):
            problems.append(f"workdays: {day.isoformat()} is also listed in holidays")
        for day in sorted(override_days & (self.holidays | self.workdays)):
            problems.append(
                f"overrides: {day.isoformat()} is also listed in "
                f"{'holidays' if day in self.holidays else 'workdays'}; give it one rule"
            )
        if len(override_days) != len(self.overrides):
            problems.append("overrides: a date is listed twice")
        for day, hours in self.overrides:
            problems.extend(f"overrides.{day.isoformat()}: {p}" for p in hours_problems(hours))
        if self.workday_hours is not None:
            problems.extend(f"workday_hours: {p}" for p in hours_problems(self.workday_hours))
        elif self.workdays and len(self.week) == 7 and not self.week[0]:
            problems.append(
                "workday_hours: required because Monday has no hours to copy for the "
                "make-up workdays"
            )
        if self.outside not in _OUTSIDE:
            problems.append(f"outside: expected 'error' or 'weekly', got {self.outside!r}")
        if self.covers is not None:
            first, last = self.covers
            if first > last:
                problems.append(f"covers: 'from' {first} is after 'to' {last}")
            for label, days in (
                ("holidays", self.holidays),
                ("workdays", self.workdays),
                ("overrides", override_days),
            ):
                for day in sorted(days):
                    if not first <= day <= last:
                        problems.append(
                            f"{label}: {day.isoformat()} is outside covers "
                            f"{first.isoformat()}..{last.isoformat()}"
                        )
        if problems:
            raise CalendarError("invalid business calendar:\n  - " + "\n  - ".join(problems))
        assert zone is not None
        special: dict[date, Hours] = dict.fromkeys(self.holidays, ())
        make_up = self.workday_hours if self.workday_hours is not None else self.week[0]
        special.update(dict.fromkeys(self.workdays, make_up))
        special.update(self.overrides)
        weekly_open = any(self.week)
        if not weekly_open and not any(special.values()):
            raise CalendarError("invalid business calendar: it has no open time at all")
        week = self.week
        get = special.get

        def day_hours(day: date) -> Hours:
            return get(day, week[day.weekday()])

        low = high = None
        text = "all dates"
        if self.covers is not None:
            text = f"{self.covers[0].isoformat()}..{self.covers[1].isoformat()}"
            if self.outside == "error":
                low = wall_to_us(self.covers[0], 0, zone)
                high = wall_to_us(self.covers[1] + timedelta(days=1), 0, zone)
        special_days = sorted(special)
        engine = Engine(
            day_hours,
            zone,
            low=low,
            high=high,
            first_special=special_days[0] if special_days else None,
            last_special=special_days[-1] if special_days else None,
            weekly_open=weekly_open,
            describe_range=text,
        )
        object.__setattr__(self, "_engine", engine)
        object.__setattr__(self, "_zone", zone)

    def __reduce__(self) -> tuple[Any, ...]:
        # The engine holds a closure and lazily built blocks: pickle the definition only
        # and rebuild (and re-validate) the calendar when it is loaded.
        return reduce_by_init(self)

    # ------------------------------------------------------------------ dict form
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from its plain-data form.

        Args:
            data: ``timezone`` (required), ``week`` (required: keys ``mon`` .. ``sun`` or
                ranges such as ``"mon-fri"``, values lists of ``"HH:MM-HH:MM"``),
                ``holidays`` and ``workdays`` (lists of ``"YYYY-MM-DD"``),
                ``workday_hours``, ``overrides`` (``{"YYYY-MM-DD": [...]}``),
                ``covers`` (``{"from": ..., "to": ...}``) and ``outside``
                (``"error"`` or ``"weekly"``).

        Raises:
            CalendarError: Every problem found, each naming where it is
                (``week.mon[1]: ...``).

        Examples:
            >>> cal = BusinessCalendar.from_dict(
            ...     {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-18:00"]}})
            >>> cal.to_dict()
            {'timezone': 'Asia/Shanghai', 'week': {'mon-fri': ['09:00-18:00']}}
        """
        if not isinstance(data, Mapping):
            raise CalendarError(f"a calendar must be a dict, got {type(data).__name__}")
        problems: list[str] = []
        for key in data:
            if key not in _KEYS:
                problems.append(f"{key}: unknown key; expected one of {', '.join(_KEYS)}")
        zone_name = data.get("timezone")
        if zone_name is None:
            problems.append("timezone: required (an IANA zone such as 'Asia/Shanghai')")
        elif _load_zone(zone_name) is None:
            problems.append(f"timezone: unknown IANA time zone {zone_name!r}")
        week = _parse_week(data.get("week"), problems)
        holidays = _parse_dates(data.get("holidays", []), "holidays", problems)
        workdays = _parse_dates(data.get("workdays", []), "workdays", problems)
        workday_hours = None
        if data.get("workday_hours") is not None:
            workday_hours = parse_hours(data["workday_hours"], "workday_hours", problems)
        overrides: dict[date, Hours] = {}
        raw_overrides = data.get("overrides", {})
        if not isinstance(raw_overrides, Mapping):
            problems.append("overrides: expected a mapping of dates to lists of intervals")
        else:
            for key, value in raw_overrides.items():
                day = parse_date(key, f"overrides.{key}", problems)
                hours = parse_hours(value, f"overrides.{key}", problems)
                if day is not None:
                    if day in overrides:
                        problems.append(f"overrides.{key}: the date is listed twice")
                    overrides[day] = hours
        covers = None
        raw_covers = data.get("covers")
        if raw_covers is not None:
            if not isinstance(raw_covers, Mapping) or set(raw_covers) != {"from", "to"}:
                problems.append("covers: expected {'from': 'YYYY-MM-DD', 'to': 'YYYY-MM-DD'}")
            else:
                first = parse_date(raw_covers["from"], "covers.from", problems)
                last = parse_date(raw_covers["to"], "covers.to", problems)
                if first is not None and last is not None:
                    covers = (first, last)
        outside = data.get("outside", "error")
        if problems:
            # Report the cross-list conflicts too, so one round of fixes is enough.
            for day in sorted(set(workdays) & set(holidays)):
                problems.append(f"workdays: {day.isoformat()} is also listed in holidays")
            raise CalendarError("invalid business calendar:\n  - " + "\n  - ".join(problems))
        return cls(
            timezone=str(zone_name),
            week=week,
            holidays=frozenset(holidays),
            workdays=frozenset(workdays),
            workday_hours=workday_hours,
            overrides=tuple(sorted(overrides.items())),
            covers=covers,
            outside=outside,
        )

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form; ``BusinessCalendar.from_dict(cal.to_dict()) == cal``.

        Consecutive weekdays with equal hours are written as a range (``"mon-fri"``).
        """
        out: dict[str, Any] = {"timezone": self.timezone, "week": _format_week(self.week)}
        if self.holidays:
            out["holidays"] = [d.isoformat() for d in sorted(self.holidays)]
        if self.workdays:
            out["workdays"] = [d.isoformat() for d in sorted(self.workdays)]
        if self.workday_hours is not None:
            out["workday_hours"] = format_hours(self.workday_hours)
        if self.overrides:
            out["overrides"] = {d.isoformat(): format_hours(h) for d, h in self.overrides}
        if self.covers is not None:
            out["covers"] = {"from": self.covers[0].isoformat(), "to": self.covers[1].isoformat()}
        if self.outside != "error":
            out["outside"] = self.outside
        return out

    @classmethod
    def from_holidays(
        cls,
        country: str,
        *,
        years: int | Iterable[int],
        week: Mapping[str, Any],
        timezone: str | None = None,
        subdiv: str | None = None,
        make_up_workdays: bool = True,
        workday_hours: list[str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        allow_partial: bool = False,
    ) -> BusinessCalendar:
        """Build a calendar from the ``holidays`` package (optional extra ``holidays``).

        The covered range is exactly the given years, so a query in a year whose
        holidays were not loaded raises instead of silently using weekly hours.

        Every year asked for must be one the package fully knows: for a country that
        shifts working days around its holidays (China), a year whose official
        arrangement, holidays *and* make-up workdays, the package holds; otherwise a
        year of its supported range. Another year raises
        [`CalendarError`][csmkit.errors.CalendarError] naming it and the years covered, unless
        ``allow_partial`` is true.

        Args:
            country: ISO country code, e.g. ``"CN"``.
            years: One year or consecutive years (``range(2025, 2027)``).
            week: Weekly hours in the [`from_dict()`][csmkit.sla.BusinessCalendar.from_dict] form.
            timezone: IANA zone; defaults to the country's only zone for a few
                single-zone countries (CN, HK, MO, TW, JP, KR, SG).
            subdiv: Subdivision code passed to ``holidays``.
            make_up_workdays: Use the package's ``weekend_workdays`` (China's 调休
                make-up days) as workdays. Set ``False`` for calendars that never
                work them (e.g. financial markets).
            workday_hours: Hours of the make-up days (default: Monday's).
            overrides: Per-date hours as in [`from_dict()`][csmkit.sla.BusinessCalendar.from_dict].
            allow_partial: Accept years the package does not fully cover; for those
                the calendar has only what the package derives from fixed rules (for
                China: the statutory holidays, without bridge days and without
                make-up workdays; outside its supported range: no holidays at all).

        Raises:
            CalendarError: ``holidays`` is not installed, the country is unknown, the
                years are not consecutive, a year is not fully covered (without
                ``allow_partial``), or the resulting calendar is invalid.
        """
        from csmkit.sla._holidays import calendar_data

        data = calendar_data(
            country,
            years=years,
            week=week,
            timezone=timezone,
            subdiv=subdiv,
            make_up_workdays=make_up_workdays,
            workday_hours=workday_hours,
            overrides=overrides,
            allow_partial=allow_partial,
        )
        return cls.from_dict(data)

    # ------------------------------------------------------------------ queries
    @property
    def zone(self) -> tzinfo:
        """The calendar's time zone as a `zoneinfo.ZoneInfo`."""
        return self._zone

    def hours_on(self, day: date) -> list[str]:
        """The hours that apply on a local date, in text form.

        Examples:
            >>> cal = BusinessCalendar.from_dict(
            ...     {"timezone": "UTC", "week": {"mon": ["22:00-06:00"]}})
            >>> cal.hours_on(date(2026, 1, 5)), cal.hours_on(date(2026, 1, 6))
            (['22:00-06:00'], [])
        """
        if not isinstance(day, date) or isinstance(day, datetime):
            raise CalendarError(f"day must be a date, got {type(day).__name__} {day!r}")
        for when, hours in self.overrides:
            if when == day:
                return format_hours(hours)
        if day in self.holidays:
            return []
        if day in self.workdays:
            return format_hours(
                self.workday_hours if self.workday_hours is not None else self.week[0]
            )
        return format_hours(self.week[day.weekday()])

    def is_open(self, at: datetime) -> bool:
        """Whether the desk is open at instant ``at`` (opening included, closing not).

        Raises:
            CalendarError: ``at`` is naive, or outside the covered range.
        """
        engine = self._engine
        try:
            t = (at - EPOCH) // MICROSECOND
        except TypeError:
            t = _to_us(at, "at")  # raises the right error
        if t < engine.low or t >= engine.high:
            engine.check(t, "at", at)
        return engine.is_open(t)

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the next opening instant (in ``at``'s zone).

        Raises:
            CalendarError: ``at`` is naive or outside the covered range, or no opening
                follows within it.
        """
        engine = self._engine
        t = _to_us(at, "at")
        if t < engine.low or t >= engine.high:
            engine.check(t, "at", at)
        result = engine.next_open(t)
        return at if result == t else from_us(result, at.tzinfo)

    def add(self, at: datetime, delta: timedelta) -> datetime:
        """The instant ``delta`` of business time after ``at`` (before it if negative).

        End-of-day convention: adding lands on the *earliest* instant with that much
        business time in between, so a deadline ending exactly at a closing time stays
        at the closing time (``Mon 09:00 + 9h`` on a 09:00-18:00 calendar is Mon
        18:00, not Tue 09:00). Subtracting lands on the *latest* such instant (an
        opening time). ``add(at, timedelta(0))`` returns ``at`` unchanged. The result
        is in ``at``'s time zone.

        Raises:
            CalendarError: ``at`` naive or outside the covered range, ``delta`` not a
                timedelta, or the answer falls outside the covered range.
        """
        engine = self._engine
        try:
            t = (at - EPOCH) // MICROSECOND
        except TypeError:
            t = _to_us(at, "at")  # raises the right error
        if t < engine.low or t >= engine.high:
            engine.check(t, "at", at)
        # Callers usually add the same timedelta again and again (a target's goal), so
        # the last conversion is remembered; one attribute holds the pair, so threads
        # never see a half-updated cache.
        last = engine.last_delta
        if delta is last[0]:
            d = last[1]
        else:
            d = _delta_us(delta, "delta")
            engine.last_delta = (delta, d)
        if not d:
            return at
        seconds, micros = divmod(engine.add(t, d), 1_000_000)
        out = _fromtimestamp(seconds, at.tzinfo)
        return out.replace(microsecond=micros) if micros else out

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; negative when ``end`` is before ``start``.

        Raises:
            CalendarError: naive instants, or instants outside the covered range.
        """
        engine = self._engine
        try:
            a = (start - EPOCH) // MICROSECOND
            b = (end - EPOCH) // MICROSECOND
        except TypeError:
            a = _to_us(start, "start")  # one of these raises the right error
            b = _to_us(end, "end")
        # Either end may sit exactly on the end of the covered range.
        low, high = engine.low, engine.high
        if a < low or a > high:
            engine.check(a, "start", start)
        if b < low or b > high:
            engine.check(b, "end", end)
        return MICROSECOND * engine.between(a, b)

    def add_many(self, at: Any, delta: Any) -> Any:
        """[`add()`][csmkit.sla.BusinessCalendar.add] over a batch (extra ``numpy``), identical
        to it instant by instant, at millions of instants per second.

        Args:
            at: A pandas ``Series``/``DatetimeIndex`` with a time zone, or aware datetimes.
            delta: One ``timedelta``, or one per instant (timedelta64 array or Series).

        Returns:
            The same shape in ``at``'s zone: a ``Series`` (index kept) or ``DatetimeIndex``
            for pandas input, else an object array of datetimes.

        Raises:
            CalendarError: naive instants (numpy ``datetime64`` included), NaT, an instant
                or answer outside the covered range; the message names the position.
        """
        from csmkit.sla._vector import add_many

        return add_many(self._engine, at, delta)

    def between_many(self, start: Any, end: Any) -> Any:
        """[`between()`][csmkit.sla.BusinessCalendar.between] over a batch (extra ``numpy``):
        a timedelta ``Series``/``TimedeltaIndex`` for pandas input, else ``timedelta64[us]``
        values. One side may be a single datetime. Errors as
        [`add_many()`][csmkit.sla.BusinessCalendar.add_many].
        """
        from csmkit.sla._vector import between_many

        return between_many(self._engine, start, end)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open intervals within ``[start, end)``, clipped to it, in ``start``'s zone.

        Raises:
            CalendarError: naive instants, or instants outside the covered range.
        """
        engine = self._engine
        a = _to_us(start, "start")
        b = _to_us(end, "end")
        if a != engine.high:
            engine.check(a, "start", start)
        if b != engine.high:
            engine.check(b, "end", end)
        zone = start.tzinfo
        return [(from_us(x, zone), from_us(y, zone)) for x, y in engine.intervals(a, b)]


def _parse_week(value: object, problems: list[str]) -> tuple[Hours, ...]:
    days: list[Hours] = [()] * 7
    if value is None:
        problems.append("week: required (e.g. {'mon-fri': ['09:00-18:00']})")
        return tuple(days)
    if not isinstance(value, Mapping):
        problems.append(f"week: expected a mapping of weekdays to hours, got {value!r}")
        return tuple(days)
    owner: dict[int, str] = {}
    for key, hours_value in value.items():
        members = parse_weekday_key(key)
        if members is None:
            problems.append(f"week.{key}: unknown weekday name or range; use mon..sun or 'mon-fri'")
            continue
        hours = parse_hours(hours_value, f"week.{key}", problems)
        for day in members:
            if day in owner:
                problems.append(
                    f"week.{key}: {WEEKDAYS[day]} is already given by week.{owner[day]}"
                )
                continue
            owner[day] = str(key)
            days[day] = hours
    return tuple(days)


def _format_week(week: tuple[Hours, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    day = 0
    while day < 7:
        if not week[day]:
            day += 1
            continue
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        key = WEEKDAYS[day] if last == day else f"{WEEKDAYS[day]}-{WEEKDAYS[last]}"
        out[key] = format_hours(week[day])
        day = last + 1
    return out


def _parse_dates(value: object, path: str, problems: list[str]) -> list[date]:
    if not isinstance(value, (list, tuple, set, frozenset)):
        problems.append(f"{path}: expected a list of dates, got {value!r}")
        return []
    out = []
    for i, item in enumerate(value):
        day = parse_date(item, f"{path}[{i}]", problems)
        if day is not None:
            out.append(day)
    return out
