"""The mergeable state of a report: tickets folded one at a time, partitions merged.

[`report()`][csmkit.metrics.report] is this accumulator fed every timeline. A ticket is
measured as soon as it arrives and then forgotten: only the per-group accumulators stay.
With ``now="latest"`` (the evaluation instant is the latest event of all tickets, known
only at the end) a ticket whose figures depend on ``now`` -- one not yet solved or
closed, or any ticket under an SLA or ``no_reopen_within`` metric -- is kept until
[`result()`][csmkit.metrics.ReportAccumulator.result]: memory is bounded by the groups and
those open tickets, not by the number of tickets.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from csmkit.errors import MetricsError, TimelineError
from csmkit.metrics._fcr import FcrRule
from csmkit.metrics._grouping import GroupPaths
from csmkit.metrics._snapshot import UNRESOLVED
from csmkit.metrics._specs import Row, Spec, make_spec, metric_columns
from csmkit.metrics._surveys import Survey, SurveyChoice
from csmkit.metrics._table import Table
from csmkit.metrics._tickets import BusinessClock, TicketMetrics, ticket_metrics
from csmkit.timeline import StatusCategory, Timeline

__all__ = ["ReportAccumulator", "bucket_label", "zone_of"]

Bucket = Literal["day", "week", "month"]
Surveys = Survey | Iterable[Survey] | Mapping[str, Survey | Iterable[Survey]] | None
Now = datetime | Literal["latest"] | None


def zone_of(tz: str | ZoneInfo) -> ZoneInfo:
    """``tz`` as a ZoneInfo, or a MetricsError naming it."""
    from csmkit.metrics._reports import _zone

    return _zone(tz)


def bucket_label(instant: datetime, bucket: Bucket, zone: ZoneInfo) -> str:
    """The label of ``instant``'s day, week (its Monday) or month in ``zone``."""
    from csmkit.metrics._reports import _bucket_label

    return _bucket_label(instant, bucket, zone)


class ReportAccumulator:
    """The mergeable state of [`report()`][csmkit.metrics.report]: ``update`` / ``merge`` /
    ``result``.

    Takes the options of [`report()`][csmkit.metrics.report]; ``now`` may also be
    ``"latest"``: the latest event instant of all tickets fed (and merged), as
    ``csmkit report`` does without ``--now``. Accumulators built with the same options
    merge (for Dask partitions: map each partition to an accumulator, tree-reduce with
    [`merge()`][csmkit.metrics.ReportAccumulator.merge]); the result is identical however
    the tickets were partitioned. Accumulators pickle.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import TicketCreated, Timeline
        >>> t0 = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)
        >>> def ticket(name):
        ...     return Timeline([TicketCreated(ticket_id=name, at=t0, type="q", channel="email")])
        >>> left = ReportAccumulator(["tickets"], by=["channel"]).update(ticket("A"))
        >>> right = ReportAccumulator(["tickets"], by=["channel"]).update(ticket("B"))
        >>> left.merge(right).result().rows
        ({'channel': 'email', 'tickets': 2},)
    """

    def __init__(
        self,
        metrics: Sequence[str | FcrRule],
        *,
        by: Sequence[str] = (),
        bucket: Bucket | None = None,
        tz: str | ZoneInfo = "UTC",
        bucket_on: Literal["created", "first_resolved"] = "created",
        clock: BusinessClock | None = None,
        now: Now = None,
        confidence: float = 0.95,
        sla: Any = None,
        count_running_breached: bool = True,
        backlog_categories: Iterable[StatusCategory | str] = UNRESOLVED,
        surveys: Surveys = None,
    ) -> None:
        if isinstance(metrics, str) or not metrics:
            raise MetricsError("report needs a list of at least one metric")
        try:
            categories = frozenset(StatusCategory(c) for c in backlog_categories)
        except ValueError as exc:
            raise MetricsError(f"backlog_categories: {exc}") from None
        self._options: dict[str, Any] = {
            "metrics": list(metrics),
            "by": list(by) if not isinstance(by, str) else by,
            "bucket": bucket,
            "tz": tz,
            "bucket_on": bucket_on,
            "clock": clock,
            "now": now,
            "confidence": confidence,
            "sla": sla,
            "count_running_breached": count_running_breached,
            "backlog_categories": categories,
            "surveys": surveys,
        }
        self._setup()
        needing = [spec.name for spec in self._specs if spec.needs_now]
        if now is None and needing:
            raise MetricsError(f"metrics {needing} need now= (the evaluation instant)")
        if self._needs_sla and sla is None:
            raise MetricsError("sla[...] metrics need sla= (a policy, policy set or reports)")
        self._zone = zone_of(tz)
        if bucket is not None and bucket not in ("day", "week", "month"):
            raise MetricsError(f"bucket must be 'day', 'week' or 'month', got {bucket!r}")
        if bucket_on not in ("created", "first_resolved"):
            raise MetricsError(
                f"bucket_on must be 'created' or 'first_resolved', got {bucket_on!r}"
            )
        self._paths = GroupPaths(self._options["by"])
        self._reads = [GroupPaths(spec.reads, what=spec.name) for spec in self._specs if spec.reads]
        self._groups: dict[tuple[Any, ...], list[Any]] = {}
        self._deferred: list[tuple[int, Timeline]] = []
        self.tickets = 0
        """How many tickets were fed (and merged) so far."""
        self.latest: datetime | None = None
        """The latest event instant of the tickets fed (and merged)."""
        self._settled: datetime | None = None  # settle()'s now: no later event may come

    def _setup(self) -> None:
        """Derived, unpicklable parts (the specs hold closures): rebuilt after unpickling."""
        options = self._options
        choice = SurveyChoice(options["surveys"])
        self._specs: list[Spec] = [
            make_spec(
                name,
                options["clock"] is not None,
                count_running_breached=options["count_running_breached"],
                backlog_categories=options["backlog_categories"],
                surveys=choice,
            )
            for name in options["metrics"]
        ]
        names = [spec.name for spec in self._specs]
        if len(set(names)) != len(names):
            raise MetricsError(f"metrics: duplicate names in {names}")
        self._needs_sla = any(spec.needs_sla for spec in self._specs)
        done = {category for category in StatusCategory if category.is_done}
        # Figures of a solved ticket that still depend on now (windows, SLA clocks, a
        # backlog that counts done categories): such tickets wait for the final now.
        self._done_waits = any(
            spec.needs_sla or (spec.needs_now and not spec.name.startswith("backlog"))
            for spec in self._specs
        ) or bool(options["backlog_categories"] & done)

    def __getstate__(self) -> dict[str, Any]:
        state = {key: value for key, value in vars(self).items() if key != "_specs"}
        state.pop("_zone", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        if "_settled" not in state:
            self._settled = None
        self._setup()
        self._zone = zone_of(self._options["tz"])

    def _copy(self) -> ReportAccumulator:
        """A copy whose group state can change without touching this one."""
        new = object.__new__(ReportAccumulator)
        vars(new).update(vars(self))
        new._groups = copy.deepcopy(self._groups)
        new._paths = copy.deepcopy(self._paths)
        new._reads = copy.deepcopy(self._reads)
        new._deferred = list(self._deferred)
        return new

    # ------------------------------------------------------------------ feeding
    def update(self, timeline: Timeline | TicketMetrics | Mapping[str, Any]) -> ReportAccumulator:
        """Fold one ticket (a Timeline, its ``to_dict()`` form, or its TicketMetrics).

        Raises:
            MetricsError: the ticket cannot be measured; the message gives its position
                (``timelines[i]``) among the tickets fed.
        """
        index = self.tickets
        if isinstance(timeline, Mapping):
            try:
                timeline = Timeline.from_dict(timeline)
            except TimelineError as exc:
                raise MetricsError(f"timelines[{index}]: {exc}") from None
        now = self._options["now"]
        if isinstance(timeline, TicketMetrics):
            if now == "latest":
                raise MetricsError(
                    f"timelines[{index}]: now='latest' needs timelines, not ticket metrics"
                )
            self.tickets += 1
            self._feed(index, timeline, None, now)
            return self
        if not isinstance(timeline, Timeline):
            raise MetricsError(
                f"timelines[{index}]: expected a Timeline, got {type(timeline).__name__} "
                f"{timeline!r}"
            )
        self.tickets += 1
        if now == "latest":
            last = timeline.events[-1].at
            self._check_settled(last)
            if self.latest is None or last > self.latest:
                self.latest = last
            if self._done_waits or not timeline.ticket.category.is_done:
                self._deferred.append((index, timeline))
                return self
            now = last  # a done ticket measures the same at any later now
        self._measure(index, timeline, now)
        return self

    def update_many(self, timelines: Iterable[Any]) -> ReportAccumulator:
        """[`update()`][csmkit.metrics.ReportAccumulator.update] each of ``timelines``."""
        if isinstance(timelines, (str, bytes, Timeline)) or not isinstance(timelines, Iterable):
            raise MetricsError(f"expected an iterable of timelines, got {type(timelines).__name__}")
        for timeline in timelines:
            self.update(timeline)
        return self

    def _measure(self, index: int, timeline: Timeline, now: datetime | None) -> None:
        clock = self._options["clock"]
        if clock is not None and not isinstance(clock, BusinessClock):
            raise MetricsError(f"clock must have between(start, end), got {clock!r}")
        try:
            measured = ticket_metrics(timeline, clock=clock, now=now)
        except MetricsError as exc:
            raise MetricsError(f"timelines[{index}] ({timeline.ticket_id!r}): {exc}") from None
        self._feed(index, measured, timeline, now)

    def _feed_measured(
        self, measured: TicketMetrics, timeline: Any, sla_report: Any, now: datetime
    ) -> None:
        """Fold one ticket that a loader measured itself at this report's ``now``
        (``csmkit.io``'s fast path): ``timeline`` holds the ticket's survey answers
        (``.events``), ``sla_report`` its SLA cycles (``.cycles``), as the metric feeds
        read them."""
        index = self.tickets
        self.tickets += 1
        self._feed(index, measured, timeline, now, sla_report)

    def _feed(
        self,
        index: int,
        measured: TicketMetrics,
        timeline: Timeline | None,
        now: datetime | None,
        sla_report: Any = None,
    ) -> None:
        from csmkit.metrics._reports import _sla_report

        options = self._options
        key: list[Any] = self._paths.key(measured.ticket)
        for filtered in self._reads:
            filtered.key(measured.ticket)
        bucket = options["bucket"]
        if bucket is not None:
            instant = (
                measured.ticket.created_at
                if options["bucket_on"] == "created"
                else measured.first_resolved_at
            )
            if instant is None:
                return
            key.append(bucket_label(instant, bucket, self._zone))
        group_key = tuple(key)
        accumulators = self._groups.get(group_key)
        if accumulators is None:
            accumulators = self._groups[group_key] = [spec.make() for spec in self._specs]
        if self._needs_sla and sla_report is None:
            assert now is not None
            try:
                sla_report = _sla_report(options["sla"], timeline, options["clock"], now)
            except MetricsError as exc:
                raise MetricsError(f"timelines[{index}]: {exc}") from None
        row = Row(measured, timeline, sla_report, options["clock"], now)
        for spec, accumulator in zip(self._specs, accumulators, strict=True):
            try:
                spec.feed(accumulator, row)
            except MetricsError as exc:
                raise MetricsError(
                    f"timelines[{index}] ({measured.ticket_id!r}), {spec.name}: {exc}"
                ) from None

    # ------------------------------------------------------------------ combining
    def _same_options(self, other: ReportAccumulator) -> bool:
        mine, theirs = self._options, other._options
        return all(mine[key] is theirs[key] or mine[key] == theirs[key] for key in mine)

    def merge(self, other: ReportAccumulator) -> ReportAccumulator:
        """Add ``other``'s tickets (in place; ``other`` is left unchanged).

        Raises:
            MetricsError: ``other`` is not a ReportAccumulator with the same options, or a
                group holds survey answers of two definitions.
        """
        if not isinstance(other, ReportAccumulator) or not self._same_options(other):
            raise MetricsError(
                "cannot merge: both accumulators must be ReportAccumulators built with the "
                "same options"
            )
        settled = [at for at in (self._settled, other._settled) if at is not None]
        if settled:
            for at in (self.latest, other.latest):
                if at is not None:
                    self._check_settled(at, min(settled))
            settled_at = min(settled)
        for key, theirs in other._groups.items():
            mine = self._groups.get(key)
            if mine is None:
                self._groups[key] = copy.deepcopy(theirs)
                continue
            for accumulator, addition in zip(mine, theirs, strict=True):
                accumulator.merge(addition)
        self._paths.merge(other._paths)
        for mine_paths, their_paths in zip(self._reads, other._reads, strict=True):
            mine_paths.merge(their_paths)
        if settled:
            self._settled = settled_at
        self._deferred.extend(other._deferred)
        self.tickets += other.tickets
        if other.latest is not None and (self.latest is None or other.latest > self.latest):
            self.latest = other.latest
        return self

    def settle(self, now: datetime | None = None) -> ReportAccumulator:
        """A copy whose tickets kept for ``now="latest"`` are measured at ``now`` (default:
        the latest event so far); ``self`` is left unchanged.

        A partition settled at the latest instant of *all* partitions (known once each was
        read: the maximum of their [`latest`][csmkit.metrics.ReportAccumulator.latest])
        merges into the same table as the unsettled one, without shipping its open
        tickets back: Dask settles each partition on its worker.

        Raises:
            MetricsError: ``now`` is earlier than a kept ticket's events, or a kept ticket
                cannot be measured.
        """
        if not self._deferred:
            return self
        when = self.latest if now is None else now
        if when is None or (self.latest is not None and when < self.latest):
            raise MetricsError(
                f"settle(now={when!r}): now must be at or after the latest event ({self.latest!r})"
            )
        target = self._copy()
        for index, timeline in sorted(target._deferred, key=lambda item: item[0]):
            target._measure(index, timeline, when)
        target._deferred = []
        target.latest = when
        target._settled = when
        return target

    def _check_settled(self, at: datetime, settled: datetime | None = None) -> None:
        settled = self._settled if settled is None else settled
        if settled is not None and at > settled:
            raise MetricsError(
                f"an event at {at.isoformat()} is later than the now={settled.isoformat()} "
                "this report's open tickets were measured at (settle() comes last)"
            )

    def result(self) -> Table:
        """The report table so far (as [`report()`][csmkit.metrics.report] returns it).

        Raises:
            MetricsError: a ``by`` path no ticket has, or a ticket kept for ``now="latest"``
                cannot be measured.
        """
        target = self
        if self._deferred:
            target = self._copy()
            now = self.latest
            for index, timeline in sorted(target._deferred, key=lambda item: item[0]):
                target._measure(index, timeline, now)
            target._deferred = []
        for checked in (target._paths, *target._reads):
            checked.check()
        return target._table()

    def _table(self) -> Table:
        options = self._options
        confidence = options["confidence"]
        bucket = options["bucket"]
        key_columns = [*self._paths.paths, *([bucket] if bucket is not None else [])]
        value_columns: list[str] = []
        for spec in self._specs:
            value_columns.extend(
                metric_columns(spec.name, spec.make().result(), spec.kind, confidence)
            )
        rows = []
        for group_key, group in sorted(self._groups.items(), key=lambda item: _sort_key(item[0])):
            out: dict[str, Any] = dict(zip(key_columns, group_key, strict=True))
            for spec, accumulator in zip(self._specs, group, strict=True):
                out.update(metric_columns(spec.name, accumulator.result(), spec.kind, confidence))
            rows.append(out)
        return Table(tuple(key_columns + value_columns), tuple(rows))

    @property
    def now(self) -> datetime | None:
        """The evaluation instant: the one given, or the latest event so far."""
        given = self._options["now"]
        return self.latest if given == "latest" else given


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if part is None else (1, str(part)) for part in key)
