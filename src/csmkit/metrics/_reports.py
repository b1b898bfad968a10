"""Reports: several metrics grouped by fields and time buckets, rankings and trends."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._accumulators import (
    DurationAccumulator,
    MeanAccumulator,
    ProportionAccumulator,
)
from csmkit.metrics._nps import NpsAccumulator
from csmkit.metrics._ratings import RatingAccumulator
from csmkit.metrics._tickets import (
    DURATION_METRICS,
    BusinessClock,
    FcrRule,
    TicketMetrics,
    iter_ticket_metrics,
)
from csmkit.timeline import SurveyAnswered, SurveyKind

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
            max([len(column)] + [len(line[i]) for line in cells])
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
                value.rjust(width) if right else value.ljust(width)
                for value, width, right in zip(values, widths, numeric, strict=True)
            ]
            return "  ".join(parts).rstrip()

        out = [line(self.columns), line(["-" * width for width in widths])]
        out.extend(line(values) for values in cells)
        return "\n".join(out)


# --------------------------------------------------------------------------- metric specs
@attrs.frozen
class _Spec:
    name: str
    make: Callable[[], Any]
    feed: Callable[[Any, TicketMetrics], None]
    higher_is_better: bool
    kind: str  # "rate", "duration", "mean", "score"


def _duration_spec(name: str, attribute: str, business: bool) -> _Spec:
    def feed(accumulator: DurationAccumulator, metrics: TicketMetrics) -> None:
        accumulator.update(getattr(metrics, attribute))

    return _Spec(
        name, lambda: DurationAccumulator(name, business=business), feed, False, "duration"
    )


def _latest(metrics: TicketMetrics, kind: SurveyKind, timeline: Any) -> float | None:
    del metrics
    for event in reversed(timeline.events):
        if isinstance(event, SurveyAnswered) and event.survey is kind:
            return event.score
    return None


def _spec(name: str, business: bool) -> _Spec:
    if name in DURATION_METRICS:
        return _duration_spec(name, DURATION_METRICS[name], business)
    if name == "fcr" or name.startswith("fcr["):
        rule_name = name[4:-1] if name.startswith("fcr[") and name.endswith("]") else "one_touch"
        if rule_name.startswith("no_reopen_within(") and rule_name.endswith(")"):
            try:
                rule = FcrRule("no_reopen_within", days=float(rule_name[17:-1]))
            except ValueError:
                raise MetricsError(f"bad FCR window in {name!r}") from None
        else:
            rule = FcrRule.coerce(rule_name)

        def feed_fcr(accumulator: ProportionAccumulator, metrics: TicketMetrics) -> None:
            verdict = rule.evaluate(metrics)
            if verdict is None:
                accumulator.skipped += 1
            else:
                accumulator.update(verdict)

        return _Spec(name, lambda: ProportionAccumulator(rule.label), feed_fcr, True, "rate")
    if name == "reopen_rate":

        def feed_reopen(accumulator: ProportionAccumulator, metrics: TicketMetrics) -> None:
            if metrics.first_resolved_at is None:
                accumulator.skipped += 1
            else:
                accumulator.update(metrics.reopens > 0)

        return _Spec(name, lambda: ProportionAccumulator(name), feed_reopen, False, "rate")
    if name in ("agent_replies", "agent_touches", "reopens", "customer_followups"):

        def feed_mean(accumulator: MeanAccumulator, metrics: TicketMetrics) -> None:
            accumulator.update(getattr(metrics, name))

        return _Spec(name, lambda: MeanAccumulator(name), feed_mean, False, "mean")
    if name == "tickets":

        def feed_count(accumulator: MeanAccumulator, metrics: TicketMetrics) -> None:
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
    "reopen_rate",
    "agent_replies",
    "agent_touches",
    "customer_followups",
    "reopens",
    "csat",
    "nps",
    "ces",
)
"""Metric names :func:`report` understands."""


def _survey_accumulator(name: str) -> Any:
    if name == "nps":
        return NpsAccumulator()
    if name == "csat":
        return RatingAccumulator("csat")
    return RatingAccumulator("ces", convention="mean")


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


def report(
    timelines: Iterable[Any],
    metrics: Sequence[str],
    *,
    by: Sequence[str] = (),
    bucket: Bucket | None = None,
    tz: str | ZoneInfo = "UTC",
    bucket_on: Literal["created", "first_resolved"] = "created",
    clock: BusinessClock | None = None,
    now: datetime | None = None,
    confidence: float = 0.95,
) -> Table:
    """Compute several metrics per group in one pass over the timelines.

    Args:
        timelines: Timelines (or their dict forms).
        metrics: Names from :data:`METRICS` (``"fcr[no_reopen_within(3)]"`` with a number).
        by: Ticket attributes or dotted paths to group by (``"channel"``, ``"assignee"``,
            ``"priority"``, ``"fields.region"``).
        bucket: ``"day"``, ``"week"`` (labelled by its Monday) or ``"month"``.
        tz: Time zone of the buckets.
        bucket_on: Which instant puts a ticket in a bucket; tickets without it (never
            resolved) are left out.
        clock: Business clock for durations.
        now: Evaluation instant.
        confidence: Level of the ``_low``/``_high`` interval columns.

    Returns:
        A :class:`Table`: the group columns, then per metric ``name``/``name_n``/
        ``name_low``/``name_high`` (rates in percent, scores) or ``name_n``/``_median``/
        ``_p90``/``_mean`` (durations). Rows are sorted by group.
    """
    specs = [_spec(name, clock is not None) if name not in _SURVEYS else None for name in metrics]
    if not metrics:
        raise MetricsError("report needs at least one metric")
    zone = _zone(tz)
    if bucket is not None and bucket not in ("day", "week", "month"):
        raise MetricsError(f"bucket must be 'day', 'week' or 'month', got {bucket!r}")
    if bucket_on not in ("created", "first_resolved"):
        raise MetricsError(f"bucket_on must be 'created' or 'first_resolved', got {bucket_on!r}")
    groups: dict[tuple[Any, ...], list[Any]] = {}
    timeline_list = list(timelines)
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
            accumulators = [
                spec.make() if spec is not None else _survey_accumulator(name)
                for spec, name in zip(specs, metrics, strict=True)
            ]
            groups[tuple(key)] = accumulators
        else:
            accumulators = found
        timeline = timeline_list[index]
        for spec, name, accumulator in zip(specs, metrics, accumulators, strict=True):
            if spec is not None:
                spec.feed(accumulator, metrics_row)
            elif hasattr(timeline, "events"):
                answer = _latest(metrics_row, _SURVEYS[name], timeline)
                if answer is None:
                    accumulator.missing += 1
                else:
                    accumulator.update(answer)
    key_columns = [*by, *([bucket] if bucket is not None else [])]
    rows = []
    value_columns: list[str] = []
    for group_key, group in sorted(groups.items(), key=lambda item: _sort_key(item[0])):
        row: dict[str, Any] = dict(zip(key_columns, group_key, strict=True))
        for spec, name, accumulator in zip(specs, metrics, group, strict=True):
            kind = spec.kind if spec is not None else "score"
            row.update(_columns(name, accumulator.result(), kind, confidence))
        rows.append(row)
        if not value_columns:
            value_columns = [c for c in row if c not in key_columns]
    if not value_columns:
        for spec, name in zip(specs, metrics, strict=True):
            kind = spec.kind if spec is not None else "score"
            empty = _empty_result(spec, name)
            value_columns.extend(_columns(name, empty, kind, confidence))
    return Table(tuple(key_columns + value_columns), tuple(rows))


def _empty_result(spec: _Spec | None, name: str) -> Any:
    return (spec.make() if spec is not None else _survey_accumulator(name)).result()


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if part is None else (1, str(part)) for part in key)


def rank(
    timelines: Iterable[Any],
    by: str,
    metric: str,
    *,
    min_n: int = 30,
    confidence: float = 0.95,
    clock: BusinessClock | None = None,
    now: datetime | None = None,
) -> Table:
    """Rank groups (agents, teams …) by a confidence bound instead of the raw score.

    For metrics where higher is better (FCR, CSAT, NPS …) groups are ordered by the lower
    bound of their interval, descending; where lower is better (reopen rate, durations)
    by the upper bound, ascending. Groups with fewer than ``min_n`` observations are left
    out — a raw average over three tickets rewards luck.

    Returns:
        A :class:`Table` with ``rank``, the group, the metric's columns and ``bound``.
    """
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise MetricsError(f"min_n must be a positive integer, got {min_n!r}")
    table = report(timelines, [metric], by=[by], clock=clock, now=now, confidence=confidence)
    spec = _spec(metric, clock is not None) if metric not in _SURVEYS else None
    higher_is_better = True if spec is None else spec.higher_is_better
    kind = "score" if spec is None else spec.kind
    if kind == "count":
        raise MetricsError("'tickets' is a count; rank by a rate, score or duration")
    rows = []
    for row in table.rows:
        if kind == "duration":
            n = row[f"{metric}_n"]
            if n < max(min_n, 2):
                continue
            high = row[f"{metric}_high"]
            bound = high.total_seconds() if higher_is_better is False else 0.0
        else:
            n = row[f"{metric}_n"]
            if n < min_n or row[f"{metric}_low"] is None:
                continue
            bound = row[f"{metric}_low"] if higher_is_better else row[f"{metric}_high"]
        rows.append({**row, "bound": bound})
    rows.sort(key=lambda r: -r["bound"] if higher_is_better else r["bound"])
    ranked = [{"rank": i + 1, **row} for i, row in enumerate(rows)]
    return Table(("rank", *table.columns, "bound"), tuple(ranked))


def trend(
    timelines: Iterable[Any],
    metric: str,
    *,
    bucket: Bucket = "week",
    tz: str | ZoneInfo = "UTC",
    by: Sequence[str] = (),
    clock: BusinessClock | None = None,
    now: datetime | None = None,
    confidence: float = 0.95,
) -> Table:
    """One metric per time bucket (per group), with the change from the previous bucket.

    Adds a ``change`` column: the score (or median for durations) minus the previous
    bucket's in the same group, ``None`` for the first bucket.
    """
    table = report(
        timelines,
        [metric],
        by=by,
        bucket=bucket,
        tz=tz,
        clock=clock,
        now=now,
        confidence=confidence,
    )
    value_column = f"{metric}_median" if metric in DURATION_METRICS else metric
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
