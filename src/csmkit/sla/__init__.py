"""Business calendars and SLA clocks.

[`BusinessCalendar`][csmkit.sla.BusinessCalendar] answers "how much business time lies between two
instants" and "when is this much business time from now", in O(log n) per call, with weekly
hours, holidays, make-up workdays (调休) and per-date hours in an IANA time zone.
[`SlaPolicy`][csmkit.sla.SlaPolicy] (and [`SlaPolicySet`][csmkit.sla.SlaPolicySet] to pick one per
ticket) turns a ticket's [`Timeline`][csmkit.timeline.Timeline] into an
[`SlaReport`][csmkit.sla.SlaReport]: per target and cycle the state, due instants, warnings and
breach, plus the next instant a scheduler must wake.
"""

from __future__ import annotations

from csmkit._duration import format_duration, parse_duration
from csmkit.sla._calendar import BusinessCalendar
from csmkit.sla._policy import (
    DEFAULT_WARNINGS,
    TARGET_NAMES,
    SlaPolicy,
    SlaPolicySet,
    SlaTarget,
)
from csmkit.sla._replies import SYSTEM_ACTOR, is_opening_comment, is_public_reply
from csmkit.sla._report import (
    SlaCrossing,
    SlaCycle,
    SlaInstants,
    SlaReport,
    SlaState,
    SlaWarning,
)
from csmkit.sla._tracker import SlaTracker

__all__ = [
    "DEFAULT_WARNINGS",
    "SYSTEM_ACTOR",
    "TARGET_NAMES",
    "BusinessCalendar",
    "SlaCrossing",
    "SlaCycle",
    "SlaInstants",
    "SlaPolicy",
    "SlaPolicySet",
    "SlaReport",
    "SlaState",
    "SlaTarget",
    "SlaTracker",
    "SlaWarning",
    "format_duration",
    "is_opening_comment",
    "is_public_reply",
    "parse_duration",
]
