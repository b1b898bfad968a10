"""Tests of ``csmkit demo`` (run through ``run_demo`` with a local argparse wrapper)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from csmkit.cli._demo import add_demo_parser, run_demo
from csmkit.timeline import SurveyAnswered, Timeline


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="csmkit")
    add_demo_parser(parser.add_subparsers(dest="command", required=True))
    code = run_demo(parser.parse_args(["demo", *argv]))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def one_week(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One quick run, shared: the JSON, the db path and the export."""
    base = tmp_path_factory.mktemp("demo")
    parser = argparse.ArgumentParser(prog="csmkit")
    add_demo_parser(parser.add_subparsers(dest="command", required=True))
    import contextlib
    import io

    buffer = io.StringIO()
    args = ["demo", "--weeks", "1", "--seed", "3", "--db", str(base / "d.db"), "--json"]
    args += ["--export", str(base / "x.jsonl")]
    with contextlib.redirect_stdout(buffer):
        code = run_demo(parser.parse_args(args))
    return {"code": code, "data": json.loads(buffer.getvalue()), "base": base}


def _check_ranges(kpis: dict[str, dict[str, float]]) -> None:
    for name in ("fcr_percent", "sla_first_response_percent", "sla_resolution_percent"):
        value = kpis[name]
        assert 0 <= value["low"] <= value["value"] <= value["high"] <= 100, name
    satisfaction = kpis["csat_mean"]  # the mean answer of the desk's 0-10 survey
    assert 0 <= satisfaction["low"] <= satisfaction["value"] <= satisfaction["high"] <= 10
    for name in ("first_response_hours", "first_response_calendar_hours"):
        response = kpis[name]
        assert 0 <= response["low"] <= response["value"] <= response["high"], name
    business, calendar = kpis["first_response_hours"], kpis["first_response_calendar_hours"]
    assert business["n"] == calendar["n"] and business["value"] <= calendar["value"]
    assert 0 <= kpis["backlog"] <= kpis["tickets"]


def test_demo_json_and_files(one_week: dict[str, object]) -> None:
    assert one_week["code"] == 0
    data = one_week["data"]
    assert isinstance(data, dict)
    assert data["simulation"] is True and data["weeks"] == 1 and data["seed"] == 3
    assert data["survey"]["scale"] == [0, 10] and data["survey"]["convention"] == "mean"
    assert data["article"]["csat"] == "7.8 -> 9.5"
    assert any(line.startswith("calibration:") for line in data["assumptions"])
    assert data["before"]["tickets"] == data["after"]["tickets"] > 50
    _check_ranges(data["before"])
    _check_ranges(data["after"])
    base = one_week["base"]
    assert isinstance(base, Path)
    assert (base / "d.db").stat().st_size > 0
    assert (base / "d.db.before.db").stat().st_size > 0
    lines = (base / "x.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == data["after"]["tickets"]
    timeline = Timeline.from_dict(json.loads(lines[0]))
    assert timeline.ticket.type == "repair"
    timelines = [Timeline.from_dict(json.loads(line)) for line in lines]
    answers = [e for t in timelines for e in t.of_type(SurveyAnswered)]
    assert answers and {e.meta["survey"] for e in answers} == {"after-repair"}
    assert all(0 <= e.score <= 10 for e in answers)


def test_demo_same_seed_same_numbers(
    one_week: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--weeks", "1", "--seed", "3", "--db", str(tmp_path / "a.db"),
                        "--json")  # fmt: skip
    assert code == 0
    again = json.loads(out)
    data = one_week["data"]
    assert isinstance(data, dict)
    assert again["before"] == data["before"] and again["after"] == data["after"]


def test_demo_refuses_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--weeks", "0")
    assert code == 2 and out == "" and "--weeks" in err
    existing = tmp_path / "here.db"
    existing.write_text("keep me")
    code, _, err = _run(capsys, "--weeks", "1", "--db", str(existing))
    assert code == 2 and "exists" in err and existing.read_text() == "keep me"


@pytest.mark.slow
def test_demo_default_run_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--db", str(tmp_path / "demo.db"))
    assert code == 0
    assert "SIMULATION" in out and "Assumptions:" in out
    for row in ("avg first response (calendar h)", "FCR %", "CSAT (mean of 0-10)",
                "SLA met % first response 2 h", "SLA met % resolution 24 h",
                "backlog at end"):  # fmt: skip
        assert row in out
    assert "article" in out and "7.8 -> 9.5" in out
    assert "before (simulated)" in out and "after (simulated)" in out
    assert err == ""  # no progress bar when stderr is not a TTY


@pytest.mark.slow
def test_demo_default_seed_after_beats_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--db", str(tmp_path / "demo.db"), "--json")
    assert code == 0
    data = json.loads(out)
    _check_ranges(data["before"])
    _check_ranges(data["after"])
    for target in ("sla_first_response_percent", "sla_resolution_percent"):
        assert data["after"][target]["value"] >= data["before"][target]["value"]


@pytest.mark.slow
def test_demo_through_the_installed_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "csmkit",
            "demo",
            "--weeks",
            "1",
            "--json",
            "--db",
            str(tmp_path / "d.db"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data
    assert (tmp_path / "d.db").exists()
