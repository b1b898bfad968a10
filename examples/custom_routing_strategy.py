"""A custom routing strategy, supplied by a plugin and used by a ``Router``.

"Closest engineer": among the eligible engineers, prefer the one whose home district is
nearest to the customer (a toy distance on a 2-D grid of Shanghai districts), then the
lower load. The plugin registers it through the ``csmkit_routing_strategies`` hook; the
application copies the plugin's strategies into a ``StrategyRegistry`` and loads routing
rules that name it.

Run: ``python examples/custom_routing_strategy.py``
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from csmkit.hookspecs import hookimpl
from csmkit.plugins import PluginManager, RoutingStrategyRegistration
from csmkit.routing import Agent, AgentPool, Router, RoutingState
from csmkit.timeline import Ticket, TicketCreated

SH = ZoneInfo("Asia/Shanghai")
DISTRICTS = {"pudong": (3, 1), "minhang": (0, 0), "jingan": (1, 2), "baoshan": (1, 4)}


class ClosestEngineer:
    """Score = (grid distance from the agent's district to the ticket's, load ratio)."""

    name = "closest"

    def __init__(self, penalty: int = 0) -> None:
        self.penalty = penalty  # extra distance for a missing district

    def score(self, agent: Agent, context: Any) -> tuple[float, ...]:
        home = DISTRICTS.get(agent.attributes.get("district", ""))
        target = DISTRICTS.get(context.ticket.fields.get("district", ""))
        if home is None or target is None:
            distance = 99 + self.penalty
        else:
            distance = abs(home[0] - target[0]) + abs(home[1] - target[1])
        load = context.state.load(agent.id)
        return (float(distance), float(load))

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "penalty": self.penalty}


class ClosestPlugin:
    """A csmkit plugin (in a package it would be an entry point in group ``csmkit``)."""

    @hookimpl
    def csmkit_routing_strategies(self) -> list[RoutingStrategyRegistration]:
        return [
            RoutingStrategyRegistration(
                name="closest",
                factory=lambda **options: ClosestEngineer(**options),
                description="nearest district first, then the lower load",
            )
        ]


def main() -> None:
    plugins = PluginManager(load_entrypoints=False)
    plugins.register(ClosestPlugin(), name="closest-plugin")
    registry = plugins.strategy_registry()  # the built-ins plus every plugin's strategies
    print("strategies:", ", ".join(registry.names()))

    router = Router(
        {
            "rules": [
                {
                    "name": "field-repair",
                    "when": 'ticket.type == "repair"',
                    "group": "engineers",
                    "strategy": {"name": "closest", "penalty": 1},
                }
            ],
            "default": {"strategy": "round_robin"},
        },
        registry=registry,
    )
    agents = AgentPool(
        [
            Agent(id="wang", name="王工", groups=["engineers"], capacity=3,
                  attributes={"district": "pudong"}),
            Agent(id="li", name="李工", groups=["engineers"], capacity=3,
                  attributes={"district": "minhang"}),
            Agent(id="zhao", name="赵工", groups=["engineers"], capacity=3,
                  attributes={"district": "jingan"}),
        ]
    )  # fmt: skip
    now = datetime(2026, 10, 12, 10, 0, tzinfo=SH)
    ticket = Ticket.created(
        TicketCreated(ticket_id="BX-7", at=now, type="repair", channel="phone",
                      fields={"district": "baoshan"})
    )  # fmt: skip
    state = RoutingState()
    decision = router.route(ticket, agents, state, now)
    print(f"{ticket.id} (baoshan) -> {decision.agent} by rule {decision.rule}")
    for verdict in sorted(decision.candidates, key=lambda v: v.agent):
        print(f"  {verdict.agent}: score {verdict.score}")
    busy = state.with_load("zhao", "phone", 3)
    print(f"with 赵工 full: -> {router.route(ticket, agents, busy, now).agent}")


if __name__ == "__main__":
    main()
