"""Streaming reports: ReportAccumulator == the Timeline-at-a-time report, however fed."""

from __future__ import annotations

import itertools
import json
import pickle
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.errors import MetricsError
from csmkit.io import report_export
from csmkit.metrics import ReportAccumulator, Table, report
from csmkit.metrics._grouping import GroupPaths
from csmkit.metrics._specs import Row, make_spec, metric_columns
from csmkit.metrics._tickets import ticket_metrics
from csmkit.sla import SlaPolicy
from csmkit.timeline import SurveyAnswered, TicketCreated, Timeline
from strategies import conversation_timelines

ZONE = ZoneInfo("UTC")
POLICY = SlaPolicy.from_dict(
    {
        "name": "p",
        "targets": {
            "first_response": {"goals": {"normal": "2h", "low": "4h"}, "business": False},
            "resolution": {"goals": {"normal": "1d", "high": "4h"}, "business": False},
        },
    }
)
PLAIN = [
    "tickets",
    "first_response_time",
    "full_resolution_time",
    "requester_wait_time",
    "fcr[one_touch]",
    "reopen_rate",
    "csat",
    "backlog",
    "backlog_age",
]
WITH_NOW = [*PLAIN, "fcr[no_reopen_within(1)]", "sla[first_response]", "sla[resolution]"]


def reference_report(
    timelines: list[Timeline], metrics: list[str], by: list[str], bucket: str, now: datetime
) -> Table:
    """The report as computed before streaming: every ticket measured, then grouped."""
    specs = [make_spec(name, False) for name in metrics]
    paths = GroupPaths(by)
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for timeline in timelines:
        measured = ticket_metrics(timeline, now=now)
        key = paths.key(measured.ticket)
        local = measured.ticket.created_at.astimezone(ZONE)
        key.append(f"{local.year:04d}-{local.month:02d}")
        accumulators = groups.setdefault(tuple(key), [spec.make() for spec in specs])
        sla = POLICY.evaluate(timeline, now=now) if any(s.needs_sla for s in specs) else None
        for spec, accumulator in zip(specs, accumulators, strict=True):
            spec.feed(accumulator, Row(measured, timeline, sla, None, now))
    columns = [*by, bucket]
    for spec in specs:
        columns.extend(metric_columns(spec.name, spec.make().result(), spec.kind, 0.95))
    rows = []
    for key in sorted(groups, key=lambda k: tuple((v is not None, str(v)) for v in k)):
        row: dict[str, Any] = dict(zip([*by, bucket], key, strict=True))
        for spec, accumulator in zip(specs, groups[key], strict=True):
            row.update(metric_columns(spec.name, accumulator.result(), spec.kind, 0.95))
        rows.append(row)
    return Table(tuple(columns), tuple(rows))


@st.composite
def rated_timelines(draw: st.DrawFn) -> Timeline:
    timeline = draw(conversation_timelines(max_events=8))
    if draw(st.booleans()):
        last = timeline.events[-1].at
        score = draw(st.integers(1, 5))
        timeline = timeline.append(
            SurveyAnswered(ticket_id=timeline.ticket_id, at=last, survey="csat", score=score)
        )
    return timeline


tickets = st.lists(rated_timelines(), min_size=1, max_size=12, unique_by=lambda t: t.ticket_id)


def latest(timelines: list[Timeline]) -> datetime:
    return max(timeline.events[-1].at for timeline in timelines)


@settings(max_examples=40, deadline=None)
@given(tickets, st.sampled_from([PLAIN, WITH_NOW]), st.data())
def test_streaming_equals_the_timeline_report(
    timelines: list[Timeline], metrics: list[str], data: st.DataObject
) -> None:
    now = latest(timelines) + data.draw(st.sampled_from([timedelta(0), timedelta(hours=5)]))
    expected = reference_report(timelines, metrics, ["priority"], "month", now)
    assert (
        report(timelines, metrics, by=["priority"], bucket="month", now=now, sla=POLICY) == expected
    )
    # Split into partitions, each pickled (as Dask ships them), merged in any order.
    cuts = sorted(data.draw(st.lists(st.integers(0, len(timelines)), max_size=3)))
    bounds = [0, *cuts, len(timelines)]
    parts = []
    for start, end in itertools.pairwise(bounds):
        part = ReportAccumulator(metrics, by=["priority"], bucket="month", now=now, sla=POLICY)
        parts.append(pickle.loads(pickle.dumps(part.update_many(timelines[start:end]))))
    order = data.draw(st.permutations(parts))
    total = order[0]
    for part in order[1:]:
        total.merge(part)
    assert total.tickets == len(timelines)
    assert total.result() == expected


@settings(max_examples=40, deadline=None)
@given(tickets, st.sampled_from([PLAIN, WITH_NOW]))
def test_now_latest_keeps_open_tickets_and_matches(
    timelines: list[Timeline], metrics: list[str]
) -> None:
    """``now="latest"`` measures done tickets at once and open ones at the end: the same
    table as the report at the latest instant, also from an export file."""
    expected = reference_report(timelines, metrics, ["priority"], "month", latest(timelines))
    accumulator = ReportAccumulator(
        metrics, by=["priority"], bucket="month", now="latest", sla=POLICY
    )
    accumulator.update_many(timelines)
    assert accumulator.now == latest(timelines)
    assert accumulator.result() == expected
    assert accumulator.result() == expected  # result() leaves the state as it was
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.jsonl"
        path.write_text(
            "".join(json.dumps(t.to_dict()) + "\n" for t in timelines), encoding="utf-8"
        )
        streamed = report_export(path, metrics, by=["priority"], bucket="month", sla=POLICY)
    assert streamed.table == expected
    assert streamed.tickets == len(timelines)
    assert streamed.now == latest(timelines)


@settings(max_examples=40, deadline=None)
@given(tickets, st.sampled_from([PLAIN, WITH_NOW]), st.data())
def test_partitions_settled_at_the_overall_latest_merge_to_the_same_table(
    timelines: list[Timeline], metrics: list[str], data: st.DataObject
) -> None:
    """As Dask runs ``now="latest"``: each partition's open tickets are measured on its
    worker at the latest instant of all partitions; the merge equals the report."""
    expected = reference_report(timelines, metrics, ["priority"], "month", latest(timelines))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(timelines)), max_size=3)))
    bounds = [0, *cuts, len(timelines)]
    parts = []
    for start, end in itertools.pairwise(bounds):
        part = ReportAccumulator(metrics, by=["priority"], bucket="month", now="latest", sla=POLICY)
        parts.append(part.update_many(timelines[start:end]))
    overall = max(part.latest for part in parts if part.latest is not None)
    settled = [pickle.loads(pickle.dumps(part.settle(overall))) for part in parts]
    assert all(not part._deferred for part in settled)
    total = ReportAccumulator(metrics, by=["priority"], bucket="month", now="latest", sla=POLICY)
    for part in data.draw(st.permutations(settled)):
        total.merge(part)
    assert total.tickets == len(timelines)
    assert total.now == latest(timelines)
    assert total.result() == expected


def test_nothing_later_than_a_settled_now_is_taken() -> None:
    t0 = datetime(2026, 9, 28, 9, tzinfo=ZONE)

    def ticket(name: str, hours: int) -> Timeline:
        return Timeline(
            [TicketCreated(ticket_id=name, at=t0 + timedelta(hours=hours), type="q", channel="e")]
        )

    settled = ReportAccumulator(["backlog"], now="latest").update(ticket("A", 0)).settle()
    with pytest.raises(MetricsError, match="later than the now"):
        settled.update(ticket("B", 1))
    later = ReportAccumulator(["backlog"], now="latest").update(ticket("C", 2))
    with pytest.raises(MetricsError, match="later than the now"):
        settled.merge(later)
    with pytest.raises(MetricsError, match="at or after the latest"):
        later.settle(t0)
    assert settled.merge(ReportAccumulator(["backlog"], now="latest").update(ticket("D", 0)))


def test_only_open_tickets_wait_for_latest() -> None:
    t0 = datetime.fromisoformat("2026-09-28T09:00:00+08:00")
    open_ticket = Timeline([TicketCreated(ticket_id="A", at=t0, type="q", channel="email")])
    accumulator = ReportAccumulator(["tickets", "backlog"], now="latest")
    accumulator.update(open_ticket)
    assert len(accumulator._deferred) == 1
    solved = Timeline.from_dict(
        {
            "events": [
                TicketCreated(ticket_id="B", at=t0, type="q", channel="email").to_dict(),
                {
                    "kind": "status_changed",
                    "ticket_id": "B",
                    "at": "2026-09-28T10:00:00+08:00",
                    "from_status": "new",
                    "to_status": "solved",
                    "category": "solved",
                },
            ]
        }
    )
    accumulator.update(solved)
    assert len(accumulator._deferred) == 1  # the solved ticket was measured and dropped
    assert accumulator.result().rows == ({"tickets": 2, "backlog": 1},)


def test_merge_refuses_other_options() -> None:
    left = ReportAccumulator(["tickets"], by=["channel"])
    with pytest.raises(MetricsError, match="same options"):
        left.merge(ReportAccumulator(["tickets"], by=["priority"]))
    with pytest.raises(MetricsError, match="same options"):
        left.merge("not an accumulator")  # type: ignore[arg-type]


def test_options_are_checked_up_front() -> None:
    with pytest.raises(MetricsError, match="need now="):
        ReportAccumulator(["backlog"])
    with pytest.raises(MetricsError, match="need sla="):
        ReportAccumulator(["sla[first_response]"], now="latest")
    with pytest.raises(MetricsError, match="bucket must be"):
        ReportAccumulator(["tickets"], bucket="year")  # type: ignore[arg-type]
    with pytest.raises(MetricsError, match="timelines\\[0\\]: expected a Timeline"):
        ReportAccumulator(["tickets"]).update(42)  # type: ignore[arg-type]
