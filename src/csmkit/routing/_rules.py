"""Routing rules: ordered ticket conditions → target, strategy and escalation steps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from csmkit._duration import format_duration, parse_duration
from csmkit.conditions import Condition
from csmkit.errors import ConditionSyntaxError, DurationError, RoutingError
from csmkit.routing._agents import RESERVED_AGENT_NAMES
from csmkit.routing._strategies import Strategy, StrategyRegistry, default_registry
from csmkit.routing._target import TargetFilter, split_target
from csmkit.timeline import Priority, Ticket

__all__ = [
    "EffectiveTarget",
    "EscalationStep",
    "RoutingRule",
    "RoutingRules",
    "format_duration",
    "parse_duration",
]

_TICKET_NAMES = frozenset(a.name for a in attrs.fields(Ticket))
_AGENT_VIEW_NAMES = RESERVED_AGENT_NAMES - {"capacity", "costs"}


def _condition(value: object, where: str, problems: list[str]) -> Condition | None:
    if value is None:
        return None
    try:
        return Condition.coerce(value)  # type: ignore[arg-type]
    except ConditionSyntaxError as exc:
        problems.append(f"{where}: {exc}")
        return None


@attrs.frozen(kw_only=True)
class EscalationStep:
    """What changes once the ticket has waited ``after`` of business time unassigned.

    Steps are cumulative: step *k* applies on top of steps before it.

    Attributes:
        after: Business time since the ticket started waiting (not since the last step).
        target: Replaces the target condition.
        widen: Drop the target's filters that read any of these names (``"agent.region"``);
            ``"*"`` drops them all (any agent of the group).
        group: Route to this group instead of the rule's.
        priority: Raise the ticket's priority to at least this.
        strategy: Use this chooser from now on.
    """

    after: timedelta
    target: Condition | None = None
    widen: tuple[str, ...] = ()
    group: str | None = None
    priority: Priority | None = None
    strategy: Strategy | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        out: dict[str, Any] = {"after": format_duration(self.after, days=False)}
        if self.target is not None:
            out["target"] = str(self.target)
        if self.widen:
            out["widen"] = list(self.widen)
        if self.group is not None:
            out["group"] = self.group
        if self.priority is not None:
            out["priority"] = self.priority.value
        if self.strategy is not None:
            out["strategy"] = self.strategy.spec()
        return out


@attrs.frozen(kw_only=True)
class EffectiveTarget:
    """A rule as it stands at one escalation step.

    Attributes:
        step: 0 for the rule itself, *k* after its *k*-th escalation step fired.
        group: Required group, if any.
        filters: The target's filters still in force.
        strategy: The chooser.
        priority: Priority the ticket is raised to (``None`` = unchanged).
    """

    step: int
    group: str | None
    filters: tuple[TargetFilter, ...]
    strategy: Strategy
    priority: Priority | None

    @property
    def skills(self) -> tuple[str, ...]:
        """Skills the filters name (``agent.skills.X``), for ``best_skill``."""
        out: set[str] = set()
        for item in self.filters:
            for name in item.condition.names:
                parts = name.split(".")
                if len(parts) == 3 and parts[:2] == ["agent", "skills"]:
                    out.add(parts[2])
        return tuple(sorted(out))


@attrs.frozen(kw_only=True)
class RoutingRule:
    """When ``when`` holds for a ticket: who may take it, how to choose, how to escalate.

    Attributes:
        name: Unique name (shown in decisions).
        when: Condition over ``ticket``; ``None`` only for the default rule.
        group: Group the agent must belong to, if any.
        target: Condition over ``agent`` and ``ticket``; ``None`` means any agent.
        strategy: The chooser.
        steps: Escalation steps with strictly increasing ``after``.
    """

    name: str
    when: Condition | None
    group: str | None = None
    target: Condition | None = None
    strategy: Strategy
    steps: tuple[EscalationStep, ...] = ()

    def matches(self, ticket: Any) -> bool:
        """Whether the rule applies to ``ticket``."""
        return self.when is None or self.when.evaluate({"ticket": ticket})

    def at_step(self, step: int) -> EffectiveTarget:
        """The rule with its first ``step`` escalation steps applied."""
        group, target, strategy = self.group, self.target, self.strategy
        filters = split_target(target)
        priority: Priority | None = None
        for item in self.steps[:step]:
            if item.target is not None:
                filters = split_target(item.target)
            if "*" in item.widen:
                filters = ()
            elif item.widen:
                filters = tuple(
                    f for f in filters if not any(_reads(f.condition, n) for n in item.widen)
                )
            if item.group is not None:
                group = item.group
            if item.priority is not None:
                priority = item.priority if priority is None else max(priority, item.priority)
            if item.strategy is not None:
                strategy = item.strategy
        return EffectiveTarget(
            step=step, group=group, filters=filters, strategy=strategy, priority=priority
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (conditions in text form)."""
        out: dict[str, Any] = {"name": self.name}
        if self.when is not None:
            out["when"] = str(self.when)
        if self.group is not None:
            out["group"] = self.group
        if self.target is not None:
            out["target"] = str(self.target)
        out["strategy"] = self.strategy.spec()
        if self.steps:
            out["steps"] = [step.to_dict() for step in self.steps]
        return out


def _reads(condition: Condition, name: str) -> bool:
    return any(n == name or n.startswith(name + ".") for n in condition.names)


class _Checker:
    """Collects problems while loading rules (all of them, not only the first)."""

    def __init__(
        self,
        registry: StrategyRegistry,
        ticket_fields: frozenset[str] | None,
        agent_attributes: frozenset[str] | None,
    ) -> None:
        self.registry = registry
        self.ticket_fields = ticket_fields
        self.agent_attributes = agent_attributes
        self.problems: list[str] = []

    def names(self, condition: Condition | None, where: str, roots: tuple[str, ...]) -> None:
        if condition is None:
            return
        for name in condition.names:
            parts = name.split(".")
            if parts[0] not in roots:
                self.problems.append(
                    f"{where}: name {name!r} must start with {' or '.join(r + '.' for r in roots)}"
                )
            elif parts[0] == "ticket":
                self._ticket_name(name, parts, where)
            elif parts[0] == "agent":
                self._agent_name(name, parts, where)

    def _ticket_name(self, name: str, parts: list[str], where: str) -> None:
        if len(parts) < 2 or parts[1] not in _TICKET_NAMES:
            self.problems.append(f"{where}: {name!r} is not a ticket attribute")
        elif (
            parts[1] == "fields"
            and self.ticket_fields is not None
            and (len(parts) < 3 or parts[2] not in self.ticket_fields)
        ):
            self.problems.append(f"{where}: {name!r} names an unknown form field")

    def _agent_name(self, name: str, parts: list[str], where: str) -> None:
        if len(parts) < 2:
            self.problems.append(f"{where}: {name!r} names no agent field")
        elif parts[1] in _AGENT_VIEW_NAMES:
            return
        elif parts[1] in RESERVED_AGENT_NAMES:
            self.problems.append(f"{where}: {name!r} cannot be read in a condition")
        elif self.agent_attributes is not None and parts[1] not in self.agent_attributes:
            self.problems.append(f"{where}: {name!r} names an unknown agent attribute")

    def strategy(self, spec: object, where: str) -> Strategy | None:
        try:
            return self.registry.create(spec)  # type: ignore[arg-type]
        except RoutingError as exc:
            self.problems.append(f"{where}: {exc}")
            return None

    def keys(self, data: Mapping[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(data) - allowed, key=str)
        if unknown:
            self.problems.append(f"{where}: unknown keys {unknown}")

    def group(self, value: object, where: str) -> str | None:
        if value is None or (isinstance(value, str) and value):
            return value
        self.problems.append(f"{where}: {value!r} is not a group name")
        return None


def _load_step(data: object, where: str, check: _Checker) -> EscalationStep | None:
    if not isinstance(data, Mapping):
        check.problems.append(f"{where}: expected a mapping, got {data!r}")
        return None
    check.keys(data, {"after", "target", "widen", "group", "priority", "strategy"}, where)
    try:
        # business time when the router has a calendar: a day would be ambiguous
        after = parse_duration(data.get("after"), f"{where}.after", days=False)
    except DurationError as exc:
        check.problems.append(str(exc))
        return None
    target = _condition(data.get("target"), f"{where}.target", check.problems)
    check.names(target, f"{where}.target", ("agent", "ticket"))
    widen = data.get("widen", ())
    if isinstance(widen, str) or not isinstance(widen, Iterable):
        check.problems.append(f"{where}.widen: expected a list of names, got {widen!r}")
        widen = ()
    widen = tuple(widen)
    for name in widen:
        if not isinstance(name, str) or not (name == "*" or name.startswith("agent.")):
            check.problems.append(f"{where}.widen: {name!r} is not '*' or an 'agent.' name")
    priority = None
    if data.get("priority") is not None:
        try:
            priority = Priority.parse(data["priority"])
        except ValueError:
            check.problems.append(f"{where}.priority: {data['priority']!r} is not a priority")
    strategy = None
    if data.get("strategy") is not None:
        strategy = check.strategy(data["strategy"], f"{where}.strategy")
    group = check.group(data.get("group"), f"{where}.group")
    nothing = target is None and not widen and group is None and priority is None
    if nothing and strategy is None and "target" not in data:
        check.problems.append(
            f"{where}: a step must change target, widen, group, priority or strategy"
        )
    return EscalationStep(
        after=after, target=target, widen=widen, group=group, priority=priority, strategy=strategy
    )


def _load_rule(data: object, where: str, check: _Checker, *, default: bool) -> RoutingRule | None:
    if not isinstance(data, Mapping):
        check.problems.append(f"{where}: expected a mapping, got {data!r}")
        return None
    allowed = {"name", "group", "target", "strategy", "steps"} | (set() if default else {"when"})
    check.keys(data, allowed, where)
    name = data.get("name", "default" if default else None)
    if not isinstance(name, str) or not name:
        check.problems.append(f"{where}.name: {name!r} is not a non-empty name")
        name = where
    when = None
    if not default:
        if "when" not in data:
            check.problems.append(f"{where}.when: missing (only the default rule has no 'when')")
        when = _condition(data.get("when"), f"{where}.when", check.problems)
        check.names(when, f"{where}.when", ("ticket",))
    target = _condition(data.get("target"), f"{where}.target", check.problems)
    check.names(target, f"{where}.target", ("agent", "ticket"))
    strategy = check.strategy(data.get("strategy", "round_robin"), f"{where}.strategy")
    raw_steps = data.get("steps", ())
    if isinstance(raw_steps, (str, Mapping)) or not isinstance(raw_steps, Iterable):
        check.problems.append(f"{where}.steps: expected a list, got {raw_steps!r}")
        raw_steps = ()
    steps = [_load_step(s, f"{where}.steps[{i}]", check) for i, s in enumerate(raw_steps)]
    previous = timedelta(0)
    for i, step in enumerate(steps):
        if step is not None:
            if step.after <= previous:
                check.problems.append(
                    f"{where}.steps[{i}].after: {format_duration(step.after, days=False)} must "
                    f"be later than the step before ({format_duration(previous, days=False)})"
                )
            previous = step.after
    group = check.group(data.get("group"), f"{where}.group")
    if strategy is None or any(s is None for s in steps):
        return None
    return RoutingRule(
        name=name,
        when=when,
        group=group,
        target=target,
        strategy=strategy,
        steps=tuple(s for s in steps if s is not None),
    )


@attrs.frozen
class RoutingRules:
    """Ordered rules (first match wins) and the required default rule.

    Attributes:
        rules: The ordered rules.
        default: Used when no rule matches.
    """

    rules: tuple[RoutingRule, ...]
    default: RoutingRule

    def select(self, ticket: Any) -> RoutingRule:
        """The first rule whose ``when`` holds for ``ticket``, else the default rule."""
        for rule in self.rules:
            if rule.matches(ticket):
                return rule
        return self.default

    def to_dict(self) -> dict[str, Any]:
        """Plain data, lossless with [`from_dict()`][csmkit.routing.RoutingRules.from_dict]."""
        return {
            "rules": [rule.to_dict() for rule in self.rules],
            "default": self.default.to_dict(),
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        registry: StrategyRegistry | None = None,
        ticket_fields: Iterable[str] | None = None,
        agent_attributes: Iterable[str] | None = None,
    ) -> RoutingRules:
        """Load and validate rules, reporting every problem at once.

        Args:
            data: ``{"rules": [...], "default": {...}}``.
            registry: Where strategy names are looked up (the built-ins by default).
            ticket_fields: Known form field names; ``ticket.fields.X`` must be one of them.
            agent_attributes: Known free agent attribute names (``region``, ``tier`` …).

        Raises:
            RoutingError: listing every problem with its path (``rules[1].steps[0].after``).
        """
        check = _Checker(
            registry if registry is not None else default_registry(),
            None if ticket_fields is None else frozenset(ticket_fields),
            None if agent_attributes is None else frozenset(agent_attributes),
        )
        if not isinstance(data, Mapping):
            raise RoutingError(f"routing rules: expected a mapping, got {data!r}")
        check.keys(data, {"rules", "default"}, "routing rules")
        raw_rules = data.get("rules", ())
        if isinstance(raw_rules, (str, Mapping)) or not isinstance(raw_rules, Iterable):
            check.problems.append(f"rules: expected a list, got {raw_rules!r}")
            raw_rules = ()
        rules = [
            _load_rule(r, f"rules[{i}]", check, default=False) for i, r in enumerate(raw_rules)
        ]
        default = None
        if data.get("default") is None:
            check.problems.append("default: a default rule is required")
        else:
            default = _load_rule(data["default"], "default", check, default=True)
        names = [r.name for r in rules if r is not None] + ([default.name] if default else [])
        for name in sorted({n for n in names if names.count(n) > 1}):
            check.problems.append(f"rule name {name!r} is used more than once")
        if check.problems or default is None or any(r is None for r in rules):
            raise RoutingError(
                "invalid routing rules:" + "".join(f"\n  - {p}" for p in check.problems)
            )
        return cls(tuple(r for r in rules if r is not None), default)
