"""Reports: several metrics grouped by fields and time buckets, rankings and trends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csmkit.errors import CsmkitError, MetricsError, TimelineError
from csmkit.metrics._fcr import FcrRule
from csmkit.metrics._snapshot import UNRESOLVED
from csmkit.metrics._specs import METRICS, make_spec
from csmkit.metrics._surveys import Survey
from csmkit.metrics._table import Table
from csmkit.metrics._tickets import BusinessClock
from csmkit.timeline import StatusCategory, Timeline

__all__ = ["METRICS", "Table", "rank", "report", "trend"]

Bucket = Literal["day", "week", "month"]
Surveys = Survey | Iterable[Survey] | Mapping[str, Survey | Iterable[Survey]] | None


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
    surveys: Surveys = None,
) -> Table:
    """Compute several metrics per group in one pass over the timelines.

    Args:
        timelines: Timelines (or their dict forms).
        metrics: Names from [`METRICS`][csmkit.metrics.METRICS] (``"fcr[no_reopen_within(3)]"`` with
            a number, ``"sla[first_response]"`` with an SLA target name) or
            [`FcrRule`][csmkit.metrics.FcrRule] objects (e.g. ``no_reopen_within(3,
            business_day=timedelta(hours=9))``; the column is the rule's ``label``).
        by: Ticket attributes or dotted paths to group by (``"channel"``, ``"assignee"``,
            ``"priority"``, ``"fields.region"``); values as of ``now`` when given.
            Tickets without the field fall in a group whose value is ``None``; a name
            that *no* ticket has is an error (a typo must not give one blank group).
        bucket: ``"day"``, ``"week"`` (labelled by its Monday) or ``"month"``.
        tz: Time zone of the buckets.
        bucket_on: Which instant puts a ticket in a bucket; tickets without it (never
            resolved) are left out.
        clock: Business clock for durations, backlog ages and business-day windows; also
            the ``calendar`` handed to the SLA policy.
        now: Evaluation instant; required by ``backlog*``, ``sla[...]`` and
            ``no_reopen_within`` metrics.
        confidence: Level of the ``_low``/``_high`` interval columns.
        sla: For ``sla[TARGET]``: an [`SlaPolicy`][csmkit.sla.SlaPolicy] or
            [`SlaPolicySet`][csmkit.sla.SlaPolicySet] (evaluated per ticket with
            ``calendar=clock, now=now``), or a mapping of ticket id to SLA report.
        count_running_breached: As in [`sla_attainment()`][csmkit.metrics.sla_attainment].
        backlog_categories: Status categories that count as backlog (as in
            [`backlog()`][csmkit.metrics.backlog]).
        surveys: The survey definitions ([`Survey`][csmkit.metrics.Survey]) of ``csat``, ``nps`` and
            ``ces``: one survey or several (every ticket type), or a mapping of ticket
            type to survey(s) with ``"*"`` for the other types. An answer is read
            under the survey its ``meta`` names (or the only one of its kind); without
            one, the defaults of [`csat()`][csmkit.metrics.csat] (1–5, top box),
            [`nps()`][csmkit.metrics.nps] and [`ces()`][csmkit.metrics.ces] (1–7, mean). Answers of
            two definitions in one group are an error, as is an answer stamped with another scale
            than its definition's.

    Returns:
        A [`Table`][csmkit.metrics.Table]: the group columns, then per metric ``name``/``name_n``/
        ``name_low``/``name_high`` (rates in percent, scores) or ``name_n``/``_median``/
        ``_p90``/``_mean``/``_low``/``_high`` (durations; the interval is the mean's) or
        ``name`` alone (counts: ``tickets``, ``backlog``). Rows are sorted by group.
        With ``bucket``, backlog and SLA rows are cohorts: the tickets created (or first
        resolved) in the bucket, their backlog as of ``now``, their SLA cycles.

    Raises:
        MetricsError: an unknown metric or option; a ``by`` path, or the field of an
            ``fcr[survey(FIELD)]`` rule, that no ticket has (the message names it and
            suggests the closest names that exist).
    """
    from csmkit.metrics._streaming import ReportAccumulator

    accumulator = ReportAccumulator(
        metrics,
        by=by,
        bucket=bucket,
        tz=tz,
        bucket_on=bucket_on,
        clock=clock,
        now=now,
        confidence=confidence,
        sla=sla,
        count_running_breached=count_running_breached,
        backlog_categories=backlog_categories,
        surveys=surveys,
    )
    return accumulator.update_many(timelines).result()


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
    surveys: Surveys = None,
) -> Table:
    """Rank groups (agents, teams …) by a confidence bound instead of the raw score.

    For metrics where higher is better (FCR, SLA attainment, CSAT, NPS …) groups are
    ordered by the lower bound of their interval, descending; where lower is better
    (reopen rate, durations, mean counts) by the upper bound, ascending — for durations
    the upper bound of the mean's t interval. Groups with fewer than ``min_n``
    observations (at least 2 where the interval needs them) are left out — a raw
    average over three tickets rewards luck. Ties keep the group order. ``clock``,
    ``now``, ``sla`` and ``surveys`` are as in [`report()`][csmkit.metrics.report].

    Returns:
        A [`Table`][csmkit.metrics.Table] with ``rank``, the group, the metric's columns and
        ``bound`` (a timedelta for durations, percent or score units otherwise).

    Raises:
        MetricsError: ``min_n`` is not a positive integer, or the metric is a count.
    """
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise MetricsError(f"min_n must be a positive integer, got {min_n!r}")
    spec = make_spec(metric, clock is not None)
    if spec.kind == "count":
        raise MetricsError(f"{spec.name!r} is a count; rank by a rate, score or duration")
    table = report(
        timelines,
        [metric],
        by=[by],
        clock=clock,
        now=now,
        confidence=confidence,
        sla=sla,
        surveys=surveys,
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
    surveys: Surveys = None,
) -> Table:
    """One metric per time bucket (per group), with the change from the previous bucket.

    Adds a ``change`` column: the score (or median for durations) minus the previous
    bucket's in the same group, ``None`` for the first bucket. The other options are
    as in [`report()`][csmkit.metrics.report] (``surveys`` gives the survey definitions).
    """
    spec = make_spec(metric, clock is not None)
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
        surveys=surveys,
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
