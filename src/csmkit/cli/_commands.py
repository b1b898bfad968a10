"""``csmkit workflow``, ``csmkit calendar`` and ``csmkit plugins``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from csmkit.cli._calendars import (
    PRESETS,
    LoadedCalendar,
    check_calendar_extra,
    explain_days,
    load_calendar,
    preset_zone,
)
from csmkit.errors import CalendarError, WorkflowError
from csmkit.io import ExportError, read_instant
from csmkit.sla import format_duration, parse_duration
from csmkit.workflow import TEMPLATE_NAMES, Workflow, template

__all__ = ["run_calendar", "run_plugins", "run_workflow_check", "run_workflow_show"]


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


# --------------------------------------------------------------------------- workflow
def _read_definition(spec: str) -> Any:
    path = Path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowError(f"{spec}: cannot read the workflow: {exc}") from None
    if path.suffix.lower() == ".toml":
        try:
            tomllib: Any = importlib.import_module("tomllib")
        except ImportError:  # pragma: no cover - Python 3.10
            raise WorkflowError(f"{spec}: TOML needs Python 3.11 or later; use JSON") from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise WorkflowError(f"{spec}: not TOML: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkflowError(f"{spec}: not JSON: {exc}") from None


def _load_workflow(spec: str) -> Workflow:
    if spec in TEMPLATE_NAMES:
        return template(spec)
    if not Path(spec).exists():
        raise WorkflowError(
            f"{spec!r} is neither a workflow file nor a template ({', '.join(TEMPLATE_NAMES)})"
        )
    data = _read_definition(spec)
    if not isinstance(data, dict):
        raise WorkflowError(f"{spec}: a workflow file holds one object")
    try:
        return Workflow.from_dict(data)
    except WorkflowError as exc:
        raise WorkflowError(
            f"{spec}: invalid workflow ({len(exc.problems) or 1} problems); "
            f"run `csmkit workflow check {spec}` to list them"
        ) from None


def label_languages(wf: Workflow) -> list[str]:
    """The languages the labels of ``wf``'s states and transitions are written in, sorted."""
    found: set[str] = set()
    for labels in [state.labels for state in wf.states] + [t.labels for t in wf.transitions]:
        for texts in labels.values():
            found.update(texts)
    return sorted(found)


def run_workflow_show(args: argparse.Namespace) -> int:
    """Print a workflow as Mermaid, DOT or a table.

    Raises:
        UsageError: ``--lang`` names a language none of the workflow's labels is written in
            (a silent fallback to English would look like a translation that is not there).
    """
    from csmkit.cli._main import UsageError

    wf = _load_workflow(args.workflow)
    if args.lang is not None:
        languages = label_languages(wf)
        if args.lang not in languages:
            raise UsageError(
                f"--lang {args.lang!r}: workflow {wf.name!r} has labels in "
                f"{', '.join(languages) or 'no language (it shows state names)'}; "
                "use one of them or leave --lang out"
            )
    if args.format == "mermaid":
        _out(wf.to_mermaid(current=args.current, lang=args.lang))
    elif args.format == "dot":
        _out(wf.to_dot(current=args.current, lang=args.lang))
    else:
        _out(wf.to_table(lang=args.lang or "en"))
    return 0


def run_workflow_check(args: argparse.Namespace) -> int:
    """Validate a workflow file; print every problem; exit 1 when there is any."""
    spec = args.file
    if not Path(spec).exists() and spec not in TEMPLATE_NAMES:
        raise WorkflowError(f"{spec}: no such file")
    data = template(spec).to_dict() if spec in TEMPLATE_NAMES else _read_definition(spec)
    if not isinstance(data, dict):
        raise WorkflowError(f"{spec}: a workflow file holds one object")
    try:
        wf = Workflow.from_dict(data)
    except WorkflowError as exc:
        problems = list(exc.problems) or [str(exc)]
        for problem in problems:
            _out(f"{spec}: {problem}")
        sys.stderr.write(
            f"csmkit: {spec}: {len(problems)} problem(s) in workflow; fix them and check again\n"
        )
        return 1
    _out(
        f"{spec}: workflow {wf.name!r} v{wf.version} is valid "
        f"({len(wf.states)} states, {len(wf.transitions)} transitions)"
    )
    return 0


# --------------------------------------------------------------------------- calendar
def _instant(text: str, loaded_zone: Any, where: str) -> datetime:
    try:
        return read_instant(text, loaded_zone, where)
    except ExportError as exc:
        raise CalendarError(str(exc)) from None


def _calendar_and_instants(
    spec: str, texts: list[str], allow_partial: bool = False
) -> tuple[LoadedCalendar, list[datetime]]:
    known = preset_zone(spec)
    if known is not None:
        # A preset's years are the local years of the instants, read in its zone.
        years = {
            _instant(text, known, f"instant {text!r}").astimezone(known).year for text in texts
        }
    else:
        # The calendar's zone is not known yet: read naive instants as UTC to pick the
        # years, widened by a day so that no zone offset can move an instant out of them.
        provisional = [_instant(text, timezone.utc, f"instant {text!r}") for text in texts]
        years = {
            (value + step).year
            for value in provisional
            for step in (-timedelta(days=1), timedelta(days=1))
        }
    loaded = load_calendar(spec, years, allow_partial=allow_partial)
    zone = loaded.calendar.zone
    return loaded, [_instant(text, zone, f"instant {text!r}") for text in texts]


def run_calendar(args: argparse.Namespace) -> int:
    """``calendar add|between|explain``."""
    check_calendar_extra(args.calendar)
    if args.calendar_command == "add":
        loaded, (start,) = _calendar_and_instants(args.calendar, [args.at], args.partial_calendar)
        # business time: a day unit would be ambiguous (24 business hours or a working day?)
        delta = parse_duration(args.duration, "duration", signed=True, allow_zero=True, days=False)
        result = loaded.calendar.add(start, delta)
        if args.json:
            _out(
                json.dumps(
                    {
                        "at": start.isoformat(),
                        "delta": args.duration,
                        "result": result.isoformat(),
                        "calendar": loaded.source,
                    }
                )
            )
        else:
            _out(result.isoformat())
        return 0
    loaded, (start, end) = _calendar_and_instants(
        args.calendar, [args.start, args.end], args.partial_calendar
    )
    calendar = loaded.calendar
    if args.calendar_command == "between":
        spent = calendar.between(start, end)
        if args.json:
            _out(
                json.dumps(
                    {
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                        "seconds": spent.total_seconds(),
                        "calendar": loaded.source,
                    }
                )
            )
        else:
            in_hours = spent / timedelta(hours=1)
            _out(f"{format_duration(spent, days=False)} ({in_hours:g} business hours)")
        return 0
    if end < start:
        raise CalendarError("explain: END is before START")
    zone = calendar.zone
    # END is exclusive: a span ending at midnight does not show the next day.
    last = max(start, end - timedelta(microseconds=1)).astimezone(zone).date()
    days = explain_days(loaded, start.astimezone(zone).date(), last)
    intervals = calendar.open_intervals(start.astimezone(zone), end.astimezone(zone))
    total = calendar.between(start, end)
    if args.json:
        _out(
            json.dumps(
                {
                    "calendar": loaded.source,
                    "timezone": calendar.timezone,
                    "days": [day.to_dict() for day in days],
                    "open_intervals": [[a.isoformat(), b.isoformat()] for a, b in intervals],
                    "business_seconds": total.total_seconds(),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    _out(f"calendar: {loaded.source}, time zone {calendar.timezone}")
    for day in days:
        state = "open  " if day.hours else "closed"
        hours = ", ".join(day.hours) if day.hours else "-"
        note = f" {day.note}" if day.note else ""
        _out(
            f"{day.day.isoformat()} {day.day.strftime('%a')}  {state}  {hours:<24} "
            f"{day.rule}{note}".rstrip()
        )
    _out("open intervals:")
    for a, b in intervals:
        _out(f"  {a.isoformat()} .. {b.isoformat()}  ({format_duration(b - a, days=False)})")
    if not intervals:
        _out("  (none)")
    _out(f"business time: {format_duration(total, days=False)} ({total / timedelta(hours=1):g} h)")
    return 0


# --------------------------------------------------------------------------- plugins
def _where(pm: Any, name: str) -> str | None:
    plugin = pm.pluggy_manager.get_plugin(name)
    module = sys.modules.get(getattr(plugin, "__module__", "") or "")
    source = getattr(plugin, "__file__", None) or getattr(module, "__file__", None)
    return None if source is None else str(source)


def _origins(pm: Any, hook_name: str, sources: Mapping[str, str]) -> dict[str, str]:
    """Which plugin registered each name of a registration hook ("built-in" for csmkit's own)."""
    origins: dict[str, str] = {}
    for impl in getattr(pm.pluggy_manager.hook, hook_name).get_hookimpls():
        result = impl.function()  # the manager has already called and checked it
        for record in [] if result is None else list(result):
            builtin = sources.get(impl.plugin_name) == "builtin"
            origins[record.name] = "built-in" if builtin else f"plugin {impl.plugin_name}"
    return origins


def run_plugins(args: argparse.Namespace) -> int:
    """List installed plugins, where they come from and what they register.

    Every registered name says where it comes from: ``built-in`` (csmkit's own plugins, and
    the routing strategies built into [`csmkit.routing`][csmkit.routing]) or the plugin.
    """
    from csmkit.plugins import PluginManager
    from csmkit.routing import default_registry

    pm = PluginManager()
    plugins = []
    for info in pm.list_plugins():
        plugins.append(
            {
                "name": info.name,
                "source": info.source,
                "distribution": info.distribution,
                "version": info.version,
                "entry_point": info.value,
                "file": _where(pm, info.name),
            }
        )
    sources = {str(plugin["name"]): str(plugin["source"]) for plugin in plugins}
    registrations: dict[str, Mapping[str, Any]] = {
        "store_backends": pm.store_backends(),
        "inbound_channels": pm.inbound_channels(),
        "outbound_channels": pm.outbound_channels(),
        "routing_strategies": pm.routing_strategies(),
        "calendars": pm.calendars(),
    }
    listed: dict[str, list[dict[str, str]]] = {}
    for hook, found in registrations.items():
        origins = _origins(pm, f"csmkit_{hook}", sources)
        listed[hook] = [
            {
                "name": name,
                "description": record.description,
                "origin": origins.get(name, "plugin"),
            }
            for name, record in found.items()
        ]
    # The routing strategies built into csmkit.routing are not registered through the hook.
    builtin_strategies = [
        {"name": name, "description": "built into csmkit.routing", "origin": "built-in"}
        for name in default_registry().names()
    ]
    listed["routing_strategies"] = sorted(
        [*builtin_strategies, *listed["routing_strategies"]], key=lambda record: record["name"]
    )
    if args.json:
        _out(
            json.dumps(
                {"plugins": plugins, "registrations": listed, "calendar_presets": dict(PRESETS)},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    _out("plugins:")
    for plugin in plugins:
        origin = (
            f"{plugin['distribution']} {plugin['version']} ({plugin['entry_point']})"
            if plugin["source"] == "entrypoint"
            else plugin["source"]
        )
        _out(f"  {plugin['name']}  [{origin}]")
        if plugin["file"]:
            _out(f"      {plugin['file']}")
    _out("registrations:")
    for hook, records in listed.items():
        by_origin: dict[str, list[str]] = {}
        for record in records:
            by_origin.setdefault(record["origin"], []).append(record["name"])
        groups = "; ".join(f"{', '.join(names)} ({origin})" for origin, names in by_origin.items())
        _out(f"  {hook.replace('_', ' ')}: {groups or '-'}")
    _out("calendar presets (--calendar): " + ", ".join(f"{name} (built-in)" for name in PRESETS))
    return 0
