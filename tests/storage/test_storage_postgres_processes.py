"""Real processes on one PostgreSQL store: concurrent writers and a position reader, and a
desk with several intake workers and a ticker (every timed effect exactly once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import csmkit
from _pg_server import PgServer
from csmkit.storage import PostgresStore

DESK_TESTS = Path(__file__).resolve().parent.parent / "desk"


def _run(code: str, *args: str) -> subprocess.Popen[str]:
    src = Path(csmkit.__file__).resolve().parent.parent
    tests = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(tests), str(DESK_TESTS)])}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finish(workers: list[subprocess.Popen[str]]) -> list[str]:
    results = [worker.communicate(timeout=300) for worker in workers]
    errors = "\n---\n".join(err for _, err in results)
    for worker in workers:
        assert worker.returncode == 0, errors
    return [out for out, _ in results]


WRITER = r"""
import json, sys
from datetime import timedelta
from csmkit.errors import ConcurrencyError
from csmkit.storage import PostgresStore
from csmkit.testing import T0, created
from csmkit.timeline import MessageAdded

url, schema, writer, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = PostgresStore(url, schema=schema)
stored = rejected = 0
for attempt in range(attempts):
    ticket_id = "shared" if attempt % 2 else f"own-{writer}"
    version = store.version(ticket_id)
    if version == 0:
        batch = [created(ticket_id, T0)]
    else:
        at = store.load(ticket_id).ticket.updated_at + timedelta(seconds=1)
        batch = [MessageAdded(ticket_id=ticket_id, at=at, direction="inbound", channel="chat",
                              meta={"writer": writer, "attempt": attempt, "part": part})
                 for part in range(1 + attempt % 3)]
    try:
        store.append(ticket_id, batch, version)
        stored += len(batch)
    except ConcurrencyError:
        rejected += 1
store.close()
print(json.dumps({"stored": stored, "rejected": rejected}))
"""

READER = r"""
import json, sys, time
from csmkit.storage import PostgresStore

url, schema, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = PostgresStore(url, schema=schema)
seen, position = [], 0
deadline = time.monotonic() + 120
while len(seen) < expected and time.monotonic() < deadline:
    for change in store.changes_after(position, limit=7):
        seen.append(change.position)
        position = change.position
print(json.dumps(seen))
"""


@pytest.mark.slow
def test_a_reader_following_live_writers_never_skips(pg_server: PgServer) -> None:
    """Writers in three processes contend on one ticket while a fourth process pages
    through the changes: it sees 1, 2, 3, … — nothing skipped, nothing twice."""
    schema = pg_server.new_schema()
    url = pg_server.url()
    PostgresStore(url, schema=schema).close()
    attempts = 40
    # Each writer stores at least one event per attempt on its own ticket (every other
    # attempt) — the reader waits for a lower bound, then the final count is checked.
    writers = [_run(WRITER, url, schema, str(n), str(attempts)) for n in range(3)]
    reader = _run(READER, url, schema, str(3 * attempts // 2))
    outs = _finish(writers)
    seen = json.loads(_finish([reader])[0])
    total = sum(json.loads(out)["stored"] for out in outs)
    assert seen == list(range(1, len(seen) + 1))  # in order, none skipped, none twice
    assert 3 * attempts // 2 <= len(seen) <= total
    with PostgresStore(url, schema=schema) as store:
        assert store.position() == total
        everything = [c.position for c in store.changes_after(0, limit=10_000)]
        assert everything == list(range(1, total + 1))
        versions = [store.version("shared")] + [store.version(f"own-{n}") for n in range(3)]
        assert sum(versions) == total


INTAKE = r"""
import json, sys, time
from datetime import timedelta
from pathlib import Path
from _ticker_desk import DAY, Clock, Outbox, mail, make_desk
from csmkit.storage import PostgresStore

START = DAY.replace(hour=9, minute=30)
url, schema, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
mine = json.loads(sys.argv[4])  # [[mail index, slot], ...]
name = sys.argv[5]

def wait_ticked(value):
    deadline = time.monotonic() + 120
    while True:
        try:
            if int((work / "ticked").read_text() or -1) >= value:
                return
        except (FileNotFoundError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for tick {value}")
        time.sleep(0.002)

clock = Clock(START)
desk = make_desk(PostgresStore(url, schema=schema), clock, Outbox())
for count, (i, slot) in enumerate(mine, 1):
    wait_ticked(slot)
    instant = START + timedelta(minutes=5 * slot)
    clock.now = instant - timedelta(minutes=1)
    result = desk.receive(mail(f"c{i}", instant - timedelta(minutes=2)))
    if i % 3 == 0:
        desk.reply(result.ticket_id, author="agent-1")
    tmp = work / f"stored-{name}.tmp"
    tmp.write_text(json.dumps([s for _, s in mine[:count]]))
    tmp.replace(work / f"stored-{name}")
print("intake done", flush=True)
"""

TICKER = r"""
import json, sys, time
from datetime import timedelta
from pathlib import Path
from _ticker_desk import DAY, Clock, Outbox, make_desk
from csmkit.storage import PostgresStore

START = DAY.replace(hour=9, minute=30)
url, schema, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
slots_of_mail, workers, slots = json.loads(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])

def stored_before(slot):
    done = 0
    for n in range(workers):
        try:
            done += sum(1 for s in json.loads((work / f"stored-{n}").read_text()) if s < slot)
        except (FileNotFoundError, ValueError):
            pass
    return done

clock = Clock(START)
desk = make_desk(PostgresStore(url, schema=schema), clock, Outbox(work / "sent.jsonl"))
for slot in range(slots):
    needed = sum(1 for s in slots_of_mail if s < slot)
    deadline = time.monotonic() + 120
    while stored_before(slot) < needed:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for mail before slot {slot}")
        time.sleep(0.002)
    clock.now = START + timedelta(minutes=5 * slot)
    desk.tick(clock.now)
    tmp = work / "ticked.tmp"
    tmp.write_text(str(slot))
    tmp.replace(work / "ticked")
print("ticker done", flush=True)
"""

MAIL_SLOTS = (1, 2, 2, 3, 5, 9, 14, 14, 20, 27, 31, 40)
SLOTS = 102


@pytest.mark.slow
def test_three_intake_workers_and_a_ticker_on_postgres(pg_server: PgServer, tmp_path: Path) -> None:
    sys.path.insert(0, str(DESK_TESTS))
    from _ticker_desk import CALENDAR, EFFECTS, fired

    from csmkit.sla import BusinessCalendar

    schema = pg_server.new_schema()
    url = pg_server.url()
    PostgresStore(url, schema=schema).close()
    workers = 3
    shares: list[list[list[int]]] = [[] for _ in range(workers)]
    for i, slot in enumerate(MAIL_SLOTS):
        shares[i % workers].append([i, slot])
    processes = [
        _run(INTAKE, url, schema, str(tmp_path), json.dumps(share), str(n))
        for n, share in enumerate(shares)
    ]
    processes.append(
        _run(TICKER, url, schema, str(tmp_path), json.dumps(MAIL_SLOTS), str(workers), str(SLOTS))
    )
    for out in _finish(processes):
        assert "done" in out
    log = tmp_path / "sent.jsonl"
    sent = Counter(tuple(json.loads(line)) for line in log.read_text().splitlines())
    calendar = BusinessCalendar.from_dict(CALENDAR)
    expected: Counter[tuple[str, str]] = Counter()
    with PostgresStore(url, schema=schema) as store:
        summaries = store.find_tickets(limit=100).items
        assert len(summaries) == len(MAIL_SLOTS)
        for summary in summaries:
            timeline = store.load(summary.ticket_id)
            answered = any(getattr(e, "author", None) == "agent-1" for e in timeline) or any(
                e.meta.get("author") == "agent-1" for e in timeline
            )
            rules = [] if answered else sorted(EFFECTS)
            assert fired(timeline) == rules, summary.ticket_id
            expected.update((summary.ticket_id, rule) for rule in rules)
            received = timeline[0].at
            for event in timeline:
                if "notify" in event.meta:
                    assert event.at == calendar.add(received, EFFECTS[str(event.meta["rule"])])
    assert sent == expected
    assert sum(sent.values()) == sum(1 for i in range(len(MAIL_SLOTS)) if i % 3) * len(EFFECTS)
