"""The explicit, immutable routing state: load per agent and channel, last assignments."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from csmkit._time import format_instant, parse_instant, require_aware
from csmkit.errors import RoutingError

if TYPE_CHECKING:
    from csmkit.routing._decision import Decision, Pick

__all__ = ["RoutingState"]

V = TypeVar("V")
_FANOUT = 32  # two levels of 32: 1,024 leaf dicts
_BUCKETS = _FANOUT * _FANOUT
_EMPTY_LOADS: Mapping[str, int] = MappingProxyType({})


def _bucket(key: str) -> int:
    # The process's own str hash (cached in the string: no memo to look up). A state is
    # pickled as its dict form (``RoutingState.__reduce__``), so another process lays
    # the buckets out with its own hashes.
    return hash(key) & (_BUCKETS - 1)


_MAX_LINEAGE = 1 << 16
_MAX_DEPTH = 8


class _Lineage:
    """Which agent each successive snapshot of one line of descent changed.

    Not part of a state's value: routing caches (the router's heaps) read it to learn
    which agents changed between two snapshots without diffing them. Snapshot ``v`` of a
    lineage is its base (the parent lineage's snapshot ``base``, or the content it was
    started with) after ``changes[:v]``. Only the newest snapshot extends a lineage; any
    other derivation forks a child lineage, so every ``(lineage, version)`` names exactly
    one content of loads and last assignments.
    """

    __slots__ = ("base", "changes", "depth", "lock", "parent")

    def __init__(self, parent: _Lineage | None = None, base: int = 0) -> None:
        self.changes: list[str] = []
        self.lock = threading.Lock()
        # A bounded parent chain: forks of forks of ... eventually start afresh.
        self.parent: _Lineage | None = None
        self.base = 0
        self.depth: int = 0
        if parent is not None and parent.depth < _MAX_DEPTH:
            self.parent, self.base, self.depth = parent, base, parent.depth + 1


# Every empty state starts here, so routing caches see fresh states as related.
_EMPTY_LINEAGE = _Lineage()


class _PersistentMap(Generic[V]):
    """A tiny persistent map: a two-level, 32-way tree of 1,024 dict buckets.

    An update copies one small bucket and two 32-slot tuples, not the map, so it costs
    about ``n / 1024`` entries plus 64 slots whatever the number of agents.
    """

    __slots__ = ("_buckets", "_size")

    def __init__(
        self, buckets: tuple[tuple[dict[str, V], ...], ...] | None = None, size: int = 0
    ) -> None:
        if buckets is None:
            empty: dict[str, V] = {}
            buckets = ((empty,) * _FANOUT,) * _FANOUT  # shared, never mutated
        self._buckets = buckets
        self._size = size

    def get(self, key: str) -> V | None:
        index = hash(key) & (_BUCKETS - 1)  # _bucket(key), without the call
        return self._buckets[index >> 5][index & 31].get(key)

    def set(self, key: str, value: V) -> _PersistentMap[V]:
        index = _bucket(key)
        high, low = index >> 5, index & 31
        outer = self._buckets
        inner = outer[high]
        bucket = dict(inner[low])
        size = self._size + (key not in bucket)
        bucket[key] = value
        slots = list(inner)
        slots[low] = bucket
        tops = list(outer)
        tops[high] = tuple(slots)
        return _PersistentMap(tuple(tops), size)

    def items(self) -> Iterator[tuple[str, V]]:
        for inner in self._buckets:
            for bucket in inner:
                yield from bucket.items()

    def __len__(self) -> int:
        return self._size


class RoutingState:
    """Current load per agent and channel, and each agent's last assignment — a value.

    Every change returns a new state and leaves the old one untouched, so decisions can be
    replayed against the exact snapshot they were made from. Updates cost about
    ``n / 1024`` dict entries (a two-level bucketed persistent map), not a copy of
    everything.

    Examples:
        >>> s = RoutingState().with_load("e7", "phone", 1)
        >>> s.load("e7", "phone"), RoutingState().load("e7", "phone")
        (1, 0)
    """

    __slots__ = ("_customers", "_last", "_lineage", "_loads", "_sequence", "_version")

    def __init__(self) -> None:
        """An empty state: nobody has load, nobody was ever assigned."""
        self._loads: _PersistentMap[Mapping[str, int]] = _PersistentMap()
        self._last: _PersistentMap[tuple[datetime, int]] = _PersistentMap()
        self._customers: _PersistentMap[str] = _PersistentMap()
        self._sequence = 0
        self._lineage = _EMPTY_LINEAGE
        self._version = 0

    def _replace(
        self,
        agent_id: str | None,
        loads: _PersistentMap[Mapping[str, int]],
        last: _PersistentMap[tuple[datetime, int]],
        customers: _PersistentMap[str],
        sequence: int,
    ) -> RoutingState:
        """A derived state; ``agent_id`` names the agent whose load or history changed."""
        new = RoutingState.__new__(RoutingState)
        new._loads, new._last, new._customers, new._sequence = loads, last, customers, sequence
        lineage, version = self._lineage, self._version
        if agent_id is None:
            new._lineage, new._version = lineage, version
            return new
        changes = lineage.changes
        with lineage.lock:
            extends = len(changes) == version and version < _MAX_LINEAGE
            if extends:
                changes.append(agent_id)
        if extends:
            new._lineage, new._version = lineage, version + 1
        else:
            fork = _Lineage(lineage, version)
            fork.changes.append(agent_id)
            new._lineage, new._version = fork, 1
        return new

    def __reduce__(self) -> tuple[Any, ...]:
        # The lineage (a cache hint holding a lock) is not part of the value.
        return (RoutingState.from_dict, (self.to_dict(),))

    # ------------------------------------------------------------------ reading
    @property
    def sequence(self) -> int:
        """How many assignments this state has recorded (orders equal instants)."""
        return self._sequence

    def loads(self, agent_id: str) -> Mapping[str, int]:
        """Open tickets per channel of ``agent_id`` (empty when none)."""
        index = hash(agent_id) & (_BUCKETS - 1)  # self._loads.get(agent_id), without the call
        return self._loads._buckets[index >> 5][index & 31].get(agent_id) or _EMPTY_LOADS

    def load(self, agent_id: str, channel: str | None = None) -> int:
        """Open tickets of ``agent_id`` on ``channel`` (all channels when ``None``)."""
        loads = self.loads(agent_id)
        return sum(loads.values()) if channel is None else loads.get(channel, 0)

    def last_assigned(self, agent_id: str) -> datetime | None:
        """When ``agent_id`` last received a ticket, or ``None``."""
        entry = self._last.get(agent_id)
        return entry[0] if entry else None

    def last_assignment_key(self, agent_id: str) -> tuple[int, float, int]:
        """Sort key for round robin: never-assigned first, then oldest, then earliest."""
        index = hash(agent_id) & (_BUCKETS - 1)  # self._last.get(agent_id), without the call
        entry = self._last._buckets[index >> 5][index & 31].get(agent_id)
        if entry is None:
            return (0, 0.0, 0)
        return (1, entry[0].timestamp(), entry[1])

    def agent_for_customer(self, customer_id: str) -> str | None:
        """The agent the customer's latest ticket was assigned to (for sticky routing)."""
        return self._customers.get(customer_id)

    # ------------------------------------------------------------------ changing
    def with_load(self, agent_id: str, channel: str, count: int) -> RoutingState:
        """A state where ``agent_id`` has ``count`` open tickets on ``channel``."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise RoutingError(
                f"load of {agent_id!r} on {channel!r}: {count!r} is not a count >= 0"
            )
        loads = self._set_load(agent_id, channel, count)
        return self._replace(agent_id, loads, self._last, self._customers, self._sequence)

    def _set_load(
        self, agent_id: str, channel: str, count: int
    ) -> _PersistentMap[Mapping[str, int]]:
        loads = dict(self.loads(agent_id))
        if count:
            loads[channel] = count
        else:
            loads.pop(channel, None)
        return self._loads.set(agent_id, MappingProxyType(loads))

    def release(self, agent_id: str, channel: str) -> RoutingState:
        """A state where one ticket of ``agent_id`` on ``channel`` was finished.

        Raises:
            RoutingError: the agent has no open ticket on ``channel``.
        """
        current = self.load(agent_id, channel)
        if current == 0:
            raise RoutingError(f"agent {agent_id!r} has no open {channel!r} ticket to release")
        return self.with_load(agent_id, channel, current - 1)

    def assign(
        self, agent_id: str, channel: str, at: datetime, *, customer_id: str | None = None
    ) -> RoutingState:
        """A state where ``agent_id`` received one more ``channel`` ticket at ``at``."""
        require_aware(at, "at", RoutingError)
        current = dict(self._loads.get(agent_id) or _EMPTY_LOADS)
        current[channel] = current.get(channel, 0) + 1
        loads = self._loads.set(agent_id, MappingProxyType(current))
        sequence = self._sequence + 1
        customers = self._customers
        if customer_id is not None:
            customers = customers.set(customer_id, agent_id)
        last = self._last.set(agent_id, (at, sequence))
        return self._replace(agent_id, loads, last, customers, sequence)

    def with_last_assignment(self, agent_id: str, at: datetime, sequence: int) -> RoutingState:
        """A state where the last assignment of ``agent_id`` is the ``sequence``-th, at ``at``
        (loads, the sequence and the customers unchanged).

        With [`with_customer()`][csmkit.routing.RoutingState.with_customer] and
        [`with_sequence()`][csmkit.routing.RoutingState.with_sequence], this lets a caller
        that knows every assignment in order place one that arrived late where it belongs
        (renumbering the later ones) instead of replaying them all.

        Raises:
            RoutingError: naive ``at`` or a ``sequence`` that is not a count >= 1.
        """
        require_aware(at, "at", RoutingError)
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise RoutingError(f"last assignment of {agent_id!r}: {sequence!r} is not a count >= 1")
        last = self._last.set(agent_id, (at, sequence))
        return self._replace(agent_id, self._loads, last, self._customers, self._sequence)

    def with_customer(self, customer_id: str, agent_id: str) -> RoutingState:
        """A state where ``agent_id`` took the customer's latest ticket (sticky routing)."""
        customers = self._customers.set(customer_id, agent_id)
        return self._replace(agent_id, self._loads, self._last, customers, self._sequence)

    def with_sequence(self, sequence: int) -> RoutingState:
        """A state that has recorded ``sequence`` assignments.

        Raises:
            RoutingError: ``sequence`` is not a count >= 0.
        """
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
            raise RoutingError(f"sequence: {sequence!r} is not a count >= 0")
        return self._replace(None, self._loads, self._last, self._customers, sequence)

    def apply(self, decision: Decision | Pick) -> RoutingState:
        """The state after ``decision`` (unchanged when the ticket was queued)."""
        if decision.agent is None:
            return self
        return self.assign(
            decision.agent, decision.channel, decision.at, customer_id=decision.customer_id
        )

    # ------------------------------------------------------------------ dict form
    def to_dict(self) -> dict[str, Any]:
        """Plain data, keys sorted (lossless with
        [`from_dict()`][csmkit.routing.RoutingState.from_dict])."""
        return {
            "loads": {k: dict(sorted(v.items())) for k, v in sorted(self._loads.items()) if v},
            "last_assigned": {
                k: [format_instant(at), seq] for k, (at, seq) in sorted(self._last.items())
            },
            "customers": dict(sorted(self._customers.items())),
            "sequence": self._sequence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoutingState:
        """Rebuild a state from [`to_dict()`][csmkit.routing.RoutingState.to_dict] data.

        Raises:
            RoutingError: malformed data, naming where.
        """
        if not isinstance(data, Mapping):
            raise RoutingError(f"routing state: expected a mapping, got {data!r}")
        unknown = sorted(set(data) - {"loads", "last_assigned", "customers", "sequence"})
        if unknown:
            raise RoutingError(f"routing state: unknown keys {unknown}")
        state = cls()
        for agent_id, loads in dict(data.get("loads", {})).items():
            if not isinstance(loads, Mapping):
                raise RoutingError(f"loads.{agent_id}: expected a mapping, got {loads!r}")
            for channel, count in loads.items():
                state = state.with_load(agent_id, channel, count)
        last = state._last
        for agent_id, entry in dict(data.get("last_assigned", {})).items():
            try:
                at_text, seq = entry
                at = parse_instant(at_text)
            except (TypeError, ValueError) as exc:
                raise RoutingError(
                    f"last_assigned.{agent_id}: {entry!r} is invalid ({exc})"
                ) from None
            last = last.set(agent_id, (at, int(seq)))
        customers = state._customers
        for customer, agent_id in dict(data.get("customers", {})).items():
            if not isinstance(agent_id, str):
                raise RoutingError(f"customers.{customer}: {agent_id!r} is not an agent id")
            customers = customers.set(customer, agent_id)
        sequence = data.get("sequence", 0)
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
            raise RoutingError(f"sequence: {sequence!r} is not a count >= 0")
        result = state._replace(None, state._loads, last, customers, sequence)
        result._lineage, result._version = _Lineage(), 0  # new content, new line
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RoutingState):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RoutingState(agents={len(self._loads)}, sequence={self._sequence})"
