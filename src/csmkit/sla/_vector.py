"""Vectorised business time: `BusinessCalendar.add_many` / `between_many` (extra ``numpy``).

The scalar methods bisect one block of the calendar's interval index
([`csmkit.sla._index`][csmkit.sla._index]). Here the blocks a batch needs are laid end to
end as three numpy arrays (interval starts, ends, and business µs before each start,
counted from the first block), so a whole batch is one ``searchsorted`` plus arithmetic.
Because the intervals of consecutive blocks never overlap and each has positive length,
the concatenated prefix sums are strictly increasing and every answer is the one the
scalar method gives, to the microsecond (tests/sla/test_sla_vector.py checks this
differentially).

Accepted inputs: a pandas ``Series`` or ``DatetimeIndex`` with a time zone (the fast
path), or a sequence / object array of aware ``datetime`` objects. numpy ``datetime64``
values carry no time zone and are refused like naive datetimes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from csmkit.errors import CalendarError
from csmkit.sla._index import EPOCH, MICROSECOND, Engine, from_us

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Ints = NDArray[np.int64]

__all__ = ["add_many", "between_many"]

_SHIFT = 45  # the block size of csmkit.sla._index
_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - depends on the environment
        raise CalendarError(
            "add_many/between_many need numpy: pip install 'csmkit[numpy]'"
        ) from None
    return numpy


def _is_pandas(value: object) -> bool:
    return "pandas" in sys.modules and type(value).__module__.startswith("pandas")


class _Batch:
    """Instants of one argument as µs since the epoch, and how to give answers back."""

    __slots__ = ("index", "items", "kind", "name", "tz", "us")

    def __init__(self, us: Ints, kind: str, *, items: Any = None, tz: Any = None) -> None:
        self.us = us
        self.kind = kind  # "series", "index", "objects"
        self.items = items  # the original objects (kind "objects") or the Series
        self.tz = tz
        self.index: Any = None
        self.name: Any = None


def _pandas_us(values: Any, name: str) -> Ints:
    """int64 µs of a pandas datetime array with a time zone; errors name the position."""
    np = _numpy()
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    dtype = values.dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        if getattr(dtype, "kind", "") == "M":
            raise CalendarError(
                f"{name}: naive datetimes (dtype {dtype}) are not accepted; give them a "
                "time zone first, e.g. .dt.tz_localize('UTC') or .dt.tz_localize('Asia/Shanghai')"
            )
        raise CalendarError(f"{name}: expected datetimes with a time zone, got dtype {dtype}")
    array = values.array if hasattr(values, "array") else values
    missing = np.asarray(array.isna())
    if missing.any():
        raise CalendarError(f"{name}[{int(missing.argmax())}] is NaT (a missing instant)")
    raw = np.asarray(array.asi8, dtype=np.int64)
    unit = getattr(array, "unit", "ns")
    if unit == "ns":
        rest = raw % 1_000
        if rest.any():
            where = int(np.flatnonzero(rest)[0])
            raise CalendarError(
                f"{name}[{where}] has nanoseconds; business time is exact to the microsecond "
                "(round first, e.g. .dt.floor('us'))"
            )
        return raw // 1_000  # type: ignore[no-any-return]
    return raw * _PER_UNIT[unit]  # type: ignore[no-any-return]


def _batch(value: Any, name: str) -> _Batch:
    np = _numpy()
    if isinstance(value, (datetime, str, bytes)):
        raise CalendarError(
            f"{name} must be an array, Series or sequence of instants, got "
            f"{type(value).__name__}; use add()/between() for one instant"
        )
    if _is_pandas(value):
        import pandas as pd

        if isinstance(value, pd.Series):
            batch = _Batch(_pandas_us(value, name), "series", tz=value.dtype.tz)
            batch.index, batch.name = value.index, value.name
            return batch
        if isinstance(value, pd.DatetimeIndex):
            batch = _Batch(_pandas_us(value, name), "index", tz=value.tz)
            batch.name = value.name
            return batch
    if isinstance(value, np.ndarray) and value.dtype.kind == "M":
        raise CalendarError(
            f"{name}: numpy datetime64 values carry no time zone (naive); pass a pandas "
            "Series with a time zone or aware datetime objects"
        )
    items = list(value)
    us = np.empty(len(items), dtype=np.int64)
    for position, item in enumerate(items):
        missing = item is None or item != item  # None, NaN, NaT
        if missing or not isinstance(item, datetime):
            what = "missing" if missing else type(item).__name__
            raise CalendarError(f"{name}[{position}] is not an aware datetime ({what}: {item!r})")
        if item.utcoffset() is None:
            raise CalendarError(f"{name}[{position}]={item.isoformat()} is naive (no time zone)")
        us[position] = (item - EPOCH) // MICROSECOND
    return _Batch(us, "objects", items=items)


def _deltas(value: Any, size: int, name: str) -> Ints:
    """int64 µs of one timedelta (broadcast) or of one per instant."""
    np = _numpy()
    if isinstance(value, timedelta):
        out = np.empty(size, dtype=np.int64)
        out.fill((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds)
        return out  # type: ignore[no-any-return]
    if _is_pandas(value):
        value = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "m":
        missing = np.isnat(value)
        if missing.any():
            raise CalendarError(f"{name}[{int(missing.argmax())}] is NaT (a missing duration)")
        exact = value.astype("timedelta64[us]")
        if (exact != value).any():
            where = int(np.flatnonzero(exact != value)[0])
            raise CalendarError(f"{name}[{where}] is not a whole number of microseconds")
        out = exact.view(np.int64)
    else:
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            raise CalendarError(
                f"{name} must be a timedelta or one timedelta per instant, "
                f"got {type(value).__name__}"
            )
        out = np.empty(len(value), dtype=np.int64)
        for position, item in enumerate(value):
            if not isinstance(item, timedelta):
                raise CalendarError(
                    f"{name}[{position}] must be a timedelta, got {type(item).__name__} {item!r}"
                )
            out[position] = (item.days * 86_400 + item.seconds) * 1_000_000 + item.microseconds
    if len(out) != size:
        raise CalendarError(f"{name} has {len(out)} durations for {size} instants")
    return out  # type: ignore[no-any-return]


_BUCKET = 32  # lookup buckets of 2**32 µs (about 72 minutes)


def _last_at_or_before(values: Ints, needles: Ints) -> Ints:
    """``searchsorted(values, needles, side="right") - 1`` for strictly increasing values.

    A random ``searchsorted`` of a million needles is cache-bound; here each needle
    jumps to its ~72-minute bucket (a precomputed answer for the bucket's start) and
    then steps over the few values inside the bucket. Calendars with many intervals
    per bucket, or needles spread far apart, use ``searchsorted`` itself.
    """
    np = _numpy()
    if not len(values) or not len(needles):
        return np.searchsorted(values, needles, side="right") - 1  # type: ignore[no-any-return]
    lo = min(int(needles.min()), int(values[0])) >> _BUCKET
    hi = max(int(needles.max()), int(values[-1])) >> _BUCKET
    if hi - lo > 4 * len(needles) + 4096:
        return np.searchsorted(values, needles, side="right") - 1  # type: ignore[no-any-return]
    edges = (np.arange(hi - lo + 2, dtype=np.int64) + lo) << _BUCKET
    first = np.searchsorted(values, edges, side="right") - 1
    steps = int(np.diff(first).max())
    if steps > 4:
        return np.searchsorted(values, needles, side="right") - 1  # type: ignore[no-any-return]
    found = first[(needles >> _BUCKET) - lo]
    padded = np.append(values, np.iinfo(np.int64).max)
    for _ in range(steps):
        found += padded[found + 1] <= needles
    return found  # type: ignore[no-any-return]


class _Flat:
    """The intervals of blocks ``first..last`` end to end, with prefix sums."""

    def __init__(self, blocks: list[tuple[list[int], list[int], list[int], int]]) -> None:
        np = _numpy()
        starts: list[int] = []
        ends: list[int] = []
        before: list[int] = []
        offset = 0
        for block_starts, block_ends, cum, total in blocks:
            starts.extend(block_starts)
            ends.extend(block_ends)
            before.extend(offset + c for c in cum[:-1])
            offset += total
        self.starts = np.array(starts, dtype=np.int64)
        self.ends = np.array(ends, dtype=np.int64)
        self.cum = np.array([*before, offset], dtype=np.int64)  # strictly increasing
        self.total = offset

    def position(self, t: Ints) -> Ints:
        """Business µs from the first block's start to each ``t``."""
        np = _numpy()
        if not len(self.starts):
            return np.zeros_like(t)  # type: ignore[no-any-return]
        i = _last_at_or_before(self.starts, t)
        j = np.maximum(i, 0)
        inside = self.cum[j] + np.minimum(t, self.ends[j]) - self.starts[j]
        return np.where(i >= 0, inside, 0)  # type: ignore[no-any-return]


def _check_range(engine: Engine, batch: _Batch, name: str, *, end_ok: bool) -> None:
    us = batch.us
    bad = (us < engine.low) | ((us > engine.high) if end_ok else (us >= engine.high))
    if bad.any():
        where = int(bad.argmax())
        original = (
            batch.items[where]
            if batch.kind == "objects"
            else from_us(int(us[where]), batch.tz or timezone.utc)
        )
        try:
            engine.check(int(us[where]), name, original)
        except CalendarError as exc:
            raise CalendarError(str(exc).replace(f"{name}=", f"{name}[{where}]=", 1)) from None


def _blocks(engine: Engine, first: int, last: int) -> list[Any]:
    return [engine.block(k) for k in range(first, last + 1)]


def _grow(engine: Engine, k: int, step: int, where: int) -> Any:
    try:
        return engine._move(k, step)
    except CalendarError as exc:
        raise CalendarError(f"at[{where}] + delta[{where}]: {exc}") from None


def add_many(engine: Engine, at: Any, delta: Any) -> Any:
    """See [`BusinessCalendar.add_many()`][csmkit.sla.BusinessCalendar.add_many]."""
    np = _numpy()
    batch = _batch(at, "at")
    us = batch.us
    d = _deltas(delta, len(us), "delta")
    if not len(us):
        return _instants_out(batch, us)
    _check_range(engine, batch, "at", end_ok=False)
    first, last = int(us.min()) >> _SHIFT, int(us.max()) >> _SHIFT
    blocks = _blocks(engine, first, last)
    flat = _Flat(blocks)
    target = flat.position(us) + d
    forward, backward = d > 0, d < 0
    total, extra, grown = flat.total, 0, False
    # Grow the index until the farthest answer lies inside it; Engine._move refuses to
    # leave the covered range or to search a calendar with no open time left, exactly
    # as the scalar add() does for that instant.
    if forward.any():
        where = int(np.argmax(np.where(forward, target, np.iinfo(np.int64).min)))
        need = int(target[where])
        while need > total:
            last += 1
            block = _grow(engine, last, 1, where)
            blocks.append(block)
            total += block[3]
            grown = True
    if backward.any():
        where = int(np.argmin(np.where(backward, target, np.iinfo(np.int64).max)))
        need = int(target[where])
        while need + extra < 0:
            first -= 1
            block = _grow(engine, first, -1, where)
            blocks.insert(0, block)
            extra += block[3]
            grown = True
    if grown:
        flat = _Flat(blocks)
        target = target + extra
    out = us.copy()
    if len(flat.starts):
        # Forward: the earliest instant (the last prefix sum strictly below the target;
        # integers, so "at or before target - 1"); backward: the latest one.
        j = _last_at_or_before(flat.cum, target - forward)
        moved = forward | backward
        j = np.clip(j, 0, len(flat.starts) - 1)
        out = np.where(moved, flat.starts[j] + target - flat.cum[j], us)
    return _instants_out(batch, out, unchanged=d == 0)


def _instants_out(batch: _Batch, us: Ints, unchanged: Any = None) -> Any:
    np = _numpy()
    if batch.kind == "objects":
        out = np.empty(len(us), dtype=object)
        for position, (value, item) in enumerate(zip(us.tolist(), batch.items, strict=True)):
            out[position] = item if unchanged[position] else from_us(value, item.tzinfo)
        return out
    import pandas as pd

    index = pd.DatetimeIndex(us.astype("datetime64[us]")).tz_localize("UTC").tz_convert(batch.tz)
    if batch.kind == "index":
        return index.rename(batch.name)
    return pd.Series(index, index=batch.index, name=batch.name)


def between_many(engine: Engine, start: Any, end: Any) -> Any:
    """See [`BusinessCalendar.between_many()`][csmkit.sla.BusinessCalendar.between_many]."""
    np = _numpy()
    starts = _broadcast(start, end, "start")
    ends = _broadcast(end, start, "end")
    if len(starts.us) != len(ends.us):
        raise CalendarError(f"start has {len(starts.us)} instants but end has {len(ends.us)}")
    if starts.kind == ends.kind == "series" and not starts.index.equals(ends.index):
        raise CalendarError("start and end are Series with different indexes; align them first")
    _check_range(engine, starts, "start", end_ok=True)
    _check_range(engine, ends, "end", end_ok=True)
    a, b = starts.us, ends.us
    if len(a):
        first = min(int(a.min()), int(b.min())) >> _SHIFT
        last = max(int(a.max()), int(b.max())) >> _SHIFT
        flat = _Flat(_blocks(engine, first, last))
        spent = flat.position(b) - flat.position(a)
    else:
        spent = np.zeros(0, dtype=np.int64)
    shaped = next((item for item in (starts, ends) if item.kind != "objects"), starts)
    values = spent.astype("timedelta64[us]")
    if shaped.kind == "objects":
        return values
    import pandas as pd

    if shaped.kind == "index":
        return pd.TimedeltaIndex(values, name=shaped.name)
    return pd.Series(values, index=shaped.index, name=shaped.name)


def _broadcast(value: Any, other: Any, name: str) -> _Batch:
    """One aware datetime against an array is repeated to the array's length."""
    if isinstance(value, datetime) and not isinstance(other, datetime):
        try:
            size = len(other)
        except TypeError:
            size = 0
        return _batch([value] * size, name)
    return _batch(value, name)
