"""A store migrated from schema 4 has no SLA due marks: the desk's first tick re-derives
them once; a store whose marks are right is not re-indexed."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csmkit.desk._due import committed_due
from csmkit.workflow import Actor
from schema_steps import drop_schema_5

REDERIVED = "every mark re-derived"


def _listed(desk: Any, before: datetime) -> list[tuple[str, Any]]:
    return [(s.ticket_id, s.due) for s in desk.due(before).items]


def _paused(desk: Any, clock: Any, ticket_id: str) -> None:
    """Dispatch, accept, answer, arrive and wait for parts: unsolved, no clock running."""
    desk.transition(
        ticket_id, "dispatch", actor=Actor("d1", {"dispatcher"}), data={"engineer": "wang"}
    )
    desk.transition(ticket_id, "accept", actor=Actor("wang", {"engineer"}))
    clock.now += timedelta(minutes=10)
    desk.reply(ticket_id, author="wang")
    desk.transition(ticket_id, "arrive", actor=Actor("wang", {"engineer"}))
    desk.transition(
        ticket_id, "wait_parts", actor=Actor("wang", {"engineer"}), data={"parts": ["motor"]}
    )


def test_first_tick_after_a_schema_4_migration_rederives_the_marks(
    tmp_path: Path, kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "v4.db"
    clock = kit.Clock(datetime(2026, 10, 15, 9, 30, tzinfo=kit.SH))
    horizon = clock.now + timedelta(days=5)
    desk = kit.make_desk(path, clock, kit.Outbox(), rules={"rules": []})
    for n, priority in enumerate(["urgent", "normal", "normal"]):
        desk.open_ticket(
            "repair", channel="phone", fields=kit.FIELDS, ticket_id=f"BX-{n}", priority=priority
        )
    desk.open_ticket("feedback", channel="web", ticket_id="FB-1")  # no SLA policy
    expected = _listed(desk, horizon)
    assert [ticket_id for ticket_id, _ in expected] == ["BX-0", "BX-1", "BX-2"]
    desk.store.close()
    connection = sqlite3.connect(path, isolation_level=None)
    drop_schema_5(connection)  # the file as csmkit wrote it at schema 4
    connection.close()

    caplog.set_level(logging.INFO, logger="csmkit.desk")
    again = kit.make_desk(path, clock, kit.Outbox(), rules={"rules": []})
    assert _listed(again, horizon) == []  # migrated: no marks yet
    again.tick(clock.now)
    assert _listed(again, horizon) == expected
    assert sum(REDERIVED in r.getMessage() for r in caplog.records) == 1
    again.tick(clock.now + timedelta(minutes=1))  # once: later ticks do not look again
    assert sum(REDERIVED in r.getMessage() for r in caplog.records) == 1
    again.store.close()

    caplog.clear()
    restarted = kit.make_desk(path, clock, kit.Outbox(), rules={"rules": []})
    restarted.tick(clock.now + timedelta(minutes=2))  # marks are right: no re-index
    assert not [r for r in caplog.records if REDERIVED in r.getMessage()]
    assert _listed(restarted, horizon) == expected
    restarted.store.close()


def test_open_tickets_without_a_running_clock_do_not_trigger_a_reindex(
    tmp_path: Path, kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "d.db"
    clock = kit.Clock(datetime(2026, 10, 15, 9, 30, tzinfo=kit.SH))
    desk = kit.make_desk(path, clock, kit.Outbox(), rules={"rules": []})
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="BX-1")
    _paused(desk, clock, "BX-1")
    timeline = desk.timeline("BX-1")
    assert timeline.ticket.category.value == "on_hold"
    assert committed_due(timeline, desk.types, desk.calendar) is None  # legitimately none
    desk.store.close()

    caplog.set_level(logging.INFO, logger="csmkit.desk")
    restarted = kit.make_desk(path, clock, kit.Outbox(), rules={"rules": []})
    restarted.tick(clock.now)
    assert not [r for r in caplog.records if REDERIVED in r.getMessage()]
    restarted.store.close()
