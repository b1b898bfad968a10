"""Service KPIs with honest statistics: NPS, CSAT, CES, FCR, times, SLA attainment, value.

Survey metrics ([`nps()`][csmkit.metrics.nps], [`csat()`][csmkit.metrics.csat],
[`ces()`][csmkit.metrics.ces]) come with standard errors and intervals; ticket metrics are folded
from [`Timeline`][csmkit.timeline.Timeline] objects in calendar or business time; every aggregate is
backed by a mergeable accumulator (``update`` / ``merge`` / ``result``), so the same code runs in a
notebook, a stream or on Dask/Spark partitions. Only the standard library is used for the
statistics.
"""

from __future__ import annotations

from csmkit.metrics._accumulators import (
    Accumulator,
    DurationAccumulator,
    MeanAccumulator,
    ProportionAccumulator,
    QuantileAccumulator,
)
from csmkit.metrics._delivery import delivery_failures
from csmkit.metrics._fcr import FcrRule, fcr, no_reopen_within, reopen_rate
from csmkit.metrics._nps import NpsAccumulator, NpsResult, nps
from csmkit.metrics._nps_compare import NpsComparison, compare, nps_sample_size
from csmkit.metrics._ratings import RatingAccumulator, RatingResult, ces, csat
from csmkit.metrics._reports import METRICS, Table, rank, report, trend
from csmkit.metrics._results import DurationResult, MeanResult, QuantileSummary, Rate
from csmkit.metrics._snapshot import BacklogResult, backlog, sla_attainment
from csmkit.metrics._stats import student_t_quantile, wilson_interval, z_value
from csmkit.metrics._streaming import ReportAccumulator
from csmkit.metrics._surveys import Survey
from csmkit.metrics._tickets import (
    DURATION_METRICS,
    BusinessClock,
    TicketMetrics,
    agent_wait_time,
    durations,
    first_resolution_time,
    first_response_time,
    full_resolution_time,
    on_hold_time,
    requester_wait_time,
    ticket_metrics,
)
from csmkit.metrics._value import (
    ChurnResult,
    LtvResult,
    RetentionUplift,
    RoiResult,
    churn,
    ltv,
    retention_uplift,
    roi,
)

__all__ = [
    "DURATION_METRICS",
    "METRICS",
    "Accumulator",
    "BacklogResult",
    "BusinessClock",
    "ChurnResult",
    "DurationAccumulator",
    "DurationResult",
    "FcrRule",
    "LtvResult",
    "MeanAccumulator",
    "MeanResult",
    "NpsAccumulator",
    "NpsComparison",
    "NpsResult",
    "ProportionAccumulator",
    "QuantileAccumulator",
    "QuantileSummary",
    "Rate",
    "RatingAccumulator",
    "RatingResult",
    "ReportAccumulator",
    "RetentionUplift",
    "RoiResult",
    "Survey",
    "Table",
    "TicketMetrics",
    "agent_wait_time",
    "backlog",
    "ces",
    "churn",
    "compare",
    "csat",
    "delivery_failures",
    "durations",
    "fcr",
    "first_resolution_time",
    "first_response_time",
    "full_resolution_time",
    "ltv",
    "no_reopen_within",
    "nps",
    "nps_sample_size",
    "on_hold_time",
    "rank",
    "reopen_rate",
    "report",
    "requester_wait_time",
    "retention_uplift",
    "roi",
    "sla_attainment",
    "student_t_quantile",
    "ticket_metrics",
    "trend",
    "wilson_interval",
    "z_value",
]
