"""``csmkit report``: the numbers are exactly those of ``csmkit.metrics``; files, plots, errors."""

from __future__ import annotations

import csv
import io
import json
import statistics
import struct
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from csmkit.metrics import csat, report
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.timeline import Timeline

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
JSONL = DATA / "tickets.jsonl"
ZENDESK = DATA / "zendesk_tickets.csv"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csmkit", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def report_json(*args: str) -> dict[str, Any]:
    result = run("report", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def plain(table: Any) -> list[dict[str, Any]]:
    """A metrics Table with durations as seconds, as the JSON output promises."""
    return [
        {
            column: value.total_seconds() if isinstance(value, timedelta) else value
            for column, value in ((c, row.get(c)) for c in table.columns)
        }
        for row in table
    ]


def sample_timelines() -> list[Timeline]:
    lines = JSONL.read_text(encoding="utf-8").splitlines()
    return [Timeline.from_dict(json.loads(line)) for line in lines]


def latest(timelines: list[Timeline]) -> Any:
    return max(event.at for timeline in timelines for event in timeline.events)


def test_default_report_equals_metrics_report() -> None:
    out = report_json(str(JSONL))
    timelines = sample_timelines()
    metrics = [
        "tickets",
        "first_response_time",
        "full_resolution_time",
        "fcr[one_touch]",
        "reopen_rate",
        "csat",
        "nps",
        "backlog",
    ]
    expected = report(timelines, metrics, now=latest(timelines))
    assert out["columns"] == list(expected.columns)
    assert out["rows"] == plain(expected)
    assert out["meta"]["tickets"] == len(timelines) == 200
    assert out["meta"]["now"] == latest(timelines).isoformat()


def test_grouped_business_time_sla_report_equals_metrics_report() -> None:
    out = report_json(
        str(JSONL),
        "--calendar",
        str(DATA / "calendar_cn_2026.json"),
        "--sla",
        str(DATA / "sla.json"),
        "--by",
        "group,priority",
        "--period",
        "week",
    )
    timelines = sample_timelines()
    calendar = BusinessCalendar.from_dict(json.loads((DATA / "calendar_cn_2026.json").read_text()))
    policy = SlaPolicy.from_dict(json.loads((DATA / "sla.json").read_text()))
    metrics = [
        "tickets",
        "first_response_time",
        "full_resolution_time",
        "fcr[one_touch]",
        "reopen_rate",
        "csat",
        "nps",
        "backlog",
        "sla[first_response]",
        "sla[resolution]",
    ]
    expected = report(
        timelines,
        metrics,
        by=["group", "priority"],
        bucket="week",
        tz="Asia/Shanghai",
        clock=calendar,
        now=latest(timelines),
        sla=policy,
    )
    assert out["rows"] == plain(expected)
    assert out["meta"]["business_time"] is True and out["meta"]["timezone"] == "Asia/Shanghai"
    assert len(out["rows"]) > 10


def test_cn_preset_is_the_holidays_calendar() -> None:
    pytest.importorskip("holidays")
    out = report_json(
        str(JSONL),
        "--calendar",
        "cn",
        "--metrics",
        "first_response_time,sla[first_response]",
        "--sla",
        str(DATA / "sla.json"),
        "--by",
        "channel",
        "--now",
        "2026-11-03T00:00+08:00",
    )
    timelines = sample_timelines()
    cn = BusinessCalendar.from_holidays(
        "CN", years=2026, week={"mon-fri": ["09:00-12:00", "13:00-18:00"]}
    )
    policy = SlaPolicy.from_dict(json.loads((DATA / "sla.json").read_text()))
    expected = report(
        timelines,
        ["first_response_time", "sla[first_response]"],
        by=["channel"],
        tz="Asia/Shanghai",
        clock=cn,
        sla=policy,
        now=cn.zone and out_now(out),
    )
    assert out["rows"] == plain(expected)


def out_now(out: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(out["meta"]["now"])


def test_csv_output_has_the_json_numbers(tmp_path: Path) -> None:
    target = tmp_path / "kpis.csv"
    result = run("report", str(JSONL), "--by", "channel", "--format", "csv", "-o", str(target))
    assert result.returncode == 0 and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    out = report_json(str(JSONL), "--by", "channel")
    assert [row["channel"] for row in rows] == [row["channel"] for row in out["rows"]]
    for got, want in zip(rows, out["rows"], strict=True):
        for column, value in want.items():
            assert got[column] == ("" if value is None else str(value))


def test_table_output_is_readable() -> None:
    result = run("report", str(JSONL), "--by", "channel", "--period", "month")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("200 tickets from")
    # the definitions of the metrics, then the column headings
    legend = [line for line in lines[1:] if line.startswith("  ")]
    assert lines[1 : 1 + len(legend)] == legend and len(legend) == 8
    heading = lines[1 + len(legend)]
    assert heading.split()[:4] == ["channel", "month", "tickets", "first_response_time"]
    assert any(line.startswith("wechat") and "2026-10" in line for line in lines)


def test_event_lines_give_the_same_report(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    with events.open("w", encoding="utf-8") as handle:
        for timeline in sample_timelines():
            for event in timeline.events:
                handle.write(json.dumps(event.to_dict()) + "\n")
    assert report_json(str(events), "--by", "group") == {
        **report_json(str(JSONL), "--by", "group"),
        "meta": report_json(str(events), "--by", "group")["meta"],
    }


def test_zendesk_export_against_a_direct_computation() -> None:
    out = report_json(
        str(ZENDESK), "--mapping", "zendesk", "--metrics", "tickets,first_response_time,csat,fcr"
    )
    (row,) = out["rows"]
    with ZENDESK.open(encoding="utf-8") as handle:
        raw = list(csv.DictReader(handle))
    assert row["tickets"] == len(raw) == 200
    minutes = [
        float(r["First reply time in minutes"]) for r in raw if r["First reply time in minutes"]
    ]
    assert row["first_response_time_n"] == len(minutes)
    assert row["first_response_time_median"] == pytest.approx(
        statistics.median(minutes) * 60, abs=1e-3
    )
    direct = csat([r["Satisfaction Score"].lower() for r in raw], convention="zendesk")
    assert row["csat"] == direct.score and row["csat_n"] == direct.n
    solved = [r for r in raw if r["Solved at"]]
    one_touch = [r for r in solved if int(r["Replies"]) < 2]
    assert row["fcr_n"] == len(solved)
    assert row["fcr"] == pytest.approx(100 * len(one_touch) / len(solved))


def test_zendesk_csv_without_mapping_says_to_pass_one() -> None:
    result = run("report", str(ZENDESK))
    assert result.returncode == 1
    assert "--mapping" in result.stderr and "the header has no 'id' column" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_own_mapping_file_and_flat_jsonl(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "columns": {
                    "id": "工单号",
                    "created_at": "创建时间",
                    "first_reply_at": "首次回复",
                    "channel": "渠道",
                    "nps": "推荐值",
                },
                "values": {"channel": {"微信": "wechat", "电话": "phone"}},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    export = tmp_path / "export.csv"
    export.write_text(
        "工单号,创建时间,首次回复,渠道,推荐值,地区\n"
        "A1,2026-10-08 09:00,2026-10-08 09:30,微信,10,华东\n"
        "A2,2026-10-08 10:00,2026-10-08 12:00,电话,3,华北\n"
        "A3,2026-10-08 11:00,,微信,,华东\n",
        encoding="utf-8",
    )
    out = report_json(
        str(export),
        "--mapping",
        str(mapping),
        "--tz",
        "Asia/Shanghai",
        "--by",
        "channel,fields.地区",
        "--metrics",
        "tickets,first_response_time,nps",
    )
    rows = {(r["channel"], r["fields.地区"]): r for r in out["rows"]}
    assert rows[("wechat", "华东")]["tickets"] == 2
    assert rows[("wechat", "华东")]["first_response_time_median"] == 1800.0
    assert rows[("phone", "华北")]["first_response_time_median"] == 7200.0
    assert rows[("phone", "华北")]["nps"] == -100.0
    assert out["meta"]["now"] == "2026-10-08T12:00:00+08:00"  # naive times read in --tz


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,created_at\nA,yesterday\n", ":2.created_at: 'yesterday' is not an ISO 8601 instant"),
        ("id,created_at,solved_at,status\nA,2026-10-08T09:00Z,,solved\n", "needs solved_at"),
        (
            "id,created_at,first_reply_at\nA,2026-10-08T09:00Z,2026-10-07T09:00Z\n",
            "before created_at",
        ),
        ("id,created_at,nps\nA,2026-10-08T09:00Z,11\n", "NPS answer must be an integer"),
        ("id,created_at,status\nA,2026-10-08T09:00Z,Hold\n", "map it with --mapping"),
        ("id,created_at\nA,2026-10-08T09:00Z\nA,2026-10-08T10:00Z\n", "appears twice"),
    ],
)
def test_bad_rows_are_data_errors_naming_the_row(
    tmp_path: Path, content: str, message: str
) -> None:
    export = tmp_path / "bad.csv"
    export.write_text(content, encoding="utf-8")
    result = run("report", str(export))
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_bad_json_line_and_unknown_suffix(tmp_path: Path) -> None:
    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"kind": "created"\n', encoding="utf-8")
    result = run("report", str(lines))
    assert result.returncode == 1 and "bad.jsonl:1: not JSON" in result.stderr
    other = tmp_path / "tickets.xlsx"
    other.write_bytes(b"PK")
    result = run("report", str(other))
    assert result.returncode == 1 and "use .csv or .jsonl" in result.stderr


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("size", [None, "800x300"])
def test_plot_is_a_png_of_the_expected_size(tmp_path: Path, size: str | None) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "kpis.png"
    extra = ["--plot-size", size] if size else []
    result = run(
        "report",
        str(JSONL),
        "--sla",
        str(DATA / "sla.json"),
        "--calendar",
        str(DATA / "calendar_cn_2026.json"),
        "--by",
        "group",
        "--plot",
        str(target),
        *extra,
    )
    assert result.returncode == 0, result.stderr
    assert png_size(target) == ((800, 300) if size else (1200, 400))
    assert target.stat().st_size > 10_000  # three panels drawn, not an empty canvas


def blocked(tmp_path: Path, module: str) -> dict[str, str]:
    """An environment in which ``import module`` fails, as when the extra is missing."""
    import os

    (tmp_path / f"{module}.py").write_text(f"raise ImportError('no {module} here')\n")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }


def test_business_time_policy_without_calendar_is_a_usage_error() -> None:
    result = run("report", str(JSONL), "--sla", str(DATA / "sla.json"))
    assert result.returncode == 2
    assert "counts business time: pass --calendar" in result.stderr


def test_missing_plot_extra_names_it(tmp_path: Path) -> None:
    result = run(
        "report", str(JSONL), "--plot", str(tmp_path / "x.png"), env=blocked(tmp_path, "matplotlib")
    )
    assert result.returncode == 1
    assert 'pip install "csmkit[plot]"' in result.stderr
    assert not (tmp_path / "x.png").exists()
    assert result.stdout == ""  # refused up front, not after printing the whole table


def test_missing_holidays_extra_names_it(tmp_path: Path) -> None:
    result = run("report", str(JSONL), "--calendar", "cn", env=blocked(tmp_path, "holidays"))
    assert result.returncode == 1
    assert 'pip install "csmkit[holidays]"' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_the_sample_export_is_regenerated_identically(tmp_path: Path) -> None:
    script = DATA.parent / "make_sample_export.py"
    result = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote 200 tickets" in result.stdout
    for name in ("tickets.jsonl", "zendesk_tickets.csv", "calendar_cn_2026.json", "sla.json"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
