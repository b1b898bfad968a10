"""Pull-mode work queue (priority, age, aging) and the fairness report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.errors import RoutingError
from csmkit.routing import Agent, RoutingState, WorkQueue, fairness_report, gini
from csmkit.routing._decision import Decision
from csmkit.timeline import Priority, Ticket, TicketCreated

UTC = timezone.utc
T0 = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
RANKS = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


def ticket(ticket_id: str, priority: str = "normal", region: str = "east") -> Ticket:
    return Ticket.created(
        TicketCreated(
            ticket_id=ticket_id,
            at=T0,
            type="repair",
            channel="email",
            priority=priority,
            fields={"region": region},
        )
    )


entries_st = st.lists(
    st.tuples(st.sampled_from(list(RANKS)), st.integers(0, 600), st.sampled_from(["east", "west"])),
    max_size=25,
)


@settings(max_examples=80, deadline=None)
@given(entries=entries_st, aging=st.sampled_from([None, 30, 90]), later=st.integers(0, 900))
def test_order_matches_reference(
    entries: list[tuple[str, int, str]], aging: int | None, later: int
) -> None:
    queue = WorkQueue(aging=None if aging is None else timedelta(minutes=aging))
    now = T0 + timedelta(minutes=later)
    reference = []
    for i, (priority, minute, region) in enumerate(entries):
        at = T0 + timedelta(minutes=minute)
        queue = queue.add(
            ticket(f"T{i:02d}", priority, region),
            at=at,
            target="agent.region == ticket.fields.region",
        )
        rank = RANKS[priority]
        if aging is not None and now > at:
            rank = min(3, rank + int((now - at).total_seconds() // (aging * 60)))
        reference.append((-rank, at, f"T{i:02d}", region))
    reference.sort()
    assert [e.ticket.id for e in queue.ordered(now)] == [r[2] for r in reference]
    west = Agent(id="w", attributes={"region": "west"}, capacity=5)
    best = queue.next_for(west, now)
    expected = next((r[2] for r in reference if r[3] == "west"), None)
    assert (best.ticket.id if best else None) == expected
    assert len(queue) == len(entries)


def test_aging_lifts_old_low_ticket_and_capacity_blocks() -> None:
    queue = WorkQueue(aging=timedelta(hours=1))
    half_past = T0 + timedelta(hours=1, minutes=30)
    queue = queue.add(ticket("old", "low"), at=T0).add(ticket("new", "high"), at=half_past)
    # at 1.5 h the low ticket has aged to normal only
    assert queue.next_for(Agent(id="a", capacity=1), half_past).ticket.id == "new"  # type: ignore[union-attr]
    # after 3 h both are urgent and the older one goes first
    assert queue.next_for(Agent(id="a", capacity=1), T0 + timedelta(hours=3)).ticket.id == "old"  # type: ignore[union-attr]
    full = RoutingState().with_load("a", "email", 1)
    assert queue.next_for(Agent(id="a", capacity=1), T0, state=full) is None
    assert queue.next_for(Agent(id="a", capacity=1, presence="away"), T0) is None
    assert "old" not in queue.remove("old")
    with pytest.raises(RoutingError, match="already queued"):
        queue.add(ticket("old"), at=T0)
    with pytest.raises(RoutingError, match="'nope' is not queued"):
        queue.remove("nope")
    assert queue.effective_priority(next(iter(queue.ordered(T0))), T0) == Priority.HIGH


def _decision(agent: str | None, minute: int) -> Decision:
    return Decision(
        ticket_id=f"T{minute}",
        at=T0 + timedelta(minutes=minute),
        agent=agent,
        channel="email",
        customer_id=None,
        rule="default",
        step=0,
        group=None,
        target=None,
        strategy="round_robin",
        priority="normal",
        waiting_since=T0,
        next_escalation_at=None,
        candidates=(),
        removed={},
    )


@given(st.lists(st.integers(0, 50), max_size=30))
def test_gini_matches_mean_absolute_difference(values: list[int]) -> None:
    n, total = len(values), sum(values)
    expected = (
        0.0
        if n == 0 or total == 0
        else (sum(abs(a - b) for a in values for b in values) / (2 * n * total))
    )
    assert gini(values) == pytest.approx(expected)


def test_fairness_report() -> None:
    decisions = [_decision("a", 0), _decision("b", 5), _decision("a", 10), _decision(None, 11)]
    state = RoutingState().with_load("a", "email", 2).with_load("b", "email", 1)
    report = fairness_report(
        decisions, now=T0 + timedelta(minutes=20), agents=["a", "b", "c"], state=state
    )
    assert dict(report.assignments) == {"a": 2, "b": 1, "c": 0}
    assert report.queued == 1
    assert report.assignment_spread == 2
    assert report.load_spread == 2
    assert report.gini == pytest.approx(gini([2, 1, 0]))
    assert report.since_last_spread == timedelta(minutes=5)
    assert report.to_dict()["since_last_seconds"] == {"a": 600.0, "b": 900.0}
    with pytest.raises(RoutingError, match="gini"):
        gini([-1, 2])
