"""The service desk: every part of csmkit composed for an application.

[`ServiceDesk`][csmkit.desk.ServiceDesk] composes a store, a plugin manager, ticket types (form +
workflow + SLA policy), a business calendar, a router and automation rules. Every operation
appends its events atomically with optimistic concurrency and retries safely;
``tick(now)`` runs everything due. See ``docs/desk.md`` for a tutorial.
"""

from __future__ import annotations

from csmkit.desk._config import ChannelSpec, DeskConfig
from csmkit.desk._config_schema import config_schema
from csmkit.desk._desk import ServiceDesk
from csmkit.desk._types import (
    FeedbackStatus,
    LinkedStatus,
    TicketType,
    TickResult,
    problem_workflow,
)

__all__ = [
    "ChannelSpec",
    "DeskConfig",
    "FeedbackStatus",
    "LinkedStatus",
    "ServiceDesk",
    "TickResult",
    "TicketType",
    "config_schema",
    "problem_workflow",
]
