"""SLA attainment from SLA results, and backlog / ageing at an instant."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit.errors import MetricsError, TimelineError
from csmkit.metrics._accumulators import DurationAccumulator, ProportionAccumulator
from csmkit.metrics._results import DurationResult, Rate
from csmkit.metrics._tickets import BusinessClock, _span, check_instant
from csmkit.timeline import StatusCategory, Timeline

__all__ = ["UNRESOLVED", "BacklogResult", "backlog", "feed_cycle", "read_cycle", "sla_attainment"]

_FINISHED = "met"
_OPEN = frozenset({"running", "paused"})
_STATES = frozenset({"running", "paused", "met", "cancelled"})


def _cycles(results: Iterable[Any]) -> Iterable[tuple[int, Any]]:
    index = 0
    for item in results:
        cycles = getattr(item, "cycles", None)
        for cycle in cycles if cycles is not None else (item,):
            yield index, cycle
            index += 1


def sla_attainment(
    results: Iterable[Any],
    *,
    count_running_breached: bool = True,
    targets: Sequence[str] | None = None,
) -> dict[str, Rate]:
    """SLA attainment per target: achieved / (achieved + breached), with Wilson intervals.

    Accepts SLA report objects (anything with ``.cycles``) or cycles directly; a cycle has
    ``target`` (str), ``cycle`` (int), ``state`` (``running``/``paused``/``met``/
    ``cancelled``, a str or str enum) and ``breached`` (bool). Every cycle counts (JSM
    counts each cycle of a reopened ticket).

    Which cycles count:

    * ``met`` and not breached → achieved; ``met`` and breached (finished late) → breached;
    * ``running``/``paused`` and breached → breached when ``count_running_breached``
      (default; Zendesk shows "active (breached)" — the breach is already certain),
      otherwise left out; ``running``/``paused`` not breached → left out (undecided);
    * ``cancelled`` → left out.

    Left-out cycles are counted in each rate's ``skipped``.

    Raises:
        MetricsError: a cycle lacks an attribute or has an unknown state; the message gives
            its position (``cycles[4]``).
    """
    accumulators: dict[str, ProportionAccumulator] = {}
    for name in targets or ():
        accumulators[name] = ProportionAccumulator(f"sla[{name}]")
    for index, cycle in _cycles(results):
        target, state, breached = read_cycle(cycle, f"cycles[{index}]")
        if targets is not None and target not in accumulators:
            continue
        accumulator = accumulators.setdefault(target, ProportionAccumulator(f"sla[{target}]"))
        feed_cycle(accumulator, state, breached, count_running_breached)
    return {name: accumulator.result() for name, accumulator in sorted(accumulators.items())}


def read_cycle(cycle: Any, where: str) -> tuple[str, str, bool]:
    """``(target, state, breached)`` of an SLA cycle, validated; errors name ``where``."""
    try:
        target, state, breached = cycle.target, cycle.state, cycle.breached
    except AttributeError as exc:
        raise MetricsError(f"{where}: {cycle!r} is not an SLA cycle ({exc})") from None
    state = str(getattr(state, "value", state))
    if not isinstance(target, str) or state not in _STATES or not isinstance(breached, bool):
        raise MetricsError(
            f"{where}: target must be a str, state one of "
            f"{', '.join(sorted(_STATES))} and breached a bool; got {target!r}, "
            f"{state!r}, {breached!r}"
        )
    return target, state, breached


def feed_cycle(
    accumulator: ProportionAccumulator, state: str, breached: bool, count_running_breached: bool
) -> None:
    """Count one cycle as achieved, breached or left out (see
    [`sla_attainment()`][csmkit.metrics.sla_attainment])."""
    if state == _FINISHED:
        accumulator.update(not breached)
    elif state in _OPEN and breached and count_running_breached:
        accumulator.update(False)
    else:
        accumulator.skipped += 1


UNRESOLVED = (
    StatusCategory.NEW,
    StatusCategory.OPEN,
    StatusCategory.PENDING,
    StatusCategory.ON_HOLD,
)


def _hours(value: timedelta) -> str:
    return f"{value.total_seconds() / 3600:g}h"


@attrs.frozen
class BacklogResult:
    """Unresolved tickets at an instant, and how old they are.

    Attributes:
        at: The snapshot instant.
        count: Tickets in the backlog.
        by_category: Count per status category.
        ages: Ages (since creation) of the backlog's tickets.
        ages_since_update: Ages since each ticket's latest event.
        bucket_bounds: The ageing bucket bounds.
        buckets: ``(label, count)`` per ageing bucket (``0–24h``, ``24–48h``, ``48h+`` …).
        business: Whether ages are business time.
    """

    at: datetime
    count: int
    by_category: Mapping[str, int]
    ages: DurationResult
    ages_since_update: DurationResult
    bucket_bounds: tuple[timedelta, ...]
    buckets: tuple[tuple[str, int], ...]
    business: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dict form."""
        return {
            "at": self.at.isoformat(),
            "count": self.count,
            "by_category": dict(self.by_category),
            "buckets": dict(self.buckets),
            "business": self.business,
            "ages": self.ages.to_dict(),
            "ages_since_update": self.ages_since_update.to_dict(),
        }


def backlog(
    timelines: Iterable[Any],
    at: datetime,
    *,
    clock: BusinessClock | None = None,
    categories: Iterable[StatusCategory | str] = UNRESOLVED,
    buckets: Sequence[timedelta] = (timedelta(hours=24), timedelta(hours=48)),
) -> BacklogResult:
    """Backlog and ageing at instant ``at``.

    Args:
        timelines: Timelines (or their dict forms); tickets created after ``at`` are ignored.
        at: The snapshot instant (aware).
        clock: Business clock for business-time ages.
        categories: Status categories that count as backlog (default: every unresolved
            one — new, open, pending, on_hold; pass ``["new", "open"]`` for "open only").
        buckets: Increasing age bounds; ``(24h, 48h)`` gives ``0–24h``, ``24–48h``,
            ``48h+``. A ticket exactly on a bound goes to the upper bucket.
    """
    check_instant(at, "at")
    try:
        wanted = {StatusCategory(c) for c in categories}
    except ValueError as exc:
        raise MetricsError(f"categories: {exc}") from None
    bounds = tuple(buckets)
    if any(not isinstance(b, timedelta) or b <= timedelta(0) for b in bounds) or list(
        bounds
    ) != sorted(set(bounds)):
        raise MetricsError(f"buckets must be increasing positive timedeltas, got {bounds!r}")
    labels = []
    previous = "0"
    for bound in bounds:
        labels.append(f"{previous}–{_hours(bound)}")
        previous = _hours(bound)
    labels.append(f"{previous}+" if bounds else "all")
    counts = [0] * (len(bounds) + 1)
    by_category: Counter[str] = Counter()
    ages = DurationAccumulator("backlog_age", business=clock is not None)
    since_update = DurationAccumulator("backlog_age_since_update", business=clock is not None)
    for index, item in enumerate(timelines):
        if isinstance(item, Mapping):
            try:
                item = Timeline.from_dict(item)
            except TimelineError as exc:
                raise MetricsError(f"timelines[{index}]: {exc}") from None
        if not isinstance(item, Timeline):
            raise MetricsError(
                f"timelines[{index}]: expected a Timeline, got {type(item).__name__}"
            )
        if item.created_at > at:
            continue
        ticket = item.state_at(at)
        if ticket.category not in wanted:
            continue
        by_category[ticket.category.value] += 1
        age = _span(clock, ticket.created_at, at)
        ages.update(age)
        since_update.update(_span(clock, ticket.updated_at, at))
        slot = sum(1 for bound in bounds if age >= bound)
        counts[slot] += 1
    return BacklogResult(
        at=at,
        count=sum(counts),
        by_category=dict(sorted(by_category.items())),
        ages=ages.result(),
        ages_since_update=since_update.result(),
        bucket_bounds=bounds,
        buckets=tuple(zip(labels, counts, strict=True)),
        business=clock is not None,
    )
