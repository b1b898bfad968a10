"""KPIs of a ticket export: ``csmkit report`` vs the Python API vs pandas.

Run:  python benchmarks/bench_report.py [--sizes 10000,100000] [--million] [--repeats 1]

A seeded generator writes a JSON Lines export (one ``Timeline.to_dict()`` per line, as
csmkit exports) of N tickets over six months on four channels. The same KPIs, by channel
and month of creation, are then computed three ways, each in a fresh subprocess:

* ``cli``: ``csmkit report --format json`` (``--now`` given, ``--sla`` policy file);
* ``api``: ``csmkit.io.report_export()`` (one streaming pass);
* ``pandas``: ``pd.read_json(lines=True)``, events flattened into one DataFrame, group-bys.

KPIs: mean first response time, CSAT % (top box 4-5, latest answer), one-touch FCR %
(resolved tickets with fewer than 2 public agent replies), SLA attainment of a 4-hour
first-response target (calendar time; a ticket not answered by ``now`` and past due is
breached). The three must agree (counts exactly, means to the microsecond) before any
figure is printed. Per run: CPU time (user + system of the subprocess, interpreter and
imports included) and peak resident memory (``ru_maxrss``), and the ratios to pandas.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

CHANNELS = ("email", "chat", "phone", "web")
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
NOW = START + timedelta(days=200)
SLA = {
    "name": "bench",
    "targets": {
        "first_response": {
            "goals": {"low": "4h", "normal": "4h", "high": "4h", "urgent": "4h"},
            "business": False,
        }
    },
}
METRICS = ["first_response_time", "csat", "fcr[one_touch]", "sla[first_response]"]


# --------------------------------------------------------------------------- the export
def _base(kind: str, ticket: str, at: datetime) -> dict[str, Any]:
    return {"kind": kind, "ticket_id": ticket, "at": at.isoformat(), "actor": None, "meta": {}}


def _message(ticket: str, at: datetime, direction: str, channel: str) -> dict[str, Any]:
    event = _base("message_added", ticket, at)
    event.update(
        direction=direction,
        channel=channel,
        author=None,
        public=True,
        message_id=None,
        body_ref=None,
    )
    return event


def _status(ticket: str, at: datetime, old: str, new: str) -> dict[str, Any]:
    event = _base("status_changed", ticket, at)
    event.update(from_status=old, to_status=new, category=new, transition=None, reason=None)
    return event


def ticket_record(rng: random.Random, number: int) -> dict[str, Any]:
    """One ticket's ``Timeline.to_dict()`` (events in order, valid by construction)."""
    ticket = f"T-{number:07d}"
    channel = rng.choice(CHANNELS)
    created = START + timedelta(seconds=rng.randrange(180 * 86400))
    event = _base("created", ticket, created)
    event.update(
        type="ticket",
        channel=channel,
        priority="normal",
        customer_id=f"C-{rng.randrange(50_000)}",
        subject="",
        fields={},
        tags=[],
        status="new",
        category="new",
        workflow=None,
        workflow_version=None,
    )
    events = [event, _message(ticket, created, "inbound", channel)]
    at = created
    if rng.random() < 0.92:
        at = created + timedelta(seconds=int(rng.lognormvariate(8.5, 1.2)))
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            events.append(_message(ticket, at, "outbound", channel))
            at += timedelta(seconds=rng.randrange(60, 7200))
        if rng.random() < 0.85:
            events.append(_status(ticket, at, "new", "solved"))
            status = "solved"
            if rng.random() < 0.05:
                at += timedelta(hours=rng.randrange(1, 48))
                events.append(_status(ticket, at, "solved", "open"))
                at += timedelta(hours=1)
                events.append(_status(ticket, at, "open", "solved"))
            if rng.random() < 0.3:
                survey = _base("survey_answered", ticket, at)
                survey.update(survey="csat", score=rng.choice((1, 2, 3, 4, 5, 5)), comment=None)
                events.append(survey)
            del status
    return {"ticket_id": ticket, "events": events}


def write_export(path: Path, tickets: int, seed: int = 16) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for number in range(tickets):
            out.write(json.dumps(ticket_record(rng, number), separators=(",", ":")) + "\n")


# --------------------------------------------------------------------------- the three ways
def _kpis_from_table(rows: list[dict[str, Any]], seconds: bool) -> dict[str, Any]:
    out = {}
    for row in rows:
        mean = row["first_response_time_mean"]
        if mean is not None and not seconds:
            mean = mean.total_seconds()
        out[f"{row['channel']}|{row['month']}"] = {
            "fr_n": row["first_response_time_n"],
            "fr_mean": mean,
            "csat_n": row["csat_n"],
            "csat": row["csat"],
            "fcr_n": row["fcr[one_touch]_n"],
            "fcr": row["fcr[one_touch]"],
            "sla_n": row["sla[first_response]_n"],
            "sla": row["sla[first_response]"],
        }
    return out


def run_cli(path: Path, policy: Path) -> dict[str, Any]:
    from csmkit.cli import main

    out_path = path.with_suffix(".report.json")
    code = main(
        [
            "report",
            str(path),
            "--metrics",
            ",".join(METRICS),
            "--by",
            "channel",
            "--period",
            "month",
            "--now",
            NOW.isoformat(),
            "--sla",
            str(policy),
            "--format",
            "json",
            "--output",
            str(out_path),
        ]
    )
    assert code == 0
    rows = json.loads(out_path.read_text(encoding="utf-8"))["rows"]
    return _kpis_from_table(rows, seconds=True)


def run_api(path: Path, policy: Path) -> dict[str, Any]:
    from csmkit.io import report_export
    from csmkit.sla import SlaPolicy

    result = report_export(
        path,
        METRICS,
        by=["channel"],
        bucket="month",
        now=NOW,
        sla=SlaPolicy.from_dict(json.loads(policy.read_text(encoding="utf-8"))),
    )
    return _kpis_from_table(list(result.table.rows), seconds=False)


def run_pandas(path: Path, policy: Path) -> dict[str, Any]:
    import pandas as pd

    tickets = pd.read_json(path, lines=True, dtype=False)
    events = pd.DataFrame.from_records(
        [event for history in tickets["events"] for event in history],
        columns=[
            "kind",
            "ticket_id",
            "at",
            "channel",
            "direction",
            "public",
            "actor",
            "category",
            "survey",
            "score",
        ],
    )
    events["at"] = pd.to_datetime(events["at"], format="ISO8601", utc=True)
    created = events[events["kind"] == "created"].set_index("ticket_id")[["at", "channel"]]
    created["month"] = created["at"].dt.strftime("%Y-%m")
    replies = (
        events[
            (events["kind"] == "message_added")
            & (events["direction"] == "outbound")
            & (events["public"] == True)  # noqa: E712 - a pandas mask
            & (events["actor"] != "system")
        ]
        .groupby("ticket_id")["at"]
        .agg(["min", "count"])
    )
    status = events[events["kind"] == "status_changed"].groupby("ticket_id")["category"].last()
    csat = events[(events["kind"] == "survey_answered") & (events["survey"] == "csat")]
    csat = csat.groupby("ticket_id")["score"].last()
    frame = created.join(replies).join(status.rename("final")).join(csat.rename("csat"))
    frame["count"] = frame["count"].fillna(0)
    frame["fr"] = (frame["min"] - frame["at"]).dt.total_seconds()
    frame["resolved"] = frame["final"].isin(["solved", "closed"])
    due = frame["at"] + pd.Timedelta(hours=4)
    now = pd.Timestamp(NOW)
    answered = frame["min"].notna()
    frame["sla_counted"] = answered | (now > due)
    frame["sla_met"] = answered & (frame["min"] <= due)
    out: dict[str, Any] = {}
    for (channel, month), group in frame.groupby(["channel", "month"]):
        fcr = group[group["resolved"]]
        rated = group["csat"].dropna()
        counted = group[group["sla_counted"]]
        out[f"{channel}|{month}"] = {
            "fr_n": int(group["fr"].notna().sum()),
            "fr_mean": float(group["fr"].mean()) if group["fr"].notna().any() else None,
            "csat_n": len(rated),
            "csat": 100.0 * float((rated >= 4).mean()) if len(rated) else None,
            "fcr_n": len(fcr),
            "fcr": 100.0 * float((fcr["count"] < 2).mean()) if len(fcr) else None,
            "sla_n": len(counted),
            "sla": 100.0 * float(counted["sla_met"].mean()) if len(counted) else None,
        }
    return out


RUNNERS = {"cli": run_cli, "api": run_api, "pandas": run_pandas}


def agree(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    problems = []
    if set(left) != set(right):
        return [f"groups differ: {sorted(set(left) ^ set(right))[:5]}"]
    for group, figures in left.items():
        for name, value in figures.items():
            other = right[group][name]
            if value is None or other is None:
                ok = value is None and other is None
            elif name.endswith("_n"):
                ok = value == other
            elif name == "fr_mean":
                ok = abs(value - other) <= 1e-6
            else:
                ok = math.isclose(value, other, rel_tol=1e-12, abs_tol=1e-9)
            if not ok:
                problems.append(f"{group} {name}: {value} != {other}")
    return problems


def measure(way: str, path: Path, policy: Path) -> tuple[float, float, float, dict[str, Any]]:
    """CPU seconds, wall seconds, peak MB and the KPIs of one run in a fresh subprocess."""
    out = path.with_suffix(f".{way}.json")
    command = [
        sys.executable,
        __file__,
        "--run",
        way,
        "--file",
        str(path),
        "--policy",
        str(policy),
        "--out",
        str(out),
    ]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{way} failed with status {status}")
    kpis = json.loads(out.read_text(encoding="utf-8"))
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, kpis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 tickets")
    parser.add_argument("--repeats", type=int, default=1, help="best of N runs per way")
    parser.add_argument("--ways", default="pandas,api,cli")
    parser.add_argument("--dir", default=None, help="where the exports go (default: a temp dir)")
    parser.add_argument("--run", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--policy", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        kpis = RUNNERS[args.run](Path(args.file), Path(args.policy))
        Path(args.out).write_text(json.dumps(kpis), encoding="utf-8")
        return
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if args.million:
        sizes.append(1_000_000)
    ways = args.ways.split(",")
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="bench_report_"))
    policy = workdir / "sla.json"
    policy.write_text(json.dumps(SLA), encoding="utf-8")
    print(f"load average {os.getloadavg()}; python {sys.version.split()[0]}")
    print(
        f"{'tickets':>9} {'way':>7} {'CPU s':>8} {'wall s':>8} {'peak MB':>8} "
        f"{'CPU/pandas':>10} {'µs/ticket':>9}"
    )
    for size in sizes:
        path = workdir / f"export_{size}.jsonl"
        if not path.exists():
            write_export(path, size)
        results: dict[str, tuple[float, float, float]] = {}
        reference: dict[str, Any] | None = None
        for way in ways:
            best: tuple[float, float, float] | None = None
            for _ in range(args.repeats):
                cpu, wall, peak, kpis = measure(way, path, policy)
                if reference is None:
                    reference = kpis
                else:
                    problems = agree(reference, kpis)
                    if problems:
                        raise SystemExit(f"{way} disagrees at {size}: {problems[:5]}")
                if best is None or cpu < best[0]:
                    best = (cpu, wall, peak)
            assert best is not None
            results[way] = best
        base = results.get("pandas", (math.nan,))[0]
        for way, (cpu, wall, peak) in results.items():
            print(
                f"{size:>9,} {way:>7} {cpu:>8.2f} {wall:>8.2f} {peak:>8.0f} "
                f"{cpu / base:>9.2f}x {1e6 * cpu / size:>9.1f}"
            )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
