"""Rule triggers: the event kinds a rule may listen to, and time triggers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs

from csmkit._duration import format_duration, parse_duration
from csmkit.errors import AutomationError, DurationError
from csmkit.timeline import EVENT_TYPES

__all__ = ["EVENT_TRIGGERS", "TimeTrigger", "format_span", "parse_span", "time_trigger"]

EVENT_TRIGGERS: tuple[str, ...] = (
    *sorted(EVENT_TYPES),
    "message_in",
    "sla_breach",
    "sla_warning",
)
"""Names a rule's ``on`` may list: every event kind, ``message_in`` (an inbound customer
message), ``sla_warning`` and ``sla_breach``."""

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
        trigger = time_trigger(data, where, problems)
        if problems or trigger is None:
            raise AutomationError(
                "invalid time trigger:\n  - " + "\n  - ".join(problems), problems=problems
            )
        return trigger


def time_trigger(data: object, where: str, problems: list[str]) -> TimeTrigger | None:
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
