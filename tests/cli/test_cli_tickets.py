"""``csmkit tickets``: listings and counts from a store's index."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from csmkit.cli import main
from csmkit.storage import SlaDue, SqliteStore
from csmkit.testing import T0, created, next_event
from csmkit.timeline import Assigned, Ticket

UTC = timezone.utc


@pytest.fixture
def desk_db(tmp_path: Path) -> Path:
    """Four tickets: two due (one overdue for any recent 'now'), one without, one solved."""
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        for ticket_id, minutes, kind in (("A", 30, "repair"), ("B", 10, "complaint")):
            first = attrs.evolve(created(ticket_id), type=kind)
            assigned = Assigned(ticket_id=ticket_id, at=T0, agent="li", group="north")
            due = SlaDue(at=T0 + timedelta(minutes=minutes), target="first_response")
            store.append(ticket_id, [first, assigned], 0, due=due)
        store.append("C", [created("C")], 0)
        ticket = created("D")
        store.append("D", [ticket], 0)
        solved = next_event(Ticket.created(ticket), "solve", T0 + timedelta(hours=1))
        store.append("D", [solved], 1)
    return path


def test_lists_unsolved_tickets(desk_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tickets", str(desk_db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ticket", "type", "status"]
    assert sorted(line.split()[0] for line in lines[1:-1]) == ["A", "B", "C"]
    assert lines[-1] == "3 ticket(s)"


def test_due_before_an_instant(desk_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (T0 + timedelta(minutes=20)).isoformat()
    assert main(["tickets", f"sqlite:///{desk_db}", "--due-before", before, "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    item = json.loads(line)
    assert item["ticket_id"] == "B"
    assert item["due"]["target"] == "first_response"
    # "now" is long after T0: both are overdue, earliest first, paged
    assert main(["tickets", str(desk_db), "--due-before", "now", "--limit", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:-1]] == ["B"]
    assert out[-1] == "1 ticket(s) (more: raise --limit or use --all)"
    assert main(["tickets", str(desk_db), "--due-before=-1h", "--all", "--limit", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:-1]] == ["B", "A"]


def test_filters_and_counts(desk_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tickets", str(desk_db), "--type", "complaint", "--json"]) == 0
    assert [json.loads(x)["ticket_id"] for x in capsys.readouterr().out.splitlines()] == ["B"]
    assert main(["tickets", str(desk_db), "--count-by", "category"]) == 0
    assert capsys.readouterr().out == "new\t3\nsolved\t1\n"
    assert main(["tickets", str(desk_db), "--count-by", "assignee", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [[None, 2], ["li", 2]]
    assert main(["tickets", str(desk_db), "--count-by", "group", "--category", "solved"]) == 0
    assert capsys.readouterr().out == "-\t1\n"


def test_bad_input(desk_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tickets", str(tmp_path / "missing.db")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
    assert main(["tickets", str(desk_db), "--due-before", "tomorrow"]) == 1
    assert "--due-before 'tomorrow'" in capsys.readouterr().err
    assert main(["tickets", str(desk_db), "--due-before", "2026-10-08T18:00"]) == 1
    assert "before" in capsys.readouterr().err  # naive: no offset
    assert main(["tickets", str(desk_db), "--limit", "0"]) == 1
    with pytest.raises(SystemExit):
        main(["tickets", str(desk_db), "--count-by", "colour"])
    assert datetime.now(UTC) > T0
