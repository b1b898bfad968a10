"""Business-time benchmark: csmkit.sla.BusinessCalendar against its Python peers.

Operations (the set-up of the research note, ``research/sla.md`` §3):

* add 13.5 business hours to N random instants (pandas ``CustomBusinessHour`` takes
  only whole hours, so pandas adds 13 h);
* business time between N random pairs up to 60 days apart;

on Mon-Fri 09:00-18:00 ("single") and 09:00-12:00 + 13:00-18:00 ("lunch"), both with
10 weekday holidays in 2024, UTC. Starts are uniform over 2024-01-01..2024-10-15 so no
query passes the last listed holiday (businesstimedelta crashes there, its issue #10).

Peers (``pip install 'csmkit[bench]'``): businesstimedelta, business-duration, pandas.
Building each calendar is inside the timed call, once per batch, for every library.
Each peer's answers are checked against csmkit's; any disagreement is printed and makes
the script exit with status 1.

Also measured: the per-call cost of csmkit for a 1-hour span versus a 1-year span.

Usage::

    python benchmarks/bench_sla.py            # N=100,000 for csmkit and every peer
    python benchmarks/bench_sla.py --quick    # N=10,000 for csmkit, 1,000 for peers
    python benchmarks/bench_sla.py --peer-n 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import timeit
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from csmkit.sla import BusinessCalendar

UTC = dt.timezone.utc
ADD = dt.timedelta(hours=13.5)
HOLIDAYS = sorted(
    dt.date(2024, m, d)
    for m, d in [
        (1, 1),
        (1, 15),
        (2, 19),
        (5, 27),
        (6, 19),
        (7, 4),
        (9, 2),
        (10, 14),
        (11, 28),
        (12, 25),
    ]
)
CALENDARS = {
    "single": [(9, 18)],
    "lunch": [(9, 12), (13, 18)],
}


def make_inputs(n: int, seed: int = 20240101) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """Naive UTC starts and ends (as the peers take them)."""
    rng = random.Random(seed)
    t0 = dt.datetime(2024, 1, 1)
    span = int((dt.datetime(2024, 10, 15) - t0).total_seconds())
    starts = [t0 + dt.timedelta(seconds=rng.randrange(span)) for _ in range(n)]
    ends = [a + dt.timedelta(seconds=rng.randrange(60 * 86400)) for a in starts]
    return starts, ends


# ----------------------------------------------------------------------------- csmkit
def csmkit_calendar(hours: list[tuple[int, int]]) -> BusinessCalendar:
    return BusinessCalendar.from_dict(
        {
            "timezone": "UTC",
            "week": {"mon-fri": [f"{a:02d}:00-{b:02d}:00" for a, b in hours]},
            "holidays": [d.isoformat() for d in HOLIDAYS],
        }
    )


def csmkit_add(xs: Sequence[dt.datetime], hours: list[tuple[int, int]], delta: dt.timedelta):
    add = csmkit_calendar(hours).add
    return [add(x, delta) for x in xs]


def csmkit_between(xs: Sequence[dt.datetime], ys: Sequence[dt.datetime], hours):
    between = csmkit_calendar(hours).between
    return [between(x, y) for x, y in zip(xs, ys, strict=True)]


# ----------------------------------------------------------------------------- peers
def btd_rules(hours: list[tuple[int, int]]) -> Any:
    import pytz
    from businesstimedelta import HolidayRule, LunchTimeRule, Rules, WorkDayRule

    weekdays = [0, 1, 2, 3, 4]
    rules = [
        WorkDayRule(start_time=dt.time(9), end_time=dt.time(18), working_days=weekdays, tz=pytz.utc)
    ]
    if len(hours) == 2:
        rules.append(
            LunchTimeRule(
                start_time=dt.time(12), end_time=dt.time(13), working_days=weekdays, tz=pytz.utc
            )
        )
    rules.append(HolidayRule(set(HOLIDAYS), tz=pytz.utc))
    return Rules(rules)


def btd_add(xs: Sequence[dt.datetime], hours: list[tuple[int, int]]) -> list[dt.datetime]:
    from businesstimedelta import BusinessTimeDelta

    delta = BusinessTimeDelta(btd_rules(hours), seconds=ADD.total_seconds())
    return [(x + delta).replace(tzinfo=None) for x in xs]


def btd_between(xs, ys, hours) -> list[float]:
    rules = btd_rules(hours)
    return [rules.difference(x, y).timedelta.total_seconds() for x, y in zip(xs, ys, strict=True)]


def bd_between(xs, ys, hours) -> list[float]:
    from business_duration import businessDuration

    holidays = set(HOLIDAYS)
    return [
        sum(
            businessDuration(
                x,
                y,
                starttime=dt.time(a),
                endtime=dt.time(b),
                weekendlist=[5, 6],
                holidaylist=holidays,
                unit="sec",
            )
            for a, b in hours
        )
        for x, y in zip(xs, ys, strict=True)
    ]


def pandas_add(index: Any, hours: list[tuple[int, int]]) -> Any:
    from pandas.tseries.offsets import CustomBusinessHour

    offset = CustomBusinessHour(
        n=13,
        start=[f"{a:02d}:00" for a, _ in hours],
        end=[f"{b:02d}:00" for _, b in hours],
        holidays=HOLIDAYS,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PerformanceWarning: non-vectorized DateOffset
        return index + offset


# ----------------------------------------------------------------------------- harness
def timed(label: str, fn: Callable[[], Any], n: int, repeat: int) -> tuple[float, Any]:
    result = fn()  # also the warm-up; its answers are checked for agreement
    times = timeit.repeat(fn, number=1, repeat=repeat)
    rate = n / statistics.median(times)
    print(f"  {label:44s} n={n:>7,d}  {rate:>12,.0f} ops/s", flush=True)
    return rate, result


def agree(label: str, got: Sequence[Any], want: Sequence[Any]) -> bool:
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    status = "agree" if not bad else "DISAGREE"
    print(f"  check {label:38s} {len(got) - len(bad):>7,d}/{len(got):,d} {status}")
    for i, g, w in bad[:3]:
        print(f"      #{i}: peer {g!r} vs csmkit {w!r}")
    return not bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="operations for csmkit")
    parser.add_argument("--peer-n", type=int, default=None, help="operations per peer")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median used)")
    parser.add_argument("--quick", action="store_true", help="N=10,000 / peers 1,000")
    parser.add_argument("--no-peers", action="store_true", help="time csmkit only")
    args = parser.parse_args(argv)
    n = 10_000 if args.quick else args.n
    peer_n = args.peer_n or (1_000 if args.quick else n)
    print(
        f"Python {sys.version.split()[0]}; csmkit n={n:,d}, peers n={peer_n:,d}, "
        f"median of {args.repeat} runs"
    )
    starts, ends = make_inputs(max(n, peer_n))
    aware_starts = [x.replace(tzinfo=UTC) for x in starts]
    aware_ends = [y.replace(tzinfo=UTC) for y in ends]
    ok = True
    summary = []
    for name, hours in CALENDARS.items():
        print(
            f"\n[{name}: Mon-Fri {' + '.join(f'{a:02d}-{b:02d}' for a, b in hours)}, 10 holidays]"
        )
        xs, ys = aware_starts[:n], aware_ends[:n]
        ours_add, add_result = timed(
            "csmkit add 13.5h",
            lambda xs=xs, hours=hours: csmkit_add(xs, hours, ADD),
            n,
            args.repeat,
        )
        ours_between, between_result = timed(
            "csmkit between",
            lambda xs=xs, ys=ys, hours=hours: csmkit_between(xs, ys, hours),
            n,
            args.repeat,
        )
        calendar = csmkit_calendar(hours)
        if args.no_peers:
            continue
        px, py = starts[:peer_n], ends[:peer_n]
        ours_naive = [r.replace(tzinfo=None) for r in add_result[:peer_n]]
        ours_seconds = [d.total_seconds() for d in between_result[:peer_n]]

        rate, got = timed(
            "businesstimedelta add 13.5h",
            lambda px=px, hours=hours: btd_add(px, hours),
            peer_n,
            args.repeat,
        )
        ok &= agree("businesstimedelta add (strict)", got, ours_naive)
        summary.append((name, "add", "businesstimedelta", ours_add / rate))

        import pandas as pd

        index = pd.DatetimeIndex(px)
        rate, got = timed(
            "pandas CustomBusinessHour add 13h",
            lambda index=index, hours=hours: pandas_add(index, hours),
            peer_n,
            args.repeat,
        )
        # pandas writes a result that lands on a closing time as the next opening.
        ours13 = [
            calendar.next_open(calendar.add(x, dt.timedelta(hours=13))).replace(tzinfo=None)
            for x in aware_starts[:peer_n]
        ]
        ok &= agree("pandas add 13h (next-opening form)", [t.to_pydatetime() for t in got], ours13)
        summary.append((name, "add", "pandas CustomBusinessHour (13h)", ours_add / rate))

        rate, got = timed(
            "businesstimedelta between",
            lambda px=px, py=py, hours=hours: btd_between(px, py, hours),
            peer_n,
            args.repeat,
        )
        ok &= agree("businesstimedelta between", got, ours_seconds)
        summary.append((name, "between", "businesstimedelta", ours_between / rate))

        rate, got = timed(
            "business-duration between",
            lambda px=px, py=py, hours=hours: bd_between(px, py, hours),
            peer_n,
            args.repeat,
        )
        ok &= agree("business-duration between", [float(v) for v in got], ours_seconds)
        summary.append((name, "between", "business-duration", ours_between / rate))

    print("\n[per-call cost versus span (single calendar)]")
    calendar = csmkit_calendar(CALENDARS["single"])
    xs = aware_starts[:n]
    spans = {}
    for label, delta in [("1 hour", dt.timedelta(hours=1)), ("1 year", dt.timedelta(days=365))]:
        ys = [x + delta for x in xs]
        spans[("between", label)], _ = timed(
            f"csmkit between, span {label}",
            lambda ys=ys: [calendar.between(x, y) for x, y in zip(xs, ys, strict=True)],
            n,
            args.repeat,
        )
    year = calendar.between(xs[0], xs[0] + dt.timedelta(days=365))
    for label, delta in [("1 hour", dt.timedelta(hours=1)), ("1 year", year)]:
        spans[("add", label)], _ = timed(
            f"csmkit add, {label} of business time",
            lambda delta=delta: [calendar.add(x, delta) for x in xs],
            n,
            args.repeat,
        )
    for op in ("between", "add"):
        ratio = spans[(op, "1 hour")] / spans[(op, "1 year")]
        print(
            f"  {op}: a 1-year span costs {ratio:.2f}x a 1-hour span per call "
            f"({'within' if ratio <= 2 else 'OVER'} the 2x goal)"
        )

    if summary:
        print("\n[ratios: csmkit ops/s divided by peer ops/s; goal >= 30x the fastest peer]")
        for name, op, peer, ratio in summary:
            print(f"  {name:7s} {op:8s} vs {peer:34s} {ratio:8.1f}x")
        for name in CALENDARS:
            for op in ("add", "between"):
                worst = min(r for c, o, _, r in summary if c == name and o == op)
                print(
                    f"  {name:7s} {op:8s} vs the fastest peer: {worst:.1f}x "
                    f"({'meets' if worst >= 30 else 'BELOW'} the 30x goal)"
                )
    print("\nall answers agree" if ok else "\nSOME ANSWERS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
