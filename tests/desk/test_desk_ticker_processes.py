"""Real processes on one SQLite file: an intake worker storing mail late while two
tickers tick; every warning, reminder and escalation happens exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _ticker_desk import CALENDAR, DAY, EFFECTS, fired

import csmkit
from csmkit.sla import BusinessCalendar
from csmkit.storage import SqliteStore

#: Tick instants: every 5 minutes from 09:30 to 17:55 (slot k is at START + 5k min).
START = DAY.replace(hour=9, minute=30)
SLOTS = 102
#: Mail i arrives in slot MAIL_SLOTS[i]: received 2 minutes *before* that slot's tick,
#: stored only *after* it (the 09:58 / 10:00 case, for every mail). Every third mail
#: is answered at once (before its timers fall due): it must get no timed effect.
MAIL_SLOTS = (1, 2, 2, 5, 9, 14, 20, 27, 31, 40, 41, 50)

COMMON = r"""
import json, sys, time
from datetime import timedelta
from pathlib import Path
from _ticker_desk import DAY, Clock, Outbox, mail, make_desk
from csmkit.storage import SqliteStore

START = DAY.replace(hour=9, minute=30)
work = Path(sys.argv[1])
mail_slots = json.loads(sys.argv[2])
slots = int(sys.argv[3])

def at_least(name, value):
    path = work / name
    deadline = time.monotonic() + 60
    while True:
        try:
            current = int(path.read_text() or 0)
        except FileNotFoundError:
            current = -1
        if current >= value or (current < 0 and value <= 0):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {name} >= {value}")
        time.sleep(0.002)

def publish(name, value):
    tmp = work / (name + ".tmp")
    tmp.write_text(str(value))
    tmp.replace(work / name)
"""

INTAKE = (
    COMMON
    + r"""
clock = Clock(START)
desk = make_desk(SqliteStore(work / "desk.db"), clock, Outbox())
for i, slot in enumerate(mail_slots):
    at_least("ticked", slot)  # the tick of this slot has run ...
    instant = START + timedelta(minutes=5 * slot)
    clock.now = instant - timedelta(minutes=1)
    result = desk.receive(mail(f"c{i}", instant - timedelta(minutes=2)))  # ... received before it
    if i % 3 == 0:
        desk.reply(result.ticket_id, author="agent-1")
    publish("stored", i + 1)
print("intake done", flush=True)
"""
)

TICKER = (
    COMMON
    + r"""
name = sys.argv[4]
clock = Clock(START)
desk = make_desk(SqliteStore(work / "desk.db"), clock, Outbox(work / f"sent-{name}.jsonl"))
for slot in range(slots):
    # mail of earlier slots is stored before this tick (mail of this slot comes after it)
    at_least("stored", sum(1 for s in mail_slots if s < slot))
    clock.now = START + timedelta(minutes=5 * slot)
    desk.tick(clock.now)
    if name == "a":
        publish("ticked", slot)
print("ticker done", flush=True)
"""
)


def _run(code: str, *args: str) -> subprocess.Popen[str]:
    here = Path(__file__).parent
    src = Path(csmkit.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(here)])}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_late_mail_and_two_tickers_in_real_processes(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "desk.db").close()  # created before the workers start
    args = [str(tmp_path), json.dumps(MAIL_SLOTS), str(SLOTS)]
    workers = [
        _run(INTAKE, *args),
        _run(TICKER, *args, "a"),
        _run(TICKER, *args, "b"),
    ]
    results = [worker.communicate(timeout=300) for worker in workers]
    for worker, (out, _err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, "\n---\n".join(e for _, e in results)
        assert "done" in out
    sent: Counter[tuple[str, str]] = Counter()
    for name in ("a", "b"):
        log = tmp_path / f"sent-{name}.jsonl"
        if log.exists():
            sent.update(tuple(json.loads(line)) for line in log.read_text().splitlines())
    calendar = BusinessCalendar.from_dict(CALENDAR)
    with SqliteStore(tmp_path / "desk.db") as store:
        summaries = store.find_tickets(limit=100).items
        assert len(summaries) == len(MAIL_SLOTS)
        expected: Counter[tuple[str, str]] = Counter()
        for summary in summaries:
            timeline = store.load(summary.ticket_id)
            answered = any(e.meta.get("author") == "agent-1" for e in timeline) or any(
                getattr(e, "author", None) == "agent-1" for e in timeline
            )
            rules = [] if answered else sorted(EFFECTS)
            assert fired(timeline) == rules, summary.ticket_id
            assert timeline.ticket.escalation_level == (0 if answered else 1)
            expected.update((summary.ticket_id, rule) for rule in rules)
            received = timeline[0].at
            for event in timeline:
                if "notify" in event.meta:  # written at its business-time due instant
                    due = calendar.add(received, EFFECTS[str(event.meta["rule"])])
                    assert event.at == due
    # each notification sent exactly once, by one of the two tickers
    assert sent == expected
    assert sum(1 for i in range(len(MAIL_SLOTS)) if i % 3) * len(EFFECTS) == sum(sent.values())
