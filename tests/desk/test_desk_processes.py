"""Two OS processes, each with its own ServiceDesk on one SQLite file, on one ticket."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from csmkit.desk import ServiceDesk, TicketType
from csmkit.storage import open_store
from csmkit.workflow import Workflow, template_dict

CHILD = r"""
import sys, time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from csmkit.desk import ServiceDesk, TicketType
from csmkit.storage import open_store
from csmkit.workflow import Workflow, template_dict

path, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
now = [datetime(2026, 10, 15, 2, 0, tzinfo=timezone.utc)]
desk = ServiceDesk(
    open_store(f"sqlite:///{path}"),
    types=[TicketType("complaint", Workflow.from_dict(template_dict("complaint")))],
    clock=lambda: now[0],
    max_retries=1000,
)
conflicts = [0]
append = desk.store.append
def counting(ticket_id, events, expected_version, **options):
    try:
        return append(ticket_id, events, expected_version, **options)
    except Exception:
        conflicts[0] += 1
        raise
desk.store.append = counting
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
for i in range(count):
    now[0] += timedelta(seconds=1)
    if i % 2:
        desk.note("T-1", author=f"{name}-{i}")
    else:
        desk.reply("T-1", author=f"{name}-{i}")
desk.store.close()
print("done", conflicts[0], flush=True)
"""

COUNT = 25


def test_two_processes_on_one_sqlite_file_lose_and_duplicate_nothing(
    tmp_path: Path, kit: Any
) -> None:
    path = tmp_path / "shared.db"
    desk = ServiceDesk(
        open_store(f"sqlite:///{path}"),
        types=[TicketType("complaint", Workflow.from_dict(template_dict("complaint")))],
        clock=lambda: datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH),
    )
    desk.open_ticket("complaint", channel="phone", ticket_id="T-1")
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), name, str(COUNT), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for child in children:  # both desks are open before either writes
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    go.touch()
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert out.split()[0] == "done", out  # then the number of conflicts it retried
    timeline = desk.timeline("T-1")
    authors = Counter(e.author for e in timeline.events if e.kind == "message_added")
    expected = {f"{name}-{i}" for name in "ab" for i in range(COUNT)}
    assert set(authors) == expected  # none lost
    assert set(authors.values()) == {1}  # none duplicated
    assert len(timeline) == 1 + 2 * COUNT
    # each process's own writes are in its order
    for name in "ab":
        mine = [
            a
            for a in (getattr(e, "author", None) or "" for e in timeline.events)
            if a.startswith(f"{name}-")
        ]
        assert mine == [f"{name}-{i}" for i in range(COUNT)]
    desk.store.close()
