"""Agents (who can take work) and the indexed, immutable pool routing picks from."""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from csmkit._pickling import reduce_by_init
from csmkit.errors import RoutingError
from csmkit.routing._calendar import ShiftCalendar

__all__ = ["RESERVED_AGENT_NAMES", "Agent", "AgentPool", "Presence"]

RESERVED_AGENT_NAMES: frozenset[str] = frozenset(
    {"id", "name", "groups", "skills", "languages", "presence", "attributes", "capacity", "costs"}
)
"""Names an agent's free attribute may not use (they are the agent's own fields)."""

_SCALARS = (str, int, float, bool, type(None))


class Presence(str, enum.Enum):
    """Whether an agent takes work now: only ``available`` agents are routed to."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


def _str_set(value: object, what: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise RoutingError(f"{what}: expected a list of names, got {value!r}")
    out = frozenset(value)
    for item in out:
        if not isinstance(item, str) or not item:
            raise RoutingError(f"{what}: {item!r} is not a non-empty string")
    return out


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RoutingError(f"{what}: expected a whole number, got {value!r}")
    if value < 0:
        raise RoutingError(f"{what}: {value!r} is negative")
    return value


def _counts(value: object, what: str) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise RoutingError(f"{what}: expected a mapping of names to numbers, got {value!r}")
    out: dict[str, int] = {}
    for key in sorted(value, key=str):
        if not isinstance(key, str) or not key:
            raise RoutingError(f"{what}: key {key!r} is not a non-empty string")
        out[key] = _count(value[key], f"{what}.{key}")
    return MappingProxyType(out)


def _optional_shift(value: object) -> ShiftCalendar | None:
    if value is not None and not isinstance(value, ShiftCalendar):
        raise RoutingError(f"shift: {value!r} has no is_open(at) and add(at, delta) methods")
    return value


@attrs.frozen(kw_only=True)
class Agent:
    """Someone who can take tickets: a value, never changed by routing.

    Capacity is either per channel (``{"chat": 3, "email": 10, "phone": 1}``; a channel not
    listed is not handled) or one unified number with per-channel ``costs`` (each open
    ticket uses ``costs[channel]`` units, 1 when the channel is not listed).

    Attributes:
        id: Unique agent id.
        name: Display name.
        groups: Groups / teams the agent belongs to.
        skills: Skill name to proficiency (a whole number, e.g. 1–5).
        languages: Languages the agent works in.
        attributes: Free attributes (``region``, ``tier`` …), read in conditions as
            ``agent.region``; names may not be one of
            [`RESERVED_AGENT_NAMES`][csmkit.routing.RESERVED_AGENT_NAMES].
        capacity: Per-channel limits, or one unified limit.
        costs: Units per ticket of each channel for a unified capacity.
        presence: ``available``, ``away`` or ``offline``.
        shift: Optional [`ShiftCalendar`][csmkit.routing.ShiftCalendar]; the agent is routed to only
            while it is open.
        shift_name: Name of the shift for [`to_dict()`][csmkit.routing.Agent.to_dict] (calendars are
            not serialized).

    Examples:
        >>> a = Agent(id="e7", skills={"hvac": 4}, attributes={"region": "east"}, capacity=3)
        >>> a.view["region"], a.headroom("phone", {"phone": 2})
        ('east', 1)
    """

    id: str
    name: str = ""
    groups: frozenset[str] = attrs.field(default=frozenset())
    skills: Mapping[str, int] = attrs.field(default=MappingProxyType({}))
    languages: frozenset[str] = attrs.field(default=frozenset())
    attributes: Mapping[str, Any] = attrs.field(default=MappingProxyType({}))
    capacity: int | Mapping[str, int] = 1
    costs: Mapping[str, int] = attrs.field(default=MappingProxyType({}))
    presence: Presence = Presence.AVAILABLE
    shift: ShiftCalendar | None = attrs.field(default=None, eq=False)
    shift_name: str | None = None
    _view: Mapping[str, Any] = attrs.field(init=False, eq=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mapping views cannot be pickled; the view index is derived.
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        where = f"agent {self.id!r}"
        if not isinstance(self.id, str) or not self.id:
            raise RoutingError(f"agent id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.name, str):
            raise RoutingError(f"{where}.name: expected a string, got {self.name!r}")
        set_ = object.__setattr__
        set_(self, "groups", _str_set(self.groups, f"{where}.groups"))
        set_(self, "languages", _str_set(self.languages, f"{where}.languages"))
        set_(self, "skills", _counts(self.skills, f"{where}.skills"))
        set_(self, "costs", _counts(self.costs, f"{where}.costs"))
        if isinstance(self.capacity, Mapping):
            set_(self, "capacity", _counts(self.capacity, f"{where}.capacity"))
            if self.costs:
                raise RoutingError(
                    f"{where}.costs: only a unified (single number) capacity has costs"
                )
        else:
            set_(self, "capacity", _count(self.capacity, f"{where}.capacity"))
        try:
            set_(self, "presence", Presence(self.presence))
        except ValueError:
            raise RoutingError(
                f"{where}.presence: {self.presence!r} is not one of available, away, offline"
            ) from None
        set_(self, "shift", _optional_shift(self.shift))
        if not isinstance(self.attributes, Mapping):
            raise RoutingError(f"{where}.attributes: expected a mapping, got {self.attributes!r}")
        attributes: dict[str, Any] = {}
        for key in sorted(self.attributes, key=str):
            value = self.attributes[key]
            if not isinstance(key, str) or not key.isidentifier():
                raise RoutingError(f"{where}.attributes: {key!r} is not a valid name")
            if key in RESERVED_AGENT_NAMES:
                raise RoutingError(
                    f"{where}.attributes: {key!r} is reserved for the agent's own field"
                )
            if not isinstance(value, _SCALARS) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                raise RoutingError(
                    f"{where}.attributes.{key}: {value!r} is not a string, number, boolean or null"
                )
            attributes[key] = value
        set_(self, "attributes", MappingProxyType(attributes))
        view: dict[str, Any] = dict(attributes)
        view.update(
            id=self.id,
            name=self.name,
            groups=tuple(sorted(self.groups)),
            skills=self.skills,
            languages=tuple(sorted(self.languages)),
            presence=self.presence.value,
            attributes=self.attributes,
        )
        set_(self, "_view", MappingProxyType(view))

    # ------------------------------------------------------------------ views
    @property
    def view(self) -> Mapping[str, Any]:
        """What conditions see as ``agent``: own fields plus attributes at the top level."""
        return self._view

    # ------------------------------------------------------------------ capacity
    def used_units(self, loads: Mapping[str, int]) -> int:
        """Capacity units used by ``loads`` (channel to open tickets), unified capacity."""
        return sum(count * self.costs.get(channel, 1) for channel, count in loads.items())

    def headroom(self, channel: str, loads: Mapping[str, int]) -> int:
        """How many more tickets of ``channel`` fit next to ``loads`` (0 = full)."""
        if isinstance(self.capacity, int):
            cost = self.costs.get(channel, 1)
            spare = self.capacity - self.used_units(loads)
            if cost == 0:
                return 1 if spare >= 0 else 0
            return max(0, spare // cost)
        return max(0, self.capacity.get(channel, 0) - loads.get(channel, 0))

    def load_ratio(self, channel: str, loads: Mapping[str, int]) -> float:
        """Used share of the capacity that ``channel`` draws on (1.0 when it is zero)."""
        if isinstance(self.capacity, int):
            return self.used_units(loads) / self.capacity if self.capacity else 1.0
        limit = self.capacity.get(channel, 0)
        return loads.get(channel, 0) / limit if limit else 1.0

    def spare(self, channel: str, loads: Mapping[str, int]) -> int:
        """Unused capacity in units (unified) or tickets of ``channel`` (per channel)."""
        if isinstance(self.capacity, int):
            return self.capacity - self.used_units(loads)
        return self.capacity.get(channel, 0) - loads.get(channel, 0)

    # ------------------------------------------------------------------ dict form
    def to_dict(self) -> dict[str, Any]:
        """Plain data (the shift by its ``shift_name``)."""
        out: dict[str, Any] = {"id": self.id}
        if self.name:
            out["name"] = self.name
        out["groups"] = sorted(self.groups)
        out["skills"] = dict(self.skills)
        out["languages"] = sorted(self.languages)
        out["attributes"] = dict(self.attributes)
        out["capacity"] = self.capacity if isinstance(self.capacity, int) else dict(self.capacity)
        if self.costs:
            out["costs"] = dict(self.costs)
        out["presence"] = self.presence.value
        if self.shift_name is not None:
            out["shift"] = self.shift_name
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, calendars: Mapping[str, ShiftCalendar] | None = None
    ) -> Agent:
        """Build from [`to_dict()`][csmkit.routing.Agent.to_dict] data; ``shift`` names a calendar
        in ``calendars``.

        Raises:
            RoutingError: unknown keys, invalid values, or an unknown shift name.
        """
        if not isinstance(data, Mapping):
            raise RoutingError(f"agent: expected a mapping, got {data!r}")
        allowed = {
            "id",
            "name",
            "groups",
            "skills",
            "languages",
            "attributes",
            "capacity",
            "costs",
            "presence",
            "shift",
        }
        unknown = sorted(set(data) - allowed, key=str)
        if unknown:
            raise RoutingError(f"agent {data.get('id')!r}: unknown keys {unknown}")
        kwargs = {k: v for k, v in data.items() if k != "shift"}
        shift_name = data.get("shift")
        shift = None
        if shift_name is not None:
            if calendars is None or shift_name not in calendars:
                raise RoutingError(
                    f"agent {data.get('id')!r}.shift: unknown calendar {shift_name!r}"
                )
            shift = calendars[shift_name]
        return cls(**kwargs, shift=shift, shift_name=shift_name)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


class AgentPool:
    """An immutable, validated set of agents with indexes for sublinear routing.

    Indexes: by group, language, attribute value (every scalar in
        [`Agent.view`][csmkit.routing.Agent.view]) and
    skill level. Build the pool once and reuse it across
    [`Router.route()`][csmkit.routing.Router.route] calls; ``route`` also accepts a plain list
    (indexed on every call, so slower).

    Raises:
        RoutingError: duplicate agent ids (naming them), or a non-[`Agent`][csmkit.routing.Agent]
            item.
    """

    __slots__ = (
        "_agents",
        "_attrs",
        "_by_id",
        "_cache",
        "_groups",
        "_languages",
        "_levels",
        "_skills",
    )

    def __init__(self, agents: Iterable[Agent]) -> None:
        """Index ``agents`` (order is kept for explanations)."""
        items = tuple(agents)
        by_id: dict[str, Agent] = {}
        duplicates: list[str] = []
        for index, agent in enumerate(items):
            if not isinstance(agent, Agent):
                raise RoutingError(f"agents[{index}]: expected an Agent, got {agent!r}")
            if agent.id in by_id:
                duplicates.append(agent.id)
            by_id[agent.id] = agent
        if duplicates:
            raise RoutingError(f"duplicate agent ids: {sorted(set(duplicates))}")
        self._agents = items
        self._by_id = by_id
        groups: dict[str, set[str]] = {}
        languages: dict[str, set[str]] = {}
        attributes: dict[tuple[str, Any], set[str]] = {}
        skills: dict[str, list[tuple[int, str]]] = {}
        for agent in items:
            for group in agent.groups:
                groups.setdefault(group, set()).add(agent.id)
            for language in agent.languages:
                languages.setdefault(language, set()).add(agent.id)
            for key, value in agent.view.items():
                if isinstance(value, _SCALARS):
                    attributes.setdefault((key, value), set()).add(agent.id)
            for skill, level in agent.skills.items():
                skills.setdefault(skill, []).append((level, agent.id))
        self._groups = {k: frozenset(v) for k, v in groups.items()}
        self._languages = {k: frozenset(v) for k, v in languages.items()}
        self._attrs = {k: frozenset(v) for k, v in attributes.items()}
        self._skills = {k: sorted(v) for k, v in skills.items()}
        self._levels = {k: [level for level, _ in v] for k, v in self._skills.items()}
        self._cache: dict[Any, frozenset[str]] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # The indexes are derived: pickle the agents and index them again on load.
        return (AgentPool, (self._agents,))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgentPool):
            return NotImplemented
        return self._agents == other._agents

    def __hash__(self) -> int:
        return hash(tuple(agent.id for agent in self._agents))

    @classmethod
    def coerce(cls, agents: AgentPool | Iterable[Agent]) -> AgentPool:
        """Return ``agents`` if it is a pool, else index it."""
        return agents if isinstance(agents, AgentPool) else cls(agents)

    def __len__(self) -> int:
        return len(self._agents)

    def __iter__(self) -> Iterator[Agent]:
        return iter(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._by_id

    def __getitem__(self, agent_id: str) -> Agent:
        try:
            return self._by_id[agent_id]
        except KeyError:
            raise RoutingError(f"unknown agent id {agent_id!r}") from None

    def get(self, agent_id: str) -> Agent | None:
        """The agent with ``agent_id``, or ``None``."""
        return self._by_id.get(agent_id)

    # ------------------------------------------------------------------ index lookups
    def in_group(self, group: str) -> frozenset[str]:
        """Ids of agents in ``group``."""
        return self._groups.get(group, frozenset())

    def speaking(self, language: str) -> frozenset[str]:
        """Ids of agents working in ``language``."""
        return self._languages.get(language, frozenset())

    def with_value(self, key: str, value: Any) -> frozenset[str] | None:
        """Ids of agents whose ``view[key] == value``; ``None`` when not indexable."""
        if not isinstance(value, _SCALARS) or not _hashable(value):
            return None
        if isinstance(value, float) and math.isnan(value):
            return frozenset()
        return self._attrs.get((key, value), frozenset())

    def with_skill(self, skill: str, minimum: float, *, strict: bool = False) -> frozenset[str]:
        """Ids of agents with ``skill`` at level ``>= minimum`` (``> minimum`` if strict)."""
        key = ("skill", skill, minimum, strict)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        levels = self._levels.get(skill, [])
        if strict:
            start = bisect.bisect_right(levels, minimum)
        else:
            start = bisect.bisect_left(levels, minimum)
        result = frozenset(agent_id for _, agent_id in self._skills.get(skill, [])[start:])
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = result
        return result

    def intersect_cached(self, key: Any, build: Any) -> frozenset[str]:
        """Memoise an intersection of index sets under ``key`` (the pool never changes)."""
        hit = self._cache.get(key)
        if hit is None:
            hit = build()
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = hit
        return hit
