"""Heaps with lazy invalidation: the best eligible candidate without scoring them all.

For a strategy with ``agent_score`` (an agent's score depends only on that agent and its
own entries in the routing state), the router keeps one heap per candidate set (the
agents an index intersection yields, e.g. "hvac >= 3 in region east") ordered by
``(score, agent id)`` — the strategy's order with the lowest-id tie-break.

Keeping heaps right across immutable snapshots: every [`RoutingState`][csmkit.routing.RoutingState]
carries a lineage, the list of agents each successive snapshot changed. A cache is synced to one
``(lineage, version)``; moving it to another version of the same lineage (forwards or
backwards) replays only the agents changed in between: each gets a new per-agent version,
and every heap holding it notes it as pending; a heap gives a pending agent a fresh entry,
scored in the synced state, when it is next used (so a change costs one entry in the heap
that is used, not one in every heap of the agent). An entry whose version is not its
agent's current one is stale and dropped when it reaches the top. So every agent has exactly one
valid entry, keyed by its true score in the synced state, and the first valid entry is
the minimum. Filters the indexes cannot answer (exclusions, other target conditions,
shift, capacity) are checked on popped entries in order until one passes; the popped
valid entries are pushed back. A state of an unrelated lineage resets the cache.

None of this changes an answer: the cache only stores what a full evaluation of the same
snapshot would compute; a property test compares it with brute force.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from csmkit.routing._agents import Agent, AgentPool
from csmkit.routing._state import RoutingState, _Lineage

__all__ = ["AgentScore", "ChoiceCache"]

AgentScore = Callable[[Agent, RoutingState, str, tuple[str, ...]], tuple[float, ...]]
# (*score, agent id, per-agent version): flat, so the heap compares plain tuples.
Entry = tuple[Any, ...]

_MAX_HEAPS = 4096


def _path(lineage: _Lineage | None, version: int) -> list[tuple[_Lineage, int]]:
    out = []
    while lineage is not None:
        out.append((lineage, version))
        version = lineage.base
        lineage = lineage.parent
    return out


def _changes_between(a: _Lineage, a_version: int, b: _Lineage, b_version: int) -> set[str] | None:
    """Agents changed between two snapshots, ``None`` when their lineages are unrelated."""
    a_path, b_path = _path(a, a_version), _path(b, b_version)
    a_index = {id(lineage): i for i, (lineage, _) in enumerate(a_path)}
    found = next(
        (
            (a_index[id(lineage)], j)
            for j, (lineage, _) in enumerate(b_path)
            if id(lineage) in a_index
        ),
        None,
    )
    if found is None:
        return None
    i, j = found
    common, b_at = b_path[j]
    a_at = a_path[i][1]
    changed = set(common.changes[min(a_at, b_at) : max(a_at, b_at)])
    for lineage, at in (*a_path[:i], *b_path[:j]):
        changed.update(lineage.changes[:at])
    return changed


class _Heap:
    __slots__ = ("channel", "entries", "members", "pending", "score", "skills")

    def __init__(
        self,
        members: frozenset[str],
        score: AgentScore,
        channel: str,
        skills: tuple[str, ...],
    ) -> None:
        self.members = members
        self.score = score
        self.channel = channel
        self.skills = skills
        self.entries: list[Entry] = []
        # Members changed since their entry was pushed: pushed again when next used.
        self.pending: set[str] = set()


class ChoiceCache:
    """Heaps of candidate sets of one [`AgentPool`][csmkit.routing.AgentPool], synced to one state
    snapshot.

    Not thread-safe by itself: callers hold `lock` around `sync()` and
    `choose()`.
    """

    __slots__ = (
        "_heaps",
        "_lineage",
        "_member_of",
        "_version",
        "_versions",
        "lock",
        "memo",
        "pool",
    )

    def __init__(self, pool: AgentPool) -> None:
        """An empty cache for ``pool``."""
        self.pool = pool
        self.lock = threading.Lock()
        # The router's candidate sets per (plan, ticket values) for this pool.
        self.memo: dict[Any, Any] = {}
        self._lineage: _Lineage | None = None
        self._version = 0
        self._heaps: dict[Hashable, _Heap] = {}
        self._member_of: dict[str, list[_Heap]] = {}
        self._versions: dict[str, int] = {}

    def _reset(self) -> None:
        self._heaps.clear()
        self._member_of.clear()
        self._versions.clear()

    def sync(self, state: RoutingState) -> None:
        """Make every heap reflect ``state`` (replaying the agents changed since)."""
        lineage, version = state._lineage, state._version
        if lineage is self._lineage:
            if version != self._version:
                low, high = sorted((version, self._version))
                self._refresh(set(lineage.changes[low:high]), state)
        elif self._lineage is not None:
            changed = _changes_between(self._lineage, self._version, lineage, version)
            if changed is None or len(changed) > len(self.pool):
                self._reset()
            else:
                self._refresh(changed, state)
        self._lineage, self._version = lineage, version

    def _refresh(self, changed: Iterable[str], state: RoutingState) -> None:
        versions, member_of = self._versions, self._member_of
        for agent_id in changed:
            versions[agent_id] = versions.get(agent_id, 0) + 1
            heaps = member_of.get(agent_id)
            if heaps:
                for heap in heaps:
                    heap.pending.add(agent_id)

    def _flush(self, heap: _Heap, state: RoutingState) -> None:
        """Fresh entries for the heap's pending members, scored in ``state``."""
        versions, get, entries = self._versions, self.pool._by_id.get, heap.entries
        score, channel, skills = heap.score, heap.channel, heap.skills
        push = heapq.heappush
        for agent_id in heap.pending:
            agent = get(agent_id)
            if agent is not None:
                push(entries, (*score(agent, state, channel, skills), agent_id, versions[agent_id]))
        heap.pending.clear()
        if len(entries) > 2 * len(heap.members) + 16:
            entries[:] = [e for e in entries if e[-1] == versions.get(e[-2], 0)]
            heapq.heapify(entries)

    def heap(
        self,
        key: Hashable,
        members: frozenset[str],
        score: AgentScore,
        channel: str,
        skills: tuple[str, ...],
        state: RoutingState,
    ) -> _Heap:
        """The heap of ``members`` under ``key`` (built from ``state`` when new).

        ``state`` must be the snapshot the cache was last synced to.
        """
        heap = self._heaps.get(key)
        if heap is not None:
            if heap.pending:
                self._flush(heap, state)
            return heap
        if len(self._heaps) >= _MAX_HEAPS:
            self._reset()  # versions restart too: every remaining heap is rebuilt anyway
        heap = self._heaps[key] = _Heap(members, score, channel, skills)
        pool, versions, member_of = self.pool, self._versions, self._member_of
        entries = []
        for agent_id in members:
            entries.append(
                (
                    *score(pool[agent_id], state, channel, skills),
                    agent_id,
                    versions.get(agent_id, 0),
                )
            )
            member_of.setdefault(agent_id, []).append(heap)
        heapq.heapify(entries)
        heap.entries = entries
        return heap

    def choose(
        self, heap: _Heap, accept: Callable[[str, tuple[float, ...]], bool]
    ) -> tuple[str | None, int]:
        """Walk ``heap`` in ``(score, id)`` order until ``accept(agent_id, score)`` holds.

        Returns:
            The accepted agent (``None`` when nobody was) and how many were examined.
        """
        entries, versions = heap.entries, self._versions
        pop = heapq.heappop
        while entries:  # stale entries on top are dropped
            top = entries[0]
            if top[-1] == versions.get(top[-2], 0):
                break
            pop(entries)
        else:
            return None, 0
        if accept(top[-2], top[:-2]):
            return top[-2], 1  # the usual case: the top is taken and stays where it is
        popped: list[Entry] = [pop(entries)]
        try:
            while entries:
                entry = pop(entries)
                agent_id = entry[-2]
                if entry[-1] != versions.get(agent_id, 0):
                    continue  # stale: the agent changed after this entry was pushed
                popped.append(entry)
                if accept(agent_id, entry[:-2]):
                    return agent_id, len(popped)
            return None, len(popped)
        finally:
            for entry in popped:
                heapq.heappush(entries, entry)
