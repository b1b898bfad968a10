"""Notebook-style KPIs from an export, with ``csmkit.metrics`` only.

Reads ``examples/data/demo-export.jsonl`` (JSON Lines, one ``Timeline.to_dict()`` per
ticket, written by ``csmkit demo --export``; it is simulated data) and computes the
service KPIs with their 95 % intervals, in business hours on the China 2026 calendar.

Run: ``python examples/kpis_from_export.py [FILE]``
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from csmkit.metrics import (
    Survey,
    csat,
    fcr,
    first_response_time,
    no_reopen_within,
    report,
    sla_attainment,
)
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.timeline import Timeline

HERE = Path(__file__).resolve().parent
PRIORITIES = ("low", "normal", "high", "urgent")


def main(path: Path) -> None:
    # In [1]: load the export
    with path.open(encoding="utf-8") as lines:
        timelines = [Timeline.from_dict(json.loads(line)) for line in lines if line.strip()]
    now = max(t.updated_at for t in timelines)
    calendar = BusinessCalendar.from_dict(  # China 2026 with 调休 (补班)
        json.loads((HERE / "data" / "calendar_cn_2026.json").read_text(encoding="utf-8"))
    )
    policy = SlaPolicy.from_dict(  # the demo's policy: 2 h first response, 24 h resolution
        {"name": "repair", "targets": {
            "first_response": {"goals": dict.fromkeys(PRIORITIES, "2h")},
            "resolution": {"goals": dict.fromkeys(PRIORITIES, "24h")}}}
    )  # fmt: skip
    print(f"{len(timelines)} tickets, last event {now.isoformat()}")

    # In [2]: first response time in business hours
    frt = first_response_time(timelines, clock=calendar)
    low, high = frt.interval(0.95)
    hours = timedelta(hours=1)
    assert frt.mean is not None
    print(f"first response: mean {frt.mean / hours:.2f} h [{low / hours:.2f}, {high / hours:.2f}]")

    # In [3]: FCR, CSAT, SLA attainment with Wilson intervals
    first_fix = fcr(timelines, no_reopen_within(3), now=now)
    scores = [t.last("survey_answered").score for t in timelines if t.of_kind("survey_answered")]
    survey = Survey("after-repair", "csat", scale=(0, 10), convention="mean")  # the demo's
    satisfaction = csat(scores, survey=survey)
    rates = sla_attainment([policy.evaluate(t, calendar=calendar, now=now) for t in timelines])
    for name, rate in [("FCR", first_fix), ("CSAT", satisfaction), *rates.items()]:
        lo, hi = rate.interval(0.95)
        unit = "/10" if name == "CSAT" else " %"
        print(f"{name}: {rate.score:.1f}{unit} [{lo:.1f}, {hi:.1f}]")

    # In [4]: a report by region
    table = report(
        timelines,
        ["tickets", "first_response_time", "csat", "sla[first_response]", "backlog"],
        by=["fields.region"],
        clock=calendar,
        now=now,
        sla=policy,
        surveys=survey,
    )
    print(table)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data" / "demo-export.jsonl")
