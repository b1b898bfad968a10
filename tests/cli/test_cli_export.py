"""``csmkit report``: no silent wrong reports — unknown names, missing columns, bad rows."""

from __future__ import annotations

import json
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest

from csmkit.cli._main import main
from csmkit.io import Export, ExportError, SkippedRow, load_export, load_mapping, load_timelines
from csmkit.timeline import MessageAdded, TicketCreated, Timeline

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
JSONL = DATA / "tickets.jsonl"
ZENDESK = DATA / "zendesk_tickets.csv"

HEADER = "id,created_at,solved_at,channel,csat,region\n"
ROWS = [
    "T-1,2026-09-28T09:00:00+08:00,2026-09-28T10:00:00+08:00,email,5,east\n",
    "T-2,yesterday,,phone,4,north\n",  # line 3: not an instant
    "T-3,2026-09-28T11:00:00+08:00,,web,3,\n",  # no region: a blank group
    "T-4,2026-09-28T12:00:00+08:00,,web,11,east\n",  # line 5: CSAT is 1-5
    ",2026-09-28T12:00:00+08:00,,web,4,east\n",  # line 6: no id
    "T-1,2026-09-28T13:00:00+08:00,,web,4,east\n",  # line 7: T-1 again
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["report", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ unknown names
def test_by_a_name_no_ticket_has_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, str(JSONL), "--by", "chanel")
    assert (status, out) == (1, "")
    assert err == (
        "csmkit report: by: no ticket (of 200) has 'chanel' (did you mean 'channel'?); "
        "group by a ticket attribute or fields.NAME\n"
    )


def test_by_a_form_field_without_its_prefix_suggests_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys, str(ZENDESK), "--mapping", "zendesk", "--by", "region")
    assert status == 1
    assert "has 'region' (did you mean 'fields.region'?)" in err
    status, out, _ = run(capsys, str(ZENDESK), "--mapping", "zendesk", "--by", "fields.region")
    assert status == 0
    assert "east" in out
    assert "north" in out


def test_fcr_survey_field_no_ticket_has(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, str(JSONL), "--metrics", "fcr[survey(regoin)]")
    assert status == 1
    assert "fcr[survey(regoin)]: no ticket (of 200) has 'fields.regoin'" in err
    assert "did you mean 'fields.region'" in err


def test_field_on_some_rows_only_is_a_blank_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "some.csv", HEADER + ROWS[0] + ROWS[2])
    status, out, _ = run(capsys, str(path), "--by", "fields.region", "--format", "json")
    assert status == 0
    rows = json.loads(out)["rows"]
    assert [(row["fields.region"], row["tickets"]) for row in rows] == [(None, 1), ("east", 1)]


# ------------------------------------------------------------------ mappings
def test_mapping_naming_a_missing_csv_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = write(
        tmp_path,
        "mapping.json",
        json.dumps({"columns": {"id": "Id", "created_at": "Created at", "channel": "Chanel"}}),
    )
    export = write(tmp_path, "export.csv", "Id,Created at,Channel\nT-1,2026-09-28 09:00,Mail\n")
    status, out, err = run(capsys, str(export), "--mapping", str(mapping), "--by", "channel")
    assert (status, out) == (1, "")
    assert f"{export}: the mapping {mapping} names columns the export does not have" in err
    assert "columns.channel names 'Chanel' (did you mean 'Channel'?)" in err
    assert err.count("\n") == 1


def test_mapping_naming_a_missing_json_key(tmp_path: Path) -> None:
    mapping = load_mapping(
        str(
            write(tmp_path, "m.json", json.dumps({"columns": {"id": "工单号", "channel": "渠 道"}}))
        )
    )
    export = write(
        tmp_path,
        "flat.jsonl",
        json.dumps({"工单号": "T-1", "created_at": "2026-09-28T09:00:00+08:00", "渠道": "微信"})
        + "\n",
    )
    with pytest.raises(ExportError, match=r"columns\.channel names '渠 道' \(did you mean '渠道'"):
        load_timelines(export, mapping=mapping, zone=timezone.utc)


def test_builtin_mapping_columns_are_optional() -> None:
    # The sample has no Requester or Subject column; the built-in mapping still reads it.
    assert len(load_timelines(ZENDESK, mapping=load_mapping("zendesk"), zone=timezone.utc)) == 200


# ------------------------------------------------------------------ bad rows
def test_strict_by_default_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.csv", HEADER + "".join(ROWS))
    status, out, err = run(capsys, str(path))
    assert (status, out) == (1, "")
    assert err.startswith(f"csmkit report: {path}:3.created_at: 'yesterday' is not an ISO 8601")
    with pytest.raises(ExportError, match=f"{path}:3"):
        load_export(path, mapping=None, zone=timezone.utc)


def test_skip_bad_rows_lists_every_row_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.csv", HEADER + "".join(ROWS))
    export = load_export(path, mapping=None, zone=timezone.utc, on_error="skip")
    assert [t.ticket_id for t in export.timelines] == ["T-1", "T-3"]
    assert [(row.file, row.line) for row in export.skipped] == [
        (str(path), 3),
        (str(path), 5),
        (str(path), 6),
        (str(path), 7),
    ]
    assert export.skipped[1].error == (
        f"{path}:5: ticket 'T-4': csat answer: 11 is outside the scale 1–5"
    )
    assert export.skipped[3].error == f"{path}:7: ticket 'T-1' appears twice (first at line 2)"
    status, out, err = run(capsys, str(path), "--skip-bad-rows", "--metrics", "tickets")
    assert status == 0
    assert out.startswith(f"2 tickets from {path} (4 bad rows skipped); as of ")
    lines = err.splitlines()
    assert lines[0].startswith(f"csmkit report: skipped {path}:3.created_at: 'yesterday'")
    assert lines[1] == f"csmkit report: skipped {export.skipped[1]}"
    assert lines[2].startswith(f"csmkit report: skipped {path}:6: column 'id' (id) is missing")
    assert lines[3] == f"csmkit report: skipped {export.skipped[3]}"
    assert lines[4] == f"csmkit report: {path}: 4 bad rows skipped"
    assert len(lines) == 5
    status, out, _ = run(capsys, str(path), "--skip-bad-rows", "--format", "json")
    meta = json.loads(out)["meta"]
    assert [row["line"] for row in meta["skipped_rows"]] == [3, 5, 6, 7]
    assert meta["tickets"] == 2


def test_json_lines_every_kind_of_bad_line(tmp_path: Path) -> None:
    good = Timeline.from_dict(json.loads(JSONL.read_text(encoding="utf-8").splitlines()[0]))
    created = good.events[0]
    assert isinstance(created, TicketCreated)
    reply = MessageAdded(
        ticket_id="E-1", at=created.at, direction="outbound", channel="email"
    ).to_dict()
    lines = [
        json.dumps(good.to_dict()),  # 1: fine
        "{not json",  # 2
        json.dumps([1, 2]),  # 3: not an object
        json.dumps({"kind": "no_such_event", "ticket_id": "E-9"}),  # 4
        json.dumps(reply),  # 5: events of E-1 lack a creation
        "",
        json.dumps(reply),  # 7: same ticket
        json.dumps(good.to_dict()),  # 8: T-0002 again
        json.dumps({"id": "F-1", "created_at": "2026-09-28T09:00:00Z", "csat": "Great"}),  # 9
        json.dumps({"id": "F-2", "created_at": "2026-09-28T09:00:00Z", "csat": 4}),  # 10: fine
    ]
    path = write(tmp_path, "mixed.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(ExportError, match=f"^{path}:2: not JSON"):
        load_export(path, mapping=None, zone=timezone.utc)
    export = load_export(path, mapping=None, zone=timezone.utc, on_error="skip")
    assert [t.ticket_id for t in export.timelines] == [good.ticket_id, "F-2"]
    assert [row.line for row in export.skipped] == [2, 3, 4, 5, 7, 8, 9]
    by_line = {row.line: row.error for row in export.skipped}
    assert by_line[5] == by_line[7]
    assert by_line[5].startswith(f"{path}:5: events of ticket 'E-1' (lines 5, 7): ")
    assert "csat: 'Great' is not a number" in by_line[9]
    assert all(
        row.error.startswith(f"{path}:{row.line}") or f"lines 5, {row.line}" in row.error
        for row in export.skipped
    )


def test_every_row_bad_is_still_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "all-bad.csv", HEADER + ROWS[1])
    status, _, err = run(capsys, str(path), "--skip-bad-rows")
    assert status == 1
    assert err.endswith(f"csmkit report: {path}: no tickets in the export (1 bad rows skipped)\n")


def test_load_export_values() -> None:
    export = load_export(JSONL, mapping=None, zone=timezone.utc, on_error="skip")
    assert isinstance(export, Export)
    assert (len(export.timelines), export.skipped) == (200, ())
    row = SkippedRow("a.csv", 3, "a.csv:3: bad")
    assert (str(row), row.to_dict()) == (
        "a.csv:3: bad",
        {"file": "a.csv", "line": 3, "error": "a.csv:3: bad"},
    )
    with pytest.raises(ExportError, match="on_error must be 'raise' or 'skip'"):
        load_export(JSONL, mapping=None, zone=timezone.utc, on_error="ignore")  # type: ignore[arg-type]


# ------------------------------------------------------------------ Zendesk CSAT labels
@pytest.mark.parametrize(
    ("labels", "score"),
    [(["Good", "good", " GOOD ", "Bad"], 75.0), (["bad", "Offered", "unoffered", "Good"], 50.0)],
)
def test_zendesk_csat_labels_in_any_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], labels: list[str], score: float
) -> None:
    header = "Id,Created at,Satisfaction Score\n"
    body = "".join(
        f'T-{index},2026-09-28 09:00:00 +0800,"{label}"\n' for index, label in enumerate(labels)
    )
    path = write(tmp_path, "zd.csv", header + body)
    status, out, _ = run(
        capsys, str(path), "--mapping", "zendesk", "--metrics", "csat", "--format", "json"
    )
    assert status == 0
    data: dict[str, Any] = json.loads(out)
    assert data["rows"][0]["csat"] == score


def test_other_zendesk_csat_labels_name_their_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "Id,Created at,Satisfaction Score\n"
    path = write(tmp_path, "zd.csv", header + "T-1,2026-09-28 09:00:00 +0800,Great\n")
    status, _, err = run(capsys, str(path), "--mapping", "zendesk", "--metrics", "csat")
    assert status == 1
    assert f"{path}:2.csat: 'Great' is not a number" in err


def test_by_an_attribute_no_flat_row_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without a priority column every ticket would be "normal": one plausible group.
    path = write(tmp_path, "flat.csv", HEADER + ROWS[0] + ROWS[2])
    status, out, err = run(capsys, str(path), "--by", "channel,priority")
    assert (status, out) == (1, "")
    assert err == (
        f"csmkit report: --by priority: no row of {path} gives priority (a missing column, "
        "or a --mapping that does not name it); every ticket would fall in one group of "
        "the default\n"
    )
    assert load_export(path, mapping=None, zone=timezone.utc).ungiven == {
        "type",
        "priority",
        "group",
        "assignee",
        "customer_id",
        "subject",
    }
    # Timelines carry their attributes: nothing is a default there.
    assert load_export(JSONL, mapping=None, zone=timezone.utc).ungiven == frozenset()
    status, _, _ = run(capsys, str(JSONL), "--by", "priority", "--metrics", "tickets")
    assert status == 0
