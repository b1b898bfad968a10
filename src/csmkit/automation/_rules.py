"""Automation rules as data: trigger, condition, ordered actions from a fixed catalogue."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

import attrs

from csmkit._duration import format_duration, parse_duration
from csmkit._jsonvalue import EMPTY, JsonValue, freeze_mapping, thaw
from csmkit.automation._template import placeholders
from csmkit.conditions import Condition
from csmkit.errors import AutomationError, ConditionSyntaxError, DurationError
from csmkit.timeline import EVENT_TYPES, RESERVED_FIELDS, Priority, SurveyKind, Ticket

__all__ = [
    "ACTIONS",
    "CONDITION_ROOTS",
    "EVENT_TRIGGERS",
    "STATS",
    "Action",
    "Rule",
    "RuleSet",
    "TimeTrigger",
    "format_span",
    "parse_span",
]

EVENT_TRIGGERS: tuple[str, ...] = (
    *sorted(EVENT_TYPES),
    "message_in",
    "sla_breach",
    "sla_warning",
)
"""Names a rule's ``on`` may list: every event kind, ``message_in`` (an inbound customer
message), ``sla_warning`` and ``sla_breach``."""

ACTIONS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    # name: (required params, optional params)
    "set_field": (frozenset({"name", "value"}), frozenset()),
    "set_priority": (frozenset({"value"}), frozenset()),
    "add_tags": (frozenset({"tags"}), frozenset()),
    "remove_tags": (frozenset({"tags"}), frozenset()),
    "assign": (frozenset(), frozenset({"agent", "group"})),
    "transition": (frozenset({"transition"}), frozenset({"data", "reason"})),
    "escalate": (frozenset(), frozenset({"level", "group", "reason"})),
    "notify": (frozenset({"channel", "to", "template"}), frozenset({"subject"})),
    "create_ticket": (
        frozenset({"type", "subject"}),
        frozenset({"relation", "priority", "fields", "channel", "link"}),
    ),
    "send_survey": (frozenset({"survey", "channel", "template"}), frozenset({"to"})),
    "open_problem": (frozenset({"by"}), frozenset({"window", "min_count", "subject"})),
}
"""The fixed action catalogue: action name -> (required, optional) parameter names."""

_PRODUCES: Mapping[str, frozenset[str]] = {
    "set_field": frozenset({"field_changed"}),
    "set_priority": frozenset({"field_changed"}),
    "add_tags": frozenset({"field_changed"}),
    "remove_tags": frozenset({"field_changed"}),
    "assign": frozenset({"assigned"}),
    "transition": frozenset({"field_changed", "status_changed"}),
    "escalate": frozenset({"escalated", "assigned"}),
    "notify": frozenset({"message_added"}),
    "send_survey": frozenset({"message_added"}),
    "create_ticket": frozenset({"linked", "created"}),
    "open_problem": frozenset({"linked", "created"}),
}

STATS: frozenset[str] = frozenset(
    {"agent_replies", "customer_messages", "escalations", "reopens", "notes"}
)
"""Counts a condition may read as ``stats.<name>``."""

CONDITION_ROOTS: frozenset[str] = frozenset({"ticket", "fields", "event", "stats"})
"""Root names a rule's ``when`` may use."""

_TICKET_ATTRIBUTES = frozenset(a.name for a in attrs.fields(Ticket))
_EVENT_KEYS = frozenset(
    {a.name for cls in EVENT_TYPES.values() for a in attrs.fields(cls)}
    | {"kind", "target", "cycle", "fraction", "anchor"}
)
_SINCE = ("created", "updated", "status", "field")


parse_span = parse_duration
"""The duration grammar of csmkit (an alias of
[`csmkit.sla.parse_duration()`][csmkit.sla.parse_duration])."""

format_span = format_duration
"""The duration formatter of csmkit (an alias of
[`csmkit.sla.format_duration()`][csmkit.sla.format_duration])."""


@attrs.frozen(kw_only=True)
class TimeTrigger:
    """When a time rule falls due for a ticket (or, with ``of="asset"``, a record).

    Attributes:
        after: The span to wait (or, with ``before=True``, to fire ahead of the field).
        since: What the span counts from: ``created``, ``updated`` (latest event),
            ``status`` (entering the current state) or ``field`` (a date in ``field``).
        clock: ``calendar`` time or ``business`` time on the desk's calendar.
        field: The date field for ``since="field"`` (a form field of a ticket, or a
            key of an asset record such as ``warranty_until``).
        before: Fire ``after`` *before* the field's date instead of after it.
        of: ``ticket`` (default) or ``asset``: the rule runs over customer assets and
            can only create tickets and notify.
    """

    after: timedelta
    since: str = "created"
    clock: str = "calendar"
    field: str | None = None
    before: bool = False
    of: str = "ticket"

    def to_dict(self) -> dict[str, Any]:
        """Dict form (lossless with [`from_dict()`][csmkit.automation.TimeTrigger.from_dict])."""
        data: dict[str, Any] = {
            ("before" if self.before else "after"): format_duration(
                self.after, days=self.clock != "business"
            ),
            "since": self.since,
            "clock": self.clock,
        }
        if self.field is not None:
            data["field"] = self.field
        if self.of != "ticket":
            data["of"] = self.of
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "on") -> TimeTrigger:
        """Build from ``{"after": "2h", "since": "created", "clock": "business"}`` or
        ``{"before": "30d", "since": "field", "field": "warranty_until", "of": "asset"}``.

        Raises:
            AutomationError: every problem, naming ``where``.
        """
        problems: list[str] = []
        trigger = _time_trigger(data, where, problems)
        if problems or trigger is None:
            raise AutomationError(
                "invalid time trigger:\n  - " + "\n  - ".join(problems), problems=problems
            )
        return trigger


def _time_trigger(data: object, where: str, problems: list[str]) -> TimeTrigger | None:
    if not isinstance(data, Mapping):
        problems.append(f"{where}: a time trigger must be a dict, got {data!r}")
        return None
    unknown = sorted(set(data) - {"after", "before", "since", "clock", "field", "of"})
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    if ("after" in data) == ("before" in data):
        problems.append(f"{where}: give exactly one of 'after' and 'before'")
        return None
    before = "before" in data
    clock = data.get("clock", "calendar")
    try:
        span = parse_duration(
            data["before" if before else "after"],
            f"{where}.{'before' if before else 'after'}",
            days=clock != "business",  # a business day: 24 or 8 hours?
        )
    except DurationError as exc:
        problems.append(str(exc))
        return None
    since = data.get("since", "field" if before else "created")
    field = data.get("field")
    of = data.get("of", "ticket")
    start = len(problems)
    if since not in _SINCE:
        problems.append(f"{where}.since: {since!r} is not one of {', '.join(_SINCE)}")
    if clock not in ("calendar", "business"):
        problems.append(f"{where}.clock: {clock!r} is not 'calendar' or 'business'")
    if of not in ("ticket", "asset"):
        problems.append(f"{where}.of: {of!r} is not 'ticket' or 'asset'")
    if since == "field":
        if not isinstance(field, str) or not field:
            problems.append(f"{where}.field: since='field' needs the name of a date field")
        if clock == "business":
            problems.append(f"{where}.clock: a field date counts calendar days, not business time")
    elif field is not None:
        problems.append(f"{where}.field: only for since='field'")
    if before and since != "field":
        problems.append(f"{where}.before: only for since='field'")
    if of == "asset" and since != "field":
        problems.append(f"{where}.of: an asset rule needs since='field'")
    if len(problems) > start:
        return None
    return TimeTrigger(after=span, since=since, clock=clock, field=field, before=before, of=of)


def _frozen(value: Mapping[str, Any]) -> Mapping[str, JsonValue]:
    return freeze_mapping(value, "params")


@attrs.frozen
class Action:
    """One action of a rule: a name from [`ACTIONS`][csmkit.automation.ACTIONS] and its parameters.

    Attributes:
        do: The action name (``"notify"``, ``"escalate"`` …).
        params: Its parameters (JSON-safe), e.g. ``{"channel": "sms", "to": "...",
            "template": "..."}``.
    """

    do: str
    params: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=_frozen)

    @property
    def produces(self) -> frozenset[str]:
        """Event kinds this action may write (used to find loops between rules)."""
        return _PRODUCES.get(self.do, frozenset())

    def to_dict(self) -> dict[str, Any]:
        """``{"do": name, **params}``."""
        return {"do": self.do, **{k: thaw(v) for k, v in self.params.items()}}


@attrs.frozen(kw_only=True)
class Rule:
    """An automation rule: ``on`` something, ``when`` a condition holds, do ``actions``.

    Attributes:
        id: Unique name; written into the ``meta`` of every event the rule causes
            (``{"rule": id}``).
        on: Event triggers (see [`EVENT_TRIGGERS`][csmkit.automation.EVENT_TRIGGERS]); empty for a
            time rule.
        time: The time trigger of a time rule, else ``None``.
        when: Condition over ``ticket``, ``fields``, ``event`` and ``stats``.
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
    triggering event, rule chains included (Jira's loop detection, as a hard error).

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
    ) -> RuleSet:
        """Load and validate rules; every problem is reported at once.

        Args:
            data: ``{"rules": [...], "max_actions": 25}``.
            fields: Known form field names; ``None`` skips that check.
            channels: Known outbound channel names; ``None`` skips that check.
            transitions: Known workflow transition names; ``None`` skips that check.
            ticket_types: Known ticket types (for ``create_ticket``); ``None`` skips.
            business_clock: Whether a business calendar is available.

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
    ) -> list[str]:
        """Every problem of the rules against what a desk knows (see
        [`check()`][csmkit.automation.RuleSet.check])."""
        problems: list[str] = []
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
                    _check_field(rule.time.field or "", f"{where}.on.field", fields, problems)
            for a_index, action in enumerate(rule.actions):
                problems.extend(
                    _check_action(
                        rule,
                        action,
                        f"{where}.actions[{a_index}]",
                        fields=fields,
                        channels=channels,
                        transitions=transitions,
                        ticket_types=ticket_types,
                    )
                )
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
    ) -> None:
        """Raise [`AutomationError`][csmkit.errors.AutomationError] listing every problem
        [`problems()`][csmkit.automation.RuleSet.problems] finds: unknown fields, channels,
        transitions, ticket types, placeholders, loops."""
        problems = self.problems(
            fields=fields,
            channels=channels,
            transitions=transitions,
            ticket_types=ticket_types,
            business_clock=business_clock,
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
        time = _time_trigger(raw_on, f"{where}.on", problems)
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
            if action.do not in ("create_ticket", "notify"):
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
    if name not in ACTIONS:
        problems.append(f"{where}.do: unknown action {name!r}; use one of {', '.join(ACTIONS)}")
        return None
    required, optional = ACTIONS[name]
    params = {k: v for k, v in data.items() if k != "do"}
    start = len(problems)
    for key in sorted(required - set(params)):
        problems.append(f"{where}: {name} needs {key!r}")
    for key in sorted(set(params) - required - optional):
        problems.append(f"{where}: unknown parameter {key!r} for {name}")
    _check_params(name, params, where, problems)
    if len(problems) > start:
        return None
    try:
        return Action(name, params)
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: parameters are not JSON-safe: {exc}")
        return None


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_params(name: str, params: Mapping[str, Any], where: str, problems: list[str]) -> None:
    def text(key: str) -> None:
        if key in params and not _is_text(params[key]):
            problems.append(f"{where}.{key}: {params[key]!r} is not a non-empty string")

    def template(key: str) -> None:
        if key in params:
            if not isinstance(params[key], str):
                problems.append(f"{where}.{key}: a template must be a string")
                return
            try:
                placeholders(params[key])
            except AutomationError as exc:
                problems.append(f"{where}.{key}: {exc}")

    if name == "set_field":
        text("name")
    if name == "set_priority" and params.get("value") not in [p.value for p in Priority]:
        problems.append(f"{where}.value: {params.get('value')!r} is not a priority")
    if name in ("add_tags", "remove_tags"):
        tags = params.get("tags")
        if not isinstance(tags, list) or not tags or not all(_is_text(t) for t in tags):
            problems.append(f"{where}.tags: must be a non-empty list of strings")
    if name == "assign":
        text("agent")
        text("group")
    if name == "transition":
        text("transition")
        text("reason")
        if "data" in params and not isinstance(params["data"], Mapping):
            problems.append(f"{where}.data: must be a dict")
    if name == "escalate":
        level = params.get("level", 1)
        if isinstance(level, bool) or not isinstance(level, int) or level < 1:
            problems.append(f"{where}.level: {level!r} is not an integer >= 1")
        text("group")
        text("reason")
    if name in ("notify", "send_survey"):
        text("channel")
        template("template")
        template("to")
        template("subject")
    if name == "send_survey" and params.get("survey") not in [s.value for s in SurveyKind]:
        problems.append(f"{where}.survey: {params.get('survey')!r} is not csat, nps or ces")
    if name == "create_ticket":
        text("type")
        template("subject")
        text("relation")
        text("channel")
        if "priority" in params and params["priority"] not in [p.value for p in Priority]:
            problems.append(f"{where}.priority: {params['priority']!r} is not a priority")
        if "fields" in params and not isinstance(params["fields"], Mapping):
            problems.append(f"{where}.fields: must be a dict")
        if "link" in params and not isinstance(params["link"], bool):
            problems.append(f"{where}.link: must be true or false")
    if name == "open_problem":
        by = params.get("by")
        if not isinstance(by, list) or not by or not all(_is_text(b) for b in by):
            problems.append(f"{where}.by: must be a non-empty list of ticket attributes")
        if "window" in params:
            try:
                parse_duration(params["window"], f"{where}.window")
            except DurationError as exc:
                problems.append(str(exc))
        count = params.get("min_count", 3)
        if isinstance(count, bool) or not isinstance(count, int) or count < 2:
            problems.append(f"{where}.min_count: {count!r} is not an integer >= 2")
        template("subject")


def _check_field(
    name: str, where: str, fields: Collection[str] | None, problems: list[str]
) -> None:
    if fields is not None and name not in fields:
        problems.append(f"{where}: unknown field {name!r} (known: {', '.join(sorted(fields))})")


def _check_names(condition: Condition, where: str, fields: Collection[str] | None) -> list[str]:
    problems: list[str] = []
    for name in condition.names:
        parts = name.split(".")
        root = parts[0]
        if root not in CONDITION_ROOTS:
            problems.append(
                f"{where}: unknown name {name!r}; names start with "
                f"{', '.join(sorted(CONDITION_ROOTS))}"
            )
        elif root == "ticket" and len(parts) > 1:
            if parts[1] not in _TICKET_ATTRIBUTES:
                problems.append(f"{where}: {name!r}: a ticket has no attribute {parts[1]!r}")
            elif parts[1] == "fields" and len(parts) > 2:
                _check_field(parts[2], where, fields, problems)
        elif root == "fields" and len(parts) > 1:
            _check_field(parts[1], where, fields, problems)
        elif root == "stats" and (len(parts) != 2 or parts[1] not in STATS):
            problems.append(f"{where}: {name!r}: stats are {', '.join(sorted(STATS))}")
        elif root == "event" and len(parts) > 1 and parts[1] not in _EVENT_KEYS:
            problems.append(f"{where}: {name!r}: no event has {parts[1]!r}")
    return problems


def _check_action(
    rule: Rule,
    action: Action,
    where: str,
    *,
    fields: Collection[str] | None,
    channels: Collection[str] | None,
    transitions: Collection[str] | None,
    ticket_types: Collection[str] | None,
) -> list[str]:
    problems: list[str] = []
    params = action.params
    known_fields = None if fields is None else frozenset(fields)
    for key in ("template", "subject", "to"):
        value = params.get(key)
        if isinstance(value, str) and action.do in (
            "notify",
            "send_survey",
            "create_ticket",
            "open_problem",
        ):
            try:
                placeholders(value, fields=known_fields)
            except AutomationError as exc:
                problems.append(f"{where}.{key}: {exc}")
    if action.do == "set_field":
        name = str(params["name"])
        if name in RESERVED_FIELDS:
            problems.append(f"{where}.name: {name!r} has its own action (assign, transition …)")
        elif name not in ("subject", "priority", "tags", "type", "customer_id"):
            _check_field(name, f"{where}.name", fields, problems)
    if action.do in ("notify", "send_survey") and channels is not None:
        channel = params.get("channel")
        if channel not in channels:
            problems.append(
                f"{where}.channel: unknown outbound channel {channel!r} "
                f"(known: {', '.join(sorted(channels)) or 'none'})"
            )
    if action.do == "transition" and transitions is not None:
        if params["transition"] not in transitions:
            problems.append(
                f"{where}.transition: no workflow has a transition {params['transition']!r}"
            )
        data = params.get("data")
        if isinstance(data, Mapping):
            for key in data:
                _check_field(str(key), f"{where}.data", fields, problems)
    if action.do == "create_ticket":
        if ticket_types is not None and params["type"] not in ticket_types:
            problems.append(f"{where}.type: unknown ticket type {params['type']!r}")
        extra = params.get("fields")
        if isinstance(extra, Mapping):
            for key in extra:
                _check_field(str(key), f"{where}.fields", fields, problems)
    if action.do == "open_problem":
        for attribute in params["by"]:
            parts = str(attribute).split(".")
            if parts[0] == "fields" and len(parts) == 2:
                _check_field(parts[1], f"{where}.by", fields, problems)
            elif len(parts) != 1 or parts[0] not in _TICKET_ATTRIBUTES:
                problems.append(
                    f"{where}.by: {attribute!r} is not a ticket attribute or fields.<name>"
                )
    return problems
