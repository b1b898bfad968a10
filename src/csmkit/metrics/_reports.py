"""Reports: several metrics grouped by fields and time buckets, rankings and trends."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csmkit.errors import CsmkitError, MetricsError, TimelineError
from csmkit.metrics._accumulators import (
    DurationAccumulator,
    MeanAccumulator,
    ProportionAccumulator,
)
from csmkit.metrics._nps import NpsAccumulator
from csmkit.metrics._ratings import RatingAccumulator
from csmkit.metrics._snapshot import UNRESOLVED, feed_cycle, read_cycle
from csmkit.metrics._tickets import (
    DURATION_METRICS,
    BusinessClock,
    FcrRule,
    TicketMetrics,
    _span,
    iter_ticket_metrics,
    no_reopen_within,
)
from csmkit.timeline import StatusCategory, SurveyAnswered, SurveyKind, Timeline

__all__ = ["METRICS", "Table", "rank", "report", "trend"]

Bucket = Literal["day", "week", "month"]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _width(text: str) -> int:
    """Display width: East Asian wide and full-width characters (中文) take two columns."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


@attrs.frozen
class Table:
    """Plain rows with named columns that print as an aligned text table.

    Attributes:
        columns: Column names in order.
        rows: One dict per row.
    """

    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> Mapping[str, Any]:
        return self.rows[index]

    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows as a list of new dicts."""
        return [dict(row) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        """The values of one column."""
        if name not in self.columns:
            raise MetricsError(f"no column {name!r}; columns are {', '.join(self.columns)}")
        return [row.get(name) for row in self.rows]

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (needs the ``pandas`` extra)."""
        try:
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]
        except ImportError:  # pragma: no cover - depends on the environment
            raise MetricsError("to_pandas() needs pandas: pip install 'csmkit[pandas]'") from None
        return pd.DataFrame(self.to_dicts(), columns=list(self.columns))

    def __str__(self) -> str:
        cells = [[_cell(row.get(column)) for column in self.columns] for row in self.rows]
        widths = [
            max([_width(column)] + [_width(line[i]) for line in cells])
            for i, column in enumerate(self.columns)
        ]
        numeric = [
            all(
                isinstance(row.get(column), (int, float, timedelta)) or row.get(column) is None
                for row in self.rows
            )
            for column in self.columns
        ]

        def line(values: Sequence[str]) -> str:
            parts = [
                _pad(value, width, right)
                for value, width, right in zip(values, widths, numeric, strict=True)
            ]
            return "  ".join(parts).rstrip()

        out = [line(self.columns), line(["-" * width for width in widths])]
        out.extend(line(values) for values in cells)
        return "\n".join(out)


# --------------------------------------------------------------------------- metric specs
@attrs.frozen
class _Row:
    """What a metric may read about one ticket."""

    metrics: TicketMetrics
    timeline: Timeline | None
    sla: Any  # the ticket's SLA report (anything with .cycles), or None
    clock: BusinessClock | None
    now: datetime | None


@attrs.frozen
class _Spec:
    name: str
    make: Callable[[], Any]
    feed: Callable[[Any, _Row], None]
    higher_is_better: bool
    kind: str  # "rate", "duration", "mean", "count", "score"
    needs_now: bool = False
    needs_sla: bool = False


def _duration_spec(name: str, attribute: str, business: bool) -> _Spec:
    def feed(accumulator: DurationAccumulator, row: _Row) -> None:
        accumulator.update(getattr(row.metrics, attribute))

    return _Spec(
        name, lambda: DurationAccumulator(name, business=business), feed, False, "duration"
    )


def _latest(timeline: Timeline | None, kind: SurveyKind) -> float | None:
    for event in reversed(timeline.events if timeline is not None else ()):
        if isinstance(event, SurveyAnswered) and event.survey is kind:
            return event.score
    return None


def _rule(name: str) -> FcrRule:
    rule_name = name[4:-1] if name.startswith("fcr[") and name.endswith("]") else "one_touch"
    if rule_name.startswith("no_reopen_within(") and rule_name.endswith(")"):
        try:
            return no_reopen_within(float(rule_name[17:-1]))
        except ValueError:
            raise MetricsError(
                f"bad FCR window in {name!r}; pass no_reopen_within(days, business_day=...) "
                "itself for business days"
            ) from None
    return FcrRule.coerce(rule_name)


def _fcr_spec(rule: FcrRule) -> _Spec:
    def feed_fcr(accumulator: ProportionAccumulator, row: _Row) -> None:
        verdict = rule.evaluate(row.metrics, row.clock)
        if verdict is None:
            accumulator.skipped += 1
        else:
            accumulator.update(verdict)

    needs_now = rule.name == "no_reopen_within"
    return _Spec(
        rule.label, lambda: ProportionAccumulator(rule.label), feed_fcr, True, "rate", needs_now
    )


def _sla_spec(name: str, target: str, count_running_breached: bool) -> _Spec:
    def feed_sla(accumulator: ProportionAccumulator, row: _Row) -> None:
        for index, cycle in enumerate(row.sla.cycles if row.sla is not None else ()):
            found, state, breached = read_cycle(
                cycle, f"SLA report of {row.metrics.ticket_id!r}, cycles[{index}]"
            )
            if found == target:
                feed_cycle(accumulator, state, breached, count_running_breached)

    return _Spec(
        name, lambda: ProportionAccumulator(name), feed_sla, True, "rate", True, needs_sla=True
    )


def _backlog_specs(name: str, business: bool, categories: frozenset[StatusCategory]) -> _Spec:
    def in_backlog(row: _Row) -> bool:
        return row.metrics.ticket.category in categories

    if name == "backlog":

        def feed_count(accumulator: MeanAccumulator, row: _Row) -> None:
            if in_backlog(row):
                accumulator.update(1)

        return _Spec(name, lambda: MeanAccumulator(name), feed_count, False, "count", True)

    def feed_age(accumulator: DurationAccumulator, row: _Row) -> None:
        if in_backlog(row):
            assert row.now is not None
            ticket = row.metrics.ticket
            source = ticket.created_at if name == "backlog_age" else ticket.updated_at
            accumulator.update(_span(row.clock, source, row.now))

    return _Spec(
        name,
        lambda: DurationAccumulator(name, business=business),
        feed_age,
        False,
        "duration",
        True,
    )


def _survey_spec(name: str) -> _Spec:
    kind = _SURVEYS[name]

    def make() -> Any:
        if name == "nps":
            return NpsAccumulator()
        if name == "csat":
            return RatingAccumulator("csat")
        return RatingAccumulator("ces", convention="mean")

    def feed(accumulator: Any, row: _Row) -> None:
        answer = _latest(row.timeline, kind)
        if answer is None:
            accumulator.missing += 1
        else:
            accumulator.update(answer)

    return _Spec(name, make, feed, True, "score")


def _spec(
    name: str | FcrRule,
    business: bool,
    *,
    count_running_breached: bool = True,
    backlog_categories: frozenset[StatusCategory] = frozenset(UNRESOLVED),
) -> _Spec:
    if isinstance(name, FcrRule):
        return _fcr_spec(name)
    if not isinstance(name, str):
        raise MetricsError(f"a metric is a name or an FcrRule, got {name!r}")
    if name in DURATION_METRICS:
        return _duration_spec(name, DURATION_METRICS[name], business)
    if name == "fcr" or name.startswith("fcr["):
        spec = _fcr_spec(_rule(name))
        return attrs.evolve(spec, name=name)
    if name.startswith("sla[") and name.endswith("]") and len(name) > 5:
        return _sla_spec(name, name[4:-1], count_running_breached)
    if name in ("backlog", "backlog_age", "backlog_age_since_update"):
        return _backlog_specs(name, business, backlog_categories)
    if name in _SURVEYS:
        return _survey_spec(name)
    if name == "reopen_rate":

        def feed_reopen(accumulator: ProportionAccumulator, row: _Row) -> None:
            if row.metrics.first_resolved_at is None:
                accumulator.skipped += 1
            else:
                accumulator.update(row.metrics.reopens > 0)

        return _Spec(name, lambda: ProportionAccumulator(name), feed_reopen, False, "rate")
    if name in ("agent_replies", "agent_touches", "reopens", "customer_followups"):

        def feed_mean(accumulator: MeanAccumulator, row: _Row) -> None:
            accumulator.update(getattr(row.metrics, name))

        return _Spec(name, lambda: MeanAccumulator(name), feed_mean, False, "mean")
    if name == "tickets":

        def feed_count(accumulator: MeanAccumulator, row: _Row) -> None:
            accumulator.update(1)

        return _Spec(name, lambda: MeanAccumulator(name), feed_count, True, "count")
    raise MetricsError(f"unknown metric {name!r}; use one of {', '.join(METRICS)}")


_SURVEYS = {"csat": SurveyKind.CSAT, "nps": SurveyKind.NPS, "ces": SurveyKind.CES}

METRICS: tuple[str, ...] = (
    "tickets",
    *DURATION_METRICS,
    "fcr",
    "fcr[one_touch]",
    "fcr[one_agent_reply]",
    "fcr[no_customer_followup]",
    "fcr[no_reopen_within(DAYS)]",
    "fcr[survey]",
    "fcr[survey(FIELD)]",
    "reopen_rate",
    "agent_replies",
    "agent_touches",
    "customer_followups",
    "reopens",
    "csat",
    "nps",
    "ces",
    "sla[TARGET]",
    "backlog",
    "backlog_age",
    "backlog_age_since_update",
)
"""Metric names :func:`report` understands (an :class:`FcrRule` object works too)."""


def _columns(name: str, result: Any, kind: str, confidence: float) -> dict[str, Any]:
    if kind == "count":
        return {name: result.n}
    if kind == "duration":
        low_mean, high_mean = result.interval(confidence) if result.n >= 2 else (None, None)
        return {
            f"{name}_n": result.n,
            f"{name}_median": result.median,
            f"{name}_p90": result.p90,
            f"{name}_mean": result.mean,
            f"{name}_low": low_mean,
            f"{name}_high": high_mean,
        }
    n = result.n
    low = high = None
    if n >= (2 if kind == "mean" or getattr(result, "convention", "") == "mean" else 1):
        low, high = result.interval(confidence)
    return {name: result.score, f"{name}_n": n, f"{name}_low": low, f"{name}_high": high}


def _walk(ticket: Any, path: str) -> Any:
    value = ticket
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        if value is None:
            return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _bucket_label(instant: datetime, bucket: Bucket, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone).date()
    if bucket == "day":
        return local.isoformat()
    if bucket == "week":
        monday = local - timedelta(days=local.weekday())
        return monday.isoformat()
    if bucket == "month":
        return f"{local.year:04d}-{local.month:02d}"
    raise MetricsError(f"bucket must be 'day', 'week' or 'month', got {bucket!r}")


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MetricsError(f"unknown time zone {tz!r}") from None


def _timelines(items: Iterable[Any]) -> list[Any]:
    if isinstance(items, (str, bytes, Timeline)) or not isinstance(items, Iterable):
        raise MetricsError(f"expected an iterable of timelines, got {type(items).__name__}")
    out: list[Any] = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            try:
                item = Timeline.from_dict(item)
            except TimelineError as exc:
                raise MetricsError(f"timelines[{index}]: {exc}") from None
        out.append(item)
    return out


def _sla_report(source: Any, timeline: Timeline | None, clock: Any, now: datetime) -> Any:
    if timeline is None:
        raise MetricsError("SLA metrics need timelines, not precomputed ticket metrics")
    if isinstance(source, Mapping):
        return source.get(timeline.ticket_id)
    if callable(getattr(source, "evaluate", None)):
        try:
            return source.evaluate(timeline, calendar=clock, now=now)
        except CsmkitError as exc:
            raise MetricsError(f"SLA evaluation failed: {exc}") from None
    raise MetricsError(
        "sla= must be an SlaPolicy / SlaPolicySet (anything with evaluate(timeline, "
        f"calendar=, now=)) or a mapping of ticket id to SLA report, got {source!r}"
    )


def report(
    timelines: Iterable[Any],
    metrics: Sequence[str | FcrRule],
    *,
    by: Sequence[str] = (),
    bucket: Bucket | None = None,
    tz: str | ZoneInfo = "UTC",
    bucket_on: Literal["created", "first_resolved"] = "created",
    clock: BusinessClock | None = None,
    now: datetime | None = None,
    confidence: float = 0.95,
    sla: Any = None,
    count_running_breached: bool = True,
    backlog_categories: Iterable[StatusCategory | str] = UNRESOLVED,
) -> Table:
    """Compute several metrics per group in one pass over the timelines.

    Args:
        timelines: Timelines (or their dict forms).
        metrics: Names from :data:`METRICS` (``"fcr[no_reopen_within(3)]"`` with a number,
            ``"sla[first_response]"`` with an SLA target name) or :class:`FcrRule` objects
            (e.g. ``no_reopen_within(3, business_day=timedelta(hours=9))``; the column is
            the rule's ``label``).
        by: Ticket attributes or dotted paths to group by (``"channel"``, ``"assignee"``,
            ``"priority"``, ``"fields.region"``); values as of ``now`` when given.
        bucket: ``"day"``, ``"week"`` (labelled by its Monday) or ``"month"``.
        tz: Time zone of the buckets.
        bucket_on: Which instant puts a ticket in a bucket; tickets without it (never
            resolved) are left out.
        clock: Business clock for durations, backlog ages and business-day windows; also
            the ``calendar`` handed to the SLA policy.
        now: Evaluation instant; required by ``backlog*``, ``sla[...]`` and
            ``no_reopen_within`` metrics.
        confidence: Level of the ``_low``/``_high`` interval columns.
        sla: For ``sla[TARGET]``: an :class:`~csmkit.sla.SlaPolicy` or
            :class:`~csmkit.sla.SlaPolicySet` (evaluated per ticket with
            ``calendar=clock, now=now``), or a mapping of ticket id to SLA report.
        count_running_breached: As in :func:`sla_attainment`.
        backlog_categories: Status categories that count as backlog (as in
            :func:`backlog`).

    Returns:
        A :class:`Table`: the group columns, then per metric ``name``/``name_n``/
        ``name_low``/``name_high`` (rates in percent, scores) or ``name_n``/``_median``/
        ``_p90``/``_mean``/``_low``/``_high`` (durations; the interval is the mean's) or
        ``name`` alone (counts: ``tickets``, ``backlog``). Rows are sorted by group.
        With ``bucket``, backlog and SLA rows are cohorts: the tickets created (or first
        resolved) in the bucket, their backlog as of ``now``, their SLA cycles.
    """
    if isinstance(metrics, str) or not metrics:
        raise MetricsError("report needs a list of at least one metric")
    try:
        categories = frozenset(StatusCategory(c) for c in backlog_categories)
    except ValueError as exc:
        raise MetricsError(f"backlog_categories: {exc}") from None
    specs = [
        _spec(
            name,
            clock is not None,
            count_running_breached=count_running_breached,
            backlog_categories=categories,
        )
        for name in metrics
    ]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise MetricsError(f"metrics: duplicate names in {names}")
    if now is None and any(spec.needs_now for spec in specs):
        needing = [spec.name for spec in specs if spec.needs_now]
        raise MetricsError(f"metrics {needing} need now= (the evaluation instant)")
    needs_sla = any(spec.needs_sla for spec in specs)
    if needs_sla and sla is None:
        raise MetricsError("sla[...] metrics need sla= (a policy, policy set or reports)")
    zone = _zone(tz)
    if bucket is not None and bucket not in ("day", "week", "month"):
        raise MetricsError(f"bucket must be 'day', 'week' or 'month', got {bucket!r}")
    if bucket_on not in ("created", "first_resolved"):
        raise MetricsError(f"bucket_on must be 'created' or 'first_resolved', got {bucket_on!r}")
    groups: dict[tuple[Any, ...], list[Any]] = {}
    timeline_list = _timelines(timelines)
    for index, metrics_row in enumerate(iter_ticket_metrics(timeline_list, clock=clock, now=now)):
        key: list[Any] = [_walk(metrics_row.ticket, path) for path in by]
        if bucket is not None:
            instant = (
                metrics_row.ticket.created_at
                if bucket_on == "created"
                else metrics_row.first_resolved_at
            )
            if instant is None:
                continue
            key.append(_bucket_label(instant, bucket, zone))
        found = groups.get(tuple(key))
        if found is None:
            accumulators = [spec.make() for spec in specs]
            groups[tuple(key)] = accumulators
        else:
            accumulators = found
        item = timeline_list[index]
        timeline = item if isinstance(item, Timeline) else None
        sla_report = None
        if needs_sla:
            assert now is not None
            try:
                sla_report = _sla_report(sla, timeline, clock, now)
            except MetricsError as exc:
                raise MetricsError(f"timelines[{index}]: {exc}") from None
        row = _Row(metrics_row, timeline, sla_report, clock, now)
        for spec, accumulator in zip(specs, accumulators, strict=True):
            try:
                spec.feed(accumulator, row)
            except MetricsError as exc:
                raise MetricsError(
                    f"timelines[{index}] ({metrics_row.ticket_id!r}), {spec.name}: {exc}"
                ) from None
    key_columns = [*by, *([bucket] if bucket is not None else [])]
    rows = []
    value_columns: list[str] = []
    for spec in specs:
        value_columns.extend(_columns(spec.name, spec.make().result(), spec.kind, confidence))
    for group_key, group in sorted(groups.items(), key=lambda item: _sort_key(item[0])):
        out: dict[str, Any] = dict(zip(key_columns, group_key, strict=True))
        for spec, accumulator in zip(specs, group, strict=True):
            out.update(_columns(spec.name, accumulator.result(), spec.kind, confidence))
        rows.append(out)
    return Table(tuple(key_columns + value_columns), tuple(rows))


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if part is None else (1, str(part)) for part in key)


def rank(
    timelines: Iterable[Any],
    by: str,
    metric: str | FcrRule,
    *,
    min_n: int = 30,
    confidence: float = 0.95,
    clock: BusinessClock | None = None,
    now: datetime | None = None,
    sla: Any = None,
) -> Table:
    """Rank groups (agents, teams …) by a confidence bound instead of the raw score.

    For metrics where higher is better (FCR, SLA attainment, CSAT, NPS …) groups are
    ordered by the lower bound of their interval, descending; where lower is better
    (reopen rate, durations, mean counts) by the upper bound, ascending — for durations
    the upper bound of the mean's t interval. Groups with fewer than ``min_n``
    observations (at least 2 where the interval needs them) are left out — a raw
    average over three tickets rewards luck. Ties keep the group order.

    Returns:
        A :class:`Table` with ``rank``, the group, the metric's columns and ``bound``
        (a timedelta for durations, percent or score units otherwise).

    Raises:
        MetricsError: ``min_n`` is not a positive integer, or the metric is a count.
    """
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise MetricsError(f"min_n must be a positive integer, got {min_n!r}")
    spec = _spec(metric, clock is not None)
    if spec.kind == "count":
        raise MetricsError(f"{spec.name!r} is a count; rank by a rate, score or duration")
    table = report(
        timelines, [metric], by=[by], clock=clock, now=now, confidence=confidence, sla=sla
    )
    name = spec.name
    rows = []
    for row in table.rows:
        if row[f"{name}_n"] < min_n or row[f"{name}_low"] is None:
            continue
        bound = row[f"{name}_low"] if spec.higher_is_better else row[f"{name}_high"]
        rows.append({**row, "bound": bound})
    rows.sort(key=lambda r: r["bound"], reverse=spec.higher_is_better)
    ranked = [{"rank": i + 1, **row} for i, row in enumerate(rows)]
    return Table(("rank", *table.columns, "bound"), tuple(ranked))


def trend(
    timelines: Iterable[Any],
    metric: str | FcrRule,
    *,
    bucket: Bucket = "week",
    tz: str | ZoneInfo = "UTC",
    by: Sequence[str] = (),
    clock: BusinessClock | None = None,
    now: datetime | None = None,
    confidence: float = 0.95,
    sla: Any = None,
) -> Table:
    """One metric per time bucket (per group), with the change from the previous bucket.

    Adds a ``change`` column: the score (or median for durations) minus the previous
    bucket's in the same group, ``None`` for the first bucket.
    """
    spec = _spec(metric, clock is not None)
    table = report(
        timelines,
        [metric],
        by=by,
        bucket=bucket,
        tz=tz,
        clock=clock,
        now=now,
        confidence=confidence,
        sla=sla,
    )
    value_column = f"{spec.name}_median" if spec.kind == "duration" else spec.name
    if value_column not in table.columns:
        raise MetricsError(f"metric {metric!r} has no single value to trend")
    previous: dict[tuple[Any, ...], Any] = {}
    rows = []
    for row in table.rows:
        group = tuple(row[name] for name in by)
        value = row[value_column]
        before = previous.get(group)
        change = None if before is None or value is None else value - before
        previous[group] = value
        rows.append({**row, "change": change})
    return Table((*table.columns, "change"), tuple(rows))
