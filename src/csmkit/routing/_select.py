"""Rule selection without evaluating every rule: a dispatch table on ``ticket.x == literal``.

Desks often write one rule per product, skill or queue (``ticket.fields.skill == "hvac"``).
Selecting the first matching rule then costs one condition per rule before it. This index
groups consecutive rules whose ``when`` starts with an equality between the same ticket
name and a literal, and looks the ticket's value up in a dict instead. The answer is the
same as [`RoutingRules.select()`][csmkit.routing.RoutingRules.select]: rules are still tried in
order, and a rule is skipped only when its leading equality is false (so, by ``and``
short-circuiting, nothing else of it would have been evaluated either).
"""

from __future__ import annotations

import math
from typing import Any

from csmkit.conditions import And, Compare, Condition, Literal, Name, resolve
from csmkit.routing._rules import RoutingRule, RoutingRules
from csmkit.timeline import Ticket

__all__ = ["RuleIndex", "ticket_value"]

# Exact types for which dict lookup agrees with ``==`` (an enum or str subclass may not).
_EXACT = (str, int, float, bool)


def ticket_value(ticket: Any, path: tuple[str, ...]) -> Any:
    """``resolve({"ticket": ticket}, path)`` for a ``ticket.…`` path, reading a form field
    of a [`Ticket`][csmkit.timeline.Ticket] directly (its ``fields`` is always a mapping, so
    ``resolve`` would read the same key of it)."""
    if len(path) == 3 and path[1] == "fields" and type(ticket) is Ticket:
        return ticket.fields.get(path[2])
    return resolve({"ticket": ticket}, path)


def _leading_equality(
    condition: Condition | None,
) -> tuple[tuple[str, ...], Any, bool] | None:
    """``(ticket name path, literal, whole)`` when ``condition`` starts with ``name == literal``.

    ``whole`` tells that the equality is the entire condition (no ``and`` after it).
    """
    if condition is None:
        return None
    node = condition.tree
    whole = not isinstance(node, And)
    if isinstance(node, And):
        node = node.items[0]
    if not isinstance(node, Compare) or node.op != "==":
        return None
    left, right = node.left, node.right
    if isinstance(left, Literal) and isinstance(right, Name):
        left, right = right, left
    if not (isinstance(left, Name) and isinstance(right, Literal)):
        return None
    value = right.value
    if left.path[0] != "ticket" or type(value) not in _EXACT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return left.path, value, whole


class RuleIndex:
    """[`RoutingRules.select()`][csmkit.routing.RoutingRules.select] in (about) one dict lookup per
    run of keyed rules."""

    __slots__ = ("_default", "_runs")

    def __init__(self, rules: RoutingRules) -> None:
        """Group ``rules`` into runs sharing one leading ``ticket.x == literal`` name."""
        # A run: (ticket name path or None, its rules, value -> [(rule, decided)]) where
        # ``decided`` says the dict hit alone proves the rule matches.
        runs: list[tuple[tuple[str, ...] | None, list[RoutingRule], dict[Any, list[Any]]]]
        runs = []
        for rule in rules.rules:
            key = _leading_equality(rule.when)
            if key is None:
                runs.append((None, [rule], {}))
                continue
            path, value, whole = key
            if not runs or runs[-1][0] != path:
                runs.append((path, [], {}))
            runs[-1][1].append(rule)
            runs[-1][2].setdefault(value, []).append((rule, whole))
        self._runs = tuple(
            (path, tuple((rule, False) for rule in run), {k: tuple(v) for k, v in table.items()})
            for path, run, table in runs
        )
        self._default = rules.default

    def select(self, ticket: Any) -> RoutingRule:
        """The first rule whose ``when`` holds for ``ticket``, else the default rule."""
        for path, run, table in self._runs:
            if path is None:
                candidates = run
            else:
                value = ticket_value(ticket, path)
                candidates = table.get(value, ()) if type(value) in _EXACT else run
            for rule, decided in candidates:
                if decided or rule.matches(ticket):
                    return rule
        return self._default
