"""Automation rules as data: trigger, condition, ordered actions from a fixed catalogue.

Triggers are in ``_triggers``, the context rules read in ``_context``, the action
catalogue in ``_actions``; this module holds [`Rule`][csmkit.automation.Rule] and
[`RuleSet`][csmkit.automation.RuleSet] and validates them against all three.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import attrs

from csmkit.automation._actions import ACTION_SPECS
from csmkit.automation._context import check_field, check_name
from csmkit.automation._params import check_templates
from csmkit.automation._spec import Action, Known
from csmkit.automation._triggers import EVENT_TRIGGERS, TimeTrigger, time_trigger
from csmkit.conditions import Condition
from csmkit.errors import AutomationError, ConditionSyntaxError

__all__ = ["Rule", "RuleSet"]


@attrs.frozen(kw_only=True)
class Rule:
    """An automation rule: ``on`` something, ``when`` a condition holds, do ``actions``.

    Attributes:
        id: Unique name; written into the ``meta`` of every event the rule causes
            (``{"rule": id}``).
        on: Event triggers (see [`EVENT_TRIGGERS`][csmkit.automation.EVENT_TRIGGERS]); empty for a
            time rule.
        time: The time trigger of a time rule, else ``None``.
        when: Condition over the rule context
            ([`CONDITION_ROOTS`][csmkit.automation.CONDITION_ROOTS]): ``ticket``, ``fields``,
            ``event``, ``stats``, ``customer`` and ``assets``.
        actions: Executed in order.
        description: Free text.
        enabled: Disabled rules are kept but never run.
    """

    id: str
    on: tuple[str, ...] = ()
    time: TimeTrigger | None = None
    when: Condition | None = None
    actions: tuple[Action, ...] = ()
    description: str = ""
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Dict form (lossless with
        [`RuleSet.from_dict()`][csmkit.automation.RuleSet.from_dict])."""
        data: dict[str, Any] = {
            "id": self.id,
            "on": self.time.to_dict() if self.time is not None else list(self.on),
        }
        if self.when is not None:
            data["when"] = str(self.when)
        data["actions"] = [action.to_dict() for action in self.actions]
        if self.description:
            data["description"] = self.description
        if not self.enabled:
            data["enabled"] = False
        return data


@attrs.frozen
class RuleSet:
    """Rules in their explicit order, plus the per-event cap on chained actions.

    Every matching rule runs, in order (Zendesk-style); actions of an earlier rule are
    visible to later ones. ``max_actions`` caps the actions run because of one
    triggering event, rule chains included (Jira's loop detection): a chain that goes
    past it is stopped, nothing it decided is kept, and an ``ActionFailed`` event
    records where it stopped.

    Attributes:
        rules: The rules, in order.
        max_actions: Cap per triggering event.
    """

    rules: tuple[Rule, ...] = ()
    max_actions: int = 25

    def __iter__(self) -> Any:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, rule_id: str) -> Rule:
        """The rule named ``rule_id``.

        Raises:
            AutomationError: no such rule.
        """
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise AutomationError(f"no rule {rule_id!r}")

    def to_dict(self) -> dict[str, Any]:
        """``{"rules": [...], "max_actions": n}`` (lossless with
        [`from_dict()`][csmkit.automation.RuleSet.from_dict])."""
        return {"rules": [rule.to_dict() for rule in self.rules], "max_actions": self.max_actions}

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        fields: Collection[str] | None = None,
        channels: Collection[str] | None = None,
        transitions: Collection[str] | None = None,
        ticket_types: Collection[str] | None = None,
        business_clock: bool = True,
        surveys: Collection[str] | None = None,
    ) -> RuleSet:
        """Load and validate rules; every problem is reported at once.

        Args:
            data: ``{"rules": [...], "max_actions": 25}``.
            fields: Known form field names; ``None`` skips that check.
            channels: Known outbound channel names; ``None`` skips that check.
            transitions: Known workflow transition names; ``None`` skips that check.
            ticket_types: Known ticket types (for ``create_ticket``); ``None`` skips.
            business_clock: Whether a business calendar is available.
            surveys: Declared survey names a ``send_survey`` action may name besides
                csat, nps and ces; ``None`` skips that check.

        Raises:
            AutomationError: with ``problems``, each naming its path (``rules[2].when``).
        """
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise AutomationError(f"a rule set must be a dict, got {type(data).__name__}")
        unknown = sorted(set(data) - {"rules", "max_actions"})
        if unknown:
            problems.append(f"unknown key(s) {', '.join(map(repr, unknown))}")
        raw = data.get("rules", [])
        max_actions = data.get("max_actions", 25)
        if isinstance(max_actions, bool) or not isinstance(max_actions, int) or max_actions < 1:
            problems.append(f"max_actions: {max_actions!r} is not a positive integer")
            max_actions = 25
        rules: list[Rule] = []
        if not isinstance(raw, list):
            problems.append("rules: must be a list")
            raw = []
        for index, item in enumerate(raw):
            rule = _rule(item, f"rules[{index}]", problems)
            if rule is not None:
                rules.append(rule)
        if problems:
            raise _error(problems)
        ruleset = cls(tuple(rules), max_actions)
        ruleset.check(
            fields=fields,
            channels=channels,
            transitions=transitions,
            ticket_types=ticket_types,
            business_clock=business_clock,
            surveys=surveys,
        )
        return ruleset

    def problems(
        self,
        *,
        fields: Collection[str] | None = None,
        channels: Collection[str] | None = None,
        transitions: Collection[str] | None = None,
        ticket_types: Collection[str] | None = None,
        business_clock: bool = True,
        surveys: Collection[str] | None = None,
    ) -> list[str]:
        """Every problem of the rules against what a desk knows (see
        [`check()`][csmkit.automation.RuleSet.check])."""
        problems: list[str] = []
        known = Known(
            fields=fields,
            channels=channels,
            transitions=transitions,
            ticket_types=ticket_types,
            surveys=surveys,
        )
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            where = f"rules[{index}] {rule.id!r}"
            if rule.id in seen:
                problems.append(f"{where}: duplicate rule id (also rules[{seen[rule.id]}])")
            seen.setdefault(rule.id, index)
            if rule.when is not None:
                problems.extend(_check_names(rule.when, f"{where}.when", fields))
            if rule.time is not None:
                if rule.time.clock == "business" and not business_clock:
                    problems.append(f"{where}.on: business time needs a calendar")
                if rule.time.of == "ticket" and rule.time.since == "field":
                    check_field(rule.time.field or "", f"{where}.on.field", fields, problems)
            for a_index, action in enumerate(rule.actions):
                problems.extend(_check_action(action, f"{where}.actions[{a_index}]", known))
        problems.extend(self.loops())
        return problems

    def check(
        self,
        *,
        fields: Collection[str] | None = None,
        channels: Collection[str] | None = None,
        transitions: Collection[str] | None = None,
        ticket_types: Collection[str] | None = None,
        business_clock: bool = True,
        surveys: Collection[str] | None = None,
    ) -> None:
        """Raise [`AutomationError`][csmkit.errors.AutomationError] listing every problem
        [`problems()`][csmkit.automation.RuleSet.problems] finds: unknown fields, channels,
        transitions, ticket types, surveys, placeholders, loops."""
        problems = self.problems(
            fields=fields,
            channels=channels,
            transitions=transitions,
            ticket_types=ticket_types,
            business_clock=business_clock,
            surveys=surveys,
        )
        if problems:
            raise _error(problems)

    def loops(self) -> list[str]:
        """Cycles between rules: rule A writes an event kind rule B listens to, and back.

        A rule never runs on events it caused, so a rule alone is no loop.
        """
        edges: dict[str, set[str]] = {rule.id: set() for rule in self.rules if rule.enabled}
        for writer in self.rules:
            if not writer.enabled:
                continue
            produced = frozenset().union(*(a.produces for a in writer.actions))
            for listener in self.rules:
                if listener.enabled and listener.id != writer.id and produced & set(listener.on):
                    edges[writer.id].add(listener.id)
        cycles = _cycles(edges)
        return [f"loop of rules: {' -> '.join([*cycle, cycle[0]])}" for cycle in cycles]


def _cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    import networkx as nx  # type: ignore[import-untyped, unused-ignore]

    graph = nx.DiGraph()
    graph.add_nodes_from(edges)
    graph.add_edges_from((a, b) for a, targets in edges.items() for b in targets)
    found: list[list[str]] = []
    for cycle in nx.simple_cycles(graph):
        start = cycle.index(min(cycle))
        found.append(cycle[start:] + cycle[:start])
        if len(found) >= 10:
            break
    return sorted(found)


def _error(problems: list[str]) -> AutomationError:
    return AutomationError(
        "invalid automation rules:\n  - " + "\n  - ".join(problems), problems=problems
    )


def _rule(data: object, where: str, problems: list[str]) -> Rule | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: a rule must be a dict, got {data!r}")
        return None
    start = len(problems)
    unknown = sorted(set(data) - {"id", "on", "when", "actions", "description", "enabled"})
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    rule_id = data.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip() or rule_id != rule_id.strip():
        problems.append(f"{where}.id: {rule_id!r} is not a non-empty name")
        rule_id = "?"
    where = f"{where} {rule_id!r}"
    raw_on = data.get("on")
    on: tuple[str, ...] = ()
    time: TimeTrigger | None = None
    if isinstance(raw_on, Mapping):
        time = time_trigger(raw_on, f"{where}.on", problems)
    else:
        names = [raw_on] if isinstance(raw_on, str) else raw_on
        if not isinstance(names, list) or not names:
            problems.append(f"{where}.on: give event kinds (a name or a list) or a time trigger")
        else:
            for i, name in enumerate(names):
                if name not in EVENT_TRIGGERS:
                    problems.append(
                        f"{where}.on[{i}]: unknown trigger {name!r}; "
                        f"use one of {', '.join(EVENT_TRIGGERS)} or a time trigger"
                    )
            on = tuple(dict.fromkeys(str(n) for n in names))
    when: Condition | None = None
    if data.get("when") is not None:
        try:
            when = Condition.coerce(data["when"])
        except (ConditionSyntaxError, TypeError, ValueError) as exc:
            problems.append(f"{where}.when: {exc}")
    raw_actions = data.get("actions")
    actions: list[Action] = []
    if not isinstance(raw_actions, list) or not raw_actions:
        problems.append(f"{where}.actions: a rule needs a non-empty list of actions")
    else:
        for i, item in enumerate(raw_actions):
            action = _action(item, f"{where}.actions[{i}]", problems)
            if action is not None:
                actions.append(action)
    if time is not None and time.of == "asset":
        for i, action in enumerate(actions):
            if not ACTION_SPECS[action.do].for_assets:
                problems.append(
                    f"{where}.actions[{i}]: an asset rule can only create_ticket or notify"
                )
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{where}.description: must be a string")
        description = ""
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where}.enabled: must be true or false")
        enabled = True
    if len(problems) > start:
        return None
    return Rule(
        id=rule_id,
        on=on,
        time=time,
        when=when,
        actions=tuple(actions),
        description=description,
        enabled=enabled,
    )


def _action(data: object, where: str, problems: list[str]) -> Action | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: an action must be a dict with 'do', got {data!r}")
        return None
    name = str(data.get("do"))
    spec = ACTION_SPECS.get(name)
    if spec is None:
        problems.append(
            f"{where}.do: unknown action {name!r}; use one of {', '.join(ACTION_SPECS)}"
        )
        return None
    params = {k: v for k, v in data.items() if k != "do"}
    start = len(problems)
    for key in sorted(spec.required - set(params)):
        problems.append(f"{where}: {name} needs {key!r}")
    for key, value in params.items():
        parameter = spec.parameter(key)
        if parameter is None:
            problems.append(f"{where}: unknown parameter {key!r} for {name}")
            continue
        if parameter.templated:
            before = len(problems)
            check_templates(value, f"{where}.{key}", None, problems)
            if len(problems) > before or _whole_placeholder(value):
                continue  # its type is known when the action runs
        problem = parameter.problem(value)
        if problem is not None:
            problems.append(f"{where}.{key}: {problem}")
    if len(problems) > start:
        return None
    try:
        return Action(name, params)
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: parameters are not JSON-safe: {exc}")
        return None


def _whole_placeholder(value: object) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("{")
        and value.endswith("}")
        and value.count("{") == 1
        and value.count("}") == 1
    )


def _check_names(condition: Condition, where: str, fields: Collection[str] | None) -> list[str]:
    problems: list[str] = []
    for name in condition.names:
        check_name(name, where, fields, problems)
    return problems


def _check_action(action: Action, where: str, known: Known) -> list[str]:
    problems: list[str] = []
    spec = ACTION_SPECS[action.do]
    for key, value in action.params.items():
        parameter = spec.parameter(key)
        if parameter is not None and parameter.templated:
            check_templates(value, f"{where}.{key}", known.fields, problems)
    if spec.check_known is not None:
        spec.check_known(action.params, where, known, problems)
    return problems
