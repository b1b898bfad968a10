"""The SLA clock: a pure fold of a ticket's timeline into per-target cycles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from csmkit._time import require_aware
from csmkit.errors import SlaPolicyError
from csmkit.sla._replies import SYSTEM_ACTOR, is_opening_comment, is_public_reply
from csmkit.sla._report import SlaCrossing, SlaCycle, SlaInstants, SlaReport, SlaState, SlaWarning
from csmkit.timeline import (
    Direction,
    Event,
    FieldChanged,
    MessageAdded,
    Priority,
    StatusCategory,
    StatusChanged,
    Ticket,
    Timeline,
)

if TYPE_CHECKING:
    from csmkit.sla._calendar import BusinessCalendar
    from csmkit.sla._policy import SlaPolicy, SlaTarget

__all__ = ["SlaCycle", "SlaReport", "SlaState", "SlaWarning", "evaluate", "no_policy_report"]

_BREACH = -1.0  # key of the breach threshold among the warning fractions


# --------------------------------------------------------------------------- the fold
#: Business-time additions remembered per run (a report needs about seven).
_MEMO_SIZE = 32
_ZERO = timedelta(0)


class _Run:
    """A cycle being folded (mutable, private)."""

    __slots__ = (
        "anchor",
        "cancelled",
        "cycle",
        "elapsed",
        "goal",
        "last_goal",
        "memo",
        "order",
        "priority",
        "reached",
        "running",
        "span",
        "started_at",
        "stopped_at",
        "target",
    )

    def __init__(self, target: SlaTarget, at: datetime, order: int) -> None:
        self.target = target
        self.started_at = at
        self.anchor = at
        self.elapsed = timedelta(0)
        self.goal: timedelta | None = None
        self.last_goal: timedelta | None = None
        self.priority = Priority.NORMAL
        self.running = True
        self.reached: dict[float, datetime] = {}
        self.stopped_at: datetime | None = None
        self.cancelled = False
        self.order = order
        # Business-time additions already computed for this run, by their exact inputs
        # (a pure function of them and the calendar): a kept fold and its copies reuse
        # them, shared, as a report after each event recomputes the same due instants.
        self.memo: dict[tuple[datetime, object, int, timedelta], datetime] = {}
        # While the clock runs without a pause, the instant at which the elapsed time
        # reaches an amount ``L`` does not move as the anchor does: from any anchor ``A``
        # of the span, ``add(A, L - elapsed(A))`` is the same instant (business time is
        # additive and an addition lands on the earliest such instant). So these
        # instants are remembered by ``(L, zone of the anchor)`` for the running span;
        # a pause or resume starts another span (see ``_Clock.resumed``).
        self.span: dict[tuple[timedelta, object], datetime] = {}
        # The report's cycle of a stopped run: nothing changes a stopped run, and runs
        # of its target before it (all stopped: one run per target is active) keep
        # its number, so it is built once.
        self.cycle: SlaCycle | None = None

    def copy(self) -> _Run:
        new = object.__new__(_Run)
        # Spelled out (not a loop over the slots): a report copies the running runs.
        new.target, new.started_at, new.anchor = self.target, self.started_at, self.anchor
        new.elapsed, new.goal, new.last_goal = self.elapsed, self.goal, self.last_goal
        new.priority, new.running, new.stopped_at = self.priority, self.running, self.stopped_at
        new.cancelled, new.order, new.memo = self.cancelled, self.order, self.memo
        new.span = self.span
        new.cycle = self.cycle
        new.reached = dict(self.reached)
        return new


class _Clock:
    def __init__(self, policy: SlaPolicy, calendar: BusinessCalendar | None) -> None:
        self.policy = policy
        self.calendar = calendar
        self.runs: list[_Run] = []
        self.active: dict[str, _Run] = {}

    # ---- measuring
    def _measure(self, run: _Run) -> Callable[[datetime, datetime], timedelta]:
        if run.target.business:
            assert self.calendar is not None
            return self.calendar.between
        return lambda a, b: b - a

    def _add(self, run: _Run, at: datetime, delta: timedelta) -> datetime:
        if run.target.business and delta:
            assert self.calendar is not None
            if run.running and at is run.anchor and delta > _ZERO:
                # From the anchor of a running clock: the instant the elapsed time
                # reaches ``elapsed + delta``, the same for every anchor of the span.
                return self._remembered(run.span, (run.elapsed + delta, at.tzinfo), at, delta)
            # The key holds the zone and fold too: equal instants in other zones are
            # equal datetimes, but the calendar's answer is given in ``at``'s zone.
            return self._remembered(run.memo, (at, at.tzinfo, at.fold, delta), at, delta)
        return at + delta

    def _remembered(
        self, memo: dict[Any, datetime], key: object, at: datetime, delta: timedelta
    ) -> datetime:
        """``calendar.add(at, delta)``, remembered in ``memo`` under ``key`` (at most
        ``_MEMO_SIZE`` answers: a full memo starts over)."""
        when = memo.get(key)
        if when is None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            assert self.calendar is not None
            when = memo[key] = self.calendar.add(at, delta)
        return when

    def _thresholds(self, run: _Run) -> list[tuple[float, timedelta]]:
        assert run.goal is not None
        out = [(f, run.goal * f) for f in run.target.warnings]
        out.append((_BREACH, run.goal))
        return [(key, limit) for key, limit in out if key not in run.reached]

    def settled(self, run: _Run, t: datetime) -> bool:
        """Whether ``advance(run, t, inclusive=True)`` would leave ``run`` exactly as
        it is: its anchor is that very object (so no time passes and the anchor keeps
        its zone) and no threshold is met there."""
        if run.anchor is not t:
            return False
        if not run.running or run.goal is None:
            return True
        return all(limit > run.elapsed for _, limit in self._thresholds(run))

    def advance(self, run: _Run, t: datetime, *, inclusive: bool) -> None:
        """Account time from the run's anchor to ``t``; record thresholds crossed
        before ``t`` (at ``t`` too when ``inclusive``)."""
        if run.running and run.goal is not None and (t > run.anchor or inclusive):
            for key, limit in self._thresholds(run):
                # A limit met exactly at the anchor (an event at the due instant that
                # did not stop the clock) was passed by a running clock right there.
                if limit <= run.elapsed:
                    when = run.anchor
                elif t == run.anchor:
                    continue  # a positive amount of time from the anchor ends after ``t``
                else:
                    when = self._add(run, run.anchor, limit - run.elapsed)
                if when < t or (inclusive and when == t):
                    run.reached[key] = when
        if run.running and t > run.anchor:
            run.elapsed += self._measure(run)(run.anchor, t)
        elif t < run.anchor:
            run.span = {}  # (instants never decrease in a timeline) another span
        run.anchor = t

    def settle(self, run: _Run, t: datetime, *, retarget: bool = False) -> None:
        """Thresholds already passed count as reached at ``t``: when the clock runs,
        or at a re-target (a new goal the elapsed time already exceeds is missed even
        if the clock is paused)."""
        if (run.running or retarget) and run.goal is not None:
            for key, limit in self._thresholds(run):
                if limit <= run.elapsed:
                    run.reached[key] = t

    # ---- lifecycle
    def start(self, name: str, at: datetime, priority: Priority, category: StatusCategory) -> None:
        target = self.policy.target(name)
        if target is None or name in self.active:
            return
        run = _Run(target, at, len(self.runs))
        run.priority = priority
        run.goal = run.last_goal = target.goal_for(priority)
        run.running = category not in target.pause
        self.runs.append(run)
        self.active[name] = run
        self.settle(run, at)

    def stop(self, name: str, at: datetime, *, cancelled: bool) -> None:
        run = self.active.pop(name, None)
        if run is not None:
            run.stopped_at = at
            run.cancelled = cancelled

    def set_category(self, at: datetime, category: StatusCategory) -> None:
        for run in self.active.values():
            running = category not in run.target.pause
            if running != run.running:
                run.running = running
                run.span = {}  # paused or resumed: the instants of another span
                self.settle(run, at)

    def set_priority(self, at: datetime, priority: Priority) -> None:
        for name, run in list(self.active.items()):
            goal = run.target.goal_for(priority)
            run.priority = priority
            if goal is None and run.last_goal is not None:
                self.stop(name, at, cancelled=True)  # the new priority has no goal
                continue
            run.goal = goal
            if goal is not None:
                run.last_goal = goal
            self.settle(run, at, retarget=True)


def _check_now(timeline: Timeline, now: object) -> datetime:
    now = require_aware(now, "now", SlaPolicyError)
    if now < timeline.created_at:
        raise SlaPolicyError(
            f"now={now.isoformat()} is before the ticket's creation "
            f"({timeline.created_at.isoformat()})"
        )
    return now


def no_policy_report(timeline: Timeline, now: datetime) -> SlaReport:
    """The report of a ticket no policy applies to."""
    return SlaReport(
        ticket_id=timeline.ticket_id,
        policy=None,
        now=_check_now(timeline, now),
        cycles=(),
        next_event_at=None,
    )


def evaluate(
    policy: SlaPolicy,
    timeline: Timeline,
    *,
    calendar: BusinessCalendar | None,
    now: datetime,
) -> SlaReport:
    """Fold ``timeline`` (events up to ``now``) into the cycles of ``policy``'s targets."""
    fold = Fold(policy, timeline, calendar=calendar, now=now)
    fold.feed(timeline, now)
    return fold.report(timeline, now)


def check_evaluation(
    policy: SlaPolicy, timeline: object, calendar: BusinessCalendar | None, now: object
) -> datetime:
    """The checked ``now`` of an evaluation of ``timeline`` by ``policy``.

    Raises:
        SlaPolicyError: not a timeline, ``now`` naive or before the ticket's creation,
            or a business-time target without a calendar.
    """
    if not isinstance(timeline, Timeline):
        raise SlaPolicyError(f"timeline must be a Timeline, got {type(timeline).__name__}")
    checked = _check_now(timeline, now)
    if calendar is None and any(t.business for t in policy.targets):
        names = [t.name for t in policy.targets if t.business]
        raise SlaPolicyError(
            f"policy {policy.name!r}: targets {names} count business time; pass calendar="
        )
    return checked


class Fold:
    """The SLA fold of one ticket, resumable: [`evaluate()`][csmkit.sla._clock.evaluate]
    is ``Fold(...)``, ``feed(timeline, now)``, ``report(timeline, now)``; an
    incremental evaluator keeps a fold, feeds it the events appended since, and
    reports on a [`copy()`][csmkit.sla._clock.Fold.copy] (reporting advances the runs
    to ``now``). ``count`` events are folded; ``last_at`` is the latest of them."""

    def __init__(
        self,
        policy: SlaPolicy,
        timeline: Timeline,
        *,
        calendar: BusinessCalendar | None,
        now: datetime,
    ) -> None:
        check_evaluation(policy, timeline, calendar, now)
        self.clock = _Clock(policy, calendar)
        created = timeline[0]
        # The ticket as it was at creation: fold only the events at that instant (state_at
        # would build and cache a state per event of the whole timeline).
        ticket = Ticket.created(created)  # type: ignore[arg-type]
        for event in timeline.events[1:]:
            if event.at != created.at:
                break
            ticket = ticket.apply(event)
        self.created_at = created.at
        self.category, self.priority = ticket.category, ticket.priority
        self.replied = False  # a public reply has been sent
        self.reply_pending = False  # a public reply since the last customer message
        self.waiting = False  # a customer message arrived while the ticket was done
        self.messages = 0  # messages seen so far (an agent's opening comment is not a reply)
        self.count = 1
        self.last_at = created.at
        if not self.category.is_done:
            self.clock.start("first_response", created.at, self.priority, self.category)
            self.clock.start("resolution", created.at, self.priority, self.category)

    def copy(self) -> Fold:
        """An independent copy (the runs are copied, the policy and calendar shared)."""
        new = object.__new__(Fold)
        new.__dict__.update(self.__dict__)
        clock = _Clock(self.clock.policy, self.clock.calendar)
        copies = {id(run): run.copy() for run in self.clock.runs}
        clock.runs = [copies[id(run)] for run in self.clock.runs]
        clock.active = {name: copies[id(run)] for name, run in self.clock.active.items()}
        new.clock = clock
        return new

    def peek(self, timeline: Timeline, now: datetime) -> SlaReport:
        """The report at ``now``, as ``copy().report(timeline, now)`` gives it, leaving
        this fold as it is. Only the active runs are copied: reporting advances them,
        and a stopped run is never changed again (nothing but the active ones is)."""
        source = self.clock
        if all(source.settled(run, now) for run in source.active.values()):
            return _report(source, timeline, now)  # advancing would change no run
        clock = _Clock(source.policy, source.calendar)
        copies = {id(run): run.copy() for run in source.active.values()}
        clock.runs = [copies.get(id(run), run) for run in source.runs]
        clock.active = {name: copies[id(run)] for name, run in source.active.items()}
        for run in clock.active.values():
            clock.advance(run, now, inclusive=True)
        return _report(clock, timeline, now)

    def instants(self, now: datetime) -> SlaInstants:
        """``peek(timeline, now).instants()``, leaving this fold as it is, without
        building the report: only the running runs are advanced (on copies), as only
        their crossings and instants change on the way to ``now``."""
        return _instants(self.clock, now)

    def resumable(self, timeline: Timeline, now: datetime) -> bool:
        """Whether feeding ``timeline`` from ``count`` on gives what a fresh fold would
        (the caller checks that the first ``count`` events are the folded ones)."""
        # The opening state read every event at the creation instant: none may join it.
        count = self.count
        if not self.last_at <= now or len(timeline) < count:
            return False
        opening = self.last_at <= self.created_at and len(timeline) > count
        return not opening or timeline.events[count].at != self.created_at

    def feed(self, timeline: Timeline, now: datetime) -> None:
        """Fold the events from ``count`` on, up to the first one after ``now``."""
        events = timeline.events
        for index in range(self.count, len(events)):
            event = events[index]
            if event.at > now:
                break
            self._event(event)
            self.count = index + 1
            self.last_at = event.at

    def _event(self, event: Event) -> None:
        clock = self.clock
        at = event.at
        for run in clock.active.values():
            clock.advance(run, at, inclusive=False)
        if isinstance(event, StatusChanged):
            was_done, self.category = self.category.is_done, event.category
            category, priority = self.category, self.priority
            if category.is_done and not was_done:
                clock.stop("resolution", at, cancelled=False)
                for name in ("first_response", "next_response", "periodic_update"):
                    clock.stop(name, at, cancelled=True)
            elif was_done and not category.is_done:  # reopened
                clock.start("resolution", at, priority, category)
                if self.replied:
                    clock.start("periodic_update", at, priority, category)
                if self.waiting:
                    clock.start("next_response", at, priority, category)
                    self.waiting = False
            clock.set_category(at, category)
        elif isinstance(event, FieldChanged) and event.name == "priority":
            self.priority = Priority.parse(event.new)
            clock.set_priority(at, self.priority)
        elif isinstance(event, MessageAdded):
            if event.direction is not Direction.INBOUND and event.actor == SYSTEM_ACTOR:
                return  # an automatic message is not part of the conversation
            self.messages += 1
            if is_opening_comment(
                event, created_at=self.created_at, messages_before=self.messages - 1
            ):
                return
            if is_public_reply(event):
                self.replied = self.reply_pending = True
                clock.stop("first_response", at, cancelled=False)
                clock.stop("next_response", at, cancelled=False)
                clock.stop("periodic_update", at, cancelled=False)
                if not self.category.is_done:
                    clock.start("periodic_update", at, self.priority, self.category)
            elif event.direction is Direction.INBOUND and self.reply_pending:
                self.reply_pending = False
                if self.category.is_done:
                    self.waiting = True
                else:
                    clock.start("next_response", at, self.priority, self.category)

    def report(self, timeline: Timeline, now: datetime) -> SlaReport:
        """The report at ``now``; advances the runs (report on a copy to keep going)."""
        clock = self.clock
        for run in clock.active.values():
            clock.advance(run, now, inclusive=True)
        return _report(clock, timeline, now)


def _report(clock: _Clock, timeline: Timeline, now: datetime) -> SlaReport:
    cycles: list[SlaCycle] = []
    numbers: dict[str, int] = {}
    next_event: datetime | None = None
    for run in sorted(clock.runs, key=lambda r: (r.started_at, r.order)):
        goal = run.goal if run.goal is not None else run.last_goal
        if goal is None:
            continue  # never had a goal: the target does not apply to this ticket
        name = run.target.name
        numbers[name] = numbers.get(name, 0) + 1
        if run.cycle is not None:
            cycles.append(run.cycle)
            continue
        stopped = run.stopped_at is not None
        if stopped:
            state = SlaState.CANCELLED if run.cancelled else SlaState.MET
        else:
            state = SlaState.RUNNING if run.running else SlaState.PAUSED
        anchor = run.anchor
        breach_at = run.reached.get(_BREACH)
        if goal > run.elapsed:
            due = clock._add(run, anchor, goal - run.elapsed)
        else:
            due = breach_at if breach_at is not None else anchor
        warnings = []
        for fraction in run.target.warnings:
            when = run.reached.get(fraction)
            if when is None and not stopped:
                when = clock._add(run, anchor, goal * fraction - run.elapsed)
            warnings.append(SlaWarning(fraction, when, fraction in run.reached))
        if state is SlaState.RUNNING and run.goal is not None:
            pending = [w.at for w in warnings if not w.reached and w.at is not None]
            if breach_at is None:
                pending.append(due)
            for when in pending:
                if when > now and (next_event is None or when < next_event):
                    next_event = when
        cycle = SlaCycle(
            target=name,
            cycle=numbers[name],
            state=state,
            breached=breach_at is not None,
            breached_at=breach_at,
            priority=run.priority,
            goal=goal,
            business=run.target.business,
            started_at=run.started_at,
            stopped_at=run.stopped_at,
            due_at=due,
            original_due_at=clock._add(run, run.started_at, goal),
            elapsed=run.elapsed,
            remaining=goal - run.elapsed,
            remaining_wall=None if stopped else due - now,
            warnings=tuple(warnings),
        )
        if stopped:
            run.cycle = cycle
        cycles.append(cycle)
    return SlaReport(
        ticket_id=timeline.ticket_id,
        policy=clock.policy.name,
        now=now,
        cycles=tuple(cycles),
        next_event_at=next_event,
    )


def _instants(clock: _Clock, now: datetime) -> SlaInstants:
    """What ``_report(...).instants()`` gives for ``clock`` advanced to ``now``, computed
    as ``_report`` computes each of those values (same additions, same order), without
    its cycles. A paused or stopped run is not advanced: advancing a paused run moves
    its anchor only, which changes none of these values."""
    crossings: list[SlaCrossing] = []
    numbers: dict[str, int] = {}
    next_event: datetime | None = None
    due: tuple[datetime, str] | None = None
    runs = clock.runs
    if len(runs) > 1:
        runs = sorted(runs, key=lambda r: (r.started_at, r.order))
    for run in runs:
        goal = run.goal if run.goal is not None else run.last_goal
        if goal is None:
            continue  # never had a goal: not a cycle of the report
        name = run.target.name
        number = numbers[name] = numbers.get(name, 0) + 1
        running = run.stopped_at is None and run.running
        if running and not clock.settled(run, now):
            run = run.copy()
            clock.advance(run, now, inclusive=True)
        reached = run.reached
        if reached:
            for fraction in run.target.warnings:
                when = reached.get(fraction)
                if when is not None:
                    crossings.append(SlaCrossing(name, number, fraction, when))
        breach_at = reached.get(_BREACH)
        if breach_at is not None:
            crossings.append(SlaCrossing(name, number, None, breach_at))
        if not running:
            continue
        anchor = run.anchor
        if goal > run.elapsed:
            when = clock._add(run, anchor, goal - run.elapsed)
        else:
            when = breach_at if breach_at is not None else anchor
        if due is None or (when, name) < due:
            due = (when, name)
        if run.goal is None:
            continue
        pending = [
            clock._add(run, anchor, goal * fraction - run.elapsed)
            for fraction in run.target.warnings
            if fraction not in reached
        ]
        if breach_at is None:
            pending.append(when)
        for at in pending:
            if at > now and (next_event is None or at < next_event):
                next_event = at
    return SlaInstants(
        due_at=None if due is None else due[0],
        due_target=None if due is None else due[1],
        next_event_at=next_event,
        crossings=tuple(crossings),
    )
