"""Whether a timed occurrence that fell due still applies when the tick runs.

A tick may run late (a ticker restarted, a busy host, another process storing the
ticket's events after the due instant). By then the reason for a warning or a time rule
may have gone: the customer was answered, the ticket solved or put on hold. Sending
"2 hours without a response" after the response is noise at best, so a due occurrence
fires only if its condition holds on the ticket **as it was when due and as it is now**.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from csmkit.automation._context import rule_context
from csmkit.automation._results import Environment
from csmkit.automation._rules import Rule
from csmkit.sla import SlaState
from csmkit.timeline import Timeline

__all__ = ["cleared"]

logger = logging.getLogger(__name__)


def _sla_cleared(
    timeline: Timeline, kind: str, keys: Mapping[str, Any], now: datetime, env: Environment
) -> str | None:
    if env.sla is None:
        return "the ticket has no SLA policy any more"
    report = env.sla.evaluate(timeline, calendar=env.calendar, now=now)
    for cycle in report.cycles:
        if cycle.target == keys.get("sla") and cycle.cycle == keys.get("cycle"):
            # A warning is about time still left: only while the clock runs. A breach
            # stays news while the target is open (running or paused), not once met.
            if kind == "sla_warning" and cycle.state is not SlaState.RUNNING:
                return f"its {cycle.target} cycle {cycle.cycle} is {cycle.state} now"
            if kind == "sla_breach" and not cycle.active:
                return f"its {cycle.target} cycle {cycle.cycle} is {cycle.state} now"
            return None
    return f"its {keys.get('sla')} cycle {keys.get('cycle')} is gone"


def cleared(
    timeline: Timeline,
    rule: Rule,
    event: Mapping[str, Any],
    keys: Mapping[str, Any],
    *,
    now: datetime,
    env: Environment,
    stats: Mapping[str, int],
) -> str | None:
    """Why the due occurrence of ``rule`` no longer applies at ``now``, or ``None``.

    Args:
        timeline: The ticket as it is now (including what this run wrote so far).
        rule: A time rule or an SLA rule.
        event: The occurrence's ``event`` context (``kind`` is ``"time"``,
            ``"sla_warning"`` or ``"sla_breach"``).
        keys: The occurrence's keys (``sla`` and ``cycle`` for SLA occurrences).
        now: The instant of the tick.
        env: The rules' environment (SLA policy, calendar).
        stats: ``ticket_stats`` of the timeline's events.
    """
    kind = str(event.get("kind", "time"))
    reason = None
    if kind in ("sla_warning", "sla_breach"):
        reason = _sla_cleared(timeline, kind, keys, now, env)
    if reason is None and rule.when is not None:
        ticket = timeline.ticket
        context = rule_context(ticket, ticket.fields, dict(event), stats, env)
        if not rule.when.evaluate(context):
            reason = "its condition no longer holds"
    if reason is not None:
        logger.debug(
            "ticket %r: rule %r (%s) is due but not fired at %s: %s",
            timeline.ticket_id,
            rule.id,
            kind,
            now.isoformat(),
            reason,
        )
    return reason
