"""Dead ends a newcomer met on the command line, each closed: what they typed now works or
says precisely what to do."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.cli import main
from csmkit.cli._main import _negative_duration, _one_line
from csmkit.cli._report import metric_definitions
from csmkit.io._export import sniff_delimiter

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
CALENDAR = str(DATA / "calendar_cn_2026.json")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --------------------------------------------------------------------------- negative durations
@pytest.mark.parametrize(
    "words",
    [
        ["--calendar", CALENDAR, "2026-10-08T10:00+08:00", "-2h"],
        ["--calendar", CALENDAR, "2026-10-08T10:00+08:00", "-PT2H"],
        ["--calendar", CALENDAR, "2026-10-08T10:00+08:00", "-2h", "--json"],
        ["2026-10-08T10:00+08:00", "-2h", "--calendar", CALENDAR],
        ["--calendar", CALENDAR, "--", "2026-10-08T10:00+08:00", "-2h"],  # the old spelling
    ],
)
def test_a_negative_duration_needs_no_double_dash(
    capsys: pytest.CaptureFixture[str], words: list[str]
) -> None:
    status, out, err = run(capsys, "calendar", "add", *words)
    assert (status, err) == (0, "")
    result = json.loads(out)["result"] if "--json" in words else out.strip()
    # two business hours before Thursday 10:00 after the National Day week: Wednesday 17:00
    assert result == "2026-09-30T17:00:00+08:00"


def test_negative_and_positive_durations_are_inverse(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "calendar", "add", "--calendar", CALENDAR, "2026-09-30T17:00", "2h"
    )
    assert status == 0
    status, back, _ = run(capsys, "calendar", "add", "--calendar", CALENDAR, out.strip(), "-2h")
    assert (status, back.strip()) == (0, "2026-09-30T17:00:00+08:00")


def test_a_negative_duration_before_the_instant_is_still_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["calendar", "add", "--calendar", CALENDAR, "-2h", "2026-09-30"])
    assert exited.value.code == 2
    assert "csmkit calendar add: error:" in capsys.readouterr().err


@given(
    words=st.lists(
        st.sampled_from(["report", "calendar", "add", "-2h", "--json", "x", "--", "-1", "cn"]),
        max_size=8,
    )
)
def test_the_rewrite_touches_only_calendar_add(words: list[str]) -> None:
    rewritten = _negative_duration(words)
    assert sorted(rewritten) == sorted(words) or sorted(rewritten) == sorted([*words, "--"])
    if not any(words[i : i + 2] == ["calendar", "add"] for i in range(len(words))):
        assert rewritten == words
    if rewritten != words:
        assert rewritten.count("--") == 1 and rewritten[-2] == "--"


# --------------------------------------------------------------------------- one-line errors
def test_a_calendar_error_reads_as_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"timezone": "UTC", "week": {"mon-fri": ["25:00-18:00"]}}))
    status, _, err = run(capsys, "calendar", "add", "--calendar", str(path), "2026-09-30", "2h")
    assert status == 1
    assert f"{path}: invalid business calendar: week.mon-fri[0]: '25:00-18:00'" in err
    assert ":;" not in err and ";;" not in err and "; -" not in err


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("invalid business calendar:\n- a: x\n- b: y", "invalid business calendar: a: x; b: y"),
        ("3 problems:\n  - one\n\n  - two;\n- three", "3 problems: one; two; three"),
        ("plain", "plain"),
        ("", "ValueError"),
    ],
)
def test_one_line(message: str, line: str) -> None:
    assert _one_line(ValueError(message)) == line


# --------------------------------------------------------------------------- --lang
def test_an_unsupported_language_is_an_error_listing_the_supported_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "workflow", "show", "repair", "--lang", "fr")
    assert (status, out) == (2, "")
    assert "--lang 'fr': workflow 'repair' has labels in en, zh" in err


def test_a_supported_language_is_used(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "workflow", "show", "repair", "--lang", "zh")
    assert status == 0 and "派工" in out


# --------------------------------------------------------------------------- extras, up front
def test_a_missing_extra_is_named_before_the_export_is_even_looked_at(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)
    status, _, err = run(capsys, "report", "no-such-file.csv", "--calendar", "cn")
    assert status == 1
    assert err == (
        'csmkit report: --calendar cn needs the holidays extra: pip install "csmkit[holidays]" '
        "(or pass a calendar JSON file)\n"
    )
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    status, _, err = run(capsys, "report", "no-such-file.csv", "--plot", "x.png")
    assert status == 1
    assert err == 'csmkit report: --plot needs matplotlib: pip install "csmkit[plot]"\n'
    status, _, err = run(capsys, "calendar", "between", "--calendar", "cn", "2026-09-30", "bad")
    assert status == 1 and 'pip install "csmkit[holidays]"' in err


# --------------------------------------------------------------------------- CSV separators
SEMICOLONS = (
    "id;channel;created_at;csat\nT-1;email;2026-09-28T09:00:00Z;5\nT-2;web;2026-09-28T10:00:00Z;3\n"
)


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("id,channel,created_at", ","),
        ("id;channel;created_at", ";"),
        ("id\tchannel\tcreated_at", "\t"),
        ("id|channel|created_at", "|"),
        ('"id";"a,b";"c,d"', ";"),  # separators inside quoted names do not count
        ("id", ","),
        ("", ","),
    ],
)
def test_sniff_delimiter(header: str, delimiter: str) -> None:
    assert sniff_delimiter(header) == delimiter


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_a_csv_export_reads_the_same_with_any_separator(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, separator: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(SEMICOLONS.replace(";", separator), encoding="utf-8")
    status, out, err = run(
        capsys,
        "report",
        str(path),
        "--metrics",
        "tickets,csat",
        "--by",
        "channel",
        "--format",
        "json",
    )
    assert (status, err) == (0, "")
    rows = json.loads(out)["rows"]
    assert [(row["channel"], row["csat"]) for row in rows] == [("email", 100.0), ("web", 0.0)]


def test_a_forced_wrong_separator_names_what_the_header_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(SEMICOLONS, encoding="utf-8")
    status, out, err = run(capsys, "report", str(path), "--delimiter", ",")
    assert (status, out) == (1, "")
    assert err == (
        f"csmkit report: {path}: the header has no 'id' column: found one column "
        "'id;channel;created_at;csat' - is the file ';'-separated? use --delimiter ';'\n"
    )
    status, out, err = run(capsys, "report", str(path), "--delimiter", ";", "--metrics", "tickets")
    assert status == 0 and "2 tickets" in out


def test_a_header_without_id_lists_its_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("ticket,channel\nT-1,email\n", encoding="utf-8")
    status, _, err = run(capsys, "report", str(path), "--skip-bad-rows")
    assert status == 1
    assert (
        "the header has no 'id' column: found 2 columns separated by ',': 'ticket', 'channel'"
        in err
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x.csv", "--delimiter", ";;"], "--delimiter ';;': give one character"),
        (["x.jsonl", "--delimiter", ";"], "--delimiter applies to .csv exports"),
    ],
)
def test_bad_delimiter_options_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = run(capsys, "report", *args)
    assert status == 2 and message in err


# --------------------------------------------------------------------------- metric definitions
def test_every_metric_name_has_a_definition() -> None:
    from csmkit.metrics import METRICS

    names = [
        name.replace("DAYS", "3").replace("FIELD", "resolved").replace("TARGET", "resolution")
        for name in METRICS
    ]
    definitions = metric_definitions(names, "calendar time")
    assert list(definitions) == names
    assert definitions["fcr"].startswith("rule one_touch: ")
    assert "within 3 calendar days" in definitions["fcr[no_reopen_within(3)]"]
    assert "'resolved'" in definitions["fcr[survey(resolved)]"]
    assert "1-5 scale" in definitions["csat"] and "0-10 scale" in definitions["nps"]
    assert all(
        "calendar time" in definitions[name]
        for name in names
        if name.endswith("_time") or name.startswith("backlog_age")
    )


def test_the_report_header_defines_every_column_with_its_clock(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tickets = str(DATA / "tickets.jsonl")
    status, out, _ = run(capsys, "report", tickets, "--calendar", CALENDAR)
    assert status == 0
    _header, *rest = out.splitlines()
    legend = [line for line in rest if line.startswith("  ")][:8]
    columns = rest[len(legend)].split()
    assert [line.split(":")[0].strip() for line in legend] == columns
    assert f"business time (calendar {CALENDAR})" in "\n".join(legend)
    assert "fcr[one_touch]: % of resolved tickets with fewer than 2" in out
    status, out, _ = run(capsys, "report", tickets, "--format", "json")
    meta = json.loads(out)["meta"]
    assert list(meta["definitions"]) == meta["metrics"]
    assert "calendar time" in meta["definitions"]["first_response_time"]
