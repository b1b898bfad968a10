"""The desk's SLA due marks: every committed batch carries one, and the store's due index
equals a from-scratch evaluation of every timeline, also after a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmkit.desk import ServiceDesk
from csmkit.desk._due import committed_due
from csmkit.errors import StoreArgumentError
from csmkit.storage import SlaDue
from csmkit.workflow import Actor

STEPS: list[tuple[str, Actor, dict[str, Any]]] = [
    ("dispatch", Actor("d1", {"dispatcher"}), {"engineer": "wang"}),
    ("accept", Actor("wang", {"engineer"}), {}),
    ("arrive", Actor("wang", {"engineer"}), {}),
    ("repair", Actor("wang", {"engineer"}), {"repair_notes": "更换电容"}),
    ("follow_up", Actor("kf1", {"agent"}), {}),
    ("close", Actor("kf1", {"agent"}), {}),
]


def _start(kit: Any) -> datetime:
    return datetime(2026, 10, 15, 9, 30, tzinfo=kit.SH)


def _every_ticket(desk: ServiceDesk) -> list[str]:
    return sorted(timeline.ticket_id for timeline in desk.timelines())


def _expected_due(desk: ServiceDesk, before: datetime) -> list[tuple[datetime, str]]:
    """Due marks by evaluating every timeline from scratch."""
    found = []
    for ticket_id in _every_ticket(desk):
        due = committed_due(desk.timeline(ticket_id), desk.types, desk.calendar)
        if due is not None and due.at < before:
            found.append((due.at, ticket_id))
    return sorted(found)


def _listed(desk: ServiceDesk, before: datetime) -> list[tuple[datetime, str]]:
    found: list[tuple[datetime, str]] = []
    cursor = None
    while True:
        page = desk.due(before, limit=3, cursor=cursor)
        for item in page.items:
            assert item.due is not None
            found.append((item.due.at, item.ticket_id))
        cursor = page.next_cursor
        if cursor is None:
            return found


def _check(desk: ServiceDesk, horizons: list[datetime]) -> None:
    marks = {s.ticket_id: s.due for s in desk.queue(category=None, limit=1000).items}
    for ticket_id in _every_ticket(desk):
        assert marks[ticket_id] == committed_due(
            desk.timeline(ticket_id), desk.types, desk.calendar
        ), ticket_id
    for before in horizons:
        assert _listed(desk, before) == _expected_due(desk, before)


OPS = st.lists(
    st.tuples(
        st.integers(0, 3),  # ticket
        st.sampled_from(["open", "reply", "note", "step", "tick"]),
        st.integers(0, 240),  # minutes the clock moves first
        st.booleans(),  # urgent
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_due_marks_equal_a_from_scratch_evaluation_and_survive_restart(
    tmp_path_factory: Any, kit: Any, ops: list[tuple[int, str, int, bool]]
) -> None:
    path = tmp_path_factory.mktemp("due") / "desk.db"
    clock = kit.Clock(_start(kit))
    desk = kit.make_desk(path, clock, kit.Outbox())
    progress: dict[str, int] = {}
    for number, op, minutes, urgent in ops:
        clock.now += timedelta(minutes=minutes)
        ticket_id = f"BX-{number}"
        if op == "tick":
            desk.tick()
        elif ticket_id not in progress or op == "open":
            if ticket_id not in progress:
                desk.open_ticket(
                    "repair",
                    channel="phone",
                    fields=kit.FIELDS,
                    ticket_id=ticket_id,
                    priority="urgent" if urgent else "normal",
                    customer_id="C-1",
                )
                progress[ticket_id] = 0
        elif op == "reply":
            desk.reply(ticket_id, author="wang")
        elif op == "note":
            desk.note(ticket_id, author="wang")
        elif progress[ticket_id] < len(STEPS):
            name, actor, data = STEPS[progress[ticket_id]]
            desk.transition(ticket_id, name, actor=actor, data=data)
            progress[ticket_id] += 1
    horizons = [clock.now + timedelta(hours=h) for h in (-8, 0, 3, 30, 24 * 30)]
    _check(desk, horizons)
    desk.store.close()
    again = kit.make_desk(path, kit.Clock(clock.now), kit.Outbox())
    try:
        _check(again, horizons)
    finally:
        again.store.close()


def test_listings_use_the_index(tmp_path: Any, kit: Any) -> None:
    clock = kit.Clock(_start(kit))
    desk = kit.make_desk("memory://", clock, kit.Outbox(), rules={"rules": []})
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="U", priority="urgent")
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="N")
    desk.open_ticket("feedback", channel="web", ticket_id="F")
    (urgent,) = desk.due(clock.now + timedelta(hours=3)).items
    # first response within 2 business hours of 09:30
    assert urgent.ticket_id == "U"
    assert urgent.due == SlaDue(
        at=datetime(2026, 10, 15, 11, 30, tzinfo=kit.SH), target="first_response"
    )
    assert [s.ticket_id for s in desk.due(clock.now + timedelta(days=3)).items] == ["U", "N"]
    assert desk.counts("type") == {"feedback": 1, "repair": 2}
    assert sorted(s.ticket_id for s in desk.queue(type="repair").items) == ["N", "U"]
    # a reply stops first_response: the next mark is the resolution target's
    clock.now += timedelta(minutes=10)
    desk.reply("U", author="wang")
    (mark,) = [s.due for s in desk.queue().items if s.ticket_id == "U"]
    assert mark is not None and mark.target == "resolution"
    # loading is not how the listings are answered
    desk.store.load = None  # type: ignore[method-assign]
    assert len(desk.due(clock.now + timedelta(days=3)).items) == 2
    assert len(desk.queue().items) == 3


def test_reindex_due_repairs_marks_written_without_one(kit: Any) -> None:
    clock = kit.Clock(_start(kit))
    desk = kit.make_desk("memory://", clock, kit.Outbox(), rules={"rules": []})
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="U", priority="urgent")
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="N")
    assert desk.store.set_due("U", None, version=1)  # as an import would leave it
    assert [s.ticket_id for s in desk.due(clock.now + timedelta(days=3)).items] == ["N"]
    assert desk.reindex_due() == 1
    assert [s.ticket_id for s in desk.due(clock.now + timedelta(days=3)).items] == ["U", "N"]
    assert desk.reindex_due() == 0


def test_due_defaults_to_the_clock(kit: Any) -> None:
    clock = kit.Clock(_start(kit))
    desk = kit.make_desk("memory://", clock, kit.Outbox(), rules={"rules": []})
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="U", priority="urgent")
    assert desk.due().items == ()
    clock.now += timedelta(hours=5)
    assert [s.ticket_id for s in desk.due().items] == ["U"]  # overdue
    with pytest.raises(StoreArgumentError, match="before"):
        desk.due(datetime(2026, 10, 15, 9, 0))
