"""The plugin manager and the typed records plugins register.

Applications own a [`PluginManager`][csmkit.plugins.PluginManager]; plugins implement the hooks of
[`csmkit.hookspecs`][csmkit.hookspecs] with [`csmkit.hookspecs.hookimpl`][csmkit.hookspecs.hookimpl]
and return the registration records defined here. See ``docs/plugins.md``.
"""

from __future__ import annotations

from csmkit.plugins._builtin import OWN_MESSAGE_ID_PREFIX, auto_reply_reason
from csmkit.plugins._manager import BUILTIN_PLUGINS, CsmkitPluginWarning, PluginInfo, PluginManager
from csmkit.plugins._records import (
    CalendarRegistration,
    InboundChannelRegistration,
    InboundMessageLike,
    OutboundChannelRegistration,
    Registration,
    RoutingStrategyRegistration,
    StoreBackend,
)

__all__ = [
    "BUILTIN_PLUGINS",
    "OWN_MESSAGE_ID_PREFIX",
    "CalendarRegistration",
    "CsmkitPluginWarning",
    "InboundChannelRegistration",
    "InboundMessageLike",
    "OutboundChannelRegistration",
    "PluginInfo",
    "PluginManager",
    "Registration",
    "RoutingStrategyRegistration",
    "StoreBackend",
    "auto_reply_reason",
]
