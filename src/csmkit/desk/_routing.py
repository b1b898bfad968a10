"""The desk's routing state: derived from the full history of the store, kept current
from what the desk reads and writes, and reconstructible as of any routing decision.

What the state holds, and where each part comes from (every ticket's timeline, closed
tickets included):

- **loads** — one unit per open (``new``/``open``/``pending``/``on_hold``) ticket with an
  assignee, on the ticket's channel;
- **last assignments** and **sequence** — every ``Assigned`` event naming an agent, in the
  canonical order ``(instant, ticket id, index in the timeline)``: the *n*-th in that
  order has sequence *n*, and an agent's last assignment is its latest one;
- **customers** (sticky routing) — the agent of each customer's latest assignment in
  that order.

Kept incrementally: a new assignment that comes after every known one in the canonical
order is appended; one that does not (two tickets assigned at the same instant in
descending id order, a clock that went back) makes the next read rebuild the state from
the per-ticket records held in memory, so the kept state always equals a rebuild from
the store.

Each routed ``Assigned`` event carries a compact reference in ``meta["routing"]``: the
decision instant, the escalation start, how far the desk had seen (every event before the
decision instant — or before the latest instant it had observed, ``horizon``, when that
is later — plus, per other ticket, its events at that very instant, ``ties``: usually
empty) and a digest of the state used. `state_as_of()` rebuilds that state from the
store and checks the digest, so an explanation is either the exact one or an error —
never a different state's.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from csmkit._time import format_instant, parse_instant
from csmkit.errors import RoutingError
from csmkit.routing import RoutingState
from csmkit.timeline import Assigned, Event, Ticket, Timeline, Unassigned

__all__ = [
    "OPEN_CATEGORIES",
    "REFERENCE_KEY",
    "RoutingCache",
    "RoutingHistory",
    "latest_routed",
    "state_as_of",
]

OPEN_CATEGORIES = ("new", "open", "pending", "on_hold")
REFERENCE_KEY = "routing"

_MASK = (1 << 64) - 1
_Key = tuple[datetime, str, int]
_Load = tuple[str, str]


def _h(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


class _Tracked:
    """A [`RoutingState`][csmkit.routing.RoutingState] and a digest of its value, changed together.

    The digest sums one hash per load entry, last assignment and customer, so it is a
    function of the state's value (whatever order it was built in) and costs O(1) per
    change.
    """

    __slots__ = ("customers", "last", "loads", "state")

    def __init__(self) -> None:
        self.state = RoutingState()
        self.loads = self.last = self.customers = 0

    def copy(self) -> _Tracked:
        new = _Tracked.__new__(_Tracked)
        new.state, new.loads, new.last, new.customers = (
            self.state,
            self.loads,
            self.last,
            self.customers,
        )
        return new

    def digest(self) -> str:
        seq = self.state.sequence
        return f"{seq}-{_h(seq, self.loads, self.last, self.customers):016x}"

    def set_load(self, agent: str, channel: str, count: int) -> None:
        old = self.state.load(agent, channel)
        if old == count:
            return
        if old:
            self.loads = (self.loads - _h("L", agent, channel, old)) & _MASK
        if count:
            self.loads = (self.loads + _h("L", agent, channel, count)) & _MASK
        self.state = self.state.with_load(agent, channel, count)

    def add_load(self, load: _Load | None, delta: int) -> None:
        if load is not None:
            self.set_load(load[0], load[1], self.state.load(load[0], load[1]) + delta)

    def assign(self, agent: str, channel: str, at: datetime, customer: str | None) -> None:
        """As [`RoutingState.assign()`][csmkit.routing.RoutingState.assign] (one more ``channel``
        ticket for ``agent``)."""
        state = self.state
        old_key = state.last_assignment_key(agent)
        if old_key[0]:
            self.last = (self.last - _h("A", agent, *old_key[1:])) & _MASK
        count = state.load(agent, channel)
        if count:
            self.loads = (self.loads - _h("L", agent, channel, count)) & _MASK
        self.loads = (self.loads + _h("L", agent, channel, count + 1)) & _MASK
        if customer is not None:
            previous = state.agent_for_customer(customer)
            if previous is not None:
                self.customers = (self.customers - _h("C", customer, previous)) & _MASK
            self.customers = (self.customers + _h("C", customer, agent)) & _MASK
        self.state = state = state.assign(agent, channel, at, customer_id=customer)
        self.last = (self.last + _h("A", agent, *state.last_assignment_key(agent)[1:])) & _MASK


@attrs.define
class _Assignment:
    key: _Key
    agent: str
    channel: str
    customer: str | None


@attrs.define
class _Record:
    """What the history knows of one ticket."""

    count: int = 0
    ticket: Ticket | None = None
    load: _Load | None = None
    assignments: list[_Assignment] = attrs.Factory(list)


def _load_of(ticket: Ticket) -> _Load | None:
    if ticket.assignee is None or ticket.category.value not in OPEN_CATEGORIES:
        return None
    return (ticket.assignee, ticket.channel)


class RoutingHistory:
    """Routing state folded from timelines, in any order and any number of steps."""

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._tracked = _Tracked()
        self._last_key: _Key | None = None
        self._dirty = False
        self._latest: datetime | None = None
        self._at_latest: dict[str, int] = {}

    def observe(self, timeline: Timeline) -> None:
        """Fold in the events of ``timeline`` not seen yet."""
        record = self._records.get(timeline.ticket_id)
        if record is not None and record.count == len(timeline):
            return  # nothing new (the common case when an operation loads a ticket)
        self.observe_events(timeline.ticket_id, timeline[:], timeline.ticket)

    def observe_events(
        self, ticket_id: str, events: Sequence[Event], final: Ticket | None = None
    ) -> None:
        """Fold in ``events`` (the ticket's timeline or a prefix of it) not seen yet;
        ``final`` is the ticket after all of them, when known (saves one fold)."""
        record = self._records.get(ticket_id)
        if record is None:
            record = self._records[ticket_id] = _Record()
        if len(events) < record.count:  # the history got shorter: start this ticket over
            self._forget(ticket_id, record)
            record = self._records[ticket_id] = _Record()
        last = len(events) - 1
        for index in range(record.count, len(events)):
            self._event(ticket_id, record, index, events[index], final if index == last else None)

    def _forget(self, ticket_id: str, record: _Record) -> None:
        self._dirty = True
        self._at_latest.pop(ticket_id, None)
        del self._records[ticket_id]

    def _event(
        self, ticket_id: str, record: _Record, index: int, event: Event, ticket: Ticket | None
    ) -> None:
        if ticket is None:
            ticket = (
                Ticket.created(event)  # type: ignore[arg-type]
                if record.ticket is None
                else record.ticket.apply(event)
            )
        record.ticket, record.count = ticket, index + 1
        at = event.at
        if self._latest is None or at > self._latest:
            self._latest, self._at_latest = at, {ticket_id: 1}
        elif at == self._latest:
            self._at_latest[ticket_id] = self._at_latest.get(ticket_id, 0) + 1
        old, new = record.load, _load_of(ticket)
        record.load = new
        if isinstance(event, Assigned) and event.agent is not None:
            key = (at, ticket_id, index)
            record.assignments.append(
                _Assignment(key, event.agent, ticket.channel, ticket.customer_id)
            )
            if self._dirty or (self._last_key is not None and key <= self._last_key):
                self._dirty = True
                return
            self._last_key = key
            tracked = self._tracked
            tracked.assign(event.agent, ticket.channel, at, ticket.customer_id)
            # assign() counted one more ticket for the agent; the ticket's contribution
            # moves from ``old`` to ``new`` instead (usually exactly that: nothing to fix)
            if old is None and new == (event.agent, ticket.channel):
                return
            delta = Counter({(event.agent, ticket.channel): -1})
            for load, step in ((old, -1), (new, +1)):
                if load is not None:
                    delta[load] += step
            for load, step in sorted(delta.items()):
                if step:
                    tracked.add_load(load, step)
        elif old != new and not self._dirty:
            self._tracked.add_load(old, -1)
            self._tracked.add_load(new, +1)

    def _rebuild(self) -> None:
        tracked = _Tracked()
        assignments = sorted(
            (a for r in self._records.values() for a in r.assignments), key=lambda a: a.key
        )
        for item in assignments:
            tracked.assign(item.agent, item.channel, item.key[0], item.customer)
            tracked.add_load((item.agent, item.channel), -1)
        loads = Counter(r.load for r in self._records.values() if r.load is not None)
        for (agent, channel), count in sorted(loads.items()):
            tracked.set_load(agent, channel, count)
        self._tracked = tracked
        self._last_key = assignments[-1].key if assignments else None
        self._dirty = False

    def tracked(self) -> _Tracked:
        if self._dirty:
            self._rebuild()
        return self._tracked

    def state(self) -> RoutingState:
        """The routing state of everything observed."""
        return self.tracked().state

    def digest(self) -> str:
        """A digest of `state()`'s value (equal states, equal digests)."""
        return self.tracked().digest()

    def seen(self, ticket_id: str, at: datetime) -> dict[str, Any]:
        """What a decision at ``at`` was made against, as far as instants tell: every
        event before the horizon (``at``, or the latest instant observed when that is
        later — a retried time rule, a clock that went back), and per other ticket the
        number of its events observed at the horizon itself (``ties``)."""
        horizon = at if self._latest is None or self._latest <= at else self._latest
        ties = (
            {t: n for t, n in sorted(self._at_latest.items()) if t != ticket_id}
            if horizon == self._latest
            else {}
        )
        seen: dict[str, Any] = {"ties": ties}
        if horizon != at:
            seen["horizon"] = format_instant(horizon)
        return seen


def reference(
    history: RoutingHistory, ticket_id: str, at: datetime, since: datetime | None
) -> dict[str, Any]:
    """The ``meta["routing"]`` of a decision routed against ``history``'s state now."""
    return {
        "at": format_instant(at),
        "since": None if since is None else format_instant(since),
        **history.seen(ticket_id, at),
        "state": history.digest(),
    }


def last_unassigned(events: Iterable[Event]) -> datetime | None:
    """The instant of the last ``Unassigned`` of ``events`` (the escalation start)."""
    since = None
    for event in events:
        if isinstance(event, Unassigned):
            since = event.at
    return since


def latest_routed(timeline: Timeline) -> tuple[int, Assigned] | None:
    """The index and event of the ticket's latest routed assignment, if any."""
    for index in range(len(timeline) - 1, -1, -1):
        event = timeline[index]
        if isinstance(event, Assigned) and event.decision is not None:
            return index, event
    return None


def state_as_of(
    timelines: Iterable[Timeline], ticket_id: str, index: int, ref: Mapping[str, Any]
) -> RoutingState:
    """The routing state the decision at ``timeline[index]`` of ``ticket_id`` was made
    against, rebuilt from ``timelines`` (all of the store) and checked with its digest.

    Raises:
        RoutingError: the reference is malformed, or the rebuilt state differs from the
            one recorded (the history was written out of time order, or by another
            process the deciding desk had not read).
    """
    try:
        at = parse_instant(ref.get("horizon", ref["at"]))
        ties = {str(k): int(v) for k, v in dict(ref["ties"]).items()}
        digest = str(ref["state"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RoutingError(
            f"ticket {ticket_id!r}, event {index}: malformed routing reference ({exc!r})"
        ) from None
    history = RoutingHistory()
    for timeline in timelines:
        other = timeline.ticket_id
        if other == ticket_id:
            count = index
        else:
            count = sum(1 for event in timeline[:] if event.at < at) + ties.get(other, 0)
        if count:
            history.observe_events(other, timeline[:count])
    if history.digest() != digest:
        raise RoutingError(
            f"ticket {ticket_id!r}, event {index}: the routing state at "
            f"{format_instant(at)} cannot be rebuilt from the store (digest "
            f"{history.digest()} instead of {digest}); was history written out of time "
            "order or by a process the deciding desk had not read?"
        )
    return history.state()


class RoutingCache:
    """The desk's `RoutingHistory`: derived from every timeline of the store on
    first use (and after `invalidate()`), then kept current by `observe()`.

    Args:
        timelines: Yields every timeline of the store (closed tickets included).
    """

    def __init__(self, timelines: Callable[[], Iterable[Timeline]]) -> None:
        self._timelines = timelines
        self._history: RoutingHistory | None = None

    def history(self, *, refresh: bool = False) -> RoutingHistory:
        """The history, derived from the store when unknown or ``refresh``."""
        if refresh or self._history is None:
            history = RoutingHistory()
            for timeline in self._timelines():
                history.observe(timeline)
            self._history = history
        return self._history

    def state(self, *, refresh: bool = False) -> RoutingState:
        """The routing state, derived from the store when unknown or ``refresh``."""
        return self.history(refresh=refresh).state()

    def observe(self, timeline: Timeline) -> None:
        """Bring the history up to ``timeline`` (nothing when not derived yet)."""
        if self._history is not None:
            self._history.observe(timeline)

    def invalidate(self) -> None:
        """Forget everything (another writer is active): re-derive on next use."""
        self._history = None

    def reference(self, ticket_id: str, at: datetime, since: datetime | None) -> dict[str, Any]:
        """The reference of a decision routed now against `state()`."""
        return reference(self.history(), ticket_id, at, since)

    def stamp(self, before: Timeline, events: Sequence[Event]) -> tuple[Event, ...] | None:
        """``events`` (an automation outcome for ``before``) with a reference on each
        routed ``Assigned``; ``None`` when there is none to stamp.

        The automation routes against the desk's state, then against that state after
        each of its own earlier decisions in the run; the references say the same.
        """
        if not any(
            isinstance(e, Assigned) and e.decision is not None and e.agent is not None
            for e in events
        ):
            return None
        history = self.history()
        tracked = history.tracked().copy()
        ticket = before.ticket
        since = last_unassigned(before[:])
        out: list[Event] = []
        for event in events:
            if isinstance(event, Assigned) and event.decision is not None and event.agent:
                ref = {
                    "at": format_instant(event.at),
                    "since": None if since is None else format_instant(since),
                    **history.seen(before.ticket_id, event.at),
                    "state": tracked.digest(),
                }
                tracked.assign(event.agent, ticket.channel, event.at, ticket.customer_id)
                event = attrs.evolve(event, meta={**event.meta, REFERENCE_KEY: ref})
            elif isinstance(event, Unassigned):
                since = event.at
            ticket = ticket.apply(event)
            out.append(event)
        return tuple(out)
