"""Target conditions split into filters, and the index plan that answers them fast.

A target such as ``agent.skills.hvac >= 3 and agent.region == ticket.fields.region`` is
split at its top-level ``and`` into filters (``target[0]``, ``target[1]`` …). Filters of a
shape the [`AgentPool`][csmkit.routing.AgentPool] indexes (equality with a literal or a ticket
value, skill level at least N, membership in groups / languages, ``agent.x in [...]``) are
answered from the indexes; the rest are evaluated on the remaining candidates only. Both
ways give the same answer as evaluating the condition itself (a property test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from csmkit.conditions import And, Compare, Condition, Literal, Name, resolve
from csmkit.routing._agents import AgentPool

__all__ = ["TargetFilter", "split_target"]

_SCALARS = (str, int, float, bool)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "=="}


def _plan(node: Any) -> tuple[Any, ...] | None:
    """The index plan of one conjunct, or ``None`` when it must be evaluated."""
    if not isinstance(node, Compare):
        return None
    left, op, right = node.left, node.op, node.right
    if (
        op in _FLIP
        and isinstance(right, Name)
        and right.path[0] == "agent"
        and not (isinstance(left, Name) and left.path[0] == "agent")
    ):
        left, right, op = right, left, _FLIP[op]
    if (
        op == "in"
        and isinstance(right, Name)
        and right.path
        in (
            ("agent", "groups"),
            ("agent", "languages"),
        )
    ):
        kind = right.path[1]
        if isinstance(left, Literal) and isinstance(left.value, str):
            return (kind, "literal", left.value)
        if isinstance(left, Name) and left.path[0] == "ticket":
            return (kind, "ticket", left.path)
        return None
    if not isinstance(left, Name) or left.path[0] != "agent":
        return None
    path = left.path[1:]
    if len(path) == 2 and path[0] == "skills" and op in (">=", ">"):
        if isinstance(right, Literal) and _number(right.value):
            return ("skill", path[1], right.value, op == ">")
        return None
    if len(path) != 1 or path[0] in ("skills", "attributes", "groups", "languages"):
        return None
    key = path[0]
    if op == "==":
        if isinstance(right, Literal) and isinstance(right.value, _SCALARS):
            return ("eq", key, "literal", right.value)
        if isinstance(right, Name) and right.path[0] == "ticket":
            return ("eq", key, "ticket", right.path)
        return None
    if (
        op == "in"
        and isinstance(right, Literal)
        and isinstance(right.value, tuple)
        and all(isinstance(v, _SCALARS) for v in right.value)
    ):
        return ("one_of", key, right.value)
    return None


@attrs.frozen
class TargetFilter:
    """One conjunct of a target condition, as a named eligibility filter.

    Attributes:
        name: ``target[i]`` (its place in the top-level ``and``).
        condition: The conjunct alone.
        plan: How the agent pool's indexes answer it, or ``None`` (evaluated per agent).
    """

    name: str
    condition: Condition
    plan: tuple[Any, ...] | None = attrs.field(eq=False)

    @property
    def ticket_path(self) -> tuple[str, ...] | None:
        """The ticket name the index lookup needs (``("ticket", "fields", "region")``)."""
        plan = self.plan
        if plan is None:
            return None
        if plan[0] == "eq" and plan[2] == "ticket":
            return plan[3]  # type: ignore[no-any-return]
        if plan[0] in ("groups", "languages") and plan[1] == "ticket":
            return plan[2]  # type: ignore[no-any-return]
        return None

    def lookup(self, pool: AgentPool, ticket: Any) -> tuple[Any, frozenset[str]] | None:
        """``(cache key, ids of agents passing)`` from the indexes, ``None`` if not indexed."""
        path = self.ticket_path
        return self.lookup_value(pool, None if path is None else resolve({"ticket": ticket}, path))

    def lookup_value(self, pool: AgentPool, value: Any) -> tuple[Any, frozenset[str]] | None:
        """[`lookup()`][csmkit.routing.TargetFilter.lookup] given the value at
        [`ticket_path`][csmkit.routing.TargetFilter.ticket_path] (``None`` when it has none)."""
        if self.plan is None:
            return None
        found = self._lookup(pool, value)
        return None if found is None else ((self.plan, type(value), value), found)

    def _lookup(self, pool: AgentPool, ticket_value: Any) -> frozenset[str] | None:
        plan = self.plan
        assert plan is not None
        kind = plan[0]
        if kind in ("groups", "languages"):
            value = plan[2] if plan[1] == "literal" else ticket_value
            if not isinstance(value, str):
                return None
            return pool.in_group(value) if kind == "groups" else pool.speaking(value)
        if kind == "skill":
            return pool.with_skill(plan[1], plan[2], strict=plan[3])
        if kind == "eq":
            value = plan[3] if plan[2] == "literal" else ticket_value
            if value is None:
                return None  # ``agent.x == None`` also matches agents without ``x``
            return pool.with_value(plan[1], value)
        if kind == "one_of":
            key = ("one_of", plan[1], plan[2])

            def build() -> frozenset[str]:
                out: set[str] = set()
                for value in plan[2]:
                    out |= pool.with_value(plan[1], value) or frozenset()
                return frozenset(out)

            return pool.intersect_cached(key, build)
        return None  # pragma: no cover - every plan kind is handled above

    def describe_failure(self, context: Mapping[str, Any]) -> str:
        """Why the filter failed: the condition and the values of the names it reads."""
        shown = ", ".join(
            f"{name} = {_canonical(resolve(context, name))!r}" for name in self.condition.names
        )
        return f"{self.condition} is false ({shown})" if shown else f"{self.condition} is false"


def _canonical(value: Any) -> Any:
    """``value`` with mappings and sets in sorted order, so its text is the same every run."""
    if isinstance(value, Mapping):
        return {key: _canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(item) for item in value), key=repr)
    if isinstance(value, (list, tuple)):
        return (
            type(value)(_canonical(item) for item in value)
            if type(value) in (list, tuple)
            else value
        )
    return value


def split_target(condition: Condition | None) -> tuple[TargetFilter, ...]:
    """Split ``condition`` at its top-level ``and`` into filters (none for ``None``)."""
    if condition is None:
        return ()
    items: list[Any] = []

    def flatten(node: Any) -> None:
        if isinstance(node, And):
            for item in node.items:
                flatten(item)
        else:
            items.append(node)

    flatten(condition.tree)
    return tuple(
        TargetFilter(f"target[{i}]", Condition(node), _plan(node)) for i, node in enumerate(items)
    )
