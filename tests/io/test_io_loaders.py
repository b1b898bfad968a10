"""csmkit.io: exports and DataFrames into timelines, bad input named by file and line."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import polars as pl
import pytest

from csmkit.io import (
    ExportError,
    ExportReader,
    bulk_load,
    load_export,
    load_frame,
    load_mapping,
    report_export,
)
from csmkit.metrics import report
from csmkit.timeline import Timeline

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
T0 = "2026-09-28T09:00:00+08:00"


def _event(kind: str, ticket: str = "E-1", at: str = T0, **fields: Any) -> str:
    return json.dumps({"kind": kind, "ticket_id": ticket, "at": at, **fields})


def _created(ticket: str = "E-1", at: str = T0) -> str:
    return _event("created", ticket, at, type="q", channel="email")


def _reply(ticket: str = "E-1", at: str = T0, message_id: str | None = None) -> str:
    return _event(
        "message_added", ticket, at, direction="outbound", channel="email", message_id=message_id
    )


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_paths_as_text_and_mappings_by_name() -> None:
    by_path = load_export(DATA / "zendesk_tickets.csv", mapping=load_mapping("zendesk"))
    by_name = load_export(str(DATA / "zendesk_tickets.csv"), mapping="zendesk")
    assert by_name == by_path
    assert len(by_name.timelines) == 200


def test_freshdesk_style_export(tmp_path: Path) -> None:
    # Synthetic, in the column names and labels of Freshdesk's ticket export (Admin >
    # Tickets > Export): naive local times, "Resolved"/"Waiting on Customer" statuses.
    path = tmp_path / "freshdesk.csv"
    path.write_text(
        "Ticket ID,Subject,Status,Priority,Source,Type,Agent,Group,Created time,"
        "Initial response time,Resolved time,Agent interactions,Satisfaction rating\n"
        "101,Printer,Resolved,Medium,Email,Incident,Li Wei,Desk,2026-09-28 09:00:00,"
        "2026-09-28 09:30:00,2026-09-28 12:00:00,1,Extremely happy\n"
        "102,Login,Waiting on Customer,High,Portal,Question,,Desk,2026-09-28 10:00:00,"
        "2026-09-28 11:00:00,,2,\n",
        encoding="utf-8",
    )
    export = load_export(path, mapping="freshdesk", zone=ZoneInfo("Asia/Shanghai"))
    first, second = (timeline.ticket for timeline in export.timelines)
    assert (first.id, first.category.value, first.channel, first.priority.value) == (
        "101",
        "solved",
        "email",
        "normal",
    )
    assert first.created_at.isoformat() == "2026-09-28T09:00:00+08:00"
    assert (second.category.value, second.channel, second.priority.value) == (
        "pending",
        "web",
        "high",
    )
    table = report(export.timelines, ["csat", "fcr[one_touch]"])
    assert table.rows[0]["csat"] == 100.0
    assert table.rows[0]["fcr[one_touch]_n"] == 1


def test_bad_event_lines_name_file_and_line(tmp_path: Path) -> None:
    lines = [
        _created("A"),
        _reply("A", at="2026-09-28T10:00:00"),  # 2: naive instant
        _event("teleported", "A"),  # 3: unknown kind
        _created("B"),
        _reply("B", at="2026-09-28T08:00:00+08:00"),  # 5: before B's creation
        _created("C"),
        _reply("C", message_id="m-1"),
        _reply("C", message_id="m-1"),  # 8: the same message again
        _created("D"),
    ]
    path = _write(tmp_path, "events.jsonl", lines)
    with pytest.raises(ExportError, match=f"^{path}:2: .*offset"):
        load_export(path)
    export = load_export(path, on_error="skip")
    assert [t.ticket_id for t in export.timelines] == ["A", "D"]
    errors = {row.line: row.error for row in export.skipped}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8]
    assert "unknown event kind 'teleported'" in errors[3]
    assert errors[4].startswith(f"{path}:4: events of ticket 'B' (lines 4, 5): ")
    assert "message_id 'm-1' appears twice" in errors[6]
    assert all(row.file == str(path) for row in export.skipped)


def test_reader_streams_once_and_reports_what_it_skipped(tmp_path: Path) -> None:
    good = Timeline.from_dict(json.loads((DATA / "tickets.jsonl").read_text().splitlines()[0]))
    path = _write(tmp_path, "mixed.jsonl", [json.dumps(good.to_dict()), "{oops"])
    reader = ExportReader(path, on_error="skip")
    assert [t.ticket_id for t in reader] == [good.ticket_id]
    assert reader.tickets == 1
    assert [(row.line, row.error.split(": ")[1][:8]) for row in reader.skipped] == [(2, "not JSON")]
    with pytest.raises(ExportError, match="read once"):
        list(reader)
    with pytest.raises(ExportError, match="on_error must be"):
        ExportReader(path, on_error="ignore")  # type: ignore[arg-type]


def test_bulk_load_restores_the_collector() -> None:
    assert gc.isenabled()

    def failing_load() -> None:
        with bulk_load():
            assert not gc.isenabled()
            raise RuntimeError("a failing load")

    with pytest.raises(RuntimeError):
        failing_load()
    assert gc.isenabled()
    gc.disable()
    try:
        with bulk_load():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_report_export_streams_several_files(tmp_path: Path) -> None:
    lines = (DATA / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
    first = _write(tmp_path, "a.jsonl", lines[:120])
    second = _write(tmp_path, "b.jsonl", lines[120:])
    timelines = load_export(DATA / "tickets.jsonl").timelines
    now = max(t.events[-1].at for t in timelines)
    metrics = ["tickets", "first_response_time", "csat", "backlog"]
    result = report_export([first, second], metrics, by=["channel"])
    assert result.tickets == len(timelines)
    assert result.now == now
    assert result.table == report(timelines, metrics, by=["channel"], now=now)
    empty = _write(tmp_path, "empty.jsonl", ["{oops"])
    with pytest.raises(ExportError, match=r"no tickets in the export \(1 bad rows skipped\)"):
        report_export(empty, metrics, on_error="skip")


def _tickets_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b"],
            "created_at": pd.to_datetime(
                ["2026-09-28T09:00:00+08:00", "2026-09-28T10:00:00+08:00"]
            ),
            "first_reply_at": [pd.Timestamp("2026-09-28T09:30:00+08:00"), pd.NaT],
            "solved_at": [pd.Timestamp("2026-09-29T09:00:00+08:00"), pd.NaT],
            "csat": [5, float("nan")],
            "channel": ["email", "chat"],
        }
    )


def test_pandas_and_polars_frames_of_tickets(tmp_path: Path) -> None:
    frame = _tickets_frame()
    rows = [
        "id,created_at,first_reply_at,solved_at,csat,channel",
        "a,2026-09-28T09:00:00+08:00,2026-09-28T09:30:00+08:00,2026-09-29T09:00:00+08:00,5,email",
        "b,2026-09-28T10:00:00+08:00,,,,chat",
    ]
    expected = load_export(_write(tmp_path, "t.csv", rows)).timelines
    assert load_frame(frame).timelines == expected
    assert load_frame(pl.from_pandas(frame)).timelines == expected


def test_frames_of_events_and_bad_rows() -> None:
    timelines = load_export(DATA / "tickets.jsonl").timelines[:5]
    events = pd.DataFrame([event for t in timelines for event in t.to_dict()["events"]])
    assert load_frame(events, kind="events").timelines == timelines
    assert load_frame(pl.from_pandas(events), kind="events").timelines == timelines
    bad = pd.DataFrame(
        [
            {"kind": "created", "ticket_id": "X", "at": T0, "type": "q", "channel": "web"},
            {"ticket_id": "X", "at": T0},
        ]
    )
    with pytest.raises(ExportError, match=r"^frame\[row 2\]: an event row needs a 'kind'"):
        load_frame(bad, kind="events")
    skipped = load_frame(bad, kind="events", on_error="skip", name="events.parquet")
    assert [t.ticket_id for t in skipped.timelines] == ["X"]
    assert [(row.file, row.line) for row in skipped.skipped] == [("events.parquet", 2)]
    with pytest.raises(ExportError, match="pandas or polars"):
        load_frame([{"id": "x"}])
    with pytest.raises(ExportError, match="kind must be"):
        load_frame(bad, kind="rows")  # type: ignore[arg-type]


def test_naive_frame_instants_are_read_in_the_zone() -> None:
    frame = pd.DataFrame({"id": ["c"], "created_at": pd.to_datetime(["2026-09-28T11:00"])})
    export = load_frame(frame, zone=ZoneInfo("Asia/Shanghai"))
    (timeline,) = export.timelines
    assert timeline.created_at.isoformat() == "2026-09-28T11:00:00+08:00"
    assert timeline.ticket.channel == "unknown"
    assert "channel" in export.ungiven  # a default, which --by channel would refuse
