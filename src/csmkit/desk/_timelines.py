"""The desk's timeline cache: timelines by (ticket, version), kept honest by the store.

A desk reads the same tickets again and again (an operation, its rules, the ticker's
wake-ups); decoding a ticket's whole history from the store each time was most of an
operation's cost. The cache keeps the timelines this desk last read or wrote. An entry
is never served as the truth on its own:

* a **commit** builds on the cached timeline and appends with its version as
  ``expected_version``: if another writer (thread, desk or process) got there first,
  the store refuses with ``ConcurrencyError``, the entry is dropped and the commit
  decides again on a fresh load; a commit that writes nothing (or whose decision
  fails) checks the stored version before its answer counts;
* a **read** (``desk.ticket()``, ``desk.timeline()``, views) compares the entry's
  version with the store's (one indexed read) and loads again when they differ.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from csmkit.errors import NotFoundError
from csmkit.storage import TicketStore
from csmkit.timeline import Timeline

__all__ = ["TimelineCache"]


class TimelineCache:
    """Timelines by ticket id (their version is their length), least recently used
    dropped beyond ``size``. Thread-safe."""

    def __init__(self, store: TicketStore, *, size: int = 4096) -> None:
        self._store = store
        self._size = size
        self._entries: OrderedDict[str, Timeline] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def cached(self, ticket_id: str) -> Timeline | None:
        """The cached timeline, **unverified** (for a commit, whose append checks it)."""
        with self._lock:
            timeline = self._entries.get(ticket_id)
            if timeline is not None:
                self._entries.move_to_end(ticket_id)
            return timeline

    def fresh(self, ticket_id: str) -> Timeline:
        """The stored timeline, read from the store and cached.

        Raises:
            NotFoundError: the ticket does not exist.
        """
        timeline = self._store.load(ticket_id)
        self.put(timeline)
        return timeline

    def load(self, ticket_id: str, *, keep: bool = True) -> Timeline:
        """The current timeline: the cached one when the store's version matches it,
        else a fresh load (cached unless ``keep=False``: a walk over the whole store
        must not push the live tickets out).

        Raises:
            NotFoundError: the ticket does not exist.
        """
        timeline = self.cached(ticket_id)
        if timeline is not None and self.current(timeline):
            return timeline
        return self.fresh(ticket_id) if keep else self._store.load(ticket_id)

    def current(self, timeline: Timeline) -> bool:
        """Whether ``timeline`` is still the stored version (no one appended since)."""
        return self._store.version(timeline.ticket_id) == len(timeline)

    def version(self, ticket_id: str) -> int | None:
        """The cached version of ``ticket_id`` (``None``: not cached)."""
        with self._lock:
            timeline = self._entries.get(ticket_id)
        return None if timeline is None else len(timeline)

    def put(self, timeline: Timeline) -> None:
        """Remember ``timeline`` (a newer version of a ticket replaces an older one)."""
        with self._lock:
            known = self._entries.get(timeline.ticket_id)
            if known is not None and len(known) > len(timeline):
                return  # a slower reader must not put back an older version
            self._entries[timeline.ticket_id] = timeline
            self._entries.move_to_end(timeline.ticket_id)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def evict(self, ticket_id: str) -> None:
        """Forget ``ticket_id`` (another writer changed it)."""
        with self._lock:
            self._entries.pop(ticket_id, None)

    def clear(self) -> None:
        """Forget every ticket."""
        with self._lock:
            self._entries.clear()


def load_or_none(cache: TimelineCache, ticket_id: str) -> tuple[Timeline | None, bool]:
    """The timeline a commit starts from and whether it came from the cache
    (unverified); ``(None, False)`` when the ticket does not exist."""
    timeline = cache.cached(ticket_id)
    if timeline is not None:
        return timeline, True
    try:
        return cache.fresh(ticket_id), False
    except NotFoundError:
        return None, False
