"""The desk's routing state: cached, updated by its own writes, equal to a re-derivation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmkit.timeline import Timeline
from csmkit.workflow import Actor

NO_RULES: dict[str, Any] = {"rules": []}


def _counting_loads(desk: Any) -> list[str]:
    loads: list[str] = []
    real = desk.store.load

    def load(ticket_id: str) -> Timeline:
        loads.append(ticket_id)
        return real(ticket_id)

    desk.store.load = load
    return loads


OPS = st.lists(
    st.tuples(
        st.sampled_from(["open", "auto", "assign", "unassign", "close", "note"]),
        st.integers(0, 4),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPS)
def test_cached_state_equals_a_fresh_derivation(tmp_path_factory: Any, kit: Any, ops: Any) -> None:
    path = tmp_path_factory.mktemp("route") / "r.db"
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    desk = kit.make_desk(path, clock, kit.Outbox(), rules=NO_RULES)
    desk.routing_state()  # derived once, then kept by the desk's own writes
    opened: list[str] = []
    for op, n in ops:
        clock.now += timedelta(minutes=7)
        if op == "open" or not opened:
            opened.append(f"T-{len(opened)}")
            desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id=opened[-1])
            continue
        ticket_id = opened[n % len(opened)]
        if desk.ticket(ticket_id).category.value == "closed":
            continue
        if op == "auto":
            desk.assign(ticket_id)
        elif op == "assign":
            desk.assign(ticket_id, ["wang", "zhao", "li"][n % 3])
        elif op == "unassign":
            desk.assign(ticket_id, group="engineers")
        elif op == "close":
            desk.transition(
                ticket_id,
                "cancel",
                actor=Actor("d1", {"dispatcher"}),
                data={"cancel_reason": "dup"},
            )
        else:
            desk.note(ticket_id, author="kf")
    loads = _counting_loads(desk)
    cached = desk.routing_state()
    assert loads == []  # served from the cache: no ticket loaded
    restarted = kit.make_desk(path, clock, kit.Outbox(), rules=NO_RULES)
    assert cached == restarted.routing_state() == desk.routing_state(refresh=True)
    desk.store.close()
    restarted.store.close()


def test_operations_do_not_reload_every_open_ticket(kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    desk = kit.make_desk("memory://", clock, kit.Outbox(), rules=NO_RULES)
    for n in range(20):
        desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id=f"T-{n}")
        desk.assign(f"T-{n}")
    loads = _counting_loads(desk)
    desk.assign("T-3")
    desk.note("T-4", author="kf")
    # O(1) tickets per operation, not O(open) (none at all: the desk's timeline cache)
    assert set(loads) <= {"T-3", "T-4"}


def test_a_conflict_with_another_desk_rederives_the_state(tmp_path: Any, kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    path = tmp_path / "two.db"
    first = kit.make_desk(path, clock, kit.Outbox(), rules=NO_RULES)
    second = kit.make_desk(path, clock, kit.Outbox(), rules=NO_RULES)
    first.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="A")
    first.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="B")
    assert first.routing_state().load("wang") == 0
    second.assign("A", "wang")  # first's cache does not know yet
    assert first.routing_state().load("wang") == 0
    # first holds B at version 1 in its timeline cache; second appends B first, so
    # first's append (expected version 1) conflicts, and first decides again
    second.note("B", author="x")
    first.note("B", author="y")
    assert [e.actor for e in first.timeline("B").events[-2:]] == ["x", "y"]
    # the ConcurrencyError showed another writer: the next call re-derives everything
    assert first.routing_state().load("wang") == 1
    assert first.routing_state() == second.routing_state(refresh=True)
