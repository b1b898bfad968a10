"""Every explain mode asks the same eligibility filters; decisions are deterministic text.

Properties over random pools, states, tickets and rules with escalation steps:

* ``explain="chosen"``, ``"candidates"`` and ``"full"`` choose the same agent, or all
  queue with the same next escalation; every verdict a cheaper mode gives equals the
  full explanation's verdict for that agent, and the chosen agent's full verdict is
  eligible with the score the fast path saw.
* ``Router.is_eligible`` agrees with the full verdicts.
* The same state gives byte-identical decisions (``json.dumps`` of ``to_dict``) after a
  ``to_dict``/``from_dict`` round trip of the state and the agents, whatever order the
  loads were recorded in.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.routing import FILTER_ORDER, Agent, AgentPool, Router, RoutingState
from csmkit.timeline import Ticket, TicketCreated

T0 = datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc)
CHANNELS = ("phone", "chat", "email")
REGIONS = ("east", "west")


class Shift:
    def __init__(self, open_: bool) -> None:
        self.open = open_

    def is_open(self, at: datetime) -> bool:
        return self.open

    def add(self, at: datetime, delta: timedelta) -> datetime:
        return at + delta


SHIFTS = {"day": Shift(True), "night": Shift(False)}


@st.composite
def agents(draw: st.DrawFn, i: int) -> Agent:
    unified = draw(st.booleans())
    shift = draw(st.sampled_from([None, None, "day", "night"]))
    return Agent(
        id=f"a{i:02d}",
        groups=draw(st.sets(st.sampled_from(["field", "desk", "vip"]), max_size=3)),
        skills=draw(st.dictionaries(st.sampled_from(["hvac", "gas"]), st.integers(0, 5))),
        languages=draw(st.sets(st.sampled_from(["zh", "en"]))),
        attributes={"region": draw(st.sampled_from(REGIONS)), "tier": draw(st.sampled_from("ab"))},
        capacity=draw(st.integers(0, 4))
        if unified
        else draw(st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 3), min_size=1)),
        costs=draw(st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 2)))
        if unified
        else {},
        presence=draw(st.sampled_from(["available", "available", "away", "offline"])),
        shift=None if shift is None else SHIFTS[shift],
        shift_name=shift,
    )


TARGETS = [
    None,
    "agent.skills.hvac >= 2",
    "agent.region == ticket.fields.region",
    "agent.skills.hvac >= 2 and agent.region == ticket.fields.region",
    'agent.region == ticket.fields.region and (agent.skills.gas > 3 or agent.tier == "a")',
    '"zh" in agent.languages',
]
STRATEGIES = [
    "least_loaded",
    "round_robin",
    "most_spare_capacity",
    "best_skill",
    {"name": "sticky", "fallback": "least_loaded"},
    {"name": "random", "seed": 5},
]


@st.composite
def routers(draw: st.DrawFn) -> Router:
    rule: dict[str, Any] = {
        "name": "main",
        "when": 'ticket.type == "repair"',
        "strategy": draw(st.sampled_from(STRATEGIES)),
    }
    group = draw(st.sampled_from([None, "field", "desk"]))
    if group is not None:
        rule["group"] = group
    target = draw(st.sampled_from(TARGETS))
    if target is not None:
        rule["target"] = target
    if draw(st.booleans()):
        rule["steps"] = [{"after": "30m", "widen": ["*"]}, {"after": "2h", "group": "vip"}]
    return Router({"rules": [rule], "default": {"strategy": "least_loaded"}})


@st.composite
def states(draw: st.DrawFn, ids: list[str]) -> RoutingState:
    state = RoutingState()
    # loads recorded in a random channel order: the text must not depend on it
    for agent_id in ids:
        for channel in draw(st.permutations(CHANNELS)):
            state = state.with_load(agent_id, channel, draw(st.integers(0, 2)))
    for k, agent_id in enumerate(draw(st.lists(st.sampled_from(ids), max_size=4))):
        customer = draw(st.sampled_from([None, "c1"]))
        state = state.assign(agent_id, "chat", T0 - timedelta(minutes=k + 1), customer_id=customer)
    return state


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    pool = [draw(agents(i)) for i in range(draw(st.integers(0, 8)))]
    ids = [a.id for a in pool]
    ticket = Ticket.created(
        TicketCreated(
            ticket_id="T1",
            at=T0,
            type=draw(st.sampled_from(["repair", "repair", "question"])),
            channel=draw(st.sampled_from(CHANNELS)),
            customer_id=draw(st.sampled_from([None, "c1"])),
            priority=draw(st.sampled_from(["low", "normal", "urgent"])),
            fields={"region": draw(st.sampled_from(REGIONS))},
        )
    )
    return {
        "router": draw(routers()),
        "agents": pool,
        "state": draw(states(ids)) if ids else RoutingState(),
        "ticket": ticket,
        "now": T0
        + draw(st.sampled_from([timedelta(0), timedelta(minutes=45), timedelta(hours=3)])),
        "exclude": draw(st.sets(st.sampled_from(ids))) if ids else set(),
    }


@settings(max_examples=60)
@given(scenarios())
def test_every_explain_mode_chooses_alike(case: dict[str, Any]) -> None:
    router, state, ticket, now = case["router"], case["state"], case["ticket"], case["now"]
    pool = AgentPool(case["agents"])
    full = router.route(ticket, pool, state, now, exclude=case["exclude"], explain="full")
    assert [v.agent for v in full.candidates] == sorted(a.id for a in pool)
    assert all(v.removed_by in (None, *FILTER_ORDER) or v.removed_by.startswith("target[")
               for v in full.candidates)  # fmt: skip
    _, target, _ = router.effective_target(ticket, now)
    for verdict in full.candidates:
        agent = pool[verdict.agent]
        if verdict.agent not in case["exclude"]:
            assert router.is_eligible(agent, ticket, target, state, now) == verdict.eligible
    for mode in ("chosen", "candidates"):
        for agents in (pool, case["agents"]):  # the heap path and the plain-list path
            other = router.route(ticket, agents, state, now, exclude=case["exclude"], explain=mode)
            assert other.agent == full.agent, mode
            assert other.next_escalation_at == full.next_escalation_at
            assert (other.rule, other.step, other.group, other.target) == (
                full.rule,
                full.step,
                full.group,
                full.target,
            )
            for verdict in other.candidates:
                assert full.verdict(verdict.agent) == verdict, mode
            if other.agent is not None:
                mine = other.verdict(other.agent)
                assert mine is not None and mine.eligible
                assert full.verdict(other.agent) == mine
            counted = sum(other.removed.values()) + sum(v.eligible for v in other.candidates)
            assert counted == len(pool)


@settings(max_examples=60)
@given(scenarios(), st.sampled_from(["full", "candidates", "chosen"]))
def test_decisions_are_byte_identical_after_round_trips(case: dict[str, Any], mode: str) -> None:
    router, ticket, now = case["router"], case["ticket"], case["now"]
    state = case["state"]
    again = RoutingState.from_dict(json.loads(json.dumps(state.to_dict())))
    rebuilt = [
        Agent.from_dict(json.loads(json.dumps(a.to_dict())), calendars=SHIFTS)
        for a in reversed(case["agents"])
    ]
    exclude = case["exclude"]
    first = router.route(
        ticket, AgentPool(case["agents"]), state, now, exclude=exclude, explain=mode
    )
    second = router.route(ticket, AgentPool(rebuilt), again, now, exclude=exclude, explain=mode)
    text = json.dumps(first.to_dict(), sort_keys=False, ensure_ascii=False)
    assert json.dumps(second.to_dict(), sort_keys=False, ensure_ascii=False) == text
    fresh = Router(router.rules)  # no caches: same text
    third = fresh.route(ticket, rebuilt, again, now, exclude=sorted(exclude), explain=mode)
    assert json.dumps(third.to_dict(), sort_keys=False, ensure_ascii=False) == text


def test_capacity_reason_lists_loads_by_channel_name() -> None:
    agent = Agent(id="a", capacity=2)
    ticket = Ticket.created(TicketCreated(ticket_id="T", at=T0, type="repair", channel="chat"))
    one = RoutingState().with_load("a", "phone", 1).with_load("a", "chat", 1)
    two = RoutingState().with_load("a", "chat", 1).with_load("a", "phone", 1)
    router = Router({"rules": [], "default": {}})
    reasons = {router.route(ticket, [agent], s, T0).candidates[0].reason for s in (one, two)}
    assert reasons == {"no room for a 'chat' ticket (load {'chat': 1, 'phone': 1})"}
