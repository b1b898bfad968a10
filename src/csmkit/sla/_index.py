"""The arithmetic engine behind [`BusinessCalendar`][csmkit.sla.BusinessCalendar].

Real time is counted in integer microseconds since the Unix epoch. It is cut into
fixed blocks of ``2**45`` µs (about 407 days, "years"); each block is built once, on
first use, as three parallel lists:

* ``starts[i]`` / ``ends[i]``: the real open intervals inside the block, half-open,
  sorted, merged where they touch or overlap, clipped to the block and to the
  calendar's covered range;
* ``cum[i]``: business microseconds in the block before interval ``i``
  (``cum[-1]`` is the block's total).

A query is then a ``bisect`` in one block plus a little arithmetic: O(log n), with no
stepping per minute or per day. Walking across blocks happens only when a span crosses
a block boundary (at most two or three blocks for spans up to a year).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo

from csmkit.errors import CalendarError
from csmkit.sla._hours import Hours

__all__ = ["EPOCH", "MICROSECOND", "Engine", "from_us", "wall_to_us"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
_SHIFT = 45
_BLOCK = 1 << _SHIFT
_UNBOUNDED = 1 << 62
_DAY = timedelta(days=1)
_NOTHING = object()  # matches no argument: the empty value of Engine.last_delta

Block = tuple[list[int], list[int], list[int], int]


def wall_to_us(day: date, seconds: int, zone: tzinfo) -> int:
    """The real instant (µs since the epoch) at which ``day`` + ``seconds`` of wall clock
    time begins in ``zone``.

    A wall time that occurs twice (autumn overlap) means its first occurrence; a wall
    time that does not exist (spring gap) means the instant the gap ends, i.e. the first
    instant at which the wall clock reads that time or later.
    """
    naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    first = naive.replace(tzinfo=zone)
    second = naive.replace(tzinfo=zone, fold=1)
    off_first, off_second = first.utcoffset(), second.utcoffset()
    result: int = (first - EPOCH) // MICROSECOND
    if off_first is None or off_second is None or off_second <= off_first:
        return result
    # In a gap: `second` maps with the later offset (an earlier instant), `first` with
    # the earlier offset (a later instant). The transition lies between; find it.
    low = (second - EPOCH) // MICROSECOND // 1_000_000
    high = result // 1_000_000
    while low < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == off_second:
            high = middle
        else:
            low = middle + 1
    return high * 1_000_000


def from_us(value: int, zone: tzinfo | None) -> datetime:
    """An aware datetime in ``zone`` for ``value`` µs since the epoch (exact)."""
    seconds, micros = divmod(value, 1_000_000)
    out = datetime.fromtimestamp(seconds, zone)
    return out.replace(microsecond=micros) if micros else out


class Engine:
    """Lazily built per-block interval index with prefix sums (see the module docstring).

    Args:
        day_hours: The hours of a local date.
        zone: The calendar's time zone.
        low: First real µs inside the covered range (inclusive).
        high: End of the covered range in µs (exclusive).
        first_special: Earliest date whose hours are not the weekly pattern's.
        last_special: Latest such date.
        weekly_open: Whether the weekly pattern has any open time.
        describe_range: Text naming the covered range, for error messages.
    """

    __slots__ = (
        "_blocks",
        "_day_hours",
        "_first_special",
        "_last_special",
        "_range_text",
        "_weekly_open",
        "_zone",
        "high",
        "last_delta",
        "low",
    )

    def __init__(
        self,
        day_hours: Callable[[date], Hours],
        zone: tzinfo,
        *,
        low: int | None,
        high: int | None,
        first_special: date | None,
        last_special: date | None,
        weekly_open: bool,
        describe_range: str,
    ) -> None:
        self._blocks: dict[int, Block] = {}
        self._day_hours = day_hours
        self._zone = zone
        self.low = -_UNBOUNDED if low is None else low
        self.high = _UNBOUNDED if high is None else high
        self._first_special = first_special
        self._last_special = last_special
        self._weekly_open = weekly_open
        self._range_text = describe_range
        self.last_delta: tuple[object, int] = (_NOTHING, 0)

    # ------------------------------------------------------------------ building
    def block(self, k: int) -> Block:
        """The block with index ``k`` (built on first use)."""
        found = self._blocks.get(k)
        if found is None:
            found = self._build(k)
            self._blocks[k] = found
        return found

    def _build(self, k: int) -> Block:
        begin = max(k << _SHIFT, self.low)
        end = min((k + 1) << _SHIFT, self.high)
        if begin >= end:
            return [], [], [0], 0
        zone = self._zone
        try:
            first = datetime.fromtimestamp(begin // 1_000_000, zone).date() - 2 * _DAY
            last = datetime.fromtimestamp((end - 1) // 1_000_000, zone).date()
            raw: list[tuple[int, int]] = []
            day = first
            while day <= last:
                for start, stop in self._day_hours(day):
                    a = wall_to_us(day, start, zone)
                    b = wall_to_us(day, stop, zone)
                    a, b = max(a, begin), min(b, end)
                    if a < b:
                        raw.append((a, b))
                day += _DAY
        except (OverflowError, ValueError, OSError) as exc:
            raise CalendarError(
                f"the calendar cannot compute hours this far from today's era ({exc})"
            ) from None
        raw.sort()
        starts: list[int] = []
        ends: list[int] = []
        for a, b in raw:
            if ends and a <= ends[-1]:
                # Touching or overlapping (an overnight shift running into the next
                # day's first interval): the open time is their union.
                ends[-1] = max(ends[-1], b)
            else:
                starts.append(a)
                ends.append(b)
        cum = [0]
        for a, b in zip(starts, ends, strict=True):
            cum.append(cum[-1] + b - a)
        return starts, ends, cum, cum[-1]

    def _move(self, k: int, step: int) -> Block:
        """The next block in direction ``step``, refusing to leave the covered range or
        to search forever in a calendar with no open time left."""
        start = k << _SHIFT
        if step > 0 and start >= self.high:
            raise CalendarError(
                f"the answer lies beyond the end of the calendar's covered range "
                f"({self._range_text})"
            )
        if step < 0 and start + _BLOCK <= self.low:
            raise CalendarError(
                f"the answer lies before the start of the calendar's covered range "
                f"({self._range_text})"
            )
        found = self.block(k)
        if not found[3] and not self._weekly_open:
            day = datetime.fromtimestamp(
                max(min(start, self.high - 1), self.low) // 1_000_000, self._zone
            ).date()
            if step > 0 and (self._last_special is None or day > self._last_special):
                raise CalendarError(f"the calendar has no open time after {day.isoformat()}")
            if step < 0 and (self._first_special is None or day < self._first_special):
                raise CalendarError(f"the calendar has no open time before {day.isoformat()}")
        return found

    def check(self, value: int, name: str, original: datetime) -> None:
        """Raise when ``value`` lies outside the covered range."""
        if value < self.low or value >= self.high:
            raise CalendarError(
                f"{name}={original.isoformat()} is outside the calendar's covered range "
                f"({self._range_text})"
            )

    # ------------------------------------------------------------------ queries
    def is_open(self, t: int) -> bool:
        """Whether ``t`` lies in an open interval."""
        k = t >> _SHIFT
        blk = self._blocks.get(k) or self.block(k)
        i = bisect_right(blk[0], t) - 1
        return i >= 0 and t < blk[1][i]

    def between(self, a: int, b: int) -> int:
        """Business µs in ``[a, b)`` (negative when ``b < a``)."""
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        ka = a >> _SHIFT
        kb = b >> _SHIFT
        blocks = self._blocks
        blk = blocks.get(ka) or self.block(ka)
        starts = blk[0]
        i = bisect_right(starts, a) - 1
        if i < 0:
            pa = 0
        else:
            e = blk[1][i]
            pa = blk[2][i] + (a if a < e else e) - starts[i]
        if kb != ka:
            total = blk[3] - pa
            for k in range(ka + 1, kb):
                total += self.block(k)[3]
            blk = blocks.get(kb) or self.block(kb)
            starts = blk[0]
            pa = -total
        i = bisect_right(starts, b) - 1
        if i < 0:
            pb = 0
        else:
            e = blk[1][i]
            pb = blk[2][i] + (b if b < e else e) - starts[i]
        return sign * (pb - pa)

    def add(self, t: int, delta: int) -> int:
        """The instant ``delta`` business µs after ``t`` (before it when negative).

        Forward, the earliest such instant (a deadline that ends exactly at a closing
        time stays at the closing time); backward, the latest (an opening time).
        """
        if delta == 0:
            return t
        k = t >> _SHIFT
        blk = self._blocks.get(k) or self.block(k)
        starts, ends, cum, total = blk
        i = bisect_right(starts, t) - 1
        if i < 0:
            target = delta
        else:
            e = ends[i]
            target = cum[i] + (t if t < e else e) - starts[i] + delta
        if delta > 0:
            while target > total:
                target -= total
                k += 1
                starts, ends, cum, total = self._move(k, 1)
            j = bisect_left(cum, target) - 1
        else:
            while target < 0:
                k -= 1
                starts, ends, cum, total = self._move(k, -1)
                target += total
            j = bisect_right(cum, target) - 1
        return starts[j] + target - cum[j]

    def next_open(self, t: int) -> int:
        """``t`` if open, else the next opening instant."""
        k = t >> _SHIFT
        starts, ends, _, _ = self._blocks.get(k) or self.block(k)
        i = bisect_right(starts, t) - 1
        if i >= 0 and t < ends[i]:
            return t
        i += 1
        while i >= len(starts):
            k += 1
            starts = self._move(k, 1)[0]
            i = 0
        return starts[i]

    def intervals(self, a: int, b: int) -> list[tuple[int, int]]:
        """The open intervals intersecting ``[a, b)``, clipped to it and merged across
        block boundaries."""
        out: list[tuple[int, int]] = []
        if b <= a:
            return out
        for k in range(a >> _SHIFT, ((b - 1) >> _SHIFT) + 1):
            starts, ends, _, _ = self.block(k)
            i = max(bisect_right(starts, a) - 1, 0)
            while i < len(starts) and starts[i] < b:
                lo, hi = max(starts[i], a), min(ends[i], b)
                if lo < hi:
                    if out and out[-1][1] == lo:
                        out[-1] = (out[-1][0], hi)
                    else:
                        out.append((lo, hi))
                i += 1
        return out
