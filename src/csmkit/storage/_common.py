"""Validation and helpers shared by the built-in stores (and usable by plugin stores)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Sequence
from datetime import datetime, timezone

from csmkit.errors import StoreArgumentError, TimelineError
from csmkit.storage._model import check_instant
from csmkit.storage._text import storable
from csmkit.timeline import Event, StatusCategory, Ticket, TicketCreated

__all__ = [
    "Folded",
    "Query",
    "check_append",
    "decode_cursor",
    "encode_cursor",
    "fold_batch",
    "fold_trusted",
    "order_key",
]


def check_append(ticket_id: object, events: object, expected_version: object) -> tuple[Event, ...]:
    """Validate the arguments of ``append`` (not yet against the stored stream).

    Raises:
        StoreArgumentError: bad types, an empty batch, a negative version.
        TimelineError: an event of another ticket.
    """
    if not isinstance(ticket_id, str) or not ticket_id:
        raise StoreArgumentError(f"ticket_id must be a non-empty string, got {ticket_id!r}")
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise StoreArgumentError(
            f"expected_version must be an integer, got {type(expected_version).__name__} "
            f"{expected_version!r}"
        )
    if expected_version < 0:
        raise StoreArgumentError(f"expected_version must be >= 0, got {expected_version}")
    if isinstance(events, Event) or not isinstance(events, Sequence):
        raise StoreArgumentError(
            f"events must be a sequence of events, got {type(events).__name__}"
        )
    batch = tuple(events)
    if not batch:
        raise StoreArgumentError(f"append to ticket {ticket_id!r}: the batch is empty")
    for index, event in enumerate(batch):
        if not isinstance(event, Event):
            raise StoreArgumentError(
                f"events[{index}]: expected an Event, got {type(event).__name__} {event!r}"
            )
        if event.ticket_id != ticket_id:
            raise TimelineError(
                f"event of ticket {event.ticket_id!r} in an append to ticket {ticket_id!r}",
                path=f"events[{index}].ticket_id",
            )
    return batch


def fold_batch(current: Ticket | None, events: Sequence[Event], expected_version: int) -> Ticket:
    """Fold a batch onto the current state, validating it continues the timeline.

    Args:
        current: The stored state (``None`` for a new stream).
        events: The batch, already checked by `check_append()`.
        expected_version: For error paths (``events[3]`` counts from the stream start).

    Raises:
        TimelineError: the batch does not continue the timeline validly.
    """
    start = 0
    if current is None:
        first = events[0]
        if not isinstance(first, TicketCreated):
            raise TimelineError(
                f"a new ticket's first event must be TicketCreated, got {type(first).__name__}",
                path="events[0]",
            )
        current = Ticket.created(first)
        start = 1
    for index in range(start, len(events)):
        try:
            current = current.apply(events[index])
        except TimelineError as exc:
            path = f"events[{index}]" + (f".{exc.path}" if exc.path else "")
            raise TimelineError(exc.message, path=path) from None
    return current


#: What a writer that folded a batch itself may hand the store (``append(..., _folded=)``):
#: the state it decided on (``None`` for a new ticket) and that state with the batch applied.
Folded = tuple[Ticket | None, Ticket]


def fold_trusted(
    current: Ticket | None, events: Sequence[Event], expected_version: int, folded: Folded | None
) -> Ticket:
    """`fold_batch()`, or the writer's own fold of the same batch when it is safe to use.

    The internal path of the desk's committer (``append(..., _folded=(prior, final))``),
    whose ``final`` is ``Timeline.append()``'s fold of the batch onto ``prior``, which
    validated every status move exactly as `fold_batch()` does. It is used only when
    ``prior`` is the very state object this store holds at ``expected_version`` (so the
    fold had the same input) and ``final`` is at the batch's last version; any other
    ``folded`` is checked by folding, and the writer's state is kept only when equal
    (so the next append of the same writer can take the short path).
    """
    if folded is not None:
        prior, final = folded
        if prior is current and final.version == expected_version + len(events):
            return final
    ticket = fold_batch(current, events, expected_version)
    if folded is not None and folded[1] == ticket:
        return folded[1]
    return ticket


def order_key(instant: datetime) -> str:
    """Fixed-width UTC text whose string order is the instants' order."""
    utc = instant.astimezone(timezone.utc)
    # (One %-format of a tuple: about a third cheaper than seven formatted f-string fields.)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond,
    )


def encode_cursor(key: str, ticket_id: str, tag: str = "c1") -> str:
    """An opaque cursor for the position after ``(key, ticket_id)``; ``tag`` names the
    ordering (``"c1"``: by last update, ``"d1"``: by SLA due instant), so a cursor of one
    listing is refused by the other."""
    raw = json.dumps([tag, key, ticket_id], ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(cursor: object, tag: str = "c1") -> tuple[str, str]:
    """Inverse of `encode_cursor()`.

    Raises:
        StoreArgumentError: the cursor was not issued by a csmkit store for this listing.
    """
    try:
        if not isinstance(cursor, str):
            raise TypeError
        data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        found, key, ticket_id = data
        if found != tag or not isinstance(key, str) or not isinstance(ticket_id, str):
            raise ValueError
        if not (storable(key) and storable(ticket_id)):
            raise ValueError
    except (TypeError, ValueError, UnicodeError, binascii.Error):
        raise StoreArgumentError(f"cursor {cursor!r} was not issued by this store") from None
    return key, ticket_id


class Query:
    """Validated arguments of ``find_tickets``, ``due_before`` and ``count_tickets``.

    Attributes:
        categories: Category values to match, or ``None`` for any.
        assignee: Agent to match, or ``None``.
        customer_id: Customer to match, or ``None``.
        group: Group to match, or ``None``.
        type: Ticket type to match, or ``None``.
        since_key: `order_key()` of ``updated_since``, or ``None``.
        before_key: `order_key()` of ``due_before``'s instant, or ``None`` (then the
            listing is ordered by last update, else by due instant).
        limit: Page size.
        after: ``(key, ticket_id)`` decoded from the cursor, or ``None``.
        unmatchable: A text filter cannot be encoded as UTF-8, so no stored ticket can
            match it: the answer is an empty page.
    """

    __slots__ = (
        "after",
        "assignee",
        "before_key",
        "categories",
        "customer_id",
        "group",
        "limit",
        "since_key",
        "type",
        "unmatchable",
    )

    def __init__(
        self,
        *,
        category: object = None,
        assignee: object = None,
        customer_id: object = None,
        group: object = None,
        type: object = None,
        updated_since: object = None,
        due_before: object = None,
        limit: object = 100,
        cursor: object = None,
    ) -> None:
        self.categories = _categories(category)
        texts = (
            ("assignee", assignee),
            ("customer_id", customer_id),
            ("group", group),
            ("type", type),
        )
        for name, value in texts:
            if value is not None and not isinstance(value, str):
                raise StoreArgumentError(f"{name} must be a string or None, got {value!r}")
        self.assignee: str | None = assignee  # type: ignore[assignment]
        self.customer_id: str | None = customer_id  # type: ignore[assignment]
        self.group: str | None = group  # type: ignore[assignment]
        self.type: str | None = type  # type: ignore[assignment]
        self.unmatchable = any(isinstance(value, str) and not storable(value) for _, value in texts)
        self.since_key = (
            None
            if updated_since is None
            else order_key(check_instant(updated_since, "updated_since"))
        )
        self.before_key = (
            None if due_before is None else order_key(check_instant(due_before, "before"))
        )
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise StoreArgumentError(f"limit must be an integer >= 1, got {limit!r}")
        self.limit: int = limit
        self.after = None if cursor is None else decode_cursor(cursor, self.cursor_tag)

    @property
    def cursor_tag(self) -> str:
        """The cursor tag of this listing's order."""
        return "c1" if self.before_key is None else "d1"

    def matches(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` passes every attribute filter (not the order ones)."""
        return (
            (self.categories is None or ticket.category.value in self.categories)
            and (self.assignee is None or ticket.assignee == self.assignee)
            and (self.customer_id is None or ticket.customer_id == self.customer_id)
            and (self.group is None or ticket.group == self.group)
            and (self.type is None or ticket.type == self.type)
        )


def _categories(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    items: Collection[object]
    if isinstance(value, (str, StatusCategory)):
        items = (value,)
    elif isinstance(value, Collection):
        items = value
    else:
        raise StoreArgumentError(f"category must be a status category or several, got {value!r}")
    out = set()
    for item in items:
        try:
            out.add(StatusCategory(item).value)
        except ValueError:
            known = ", ".join(c.value for c in StatusCategory)
            raise StoreArgumentError(
                f"unknown status category {item!r}; expected one of {known}"
            ) from None
    if not out:
        raise StoreArgumentError("category: an empty collection matches nothing; pass None")
    return frozenset(out)
