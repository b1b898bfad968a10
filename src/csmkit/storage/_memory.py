"""The in-memory store: the reference implementation of
[`TicketStore`][csmkit.storage.TicketStore]."""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType

from csmkit.errors import ConcurrencyError, NotFoundError, StorageError
from csmkit.storage._common import (
    Folded,
    Query,
    check_append,
    encode_cursor,
    fold_trusted,
    order_key,
)
from csmkit.storage._model import (
    Change,
    Customer,
    Identity,
    TicketPage,
    TicketStore,
    TicketSummary,
    check_changes_args,
)
from csmkit.storage._queries import (
    SlaDue,
    check_count_by,
    check_due,
    check_set_due,
    sorted_counts,
)
from csmkit.storage._text import check_batch_text, check_customer_text
from csmkit.timeline import Event, MessageAdded, StatusCategory, Ticket, Timeline

__all__ = ["MemoryStore"]


class MemoryStore:
    """A thread-safe store keeping everything in process memory.

    It is the reference model the conformance suite compares other stores with, and the
    store to use in tests. Each instance is independent (``open_store("memory://")``
    returns a new, empty one).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import TicketCreated
        >>> store = MemoryStore()
        >>> at = datetime(2026, 10, 8, 9, 30, tzinfo=timezone.utc)
        >>> store.append("T-1", [TicketCreated(ticket_id="T-1", at=at, type="repair",
        ...                                    channel="phone")], expected_version=0)
        1
        >>> store.load("T-1").ticket.status
        'new'
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._events: dict[str, list[Event]] = {}
        self._tickets: dict[str, Ticket] = {}
        # Timelines are immutable: one built by load() is handed out until the next append.
        self._timelines: dict[str, Timeline] = {}
        # Each ticket's `order_key()` of its last update, made when a listing first
        # needs it after an append (an append drops it): not on the write path.
        self._keys: dict[str, str] = {}
        self._message_ids: dict[str, str] = {}
        self._customers: dict[str, Customer] = {}
        # The write log: changes[i] has position i + 1 (positions are assigned under
        # the lock, after validation, so a rejected batch takes none).
        self._changes: list[Change] = []
        self._identities: dict[Identity, str] = {}
        # The due index: each ticket's SLA mark, and (order key, ticket id) sorted.
        self._dues: dict[str, SlaDue] = {}
        self._due_order: list[tuple[str, str]] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._events)} tickets>"

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the store is closed")

    # ----------------------------------------------------------------- events
    def append(
        self,
        ticket_id: str,
        events: Sequence[Event],
        expected_version: int,
        *,
        due: SlaDue | None = None,
        _folded: Folded | None = None,
    ) -> int:
        """Append a batch atomically; see
        [`TicketStore.append()`][csmkit.storage.TicketStore.append] (``_folded``: the
        desk's internal path, see `fold_trusted()`)."""
        batch = check_append(ticket_id, events, expected_version)
        due = check_due(due)
        # What a UTF-8 database would refuse, the reference refuses too.
        check_batch_text(ticket_id, batch)
        with self._lock:
            self._check_open()
            stored = self._events.get(ticket_id)
            actual = 0 if stored is None else len(stored)
            if actual != expected_version:
                raise ConcurrencyError(
                    f"ticket {ticket_id!r} is at version {actual}, "
                    f"not the expected {expected_version}",
                    ticket_id=ticket_id,
                    expected=expected_version,
                    actual=actual,
                )
            ticket = fold_trusted(self._tickets.get(ticket_id), batch, expected_version, _folded)
            # Everything is validated: from here on nothing can fail half-way.
            if stored is None:
                stored = self._events[ticket_id] = []
            stored.extend(batch)
            self._timelines.pop(ticket_id, None)
            changes = self._changes
            for version, event in enumerate(batch, expected_version + 1):
                changes.append(_change(len(changes) + 1, ticket_id, version, event.kind))
            self._tickets[ticket_id] = ticket
            self._keys.pop(ticket_id, None)
            self._mark(ticket_id, due)
            for event in batch:
                if isinstance(event, MessageAdded) and event.message_id is not None:
                    self._message_ids.setdefault(event.message_id, ticket_id)
            return len(stored)

    def _mark(self, ticket_id: str, due: SlaDue | None) -> None:
        """Replace the ticket's entry in the due index (under the lock)."""
        old = self._dues.pop(ticket_id, None)
        if old is not None:
            index = bisect.bisect_left(self._due_order, (order_key(old.at), ticket_id))
            del self._due_order[index]
        if due is not None:
            self._dues[ticket_id] = due
            bisect.insort(self._due_order, (order_key(due.at), ticket_id))

    def set_due(self, ticket_id: str, due: SlaDue | None, *, version: int) -> bool:
        """Replace the SLA due mark at ``version``; see
        [`TicketStore.set_due()`][csmkit.storage.TicketStore.set_due]."""
        ticket_id, due, version = check_set_due(ticket_id, due, version)
        with self._lock:
            self._check_open()
            ticket = self._tickets.get(ticket_id)
            if ticket is None or ticket.version != version:
                return False
            self._mark(ticket_id, due)
            return True

    def load(self, ticket_id: str) -> Timeline:
        """The ticket's timeline; see [`TicketStore.load()`][csmkit.storage.TicketStore.load]."""
        with self._lock:
            self._check_open()
            timeline = self._timelines.get(ticket_id)
            if timeline is not None:
                return timeline
            stored = self._events.get(ticket_id)
            if stored is None:
                raise NotFoundError(f"no ticket {ticket_id!r} in this store")
            timeline = self._timelines[ticket_id] = Timeline(tuple(stored))
            return timeline

    def version(self, ticket_id: str) -> int:
        """The stream's version (0 when absent)."""
        with self._lock:
            self._check_open()
            return len(self._events.get(ticket_id, ()))

    def position(self) -> int:
        """The latest write position; see
        [`TicketStore.position()`][csmkit.storage.TicketStore.position]."""
        with self._lock:
            self._check_open()
            return len(self._changes)

    def changes_after(self, position: int, *, limit: int = 1000) -> list[Change]:
        """Changes in write order; see
        [`TicketStore.changes_after()`][csmkit.storage.TicketStore.changes_after]."""
        start, limit = check_changes_args(position, limit)
        with self._lock:
            self._check_open()
            return self._changes[start : start + limit]

    def find_tickets(
        self,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        customer_id: str | None = None,
        group: str | None = None,
        type: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Query tickets a page at a time; see
        [`TicketStore.find_tickets()`][csmkit.storage.TicketStore.find_tickets]."""
        query = Query(
            category=category,
            assignee=assignee,
            customer_id=customer_id,
            group=group,
            type=type,
            updated_since=updated_since,
            limit=limit,
            cursor=cursor,
        )
        with self._lock:
            self._check_open()
            matches = []
            keys = self._keys
            for ticket_id, ticket in self._tickets.items():
                if not query.matches(ticket):
                    continue
                key = keys.get(ticket_id)
                if key is None:
                    key = keys[ticket_id] = order_key(ticket.updated_at)
                if query.since_key is not None and key < query.since_key:
                    continue
                if query.after is not None and (key, ticket_id) <= query.after:
                    continue
                matches.append((key, ticket_id, ticket, self._dues.get(ticket_id)))
        matches.sort(key=lambda item: (item[0], item[1]))
        return self._page(query, matches)

    def due_before(
        self,
        before: datetime,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Tickets due before ``before``, earliest first; see
        [`TicketStore.due_before()`][csmkit.storage.TicketStore.due_before]."""
        query = Query(
            category=category,
            assignee=assignee,
            group=group,
            type=type,
            due_before=before,
            limit=limit,
            cursor=cursor,
        )
        assert query.before_key is not None
        matches: list[tuple[str, str, Ticket, SlaDue | None]] = []
        with self._lock:
            self._check_open()
            order = self._due_order
            start = 0 if query.after is None else bisect.bisect_right(order, query.after)
            stop = bisect.bisect_left(order, (query.before_key, ""))
            for key, ticket_id in order[start:stop]:
                ticket = self._tickets[ticket_id]
                if query.matches(ticket):
                    matches.append((key, ticket_id, ticket, self._dues[ticket_id]))
                    if len(matches) > query.limit:
                        break
        return self._page(query, matches)

    @staticmethod
    def _page(query: Query, matches: list[tuple[str, str, Ticket, SlaDue | None]]) -> TicketPage:
        page = matches[: query.limit]
        next_cursor = None
        if len(matches) > query.limit:
            next_cursor = encode_cursor(page[-1][0], page[-1][1], query.cursor_tag)
        items = tuple(TicketSummary.of(ticket, due) for _, _, ticket, due in page)
        return TicketPage(items, next_cursor)

    def count_tickets(
        self,
        by: str,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
    ) -> dict[str | None, int]:
        """Tickets per value of ``by``; see
        [`TicketStore.count_tickets()`][csmkit.storage.TicketStore.count_tickets]."""
        by = check_count_by(by)
        query = Query(category=category, assignee=assignee, group=group, type=type)
        counts: Counter[str | None] = Counter()
        with self._lock:
            self._check_open()
            for ticket in self._tickets.values():
                if query.matches(ticket):
                    value = getattr(ticket, by)
                    counts[None if value is None else str(getattr(value, "value", value))] += 1
        return sorted_counts(counts)

    def find_ticket_by_message_id(self, message_id: str) -> str | None:
        """The ticket holding this message id, or ``None``."""
        with self._lock:
            self._check_open()
            return self._message_ids.get(message_id)

    # ----------------------------------------------------------------- customers
    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer; see
        [`TicketStore.save_customer()`][csmkit.storage.TicketStore.save_customer]."""
        if not isinstance(customer, Customer):
            raise TypeError(f"expected a Customer, got {type(customer).__name__}")
        check_customer_text(customer)
        with self._lock:
            self._check_open()
            for identity in customer.identities:
                owner = self._identities.get(identity)
                if owner is not None and owner != customer.id:
                    raise StorageError(
                        f"identity {identity.kind}:{identity.value} already belongs to "
                        f"customer {owner!r}, not {customer.id!r}"
                    )
            previous = self._customers.get(customer.id)
            if previous is not None:
                for identity in previous.identities:
                    del self._identities[identity]
            for identity in customer.identities:
                self._identities[identity] = customer.id
            self._customers[customer.id] = customer

    def get_customer(self, customer_id: str) -> Customer:
        """The customer with this id; raises ``NotFoundError``."""
        with self._lock:
            self._check_open()
            customer = self._customers.get(customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id!r} in this store")
        return customer

    def find_customer(self, kind: str, value: str) -> Customer | None:
        """The customer owning this identity, or ``None``."""
        identity = Identity(kind, value)
        with self._lock:
            self._check_open()
            owner = self._identities.get(identity)
            return None if owner is None else self._customers[owner]

    # ----------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Drop everything; later calls raise ``StorageError``."""
        with self._lock:
            self._closed = True
            self._events.clear()
            self._tickets.clear()
            self._timelines.clear()
            self._customers.clear()
            self._changes.clear()
            self._dues.clear()
            self._due_order.clear()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _change(position: int, ticket_id: str, version: int, kind: object) -> Change:
    """``Change(position=..., ticket_id=..., version=..., kind=...)`` of an append the
    store has validated (a non-empty ticket id, positive integers), without running the
    validators again; a kind that is not a non-empty string goes through them."""
    if type(kind) is not str or not kind:
        return Change(position=position, ticket_id=ticket_id, version=version, kind=kind)  # type: ignore[arg-type]
    change = object.__new__(Change)
    _set(change, "position", position)
    _set(change, "ticket_id", ticket_id)
    _set(change, "version", version)
    _set(change, "kind", kind)
    return change


_set = object.__setattr__


def _conforms(store: MemoryStore) -> TicketStore:
    return store  # mypy checks that MemoryStore satisfies the protocol
