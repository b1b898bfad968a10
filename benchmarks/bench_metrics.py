"""Benchmark csmkit.metrics against the obvious peers, in one process.

Run:  python benchmarks/bench_metrics.py [--quick]

1. NPS (+ margin of error) over N scores: csmkit.metrics.nps vs a collections.Counter pass
   and numpy.bincount (if installed).
2. p50/p90/p99 of N log-normal response times: csmkit QuantileAccumulator (DDSketch,
   α = 1 %) vs statistics.quantiles(method="inclusive") and numpy.percentile.
   Also nps() over the same scores as floats (the general Counter path).
3. Ticket metrics (first response, FCR one-touch) over M generated timelines with a
   business calendar (Mon–Fri 09:00–18:00): a bisect-over-intervals reference clock and
   csmkit.sla.BusinessCalendar, which must agree.
"""

from __future__ import annotations

import argparse
import bisect
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from csmkit.metrics import QuantileAccumulator, fcr, first_response_time, nps
from csmkit.sla import BusinessCalendar
from csmkit.timeline import MessageAdded, StatusChanged, TicketCreated, Timeline

Z95 = statistics.NormalDist().inv_cdf(0.975)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def counter_nps(scores: list[int]) -> tuple[float, float]:
    c = Counter(scores)
    n = len(scores)
    p = (c[9] + c[10]) / n
    d = sum(c[k] for k in range(7)) / n
    return 100 * (p - d), 100 * Z95 * math.sqrt((p + d - (p - d) ** 2) / n)


class WeekdayCalendar:
    """Mon–Fri 09:00–18:00 UTC; between() by bisect over precomputed prefix sums."""

    def __init__(self, start: datetime, days: int) -> None:
        self.bounds: list[datetime] = []
        for day in range(days):
            base = start + timedelta(days=day)
            if base.weekday() < 5:
                self.bounds += [base.replace(hour=9), base.replace(hour=18)]

    def _worked(self, t: datetime) -> timedelta:
        i = bisect.bisect_right(self.bounds, t)
        full = (i // 2) * timedelta(hours=9)
        if i % 2:
            full += t - self.bounds[i - 1]
        return full

    def between(self, start: datetime, end: datetime) -> timedelta:
        return self._worked(end) - self._worked(start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = 1_000_000 if args.quick else 10_000_000
    tickets = 10_000 if args.quick else 100_000
    rng = random.Random(20240601)
    try:
        import numpy as np
    except ImportError:
        np = None

    print(f"## NPS over {n:,} scores (best of {args.repeats})")
    weights = [2, 1, 1, 1, 1, 3, 3, 9, 22, 22, 35]
    scores = rng.choices(range(11), weights=weights, k=n)
    t_counter, (ref_score, ref_moe) = timed(lambda: counter_nps(scores), args.repeats)
    t_csmkit, result = timed(lambda: nps(scores), args.repeats)
    assert abs(result.score - ref_score) < 1e-9
    assert abs(result.margin_of_error(0.95) - ref_moe) < 1e-9
    print(f"Counter pass        {t_counter:.3f} s  {n / t_counter:,.0f} scores/s")
    print(f"csmkit nps()        {t_csmkit:.3f} s  ratio to Counter {t_csmkit / t_counter:.2f}x")
    floats = [float(x) for x in scores]  # pandas-style integral floats: the general path
    t_floats, float_result = timed(lambda: nps(floats), args.repeats)
    assert float_result.counts == result.counts
    print(f"csmkit nps(floats)  {t_floats:.3f} s  ratio to Counter {t_floats / t_counter:.2f}x")
    if np is not None:
        array = np.asarray(scores, dtype=np.int64)
        t_np, counts = timed(lambda: np.bincount(array, minlength=11), args.repeats)
        assert counts.tolist() == list(result.counts)
        print(f"numpy.bincount      {t_np:.3f} s  csmkit/numpy {t_csmkit / t_np:.1f}x")

    print(f"\n## p50/p90/p99 of {n:,} response times (best of {args.repeats})")
    values = [rng.lognormvariate(8.0, 1.2) for _ in range(n)]
    t_stats, cuts = timed(
        lambda: statistics.quantiles(values, n=100, method="inclusive"), args.repeats
    )
    exact = (cuts[49], cuts[89], cuts[98])

    def sketch() -> tuple[float, ...]:
        summary = QuantileAccumulator(exact_limit=0).update_many(values).result()
        return tuple(summary.quantile(q) for q in (0.5, 0.9, 0.99))

    t_sketch, approx = timed(sketch, args.repeats)
    error = max(abs(a - e) / e for a, e in zip(approx, exact, strict=True))
    print(f"statistics.quantiles {t_stats:.3f} s")
    print(
        f"csmkit DDSketch      {t_sketch:.3f} s  ratio {t_sketch / t_stats:.2f}x  "
        f"max rel. error {error:.2e} (bound 1e-02)"
    )
    assert error <= 0.0101
    if np is not None:
        arr = np.asarray(values)
        t_np, pct = timed(lambda: np.percentile(arr, [50, 90, 99]), args.repeats)
        assert max(abs(a - b) / b for a, b in zip(pct.tolist(), exact, strict=True)) < 1e-9
        print(f"numpy.percentile     {t_np:.3f} s  csmkit/numpy {t_sketch / t_np:.1f}x")

    print(f"\n## ticket metrics over {tickets:,} timelines with a business calendar")
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    calendar = WeekdayCalendar(start - timedelta(days=1), 800)
    timelines = []
    for i in range(tickets):
        tid = f"T{i}"
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
        reply = created + timedelta(minutes=rng.randrange(1, 600))
        solved = reply + timedelta(minutes=rng.randrange(1, 3000))
        events = [
            TicketCreated(ticket_id=tid, at=created, type="q", channel="email"),
            MessageAdded(ticket_id=tid, at=created, direction="inbound", channel="email"),
            MessageAdded(ticket_id=tid, at=reply, direction="outbound", channel="email"),
            StatusChanged(
                ticket_id=tid, at=solved, from_status="new", to_status="solved", category="solved"
            ),
        ]
        timelines.append(Timeline(events))
    t_frt, frt = timed(lambda: first_response_time(timelines, clock=calendar), 1)
    real = BusinessCalendar.from_dict({"timezone": "UTC", "week": {"mon-fri": ["09:00-18:00"]}})
    t_real, frt_real = timed(lambda: first_response_time(timelines, clock=real), 1)
    assert frt_real.median == frt.median
    assert frt_real.mean == frt.mean
    t_fcr, rate = timed(lambda: fcr(timelines), 1)
    print(
        f"first_response_time (business)  {t_frt:.3f} s  {tickets / t_frt:,.0f} tickets/s"
        f"  median {frt.median}"
    )
    print(f"  with csmkit.sla.BusinessCalendar {t_real:.3f} s  {tickets / t_real:,.0f} tickets/s")
    print(
        f"fcr one_touch                   {t_fcr:.3f} s  {tickets / t_fcr:,.0f} tickets/s"
        f"  score {rate.score:.1f}"
    )


if __name__ == "__main__":
    main()
