"""The desk's routing load: derived from the store once, then kept current from what
the desk reads and writes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from csmkit.routing import RoutingState
from csmkit.timeline import Assigned, Timeline

__all__ = ["OPEN_CATEGORIES", "RoutingCache"]

OPEN_CATEGORIES = ("new", "open", "pending", "on_hold")

_RoutingItem = tuple[datetime, str, str, "str | None"]


def _routing_item(timeline: Timeline) -> _RoutingItem | None:
    """What one ticket adds to the routing load: ``(assigned at, agent, channel,
    customer)`` while it is open and assigned, else ``None``."""
    ticket = timeline.ticket
    if ticket.assignee is None or ticket.category.value not in OPEN_CATEGORIES:
        return None
    assigned = next(
        (
            e
            for e in reversed(timeline.events)
            if isinstance(e, Assigned) and e.agent == ticket.assignee
        ),
        None,
    )
    at = assigned.at if assigned is not None else ticket.updated_at
    return (at, ticket.assignee, ticket.channel, ticket.customer_id)


class RoutingCache:
    """Each open, assigned ticket's contribution to the routing load, and the
    [`RoutingState`][csmkit.routing.RoutingState] built from them.

    Args:
        open_timelines: Yields the timelines of every open ticket in the store (read
            when the cache is derived, on first use and after `invalidate()`).
    """

    def __init__(self, open_timelines: Callable[[], Iterable[Timeline]]) -> None:
        self._open_timelines = open_timelines
        self._items: dict[str, _RoutingItem] | None = None
        self._state: RoutingState | None = None

    def state(self, *, refresh: bool = False) -> RoutingState:
        """The routing load, derived from the store when unknown or ``refresh``."""
        if refresh or self._items is None:
            items: dict[str, _RoutingItem] = {}
            for timeline in self._open_timelines():
                item = _routing_item(timeline)
                if item is not None:
                    items[timeline.ticket_id] = item
            self._items = items
            self._state = None
        if self._state is None:
            state = RoutingState()
            for _, (at, agent, channel, customer) in sorted(
                self._items.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0])
            ):
                state = state.assign(agent, channel, at, customer_id=customer)
            self._state = state
        return self._state

    def observe(self, timeline: Timeline) -> None:
        """Bring the cached contribution of one ticket up to ``timeline``."""
        if self._items is None:
            return
        item = _routing_item(timeline)
        if self._items.get(timeline.ticket_id) == item:
            return
        if item is None:
            del self._items[timeline.ticket_id]
        else:
            self._items[timeline.ticket_id] = item
        self._state = None

    def invalidate(self) -> None:
        """Forget everything (another writer is active): re-derive on next use."""
        self._items = None
