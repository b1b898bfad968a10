"""The storage port ([`TicketStore`][csmkit.storage.TicketStore]) and the small value types it
speaks."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import attrs

from csmkit._time import format_instant, parse_instant, require_aware
from csmkit.errors import StoreArgumentError
from csmkit.storage._queries import SlaDue
from csmkit.timeline import Event, Priority, StatusCategory, Ticket, Timeline

__all__ = [
    "Change",
    "Customer",
    "Identity",
    "TicketPage",
    "TicketStore",
    "TicketSummary",
    "check_changes_args",
]

_KIND = re.compile(r"^[a-z][a-z0-9_.-]*$")


def _kind(value: object) -> str:
    if not isinstance(value, str):
        raise StoreArgumentError(f"identity kind must be a string, got {value!r}")
    kind = value.strip().lower()
    if not _KIND.match(kind):
        raise StoreArgumentError(
            f"identity kind {value!r} is not a lower-case slug such as 'email', 'phone', 'wechat'"
        )
    return kind


@attrs.frozen
class Identity:
    """One way to recognise a customer on a channel.

    ``kind`` is a lower-case slug (``"email"``, ``"phone"``, ``"wechat"``, ``"weibo"`` …);
    ``value`` is stripped of surrounding blanks, and e-mail addresses are compared
    case-insensitively (stored lower-cased). Other values are kept as given: normalise
    phone numbers (e.g. to E.164 ``+8613800138000``) before storing them.

    Examples:
        >>> Identity("Email", " Li.Wei@Example.COM ")
        Identity(kind='email', value='li.wei@example.com')
    """

    kind: str = attrs.field(converter=_kind)
    value: str = attrs.field()

    @value.validator
    def _check_value(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise StoreArgumentError(f"identity value must be a non-empty string, got {value!r}")
        normalised = value.strip()
        if self.kind == "email":
            normalised = normalised.lower()
        object.__setattr__(self, "value", normalised)

    def to_dict(self) -> dict[str, str]:
        """``{"kind": ..., "value": ...}``."""
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Identity:
        """Rebuild from [`to_dict()`][csmkit.storage.Identity.to_dict] output.

        Raises:
            StoreArgumentError: not a dict with exactly ``kind`` and ``value``.
        """
        if not isinstance(data, Mapping) or set(data) != {"kind", "value"}:
            raise StoreArgumentError(f"an identity must be {{'kind', 'value'}}, got {data!r}")
        return cls(data["kind"], data["value"])


def _identities(value: object) -> tuple[Identity, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection):
        raise StoreArgumentError(f"identities must be a collection, got {value!r}")
    out: list[Identity] = []
    for item in value:
        identity = item if isinstance(item, Identity) else Identity.from_dict(item)
        if identity not in out:
            out.append(identity)
    return tuple(sorted(out, key=lambda i: (i.kind, i.value)))


def _non_empty(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise StoreArgumentError(f"{attribute.name} must be a non-empty string, got {value!r}")


def _string(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise StoreArgumentError(f"{attribute.name} must be a string, got {value!r}")


def _count(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise StoreArgumentError(
                f"{attribute.name} must be an integer >= {minimum}, got {value!r}"
            )

    return check


@attrs.frozen(kw_only=True)
class Change:
    """One stored event, seen in the store's write order.

    Every event a store accepts gets a store-wide **position**, assigned when its batch
    commits: positions strictly increase in commit order (across threads and processes
    sharing the store), so "everything after position *p*" is exactly what was written
    since a reader saw *p*, whatever the events' own instants say. A ticker keeps the
    last position it read and asks
    [`TicketStore.changes_after()`][csmkit.storage.TicketStore.changes_after] for the rest.

    Attributes:
        position: The store-wide write position (1, 2, …; gaps are allowed, never
            reordering).
        ticket_id: The ticket the event belongs to.
        version: The event's version in its ticket's stream (1 for ``TicketCreated``).
        kind: The event's kind (``"message_added"``, ``"status_changed"`` …).

    Examples:
        >>> change = Change(position=7, ticket_id="T-1", version=2, kind="message_added")
        >>> Change.from_dict(change.to_dict()) == change
        True
    """

    position: int = attrs.field(validator=_count(1))
    ticket_id: str = attrs.field(validator=_non_empty)
    version: int = attrs.field(validator=_count(1))
    kind: str = attrs.field(validator=_non_empty)

    def to_dict(self) -> dict[str, Any]:
        """``{"position", "ticket_id", "version", "kind"}``."""
        return {
            "position": self.position,
            "ticket_id": self.ticket_id,
            "version": self.version,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        """Rebuild from [`to_dict()`][csmkit.storage.Change.to_dict] output.

        Raises:
            StoreArgumentError: missing or unexpected keys, bad values.
        """
        names = {"position", "ticket_id", "version", "kind"}
        if not isinstance(data, Mapping) or set(data) != names:
            raise StoreArgumentError(
                f"a change needs exactly the keys {sorted(names)}, got {data!r}"
            )
        return cls(**data)


def check_changes_args(position: object, limit: object) -> tuple[int, int]:
    """Validate the arguments of ``changes_after``.

    Raises:
        StoreArgumentError: ``position`` not an integer >= 0, ``limit`` not one >= 1.
    """
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise StoreArgumentError(f"position must be an integer >= 0, got {position!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise StoreArgumentError(f"limit must be an integer >= 1, got {limit!r}")
    return position, limit


@attrs.frozen
class Customer:
    """A customer: the minimal record csmkit keeps (applications keep the rest).

    Attributes:
        id: The customer id (what ``TicketCreated.customer_id`` refers to).
        name: Display name, ``""`` if unknown.
        identities: How the customer is recognised on channels; sorted, no duplicates.
            An identity belongs to at most one customer in a store.

    Examples:
        >>> c = Customer("C-7", name="王芳", identities=[Identity("phone", "+8613800138000"),
        ...                                               Identity("wechat", "wxid_wangfang")])
        >>> Customer.from_dict(c.to_dict()) == c
        True
    """

    id: str = attrs.field(validator=_non_empty)
    name: str = attrs.field(default="", validator=_string)
    identities: tuple[Identity, ...] = attrs.field(default=(), converter=_identities)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"id", "name", "identities": [{"kind", "value"}, ...]}``."""
        return {
            "id": self.id,
            "name": self.name,
            "identities": [identity.to_dict() for identity in self.identities],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Customer:
        """Rebuild from [`to_dict()`][csmkit.storage.Customer.to_dict] output.

        Raises:
            StoreArgumentError: missing ``id``, unexpected keys or invalid values.
        """
        if not isinstance(data, Mapping):
            raise StoreArgumentError(f"a customer must be a dict, got {type(data).__name__}")
        extra = sorted(set(data) - {"id", "name", "identities"})
        if extra:
            raise StoreArgumentError(f"unexpected key(s) {extra} in a customer")
        if "id" not in data:
            raise StoreArgumentError("a customer needs an 'id'")
        return cls(data["id"], name=data.get("name", ""), identities=data.get("identities", ()))


@attrs.frozen(kw_only=True)
class TicketSummary:
    """The indexed attributes of a ticket's current state, as returned by queries.

    Load the full history with ``store.load(summary.ticket_id)``.

    Attributes:
        ticket_id: The ticket id.
        version: Number of events in its stream.
        status: Current workflow state.
        category: Its status category.
        priority: Current priority.
        assignee: Responsible agent, if any.
        group: Responsible group, if any.
        customer_id: Requesting customer, if any.
        created_at: Instant of creation (with its original UTC offset).
        updated_at: Instant of the latest event (with its original UTC offset).
        type: The ticket type (``"repair"`` …).
        due: When its SLA next falls due, as handed to the store with the latest batch
            (``None``: nothing running, or the writer did not say).
    """

    ticket_id: str
    version: int
    status: str
    category: StatusCategory
    priority: Priority
    assignee: str | None
    group: str | None
    customer_id: str | None
    created_at: datetime
    updated_at: datetime
    type: str
    due: SlaDue | None = None

    @classmethod
    def of(cls, ticket: Ticket, due: SlaDue | None = None) -> TicketSummary:
        """The summary of a ticket state (and its SLA due mark)."""
        return cls(
            type=ticket.type,
            due=due,
            ticket_id=ticket.id,
            version=ticket.version,
            status=ticket.status,
            category=ticket.category,
            priority=ticket.priority,
            assignee=ticket.assignee,
            group=ticket.group,
            customer_id=ticket.customer_id,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (instants as ISO 8601 with offset)."""
        return {
            "ticket_id": self.ticket_id,
            "version": self.version,
            "status": self.status,
            "category": self.category.value,
            "priority": self.priority.value,
            "assignee": self.assignee,
            "group": self.group,
            "customer_id": self.customer_id,
            "created_at": format_instant(self.created_at),
            "updated_at": format_instant(self.updated_at),
            "type": self.type,
            "due": None if self.due is None else self.due.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TicketSummary:
        """Rebuild from [`to_dict()`][csmkit.storage.TicketSummary.to_dict] output.

        Raises:
            StoreArgumentError: missing or unexpected keys, bad values.
        """
        names = {a.name for a in attrs.fields(cls)}
        if not isinstance(data, Mapping) or set(data) != names:
            raise StoreArgumentError(f"a ticket summary needs exactly the keys {sorted(names)}")
        try:
            return cls(
                **{
                    **data,
                    "category": StatusCategory(data["category"]),
                    "priority": Priority(data["priority"]),
                    "created_at": parse_instant(data["created_at"]),
                    "updated_at": parse_instant(data["updated_at"]),
                    "due": None if data["due"] is None else SlaDue.from_dict(data["due"]),
                }
            )
        except ValueError as exc:
            raise StoreArgumentError(f"invalid ticket summary: {exc}") from None


@attrs.frozen
class TicketPage:
    """One page of a ticket query.

    Attributes:
        items: The matching tickets, ordered by ``(updated_at, ticket_id)`` ascending
            (``due_before``: by ``(due.at, ticket_id)``).
        next_cursor: Pass it as ``cursor=`` to get the next page; ``None`` on the last one.
    """

    items: tuple[TicketSummary, ...]
    next_cursor: str | None


@runtime_checkable
class TicketStore(Protocol):
    """The storage port: an event store of ticket timelines plus a customer directory.

    Every method is safe to call from several threads. Lookups by text that cannot be
    encoded as UTF-8 find nothing (no store can hold it). Implementations prove
    themselves with [`csmkit.testing.StoreContract`][csmkit.testing.StoreContract].
    """

    def append(
        self,
        ticket_id: str,
        events: Sequence[Event],
        expected_version: int,
        *,
        due: SlaDue | None = None,
    ) -> int:
        """Append ``events`` to the ticket's stream, all or nothing.

        Args:
            ticket_id: The ticket; every event must carry this id.
            events: At least one event. A new stream must start with ``TicketCreated``;
                the batch must continue the timeline validly (order, status moves).
            expected_version: The number of events the writer saw (0 for a new ticket).
            due: When the ticket's SLA next falls due **after** this batch (see
                [`SlaDue`][csmkit.storage.SlaDue]); stored in the same transaction as the
                events and replacing the previous mark. ``None`` (the default, for
                writers that know no SLA) leaves the ticket out of
                [`due_before()`][csmkit.storage.TicketStore.due_before] until a later
                batch or [`set_due()`][csmkit.storage.TicketStore.set_due] says otherwise.

        Returns:
            The new version (``expected_version + len(events)``).

        Raises:
            ConcurrencyError: the stream is not at ``expected_version``; nothing written.
            TimelineError: the events do not continue the timeline; nothing written.
            StoreArgumentError: bad arguments (empty batch, negative version, a ``due``
                that is not an ``SlaDue`` …).
            StorageError: the backend failed, or some text of the batch cannot be
                encoded as UTF-8 (a lone surrogate; the message names the ticket, the
                event index and the JSON path); nothing written.
        """
        ...

    def load(self, ticket_id: str) -> Timeline:
        """The ticket's whole timeline.

        Raises:
            NotFoundError: no such ticket.
        """
        ...

    def version(self, ticket_id: str) -> int:
        """The number of events stored for the ticket (0 when it does not exist)."""
        ...

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
        """Tickets matching every given filter, a page at a time.

        Args:
            category: One status category or several (any of them matches).
            assignee: The responsible agent.
            customer_id: The requesting customer.
            group: The responsible group.
            type: The ticket type.
            updated_since: Only tickets whose latest event is at or after this
                (timezone-aware) instant.
            limit: Page size, at least 1.
            cursor: ``next_cursor`` of the previous page.

        Returns:
            A page ordered by ``(updated_at, ticket_id)``.

        Raises:
            StoreArgumentError: a naive instant, ``limit < 1``, a foreign cursor.
        """
        ...

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
        """Tickets whose SLA due mark is strictly before ``before``, earliest first.

        Answered from an index maintained on append (the [`SlaDue`][csmkit.storage.SlaDue]
        each batch carried), so its cost depends on the tickets listed, not on how many
        tickets (closed ones included) the store holds.

        Args:
            before: A timezone-aware instant; overdue tickets (due in the past) are
                listed too.
            category: Also filter by status category (one or several).
            assignee: Also filter by agent.
            group: Also filter by group.
            type: Also filter by ticket type.
            limit: Page size, at least 1.
            cursor: ``next_cursor`` of the previous page of the same listing.

        Returns:
            A page ordered by ``(due.at, ticket_id)``; every item has a ``due``.

        Raises:
            StoreArgumentError: a naive instant, ``limit < 1``, a foreign cursor.
        """
        ...

    def set_due(self, ticket_id: str, due: SlaDue | None, *, version: int) -> bool:
        """Replace the ticket's SLA due mark, if the ticket is still at ``version``.

        For re-indexing without appending: a desk that finds a ticket written without a
        mark (an import, an older writer), or a store copy. Optimistic like ``append``:
        a mark computed from version *v* is never stored over a newer state.

        Returns:
            ``True`` when stored; ``False`` when the ticket is not at ``version`` (or
            does not exist): nothing changed.

        Raises:
            StoreArgumentError: bad arguments.
        """
        ...

    def count_tickets(
        self,
        by: str,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
    ) -> dict[str | None, int]:
        """How many tickets have each value of one attribute (for dashboards).

        Args:
            by: One of [`COUNT_BY`][csmkit.storage.COUNT_BY]: ``"assignee"``,
                ``"category"``, ``"group"``, ``"priority"``, ``"status"``, ``"type"``.
            category: Count only tickets in these status categories.
            assignee: Count only this agent's tickets.
            group: Count only this group's tickets.
            type: Count only tickets of this type.

        Returns:
            ``{value: count}`` for every value with at least one ticket, sorted by
            value (``None``, e.g. unassigned, first); enum values as their strings.

        Raises:
            StoreArgumentError: an unknown ``by`` or bad filters.
        """
        ...

    def find_ticket_by_message_id(self, message_id: str) -> str | None:
        """The ticket holding a message with this channel id (first one stored wins)."""
        ...

    def position(self) -> int:
        """The store's latest committed write position (0 for an empty store).

        Every appended event gets the next position when its batch commits (see
        [`Change`][csmkit.storage.Change]); a rejected batch takes none that a reader could see.
        """
        ...

    def changes_after(self, position: int, *, limit: int = 1000) -> list[Change]:
        """The stored events with a position greater than ``position``, in write order.

        Page through everything with the last change's position as the next
        ``position``; an empty list means the reader is up to date. Positions become
        visible in commit order: a reader never sees position *p* before every
        position below *p* that will ever exist.

        Args:
            position: The last position the reader has seen (0 for "from the start").
            limit: At most this many changes (at least 1).

        Raises:
            StoreArgumentError: a negative or non-integer position, ``limit < 1``.
        """
        ...

    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer and its identities.

        Raises:
            StorageError: one of its identities already belongs to another customer, or
                its text cannot be encoded as UTF-8; nothing saved.
        """
        ...

    def get_customer(self, customer_id: str) -> Customer:
        """The customer with this id.

        Raises:
            NotFoundError: no such customer.
        """
        ...

    def find_customer(self, kind: str, value: str) -> Customer | None:
        """The customer owning an identity (normalised like [`Identity`][csmkit.storage.Identity]),
        or None."""
        ...

    def close(self) -> None:
        """Release resources; further calls raise ``StorageError``. Idempotent."""
        ...

    def __enter__(self) -> TicketStore:
        """Return the store itself."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        ...


def check_instant(value: object, name: str) -> datetime:
    """Validate an aware datetime argument."""
    return require_aware(value, name, StoreArgumentError)
