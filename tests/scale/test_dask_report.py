"""csmkit.dask: reports over partitions, identical to the one-process report."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dask
import dask.bag as db
import dask.dataframe as dd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.dask import DaskError, dask_report
from csmkit.errors import CsmkitError
from csmkit.io import ExportError, report_export
from csmkit.metrics import Survey, report
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.timeline import Timeline

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
LINES = (DATA / "demo-export.jsonl").read_text(encoding="utf-8").splitlines()
TIMELINES = [Timeline.from_dict(json.loads(line)) for line in LINES]
NOW = datetime(2026, 9, 28, 12, tzinfo=timezone.utc)
METRICS = ["tickets", "first_response_time", "fcr[one_touch]", "csat", "nps", "backlog"]
SURVEY = Survey("after-repair", "csat", scale=(0, 10), convention="mean")  # the demo's
OPTIONS: dict[str, Any] = {
    "by": ["channel"],
    "bucket": "week",
    "tz": "Asia/Shanghai",
    "surveys": SURVEY,
}
POLICY = SlaPolicy.from_dict(json.loads((DATA / "sla.json").read_text(encoding="utf-8")))
CALENDAR = BusinessCalendar.from_dict(
    json.loads((DATA / "calendar_cn_2026.json").read_text(encoding="utf-8"))
)


@pytest.fixture(autouse=True)
def _synchronous() -> Any:
    with dask.config.set(scheduler="synchronous"):
        yield


def _split(tmp_path: Path, parts: int) -> list[Path]:
    paths = []
    for i in range(parts):
        path = tmp_path / f"part-{i}.jsonl"
        path.write_text("\n".join(LINES[i::parts]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_files_give_the_one_process_report(tmp_path: Path) -> None:
    files = _split(tmp_path, 5)
    one = report_export(files, METRICS, **OPTIONS)
    spread = dask_report(files, METRICS, split_every=2, **OPTIONS)
    assert spread.table == one.table
    assert (spread.tickets, spread.now) == (one.tickets, one.now) == (321, one.now)
    assert spread.table == report(TIMELINES, METRICS, now=one.now, **OPTIONS)


def test_sla_and_a_fixed_now(tmp_path: Path) -> None:
    metrics = ["sla[first_response]", "backlog_age", "first_response_time"]
    options = {
        "now": NOW,
        "sla": POLICY,
        "clock": CALENDAR,
        "by": ["priority"],
        "surveys": SURVEY,
    }
    got = dask_report(_split(tmp_path, 3), metrics, **options)
    assert got.table == report(TIMELINES, metrics, **options)


SAMPLE = TIMELINES[::4]
SAMPLE_TABLE = report(SAMPLE, METRICS, now=NOW, **OPTIONS)


@settings(max_examples=10)
@given(st.lists(st.integers(0, 7), min_size=len(SAMPLE), max_size=len(SAMPLE)))
def test_any_partitioning_of_a_bag_gives_the_same_table(assignment: list[int]) -> None:
    """Tickets dealt to partitions at random (some empty): the table never changes."""
    partitions: list[list[Any]] = [[] for _ in range(8)]
    for timeline, where in zip(SAMPLE, assignment, strict=True):
        # Half the partitions carry dict forms, as a bag read from JSON would.
        partitions[where].append(timeline.to_dict() if where % 2 else timeline)
    bag = db.from_delayed([dask.delayed(items) for items in partitions])
    assert dask_report(bag, METRICS, now=NOW, **OPTIONS).table == SAMPLE_TABLE


def test_a_dask_dataframe_of_flat_tickets() -> None:
    frame = pd.read_csv(DATA / "zendesk_tickets.csv", dtype=str, keep_default_na=False)
    spread = dask_report(
        dd.from_pandas(frame, npartitions=4), ["tickets", "csat", "first_response_time"],
        mapping="zendesk", by=["channel"],
    )  # fmt: skip
    one = report_export(
        DATA / "zendesk_tickets.csv", ["tickets", "csat", "first_response_time"],
        mapping="zendesk", by=["channel"],
    )  # fmt: skip
    assert spread.table == one.table and spread.tickets == 200


def test_bad_rows_name_file_and_line_or_are_collected(tmp_path: Path) -> None:
    files = _split(tmp_path, 2)
    with files[1].open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    with pytest.raises(ExportError, match=r"part-1\.jsonl:161"):
        dask_report(files, METRICS, surveys=SURVEY)
    got = dask_report(files, METRICS, on_error="skip", surveys=SURVEY)
    assert [(Path(row.file).name, row.line) for row in got.skipped] == [("part-1.jsonl", 161)]
    assert got.tickets == 321


@pytest.mark.parametrize(
    ("source", "kwargs", "error", "message"),
    [
        (42, {}, DaskError, "source must be export files"),
        (["/nonexistent/x.jsonl"], {}, ExportError, "no such file"),
        ([], {}, ExportError, "no partitions"),
        (db.from_sequence([1, 2], npartitions=1), {}, ExportError, "partition 0, item 0"),
        (db.from_sequence([{"events": []}]), {}, ExportError, "partition 0, item 0"),
        ("x.jsonl", {"split_every": 1}, DaskError, "split_every"),
        (str(DATA / "tickets.jsonl"), {"workers": 0}, DaskError, "positive number"),
        (str(DATA / "tickets.jsonl"), {"by": "channel"}, CsmkitError, "list of field names"),
    ],
)
def test_errors(source: Any, kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        dask_report(source, METRICS, **kwargs)


@pytest.mark.slow
def test_on_a_local_cluster_of_two_worker_processes(tmp_path: Path) -> None:
    """The CI check of the issue: real worker processes, everything pickled across."""
    from distributed import Client, LocalCluster

    files = _split(tmp_path, 6)
    metrics = [*METRICS, "sla[first_response]"]
    options = {"sla": POLICY, "clock": CALENDAR, **OPTIONS}
    one = report_export(files, metrics, **options)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        got = dask_report(files, metrics, client=client, **options)
        bag = db.from_sequence(LINES, npartitions=4).map(json.loads)
        from_bag = dask_report(bag, metrics, client=client, **options)
    assert got.table == one.table == from_bag.table
    started = dask_report(files, ["tickets", "csat"], workers=2, by=["channel"], surveys=SURVEY)
    assert (
        started.table
        == report_export(files, ["tickets", "csat"], by=["channel"], surveys=SURVEY).table
    )
