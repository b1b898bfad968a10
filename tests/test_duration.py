"""The one duration grammar (compact and ISO 8601) and its formatter."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit._duration import DURATION_PATTERN, format_duration, parse_duration
from csmkit.errors import CsmkitError, DurationError

EXPRESSIBLE = st.timedeltas(min_value=timedelta(days=-999_999), max_value=timedelta(days=999_999))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        (" 2H30M ", timedelta(hours=2, minutes=30)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("1.5s", timedelta(seconds=1.5)),
        ("+2h", timedelta(hours=2)),
        ("PT4H", timedelta(hours=4)),
        ("P7D", timedelta(days=7)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("PT1M", timedelta(minutes=1)),
        ("pt30m", timedelta(minutes=30)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1,25S", timedelta(seconds=1.25)),
        ("PT0.000001S", timedelta(microseconds=1)),
    ],
)
def test_both_forms_are_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("compact", "iso"),
    [("90s", "PT90S"), ("1h30m", "PT1H30M"), ("7d", "P7D"), ("2w", "P2W"), ("1d2h", "P1DT2H")],
)
def test_compact_and_iso_agree(compact: str, iso: str) -> None:
    assert parse_duration(compact) == parse_duration(iso)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is not a duration"),
        ("P", "is not a duration"),
        ("PT", "is not a duration"),
        ("P1DT", "is not a duration"),
        ("P1D2H", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("30m2h", "is not a duration"),  # units in descending order
        ("1h1h", "is not a duration"),
        ("1 h", "is not a duration"),
        ("2 days", "is not a duration"),
        ("P1M", "years or months"),
        ("P1Y2M", "years or months"),
        ("PT0.0000001S", "finer than a microsecond"),
        ("99999999999w", "too long"),
        ("9" * 100 + "s", "is not a duration"),
        ("-2h", "must be longer than zero"),
        ("0s", "must be longer than zero"),
        ("PT0S", "must be longer than zero"),
    ],
)
def test_malformed_or_disallowed_text_is_one_clear_error(text: str, fragment: str) -> None:
    with pytest.raises(DurationError, match=re.escape(fragment)) as info:
        parse_duration(text, "rules[2].after")
    message = str(info.value)
    assert message.startswith(f"rules[2].after: {text!r}")
    assert info.value.value == text
    assert info.value.where == "rules[2].after"
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, CsmkitError)


def test_the_syntax_error_names_both_forms() -> None:
    with pytest.raises(DurationError) as info:
        parse_duration("soon", "goal")
    assert "'1h30m'" in str(info.value)
    assert "'PT1H30M'" in str(info.value)


@pytest.mark.parametrize("value", [3600, 1.5, None, b"2h", ["2h"], True])
def test_non_text_values_are_refused(value: object) -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(value, "x")


def test_timedeltas_pass_the_same_rules() -> None:
    assert parse_duration(timedelta(hours=2)) == timedelta(hours=2)
    with pytest.raises(DurationError, match="must be longer than zero"):
        parse_duration(timedelta(hours=-2))
    with pytest.raises(DurationError, match="must not be negative"):
        parse_duration(timedelta(hours=-2), allow_zero=True)
    with pytest.raises(DurationError, match="longer than zero"):
        parse_duration(timedelta(0))
    assert parse_duration(timedelta(0), allow_zero=True) == timedelta(0)
    assert parse_duration(timedelta(hours=-2), signed=True) == timedelta(hours=-2)


def test_signed_and_zero_where_allowed() -> None:
    assert parse_duration("-2h", signed=True) == timedelta(hours=-2)
    assert parse_duration("-PT2H", signed=True) == timedelta(hours=-2)
    assert parse_duration("0s", allow_zero=True) == timedelta(0)
    assert parse_duration("-0s", signed=True, allow_zero=True) == timedelta(0)


@pytest.mark.parametrize("text", ["2d", "1w", "P2D", "P1W", "P1DT2H"])
def test_business_time_refuses_day_units(text: str) -> None:
    with pytest.raises(DurationError, match="business time"):
        parse_duration(text, "goal", days=False)


def test_business_time_takes_hours() -> None:
    assert parse_duration("48h", days=False) == parse_duration("PT48H", days=False)


@given(EXPRESSIBLE, st.booleans(), st.booleans())
def test_format_parses_back(value: timedelta, days: bool, iso: bool) -> None:
    text = format_duration(value, days=days, iso=iso)
    assert parse_duration(text, signed=True, allow_zero=True, days=days) == value
    assert re.match(DURATION_PATTERN, text)


@given(EXPRESSIBLE)
def test_compact_and_iso_texts_of_a_value_agree(value: timedelta) -> None:
    compact = format_duration(value)
    iso = format_duration(value, iso=True)
    assert parse_duration(compact, signed=True, allow_zero=True) == parse_duration(
        iso, signed=True, allow_zero=True
    )
    assert parse_duration(compact.upper(), signed=True, allow_zero=True) == value


@given(st.text(max_size=20))
def test_any_text_is_a_duration_or_a_duration_error(text: str) -> None:
    try:
        result = parse_duration(text, signed=True, allow_zero=True)
    except DurationError as exc:
        assert str(exc).startswith(f"duration: {text!r} ")
    else:
        assert isinstance(result, timedelta)


@pytest.mark.parametrize(
    ("value", "compact", "iso"),
    [
        (timedelta(0), "0s", "PT0S"),
        (timedelta(minutes=90), "1h30m", "PT1H30M"),
        (timedelta(days=7, hours=2), "7d2h", "P7DT2H"),
        (timedelta(seconds=-1.5), "-1.5s", "-PT1.5S"),
        (timedelta(microseconds=10), "0.00001s", "PT0.00001S"),
    ],
)
def test_canonical_text(value: timedelta, compact: str, iso: str) -> None:
    assert format_duration(value) == compact
    assert format_duration(value, iso=True) == iso


def test_business_text_is_written_in_hours() -> None:
    assert format_duration(timedelta(days=2), days=False) == "48h"
    assert format_duration(timedelta(days=2), days=False, iso=True) == "PT48H"


@given(
    st.fixed_dictionaries(
        {},
        optional={unit: st.integers(0, 10_000) for unit in ("w", "d", "h", "m", "s")},
    ).filter(bool),
    st.sampled_from(["", "5", "25", "000001", "999999"]),
    st.booleans(),
)
def test_compact_and_iso_written_apart_read_the_same(
    parts: dict[str, int], fraction: str, negative: bool
) -> None:
    seconds_text = f"{parts['s']}.{fraction}" if "s" in parts and fraction else None
    compact = "".join(
        (seconds_text if unit == "s" and seconds_text else str(parts[unit])) + unit
        for unit in ("w", "d", "h", "m", "s")
        if unit in parts
    )
    date_part = "".join(f"{parts[u]}{u.upper()}" for u in ("w", "d") if u in parts)
    time_part = "".join(
        (seconds_text if u == "s" and seconds_text else str(parts[u])) + u.upper()
        for u in ("h", "m", "s")
        if u in parts
    )
    iso = "P" + date_part + (f"T{time_part}" if time_part else "")
    sign = "-" if negative else ""
    expected = timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
        microseconds=int(fraction.ljust(6, "0")) if seconds_text else 0,
    )
    expected = -expected if negative else expected
    read = {"signed": True, "allow_zero": True}
    assert parse_duration(sign + compact, **read) == parse_duration(sign + iso, **read) == expected
