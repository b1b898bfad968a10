"""Reliability of the SQLite store across processes: concurrent writers, SIGKILL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from csmkit.storage import SqliteStore
from csmkit.testing import created
from csmkit.timeline import MessageAdded

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WRITER = r"""
import json, os, sys, time
from datetime import timedelta
from csmkit.errors import ConcurrencyError
from csmkit.storage import SqliteStore
from csmkit.timeline import MessageAdded

path, writer, attempts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = SqliteStore(path, busy_timeout=30)
open(f"{path}.ready{writer}", "w").close()
deadline = time.monotonic() + 30
while not all(os.path.exists(f"{path}.ready{n}") for n in (0, 1)):
    if time.monotonic() > deadline:
        sys.exit("the other writer never started")
    time.sleep(0.005)
stored, rejected = [], []
for attempt in range(attempts):
    timeline = store.load("T-1")
    at = timeline.ticket.updated_at + timedelta(microseconds=1)
    size = 1 + attempt % 3
    batch = [
        MessageAdded(ticket_id="T-1", at=at, direction="inbound", channel="wechat",
                     meta={"writer": writer, "attempt": attempt, "part": part})
        for part in range(size)
    ]
    try:
        store.append("T-1", batch, timeline.version)
    except ConcurrencyError:
        rejected.append(attempt)
    else:
        stored.append([attempt, size])
store.close()
print(json.dumps({"stored": stored, "rejected": rejected}))
"""

KILLED = r"""
import sys, time
from datetime import datetime, timezone
from csmkit.storage import SqliteStore
from csmkit.timeline import MessageAdded

path, size = sys.argv[1], int(sys.argv[2])
store = SqliteStore(path, busy_timeout=30)
at = datetime(2026, 10, 8, 12, tzinfo=timezone.utc)
batch_number = 0
while True:
    batch = [
        MessageAdded(ticket_id="T-1", at=at, direction="internal", channel="note",
                     meta={"batch": batch_number, "i": i})
        for i in range(size)
    ]
    started = time.monotonic()
    version = store.version("T-1")
    print(f"begin {batch_number}", flush=True)
    store.append("T-1", batch, version)
    print(f"committed {batch_number} {time.monotonic() - started:.4f}", flush=True)
    batch_number += 1
"""

SELF_KILLED = r"""
import hashlib, os, signal, sys
from datetime import datetime, timezone
from csmkit.storage import SqliteStore
from csmkit.timeline import MessageAdded

path, size = sys.argv[1], int(sys.argv[2])
store = SqliteStore(path, busy_timeout=30)
at = datetime(2026, 10, 8, 12, tzinfo=timezone.utc)

def batch(number):
    return [MessageAdded(ticket_id="T-1", at=at, direction="internal", channel="note",
                         meta={"batch": number, "i": i}) for i in range(size)]

store.append("T-1", batch(0), 1)
with open(path + "-wal", "rb") as wal:
    print(hashlib.sha256(wal.read()).hexdigest(), flush=True)
calls = 0

def progress():
    # Called every 1,000 SQLite VM steps; die half-way through the second batch's INSERTs.
    global calls
    calls += 1
    if calls == 400:
        os.kill(os.getpid(), signal.SIGKILL)

second = batch(1)
store._connection.set_progress_handler(progress, 1000)
store.append("T-1", second, 1 + size)
print("the second batch committed", flush=True)
"""


def _run_writers(path: Path, attempts: int) -> list[dict[str, list[object]]]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(n), str(attempts)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (0, 1)
    ]
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        reports.append(json.loads(out))
    return reports


def test_two_processes_append_to_one_ticket(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)
    attempts = 60
    reports = _run_writers(path, attempts)
    expected = Counter()
    for writer, report in enumerate(reports):
        stored = {attempt for attempt, _ in report["stored"]}  # type: ignore[misc]
        rejected = set(report["rejected"])
        assert stored.isdisjoint(rejected)
        assert stored | rejected == set(range(attempts)), "an attempt is unaccounted for"
        for attempt, size in report["stored"]:  # type: ignore[misc]
            for part in range(size):
                expected[(writer, attempt, part)] += 1
    with SqliteStore(path) as store:
        events = list(store.load("T-1"))[1:]
        found = Counter((e.meta["writer"], e.meta["attempt"], e.meta["part"]) for e in events)
        assert max(found.values()) == 1, "an event was stored twice"
        assert found == expected, "lost or phantom events"
        assert store.version("T-1") == 1 + sum(expected.values())
        rejected_pairs = {(w, a) for w, r in enumerate(reports) for a in r["rejected"]}  # type: ignore[union-attr]
        assert not {(w, a) for w, a, _ in found} & rejected_pairs


def _kill_mid_batch(path: Path, size: int, fraction: float) -> tuple[int, float]:
    """Start a writer of big batches; SIGKILL it part-way through its second batch."""
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(path), str(size)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        duration = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else "writer died"
            if line.startswith("committed 0"):
                duration = float(line.split()[2])
            elif line.startswith("begin 1"):
                break
        assert duration is not None
        time.sleep(duration * fraction)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return size, duration


def _check_all_or_nothing(path: Path, size: int) -> int:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
    with SqliteStore(path) as store:
        timeline = store.load("T-1")
        per_batch = Counter(event.meta["batch"] for event in list(timeline)[1:])
        assert set(per_batch.values()) == {size}, f"a partial batch: {per_batch}"
        assert sorted(per_batch) == list(range(len(per_batch)))
        assert store.version("T-1") == len(timeline)
        (summary,) = store.find_tickets().items
        assert summary.version == len(timeline)
        # The store still accepts work after the crash.
        late = MessageAdded(
            ticket_id="T-1", at=timeline.ticket.updated_at, direction="internal", channel="note"
        )
        assert store.append("T-1", [late], len(timeline)) == len(timeline) + 1
        return len(per_batch)


def test_sigkill_inside_the_write_transaction(tmp_path: Path) -> None:
    """Killed by SIGKILL while SQLite executes the batch's INSERTs (deterministic)."""
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)
    size = 20_000
    result = subprocess.run(
        [sys.executable, "-c", SELF_KILLED, str(path), str(size)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "committed" not in result.stdout
    wal_after_first = result.stdout.split()[0]
    wal = Path(f"{path}-wal").read_bytes()
    # Pages of the unfinished transaction reached the WAL before the kill ...
    assert hashlib.sha256(wal).hexdigest() != wal_after_first
    # ... yet after reopening only the first batch is there, entirely.
    assert _check_all_or_nothing(path, size) == 1


def test_sigkill_during_a_batch_leaves_it_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)
    size, _ = _kill_mid_batch(path, 3000, 0.8)
    assert _check_all_or_nothing(path, size) in (1, 2)


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.7, 0.85, 0.95, 1.05])
def test_sigkill_at_many_points_of_a_large_batch(tmp_path: Path, fraction: float) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)
    size, _ = _kill_mid_batch(path, 20_000, fraction)
    assert _check_all_or_nothing(path, size) in (1, 2)
