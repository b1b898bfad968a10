"""The desk's timeline cache, its ticker's reads, and the bulk import (issue #20)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csmkit.errors import AutomationError, ConcurrencyError, StorageError
from csmkit.timeline import Timeline
from csmkit.workflow import Actor

DISPATCHER = Actor("d1", {"dispatcher"})
WANG = Actor("wang", {"engineer"})
T0 = datetime(2026, 10, 15, 10, 0)


def _counting_loads(desk: Any) -> list[str]:
    loads: list[str] = []
    real = desk.store.load

    def load(ticket_id: str) -> Timeline:
        loads.append(ticket_id)
        return real(ticket_id)

    desk.store.load = load
    return loads


def _desk(kit: Any, url: Any, clock: Any = None, **options: Any) -> Any:
    clock = clock or kit.Clock(T0.replace(tzinfo=kit.SH))
    return kit.make_desk(url, clock, kit.Outbox(), **options)


def test_a_stale_cache_entry_is_detected_and_the_operation_decides_again(
    tmp_path: Path, kit: Any
) -> None:
    path = tmp_path / "two.db"
    first, second = _desk(kit, path, rules={}), _desk(kit, path, rules={})
    first.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="T-1")
    assert first.ticket("T-1").status == "new"  # cached by first
    second.transition("T-1", "dispatch", actor=DISPATCHER, data={"engineer": "wang"})
    # a read checks the stored version: never the stale cached state
    assert first.ticket("T-1").status == "dispatched"
    first.timeline("T-1")
    second.transition("T-1", "accept", actor=WANG)
    # a transition refused on the stale entry ("dispatched") is decided again on the
    # stored state ("accepted"), where it is allowed
    first.transition("T-1", "arrive", actor=WANG)
    assert [e.to_status for e in first.timeline("T-1").status_changes()] == [
        "dispatched",
        "accepted",
        "on_site",
    ]
    # and a transition the stored state refuses is still refused
    with pytest.raises(Exception, match="accept"):
        first.transition("T-1", "accept", actor=WANG)
    first.store.close()
    second.store.close()


def test_another_process_writing_the_store_is_seen(tmp_path: Path, kit: Any) -> None:
    path = tmp_path / "shared.db"
    desk = _desk(kit, path, rules={})
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="T-1")
    desk.note("T-1", author="kf")  # cached at version 2
    script = textwrap.dedent(
        f"""
        from datetime import datetime
        from zoneinfo import ZoneInfo
        from csmkit.storage import open_store
        from csmkit.timeline import MessageAdded
        store = open_store("sqlite:///{path}")
        at = datetime(2026, 10, 15, 10, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
        store.append("T-1", [MessageAdded(ticket_id="T-1", at=at, actor="other",
                     direction="internal", channel="phone")], 2)
        store.close()
        """
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    desk.note("T-1", author="kf2")  # appends after the other process's event, not over it
    actors = [e.actor for e in desk.timeline("T-1").events[-3:]]
    assert actors == ["kf", "other", "kf2"]
    desk.store.close()


def test_the_ticker_reads_only_what_others_wrote(tmp_path: Path, kit: Any) -> None:
    path = tmp_path / "tick.db"
    clock = kit.Clock(T0.replace(tzinfo=kit.SH))
    desk, other = _desk(kit, path, clock), _desk(kit, path, clock)
    for n in range(5):
        desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id=f"T-{n}")
    desk.tick()  # the first tick of a desk reads every ticket once
    loads = _counting_loads(desk)
    for n in range(5):
        clock.now += timedelta(minutes=1)
        desk.note(f"T-{n}", author="kf")
        desk.tick()
    assert loads == []  # its own writes: the timers were computed when it wrote them
    other.note("T-2", author="other")
    desk.tick()
    assert loads == ["T-2"]
    desk.store.close()
    other.store.close()


def _history(kit: Any, count: int) -> list[Timeline]:
    """Closed tickets' timelines, from a lifecycle run on a scratch desk."""
    clock = kit.Clock(T0.replace(tzinfo=kit.SH) - timedelta(days=20))
    scratch = _desk(kit, "memory://", clock, rules={})
    out = []
    for n in range(count):
        ticket_id = f"H-{n}"
        scratch.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id=ticket_id)
        scratch.assign(ticket_id, "wang")
        scratch.reply(ticket_id, author="wang")
        for name, actor, data in [
            ("dispatch", DISPATCHER, {"engineer": "wang"}),
            ("accept", WANG, None),
            ("arrive", WANG, None),
            ("repair", WANG, {"repair_notes": "ok"}),
            ("follow_up", Actor("kf", {"agent"}), None),
            ("close", Actor("kf", {"agent"}), None),
        ]:
            clock.now += timedelta(minutes=7)
            scratch.transition(ticket_id, name, actor=actor, data=data)
        out.append(scratch.timeline(ticket_id))
    return out


def test_operations_and_ticks_do_not_read_closed_tickets(tmp_path: Path, kit: Any) -> None:
    desk = _desk(kit, tmp_path / "history.db")
    assert desk.import_timelines(_history(kit, 30)) == 30
    desk.tick()
    desk.routing_state()  # derived once from the whole store (start-up), then kept
    loads = _counting_loads(desk)
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="LIVE")
    desk.reply("LIVE", author="wang")
    desk.transition("LIVE", "dispatch", actor=DISPATCHER, data={"engineer": "wang"})
    desk.tick(desk.now() + timedelta(days=3))
    assert set(loads) <= {"LIVE"}
    desk.store.close()


def test_import_stores_history_without_live_automation(tmp_path: Path, kit: Any) -> None:
    outbox = kit.Outbox()
    clock = kit.Clock(T0.replace(tzinfo=kit.SH))
    desk = kit.make_desk(tmp_path / "import.db", clock, outbox)
    history = _history(kit, 3)
    imported = desk.import_timelines([history[0], history[1].to_dict(), history[2]])
    assert imported == 3
    assert desk.timeline("H-1") == history[1]
    assert desk.ticket("H-2").status == "closed"
    assert all(desk.timers.when(t.ticket_id) is None for t in history)
    result = desk.tick(clock.now + timedelta(days=30))
    assert result.woken == () and outbox.sent == []  # no survey, no warning for history
    # routing counts the imported assignments (round robin's last, the sticky customer)
    assert desk.routing_state().last_assigned("wang") is not None
    assert desk.routing_state() == desk.routing_state(refresh=True)
    desk.store.close()


def test_a_bad_batch_is_refused_whole_with_every_problem(tmp_path: Path, kit: Any) -> None:
    desk = _desk(kit, tmp_path / "bad.db")
    good = _history(kit, 3)
    desk.import_timelines([good[0]])
    position = desk.store.position()
    unknown = Timeline.from_dict(
        {**good[1].to_dict(), "events": [{**good[1][0].to_dict(), "type": "nope"}]}
    )
    batch: list[Any] = [good[1], good[0], unknown, "not a timeline", good[2], good[2]]
    with pytest.raises(AutomationError) as caught:
        desk.import_timelines(batch)
    message = str(caught.value)
    assert "5 problem(s), nothing was imported" in message
    assert "timelines[1]: ticket 'H-0' is already in the store" in message
    assert "timelines[2] (ticket 'H-1'): unknown ticket type 'nope'" in message
    assert "timelines[2]: ticket 'H-1' is also timelines[0]" in message
    assert "timelines[3]: expected a Timeline or its dict form" in message
    assert "timelines[5]: ticket 'H-2' is also timelines[4]" in message
    assert desk.store.position() == position  # nothing written
    with pytest.raises(AutomationError, match=r"timelines\[0\]: a timeline needs at least"):
        desk.import_timelines([{"ticket_id": "X", "events": []}])
    with pytest.raises(AutomationError, match="expected an iterable of timelines"):
        desk.import_timelines("H-1")  # type: ignore[arg-type]
    desk.store.close()


def test_a_writer_racing_the_import_is_reported_with_what_was_stored(
    tmp_path: Path, kit: Any
) -> None:
    desk = _desk(kit, tmp_path / "race.db")
    history = _history(kit, 3)
    real = desk.store.append

    def racing(ticket_id: str, events: Any, expected: int, **options: Any) -> int:
        if ticket_id == "H-1":  # created by another writer after the check
            real(ticket_id, events, expected, **options)
        return real(ticket_id, events, expected, **options)

    desk.store.append = racing
    with pytest.raises(ConcurrencyError, match=r"1 ticket\(s\) before it were stored \(H-0\)"):
        desk.import_timelines(history)
    assert isinstance(ConcurrencyError("x"), StorageError)
    desk.store.close()
