"""BusinessCalendar.add_many / between_many: identical to add / between, instant by instant."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import CalendarError
from csmkit.sla import BusinessCalendar

UTC = timezone.utc
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Shanghai", "UTC"]
# Around the DST changes of 2024 in New York and Berlin, and the 2024 Golden Week.
DAYS = [date(2024, 3, 10), date(2024, 3, 31), date(2024, 10, 1), date(2024, 10, 27)]
COVERS = (date(2024, 1, 1), date(2025, 12, 31))
LOW = datetime(2023, 12, 25, tzinfo=UTC)  # a little outside the covered range
HIGH = datetime(2026, 1, 8, tzinfo=UTC)


def _hours(draw: Any) -> list[str]:
    count = draw(st.integers(1, 2))
    points = sorted(draw(st.sets(st.integers(0, 47), min_size=2 * count, max_size=2 * count)))
    return [
        f"{points[2 * i] // 2:02d}:{30 * (points[2 * i] % 2):02d}-"
        f"{points[2 * i + 1] // 2:02d}:{30 * (points[2 * i + 1] % 2):02d}"
        for i in range(count)
    ]


@st.composite
def calendars(draw: Any) -> BusinessCalendar:
    zone = draw(st.sampled_from(ZONES))
    week = {
        day: _hours(draw)
        for day in draw(st.sets(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat"])))
    } or {"mon-fri": ["09:00-18:00"]}
    near = [base + timedelta(days=k) for base in DAYS for k in range(-3, 4)]
    holidays = draw(st.lists(st.sampled_from(near), unique=True, max_size=4))
    workdays = [d for d in draw(st.lists(st.sampled_from(near), max_size=3)) if d not in holidays]
    data: dict[str, Any] = {
        "timezone": zone,
        "week": week,
        "holidays": [d.isoformat() for d in holidays],
        "workdays": sorted({d.isoformat() for d in workdays}),
        "workday_hours": _hours(draw),
    }
    if draw(st.booleans()):
        data["covers"] = {"from": COVERS[0].isoformat(), "to": COVERS[1].isoformat()}
    if draw(st.booleans()):
        taken = {*holidays, *workdays}
        free = [d for d in near if d not in taken]
        overrides = draw(st.lists(st.sampled_from(free), unique=True, max_size=2))
        data["overrides"] = {d.isoformat(): _hours(draw) for d in overrides}
    return BusinessCalendar.from_dict(data)


def instants(low: datetime = LOW, high: datetime = HIGH) -> st.SearchStrategy[datetime]:
    near = st.sampled_from(DAYS).flatmap(
        lambda day: st.integers(-4 * 86_400, 4 * 86_400).map(
            lambda s: datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=s)
        )
    )
    anywhere = st.datetimes(
        min_value=low.replace(tzinfo=None), max_value=high.replace(tzinfo=None)
    ).map(lambda d: d.replace(tzinfo=UTC))
    zone = st.sampled_from([UTC, *(ZoneInfo(name) for name in ZONES)])
    return st.tuples(st.one_of(near, anywhere), zone).map(lambda p: p[0].astimezone(p[1]))


durations = st.one_of(
    st.just(timedelta(0)),
    st.integers(-3000 * 60, 3000 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(-(10**12), 10**12).map(lambda us: timedelta(microseconds=us)),
)


def _scalar(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except CalendarError:
        return CalendarError


@given(calendars(), st.lists(st.tuples(instants(), durations), max_size=12))
def test_add_many_equals_add(calendar: BusinessCalendar, pairs: list[Any]) -> None:
    expected = [_scalar(calendar.add, at, delta) for at, delta in pairs]
    ats = [at for at, _ in pairs]
    deltas = [delta for _, delta in pairs]
    if CalendarError in expected:
        with pytest.raises(CalendarError):
            calendar.add_many(ats, deltas)
        return
    got = calendar.add_many(ats, deltas)
    assert list(got) == expected
    assert [g.utcoffset() for g in got] == [e.utcoffset() for e in expected]
    # The pandas fast path, one zone per Series, and one timedelta for all.
    for zone in {at.tzinfo for at in ats}:
        series = pd.Series([at.astimezone(zone) for at in ats], dtype=f"datetime64[us, {zone}]")
        answers = calendar.add_many(series, pd.Series(deltas, dtype="timedelta64[us]"))
        # Compared in UTC: an instant of the autumn fold never equals one in another zone.
        assert [a.to_pydatetime().astimezone(UTC) for a in answers] == [
            e.astimezone(UTC) for e in expected
        ]
    if pairs:
        one = pairs[0][1]
        same = [_scalar(calendar.add, at, one) for at in ats]
        if CalendarError not in same:
            assert list(calendar.add_many(ats, one)) == same


@given(calendars(), st.lists(st.tuples(instants(), instants()), max_size=12))
def test_between_many_equals_between(calendar: BusinessCalendar, pairs: list[Any]) -> None:
    expected = [_scalar(calendar.between, a, b) for a, b in pairs]
    starts = [a for a, _ in pairs]
    ends = [b for _, b in pairs]
    if CalendarError in expected:
        with pytest.raises(CalendarError):
            calendar.between_many(starts, ends)
        return
    got = calendar.between_many(starts, ends)
    assert got.dtype == np.dtype("timedelta64[us]")
    assert got.tolist() == expected
    series = calendar.between_many(
        pd.Series(starts, dtype="datetime64[us, UTC]"), pd.Series(ends, dtype="datetime64[us, UTC]")
    )
    assert [s.to_pytimedelta() for s in series] == expected


CAL = BusinessCalendar.from_dict(
    {
        "timezone": "Asia/Shanghai",
        "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
        "holidays": ["2026-10-01", "2026-10-02"],
        "workdays": ["2026-09-27"],
        "covers": {"from": "2026-01-01", "to": "2026-12-31"},
    }
)
SH = ZoneInfo("Asia/Shanghai")


def test_pandas_shapes_are_kept() -> None:
    index = pd.date_range("2026-09-25 10:00", periods=3, freq="D", tz="Asia/Shanghai", name="t")
    series = pd.Series(index, index=["a", "b", "c"], name="created")
    due = CAL.add_many(series, timedelta(hours=9))
    assert list(due.index) == ["a", "b", "c"] and due.name == "created"
    assert str(due.dt.tz) == "Asia/Shanghai"
    # Fri 10:00 + 9h: Fri closes at 18:00 (7h), Sunday 27 is a make-up workday.
    assert due["a"] == pd.Timestamp("2026-09-27 11:00", tz="Asia/Shanghai")
    assert isinstance(CAL.add_many(index, timedelta(hours=1)), pd.DatetimeIndex)
    spent = CAL.between_many(series, due)
    assert list(spent.index) == ["a", "b", "c"]
    assert set(spent) == {pd.Timedelta(hours=9)}
    start = datetime(2026, 9, 28, 9, tzinfo=SH)
    assert CAL.between_many(start, index).tolist() == [
        CAL.between(start, at.to_pydatetime()) for at in index
    ]


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (np.array(["2026-03-02T10:00"], dtype="datetime64[us]"), "carry no time zone"),
        (pd.Series(pd.to_datetime(["2026-03-02 10:00"])), "naive datetimes"),
        ([datetime(2026, 3, 2, 10)], r"at\[0\]=2026-03-02T10:00:00 is naive"),
        (pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]"), r"at\[0\] is NaT"),
        ([datetime(2026, 3, 2, tzinfo=UTC), None], r"at\[1\] is not an aware datetime"),
        ([datetime(2026, 3, 2, tzinfo=UTC), pd.NaT], r"at\[1\] is not an aware datetime"),
        (
            pd.Series(pd.to_datetime(["2026-03-02 10:00:00.000000001"]).tz_localize("UTC")),
            "nanoseconds",
        ),
        (
            [datetime(2026, 3, 2, tzinfo=UTC), datetime(2027, 3, 2, tzinfo=UTC)],
            r"at\[1\]=2027-03-02T00:00:00\+00:00 is outside the calendar's covered range",
        ),
        (datetime(2026, 3, 2, tzinfo=UTC), "use add"),
    ],
)
def test_bad_instants_are_refused(at: Any, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        CAL.add_many(at, timedelta(hours=1))


def test_answers_outside_the_covered_range_are_refused() -> None:
    ats = [datetime(2026, 1, 2, tzinfo=SH), datetime(2026, 12, 30, tzinfo=SH)]
    with pytest.raises(CalendarError, match=r"at\[1\] \+ delta\[1\]: the answer lies beyond"):
        CAL.add_many(ats, timedelta(hours=40))
    with pytest.raises(CalendarError, match=r"at\[0\] \+ delta\[0\]: the answer lies before"):
        CAL.add_many(ats, timedelta(hours=-40))


def test_bad_durations_are_refused() -> None:
    ats = [datetime(2026, 3, 2, tzinfo=SH)] * 2
    with pytest.raises(CalendarError, match=r"delta\[1\] is NaT"):
        CAL.add_many(ats, np.array([1, "NaT"], dtype="timedelta64[h]"))
    with pytest.raises(CalendarError, match="3 durations for 2 instants"):
        CAL.add_many(ats, [timedelta(hours=1)] * 3)
    with pytest.raises(CalendarError, match=r"delta\[0\] must be a timedelta, got int"):
        CAL.add_many(ats, [1, 2])
    with pytest.raises(CalendarError, match=r"delta\[0\] is not a whole number of microseconds"):
        CAL.add_many(ats, np.array([1, 1], dtype="timedelta64[ns]"))


def test_between_many_refuses_misaligned_series() -> None:
    index = pd.date_range("2026-03-02", periods=2, freq="D", tz="UTC")
    with pytest.raises(CalendarError, match="different indexes"):
        CAL.between_many(pd.Series(index), pd.Series(index, index=[5, 6]))
    with pytest.raises(CalendarError, match="start has 2 instants but end has 1"):
        CAL.between_many(list(index), list(index)[:1])


@given(
    st.sets(st.integers(-(2**38), 2**38), max_size=60),
    st.lists(st.integers(-(2**38), 2**38), max_size=60),
    st.sampled_from([1, 2**12, 2**-10]),
)
def test_bucketed_search_equals_searchsorted(
    values: set[int], needles: list[int], scale: float
) -> None:
    """The bucket lookup behind both methods agrees with numpy's searchsorted, whether it
    steps inside ~72-minute buckets (scale 1), or falls back because needles lie far
    apart (2**12) or many values share a bucket (2**-10)."""
    from csmkit.sla._vector import _last_at_or_before

    haystack = np.unique(np.array([int(v * scale) for v in values], dtype=np.int64))
    points = np.array([int(v * scale) for v in needles], dtype=np.int64)
    expected = np.searchsorted(haystack, points, side="right") - 1
    assert _last_at_or_before(haystack, points).tolist() == expected.tolist()
