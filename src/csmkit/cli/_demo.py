"""``csmkit demo``: the article's repair desk, simulated before and after csmkit.

See ``docs/demo.md`` for the model and its assumptions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from csmkit.cli._demo_parser import add_demo_parser
from csmkit.cli._scenario import (
    ARTICLE,
    ASSUMPTIONS,
    CALENDAR,
    MAX_WEEKS,
    SLA,
    START,
    SURVEY,
    make_arrivals,
)
from csmkit.cli._simulate import RunResult, run_desk
from csmkit.metrics import (
    Table,
    backlog,
    csat,
    fcr,
    first_response_time,
    no_reopen_within,
    sla_attainment,
)
from csmkit.sla import BusinessCalendar, SlaPolicy

__all__ = ["add_demo_parser", "run_demo"]

FCR_RULE = "no_reopen_within(3)"


def _fail(message: str) -> int:
    print(f"csmkit demo: error: {message}", file=sys.stderr)
    return 2


class _Progress:
    """A progress bar on stderr, only on a TTY and only after the first second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def __call__(self, fraction: float) -> None:
        if not self.enabled or time.monotonic() - self.started < 1.0:
            return
        width = 30
        filled = int(width * min(1.0, fraction))
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{self.label:<28} [{bar}] {100 * fraction:5.1f}%")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 72 + "\r")
            sys.stderr.flush()


def _kpis(result: RunResult, calendar: BusinessCalendar, policy: SlaPolicy) -> dict[str, Any]:
    timelines = result.timelines
    frt = first_response_time(timelines, clock=calendar)
    low, high = frt.interval(0.95)
    wall = first_response_time(timelines)
    wall_low, wall_high = wall.interval(0.95)
    first_fix = fcr(timelines, no_reopen_within(3), now=result.end)
    satisfaction = csat(timelines, survey=SURVEY)  # the desk's 0-10 survey, mean
    reports = [policy.evaluate(t, calendar=calendar, now=result.end) for t in timelines]
    rates = sla_attainment(reports)
    open_now = backlog(timelines, result.end)

    def rate(r: Any) -> dict[str, Any]:
        lo, hi = r.interval(0.95)
        return {
            "value": r.score,
            "low": lo,
            "high": hi,
            "n": r.trials if hasattr(r, "trials") else r.n,
        }

    hours = timedelta(hours=1)
    mean = frt.mean
    wall_mean = wall.mean
    return {
        "tickets": len(timelines),
        "first_response_hours": {
            "value": None if mean is None else mean / hours,
            "low": low / hours,
            "high": high / hours,
            "n": frt.moments.n,
        },
        "first_response_calendar_hours": {
            "value": None if wall_mean is None else wall_mean / hours,
            "low": wall_low / hours,
            "high": wall_high / hours,
            "n": wall.moments.n,
        },
        "fcr_percent": rate(first_fix),
        "csat_mean": rate(satisfaction),
        "sla_first_response_percent": rate(rates["first_response"]),
        "sla_resolution_percent": rate(rates["resolution"]),
        "backlog": open_now.count,
        "escalations": result.escalations,
        "warnings": result.warnings,
    }


def _cell(value: dict[str, Any], digits: int = 1) -> str:
    if value["value"] is None:
        return "-"
    return (
        f"{value['value']:.{digits}f} [{value['low']:.{digits}f}, {value['high']:.{digits}f}]"
        f" n={value['n']}"
    )


# (label, article's figure before -> after or "", how to show a run's KPI)
ROWS: list[tuple[str, str, Callable[[dict[str, Any]], str]]] = [
    ("tickets", "", lambda k: str(k["tickets"])),
    (
        "avg first response (calendar h)",
        ARTICLE["first_response"],
        lambda k: _cell(k["first_response_calendar_hours"], 1),
    ),
    ("avg first response (business h)", "", lambda k: _cell(k["first_response_hours"], 2)),
    (f"FCR % ({FCR_RULE})", ARTICLE["fcr"], lambda k: _cell(k["fcr_percent"])),
    (
        f"CSAT (mean of {SURVEY.low}-{SURVEY.high})",
        ARTICLE["csat"],
        lambda k: _cell(k["csat_mean"], 2),
    ),
    ("SLA met % first response 2 h", "", lambda k: _cell(k["sla_first_response_percent"])),
    ("SLA met % resolution 24 h", "", lambda k: _cell(k["sla_resolution_percent"])),
    ("backlog at end (unresolved)", "", lambda k: str(k["backlog"])),
]


def _table(before: dict[str, Any], after: dict[str, Any]) -> Table:
    columns = ("metric", "article", "before (simulated)", "after (simulated)")
    rows = tuple(
        {
            "metric": name,
            columns[1]: article or "-",
            columns[2]: show(before),
            columns[3]: show(after),
        }
        for name, article, show in ROWS
    )
    return Table(columns=columns, rows=rows)


def run_demo(args: argparse.Namespace) -> int:
    """Run ``csmkit demo`` with parsed arguments; returns the exit code."""
    weeks, seed = args.weeks, args.seed
    if not 1 <= weeks <= MAX_WEEKS:
        return _fail(f"--weeks must be between 1 and {MAX_WEEKS} (the calendar covers 2026)")
    if args.db is None:
        after_db = Path(tempfile.mkdtemp(prefix="csmkit-demo-")) / "csmkit-demo.db"
    else:
        after_db = Path(args.db)
    before_db = after_db.with_name(after_db.name + ".before.db")
    for path in (after_db, before_db):
        if path.exists():
            return _fail(f"{path} exists; remove it or choose another --db")
        if not path.parent.is_dir():
            return _fail(f"directory {path.parent} does not exist")
    started = time.monotonic()
    calendar = BusinessCalendar.from_dict(CALENDAR)
    policy = SlaPolicy.from_dict(SLA)
    arrivals = make_arrivals(weeks, seed, calendar)
    results = {}
    for label, after, path in (("before", False, before_db), ("after", True, after_db)):
        progress = _Progress(f"simulating {label} ({weeks} wk)")
        try:
            results[label] = run_desk(
                arrivals, after=after, seed=seed, db=str(path), weeks=weeks, progress=progress
            )
        finally:
            progress.close()
    kpis = {label: _kpis(result, calendar, policy) for label, result in results.items()}
    if args.export:
        with open(args.export, "w", encoding="utf-8") as out:
            for timeline in results["after"].timelines:
                out.write(json.dumps(timeline.to_dict(), ensure_ascii=False, sort_keys=True))
                out.write("\n")
    elapsed = time.monotonic() - started
    if args.json:
        print(
            json.dumps(
                {
                    "simulation": True,
                    "seed": seed,
                    "weeks": weeks,
                    "start": START.isoformat(),
                    "db": {"before": str(before_db), "after": str(after_db)},
                    "assumptions": ASSUMPTIONS,
                    "survey": SURVEY.to_dict(),
                    "article": ARTICLE,
                    "confidence": 0.95,
                    "before": kpis["before"],
                    "after": kpis["after"],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    end = START + timedelta(weeks=weeks)
    print("csmkit demo: a SIMULATION of the article's smart-home repair desk, not real data.")
    print(
        f"{weeks} week(s) from {START.isoformat()} to {end.isoformat()} (China 2026 calendar "
        "with 调休: 补班 Sun 20 Sep, 中秋 25 Sep, 国庆 1-7 Oct, 补班 Sat 10 Oct), seed "
        f"{seed}, {len(arrivals)} tickets."
    )
    print(
        "Desk: repair workflow, SLA 2 h first response / 24 h resolution in business "
        "hours (Mon-Fri 09-12, 13-18 Asia/Shanghai), CSAT survey on close (0-10, mean)."
    )
    print("Assumptions:")
    for line in ASSUMPTIONS:
        print(f"  - {line}")
    print()
    print(_table(kpis["before"], kpis["after"]))
    print()
    print(
        "[low, high]: 95 % intervals (t for means, Wilson for rates); n: tickets, "
        "SLA cycles or survey answers counted. article: the article's figures "
        "(before -> after where it gives both); the simulated columns are not real data."
    )
    print(
        f"after: {kpis['after']['escalations']} escalations, "
        f"{kpis['after']['warnings']} warnings sent."
    )
    print(f"Stores (SQLite): before {before_db}, after {after_db}")
    if args.export:
        print(f"Export (JSON Lines, after): {args.export}")
    print(f"Simulated in {elapsed:.1f} s through csmkit.desk.ServiceDesk; KPIs by csmkit.metrics.")
    return 0
