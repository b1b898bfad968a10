"""Metric specs of reports: how each named metric is accumulated and laid out in columns."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._accumulators import (
    DurationAccumulator,
    MeanAccumulator,
    ProportionAccumulator,
)
from csmkit.metrics._fcr import FcrRule, no_reopen_within
from csmkit.metrics._inputs import check_recorded
from csmkit.metrics._snapshot import UNRESOLVED, feed_cycle, read_cycle
from csmkit.metrics._surveys import Survey, SurveyChoice
from csmkit.metrics._tickets import DURATION_METRICS, BusinessClock, TicketMetrics, _span
from csmkit.timeline import StatusCategory, SurveyAnswered, SurveyKind, Timeline

__all__ = ["METRICS", "Row", "Spec", "make_spec", "metric_columns"]


@attrs.frozen
class Row:
    """What a metric may read about one ticket."""

    metrics: TicketMetrics
    timeline: Timeline | None
    sla: Any  # the ticket's SLA report (anything with .cycles), or None
    clock: BusinessClock | None
    now: datetime | None


@attrs.frozen
class Spec:
    name: str
    make: Callable[[], Any]
    feed: Callable[[Any, Row], None]
    higher_is_better: bool
    kind: str  # "rate", "duration", "mean", "count", "score"
    needs_now: bool = False
    needs_sla: bool = False
    reads: tuple[str, ...] = ()  # ticket paths the metric filters on; some ticket must have each


def _duration_spec(name: str, attribute: str, business: bool) -> Spec:
    def feed(accumulator: DurationAccumulator, row: Row) -> None:
        accumulator.update(getattr(row.metrics, attribute))

    return Spec(name, lambda: DurationAccumulator(name, business=business), feed, False, "duration")


def _latest(timeline: Timeline | None, kind: SurveyKind) -> SurveyAnswered | None:
    for event in reversed(timeline.events if timeline is not None else ()):
        if isinstance(event, SurveyAnswered) and event.survey is kind:
            return event
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


def _fcr_spec(rule: FcrRule) -> Spec:
    def feed_fcr(accumulator: ProportionAccumulator, row: Row) -> None:
        verdict = rule.evaluate(row.metrics, row.clock)
        if verdict is None:
            accumulator.skipped += 1
        else:
            accumulator.update(verdict)

    needs_now = rule.name == "no_reopen_within"
    reads = (rule.path,) if rule.path is not None else ()
    return Spec(
        rule.label,
        lambda: ProportionAccumulator(rule.label),
        feed_fcr,
        True,
        "rate",
        needs_now,
        reads=reads,
    )


def _sla_spec(name: str, target: str, count_running_breached: bool) -> Spec:
    def feed_sla(accumulator: ProportionAccumulator, row: Row) -> None:
        for index, cycle in enumerate(row.sla.cycles if row.sla is not None else ()):
            found, state, breached = read_cycle(
                cycle, f"SLA report of {row.metrics.ticket_id!r}, cycles[{index}]"
            )
            if found == target:
                feed_cycle(accumulator, state, breached, count_running_breached)

    return Spec(
        name, lambda: ProportionAccumulator(name), feed_sla, True, "rate", True, needs_sla=True
    )


def _backlog_specs(name: str, business: bool, categories: frozenset[StatusCategory]) -> Spec:
    def in_backlog(row: Row) -> bool:
        return row.metrics.ticket.category in categories

    if name == "backlog":

        def feed_count(accumulator: MeanAccumulator, row: Row) -> None:
            if in_backlog(row):
                accumulator.update(1)

        return Spec(name, lambda: MeanAccumulator(name), feed_count, False, "count", True)

    def feed_age(accumulator: DurationAccumulator, row: Row) -> None:
        if in_backlog(row):
            assert row.now is not None
            ticket = row.metrics.ticket
            source = ticket.created_at if name == "backlog_age" else ticket.updated_at
            accumulator.update(_span(row.clock, source, row.now))

    return Spec(
        name,
        lambda: DurationAccumulator(name, business=business),
        feed_age,
        False,
        "duration",
        True,
    )


class _SurveyGroup:
    """A group's survey figure: the definition is fixed by the group's first answer,
    and an answer given under another definition is an error, not a silent average."""

    __slots__ = ("accumulator", "missing", "survey")

    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.accumulator: Any = None
        self.missing = 0

    def add(self, survey: Survey, event: SurveyAnswered) -> None:
        check_recorded(event, survey.scale, "answer")
        if self.accumulator is None:
            self.survey = survey
            self.accumulator = survey.accumulator()
        elif survey.definition != self.survey.definition:
            raise MetricsError(
                f"the answer of ticket {event.ticket_id!r} is on survey {survey.name!r} "
                f"({_describe(survey)}) but this group already holds answers on "
                f"{self.survey.name!r} ({_describe(self.survey)}); one figure cannot mix "
                "them: group the report by type or report each survey on its own"
            )
        self.accumulator.update(event.score)

    def merge(self, other: _SurveyGroup) -> _SurveyGroup:
        self.missing += other.missing
        if other.accumulator is None:
            return self
        if self.accumulator is None:
            self.survey = other.survey
            self.accumulator = copy.deepcopy(other.accumulator)
        elif other.survey.definition != self.survey.definition:
            raise MetricsError(
                f"one group holds answers on survey {self.survey.name!r} "
                f"({_describe(self.survey)}) and, in another partition, on "
                f"{other.survey.name!r} ({_describe(other.survey)}); one figure cannot mix "
                "them: group the report by type or report each survey on its own"
            )
        else:
            self.accumulator.merge(other.accumulator)
        return self

    def result(self) -> Any:
        accumulator = self.accumulator or self.survey.accumulator()
        result = accumulator.result()
        return attrs.evolve(result, missing=result.missing + self.missing)


def _describe(survey: Survey) -> str:
    return f"{survey.low}–{survey.high}, {survey.convention}"


def _survey_spec(name: str, surveys: SurveyChoice) -> Spec:
    kind = _SURVEYS[name]
    default = Survey(name, kind)  # csat(), nps(), ces() defaults: 1–5 top box, 0–10, 1–7 mean

    def feed(group: _SurveyGroup, row: Row) -> None:
        event = _latest(row.timeline, kind)
        if event is None:
            group.missing += 1
            return
        ticket_type = row.metrics.ticket.type
        group.add(surveys.resolve(kind, ticket_type, event) or default, event)

    return Spec(name, lambda: _SurveyGroup(default), feed, True, "score")


def make_spec(
    name: str | FcrRule,
    business: bool,
    *,
    count_running_breached: bool = True,
    backlog_categories: frozenset[StatusCategory] = frozenset(UNRESOLVED),
    surveys: SurveyChoice | None = None,
) -> Spec:
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
        return _survey_spec(name, surveys or SurveyChoice())
    if name == "reopen_rate":

        def feed_reopen(accumulator: ProportionAccumulator, row: Row) -> None:
            if row.metrics.first_resolved_at is None:
                accumulator.skipped += 1
            else:
                accumulator.update(row.metrics.reopens > 0)

        return Spec(name, lambda: ProportionAccumulator(name), feed_reopen, False, "rate")
    if name in ("agent_replies", "agent_touches", "reopens", "customer_followups"):

        def feed_mean(accumulator: MeanAccumulator, row: Row) -> None:
            accumulator.update(getattr(row.metrics, name))

        return Spec(name, lambda: MeanAccumulator(name), feed_mean, False, "mean")
    if name == "tickets":

        def feed_count(accumulator: MeanAccumulator, row: Row) -> None:
            accumulator.update(1)

        return Spec(name, lambda: MeanAccumulator(name), feed_count, True, "count")
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
"""Metric names [`report()`][csmkit.metrics.report] understands (an
[`FcrRule`][csmkit.metrics.FcrRule] object works too)."""


def metric_columns(name: str, result: Any, kind: str, confidence: float) -> dict[str, Any]:
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
