"""The desk's routing history kept incrementally: an assignment that arrives out of the
canonical order is inserted at its place, giving exactly the state (and digest) of a
rebuild, without one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.desk import _routing_digest
from csmkit.desk._routing import RoutingHistory
from csmkit.timeline import (
    Assigned,
    Event,
    StatusChanged,
    TicketCreated,
    Timeline,
    Unassigned,
)

START = datetime(2026, 10, 15, 2, 0, tzinfo=timezone.utc)
AGENTS = ("ann", "bob", "cai", "dee")


class CountingHistory(RoutingHistory):
    """A history that counts its rebuilds (the O(history) path)."""

    def __init__(self) -> None:
        super().__init__()
        self.rebuilds = 0

    def _rebuild(self) -> None:
        self.rebuilds += 1
        super()._rebuild()


def _timeline(ticket_id: str, spec: Any) -> list[Event]:
    """The events of one ticket: created, then assignments, unassignments, closures and
    reopenings, each a few minutes (often none) after the previous one."""
    created_after, channel, customer, ops = spec
    at = START + timedelta(minutes=created_after)
    events: list[Event] = [
        TicketCreated(ticket_id=ticket_id, at=at, type="job", channel=channel, customer_id=customer)
    ]
    status, assignee = "new", None
    for op, agent, minutes in ops:
        at += timedelta(minutes=minutes)
        if op == "assign":
            events.append(Assigned(ticket_id=ticket_id, at=at, agent=agent))
            assignee = agent
        elif op == "unassign" and assignee is not None:
            events.append(Unassigned(ticket_id=ticket_id, at=at, agent=assignee))
            assignee = None
        elif op == "close" and status != "done":
            events.append(
                StatusChanged(
                    ticket_id=ticket_id,
                    at=at,
                    from_status=status,
                    to_status="done",
                    category="solved",
                )
            )
            status = "done"
        elif op == "reopen" and status == "done":
            events.append(
                StatusChanged(
                    ticket_id=ticket_id,
                    at=at,
                    from_status=status,
                    to_status="working",
                    category="open",
                )
            )
            status = "working"
    return events


TICKET = st.tuples(
    st.integers(0, 3),  # minutes after START it is created: equal instants are common
    st.sampled_from(["phone", "chat"]),
    st.sampled_from([None, "c0", "c1", "c2"]),
    st.lists(
        st.tuples(
            st.sampled_from(["assign", "assign", "unassign", "close", "reopen"]),
            st.sampled_from(AGENTS),
            st.sampled_from([0, 0, 1, 2]),
        ),
        max_size=8,
    ),
)
# Ids in random order against creation instants, so equal instants meet ids in both orders.
TICKETS = st.dictionaries(st.sampled_from([f"T{k}" for k in range(9)]), TICKET, max_size=7)


def _reference(seen: dict[str, list[Event]]) -> RoutingHistory:
    """A fresh history that observed ``seen`` and then rebuilt (the reference)."""
    history = RoutingHistory()
    for ticket_id, events in seen.items():
        history.observe_events(ticket_id, events)
    history._rebuild()
    return history


@settings(max_examples=200)
@given(TICKETS, st.data())
def test_kept_state_equals_a_rebuild_in_any_order_and_interleaving(
    tickets: dict[str, Any], data: st.DataObject
) -> None:
    timelines = {ticket_id: _timeline(ticket_id, spec) for ticket_id, spec in tickets.items()}
    ids = sorted(timelines)
    history = CountingHistory()
    seen: dict[str, list[Event]] = {}
    shortened = False
    # Observe prefixes, extensions and whole timelines, interleaved in a random order.
    steps = data.draw(
        st.lists(st.tuples(st.sampled_from(ids), st.integers(0, 10)), max_size=30)
        if ids
        else st.just([])
    )
    for ticket_id, length in [*steps, *((t, 99) for t in data.draw(st.permutations(ids)))]:
        events = timelines[ticket_id][: max(1, length)]
        if len(events) < len(seen.get(ticket_id, ())):
            if not data.draw(st.booleans(), label="shorten"):
                continue
            shortened = True  # the history got shorter: a rebuild is allowed
        if data.draw(st.booleans(), label="as timeline"):
            history.observe(Timeline(events))
        else:
            history.observe_events(ticket_id, events)
        seen[ticket_id] = events
        reference = _reference(seen)
        assert history.state().to_dict() == reference.state().to_dict()
        assert history.digest() == reference.digest()
    if not shortened:
        assert history.rebuilds == 0


def _single(ticket_id: str, at: datetime, agent: str, customer: str | None = None) -> Timeline:
    return Timeline(
        [
            TicketCreated(
                ticket_id=ticket_id, at=at, type="job", channel="phone", customer_id=customer
            ),
            Assigned(ticket_id=ticket_id, at=at, agent=agent),
        ]
    )


@pytest.mark.parametrize("tail", [1, 5])
def test_an_early_assignment_in_a_large_history_is_inserted_not_rebuilt(
    monkeypatch: pytest.MonkeyPatch, tail: int
) -> None:
    count = 3_000
    history = CountingHistory()
    for k in range(count):
        history.observe(
            _single(f"T{k:05d}", START + timedelta(seconds=k), f"a{k % 500:03d}", f"c{k % 7}")
        )
    history.state()
    renumbered: list[str] = []
    real = _routing_digest.Tracked.set_last

    def set_last(self: Any, agent: str, at: datetime, sequence: int) -> None:
        renumbered.append(agent)
        real(self, agent, at, sequence)

    monkeypatch.setattr(_routing_digest.Tracked, "set_last", set_last)
    # Earlier than the latest ``tail`` assignments, from a writer whose clock is behind.
    late = _single("Z-late", START + timedelta(seconds=count - tail - 0.5), "a042", "c3")
    history.observe(late)
    assert history.rebuilds == 0
    # the work: the agents whose last assignment is after it, and the late one's own
    assert len(renumbered) == tail + 1
    timelines = [
        *(
            _single(f"T{k:05d}", START + timedelta(seconds=k), f"a{k % 500:03d}", f"c{k % 7}")
            for k in range(count)
        ),
        late,
    ]
    reference = RoutingHistory()
    for timeline in reversed(timelines):
        reference.observe(timeline)
    reference._rebuild()
    assert history.state() == reference.state()
    assert history.digest() == reference.digest()
    state = history.state()
    assert state.sequence == count + 1
    assert state.last_assignment_key("a042")[2] == count - tail + 1
