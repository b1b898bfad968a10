"""The fast path (rule dispatch, memoised index sets, heaps) against brute force.

Random sequences of route → apply → release, with agents changing presence and capacity
(a new pool each time, and old pools coming back), states forked from older snapshots and
``RoutingState`` round trips: whatever the history, ``explain="chosen"`` must pick exactly
the agent a brute-force evaluation of every agent picks, and its verdicts must agree with
``explain="full"``; [`Router.pick()`][csmkit.routing.Router.pick] (no explanation) must pick
what ``explain="full"`` picks, with the same rule, step and group.
"""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from hypothesis import event, given, settings
from hypothesis import strategies as st

from csmkit.routing import Agent, AgentPool, Router, RoutingRules, RoutingState
from csmkit.routing._select import RuleIndex
from csmkit.timeline import Ticket, TicketCreated

UTC = timezone.utc
T0 = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
REGIONS = ("east", "north")
CHANNELS = ("phone", "chat")


class Shift:
    def __init__(self, open_: bool) -> None:
        self.open = open_

    def is_open(self, at: datetime) -> bool:
        return self.open

    def add(self, at: datetime, delta: timedelta) -> datetime:
        return at + delta


OPEN, CLOSED = Shift(True), Shift(False)

# (target text, the same test written by hand)
TARGETS: dict[str, Any] = {
    "any": (None, lambda a, t: True),
    "hvac": ("agent.skills.hvac >= 2", lambda a, t: a.skills.get("hvac", -1) >= 2),
    "region": (
        "agent.region == ticket.fields.region",
        lambda a, t: a.attributes["region"] == t.fields.get("region"),
    ),
    "both": (
        "agent.skills.hvac >= 2 and agent.region == ticket.fields.region",
        lambda a, t: (
            a.skills.get("hvac", -1) >= 2 and a.attributes["region"] == t.fields.get("region")
        ),
    ),
    "residual": (  # an ``or`` the indexes cannot answer, after an indexed part
        'agent.region == ticket.fields.region and (agent.skills.hvac > 3 or agent.tier == "a")',
        lambda a, t: (
            a.attributes["region"] == t.fields.get("region")
            and (a.skills.get("hvac", -1) > 3 or a.attributes["tier"] == "a")
        ),
    ),
}
HEAP_STRATEGIES = ("least_loaded", "round_robin", "most_spare_capacity", "best_skill")
OTHER_STRATEGIES: tuple[Any, ...] = (
    {"name": "random", "seed": 3},
    {"name": "sticky", "fallback": "least_loaded"},
)


def used(agent: Agent, loads: dict[str, int]) -> int:
    return sum(count * agent.costs.get(ch, 1) for ch, count in loads.items())


def capacity_of(agent: Agent, channel: str, loads: dict[str, int]) -> tuple[int, int]:
    """(limit, used) on what ``channel`` draws from."""
    if isinstance(agent.capacity, int):
        return agent.capacity, used(agent, loads)
    return agent.capacity.get(channel, 0), loads.get(channel, 0)


def brute_score(
    strategy: str, agent: Agent, state: RoutingState, channel: str, target: str
) -> tuple[float, ...]:
    loads = dict(state.loads(agent.id))
    limit, taken = capacity_of(agent, channel, loads)
    ratio = taken / limit if limit else 1.0
    if strategy == "least_loaded":
        return (ratio,)
    if strategy == "most_spare_capacity":
        return (-(limit - taken),)
    if strategy == "best_skill":  # proficiency in the skills the target names
        named = target in ("hvac", "both", "residual")
        return (-agent.skills.get("hvac", 0) if named else 0, ratio)
    last = state.last_assigned(agent.id)
    if last is None:
        return (0, 0.0, 0)
    sequence = state.to_dict()["last_assigned"][agent.id][1]
    return (1, last.timestamp(), sequence)


def brute_eligible(
    agent: Agent, ticket: Ticket, check: Any, state: RoutingState, exclude: set[str]
) -> bool:
    if agent.id in exclude or agent.presence != "available" or agent.shift is CLOSED:
        return False
    if "field" not in agent.groups or not check(agent, ticket):
        return False
    loads = dict(state.loads(agent.id))
    if isinstance(agent.capacity, int):
        return used(agent, loads) + agent.costs.get(ticket.channel, 1) <= agent.capacity
    return loads.get(ticket.channel, 0) + 1 <= agent.capacity.get(ticket.channel, 0)


@st.composite
def agent_st(draw: st.DrawFn, i: int) -> Agent:
    unified = draw(st.booleans())
    return Agent(
        id=f"a{i:02d}",
        groups=draw(st.sampled_from([{"field"}, {"field", "desk"}, {"field"}, {"desk"}])),
        skills=draw(st.dictionaries(st.just("hvac"), st.integers(0, 5))),
        attributes={"region": draw(st.sampled_from(REGIONS)), "tier": draw(st.sampled_from("ab"))},
        capacity=draw(st.integers(0, 6))
        if unified
        else draw(st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 4), min_size=1)),
        costs=draw(st.dictionaries(st.sampled_from(CHANNELS), st.integers(1, 2)))
        if unified
        else {},
        presence=draw(st.sampled_from(["available", "available", "available", "offline"])),
        shift=draw(st.sampled_from([None, None, OPEN, CLOSED])),
    )


ROUTE = st.tuples(
    st.just("route"),
    st.sampled_from(REGIONS),
    st.sampled_from(CHANNELS),
    st.sampled_from(["c1", "c2", None]),
    st.sampled_from([True, True, True, False]),  # apply the decision
    st.sets(st.integers(0, 9), max_size=2),  # excluded agents
)
OTHER = st.one_of(
    st.tuples(st.just("release"), st.integers(0, 99)),
    st.tuples(st.just("presence"), st.integers(0, 99), st.sampled_from(["available", "away"])),
    st.tuples(st.just("capacity"), st.integers(0, 99), st.integers(0, 4)),
    st.tuples(st.just("back"), st.integers(0, 99)),  # continue from an older snapshot
    st.tuples(st.just("old_pool"), st.integers(0, 99)),  # a previous pool comes back
    st.tuples(st.just("reload"), st.booleans()),  # from_dict or pickle: a new lineage
)
OPS = st.integers(0, 2).flatmap(lambda i: OTHER if i == 0 else ROUTE)  # 2/3 route


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    target=st.sampled_from(sorted(TARGETS)),
    strategy=st.sampled_from(HEAP_STRATEGIES + OTHER_STRATEGIES),
    ops=st.lists(OPS, min_size=10, max_size=60),
)
def test_chosen_matches_brute_force(
    data: st.DataObject, target: str, strategy: Any, ops: list[tuple[Any, ...]]
) -> None:
    agents = [data.draw(agent_st(i)) for i in range(data.draw(st.integers(1, 10)))]
    text, check = TARGETS[target]
    rule: dict[str, Any] = {"group": "field", "strategy": strategy}
    if text is not None:
        rule["target"] = text
    router = Router(
        RoutingRules.from_dict(
            {"rules": [{"name": "other", "when": 'ticket.type == "x"'}], "default": rule}
        )
    )
    pools = [AgentPool(agents)]
    history = [RoutingState()]
    state = history[0]
    for k, op in enumerate(ops):
        now = T0 + timedelta(minutes=k // 2)  # pairs of equal instants: sequence breaks ties
        kind = op[0]
        if kind == "route":
            _, region, channel, customer, apply, exclude_ix = op
            exclude = {agents[i].id for i in exclude_ix if i < len(agents)}
            ticket = Ticket.created(
                TicketCreated(
                    ticket_id=f"T{k}",
                    at=now,
                    type="repair",
                    channel=channel,
                    customer_id=customer,
                    fields={"region": region},
                )
            )
            pool = pools[-1]
            # Router.pick (no explanation) shares the heaps: asked before or after
            pick_first = data.draw(st.booleans(), label="pick first")
            if pick_first:
                picked = router.pick(ticket, pool, state, now, exclude=exclude)
            fast = router.route(ticket, pool, state, now, exclude=exclude, explain="chosen")
            if not pick_first:
                picked = router.pick(ticket, pool, state, now, exclude=exclude)
            full = router.route(ticket, agents, state, now, exclude=exclude)
            assert (picked.agent, picked.rule, picked.step, picked.group) == (
                full.agent,
                full.rule,
                full.step,
                full.group,
            )
            assert (picked.channel, picked.customer_id, picked.at) == (
                full.channel,
                full.customer_id,
                full.at,
            )
            assert picked.next_escalation_at == full.next_escalation_at
            assert router.pick(ticket, agents, state, now, exclude=exclude) == picked
            eligible = [a for a in agents if brute_eligible(a, ticket, check, state, exclude)]
            if isinstance(strategy, str):
                best = min(
                    ((brute_score(strategy, a, state, channel, target), a.id) for a in eligible),
                    default=None,
                )
                assert fast.agent == (None if best is None else best[1])
            else:
                assert (fast.agent is None) == (not eligible)
            assert fast.agent == full.agent
            # chosen-mode verdicts agree with the full explanation, agent by agent
            for verdict in fast.candidates:
                assert full.verdict(verdict.agent) == verdict
            assert sum(fast.removed.values()) + sum(
                1 for v in fast.candidates if v.eligible
            ) == len(agents)
            assert fast.tied == (() if fast.agent is None else (fast.agent,))
            event("assigned" if fast.agent else "queued")
            if apply:
                state = state.apply(picked if pick_first else fast)
        elif kind == "release":
            loaded = [(a.id, ch) for a in agents for ch in CHANNELS if state.load(a.id, ch)]
            if loaded:
                state = state.release(*loaded[op[1] % len(loaded)])
        elif kind in ("presence", "capacity"):
            i = op[1] % len(agents)
            changes = {"presence": op[2]} if kind == "presence" else {"capacity": op[2]}
            if kind == "capacity" and not isinstance(agents[i].capacity, int):
                changes = {"capacity": dict.fromkeys(CHANNELS, op[2])}
            agents[i] = attrs.evolve(agents[i], **changes)
            pools.append(AgentPool(agents))
        elif kind == "back":
            state = history[op[1] % len(history)]
        elif kind == "old_pool":
            old = pools[op[1] % len(pools)]
            agents = list(old)
            pools.append(old)
        else:
            state = (
                RoutingState.from_dict(state.to_dict())
                if op[1]
                else pickle.loads(pickle.dumps(state))
            )
        history.append(state)


ticket_values = st.one_of(
    st.sampled_from(["x", "y", "1", ""]),
    st.sampled_from([1, 0, True, False, 1.0, 2.5]),
    st.none(),
    st.lists(st.integers(0, 2), max_size=2),
)
WHENS = (
    'ticket.type == "x"',
    'ticket.type == "y"',
    '"y" == ticket.type',
    'ticket.type == "x" and ticket.priority == "high"',
    "ticket.fields.kind == 1",
    "ticket.fields.kind == true",
    'ticket.fields.kind == "1"',
    'ticket.fields.kind == 1 and ticket.fields.flag == "on"',
    'ticket.priority >= "high"',
    'ticket.priority == "urgent"',
    "ticket.fields.flag == null",
)


@settings(max_examples=150, deadline=None)
@given(
    whens=st.lists(st.sampled_from(WHENS), min_size=1, max_size=8),
    type_=st.sampled_from(["x", "y", "z"]),
    priority=st.sampled_from(["low", "normal", "high", "urgent"]),
    kind=ticket_values,
    flag=st.sampled_from(["on", "off", None]),
)
def test_rule_dispatch_matches_select(
    whens: list[str], type_: str, priority: str, kind: object, flag: str | None
) -> None:
    rules = RoutingRules.from_dict(
        {
            "rules": [{"name": f"r{i}", "when": w} for i, w in enumerate(whens)],
            "default": {},
        }
    )
    fields: dict[str, Any] = {"kind": kind}
    if flag is not None:
        fields["flag"] = flag
    ticket = Ticket.created(
        TicketCreated(
            ticket_id="T", at=T0, type=type_, channel="email", priority=priority, fields=fields
        )
    )
    assert RuleIndex(rules).select(ticket) is rules.select(ticket)


def test_heaps_follow_states_backwards_and_across_forks() -> None:
    agents = AgentPool(Agent(id=f"a{i}", groups={"field"}, capacity={"phone": 2}) for i in range(4))
    router = Router(RoutingRules.from_dict({"default": {"strategy": "least_loaded"}}))

    def ticket(k: int) -> Ticket:
        return Ticket.created(TicketCreated(ticket_id=f"T{k}", at=T0, type="r", channel="phone"))

    def both(state: RoutingState, k: int) -> str | None:
        fast = router.route(ticket(k), agents, state, T0, explain="chosen")
        assert fast.agent == router.route(ticket(k), list(agents), state, T0).agent
        return fast.agent

    states = [RoutingState()]
    for k in range(6):  # a0, a1, a2, a3, a0, a1: every agent fills up in turn
        states.append(states[-1].apply(router.route(ticket(k), agents, states[-1], T0)))
    assert both(states[-1], 9) == "a2"
    assert both(states[2], 9) == "a2"  # backwards: a0 and a1 hold one ticket each
    assert both(states[0], 9) == "a0"
    fork = states[3].release("a0", "phone").release("a2", "phone")  # a sibling line
    assert both(fork, 9) == "a0"
    assert both(states[6].release("a3", "phone"), 9) == "a3"
    again = RoutingState.from_dict(states[6].to_dict())  # unrelated lineage: a reset
    assert both(again, 9) == "a2"
