"""The desk's committer: appends one decided batch and says what was committed.

It does one thing: append the batch with the version the decision was made on as
``expected_version`` and the SLA due mark of the state after it (``due=``, so the store's
``due_before`` stays true), keep the timeline cache current, and announce each stored event
to the plugins (``csmkit_ticket_event``). It runs no rules, delivers nothing and
schedules nothing; the desk reads the [`Committed`][csmkit.desk._committer.Committed]
value it returns and carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from csmkit.desk._timelines import TimelineCache
from csmkit.errors import ConcurrencyError
from csmkit.plugins import PluginManager
from csmkit.storage import MemoryStore, SlaDue, SqliteStore, TicketStore
from csmkit.timeline import Event, Ticket, Timeline

__all__ = ["Committed", "Committer"]


@attrs.frozen
class Committed:
    """A stored batch: the timeline before it (``None`` for a new ticket), the batch,
    and the timeline after it."""

    before: Timeline | None
    batch: tuple[Event, ...]
    final: Timeline


class Committer:
    """Appends batches to ``store`` (see the module docstring)."""

    def __init__(
        self,
        store: TicketStore,
        cache: TimelineCache,
        plugins: PluginManager,
        due_of: Callable[[Timeline], SlaDue | None],
    ) -> None:
        self._store = store
        self._cache = cache
        self._plugins = plugins
        self._due_of = due_of
        self._listeners = plugins.pluggy_manager.hook.csmkit_ticket_event
        # The bundled stores take the desk's own fold of a batch (``_folded``, checked by
        # identity with the state they hold; see ``fold_trusted`` in storage): exactly
        # these classes, not subclasses, whose ``append`` may not have the parameter.
        self._folds = type(store) is MemoryStore or type(store) is SqliteStore
        #: Batches this committer has stored (the ticker's change scan counts them as
        #: the desk's own writes; see ``Scheduler.changed``).
        self.appended = 0

    def commit(
        self, ticket_id: str, before: Timeline | None, batch: Sequence[Event], final: Timeline
    ) -> Committed:
        """Append ``batch`` (decided on ``before``; ``final`` is ``before`` plus it).

        Raises:
            ConcurrencyError: another writer changed the ticket since ``before`` was
                read; its cache entry is dropped, nothing was written.
        """
        version = 0 if before is None else len(before)
        due = self._due_of(final)  # raises before anything is written
        try:
            if self._folds:
                folded = (None if before is None else before.ticket, final.ticket)
                self._store.append(  # type: ignore[call-arg]
                    ticket_id, batch, version, due=due, _folded=folded
                )
            else:
                self._store.append(ticket_id, batch, version, due=due)
        except ConcurrencyError:
            self._cache.evict(ticket_id)
            raise
        self.appended += 1
        self._cache.put(final)
        committed = Committed(before, tuple(batch), final)
        self.announce(committed)
        return committed

    def announce(self, committed: Committed) -> None:
        """``csmkit_ticket_event`` for each event, with the ticket as it stands after it.

        Nothing is folded nor called while no plugin implements the hook (asked on every
        batch: a plugin may be registered at any time)."""
        if not self._listeners.get_hookimpls():
            return
        before = committed.before
        ticket = None if before is None else before.ticket
        last = len(committed.batch) - 1
        for index, event in enumerate(committed.batch):
            if index == last:
                # ``final`` is ``before`` plus the batch, folded the same way.
                ticket = committed.final.ticket
            else:
                ticket = (
                    Ticket.created(event)  # type: ignore[arg-type]
                    if ticket is None
                    else ticket.apply(event)
                )
            self._plugins.ticket_event(event, ticket)
