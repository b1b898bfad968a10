"""An ordered, validated sequence of one ticket's events."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, overload

from csmkit._time import require_aware
from csmkit.errors import TimelineError
from csmkit.timeline._codec import EVENT_TYPES, event_from_dict, join_path
from csmkit.timeline._enums import Direction
from csmkit.timeline._events import Event, MessageAdded, StatusChanged, TicketCreated
from csmkit.timeline._ticket import Ticket, fold_all

__all__ = ["Timeline"]

E = TypeVar("E", bound=Event)


def _check_instant(value: object, name: str) -> datetime:
    return require_aware(value, name, TimelineError)


def _kind_names(kinds: tuple[str | type[Event], ...]) -> frozenset[str]:
    names = set()
    for kind in kinds:
        if isinstance(kind, type) and issubclass(kind, Event) and kind.kind:
            names.add(kind.kind)
        elif isinstance(kind, str) and kind in EVENT_TYPES:
            names.add(kind)
        else:
            known = ", ".join(sorted(EVENT_TYPES))
            raise TimelineError(f"unknown event kind {kind!r}; expected one of {known}")
    return frozenset(names)


class Timeline(Sequence[Event]):
    """The ordered history of one ticket, validated as a whole.

    A timeline holds at least the creation event. Every event belongs to the same ticket,
    the first is a [`TicketCreated`][csmkit.timeline.TicketCreated] and no other is, instants never
    decrease, and each status change starts from the state the ticket is in. A timeline is
    immutable: [`append()`][csmkit.timeline.Timeline.append] returns a new one.

    Args:
        events: The events in order.

    Raises:
        TimelineError: The sequence breaks one of the rules above; the message names the
            index of the offending event (``events[3]``). Nothing is built.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from csmkit.timeline import Assigned, TicketCreated
        >>> t0 = datetime(2026, 9, 30, 9, 0, tzinfo=timezone(timedelta(hours=8)))
        >>> tl = Timeline([
        ...     TicketCreated(ticket_id="T-1", at=t0, type="repair", channel="phone"),
        ...     Assigned(ticket_id="T-1", at=t0 + timedelta(minutes=5), agent="li.wei"),
        ... ])
        >>> tl.ticket.assignee, tl.ticket.version
        ('li.wei', 2)
        >>> tl.state_at(t0).assignee is None
        True
    """

    __slots__ = ("_events", "_last", "_states", "_ticket", "_times")

    _events: tuple[Event, ...]
    _ticket: Ticket
    # Derived, made when first needed: the instants (for bisection), the state after
    # each event, and the latest event of each kind asked of `last()` (carried over
    # by `append()`, so asking a grown timeline again reads only the new events).
    _times: list[datetime] | None
    _states: list[Ticket] | None
    _last: dict[str, Event | None] | None

    def __init__(self, events: Iterable[Event]) -> None:
        items = tuple(events)
        if not items:
            raise TimelineError("a timeline needs at least its TicketCreated event")
        first = items[0]
        if not isinstance(first, TicketCreated):
            raise TimelineError(
                f"the first event must be TicketCreated, got {type(first).__name__}",
                path="events[0]",
            )
        # One Ticket for the whole fold; anything it does not vouch for (an error
        # included) is folded step by step, which names the offending event.
        ticket = fold_all(first, items[1:])
        if ticket is None:
            ticket = _fold(Ticket.created(first), items[1:], start=1)
        self._events = items
        self._ticket = ticket
        self._times = None
        self._states = None
        self._last = None

    def __reduce__(self) -> tuple[Any, ...]:
        # The folded ticket, instants and memoised states are derived: pickle the events
        # only; loading folds (and so validates) them again.
        return (Timeline, (self._events,))

    # ----------------------------------------------------------------- construction
    def append(self, *events: Event) -> Timeline:
        """A new timeline with ``events`` added at the end (validated the same way)."""
        new = object.__new__(Timeline)
        ticket = _fold(self._ticket, events, start=len(self._events))
        new._events = self._events + tuple(events)
        new._ticket = ticket
        new._times = None
        new._states = None
        new._last = _carried(self._last, events)
        return new

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"ticket_id": ..., "events": [...]}``."""
        return {
            "ticket_id": self.ticket_id,
            "events": [event.to_dict() for event in self._events],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Timeline:
        """Rebuild a timeline from [`to_dict()`][csmkit.timeline.Timeline.to_dict] output.

        Raises:
            TimelineError: malformed data; the message names the path
                (``events[2].at``).
        """
        if not isinstance(data, Mapping):
            raise TimelineError(f"a timeline must be a dict, got {type(data).__name__}")
        extra = sorted(set(data) - {"ticket_id", "events"})
        if extra:
            raise TimelineError(
                f"unexpected key(s) {', '.join(map(repr, extra))} in a timeline", path=extra[0]
            )
        raw = data.get("events")
        if not isinstance(raw, list):
            raise TimelineError("'events' must be a list", path="events")
        events = [event_from_dict(item, path=f"events[{i}]") for i, item in enumerate(raw)]
        timeline = cls(events)
        if "ticket_id" in data and data["ticket_id"] != timeline.ticket_id:
            raise TimelineError(
                f"ticket_id {data['ticket_id']!r} does not match the events' "
                f"{timeline.ticket_id!r}",
                path="ticket_id",
            )
        return timeline

    # ----------------------------------------------------------------- state
    @property
    def ticket(self) -> Ticket:
        """The ticket's current state (the fold of every event)."""
        return self._ticket

    @property
    def ticket_id(self) -> str:
        """The ticket's id."""
        return self._ticket.id

    @property
    def created_at(self) -> datetime:
        """Instant of the creation event."""
        return self._ticket.created_at

    @property
    def updated_at(self) -> datetime:
        """Instant of the latest event."""
        return self._ticket.updated_at

    @property
    def version(self) -> int:
        """Number of events (the storage version of the stream)."""
        return len(self._events)

    def state_at(self, at: datetime) -> Ticket:
        """The ticket as it was at instant ``at`` (events at exactly ``at`` included).

        Raises:
            TimelineError: ``at`` is naive or earlier than the ticket's creation.
        """
        _check_instant(at, "at")
        count = bisect.bisect_right(self._instants(), at)
        if count == 0:
            raise TimelineError(
                f"ticket {self.ticket_id!r} did not exist yet at {at.isoformat()} "
                f"(created {self.created_at.isoformat()})"
            )
        if count == len(self._events):
            return self._ticket
        if self._states is None:
            states = [Ticket.created(self._events[0])]  # type: ignore[arg-type]
            for event in self._events[1:]:
                states.append(states[-1].apply(event))
            self._states = states
        return self._states[count - 1]

    # ----------------------------------------------------------------- sequence protocol
    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Event, ...]: ...

    def __getitem__(self, index: int | slice) -> Event | tuple[Event, ...]:
        return self._events[index]

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeline):
            return NotImplemented
        return self._events == other._events

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<Timeline {self.ticket_id!r}: {len(self._events)} events, "
            f"status {self._ticket.status!r}>"
        )

    # ----------------------------------------------------------------- queries
    @property
    def events(self) -> tuple[Event, ...]:
        """All events, oldest first."""
        return self._events

    def of_kind(self, *kinds: str | type[Event]) -> tuple[Event, ...]:
        """Events whose kind is one of ``kinds`` (classes or kind strings), in order."""
        names = _kind_names(kinds)
        return tuple(event for event in self._events if event.kind in names)

    def of_type(self, cls: type[E]) -> tuple[E, ...]:
        """Events that are instances of ``cls``, typed as such, in order."""
        return tuple(event for event in self._events if isinstance(event, cls))

    def first(self, *kinds: str | type[Event]) -> Event | None:
        """The earliest event of one of ``kinds``, or ``None``."""
        names = _kind_names(kinds)
        return next((event for event in self._events if event.kind in names), None)

    def last(self, *kinds: str | type[Event]) -> Event | None:
        """The latest event of one of ``kinds``, or ``None``."""
        names = _kind_names(kinds)
        if len(names) != 1:
            return next((event for event in reversed(self._events) if event.kind in names), None)
        (name,) = names
        last = self._last
        if last is None:
            last = self._last = {}
        elif name in last:
            return last[name]
        found = next((event for event in reversed(self._events) if event.kind == name), None)
        last[name] = found
        return found

    def _instants(self) -> list[datetime]:
        """The events' instants, in order (made on first use)."""
        times = self._times
        if times is None:
            times = self._times = [event.at for event in self._events]
        return times

    def between(self, start: datetime, end: datetime) -> tuple[Event, ...]:
        """Events with ``start <= at < end``."""
        _check_instant(start, "start")
        _check_instant(end, "end")
        times = self._instants()
        lo = bisect.bisect_left(times, start)
        hi = bisect.bisect_left(times, end)
        return self._events[lo:hi]

    def messages(
        self, direction: Direction | str | None = None, *, public: bool | None = None
    ) -> tuple[MessageAdded, ...]:
        """Messages, optionally only of one ``direction`` and/or visibility."""
        wanted = None if direction is None else Direction(direction)
        return tuple(
            event
            for event in self._events
            if isinstance(event, MessageAdded)
            and (wanted is None or event.direction is wanted)
            and (public is None or event.public is public)
        )

    def status_changes(self) -> tuple[StatusChanged, ...]:
        """Every status change, in order."""
        return self.of_type(StatusChanged)


def _fold(ticket: Ticket, events: Sequence[Event], *, start: int) -> Ticket:
    """Apply ``events`` to ``ticket``; error paths number them from ``start``."""
    for index, event in enumerate(events, start):
        if not isinstance(event, Event):
            raise TimelineError(
                f"expected an Event, got {type(event).__name__} {event!r}", path=f"events[{index}]"
            )
        try:
            ticket = ticket.apply(event)
        except TimelineError as exc:
            raise TimelineError(exc.message, path=join_path(f"events[{index}]", exc.path)) from None
    return ticket


def folded_timeline(base: Timeline | None, events: Sequence[Event], ticket: Ticket) -> Timeline:
    """``base`` extended by ``events`` (with no base, the timeline of ``events``) whose
    state the caller has already folded into ``ticket``, without folding them again.

    It checks nothing: not that the events are events of one ticket in order, not that
    ``ticket`` is their fold. ``ticket`` must be exactly what
    [`Timeline`][csmkit.timeline.Timeline] / [`Timeline.append()`][csmkit.timeline.Timeline.append]
    would fold: ``base.ticket`` (or ``Ticket.created(events[0])``) with every further
    event applied by [`Ticket.apply()`][csmkit.timeline.Ticket.apply] in order, as a
    store's append has just validated them. Then the result equals
    ``Timeline([*base, *events])``; with a state of any other origin it is a timeline
    with a wrong state, not an error.

    Args:
        base: The timeline so far, or ``None`` for a new one (then ``events`` starts with
            its ``TicketCreated``).
        events: The events that follow ``base``.
        ticket: Their fold (the state after the last of ``events``).

    Returns:
        The extended timeline (``base`` is left unchanged).
    """
    new = object.__new__(Timeline)
    if base is None:
        new._events = tuple(events)
        new._last = None
    else:
        new._events = base._events + tuple(events)
        new._last = _carried(base._last, events)
    new._ticket = ticket
    new._times = None
    new._states = None
    return new


def _carried(
    last: dict[str, Event | None] | None, events: Sequence[Event]
) -> dict[str, Event | None] | None:
    """A grown timeline's `Timeline.last()` memo: ``last`` (the shorter one's) with
    each kind's latest event among ``events`` replacing it."""
    if not last:
        return None
    carried = dict(last)
    for event in events:
        if event.kind in carried:
            carried[event.kind] = event
    return carried
