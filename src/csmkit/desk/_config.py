"""A desk defined as data: [`DeskConfig`][csmkit.desk.DeskConfig], read from TOML, JSON or a dict.

Each section is parsed by the ``from_dict`` of its part (calendar, workflow, SLA
policy, agents, routing rules, automation rules); their problems are gathered, each
prefixed with the section's path (``types.repair.sla.targets.first_response.goals
.urgent``), and raised together in one `AutomationError`. Nothing
is built until everything is valid.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from csmkit.automation import RuleSet
from csmkit.desk._types import TicketType
from csmkit.errors import AutomationError, CsmkitError
from csmkit.knowledge import TemplateSet
from csmkit.plugins import PluginManager
from csmkit.routing import Agent, RoutingRules
from csmkit.sla import BusinessCalendar, SlaPolicy, SlaPolicySet
from csmkit.workflow import TEMPLATE_NAMES, template_dict

__all__ = ["SECTIONS", "ChannelSpec", "DeskConfig", "read_config_file"]

SECTIONS: tuple[str, ...] = (
    "agents",
    "automation",
    "calendar",
    "calendars",
    "channels",
    "groups",
    "intake_type",
    "routing",
    "templates",
    "types",
)
"""The top-level keys of a desk configuration."""

_TYPE_KEYS = ("fields", "sla", "survey", "workflow")
_CN_WEEK: dict[str, list[str]] = {"mon-fri": ["09:00-12:00", "13:00-18:00"]}
_PRESETS: dict[str, tuple[str, dict[str, list[str]]]] = {"cn": ("CN", _CN_WEEK)}
_PATHLIKE = re.compile(r"^[\w\[\]-]+(?: '[^']*')?[\w\[\].-]*:")


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _json_copy(value: Any) -> Any:
    """A plain, detached copy of TOML/JSON data (mappings become dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _json_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_copy(v) for v in value]
    return value


@attrs.frozen
class ChannelSpec:
    """An outbound channel of the configuration.

    Attributes:
        name: The channel name rules use (``channel = "sms"``).
        plugin: The ``csmkit_outbound_channels`` registration building it, or ``None``
            when the application passes the channel object to ``from_config``.
        options: Keyword arguments of the plugin's factory.
    """

    name: str
    plugin: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ChannelSpec, (self.name, self.plugin, dict(self.options)))

    def to_dict(self) -> dict[str, Any]:
        """The configuration form (``{"plugin": ..., "options": {...}}``)."""
        out: dict[str, Any] = {}
        if self.plugin is not None:
            out["plugin"] = self.plugin
        if self.options:
            out["options"] = _json_copy(self.options)
        return out


@attrs.frozen(eq=True, hash=False)
class DeskConfig:
    """A whole desk as a validated value, what
    [`ServiceDesk.from_config`][csmkit.desk.ServiceDesk.from_config] builds.

    Attributes:
        types: The ticket types (form + workflow + SLA policy).
        calendar: The desk's business calendar.
        calendars: Named calendars (agent shifts name them).
        surveys: Survey of each ticket type that names one (type name -> a survey name
            or mapping), passed through as written.
        agents: The agents (group memberships of ``groups`` merged in).
        routing: The routing rules, if the desk routes.
        automation: The automation rules.
        channels: The outbound channels by name.
        intake_type: The ticket type inbound messages open.
        templates: The reply templates (written as a list of template tables; their
            actions checked against the types' forms and workflows).
    """

    types: tuple[TicketType, ...] = ()
    calendar: BusinessCalendar | None = None
    calendars: Mapping[str, BusinessCalendar] = attrs.field(factory=dict, converter=_frozen_map)
    surveys: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    agents: tuple[Agent, ...] = ()
    routing: RoutingRules | None = None
    automation: RuleSet = attrs.field(factory=RuleSet)
    channels: Mapping[str, ChannelSpec] = attrs.field(factory=dict, converter=_frozen_map)
    intake_type: str | None = None
    templates: TemplateSet = attrs.field(factory=TemplateSet)

    def __reduce__(self) -> tuple[Any, ...]:
        return (DeskConfig.from_dict, (self.to_dict(),))

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, plugins: PluginManager | None = None
    ) -> DeskConfig:
        """Validate and build a configuration; every problem is reported at once.

        Args:
            data: The configuration (see ``docs/repair-desk.md`` and
                [`config_schema`][csmkit.desk.config_schema]).
            plugins: Where calendar, strategy and channel plugins are looked up
                (default: built-ins only).

        Raises:
            AutomationError: ``problems`` lists every problem with its path
                (``types.repair.sla.targets.first_response.goals.urgent``).
        """
        from csmkit.desk._config_parse import parse_config

        return parse_config(cls, data, plugins or PluginManager(load_entrypoints=False))

    @classmethod
    def from_file(cls, path: str | Path, *, plugins: PluginManager | None = None) -> DeskConfig:
        """Read a ``.toml`` or ``.json`` file and build it; problems name the file.

        Raises:
            AutomationError: unreadable or malformed file, or an invalid configuration.
        """
        data = read_config_file(path)
        try:
            return cls.from_dict(data, plugins=plugins)
        except AutomationError as exc:
            raise AutomationError(f"{path}: {exc}", problems=exc.problems) from None

    def to_dict(self) -> dict[str, Any]:
        """The canonical plain form (templates and presets expanded);
        ``DeskConfig.from_dict(c.to_dict()) == c``."""
        out: dict[str, Any] = {}
        if self.calendar is not None:
            out["calendar"] = self.calendar.to_dict()
        if self.calendars:
            out["calendars"] = {k: v.to_dict() for k, v in self.calendars.items()}
        types: dict[str, Any] = {}
        for kind in self.types:
            entry: dict[str, Any] = {"workflow": kind.workflow.to_dict()}
            if kind.sla is not None:
                entry["sla"] = kind.sla.to_dict()
            if kind.name in self.surveys:
                entry["survey"] = _json_copy(self.surveys[kind.name])
            types[kind.name] = entry
        out["types"] = types
        if self.agents:
            out["agents"] = [agent.to_dict() for agent in self.agents]
        if self.routing is not None:
            out["routing"] = self.routing.to_dict()
        if self.automation.rules:
            out["automation"] = self.automation.to_dict()
        if self.channels:
            out["channels"] = {name: spec.to_dict() for name, spec in self.channels.items()}
        if self.intake_type is not None:
            out["intake_type"] = self.intake_type
        if len(self.templates):
            out["templates"] = self.templates.to_dict()["templates"]
        return out

    def summary(self) -> str:
        """A few lines describing the desk (what ``csmkit desk check`` prints)."""
        lines = []
        for kind in self.types:
            states = ", ".join(s.name for s in kind.workflow.states)
            sla = "" if kind.sla is None else f"; SLA {_sla_name(kind.sla)}"
            extra = "".join(
                f"; survey {s.name} ({s.kind} {s.scale[0]}-{s.scale[1]}, {s.convention})"
                for s in kind.surveys
            )
            lines.append(f"type {kind.name}: workflow {kind.workflow.name}{sla}{extra}")
            lines.append(f"  states: {states}")
        if self.calendar is not None:
            lines.append(f"calendar: {self.calendar.timezone}")
        groups: dict[str, list[str]] = {}
        for agent in self.agents:
            for group in sorted(agent.groups):
                groups.setdefault(group, []).append(agent.id)
        lines.append(f"agents: {len(self.agents)}")
        lines.extend(f"  {group}: {', '.join(ids)}" for group, ids in sorted(groups.items()))
        if self.routing is not None:
            names = [r.name for r in self.routing.rules]
            lines.append(
                f"routing rules: {', '.join(names) or '-'} (default {self.routing.default.name})"
            )
        rule_ids = [r.id for r in self.automation.rules]
        lines.append(f"automation rules: {', '.join(rule_ids) or '-'}")
        if self.channels:
            lines.append(
                "channels: "
                + ", ".join(
                    f"{n} ({s.plugin or 'supplied by the application'})"
                    for n, s in self.channels.items()
                )
            )
        if self.intake_type is not None:
            lines.append(f"intake type: {self.intake_type}")
        if len(self.templates):
            names = sorted({f"{t.name}/{t.language}" for t in self.templates})
            lines.append(f"reply templates: {', '.join(names)}")
        return "\n".join(lines)


def _sla_name(sla: SlaPolicy | SlaPolicySet) -> str:
    if isinstance(sla, SlaPolicy):
        return sla.name
    return "/".join(p.name for p in sla.policies)


# --------------------------------------------------------------------------- files
def _toml_module(where: str) -> Any:
    for name in ("tomllib", "tomli"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise AutomationError(
        f"{where}: reading TOML needs Python 3.11 or later, or the 'tomli' package "
        "(pip install 'csmkit[toml]'); or write the configuration as JSON"
    )


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The data of a ``.toml`` or ``.json`` configuration file.

    Raises:
        AutomationError: unreadable file, a parse error (with its line and column), or a
            file that does not hold one table/object.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AutomationError(f"{where}: cannot read the configuration: {exc}") from None
    data: object
    if Path(path).suffix.lower() == ".toml":
        toml = _toml_module(where)
        try:
            data = toml.loads(text)
        except toml.TOMLDecodeError as exc:
            raise AutomationError(f"{where}: not valid TOML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AutomationError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AutomationError(f"{where}: a desk configuration holds one table/object")
    return data


# --------------------------------------------------------------------------- helpers
def problem_lines(exc: CsmkitError, path: str) -> list[str]:
    """The problems of a part's error, each prefixed with ``path``."""
    raw = list(getattr(exc, "problems", ()) or ())
    if not raw:
        text = str(exc)
        listed = [line[4:] for line in text.splitlines() if line.startswith("  - ")]
        raw = listed or [text]
    out = []
    for line in raw:
        line = str(line)
        if not path or line.startswith((path + ".", path + ":")):
            out.append(line)
        elif _PATHLIKE.match(line):
            out.append(f"{path}.{line}")
        else:
            out.append(f"{path}: {line}")
    return out


def type_template(name: str) -> dict[str, Any] | None:
    """A built-in workflow template's dict form, or ``None`` for an unknown name."""
    return template_dict(name) if name in TEMPLATE_NAMES else None


def desk_channels(
    config: DeskConfig, plugins: PluginManager, given: Mapping[str, object] | None
) -> dict[str, object]:
    """The channel objects of ``config``: those ``given`` by the application, the
    others built by their plugin.

    Raises:
        AutomationError: a channel neither given nor built by a plugin, or a plugin
            factory that failed (every problem at once).
    """
    out: dict[str, object] = dict(given or {})
    problems: list[str] = []
    registrations = plugins.outbound_channels()
    for name, spec in config.channels.items():
        if name in out:
            continue
        if spec.plugin is None:
            problems.append(
                f"channels.{name}: no plugin named; pass the channel object as "
                f"from_config(..., channels={{{name!r}: ...}})"
            )
            continue
        registration = registrations.get(spec.plugin)
        if registration is None:
            problems.append(f"channels.{name}.plugin: no outbound channel plugin {spec.plugin!r}")
            continue
        try:
            out[name] = registration.factory(**dict(spec.options))
        except Exception as exc:  # a plugin's own error, reported with its path
            problems.append(f"channels.{name}: plugin {spec.plugin!r} failed: {exc}")
    if problems:
        raise AutomationError(
            "cannot build the desk's channels:" + "".join(f"\n  - {p}" for p in problems),
            problems=problems,
        )
    return out
