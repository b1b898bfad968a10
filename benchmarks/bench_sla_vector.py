"""Vectorised business time: BusinessCalendar.add_many / between_many (extra ``numpy``).

Same set-up as ``bench_sla.py``: Mon-Fri 09:00-12:00 + 13:00-18:00 with 10 weekday
holidays in 2024, in Asia/Shanghai; N random instants uniform over 2024 in a pandas
Series with a time zone; add 13.5 business hours, and business time between pairs up to
60 days apart. Before anything is timed, a sample of the answers is checked against the
scalar ``add`` / ``between`` (any disagreement exits with status 1). Timings are the best
of ``--repeat`` runs, interleaved with the scalar loop on the same machine.

Usage::

    python benchmarks/bench_sla_vector.py              # N=1,000,000
    python benchmarks/bench_sla_vector.py --n 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta

import numpy as np
import pandas as pd

from csmkit.sla import BusinessCalendar

HOLIDAYS = [
    "2024-01-01", "2024-02-12", "2024-02-13", "2024-04-04", "2024-05-01",
    "2024-06-10", "2024-09-17", "2024-10-01", "2024-10-02", "2024-10-03",
]  # fmt: skip
DELTA = timedelta(hours=13, minutes=30)


def _calendar() -> BusinessCalendar:
    return BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
            "holidays": HOLIDAYS,
            "workdays": ["2024-02-04", "2024-02-18"],
        }
    )


def _best(call: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--check", type=int, default=20_000, help="answers checked vs scalar")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7)
    first = pd.Timestamp("2024-01-01", tz="Asia/Shanghai").value // 1000
    span = 300 * 86_400 * 1_000_000
    us = first + rng.integers(0, span, args.n)
    starts = pd.Series(pd.DatetimeIndex(us.astype("datetime64[us]")).tz_localize("UTC"))
    starts = starts.dt.tz_convert("Asia/Shanghai")
    ends = starts + pd.to_timedelta(rng.integers(0, 60 * 86_400 * 10**6, args.n), unit="us")
    calendar = _calendar()

    due = calendar.add_many(starts, DELTA)
    spent = calendar.between_many(starts, ends)
    sample = starts.iloc[: args.check].dt.to_pydatetime()
    sample_ends = ends.iloc[: args.check].dt.to_pydatetime()
    bad = sum(
        calendar.add(at, DELTA) != due.iloc[i].to_pydatetime() for i, at in enumerate(sample)
    ) + sum(
        calendar.between(a, b) != spent.iloc[i].to_pytimedelta()
        for i, (a, b) in enumerate(zip(sample, sample_ends, strict=True))
    )
    if bad:
        print(f"{bad} answers of add_many/between_many differ from add/between")
        return 1
    print(f"checked {args.check:,} answers of each against the scalar methods: identical")

    small = list(sample[:20_000])
    small_ends = list(sample_ends[:20_000])
    scalar_add = _best(lambda: [calendar.add(a, DELTA) for a in small], 1) / len(small)
    scalar_between = _best(
        lambda: [calendar.between(a, b) for a, b in zip(small, small_ends, strict=True)], 1
    ) / len(small)
    vector_add = _best(lambda: calendar.add_many(starts, DELTA), args.repeat) / args.n
    vector_between = _best(lambda: calendar.between_many(starts, ends), args.repeat) / args.n
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"N={args.n:,}  repeat={args.repeat}  load average {load:.1f}")
    for name, vector, scalar in (
        ("add_many", vector_add, scalar_add),
        ("between_many", vector_between, scalar_between),
    ):
        print(
            f"{name:<13} {1 / vector / 1e6:6.1f} M ops/s   "
            f"scalar loop {1 / scalar / 1e6:5.2f} M ops/s   speed-up {scalar / vector:5.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
