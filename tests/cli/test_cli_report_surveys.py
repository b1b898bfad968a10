"""``csmkit report --survey``: a declared scale and convention, never two scales averaged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csmkit.cli._report import metric_definitions, parse_survey
from csmkit.errors import MetricsError
from csmkit.metrics import Survey, report
from csmkit.timeline import Timeline

DEMO = Path(__file__).resolve().parents[2] / "examples" / "data" / "demo-export.jsonl"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csmkit", "report", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("spec", "scale", "convention", "satisfied"),
    [
        ("csat:0-10:mean", (0, 10), "mean", (8, 9, 10)),
        ("csat:0-10", (0, 10), "top_box", (8, 9, 10)),
        ("csat:1-10:top_box", (1, 10), "top_box", (8, 9, 10)),
        ("ces:1-5", (1, 5), "mean", (4, 5)),
        ("csat", (1, 5), "top_box", (4, 5)),
    ],
)
def test_parse_survey(
    spec: str, scale: tuple[int, int], convention: str, satisfied: tuple[int, ...]
) -> None:
    survey = parse_survey(spec)
    assert (survey.scale, survey.convention, survey.satisfied) == (scale, convention, satisfied)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "expected KIND"),
        ("csat:0-10:mean:x", "expected KIND"),
        ("csat:ten", "is not LOW-HIGH"),
        ("stars:1-5", "survey kind must be csat, nps or ces"),
        ("nps:1-5", "--survey 'nps:1-5'"),
        ("csat:5-1", "--survey 'csat:5-1'"),
        ("csat:0-10:median", "--survey 'csat:0-10:median'"),
    ],
)
def test_parse_survey_refuses(spec: str, message: str) -> None:
    with pytest.raises(MetricsError, match=message):
        parse_survey(spec)


def test_definitions_follow_the_declared_survey() -> None:
    default = metric_definitions(["csat"], "calendar time")
    assert "4-5 on the 1-5 scale" in default["csat"]
    declared = metric_definitions(["csat"], "calendar time", [parse_survey("csat:0-10")])
    assert "8-10 on the 0-10 scale" in declared["csat"]
    mean = metric_definitions(["csat"], "calendar time", [parse_survey("csat:0-10:mean")])
    assert mean["csat"] == "mean answer on the 0-10 scale, latest answer"


def test_demo_export_needs_its_scale() -> None:
    refused = run(str(DEMO), "--metrics", "tickets,csat")
    assert refused.returncode == 1
    assert "outside the scale 1–5" in refused.stderr
    assert "--survey csat:LOW-HIGH" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_declared_scale_gives_the_metrics_report() -> None:
    done = run(str(DEMO), "--metrics", "tickets,csat", "--survey", "csat:0-10:mean")
    assert done.returncode == 0, done.stderr
    assert "csat: mean answer on the 0-10 scale" in done.stdout
    out = run(
        str(DEMO), "--metrics", "tickets,csat", "--survey", "csat:0-10:mean", "--format", "json"
    )
    data: dict[str, Any] = json.loads(out.stdout)
    timelines = [
        Timeline.from_dict(json.loads(line))
        for line in DEMO.read_text(encoding="utf-8").splitlines()
    ]
    survey = Survey("after-repair", "csat", scale=(0, 10), convention="mean")
    expected = report(timelines, ["tickets", "csat"], surveys=survey)
    (row,) = list(expected)
    (got,) = data["rows"]
    assert got["csat"] == pytest.approx(row["csat"])
    assert got["csat_n"] == row["csat_n"]
    assert 8.5 < got["csat"] <= 10  # a mean of 0–10 answers, not a % of 1–5 top boxes


def test_one_definition_per_kind() -> None:
    done = run(str(DEMO), "--survey", "csat:0-10", "--survey", "csat:1-10")
    assert done.returncode == 1
    assert "one definition per kind" in done.stderr


def test_skip_bad_rows_uses_the_declared_scale(tmp_path: Path) -> None:
    # 11 is off the 0–10 scale: that ticket's row is skipped and named, not averaged.
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines[:40]]
    zeroed = 0
    for row in rows:
        for event in row["events"]:
            if event["kind"] == "survey_answered" and zeroed == 0:
                event["score"] = 11
                zeroed = 1
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    done = run(
        str(path), "--metrics", "tickets,csat", "--survey", "csat:0-10:mean", "--skip-bad-rows"
    )
    assert done.returncode == 0, done.stderr
    assert "11 is outside the scale 0–10" in done.stderr
    assert "1 bad rows skipped" in done.stderr
