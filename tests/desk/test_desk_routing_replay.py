"""Routing in the desk over random agent pools and ticket sequences.

* ``desk.explain(ticket_id)`` is what ``router.route(..., explain="full")`` returned at
  the moment of the decision, for random pools (skills, regions, groups, capacities,
  presence), rules (every built-in strategy, escalation steps) and operations (opening,
  routing, named assignments, closing, reopening, time passing) — also from a desk
  started afresh on the same store.
* A desk restarted on the same SQLite store makes the same next decisions as a desk that
  never restarted.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmkit.desk import ServiceDesk, TicketType
from csmkit.routing import Agent, AgentPool, Router, RoutingRules
from csmkit.storage import TicketStore, open_store
from csmkit.timeline import Assigned, Timeline, Unassigned
from csmkit.workflow import Actor, Workflow

T0 = datetime(2026, 10, 15, 2, 0, tzinfo=timezone.utc)
CHANNELS = ("phone", "chat")
REGIONS = ("east", "west")

JOB = Workflow.from_dict(
    {
        "name": "job",
        "states": [
            {"name": "new", "category": "new", "initial": True},
            {"name": "done", "category": "solved"},
        ],
        "transitions": [
            {"name": "close", "sources": "new", "target": "done"},
            {"name": "reopen", "sources": "done", "target": "new"},
        ],
        "form": {"fields": [{"name": "region", "type": "choice", "choices": list(REGIONS)}]},
    }
)

TARGETS = [
    None,
    "agent.skills.hvac >= 2",
    "agent.region == ticket.fields.region",
    "agent.skills.hvac >= 2 and agent.region == ticket.fields.region",
]
STRATEGIES = [
    "least_loaded",
    "round_robin",
    "most_spare_capacity",
    "best_skill",
    {"name": "sticky", "fallback": "round_robin"},
    {"name": "random", "seed": 3},
]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@st.composite
def agents(draw: st.DrawFn, i: int) -> Agent:
    return Agent(
        id=f"a{i:02d}",
        groups=draw(st.sets(st.sampled_from(["field", "vip"]), max_size=2)),
        skills=draw(st.dictionaries(st.sampled_from(["hvac", "gas"]), st.integers(0, 5))),
        attributes={"region": draw(st.sampled_from(REGIONS))},
        capacity={"phone": draw(st.integers(0, 3)), "chat": draw(st.integers(1, 3))},
        presence=draw(st.sampled_from(["available", "available", "away"])),
    )


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": "urgent",
        "when": 'ticket.priority == "urgent"',
        "strategy": draw(st.sampled_from(STRATEGIES)),
    }
    target = draw(st.sampled_from(TARGETS))
    if target is not None:
        rule["target"] = target
    group = draw(st.sampled_from([None, "field"]))
    if group is not None:
        rule["group"] = group
    if draw(st.booleans()):
        rule["steps"] = [{"after": "30m", "widen": ["*"]}, {"after": "2h", "group": "vip"}]
    default = {"strategy": draw(st.sampled_from(STRATEGIES))}
    return {"rules": [rule], "default": default}


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["open", "open", "route", "route", "route", "named", "unassign", "close", "reopen"]
        ),
        st.integers(0, 9),
        st.sampled_from([0, 0, 1, 40, 150]),  # minutes: equal instants, escalation steps
    ),
    min_size=6,
    max_size=30,
)


# the automation routes some new tickets itself, some twice in one run (its decisions
# are explained too)
AUTO = {
    "rules": [
        {
            "id": "auto",
            "on": "created",
            "when": 'ticket.fields.region == "east" and ticket.priority == "urgent"',
            "actions": [{"do": "assign"}],
        },
        {
            "id": "twice",
            "on": "created",
            "when": 'ticket.fields.region == "west" and ticket.priority == "urgent"',
            "actions": [{"do": "assign"}, {"do": "escalate", "release": True}],
        },
    ]
}


def make_desk(store: TicketStore, clock: Clock, routing: dict[str, Any], pool: AgentPool) -> Any:
    return ServiceDesk(
        store,
        types=[TicketType("job", JOB)],
        clock=clock,
        router=Router(RoutingRules.from_dict(routing)),
        agents=pool,
        rules=AUTO,
    )


def run(
    desk: ServiceDesk, clock: Clock, ops: list[tuple[str, int, int]], tickets: list[str]
) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """Apply ``ops``; returns what each did and, per ticket, the full explanation a
    router gave just before the desk routed it (its latest routed decision)."""
    router, pool = desk.router, desk.agents
    assert router is not None and pool is not None
    done: list[Any] = []
    expected: dict[str, dict[str, Any]] = {}
    for op, n, minutes in ops:
        clock.now += timedelta(minutes=minutes)
        if op == "open" or not tickets:
            ticket_id = f"T-{len(tickets):03d}"
            state = desk.routing_state()
            desk.open_ticket(
                "job",
                channel=CHANNELS[n % 2],
                customer_id=f"c-{n % 3}",
                priority="urgent" if n % 3 == 0 else "normal",
                fields={"region": REGIONS[n % 2]},
                ticket_id=ticket_id,
            )
            tickets.append(ticket_id)
            timeline = desk.timeline(ticket_id)
            routed = [
                i for i, e in enumerate(timeline[:]) if isinstance(e, Assigned) and e.decision
            ]
            # a rule routed it (perhaps twice, the second time against the state after its
            # first decision): what a full route said then
            for k, i in enumerate(routed):
                event = timeline[i]
                assert isinstance(event, Assigned)
                since = None if k == 0 else event.at  # an escalation's clock starts at it
                full = router.route(
                    Timeline(timeline[:i]).ticket, pool, state, event.at, since=since
                )
                assert full.agent == event.agent
                state = state.apply(full)
                expected[ticket_id] = full.to_dict()
            done.append(("open", ticket_id, [e.to_dict() for e in timeline]))
            continue
        ticket_id = tickets[-1 - n % min(3, len(tickets))]  # the latest few: they interact
        ticket = desk.ticket(ticket_id)
        closed = ticket.category.value == "solved"
        if op == "route" and not closed:
            unassigned = desk.timeline(ticket_id).last(Unassigned)
            full = router.route(
                ticket,
                pool,
                desk.routing_state(),
                max(clock.now, ticket.updated_at),
                since=None if unassigned is None else unassigned.at,
                explain="full",
            )
            after = desk.assign(ticket_id)
            if full.agent is not None:
                assert after.assignee == full.agent
                expected[ticket_id] = full.to_dict()
            last = desk.timeline(ticket_id)[-1]
            done.append(("route", ticket_id, last.to_dict() if full.agent else None))
        elif op == "named" and not closed:
            agent = sorted(a.id for a in pool)[n % len(pool)]
            done.append(("named", ticket_id, desk.assign(ticket_id, agent).assignee))
        elif op == "unassign" and ticket.assignee is not None:
            # the desk has no public unassign: its commit loop, as an operation would
            desk._tickets._add(
                ticket_id,
                lambda timeline, at: Unassigned(
                    ticket_id=timeline.ticket_id, at=at, agent=timeline.ticket.assignee
                ),
            )
            done.append(("unassign", ticket_id))
        elif op == "close" and not closed:
            desk.transition(ticket_id, "close", actor=Actor("ops"))
            done.append(("close", ticket_id))
        elif op == "reopen" and closed:
            desk.transition(ticket_id, "reopen", actor=Actor("ops"))
            done.append(("reopen", ticket_id))
    return done, expected


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(*[agents(i) for i in range(n)])), rules(), OPS)
def test_explain_is_the_full_route_at_decision_time(
    pool_agents: tuple[Agent, ...], routing: dict[str, Any], ops: list[tuple[str, int, int]]
) -> None:
    pool = AgentPool(pool_agents)
    clock = Clock(T0)
    store = open_store("memory://")
    desk = make_desk(store, clock, routing, pool)
    _, expected = run(desk, clock, ops, [])
    afresh = make_desk(store, clock, routing, pool)  # derives everything from the store
    for ticket_id, decision in expected.items():
        assert desk.explain(ticket_id).to_dict() == decision
        assert afresh.explain(ticket_id).to_dict() == decision
    assert afresh.routing_state() == desk.routing_state()


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(2, 5).flatmap(lambda n: st.tuples(*[agents(i) for i in range(n)])),
    rules(),
    OPS,
    OPS,
)
def test_a_restarted_desk_decides_as_one_that_never_stopped(
    tmp_path_factory: Any,
    pool_agents: tuple[Agent, ...],
    routing: dict[str, Any],
    before: list[tuple[str, int, int]],
    after: list[tuple[str, int, int]],
) -> None:
    pool = AgentPool(pool_agents)
    folder = tmp_path_factory.mktemp("restart")
    # two stores given the same history: one desk keeps running, the other restarts
    steady_clock, restart_clock = Clock(T0), Clock(T0)
    steady = make_desk(open_store(f"sqlite:///{folder / 'a.db'}"), steady_clock, routing, pool)
    stopped = make_desk(open_store(f"sqlite:///{folder / 'b.db'}"), restart_clock, routing, pool)
    steady_tickets: list[str] = []
    restart_tickets: list[str] = []
    assert (
        run(steady, steady_clock, before, steady_tickets)[0]
        == run(stopped, restart_clock, before, restart_tickets)[0]
    )
    stopped.store.close()
    restarted = make_desk(open_store(f"sqlite:///{folder / 'b.db'}"), restart_clock, routing, pool)
    going_on, _ = run(steady, steady_clock, after, steady_tickets)
    assert run(restarted, restart_clock, after, restart_tickets)[0] == going_on
    assert restarted.routing_state() == steady.routing_state()
    for ticket_id in steady_tickets:
        routed = steady.timeline(ticket_id).last(Assigned)
        if routed is not None and routed.decision is not None:
            assert restarted.explain(ticket_id).to_dict() == steady.explain(ticket_id).to_dict()
    steady.store.close()
    restarted.store.close()


def test_a_decision_after_an_unassign_counts_from_it() -> None:
    pool = AgentPool([Agent(id=i, capacity={"phone": 3, "chat": 3}) for i in ("a0", "a1")])
    routing = {
        "rules": [],
        "default": {"strategy": "least_loaded", "steps": [{"after": "30m", "widen": ["*"]}]},
    }
    clock = Clock(T0)
    desk = make_desk(open_store("memory://"), clock, routing, pool)
    ops = [("open", 2, 0), ("route", 0, 0), ("unassign", 0, 40), ("route", 0, 10)]
    _, expected = run(desk, clock, ops, [])
    explained = desk.explain("T-000")
    assert explained.waiting_since == T0 + timedelta(minutes=40)
    assert explained.step == 0  # 10 minutes after the unassign, not 50 after creation
    assert explained.to_dict() == expected["T-000"]
