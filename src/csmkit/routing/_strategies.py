"""Chooser strategies: small classes behind one protocol, created by name from a registry.

A strategy scores each eligible agent; the lowest score wins and equal scores are broken by
agent id (so every decision is deterministic). Scores are tuples of numbers so a
[`Decision`][csmkit.routing.Decision] can show them.

A strategy whose score of an agent depends only on that agent, the agent's own load and
last assignment in the state, the ticket's channel and the skills the target names may
also offer ``agent_score(agent, state, channel, skills)`` (the built-ins ``round_robin``,
``least_loaded``, ``most_spare_capacity`` and ``best_skill`` do). ``score`` must then
return the same value; the router keeps such strategies' candidates in heaps and picks
the best in logarithmic time instead of scoring every candidate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from csmkit.errors import RoutingError
from csmkit.routing._agents import Agent
from csmkit.routing._state import RoutingState

__all__ = [
    "BestSkill",
    "ChoiceContext",
    "LeastLoaded",
    "MostSpareCapacity",
    "RoundRobin",
    "SeededRandom",
    "Sticky",
    "Strategy",
    "StrategyFactory",
    "StrategyRegistry",
    "default_registry",
]

Score = tuple[float, ...]


@attrs.frozen(kw_only=True)
class ChoiceContext:
    """What a strategy may look at besides the agent.

    Attributes:
        ticket: The ticket being routed (a [`Ticket`][csmkit.timeline.Ticket]).
        state: The routing state snapshot.
        now: The instant of the decision.
        channel: The ticket's channel (capacity is counted per channel).
        skills: Skills the effective target asks for (``agent.skills.X`` it names).
    """

    ticket: Any
    state: RoutingState
    now: datetime
    channel: str
    skills: tuple[str, ...] = ()


@runtime_checkable
class Strategy(Protocol):
    """The chooser protocol: score an eligible agent, lower is better.

    Optionally, ``agent_score(agent, state, channel, skills)`` (see the module docstring)
    lets the router keep candidates in heaps. With ``explain="chosen"`` a strategy may be
    asked to score candidates that later turn out to be ineligible (full, off shift).
    """

    @property
    def name(self) -> str:
        """The registry name."""
        ...  # pragma: no cover

    def score(self, agent: Agent, context: ChoiceContext) -> Score:
        """The agent's score (a tuple of numbers); ties are broken by agent id."""
        ...  # pragma: no cover

    def spec(self) -> str | dict[str, Any]:
        """The dict form the registry re-creates this strategy from."""
        ...  # pragma: no cover


class StrategyFactory(Protocol):
    """Builds a strategy from its options (the spec minus ``name``) and the registry."""

    def __call__(self, options: Mapping[str, Any], registry: StrategyRegistry, /) -> Strategy:
        """Return the strategy (raise [`RoutingError`][csmkit.errors.RoutingError] on bad
        options)."""
        ...  # pragma: no cover


def _no_options(name: str, options: Mapping[str, Any]) -> None:
    if options:
        raise RoutingError(f"strategy {name!r} takes no options, got {sorted(options)}")


@attrs.frozen
class RoundRobin:
    """The agent longest since their last assignment (never-assigned agents first)."""

    name = "round_robin"

    def score(self, agent: Agent, context: ChoiceContext) -> Score:
        """``(assigned ever, last instant as POSIX seconds, assignment sequence)``."""
        return self.agent_score(agent, context.state, context.channel, context.skills)

    def agent_score(
        self, agent: Agent, state: RoutingState, channel: str, skills: tuple[str, ...]
    ) -> Score:
        """The score from the agent's own entries only (see the module docstring)."""
        return state.last_assignment_key(agent.id)

    def spec(self) -> str:
        """``"round_robin"``."""
        return self.name


@attrs.frozen
class LeastLoaded:
    """The agent with the lowest load ratio on the capacity the ticket's channel uses."""

    name = "least_loaded"

    def score(self, agent: Agent, context: ChoiceContext) -> Score:
        """``(load ratio,)``."""
        return self.agent_score(agent, context.state, context.channel, context.skills)

    def agent_score(
        self, agent: Agent, state: RoutingState, channel: str, skills: tuple[str, ...]
    ) -> Score:
        """The score from the agent's own entries only (see the module docstring)."""
        return (agent.load_ratio(channel, state.loads(agent.id)),)

    def spec(self) -> str:
        """``"least_loaded"``."""
        return self.name


@attrs.frozen
class MostSpareCapacity:
    """The agent with the most spare capacity, counted in tickets or units."""

    name = "most_spare_capacity"

    def score(self, agent: Agent, context: ChoiceContext) -> Score:
        """``(-spare,)``."""
        return self.agent_score(agent, context.state, context.channel, context.skills)

    def agent_score(
        self, agent: Agent, state: RoutingState, channel: str, skills: tuple[str, ...]
    ) -> Score:
        """The score from the agent's own entries only (see the module docstring)."""
        return (-agent.spare(channel, state.loads(agent.id)),)

    def spec(self) -> str:
        """``"most_spare_capacity"``."""
        return self.name


@attrs.frozen
class BestSkill:
    """Highest summed proficiency in the skills the target names, then lowest load ratio."""

    name = "best_skill"

    def score(self, agent: Agent, context: ChoiceContext) -> Score:
        """``(-summed proficiency, load ratio)``."""
        return self.agent_score(agent, context.state, context.channel, context.skills)

    def agent_score(
        self, agent: Agent, state: RoutingState, channel: str, skills: tuple[str, ...]
    ) -> Score:
        """The score from the agent's own entries only (see the module docstring)."""
        level = sum(agent.skills.get(skill, 0) for skill in skills)
        return (-level, agent.load_ratio(channel, state.loads(agent.id)))

    def spec(self) -> str:
        """``"best_skill"``."""
        return self.name


@attrs.frozen
class Sticky:
    """The customer's previous agent when eligible, otherwise the ``fallback`` strategy."""

    fallback: Strategy
    name = "sticky"

    def score(self, agent: Agent, context: ChoiceContext) -> Score:
        """``(0 if previous agent else 1, *fallback score)``."""
        customer = context.ticket.customer_id
        previous = context.state.agent_for_customer(customer) if customer else None
        return (0 if agent.id == previous else 1, *self.fallback.score(agent, context))

    def spec(self) -> dict[str, Any]:
        """``{"name": "sticky", "fallback": ...}``."""
        return {"name": self.name, "fallback": self.fallback.spec()}


@attrs.frozen
class SeededRandom:
    """A uniformly random eligible agent, reproducible from ``seed`` and the ticket id."""

    seed: int = 0
    name = "random"

    def score(self, agent: Agent, context: ChoiceContext) -> Score:
        """``(pseudo-random number in [0, 1),)`` from seed, ticket id and agent id."""
        text = f"{self.seed}\x1f{context.ticket.id}\x1f{agent.id}".encode()
        digest = hashlib.blake2b(text, digest_size=8).digest()
        return (int.from_bytes(digest, "big") / 2**64,)

    def spec(self) -> dict[str, Any]:
        """``{"name": "random", "seed": ...}``."""
        return {"name": self.name, "seed": self.seed}


def _simple(cls: Callable[[], Strategy], name: str) -> StrategyFactory:
    def factory(options: Mapping[str, Any], registry: StrategyRegistry) -> Strategy:
        _no_options(name, options)
        return cls()

    return factory


def _sticky(options: Mapping[str, Any], registry: StrategyRegistry) -> Strategy:
    unknown = sorted(set(options) - {"fallback"})
    if unknown:
        raise RoutingError(f"strategy 'sticky': unknown options {unknown}")
    return Sticky(registry.create(options.get("fallback", "round_robin")))


def _random(options: Mapping[str, Any], registry: StrategyRegistry) -> Strategy:
    unknown = sorted(set(options) - {"seed"})
    if unknown:
        raise RoutingError(f"strategy 'random': unknown options {unknown}")
    seed = options.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RoutingError(f"strategy 'random': seed {seed!r} is not a whole number")
    return SeededRandom(seed)


class StrategyRegistry:
    """Strategy factories by name; the plugin hook adds third-party ones with
    [`register()`][csmkit.routing.StrategyRegistry.register].

    Examples:
        >>> registry = default_registry()
        >>> registry.create({"name": "sticky", "fallback": "least_loaded"}).spec()
        {'name': 'sticky', 'fallback': 'least_loaded'}
    """

    def __init__(self) -> None:
        """An empty registry (see [`default_registry()`][csmkit.routing.default_registry] for one
        with the built-ins)."""
        self._factories: dict[str, StrategyFactory] = {}

    def register(self, name: str, factory: StrategyFactory, *, replace: bool = False) -> None:
        """Make ``name`` available to routing rules.

        Raises:
            RoutingError: ``name`` is empty or already registered (unless ``replace``).
        """
        if not isinstance(name, str) or not name:
            raise RoutingError(f"strategy name must be a non-empty string, got {name!r}")
        if name in self._factories and not replace:
            raise RoutingError(f"strategy {name!r} is already registered")
        if not callable(factory):
            raise RoutingError(f"strategy {name!r}: factory {factory!r} is not callable")
        self._factories[name] = factory

    def names(self) -> tuple[str, ...]:
        """Registered names, sorted."""
        return tuple(sorted(self._factories))

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def create(self, spec: str | Mapping[str, Any] | Strategy) -> Strategy:
        """A strategy from its spec: a name, or ``{"name": ..., **options}``.

        Raises:
            RoutingError: unknown strategy name (listing the known ones) or bad options.
        """
        if isinstance(spec, Strategy):
            return spec
        if isinstance(spec, str):
            name, options = spec, {}
        elif isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
            name = spec["name"]
            options = {k: v for k, v in spec.items() if k != "name"}
        else:
            raise RoutingError(f"strategy: expected a name or {{'name': ...}}, got {spec!r}")
        factory = self._factories.get(name)
        if factory is None:
            raise RoutingError(f"unknown strategy {name!r} (known: {', '.join(self.names())})")
        strategy = factory(options, self)
        if not isinstance(strategy, Strategy):
            raise RoutingError(f"strategy {name!r}: factory returned {strategy!r}")
        return strategy

    def copy(self) -> StrategyRegistry:
        """An independent registry with the same factories."""
        new = StrategyRegistry()
        new._factories = dict(self._factories)
        return new


def default_registry() -> StrategyRegistry:
    """A new registry holding the built-in strategies.

    ``round_robin``, ``least_loaded``, ``most_spare_capacity``, ``best_skill``,
    ``sticky`` (option ``fallback``) and ``random`` (option ``seed``).
    """
    registry = StrategyRegistry()
    registry.register("round_robin", _simple(RoundRobin, "round_robin"))
    registry.register("least_loaded", _simple(LeastLoaded, "least_loaded"))
    registry.register("most_spare_capacity", _simple(MostSpareCapacity, "most_spare_capacity"))
    registry.register("best_skill", _simple(BestSkill, "best_skill"))
    registry.register("sticky", _sticky)
    registry.register("random", _random)
    return registry
