"""How a desk is put together: its arguments checked, its kernel built.

[`ServiceDesk`][csmkit.desk.ServiceDesk] calls `compose_kernel()` with its arguments (or
`config_arguments()` first, for [`from_config()`][csmkit.desk.ServiceDesk.from_config])
and builds its operation parts on the kernel returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from csmkit.automation import RuleSet
from csmkit.customers import CustomerDirectory
from csmkit.desk._config import DeskConfig, desk_channels
from csmkit.desk._core import DeskKernel
from csmkit.desk._replies import desk_templates
from csmkit.desk._surveys import DeskSurveys
from csmkit.desk._types import TicketType
from csmkit.errors import AutomationError
from csmkit.knowledge import TemplateSet
from csmkit.metrics import Survey
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Router
from csmkit.sla import BusinessCalendar
from csmkit.storage import TicketStore

__all__ = ["compose_kernel", "config_arguments"]


def compose_kernel(
    store: TicketStore,
    *,
    types: Iterable[TicketType] | Mapping[str, TicketType],
    clock: Callable[[], datetime],
    plugins: PluginManager | None,
    calendar: BusinessCalendar | None,
    router: Router | None,
    agents: AgentPool | None,
    rules: RuleSet | Mapping[str, Any] | None,
    channels: Mapping[str, object] | None,
    customers: CustomerDirectory | None,
    surveys: Iterable[Survey],
    templates: TemplateSet | Mapping[str, Any] | None,
    new_ticket_id: Callable[[], str] | None,
    max_retries: int,
) -> tuple[DeskKernel, TemplateSet]:
    """The kernel of a desk with these arguments, and its reply templates.

    Raises:
        AutomationError: as [`ServiceDesk`][csmkit.desk.ServiceDesk] documents.
    """
    kinds = list(types.values()) if isinstance(types, Mapping) else list(types)
    checked: dict[str, TicketType] = {}
    for kind in kinds:
        if not isinstance(kind, TicketType):
            raise AutomationError(f"types: expected TicketType values, got {kind!r}")
        if kind.name in checked:
            raise AutomationError(f"types: ticket type {kind.name!r} is given twice")
        checked[kind.name] = kind
    if not callable(clock):
        raise AutomationError("clock must be a callable returning an aware datetime")
    plugins = plugins if plugins is not None else PluginManager(load_entrypoints=False)
    outbound = dict(channels or {})
    declared = DeskSurveys(checked.values(), surveys)
    ruleset = (
        rules
        if isinstance(rules, RuleSet)
        else RuleSet.from_dict(rules)
        if rules is not None
        else RuleSet()
    )
    forms = [k.workflow.form for k in checked.values()]
    fields: set[str] | None = set()
    for form in forms:
        if form is None or form.allow_unknown:
            fields = None
            break
        assert fields is not None
        fields.update(spec.name for spec in form.fields)
    transitions = {t.name for k in checked.values() for t in k.workflow.transitions}
    ruleset.check(
        fields=fields,
        channels=outbound.keys(),
        transitions=transitions,
        ticket_types=checked.keys(),
        business_clock=calendar is not None,
        surveys={survey.name for survey in declared.declared()},
    )
    replies = desk_templates(templates, fields=fields, transitions=transitions)
    kernel = DeskKernel(
        store,
        types=checked,
        clock=clock,
        plugins=plugins,
        calendar=calendar,
        router=router,
        agents=agents,
        rules=ruleset,
        channels=outbound,
        customers=customers,
        surveys=declared,
        new_ticket_id=new_ticket_id,
        max_retries=max_retries,
    )
    return kernel, replies


def config_arguments(
    config: str | Path | Mapping[str, Any] | DeskConfig,
    plugins: PluginManager | None,
    channels: Mapping[str, object] | None,
) -> dict[str, Any]:
    """``ServiceDesk`` arguments from a desk definition (the file, the mapping or the
    validated configuration); see [`from_config()`][csmkit.desk.ServiceDesk.from_config].

    Raises:
        AutomationError: every problem of the configuration, each with its path.
    """
    plugins = plugins if plugins is not None else PluginManager(load_entrypoints=False)
    if isinstance(config, DeskConfig):
        parsed = config
    elif isinstance(config, Mapping):
        parsed = DeskConfig.from_dict(config, plugins=plugins)
    else:
        parsed = DeskConfig.from_file(config, plugins=plugins)
    built = desk_channels(parsed, plugins, channels)
    rules = parsed.routing
    return {
        "types": parsed.types,
        "plugins": plugins,
        "calendar": parsed.calendar,
        "router": None if rules is None else Router(rules, registry=plugins.strategy_registry()),
        "agents": None if rules is None else AgentPool(parsed.agents),
        "rules": parsed.automation,
        "channels": built,
        "intake_type": parsed.intake_type,
        "templates": parsed.templates,
    }
