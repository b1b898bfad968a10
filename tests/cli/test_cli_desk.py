"""``csmkit desk check``: every problem with its path (exit 1), or the desk's summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csmkit.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "repair_desk.toml"


def test_a_valid_desk_prints_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["desk", "check", str(EXAMPLE), "--no-plugins"]) == 0
    out = capsys.readouterr().out
    assert f"{EXAMPLE}: desk configuration is valid" in out
    assert "type repair: workflow repair; SLA repair; survey after-repair (csat 0-10, mean)" in out
    assert "  engineers: e01, e02, e03, e04, e05, e06" in out
    assert "routing rules: escalated, aircon, lock, camera, hub (default default)" in out
    assert "intake type: repair" in out


def test_every_problem_is_listed_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "desk.json"
    config = {
        "types": {
            "repair": {
                "workflow": "repair",
                "sla": {"targets": {"first_response": {"goals": {"urgent": "2 hours"}}}},
            }
        },
        "agents": [{"id": "e1", "region": "east"}],
        "routing": {"default": {"strategy": "fastest"}},
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    assert main(["desk", "check", str(path)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith(
        f"{path}: types.repair.sla.targets.first_response.goals.urgent: '2 hours' is not a"
    )
    assert lines[1] == f"{path}: agents[0]: agent 'e1': unknown keys ['region']"
    assert lines[2].startswith(f"{path}: routing.default.strategy:")
    assert len(lines) == 3
    assert "3 problem(s) in the desk configuration" in captured.err


def test_unreadable_and_missing_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "desk.toml"
    broken.write_text("[types\n", encoding="utf-8")
    assert main(["desk", "check", str(broken)]) == 1
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["desk", "check", str(tmp_path / "none.toml")]) == 1
    assert "none.toml: no such file" in capsys.readouterr().err
