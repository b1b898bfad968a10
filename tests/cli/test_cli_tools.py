"""``csmkit workflow``, ``calendar`` and ``plugins`` through the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from csmkit.sla import BusinessCalendar
from csmkit.workflow import template, template_dict

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
CAL = str(DATA / "calendar_cn_2026.json")
SH = ZoneInfo("Asia/Shanghai")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csmkit", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "table"])
def test_workflow_show_template_is_the_library_export(fmt: str) -> None:
    result = run("workflow", "show", "repair", "--format", fmt, "--lang", "zh")
    assert result.returncode == 0, result.stderr
    wf = template("repair")
    expected = {
        "mermaid": wf.to_mermaid(lang="zh"),
        "dot": wf.to_dot(lang="zh"),
        "table": wf.to_table(lang="zh"),
    }[fmt]
    assert result.stdout.rstrip("\n") == expected.rstrip("\n")


def test_workflow_show_file_json_and_toml(tmp_path: Path) -> None:
    data = template_dict("consultation")
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run("workflow", "show", str(path), "--current", "answered")
    assert result.returncode == 0
    expected = template("consultation").to_mermaid(current="answered")
    assert result.stdout.rstrip("\n") == expected.rstrip("\n")
    toml = tmp_path / "wf.toml"
    toml.write_text(
        'name = "tiny"\n'
        '[[states]]\nname = "new"\ncategory = "new"\ninitial = true\n'
        '[[states]]\nname = "done"\ncategory = "closed"\n'
        '[[transitions]]\nname = "finish"\nsources = "new"\ntarget = "done"\n',
        encoding="utf-8",
    )
    result = run("workflow", "show", str(toml), "--format", "table")
    if sys.version_info < (3, 11):  # no tomllib: a clear data error, not a crash
        assert result.returncode == 1
        assert "TOML needs Python 3.11 or later; use JSON" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    assert "finish" in result.stdout


def test_workflow_check_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps(
            {
                "name": "broken",
                "states": [
                    {"name": "new", "category": "new", "initial": True},
                    {"name": "done", "category": "closd"},
                ],
                "transitions": [
                    {"name": "go", "sources": "new", "target": "dne"},
                    {
                        "name": "x",
                        "sources": "new",
                        "target": "done",
                        "condition": "ticket.priority ==",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    result = run("workflow", "check", str(path))
    assert result.returncode == 1
    problems = result.stdout.strip().splitlines()
    assert len(problems) >= 3
    assert all(line.startswith(f"{path}: ") for line in problems)
    text = result.stdout
    assert "'closd'" in text and "'dne' is not defined" in text and "condition" in text
    assert result.stderr.strip().endswith("fix them and check again")
    shown = run("workflow", "show", str(path))
    assert shown.returncode == 1 and "csmkit workflow check" in shown.stderr


def test_workflow_check_valid_file_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(template_dict("complaint"), ensure_ascii=False), encoding="utf-8")
    result = run("workflow", "check", str(path))
    assert result.returncode == 0 and "is valid" in result.stdout
    missing = run("workflow", "show", "repiar")
    assert missing.returncode == 1
    assert "neither a workflow file nor a template" in missing.stderr


def test_calendar_add_and_between_equal_the_library() -> None:
    cal = BusinessCalendar.from_dict(json.loads(Path(CAL).read_text(encoding="utf-8")))
    start = datetime(2026, 9, 30, 17, tzinfo=SH)
    result = run("calendar", "add", "--calendar", CAL, "2026-09-30T17:00+08:00", "2h")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == cal.add(start, timedelta(hours=2)).isoformat()
    assert result.stdout.strip() == "2026-10-08T10:00:00+08:00"
    back = run("calendar", "add", "--calendar", CAL, "--json", "--", "2026-10-08T10:00", "-2h")
    assert json.loads(back.stdout)["result"] == "2026-09-30T17:00:00+08:00"
    iso = run("calendar", "add", "--calendar", CAL, "--", "2026-10-08T10:00", "-PT1H60M")
    assert iso.stdout.strip() == "2026-09-30T17:00:00+08:00", iso.stderr
    text = run("calendar", "between", "--calendar", CAL, "2026-09-30T09:00", "2026-10-11T09:00")
    assert text.stdout.strip() == "32h (32 business hours)"
    between = run(
        "calendar",
        "between",
        "--calendar",
        CAL,
        "2026-09-30T09:00+08:00",
        "2026-10-11T09:00+08:00",
        "--json",
    )
    expected = cal.between(start.replace(hour=9), datetime(2026, 10, 11, 9, tzinfo=SH))
    assert json.loads(between.stdout)["seconds"] == expected.total_seconds() == 32 * 3600


def test_calendar_cn_preset_matches_from_holidays() -> None:
    pytest.importorskip("holidays")
    cn = BusinessCalendar.from_holidays(
        "CN", years=2026, week={"mon-fri": ["09:00-12:00", "13:00-18:00"]}
    )
    for at, delta in (("2026-09-18T17:00+08:00", "2h"), ("2026-02-13T16:00+08:00", "3h30m")):
        result = run("calendar", "add", "--calendar", "cn", at, delta)
        assert result.returncode == 0, result.stderr
        hours, _, minutes = delta.rstrip("m").partition("h")
        want = cn.add(
            datetime.fromisoformat(at), timedelta(hours=int(hours), minutes=int(minutes or 0))
        )
        assert result.stdout.strip() == want.isoformat()


def test_calendar_cn_preset_refuses_years_without_official_data() -> None:
    pytest.importorskip("holidays")
    refused = run("calendar", "add", "--calendar", "cn", "2090-03-01T10:00+08:00", "2h")
    assert refused.returncode == 1
    assert "does not fully cover CN in 2090" in refused.stderr
    assert "--partial-calendar" in refused.stderr and "allow_partial" not in refused.stderr
    partial = run(
        "calendar", "add", "--calendar", "cn", "--partial-calendar", "2090-03-01T10:00+08:00", "2h"
    )
    assert partial.returncode == 0, partial.stderr
    assert partial.stdout.strip() == "2090-03-01T12:00:00+08:00"
    # A preset's years are local years: the last day of a covered year needs no other.
    end_of_year = run("calendar", "add", "--calendar", "cn", "2026-12-31T10:00+08:00", "2h")
    assert end_of_year.returncode == 0, end_of_year.stderr
    assert end_of_year.stdout.strip() == "2026-12-31T12:00:00+08:00"


def test_calendar_explain_says_why() -> None:
    pytest.importorskip("holidays")
    result = run("calendar", "explain", "--calendar", "cn", "2026-09-30", "2026-10-11")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    days = [line for line in lines if line[:4] == "2026"]
    assert len(days) == 11  # END is exclusive
    assert "weekly" in days[0] and "open" in days[0]
    assert "holiday" in days[1] and "国庆节" in days[1] and "closed" in days[1]
    assert "make-up workday" in days[10] and "补班" in days[10]
    assert "Sunday is closed" in days[4]
    assert lines[-1] == "business time: 32h (32 h)"
    data = json.loads(
        run("calendar", "explain", "--calendar", "cn", "2026-10-09", "2026-10-11", "--json").stdout
    )
    assert [d["rule"] for d in data["days"]] == ["weekly", "make-up workday"]
    assert data["business_seconds"] == 16 * 3600 and len(data["open_intervals"]) == 4


def test_calendar_explain_override(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text(
        json.dumps(
            {
                "timezone": "UTC",
                "week": {"mon-fri": ["09:00-17:00"]},
                "overrides": {"2026-12-24": ["09:00-12:00"]},
            }
        )
    )
    data = json.loads(
        run(
            "calendar",
            "explain",
            "--calendar",
            str(path),
            "2026-12-24T00:00Z",
            "2026-12-25T00:00Z",
            "--json",
        ).stdout
    )
    assert data["days"][0]["rule"] == "override" and data["days"][0]["hours"] == ["09:00-12:00"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["add", "--calendar", CAL, "2026-09-30T17:00+08:00", "2d"], 1, "'2d' has a day or week"),
        (["add", "--calendar", CAL, "2026-09-30T17:00+08:00", "P1D"], 1, "counts business time"),
        (
            ["add", "--calendar", CAL, "2026-09-30T17:00+08:00", "soon"],
            1,
            "ISO 8601 like 'PT1H30M'",
        ),
        (["add", "--calendar", CAL, "yesterday", "2h"], 1, "not an ISO 8601 instant"),
        (["add", "--calendar", CAL, "2026-12-31T17:00+08:00", "2h"], 1, "covered range"),
        (["add", "--calendar", "mars", "2026-12-31T17:00+08:00", "2h"], 1, "no such file"),
        (["between", "--calendar", CAL, "2026-09-30"], 2, "required: end"),
    ],
)
def test_calendar_errors(args: list[str], code: int, message: str) -> None:
    result = run("calendar", *args)
    assert result.returncode == code
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def fake_distribution(tmp_path: Path) -> dict[str, str]:
    """A plugin installed through an entry point, without pip: a dist-info on PYTHONPATH."""
    (tmp_path / "cli_fake_plugin.py").write_text(
        "from csmkit.hookspecs import hookimpl\n"
        "from csmkit.plugins import CalendarRegistration\n"
        "from csmkit.sla import BusinessCalendar\n"
        "def _make():\n"
        "    return BusinessCalendar.from_dict({'timezone': 'UTC', 'week': {'mon-sun': "
        "['00:00-12:00']}})\n"
        "@hookimpl\n"
        "def csmkit_calendars():\n"
        "    return [CalendarRegistration('half-days', _make, 'mornings only')]\n"
    )
    info = tmp_path / "cli_fake_plugin-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cli-fake-plugin\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text("[csmkit]\nhalf = cli_fake_plugin\n")
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }


def test_plugins_lists_the_builtin_routing_strategies_as_builtins() -> None:
    from csmkit.routing import default_registry

    names = default_registry().names()
    assert len(names) == 6
    result = run("plugins")
    assert f"routing strategies: {', '.join(names)} (built-in)" in result.stdout
    data = json.loads(run("plugins", "--json").stdout)
    listed = data["registrations"]["routing_strategies"]
    assert [record["name"] for record in listed] == list(names)
    assert {record["origin"] for record in listed} == {"built-in"}


def test_plugins_lists_builtin_and_installed(tmp_path: Path) -> None:
    env = fake_distribution(tmp_path)
    result = run("plugins", env=env)
    assert result.returncode == 0, result.stderr
    assert "[builtin]" in result.stdout
    assert "store backends: memory, postgresql, sqlite (built-in)" in result.stdout
    assert "calendars: half-days (plugin half)" in result.stdout
    assert "half  [cli-fake-plugin 1.2 (cli_fake_plugin)]" in result.stdout
    assert str(tmp_path / "cli_fake_plugin.py") in result.stdout
    data = json.loads(run("plugins", "--json", env=env).stdout)
    (half,) = [p for p in data["plugins"] if p["name"] == "half"]
    assert half["source"] == "entrypoint" and half["version"] == "1.2"
    assert data["registrations"]["calendars"] == [
        {"name": "half-days", "description": "mornings only", "origin": "plugin half"}
    ]
    added = run("calendar", "add", "--calendar", "half-days", "2026-01-01T11:00Z", "2h", env=env)
    assert added.stdout.strip() == "2026-01-02T01:00:00+00:00"
