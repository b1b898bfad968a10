"""Router core: eligibility, strategies, explanations, determinism, bad input."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.errors import RoutingError
from csmkit.routing import (
    Agent,
    AgentPool,
    Decision,
    Presence,
    Router,
    RoutingRules,
    RoutingState,
    StrategyRegistry,
    default_registry,
)
from csmkit.timeline import Ticket, TicketCreated

UTC = timezone.utc
T0 = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)


class FixedCalendar:
    """Open always or never: an obviously correct shift for eligibility tests."""

    def __init__(self, open_: bool) -> None:
        self.open = open_

    def is_open(self, at: datetime) -> bool:
        return self.open

    def add(self, at: datetime, delta: timedelta) -> datetime:
        return at + delta


OPEN, CLOSED = FixedCalendar(True), FixedCalendar(False)
REGIONS = ("east", "north", "south")
CHANNELS = ("phone", "chat", "email")
TARGETS = (
    None,
    "agent.skills.hvac >= 3",
    'agent.region == ticket.fields.region and agent.tier == "senior"',
    "agent.skills.hvac >= 2 and agent.region == ticket.fields.region",
    '"zh" in agent.languages and agent.region in ["east", "south"]',
    "agent.skills.plumbing > 1 or agent.tier == 'junior'",
)
STRATEGIES = (
    "round_robin",
    "least_loaded",
    "most_spare_capacity",
    "best_skill",
    "random",
    {"name": "sticky", "fallback": "least_loaded"},
)


def make_ticket(
    ticket_id: str = "T1",
    *,
    channel: str = "phone",
    region: str = "east",
    customer: str | None = "c1",
    at: datetime = T0,
) -> Ticket:
    return Ticket.created(
        TicketCreated(
            ticket_id=ticket_id,
            at=at,
            type="repair",
            channel=channel,
            priority="high",
            fields={"region": region},
            customer_id=customer,
        )
    )


@st.composite
def agents_st(draw: st.DrawFn) -> list[Agent]:
    n = draw(st.integers(1, 12))
    out = []
    for i in range(n):
        unified = draw(st.booleans())
        capacity: int | dict[str, int]
        if unified:
            capacity = draw(st.integers(0, 4))
            costs = draw(st.dictionaries(st.sampled_from(CHANNELS), st.integers(1, 3), max_size=3))
        else:
            capacity = draw(st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 3)))
            costs = {}
        out.append(
            Agent(
                id=f"a{i:02d}",
                groups=draw(st.sets(st.sampled_from(["field", "desk"]))),
                skills=draw(
                    st.dictionaries(st.sampled_from(["hvac", "plumbing"]), st.integers(0, 5))
                ),
                languages=draw(st.sets(st.sampled_from(["zh", "en"]))),
                attributes={
                    "region": draw(st.sampled_from(REGIONS)),
                    "tier": draw(st.sampled_from(["junior", "senior"])),
                },
                capacity=capacity,
                costs=costs,
                presence=draw(st.sampled_from(list(Presence))),
                shift=draw(st.sampled_from([None, OPEN, CLOSED])),
            )
        )
    return out


@st.composite
def state_st(draw: st.DrawFn, agents: list[Agent]) -> RoutingState:
    state = RoutingState()
    for agent in agents:
        for channel in CHANNELS:
            count = draw(st.integers(0, 2))
            if count:
                state = state.with_load(agent.id, channel, count)
        if draw(st.booleans()):
            state = state.assign(
                agent.id, "email", T0 - timedelta(minutes=draw(st.integers(1, 99)))
            )
    return state


def reference_eligible(
    agent: Agent, ticket: Ticket, group: str | None, target: str | None, state: RoutingState
) -> bool:
    """Written from the issue's words, without the router's code."""
    if agent.presence != "available" or (group and group not in agent.groups):
        return False
    if agent.shift is CLOSED:
        return False
    region = ticket.fields["region"]
    checks = {
        None: True,
        TARGETS[1]: agent.skills.get("hvac", -1) >= 3,
        TARGETS[2]: agent.attributes["region"] == region and agent.attributes["tier"] == "senior",
        TARGETS[3]: agent.skills.get("hvac", -1) >= 2 and agent.attributes["region"] == region,
        TARGETS[4]: "zh" in agent.languages and agent.attributes["region"] in ("east", "south"),
        TARGETS[5]: agent.skills.get("plumbing", -1) > 1 or agent.attributes["tier"] == "junior",
    }
    if not checks[target]:
        return False
    loads = state.loads(agent.id)
    if isinstance(agent.capacity, int):
        used = sum(c * agent.costs.get(ch, 1) for ch, c in loads.items())
        return used + agent.costs.get(ticket.channel, 1) <= agent.capacity
    return loads.get(ticket.channel, 0) + 1 <= agent.capacity.get(ticket.channel, 0)


def router_for(target: str | None, strategy: object, group: str | None = None) -> Router:
    rule: dict[str, object] = {"strategy": strategy}
    if target is not None:
        rule["target"] = target
    if group is not None:
        rule["group"] = group
    return Router(RoutingRules.from_dict({"default": rule}))


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    target=st.sampled_from(TARGETS),
    strategy=st.sampled_from(STRATEGIES),
    group=st.sampled_from([None, "field"]),
    channel=st.sampled_from(CHANNELS),
    region=st.sampled_from(REGIONS),
)
def test_route_properties(
    data: st.DataObject,
    target: str | None,
    strategy: object,
    group: str | None,
    channel: str,
    region: str,
) -> None:
    agents = data.draw(agents_st())
    state = data.draw(state_st(agents))
    ticket = make_ticket(channel=channel, region=region)
    router = router_for(target, strategy, group)
    decision = router.route(ticket, AgentPool(agents), state, T0)
    expected = {a.id for a in agents if reference_eligible(a, ticket, group, target, state)}
    # never an ineligible, offline, off-shift or full agent; queued only if nobody fits
    assert (decision.agent is None) == (not expected)
    if decision.agent is not None:
        assert decision.agent in expected
    # the explanation agrees with the result
    assert {v.agent for v in decision.candidates if v.eligible} == expected
    assert len(decision.candidates) == len(agents)
    for verdict in decision.candidates:
        assert (verdict.score is None) == (verdict.removed_by is not None)
        assert verdict.eligible or verdict.reason
    if decision.agent is not None:
        scores = {v.agent: v.score for v in decision.candidates if v.eligible}
        best = min(scores.values())
        assert scores[decision.agent] == best
        assert decision.agent == min(a for a, s in scores.items() if s == best)
        assert decision.tied[0] == decision.agent
    assert sum(decision.removed.values()) == len(agents) - len(expected)
    # the same inputs give the same decision, whatever the order of the agents
    shuffled = list(agents)
    random.Random(7).shuffle(shuffled)
    assert router.route(ticket, shuffled, state, T0) == decision
    # the fast (index) path picks the same agent and the same eligible set
    fast = router.route(ticket, AgentPool(agents), state, T0, explain="candidates")
    assert fast.agent == decision.agent
    assert {v.agent for v in fast.candidates if v.eligible} == expected
    assert Decision.from_dict(decision.to_dict()) == decision


@settings(max_examples=80, deadline=None)
@given(data=st.data(), channel=st.sampled_from(CHANNELS))
def test_least_loaded_picks_a_minimum(data: st.DataObject, channel: str) -> None:
    agents = data.draw(agents_st())
    state = data.draw(state_st(agents))
    ticket = make_ticket(channel=channel)
    decision = router_for(None, "least_loaded").route(ticket, agents, state, T0)
    eligible = [a for a in agents if reference_eligible(a, ticket, None, None, state)]
    if eligible:
        ratios = {a.id: a.load_ratio(channel, state.loads(a.id)) for a in eligible}
        assert decision.agent is not None
        assert ratios[decision.agent] == min(ratios.values())


@settings(max_examples=40, deadline=None)
@given(n_agents=st.integers(1, 8), n_tickets=st.integers(1, 40), same_instant=st.booleans())
def test_round_robin_spreads_evenly(n_agents: int, n_tickets: int, same_instant: bool) -> None:
    agents = AgentPool(Agent(id=f"a{i}", capacity=100) for i in range(n_agents))
    router = router_for(None, "round_robin")
    state = RoutingState()
    counts = dict.fromkeys((a.id for a in agents), 0)
    for k in range(n_tickets):
        now = T0 if same_instant else T0 + timedelta(minutes=k)
        decision = router.route(make_ticket(f"T{k}", channel="email"), agents, state, now)
        assert decision.agent is not None
        counts[decision.agent] += 1
        state = state.apply(decision)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_sticky_prefers_previous_agent_then_falls_back() -> None:
    agents = [Agent(id="a", capacity=5), Agent(id="b", capacity=5)]
    router = router_for(None, {"name": "sticky", "fallback": "least_loaded"})
    state = RoutingState().with_load("a", "phone", 1)
    first = router.route(make_ticket("T1"), agents, state, T0)
    assert first.agent == "b"
    state = state.apply(first)
    second = router.route(make_ticket("T2"), agents, state, T0)
    assert second.agent == "b"  # sticky although b is now as loaded as a
    third = router.route(make_ticket("T3", customer="other"), agents, state, T0)
    assert third.agent == "a"  # a tie on load 1/5; lowest id wins
    assert third.tied == ("a", "b")
    assert "tied" in third.tie_break


def test_random_is_seeded_and_replayable() -> None:
    agents = [Agent(id=f"a{i}", capacity=5) for i in range(20)]
    router = router_for(None, {"name": "random", "seed": 42})
    picks = {
        router.route(make_ticket(f"T{k}"), agents, RoutingState(), T0).agent for k in range(30)
    }
    assert len(picks) > 5
    again = router_for(None, {"name": "random", "seed": 42})
    assert again.route(make_ticket("T9"), agents, RoutingState(), T0) == router.route(
        make_ticket("T9"), agents, RoutingState(), T0
    )


def test_best_skill_then_load() -> None:
    agents = [
        Agent(id="a", skills={"hvac": 3}, capacity=5),
        Agent(id="b", skills={"hvac": 5}, capacity=5),
        Agent(id="c", skills={"hvac": 5}, capacity=5),
    ]
    state = RoutingState().with_load("b", "phone", 2)
    decision = router_for("agent.skills.hvac >= 3", "best_skill").route(
        make_ticket(), agents, state, T0
    )
    assert decision.agent == "c"
    assert decision.verdict("b") is not None
    assert decision.verdict("c").score == (-5, 0.0)  # type: ignore[union-attr]


def test_exclusions_and_reasons() -> None:
    agents = [Agent(id="a", capacity=1), Agent(id="b", capacity=1, presence="offline")]
    decision = router_for(None, "least_loaded").route(
        make_ticket(), agents, RoutingState(), T0, exclude=["a"]
    )
    assert decision.outcome == "queued"
    assert decision.verdict("a").removed_by == "excluded"  # type: ignore[union-attr]
    assert decision.verdict("b").reason == "presence is 'offline'"  # type: ignore[union-attr]


def test_state_round_trip_and_release() -> None:
    state = RoutingState().assign("a", "phone", T0, customer_id="c").with_load("b", "chat", 2)
    assert RoutingState.from_dict(state.to_dict()) == state
    assert state.release("b", "chat").load("b", "chat") == 1
    with pytest.raises(RoutingError, match="no open 'email'"):
        state.release("a", "email")
    assert state.agent_for_customer("c") == "a"
    assert state.last_assigned("a") == T0


def test_an_assignment_placed_by_hand_equals_one_applied_in_order() -> None:
    # b at T0, then a at T0 + 1 min, arriving in the other order: a first, then b placed
    # before it (a renumbered from 1 to 2)
    later = T0 + timedelta(minutes=1)
    in_order = (
        RoutingState()
        .assign("b", "phone", T0, customer_id="c")
        .assign("a", "phone", later, customer_id="c")
    )
    placed = (
        RoutingState()
        .assign("a", "phone", later, customer_id="c")
        .with_load("b", "phone", 1)
        .with_last_assignment("a", later, 2)
        .with_last_assignment("b", T0, 1)
        .with_sequence(2)
    )
    assert placed == in_order
    assert placed.with_customer("c", "b").agent_for_customer("c") == "b"
    with pytest.raises(RoutingError, match="0 is not a count >= 1"):
        placed.with_last_assignment("a", later, 0)
    with pytest.raises(RoutingError, match="naive"):
        placed.with_last_assignment("a", later.replace(tzinfo=None), 1)
    with pytest.raises(RoutingError, match="-1 is not a count >= 0"):
        placed.with_sequence(-1)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: AgentPool([Agent(id="x"), Agent(id="x")]), "duplicate agent ids: \\['x'\\]"),
        (lambda: Agent(id="x", capacity=-1), "agent 'x'.capacity: -1 is negative"),
        (lambda: Agent(id="x", capacity={"chat": -2}), "capacity.chat: -2 is negative"),
        (lambda: Agent(id="x", attributes={"skills": 1}), "'skills' is reserved"),
        (lambda: Agent(id="x", presence="busy"), "'busy' is not one of"),
        (lambda: RoutingRules.from_dict({"default": {"strategy": "fastest"}}), "'fastest'"),
        (lambda: RoutingRules.from_dict({"rules": []}), "a default rule is required"),
        (
            lambda: RoutingRules.from_dict(
                {"rules": [{"when": "ticket.fields.regoin == 'east'"}], "default": {}},
                ticket_fields={"region"},
            ),
            "'ticket.fields.regoin' names an unknown form field",
        ),
        (
            lambda: RoutingRules.from_dict(
                {"default": {"target": "agent.regoin == 'east'"}}, agent_attributes={"region"}
            ),
            "'agent.regoin' names an unknown agent attribute",
        ),
        (lambda: StrategyRegistry().create("least_loaded"), "unknown strategy 'least_loaded'"),
    ],
)
def test_bad_input_names_the_value(build: object, match: str) -> None:
    with pytest.raises(RoutingError, match=match):
        build()  # type: ignore[operator]


def test_rule_problems_are_collected() -> None:
    with pytest.raises(RoutingError) as info:
        RoutingRules.from_dict(
            {
                "rules": [
                    {
                        "name": "r",
                        "when": "ticket.typo == 1",
                        "strategy": "nope",
                        "steps": [{"after": "2h", "group": "g"}, {"after": "1h", "group": "h"}],
                    }
                ],
                "default": {"strategy": "least_loaded", "steps": [{"after": "soon"}]},
            }
        )
    text = str(info.value)
    for part in ("rules[0].when", "'nope'", "rules[0].steps[1].after", "default.steps[0].after"):
        assert part in text


def test_naive_now_and_registry_register() -> None:
    router = router_for(None, "least_loaded")
    with pytest.raises(RoutingError, match="now must be a timezone-aware datetime, got naive"):
        router.route(make_ticket(), [], RoutingState(), datetime(2026, 1, 1))
    registry = default_registry()
    with pytest.raises(RoutingError, match="already registered"):
        registry.register("round_robin", lambda options, reg: reg.create("least_loaded"))
    registry.register("lazy", lambda options, reg: reg.create("least_loaded"))
    assert "lazy" in registry.names()
