"""``csmkit report`` streams the export: the same table as the loaded timelines give."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from csmkit.cli._main import main
from csmkit.io import load_export
from csmkit.metrics import report
from csmkit.sla import SlaPolicy

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
POLICY = {
    "name": "calendar",
    "targets": {
        "first_response": {"goals": {"low": "8h", "normal": "4h", "high": "2h"}, "business": False},
        "resolution": {"goals": {"normal": "2d"}, "business": False},
    },
}


def _seconds(value: Any) -> Any:
    return value.total_seconds() if isinstance(value, timedelta) else value


def test_streamed_sla_report_by_channel_and_month(tmp_path: Path) -> None:
    policy = tmp_path / "sla.json"
    policy.write_text(json.dumps(POLICY), encoding="utf-8")
    out = tmp_path / "report.json"
    export = DATA / "demo-export.jsonl"
    code = main(
        ["report", str(export), "--sla", str(policy), "--by", "channel", "--period", "month"]
        + ["--format", "json", "--output", str(out)]
    )
    assert code == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    timelines = load_export(export).timelines
    now = max(event.at for timeline in timelines for event in timeline.events)
    metrics = written["meta"]["metrics"]
    assert metrics[-2:] == ["sla[first_response]", "sla[resolution]"]
    expected = report(
        timelines,
        metrics,
        by=["channel"],
        bucket="month",
        now=now,
        sla=SlaPolicy.from_dict(POLICY),
    )
    assert written["meta"]["tickets"] == len(timelines)
    assert written["meta"]["now"] == now.isoformat()
    assert written["columns"] == list(expected.columns)
    assert written["rows"] == [
        {column: _seconds(row.get(column)) for column in expected.columns} for row in expected
    ]
