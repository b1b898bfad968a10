"""The ``csmkit`` command: version, help, usage errors and the error convention."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import csmkit
from csmkit.cli import build_parser, main

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "tickets.jsonl"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command in a subprocess, as a user does."""
    return subprocess.run(
        [sys.executable, "-m", "csmkit", *args], capture_output=True, text=True, check=False
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"csmkit {csmkit.__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: csmkit" in out
    for command in ("report", "workflow", "calendar", "plugins"):
        assert command in out


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: csmkit" in capsys.readouterr().out


def test_build_parser_is_exported() -> None:
    assert build_parser().prog == "csmkit"


def test_python_dash_m_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"csmkit {csmkit.__version__}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["report"], "the following arguments are required: file"),
        (["report", "x.csv", "--period", "year"], "invalid choice: 'year'"),
        (["workflow"], "the following arguments are required"),
        (["calendar", "add", "2026-01-01T00:00Z", "2h"], "--calendar"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], expected: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "--help" in lines[0]  # says what to do


def test_bad_plot_size_is_a_usage_error() -> None:
    result = run("report", str(SAMPLE), "--plot-size", "big")
    assert result.returncode == 2
    assert "WIDTHxHEIGHT" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_data_error_exits_1_without_traceback() -> None:
    result = run("report", "does-not-exist.csv")
    assert result.returncode == 1
    assert result.stderr.strip() == "csmkit report: does-not-exist.csv: no such file"
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback_anywhere_on_the_line() -> None:
    for args in (["--debug", "report", "nope.csv"], ["report", "nope.csv", "--debug"]):
        result = run(*args)
        assert result.returncode == 1
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.strip().endswith("csmkit report: nope.csv: no such file")
