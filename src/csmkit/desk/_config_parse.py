"""Parsing a desk configuration: every section by its part's ``from_dict``, every
problem gathered with its path, nothing built when anything is wrong."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from csmkit.automation import RuleSet
from csmkit.desk._config import (
    _CN_WEEK,
    _PRESETS,
    _TYPE_KEYS,
    SECTIONS,
    ChannelSpec,
    problem_lines,
    type_template,
)
from csmkit.desk._replies import template_problems
from csmkit.desk._types import TicketType, intake_problems
from csmkit.errors import AutomationError, CsmkitError
from csmkit.knowledge import TemplateError, TemplateSet
from csmkit.metrics import Survey
from csmkit.plugins import PluginManager
from csmkit.routing import Agent, RoutingRules
from csmkit.sla import BusinessCalendar, SlaPolicy, SlaPolicySet
from csmkit.workflow import TEMPLATE_NAMES, Workflow

if TYPE_CHECKING:
    from csmkit.desk._config import DeskConfig

__all__ = ["parse_config"]


class _Parse:
    def __init__(self, plugins: PluginManager) -> None:
        self.plugins = plugins
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value: object, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.add(path, f"expected a table/object, got {type(value).__name__}")
        return None

    def keys(self, data: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        for key in data:
            if key not in allowed:
                self.add(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key; expected one of {', '.join(allowed)}",
                )

    # ------------------------------------------------------------------ calendars
    def calendar(self, value: object, path: str) -> BusinessCalendar | None:
        data = self.mapping(value, path)
        if data is None:
            return None
        try:
            if "preset" in data:
                self.keys(data, ("preset", "years", "week", "partial"), path)
                preset = _PRESETS.get(str(data["preset"]).lower())
                if preset is None:
                    self.add(
                        f"{path}.preset",
                        f"unknown preset {data['preset']!r}; known: {', '.join(_PRESETS)}",
                    )
                    return None
                if "years" not in data:
                    self.add(f"{path}.years", "a preset needs the years it must cover")
                    return None
                return BusinessCalendar.from_holidays(
                    preset[0],
                    years=data["years"],
                    week=data.get("week", _CN_WEEK),
                    allow_partial=bool(data.get("partial", False)),
                )
            if "plugin" in data:
                self.keys(data, ("plugin", "options"), path)
                registration = self.plugins.calendars().get(str(data["plugin"]))
                if registration is None:
                    known = ", ".join(self.plugins.calendars()) or "none"
                    self.add(
                        f"{path}.plugin", f"no calendar plugin {data['plugin']!r} (known: {known})"
                    )
                    return None
                options = data.get("options", {})
                if not isinstance(options, Mapping):
                    self.add(f"{path}.options", "expected a table/object")
                    return None
                try:
                    built = registration.factory(**dict(options))
                except Exception as exc:  # a plugin's own error, reported with its path
                    self.add(f"{path}.plugin", f"plugin {data['plugin']!r} failed: {exc}")
                    return None
                if not isinstance(built, BusinessCalendar):
                    self.add(
                        f"{path}.plugin",
                        f"plugin {data['plugin']!r} did not build a BusinessCalendar",
                    )
                    return None
                return built
            return BusinessCalendar.from_dict(data)
        except (CsmkitError, TypeError, ValueError) as exc:
            self.problems.extend(
                problem_lines(exc, path) if isinstance(exc, CsmkitError) else [f"{path}: {exc}"]
            )
            return None

    # ------------------------------------------------------------------ types
    def ticket_type(self, name: str, value: object) -> tuple[TicketType | None, Any]:
        path = f"types.{name}"
        data = self.mapping(value, path)
        if data is None:
            return None, None
        self.keys(data, _TYPE_KEYS, path)
        spec = data.get("workflow", name if name in TEMPLATE_NAMES else None)
        if isinstance(spec, str):
            base = type_template(spec)
            if base is None:
                self.add(
                    f"{path}.workflow",
                    f"no built-in template {spec!r}; known: {', '.join(TEMPLATE_NAMES)} "
                    "(or give the workflow inline)",
                )
                return None, None
        elif isinstance(spec, Mapping):
            base = {str(k): v for k, v in spec.items()}
        else:
            self.add(f"{path}.workflow", "a template name or an inline workflow is required")
            return None, None
        extra = data.get("fields", [])
        if not isinstance(extra, list):
            self.add(f"{path}.fields", "expected a list of form fields")
            extra = []
        if extra:
            form = dict(base.get("form") or {})
            form["fields"] = [*form.get("fields", []), *extra]
            base["form"] = form
        workflow = None
        try:
            workflow = Workflow.from_dict(base)
        except CsmkitError as exc:
            self.problems.extend(problem_lines(exc, f"{path}.workflow"))
        sla = self.sla(data.get("sla"), name, f"{path}.sla")
        survey = data.get("survey")
        surveys = self.surveys(survey, f"{path}.survey")
        if workflow is None or isinstance(sla, bool) or surveys is None:
            return None, survey
        try:
            return TicketType(name, workflow, sla, surveys), survey
        except CsmkitError as exc:
            self.problems.extend(problem_lines(exc, path))
            return None, survey

    def surveys(self, value: object, path: str) -> tuple[Survey, ...] | None:
        """A type's survey definitions: a kind (``"csat"``: its default scale), a table
        (``Survey.from_dict``) or a list of tables; ``None`` when invalid."""
        if value is None:
            return ()
        if isinstance(value, str):
            if value not in ("csat", "nps", "ces"):
                self.add(path, f"unknown survey kind {value!r} (csat, nps, ces, or a table)")
                return None
            return (Survey(value, value),)
        items = [value] if isinstance(value, Mapping) else value
        if not isinstance(items, list):
            self.add(path, "expected a survey kind, a survey table or a list of tables")
            return None
        found: list[Survey] = []
        for index, item in enumerate(items):
            where = path if isinstance(value, Mapping) else f"{path}[{index}]"
            try:
                found.append(Survey.from_dict(item, path=where))
            except CsmkitError as exc:
                self.problems.append(str(exc))
        return tuple(found) if len(found) == len(items) else None

    def sla(self, value: object, name: str, path: str) -> SlaPolicy | SlaPolicySet | bool | None:
        """The policy, ``None`` without one, ``False`` when invalid."""
        if value is None:
            return None
        data = self.mapping(value, path)
        if data is None:
            return False
        try:
            if "policies" in data:
                return SlaPolicySet.from_dict(data)
            return SlaPolicy.from_dict({"name": name, **data}, path=path)
        except CsmkitError as exc:
            self.problems.extend(problem_lines(exc, path))
            return False

    # ------------------------------------------------------------------ agents
    def agents(
        self, value: object, groups: object, calendars: Mapping[str, BusinessCalendar]
    ) -> list[Agent]:
        if value is None:
            value = []
        if not isinstance(value, list):
            self.add("agents", "expected a list of agents")
            return []
        members: dict[str, set[str]] = {}
        group_data = self.mapping(groups, "groups") if groups is not None else {}
        for group, ids in (group_data or {}).items():
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                self.add(f"groups.{group}", "expected a list of agent ids")
                continue
            for agent_id in ids:
                members.setdefault(agent_id, set()).add(str(group))
        out: list[Agent] = []
        raw_ids = {item.get("id") for item in value if isinstance(item, Mapping)}
        for index, item in enumerate(value):
            path = f"agents[{index}]"
            data = self.mapping(item, path)
            if data is None:
                continue
            try:
                agent = Agent.from_dict(data, calendars=calendars)
            except (CsmkitError, TypeError, ValueError) as exc:
                self.add(path, str(exc))
                continue
            extra = members.pop(agent.id, set())
            if extra:
                agent = Agent.from_dict(
                    {**agent.to_dict(), "groups": sorted(agent.groups | extra)}, calendars=calendars
                )
            out.append(agent)
        ids = [a.id for a in out]
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            self.add("agents", f"agent id {duplicate!r} is given more than once")
        for agent_id in sorted(set(members) - raw_ids):
            self.add("groups", f"{agent_id!r} is not an agent id")
        return out

    # ------------------------------------------------------------------ sections
    def calendars(
        self, data: Mapping[str, Any]
    ) -> tuple[BusinessCalendar | None, dict[str, BusinessCalendar]]:
        named: dict[str, BusinessCalendar] = {}
        for name, value in (self.mapping(data.get("calendars", {}), "calendars") or {}).items():
            built = self.calendar(value, f"calendars.{name}")
            if built is not None:
                named[str(name)] = built
        raw = data.get("calendar")
        if raw is None:
            return None, named
        if not isinstance(raw, str):
            return self.calendar(raw, "calendar"), named
        if raw not in named:
            self.add("calendar", f"{raw!r} is not one of calendars ({', '.join(named) or 'none'})")
        return named.get(raw), named

    def types(self, data: Mapping[str, Any]) -> tuple[list[TicketType], dict[str, Any], set[str]]:
        """The valid types, the surveys, and every type name (valid or not)."""
        kinds: list[TicketType] = []
        surveys: dict[str, Any] = {}
        raw = self.mapping(data.get("types", {}), "types") or {}
        if not raw:
            self.add("types", "at least one ticket type is required")
        for name, value in raw.items():
            kind, survey = self.ticket_type(str(name), value)
            if kind is not None:
                kinds.append(kind)
            if survey is not None:
                surveys[str(name)] = survey
        return kinds, surveys, {str(name) for name in raw}

    def channels(self, data: Mapping[str, Any]) -> dict[str, ChannelSpec]:
        out: dict[str, ChannelSpec] = {}
        known = self.plugins.outbound_channels()
        for name, value in (self.mapping(data.get("channels", {}), "channels") or {}).items():
            path = f"channels.{name}"
            spec = self.mapping(value, path)
            if spec is None:
                continue
            self.keys(spec, ("options", "plugin"), path)
            plugin = spec.get("plugin")
            if plugin is not None and plugin not in known:
                names = ", ".join(known) or "none"
                self.add(
                    f"{path}.plugin", f"no outbound channel plugin {plugin!r} (known: {names})"
                )
            options = spec.get("options", {})
            if not isinstance(options, Mapping):
                self.add(f"{path}.options", "expected a table/object")
                options = {}
            out[str(name)] = ChannelSpec(
                str(name), None if plugin is None else str(plugin), options
            )
        return out

    def routing(self, data: Mapping[str, Any], fields: set[str] | None) -> RoutingRules | None:
        if data.get("routing") is None:
            return None
        try:
            return RoutingRules.from_dict(
                data["routing"], registry=self.plugins.strategy_registry(), ticket_fields=fields
            )
        except CsmkitError as exc:
            self.problems.extend(problem_lines(exc, "routing"))
            return None

    def automation(
        self,
        data: Mapping[str, Any],
        fields: set[str] | None,
        transitions: set[str] | None,
        channels: Collection[str],
        type_names: set[str],
        surveys: set[str] | None,
    ) -> RuleSet:
        if data.get("automation") is None:
            return RuleSet()
        try:
            return RuleSet.from_dict(
                data["automation"],
                fields=fields,
                channels=channels,
                transitions=transitions,
                ticket_types=type_names,
                business_clock=data.get("calendar") is not None,
                surveys=surveys,
            )
        except CsmkitError as exc:
            self.problems.extend(problem_lines(exc, "automation"))
            return RuleSet()

    def templates(
        self, data: Mapping[str, Any], fields: set[str] | None, transitions: set[str] | None
    ) -> TemplateSet:
        if data.get("templates") is None:
            return TemplateSet()
        try:
            found = TemplateSet.from_dict({"templates": data["templates"]})
        except TemplateError as exc:
            lines = exc.problems or (str(exc),)
            self.problems.extend(
                line if line.startswith("templates[") else f"templates: {line}" for line in lines
            )
            return TemplateSet()
        before = len(self.problems)
        for template in found:
            self.problems.extend(
                template_problems(template, fields=fields, transitions=transitions)
            )
        return found if len(self.problems) == before else TemplateSet()

    def intake(self, value: object, kinds: list[TicketType], type_names: set[str]) -> None:
        if value is None:
            return
        if not isinstance(value, str) or value not in type_names:
            names = ", ".join(sorted(type_names))
            self.add("intake_type", f"{value!r} is not one of types ({names})")
            return
        kind = next((k for k in kinds if k.name == value), None)
        if kind is not None:  # an invalid type is reported already
            self.problems.extend(f"intake_type: {line}" for line in intake_problems(value, kind))


def _known_names(
    kinds: list[TicketType], type_names: set[str]
) -> tuple[set[str] | None, set[str] | None]:
    """Form fields and transitions rules may name; ``None`` (not checked) when a type is
    invalid or a form takes any field."""
    if len(kinds) < len(type_names):
        return None, None
    transitions = {t.name for k in kinds for t in k.workflow.transitions}
    fields: set[str] = set()
    for kind in kinds:
        form = kind.workflow.form
        if form is None or form.allow_unknown:
            return None, transitions
        fields.update(form.names)
    return fields, transitions


def parse_config(
    cls: type[DeskConfig], data: Mapping[str, Any], plugins: PluginManager
) -> DeskConfig:
    """Build ``cls`` from ``data`` (see `DeskConfig.from_dict`)."""
    if not isinstance(data, Mapping):
        raise AutomationError(
            f"a desk configuration must be a table/object, got {type(data).__name__}"
        )
    p = _Parse(plugins)
    p.keys(data, SECTIONS, "")
    calendar, calendars = p.calendars(data)
    kinds, surveys, type_names = p.types(data)
    agents = p.agents(data.get("agents"), data.get("groups"), calendars)
    fields, transitions = _known_names(kinds, type_names)
    channels = p.channels(data)
    routing = p.routing(data, fields)
    declared = (  # unchecked when a type is invalid (reported already)
        {survey.name for kind in kinds for survey in kind.surveys}
        if len(kinds) == len(type_names)
        else None
    )
    automation = p.automation(data, fields, transitions, channels.keys(), type_names, declared)
    p.intake(data.get("intake_type"), kinds, type_names)
    templates = p.templates(data, fields, transitions)
    if agents and "routing" not in data:
        p.add("routing", "agents are given but no routing rules (add a [routing] default)")
    if p.problems:
        count = len(p.problems)
        raise AutomationError(
            f"invalid desk configuration ({count} problem{'s' if count > 1 else ''}):"
            + "".join(f"\n  - {line}" for line in p.problems),
            problems=p.problems,
        )
    return cls(
        types=tuple(kinds),
        calendar=calendar,
        calendars=calendars,
        surveys=surveys,
        agents=tuple(agents),
        routing=routing,
        automation=automation,
        channels=channels,
        intake_type=data.get("intake_type"),
        templates=templates,
    )
