"""The digest of the desk's routing state: a 64-bit sum of one hash per load entry, last
assignment and customer, kept with the state (`Tracked`), so that it costs O(1) per
change and is the same in every process (it is stored on routed ``Assigned`` events and
checked by other processes)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from csmkit.routing import RoutingState

__all__ = ["Tracked"]

_MASK = (1 << 64) - 1
_Load = tuple[str, str]


_BASES: dict[tuple[str, ...], int] = {}


def _base(*parts: str) -> int:
    """A 64-bit hash of ``parts`` that does not depend on the process (str hashes are
    salted per process, and digests are stored and checked by other processes)."""
    value = _BASES.get(parts)
    if value is None:
        if len(_BASES) > 1 << 18:
            _BASES.clear()
        text = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        value = _BASES[parts] = int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")
    return value


def _mix(value: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit function of a 64-bit value."""
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _load_hash(agent: str, channel: str, count: int) -> int:
    # _mix(_base("L", agent, channel) ^ count), the mix written out (a hot path)
    value = _base("L", agent, channel) ^ count
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _last_hash(agent: str, key: tuple[int, float, int]) -> int:
    micros = round(key[1] * 1_000_000)  # exact for instants of this era, and deterministic
    # _mix(_mix(_base("A", agent) ^ (micros & _MASK)) ^ key[2]), the mixes written out
    value = _base("A", agent) ^ (micros & _MASK)
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    value = value ^ (value >> 31) ^ key[2]
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _customer_hash(customer: str, agent: str) -> int:
    return _mix(_base("C", customer, agent))


class Tracked:
    """A [`RoutingState`][csmkit.routing.RoutingState] and a digest of its value, changed together.

    The digest sums one hash per load entry, last assignment and customer, so it is a
    function of the state's value (whatever order it was built in) and costs O(1) per
    change.
    """

    __slots__ = ("customers", "last", "loads", "state")

    def __init__(self) -> None:
        self.state = RoutingState()
        self.loads = self.last = self.customers = 0

    def copy(self) -> Tracked:
        new = Tracked.__new__(Tracked)
        new.state, new.loads, new.last, new.customers = (
            self.state,
            self.loads,
            self.last,
            self.customers,
        )
        return new

    def digest(self) -> str:
        seq = self.state.sequence
        value = _mix(_mix(_mix(_mix(seq) ^ self.loads) ^ self.last) ^ self.customers)
        return f"{seq}-{value:016x}"

    def set_load(self, agent: str, channel: str, count: int) -> None:
        old = self.state.load(agent, channel)
        if old == count:
            return
        if old:
            self.loads = (self.loads - _load_hash(agent, channel, old)) & _MASK
        if count:
            self.loads = (self.loads + _load_hash(agent, channel, count)) & _MASK
        self.state = self.state.with_load(agent, channel, count)

    def add_load(self, load: _Load | None, delta: int) -> None:
        if load is not None:
            self.set_load(load[0], load[1], self.state.load(load[0], load[1]) + delta)

    def assign(self, agent: str, channel: str, at: datetime, customer: str | None) -> None:
        """As [`RoutingState.assign()`][csmkit.routing.RoutingState.assign] (one more ``channel``
        ticket for ``agent``)."""
        state = self.state
        old_key = state.last_assignment_key(agent)
        last = self.last - _last_hash(agent, old_key) if old_key[0] else self.last
        count = state.loads(agent).get(channel, 0)
        loads = self.loads - _load_hash(agent, channel, count) if count else self.loads
        if customer is not None:
            previous = state.agent_for_customer(customer)
            if previous is not None:
                self.customers = (self.customers - _customer_hash(customer, previous)) & _MASK
            self.customers = (self.customers + _customer_hash(customer, agent)) & _MASK
        self.state = state = state.assign(agent, channel, at, customer_id=customer)
        self.loads = (loads + _load_hash(agent, channel, count + 1)) & _MASK
        # the agent's new key: state.last_assignment_key(agent), without looking it up
        self.last = (last + _last_hash(agent, (1, at.timestamp(), state.sequence))) & _MASK

    def set_last(self, agent: str, at: datetime, sequence: int) -> None:
        """The agent's last assignment is the ``sequence``-th, at ``at`` (as
        `RoutingState.with_last_assignment()`)."""
        state = self.state
        old_key = state.last_assignment_key(agent)
        if old_key[0]:
            self.last = (self.last - _last_hash(agent, old_key)) & _MASK
        self.state = state = state.with_last_assignment(agent, at, sequence)
        self.last = (self.last + _last_hash(agent, state.last_assignment_key(agent))) & _MASK

    def set_customer(self, customer: str, agent: str) -> None:
        """As [`RoutingState.with_customer()`][csmkit.routing.RoutingState.with_customer]."""
        previous = self.state.agent_for_customer(customer)
        if previous == agent:
            return
        if previous is not None:
            self.customers = (self.customers - _customer_hash(customer, previous)) & _MASK
        self.customers = (self.customers + _customer_hash(customer, agent)) & _MASK
        self.state = self.state.with_customer(customer, agent)
