"""The csmkit hook specifications: every extension point a plugin can implement.

A plugin is a module (or any object) with functions decorated with
[`hookimpl`][csmkit.hookspecs.hookimpl] whose names are the hook names below. Plugins are discovered
through the ``csmkit`` entry-point group and loaded by
[`csmkit.plugins.PluginManager`][csmkit.plugins.PluginManager]; the built-in memory and SQLite
stores register through these same hooks.

Hooks come in three shapes:

* **registration hooks** (``csmkit_store_backends``, ``csmkit_inbound_channels``,
  ``csmkit_outbound_channels``, ``csmkit_routing_strategies``, ``csmkit_calendars``,
  ``csmkit_knowledge_stores``)
  return (or yield) typed, named records; names must be unique across all plugins;
* **first-result hooks** (``csmkit_match_ticket``, ``csmkit_deliver_notification``): the
  first implementation returning something other than ``None`` wins;
* **fan-out hooks** (``csmkit_inbound_filter``, ``csmkit_ticket_event``): every
  implementation is called.

An implementation may accept fewer arguments than the specification (pluggy's opt-in
arguments), so new arguments can be added without breaking plugins. The full reference
with examples is ``docs/plugins.md``.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable

import pluggy

if typing.TYPE_CHECKING:
    from csmkit.plugins import (
        CalendarRegistration,
        InboundChannelRegistration,
        InboundMessageLike,
        OutboundChannelRegistration,
        RoutingStrategyRegistration,
        StoreBackend,
    )
    from csmkit.storage import TicketStore
    from csmkit.timeline import Event, Ticket

__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME", "CsmkitSpecs", "hookimpl", "hookspec"]

PROJECT_NAME = "csmkit"
"""The pluggy project name: hook implementations must be marked for it."""

ENTRY_POINT_GROUP = "csmkit"
"""The entry-point group third-party plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification (used only by csmkit itself)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a hook implementation in a plugin: ``@hookimpl`` or ``@hookimpl(trylast=True)``."""


class CsmkitSpecs:
    """All csmkit hook specifications (a plugin implements any subset)."""

    # ------------------------------------------------------------ registration hooks
    @hookspec
    def csmkit_store_backends(self) -> Iterable[StoreBackend]:
        """Register storage backends, one per URL scheme.

        A backend's store implements the whole
        [`TicketStore`][csmkit.storage.TicketStore] protocol, the desk queries included
        (``due_before``, ``count_tickets``, ``set_due`` and the ``due`` mark each
        ``append`` carries, written in the batch's transaction); prove it with
        [`csmkit.testing.StoreContract`][csmkit.testing.StoreContract].

        Returns:
            [`StoreBackend`][csmkit.plugins.StoreBackend] records (a list, or yield them).
        """
        raise NotImplementedError

    @hookspec
    def csmkit_inbound_channels(self) -> Iterable[InboundChannelRegistration]:
        """Register inbound channels (parsers of e-mail, webhook JSON, chat payloads).

        Returns:
            [`InboundChannelRegistration`][csmkit.plugins.InboundChannelRegistration] records.
        """
        raise NotImplementedError

    @hookspec
    def csmkit_outbound_channels(self) -> Iterable[OutboundChannelRegistration]:
        """Register outbound channels (notifiers: SMTP, SMS, chat).

        Returns:
            [`OutboundChannelRegistration`][csmkit.plugins.OutboundChannelRegistration] records.
        """
        raise NotImplementedError

    @hookspec
    def csmkit_routing_strategies(self) -> Iterable[RoutingStrategyRegistration]:
        """Register named routing strategies.

        Returns:
            [`RoutingStrategyRegistration`][csmkit.plugins.RoutingStrategyRegistration] records.
        """
        raise NotImplementedError

    @hookspec
    def csmkit_knowledge_stores(self) -> Iterable[StoreBackend]:
        """Register knowledge-base stores, one per URL scheme.

        Returns:
            [`StoreBackend`][csmkit.plugins.StoreBackend] records whose factory returns a
            [`csmkit.knowledge.KnowledgeStore`][csmkit.knowledge.KnowledgeStore].
        """
        raise NotImplementedError

    @hookspec
    def csmkit_calendars(self) -> Iterable[CalendarRegistration]:
        """Register named business calendars and holiday providers.

        Returns:
            [`CalendarRegistration`][csmkit.plugins.CalendarRegistration] records.
        """
        raise NotImplementedError

    # ------------------------------------------------------------ first-result hooks
    @hookspec(firstresult=True)
    def csmkit_match_ticket(self, message: InboundMessageLike, store: TicketStore) -> str | None:
        """Say which existing ticket an inbound message belongs to.

        Stops at the first non-``None`` result. The built-in implementation runs last
        (``trylast``) and looks up ``in_reply_to`` and ``references`` with
        ``store.find_ticket_by_message_id``.

        Args:
            message: The inbound message (see
                [`InboundMessageLike`][csmkit.plugins.InboundMessageLike]).
            store: The ticket store, for lookups.

        Returns:
            The ticket id, or ``None`` to let later implementations decide (``None`` from
            all of them means: open a new ticket).
        """
        raise NotImplementedError

    @hookspec(firstresult=True)
    def csmkit_deliver_notification(self, notification: object, channel: object) -> object | None:
        """Send one notification through an outbound channel.

        Stops at the first non-``None`` result. Plugins add retries, timing or metrics
        with ``@hookimpl(wrapper=True)`` around whichever implementation delivers.

        Args:
            notification: What to send (the type is defined by the channels part).
            channel: The outbound channel object to send it with.

        Returns:
            A delivery receipt, or ``None`` to let another implementation deliver.
        """
        raise NotImplementedError

    # ------------------------------------------------------------ fan-out hooks
    @hookspec
    def csmkit_inbound_filter(self, message: InboundMessageLike) -> bool | None:
        """Decide whether an inbound message should be dropped (loops, auto-replies, bounces).

        Every implementation is called; the message is dropped when any returns ``False``.

        Args:
            message: The inbound message.

        Returns:
            ``False`` to drop it, ``True`` or ``None`` to have no objection.
        """
        raise NotImplementedError

    @hookspec
    def csmkit_ticket_event(self, event: Event, ticket: Ticket) -> None:
        """React to an event after it has been durably stored.

        Called once per event, in order, after the whole batch was committed; ``ticket``
        is the ticket's state right after ``event``. Raising does not undo the append.

        Args:
            event: The stored event.
            ticket: The ticket state after the event (``ticket.version`` is the event's
                version in its stream).
        """
        raise NotImplementedError
