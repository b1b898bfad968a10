"""``ServiceDesk.assign`` (automatic routing) against a naive scan over plain dicts.

Scenario (as ``bench_routing.py``): N agents, 50 skills (3 per agent, levels 1-5), 10
regions, phone capacity 1-3, 10 % away; one routing rule per skill, each ticket needs
``agent.skills.S >= 3 and agent.region == ticket.fields.region``; least_loaded or
round_robin. The tickets are opened first (not timed); then every ticket is assigned
with ``desk.assign(ticket_id)`` — the whole operation: load the timeline from the
(in-memory) store, route on the fast path, run the automation, append, keep the routing
state and the timers — one second apart on the desk's clock.

The naive scan keeps agents, loads and last assignments in plain dicts and looks at every
agent for every ticket, with the same filters, scores and tie-break (lowest id). Before
anything is timed, both assign the same tickets and must pick the same agent for each.
The router and the agent pool are built once per size (a long-running desk); every
timed run uses a new desk on a new store. Times are CPU time of this process
(``time.process_time``), so other work on a shared machine disturbs them less.

    python benchmarks/bench_desk_routing.py          # 1,000, 10,000 and 100,000 agents
    python benchmarks/bench_desk_routing.py --quick  # 1,000 and 10,000, fewer tickets
    python benchmarks/bench_desk_routing.py --quick --repeat 5  # best of 5 runs each

Also printed: ``named agent/s``, the same ``desk.assign`` to a named agent (no routing:
the floor of the operation — loading, appending, rules, timers), the CPU microseconds of
one routed and one named ``desk.assign`` and their difference (``routing µs``: what
routing adds to the operation); ``router µs``, the router alone in the same scenario
(``Router.pick``, the fast path ``desk.assign`` takes, then ``RoutingState.apply``, warm:
the same router and pool), with its ratio to the scan; ``glue µs``, what routing adds
inside the desk besides the router (``routing µs`` minus ``router µs``: the routing
history and its digest, the reference on the event); ``20x µs``, the CPU microseconds a
whole ``desk.assign`` may take for 20 times the scan's rate; and ``full explain/s``,
``desk.assign`` with a router forced to ``explain="full"`` (what the desk did before), on
1 % of the tickets (at least 10). The 100,000-agent case assigns only 200 tickets per run
(the naive scan takes about 20 ms a decision there; building the pool takes seconds).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from csmkit.desk import ServiceDesk, TicketType
from csmkit.routing import Agent, AgentPool, Pick, Router, RoutingRules, RoutingState
from csmkit.storage import open_store
from csmkit.timeline import Ticket, TicketCreated
from csmkit.workflow import Workflow

T0 = datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc)
SKILLS = [f"s{i:02d}" for i in range(50)]
REGIONS = [f"r{i}" for i in range(10)]
WORKFLOW = Workflow.from_dict(
    {
        "name": "job",
        "states": [
            {"name": "new", "category": "new", "initial": True},
            {"name": "done", "category": "closed"},
        ],
        "transitions": [{"name": "finish", "sources": "new", "target": "done"}],
        "form": {
            "fields": [
                {"name": "region", "type": "choice", "choices": REGIONS},
                {"name": "skill", "type": "choice", "choices": SKILLS},
            ]
        },
    }
)


def make_agents(n: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "id": f"a{i:06d}",
            "skills": {s: rng.randint(1, 5) for s in rng.sample(SKILLS, 3)},
            "region": rng.choice(REGIONS),
            "capacity": rng.randint(1, 3),
            "available": rng.random() >= 0.1,
        }
        for i in range(n)
    ]


def make_pool(agents: list[dict[str, Any]]) -> AgentPool:
    return AgentPool(
        Agent(
            id=a["id"],
            skills=a["skills"],
            attributes={"region": a["region"]},
            capacity={"phone": a["capacity"]},
            presence="available" if a["available"] else "away",
        )
        for a in agents
    )


class FullExplainRouter(Router):
    """The desk before: every decision with a verdict for every agent."""

    def route(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["explain"] = "full"
        return super().route(*args, **kwargs)

    def pick(self, *args: Any, **kwargs: Any) -> Any:
        decision = self.route(*args, **kwargs)
        return Pick(
            ticket_id=decision.ticket_id,
            at=decision.at,
            agent=decision.agent,
            channel=decision.channel,
            customer_id=decision.customer_id,
            rule=decision.rule,
            step=decision.step,
            group=decision.group,
            next_escalation_at=decision.next_escalation_at,
        )


def make_router(strategy: str, kind: type[Router] = Router) -> Router:
    rules = [
        {
            "name": skill,
            "when": f'ticket.fields.skill == "{skill}"',
            "target": f"agent.skills.{skill} >= 3 and agent.region == ticket.fields.region",
            "strategy": strategy,
        }
        for skill in SKILLS
    ]
    return kind(RoutingRules.from_dict({"rules": rules, "default": {}}))


def make_tickets(count: int, rng: random.Random) -> list[dict[str, str]]:
    return [{"region": rng.choice(REGIONS), "skill": rng.choice(SKILLS)} for _ in range(count)]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def prepared_desk(
    router: Router, pool: AgentPool, tickets: list[dict[str, str]]
) -> tuple[ServiceDesk, Clock]:
    clock = Clock()
    desk = ServiceDesk(
        open_store("memory://"),
        types=[TicketType("job", WORKFLOW)],
        clock=clock,
        router=router,
        agents=pool,
    )
    for k, fields in enumerate(tickets):
        desk.open_ticket("job", channel="phone", fields=fields, ticket_id=f"T{k:06d}")
    desk.routing_state()  # derived from the store before the timed run
    return desk, clock


def run_desk(
    desk: ServiceDesk, clock: Clock, count: int, agent: str | None = None
) -> list[str | None]:
    """Assign the first ``count`` tickets: routed, or to ``agent`` (the floor: the same
    operation without routing)."""
    picks = []
    for k in range(count):
        clock.now = T0 + timedelta(hours=1, seconds=k)
        picks.append(desk.assign(f"T{k:06d}", agent).assignee)
    return picks


def router_tickets(tickets: list[dict[str, str]]) -> list[Ticket]:
    """The tickets as the desk holds them when it routes them (opened at ``T0``)."""
    return [
        Ticket.created(
            TicketCreated(ticket_id=f"T{k:06d}", at=T0, type="job", channel="phone", fields=fields)
        )
        for k, fields in enumerate(tickets)
    ]


def run_router(router: Router, pool: AgentPool, tickets: list[Ticket]) -> list[str | None]:
    """The router alone: each ticket routed on the fast path (``Router.pick``, what
    ``desk.assign`` calls) and applied to the state, one second apart as in `run_desk`."""
    state = RoutingState()
    picks = []
    for k, ticket in enumerate(tickets):
        pick = router.pick(ticket, pool, state, T0 + timedelta(hours=1, seconds=k))
        state = state.apply(pick)
        picks.append(pick.agent)
    return picks


def run_scan(
    agents: list[dict[str, Any]], strategy: str, tickets: list[dict[str, str]]
) -> list[str | None]:
    load: dict[str, int] = {}
    last: dict[str, tuple[int, float, int]] = {}
    sequence = 0
    picks: list[str | None] = []
    for k, fields in enumerate(tickets):
        now = (T0 + timedelta(hours=1, seconds=k)).timestamp()
        skill, region = fields["skill"], fields["region"]
        best: tuple[Any, str] | None = None
        for a in agents:
            if not a["available"] or a["region"] != region or a["skills"].get(skill, 0) < 3:
                continue
            used = load.get(a["id"], 0)
            if used >= a["capacity"]:
                continue
            score = (
                (used / a["capacity"],)
                if strategy == "least_loaded"
                else last.get(a["id"], (0, 0.0, 0))
            )
            if best is None or (score, a["id"]) < best:
                best = (score, a["id"])
        if best is None:
            picks.append(None)
            continue
        chosen = best[1]
        load[chosen] = load.get(chosen, 0) + 1
        sequence += 1
        last[chosen] = (1, now, sequence)
        picks.append(chosen)
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k agents, fewer tickets")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=None, help="timed runs, best kept (3; 1 with --quick)"
    )
    args = parser.parse_args()
    sizes = (
        [(1_000, 200), (10_000, 200)]
        if args.quick
        else [
            (1_000, 2_000),
            (10_000, 2_000),
            (100_000, 200),
        ]
    )
    repeat = args.repeat if args.repeat is not None else 1 if args.quick else 3
    print(f"best of {repeat} runs; ratio = desk.assign/s over naive scan/s")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"{'agents':>7} {'strategy':>13} {'tickets':>7} {'naive scan/s':>13}"
        f" {'desk.assign/s':>14} {'ratio':>7} {'named agent/s':>14}"
        f" {'routed µs':>10} {'named µs':>9} {'routing µs':>11} {'router µs':>10}"
        f" {'ratio':>7} {'glue µs':>8} {'20x µs':>7} {'full explain/s':>15}"
    )
    for n, count in sizes:
        rng = random.Random(args.seed)
        agents = make_agents(n, rng)
        tickets = make_tickets(count, rng)
        pool = make_pool(agents)
        for strategy in ("least_loaded", "round_robin"):
            router = make_router(strategy)
            # the same picks first, nothing timed
            desk, clock = prepared_desk(router, pool, tickets)
            desk_picks = run_desk(desk, clock, count)
            scan_picks = run_scan(agents, strategy, tickets)
            if desk_picks != scan_picks:
                raise SystemExit(f"{n} agents, {strategy}: desk.assign and the scan disagree")
            alone = router_tickets(tickets)
            if run_router(router, pool, alone) != scan_picks:
                raise SystemExit(f"{n} agents, {strategy}: the router and the scan disagree")
            scan_s = desk_s = named_s = router_s = float("inf")
            for _ in range(repeat):
                start = time.process_time()
                run_scan(agents, strategy, tickets)
                scan_s = min(scan_s, time.process_time() - start)
                start = time.process_time()
                run_router(router, pool, alone)
                router_s = min(router_s, time.process_time() - start)
                desk, clock = prepared_desk(router, pool, tickets)
                start = time.process_time()
                run_desk(desk, clock, count)
                desk_s = min(desk_s, time.process_time() - start)
                desk, clock = prepared_desk(router, pool, tickets)
                start = time.process_time()
                run_desk(desk, clock, count, agents[0]["id"])
                named_s = min(named_s, time.process_time() - start)
            # the desk before: full explanations (a few tickets, it is slow)
            few = max(10, count // 100)
            desk, clock = prepared_desk(make_router(strategy, FullExplainRouter), pool, tickets)
            start = time.process_time()
            if run_desk(desk, clock, few) != scan_picks[:few]:
                raise SystemExit(f"{n} agents, {strategy}: full explanations disagree")
            full_s = time.process_time() - start
            routed_us, named_us = desk_s / count * 1e6, named_s / count * 1e6
            router_us, scan_us = router_s / count * 1e6, scan_s / count * 1e6
            print(
                f"{n:>7,} {strategy:>13} {count:>7,} {count / scan_s:>13,.0f}"
                f" {count / desk_s:>14,.0f} {scan_s / desk_s:>6.1f}x"
                f" {count / named_s:>14,.0f} {routed_us:>10.1f} {named_us:>9.1f}"
                f" {routed_us - named_us:>11.1f} {router_us:>10.1f} {scan_s / router_s:>6.1f}x"
                f" {routed_us - named_us - router_us:>8.1f} {scan_us / 20:>7.1f}"
                f" {few / full_s:>15,.1f}"
            )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
