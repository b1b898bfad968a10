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
descending id order, a clock that went back, another writer's clock ahead of this one)
is inserted at its place: the assignments after it move one place down, so the agents
whose last assignment is among them are renumbered (the sequence numbers are ranks in
the canonical order, and stored digests are checked against a state rebuilt in that
order). That costs O(log n + k) for the k assignments after its key, whatever the
history. The next read rebuilds the state instead, from the per-ticket records held in
memory, when a ticket's history got shorter (it cannot be taken back one event at a
time) or when so many assignments come after the late one (more than 64 and an eighth
of all) that a rebuild costs less — so a history observed in reverse or random order
(the store's timelines at start-up) rebuilds once rather than inserting each one.
Either way the kept state always equals a rebuild from the store.

Each routed ``Assigned`` event carries a compact reference in ``meta["routing"]``:
``state``, a digest of the state used (its sequence and a 64-bit sum of one hash per load
entry, last assignment and customer, the same in every process), and only what the store
cannot tell — how far the desk had seen when that is not simply "every event before the
decision instant" (``horizon``: the latest instant it had observed, when later; ``ties``:
per other ticket, its events at that very instant) and the escalation start when it is
not the ticket's last ``Unassigned`` (``since``, e.g. an ``escalate`` with ``release``);
for an automation run, which routes against the state before its command and adds its
own earlier decisions as the latest assignments, how many of the ticket's events that
state held (``base``) and which decisions it added (``run``), when a rebuild from the
ticket's events before the decision would differ.
The decision instant is the event's. `state_as_of()` rebuilds that state from the store
and checks the digest, so an explanation is either the exact one or an error — never a
different state's.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from csmkit._jsonvalue import FrozenMap, freeze_mapping
from csmkit._time import format_instant, parse_instant
from csmkit.desk._routing_digest import Tracked
from csmkit.errors import NotFoundError, RoutingError
from csmkit.routing import AgentPool, Decision, Router, RoutingState
from csmkit.timeline import Assigned, Event, StatusCategory, Ticket, Timeline, Unassigned
from csmkit.timeline.trusted import trusted_event

__all__ = [
    "OPEN_CATEGORIES",
    "REFERENCE_KEY",
    "RecordedDecision",
    "RoutingCache",
    "RoutingHistory",
    "explain_recorded",
    "last_unassigned",
    "latest_routed",
    "recorded_decision",
    "reference",
    "state_as_of",
]

OPEN_CATEGORIES = ("new", "open", "pending", "on_hold")
REFERENCE_KEY = "routing"

# An out-of-order assignment is inserted when at most this many (or an eighth of all)
# come after it; otherwise the state is rebuilt (see RoutingHistory._insert).
_INSERT_LIMIT = 64
_Key = tuple[datetime, str, int]
_Load = tuple[str, str]


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


def _key_of(item: _Assignment) -> _Key:
    return item.key


# The open categories as members (a ticket's category is one; hashing a member by its
# name, not its value, is why this is not a set of the strings).
_OPEN_MEMBERS = frozenset(StatusCategory(name) for name in OPEN_CATEGORIES)


def _load_of(ticket: Ticket) -> _Load | None:
    if ticket.assignee is None:
        return None
    category = ticket.category
    if type(category) is StatusCategory:
        if category not in _OPEN_MEMBERS:
            return None
    elif category.value not in OPEN_CATEGORIES:
        return None
    return (ticket.assignee, ticket.channel)


def _with_reference(event: Assigned, ref: Mapping[str, Any]) -> Assigned:
    """``event`` with ``ref`` as its ``meta["routing"]``: as ``attrs.evolve`` gives it,
    without validating the event's other values again (they passed when it was built)."""
    meta = {**event.meta, REFERENCE_KEY: ref}
    if type(event) is not Assigned:
        return attrs.evolve(event, meta=meta)
    try:
        frozen = freeze_mapping(meta, "meta")
    except ValueError:
        return attrs.evolve(event, meta=meta)  # which raises the event's own error
    return trusted_event(
        Assigned,
        ticket_id=event.ticket_id,
        at=event.at,
        actor=event.actor,
        meta=frozen,
        agent=event.agent,
        group=event.group,
        decision=event.decision,
    )


class RoutingHistory:
    """Routing state folded from timelines, in any order and any number of steps."""

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._tracked = Tracked()
        # Every assignment observed, in the canonical order (the n-th has sequence n).
        self._order: list[_Assignment] = []
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
            item = _Assignment(key, event.agent, ticket.channel, ticket.customer_id)
            record.assignments.append(item)
            if self._dirty:
                return
            order = self._order
            if order and key <= order[-1].key:
                if not self._insert(item):
                    self._dirty = True  # a rebuild costs less: rebuild on the next read
                    return
                if old != new:
                    self._tracked.add_load(old, -1)
                    self._tracked.add_load(new, +1)
                return
            order.append(item)
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

    def _insert(self, item: _Assignment) -> bool:
        """Place ``item``, earlier than the latest known assignment, at its rank: the
        state a rebuild would give, loads aside (the caller moves the ticket's load).

        Declines (returns ``False``, nothing changed) when more than `_INSERT_LIMIT`
        assignments and an eighth of all of them come after it: then a rebuild on the
        next read costs less, and a history observed in reverse or random order (the
        store's timelines at start-up) rebuilds once instead of inserting each one.
        """
        order, tracked = self._order, self._tracked
        position = bisect.bisect_left(order, item.key, key=_key_of)
        after = len(order) - position
        if after > _INSERT_LIMIT and after * 8 > len(order):
            return False
        agent, customer = item.agent, item.customer
        agent_later = customer_later = False
        # Every assignment from ``position`` on moves one place down: an agent whose last
        # one is among them keeps it, renumbered. Backwards, so that a renumbered rank is
        # never met again.
        for rank in range(len(order), position, -1):
            other = order[rank - 1]
            agent_later = agent_later or other.agent == agent
            customer_later = customer_later or (customer is not None and other.customer == customer)
            if tracked.state.last_assignment_key(other.agent)[2] == rank:
                tracked.set_last(other.agent, other.key[0], rank + 1)
        tracked.state = tracked.state.with_sequence(tracked.state.sequence + 1)
        if not agent_later:  # the agent's others are all earlier: this one is its last
            tracked.set_last(agent, item.key[0], position + 1)
        if customer is not None and not customer_later:
            tracked.set_customer(customer, agent)
        order.insert(position, item)
        return True

    def _rebuild(self) -> None:
        """The state from the per-ticket records, in the canonical order (the reference
        the incremental steps must equal)."""
        tracked = Tracked()
        assignments = sorted(
            (a for r in self._records.values() for a in r.assignments), key=_key_of
        )
        for item in assignments:
            tracked.assign(item.agent, item.channel, item.key[0], item.customer)
            tracked.add_load((item.agent, item.channel), -1)
        loads = Counter(r.load for r in self._records.values() if r.load is not None)
        for (agent, channel), count in sorted(loads.items()):
            tracked.set_load(agent, channel, count)
        self._tracked = tracked
        self._order = assignments
        self._dirty = False

    def tracked(self) -> Tracked:
        if self._dirty:
            self._rebuild()
        return self._tracked

    def state(self) -> RoutingState:
        """The routing state of everything observed."""
        return self.tracked().state

    def digest(self) -> str:
        """A digest of `state()`'s value (equal states, equal digests)."""
        return self.tracked().digest()

    def held(self, ticket_id: str) -> tuple[int, _Load | None]:
        """How many of the ticket's events the state holds, and the ticket's load then."""
        record = self._records.get(ticket_id)
        return (0, None) if record is None else (record.count, record.load)

    def seen(self, ticket_id: str, at: datetime) -> dict[str, Any]:
        """What a decision at ``at`` was made against, as far as instants tell: every
        event before the horizon (``at``, or the latest instant observed when that is
        later — a retried time rule, a clock that went back), and per other ticket the
        number of its events observed at the horizon itself (``ties``). Only what is
        not the default is returned (no ``horizon`` when it is ``at``, no empty
        ``ties``): usually nothing."""
        latest = self._latest
        if latest is None or latest < at:
            return {}
        seen: dict[str, Any] = {}
        if len(self._at_latest) > 1 or ticket_id not in self._at_latest:
            ties = {t: n for t, n in sorted(self._at_latest.items()) if t != ticket_id}
            if ties:
                seen["ties"] = ties
        if latest != at:
            seen["horizon"] = format_instant(latest)
        return seen


def reference(history: RoutingHistory, ticket_id: str, at: datetime) -> Mapping[str, Any]:
    """The ``meta["routing"]`` of a decision at ``at`` routed against ``history``'s state
    now, its escalation clock started at the ticket's last ``Unassigned`` (else its
    creation): the state's digest, plus what `RoutingHistory.seen()` returns."""
    seen = history.seen(ticket_id, at)
    if not seen:  # the usual case: a digest, already frozen for the event's meta
        return FrozenMap({"state": history.digest()})
    return {"state": history.digest(), **seen}


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


@attrs.frozen
class RecordedDecision:
    """What a routed ``Assigned`` event records: enough to route it again.

    Attributes:
        index: The event's index in the ticket's timeline.
        event: The ``Assigned`` event.
        ticket: The ticket just before it (what was routed).
        at: The decision instant (the event's).
        since: The escalation start (the reference's ``since`` when recorded, else the
            ticket's last ``Unassigned`` before the event, else ``None``: its creation).
        horizon: How far the deciding desk had seen (``at`` unless recorded).
        ties: Per other ticket, its events at ``horizon`` the desk had seen.
        digest: The digest of the routing state used.
        base: How many of the ticket's own events the state held (``index`` unless
            recorded: an automation run routes against the state before its command).
        run: Indexes of the ticket's routed ``Assigned`` events (at or after ``base``)
            added to that state as its latest assignments, in order (the run's earlier
            decisions, as the automation added them).
    """

    index: int
    event: Assigned
    ticket: Ticket
    at: datetime
    since: datetime | None
    horizon: datetime
    ties: Mapping[str, int]
    digest: str
    base: int = -1
    run: tuple[int, ...] = ()


def recorded_decision(timeline: Timeline) -> RecordedDecision | None:
    """The ticket's latest routed assignment with a reference, read and checked.

    Raises:
        RoutingError: the reference is malformed (naming the ticket and event).
    """
    found = latest_routed(timeline)
    ref = None if found is None else found[1].meta.get(REFERENCE_KEY)
    if found is None or not isinstance(ref, Mapping):
        return None
    index, event = found
    before = timeline[:index]
    try:
        at = parse_instant(ref["at"]) if "at" in ref else event.at
        if "since" in ref:
            since = None if ref["since"] is None else parse_instant(ref["since"])
        else:
            since = last_unassigned(before)
        horizon = parse_instant(ref["horizon"]) if "horizon" in ref else at
        ties = {str(k): int(v) for k, v in dict(ref.get("ties", {})).items()}
        digest = ref["state"]
        if not isinstance(digest, str):
            raise TypeError(f"state {digest!r} is not a digest")
        base = _count(ref.get("base", index), "base")
        run = tuple(_count(i, "run") for i in ref.get("run", ()))
        if base > index:
            raise ValueError(f"base {base} is after the event")
        for i in run:
            item = timeline[i] if base <= i < index else None
            if not (isinstance(item, Assigned) and item.agent and item.decision):
                raise ValueError(f"run: event {i} is not a routed assignment before it")
    except (KeyError, TypeError, ValueError) as exc:
        raise RoutingError(
            f"ticket {timeline.ticket_id!r}, event {index}: malformed routing reference ({exc!r})"
        ) from None
    ticket = Timeline(before).ticket
    return RecordedDecision(index, event, ticket, at, since, horizon, ties, digest, base, run)


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} {value!r} is not a count")
    return value


def state_as_of(timelines: Iterable[Timeline], recorded: RecordedDecision) -> RoutingState:
    """The routing state ``recorded`` was decided against, rebuilt from ``timelines``
    (all of the store) and checked with its digest.

    Raises:
        RoutingError: the rebuilt state differs from the one recorded (the history was
            written out of time order, or by another process the deciding desk had not
            read).
    """
    ticket_id, index = recorded.ticket.id, recorded.index
    horizon, ties = recorded.horizon, recorded.ties
    history = RoutingHistory()
    own: Timeline | None = None
    for timeline in timelines:
        other = timeline.ticket_id
        if other == ticket_id:
            own = timeline
            count = index if recorded.base < 0 else recorded.base
        else:
            count = sum(1 for event in timeline[:] if event.at < horizon)
            count += ties.get(other, 0)
        if count:
            history.observe_events(other, timeline[:count])
    if recorded.run:
        # the run's earlier decisions, added as the automation added them
        assert own is not None
        tracked = history.tracked()
        for i in recorded.run:
            event, routed = own[i], Timeline(own[:i]).ticket
            assert isinstance(event, Assigned)
            assert event.agent is not None  # checked by recorded_decision()
            tracked.assign(event.agent, routed.channel, event.at, routed.customer_id)
    if history.digest() != recorded.digest:
        raise RoutingError(
            f"ticket {ticket_id!r}, event {index}: the routing state at "
            f"{format_instant(horizon)} cannot be rebuilt from the store (digest "
            f"{history.digest()} instead of {recorded.digest}); was history written out "
            "of time order or by a process the deciding desk had not read?"
        )
    return history.state()


def explain_recorded(
    router: Router, agents: AgentPool, timeline: Timeline, timelines: Iterable[Timeline]
) -> Decision:
    """The full explanation of ``timeline``'s latest routing decision, routed again
    with ``explain="full"`` against the state rebuilt from ``timelines`` (the store).

    Raises:
        NotFoundError: no routed assignment with a reference.
        RoutingError: the reference is malformed, the state cannot be rebuilt exactly,
            or the decision no longer comes out the same (agents or rules changed).
    """
    recorded = recorded_decision(timeline)
    if recorded is None:
        raise NotFoundError(f"ticket {timeline.ticket_id!r} has no recorded routing decision")
    state = state_as_of(timelines, recorded)
    decision = router.route(
        recorded.ticket, agents, state, recorded.at, since=recorded.since, explain="full"
    )
    event = recorded.event
    if decision.agent != event.agent or f"{decision.rule}#{decision.step}" != event.decision:
        raise RoutingError(
            f"ticket {timeline.ticket_id!r}, event {recorded.index}: routed again now the "
            f"decision is {decision.agent!r} by {decision.rule}#{decision.step}, not "
            f"{event.agent!r} by {event.decision}; were the agents or rules changed?"
        )
    return decision


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

    def reference(self, ticket_id: str, at: datetime) -> Mapping[str, Any]:
        """The reference of a decision routed now against `state()`."""
        return reference(self.history(), ticket_id, at)

    def meta(self, ticket_id: str, at: datetime) -> Mapping[str, Any]:
        """The ``meta`` of a routed ``Assigned`` event at ``at``: its reference, frozen
        (so the event takes it as it is)."""
        ref = reference(self.history(), ticket_id, at)
        if isinstance(ref, FrozenMap):  # the usual case: frozen already
            return FrozenMap({REFERENCE_KEY: ref})
        return freeze_mapping({REFERENCE_KEY: ref}, "meta")

    def stamp(self, before: Timeline, events: Sequence[Event]) -> tuple[Event, ...] | None:
        """``events`` (an automation outcome for ``before``) with a reference on each
        routed ``Assigned``; ``None`` when there is none to stamp.

        The automation routes against the desk's state (which has seen the ticket's
        stored events, not the command's), then against that state after each of its own
        earlier decisions in the run, each added as the latest assignment; the
        references say the same. When that is not what a rebuild from the ticket's
        events before the decision gives (the command or the run changed the ticket's
        load or assignments first, or a later assignment of another ticket is known),
        the reference also says how many of the ticket's events the state held
        (``base``) and which earlier decisions of the run were added to it (``run``,
        their event indexes), so `state_as_of()` rebuilds exactly the state used. An
        escalation start the automation recorded (``meta["routing"]["since"]``, when it
        is not the ticket's last ``Unassigned``) is kept.
        """
        routed = [
            position
            for position, e in enumerate(events)
            if isinstance(e, Assigned) and e.decision is not None and e.agent
        ]
        if not routed:
            return None
        last = routed[-1]
        history = self.history()
        tracked = history.tracked().copy()
        ticket_id = before.ticket_id
        base, base_load = history.held(ticket_id)
        # an assignment of the ticket after the state's events: a rebuild differs
        changed = any(isinstance(e, Assigned) and e.agent for e in before[base:])
        ticket = before.ticket
        run: list[int] = []
        out: list[Event] = []
        for position, event in enumerate(events):
            if isinstance(event, Assigned) and event.decision is not None and event.agent:
                given = event.meta.get(REFERENCE_KEY)
                ref = {"state": tracked.digest(), **history.seen(ticket_id, event.at)}
                if isinstance(given, Mapping) and "since" in given:
                    ref["since"] = given["since"]
                if changed or _load_of(ticket) != base_load:
                    ref["base"] = base
                    if run:
                        ref["run"] = list(run)
                if position < last:  # the state a later decision of the run routes on
                    tracked.assign(event.agent, ticket.channel, event.at, ticket.customer_id)
                run.append(len(before) + position)
                event = _with_reference(event, ref)
            if isinstance(event, Assigned) and event.agent:
                changed = True
            ticket = ticket.apply(event)
            out.append(event)
        return tuple(out)
