"""Result value objects shared by every metric: rates, means, quantile summaries."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from fractions import Fraction
from typing import Any

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._display import result_html, result_repr
from csmkit.metrics._stats import student_t_quantile, wilson_interval

__all__ = ["DurationResult", "MeanResult", "QuantileSummary", "Rate"]


def _no_data(what: str) -> MetricsError:
    return MetricsError(f"{what}: no data (n = 0)")


@attrs.frozen
class Rate:
    """A proportion such as FCR, reopen rate or SLA attainment, with a Wilson interval.

    ``score`` is a percentage (0 to 100); [`interval()`][csmkit.metrics.Rate.interval] is on the
    same scale. With no trials ``score`` is ``None`` and
    [`interval()`][csmkit.metrics.Rate.interval] raises
    [`MetricsError`][csmkit.errors.MetricsError].

    Attributes:
        successes: Count of successes (numerator).
        trials: Count of trials (denominator).
        name: What the rate measures (``"fcr[one_touch]"``, ``"reopen_rate"`` …).
        skipped: Inputs left out because they were invalid (``on_invalid="skip"``) or lacked
            the needed events.

    Examples:
        >>> r = Rate(8, 10, name="csat")
        >>> r.score, tuple(round(x, 1) for x in r.interval(0.95))
        (80.0, (49.0, 94.3))
    """

    successes: int
    trials: int
    name: str = "rate"
    skipped: int = 0

    __repr__ = result_repr

    def _repr_html_(self) -> str:
        """The score, interval and ``n`` as HTML (Jupyter)."""
        return result_html(self)

    def __attrs_post_init__(self) -> None:
        if self.trials < 0 or not 0 <= self.successes <= self.trials:
            raise MetricsError(
                f"{self.name}: successes {self.successes} must be between 0 and trials "
                f"{self.trials}"
            )

    @property
    def n(self) -> int:
        """The denominator (number of trials)."""
        return self.trials

    @property
    def rate(self) -> float | None:
        """The proportion as a fraction in ``[0, 1]``, ``None`` when ``n = 0``."""
        return self.successes / self.trials if self.trials else None

    @property
    def score(self) -> float | None:
        """The proportion in percent (0 to 100), ``None`` when ``n = 0``."""
        return 100.0 * self.successes / self.trials if self.trials else None

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson score interval in percent.

        Raises:
            MetricsError: ``n = 0`` or ``confidence`` not in ``(0, 1)``.
        """
        if not self.trials:
            raise _no_data(self.name)
        low, high = wilson_interval(self.successes, self.trials, confidence)
        return 100.0 * low, 100.0 * high

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Plain dict: counts, score and (when ``n > 0``) the interval bounds."""
        out: dict[str, Any] = {
            "name": self.name,
            "successes": self.successes,
            "trials": self.trials,
            "score": self.score,
            "skipped": self.skipped,
            "confidence": confidence,
            "low": None,
            "high": None,
        }
        if self.trials:
            out["low"], out["high"] = self.interval(confidence)
        return out


@attrs.frozen
class MeanResult:
    """Mean and sample variance of numbers, computed exactly (rational arithmetic).

    Attributes:
        n: Number of values.
        total: Exact sum of the values.
        total_squares: Exact sum of their squares.
        name: What was averaged.
        skipped: Invalid inputs left out.
    """

    n: int
    total: Fraction
    total_squares: Fraction
    name: str = "mean"
    skipped: int = 0

    __repr__ = result_repr

    def _repr_html_(self) -> str:
        """The score, interval and ``n`` as HTML (Jupyter)."""
        return result_html(self)

    @property
    def mean(self) -> float | None:
        """The arithmetic mean, ``None`` when ``n = 0``."""
        return float(self.total / self.n) if self.n else None

    @property
    def score(self) -> float | None:
        """Same as [`mean`][csmkit.metrics.MeanResult.mean] (every result has a ``score``)."""
        return self.mean

    @property
    def variance(self) -> float | None:
        """Sample variance (divisor ``n − 1``), ``None`` when ``n < 2``."""
        if self.n < 2:
            return None
        exact = (self.total_squares - self.total * self.total / self.n) / (self.n - 1)
        return float(exact)

    @property
    def standard_deviation(self) -> float | None:
        """Sample standard deviation, ``None`` when ``n < 2``."""
        variance = self.variance
        return None if variance is None else math.sqrt(variance)

    @property
    def standard_error(self) -> float | None:
        """Standard error of the mean, ``None`` when ``n < 2``."""
        variance = self.variance
        return None if variance is None else math.sqrt(variance / self.n)

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Student t interval for the mean.

        Raises:
            MetricsError: fewer than two values.
        """
        if self.n < 2:
            raise MetricsError(f"{self.name}: a mean interval needs n >= 2, got n = {self.n}")
        mean = float(self.total / self.n)
        standard_error = self.standard_error
        assert standard_error is not None
        half = student_t_quantile(confidence, self.n - 1) * standard_error
        return mean - half, mean + half

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Plain dict with n, mean, standard deviation and the interval (when n >= 2)."""
        out: dict[str, Any] = {
            "name": self.name,
            "n": self.n,
            "mean": self.mean,
            "standard_deviation": self.standard_deviation,
            "skipped": self.skipped,
            "confidence": confidence,
            "low": None,
            "high": None,
        }
        if self.n >= 2:
            out["low"], out["high"] = self.interval(confidence)
        return out


@attrs.frozen
class QuantileSummary:
    """A frozen snapshot of a quantile accumulator.

    In exact mode it holds the sorted values and
    [`quantile()`][csmkit.metrics.QuantileSummary.quantile] interpolates linearly
    (``numpy.percentile``'s default, ``statistics.quantiles(method="inclusive")``). In sketch mode
    it holds DDSketch buckets and [`quantile()`][csmkit.metrics.QuantileSummary.quantile] returns a
    value within ``relative_accuracy`` (relative error) of the order statistic of rank
    ``floor(q · (n − 1))``.

    Attributes:
        n: Number of values.
        exact: Whether the values were kept (exact) or sketched.
        relative_accuracy: The sketch's bound α (also recorded in exact mode).
        minimum: Smallest value (exact in both modes), ``None`` when empty.
        maximum: Largest value (exact in both modes), ``None`` when empty.
        values: The sorted values (exact mode), else empty.
        buckets: ``(representative value, count)`` pairs in increasing order (sketch mode).
    """

    n: int
    exact: bool
    relative_accuracy: float
    minimum: float | None
    maximum: float | None
    values: tuple[float, ...] = ()
    buckets: tuple[tuple[float, int], ...] = ()

    def quantile(self, q: float) -> float:
        """The ``q``-quantile, ``0 <= q <= 1``.

        Raises:
            MetricsError: no values, or ``q`` outside ``[0, 1]``.
        """
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 <= q <= 1.0:
            raise MetricsError(f"quantile q must be between 0 and 1, got {q!r}")
        if self.n == 0 or self.minimum is None or self.maximum is None:
            raise _no_data("quantile")
        if q == 0.0:
            return self.minimum
        if q == 1.0:
            return self.maximum
        if self.exact:
            position = q * (self.n - 1)
            index = math.floor(position)
            fraction = position - index
            low = self.values[index]
            if fraction == 0.0 or index + 1 >= self.n:
                return low
            return low + (self.values[index + 1] - low) * fraction
        rank = math.floor(q * (self.n - 1))
        seen = 0
        for value, count in self.buckets:
            seen += count
            if seen > rank:
                return min(max(value, self.minimum), self.maximum)
        return self.maximum  # pragma: no cover - counts always add up to n


def _to_timedelta(microseconds: float) -> timedelta:
    return timedelta(microseconds=round(microseconds))


@attrs.frozen
class DurationResult:
    """Summary of durations (response, resolution, wait times …).

    Durations are kept in whole microseconds, so the mean is exact and identical however
    the data was partitioned. Quantiles are exact up to the accumulator's ``exact_limit``
    values and within ``relative_accuracy`` beyond (see
    [`QuantileSummary`][csmkit.metrics.QuantileSummary]).

    Attributes:
        name: The metric (``"first_response_time"`` …).
        moments: Exact mean/variance of the durations in microseconds.
        quantiles: Quantile summary of the durations in microseconds.
        business: Whether business time (a calendar) was used.
        missing: Tickets left out because they lacked the needed events.
        skipped: Invalid inputs left out.
    """

    name: str
    moments: MeanResult
    quantiles: QuantileSummary
    business: bool = False
    missing: int = 0
    skipped: int = 0

    __repr__ = result_repr

    def _repr_html_(self) -> str:
        """The score, interval and ``n`` as HTML (Jupyter)."""
        return result_html(self)

    @property
    def n(self) -> int:
        """Number of durations."""
        return self.moments.n

    @property
    def mean(self) -> timedelta | None:
        """Mean duration, ``None`` when ``n = 0``."""
        mean = self.moments.mean
        return None if mean is None else _to_timedelta(mean)

    @property
    def score(self) -> timedelta | None:
        """Same as [`mean`][csmkit.metrics.DurationResult.mean]."""
        return self.mean

    def quantile(self, q: float) -> timedelta:
        """The ``q``-quantile duration (see [`QuantileSummary`][csmkit.metrics.QuantileSummary])."""
        return _to_timedelta(self.quantiles.quantile(q))

    @property
    def median(self) -> timedelta | None:
        """The median, ``None`` when ``n = 0``."""
        return self.quantile(0.5) if self.n else None

    @property
    def p90(self) -> timedelta | None:
        """The 90th percentile, ``None`` when ``n = 0``."""
        return self.quantile(0.9) if self.n else None

    @property
    def p99(self) -> timedelta | None:
        """The 99th percentile, ``None`` when ``n = 0``."""
        return self.quantile(0.99) if self.n else None

    def interval(self, confidence: float = 0.95) -> tuple[timedelta, timedelta]:
        """Student t interval of the mean duration (needs ``n >= 2``)."""
        low, high = self.moments.interval(confidence)
        return _to_timedelta(low), _to_timedelta(high)

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Plain dict; durations in seconds (floats)."""

        def seconds(value: timedelta | None) -> float | None:
            return None if value is None else value.total_seconds()

        out: dict[str, Any] = {
            "name": self.name,
            "n": self.n,
            "business": self.business,
            "mean_seconds": seconds(self.mean),
            "median_seconds": seconds(self.median),
            "p90_seconds": seconds(self.p90),
            "p99_seconds": seconds(self.p99),
            "exact_quantiles": self.quantiles.exact,
            "missing": self.missing,
            "skipped": self.skipped,
        }
        return out


def result_to_dict(result: object, confidence: float = 0.95) -> Mapping[str, Any]:
    """Call ``result.to_dict(confidence)`` (helper for reports)."""
    to_dict = getattr(result, "to_dict", None)
    if to_dict is None:
        raise MetricsError(f"{type(result).__name__} has no to_dict()")
    out: Mapping[str, Any] = to_dict(confidence)
    return out
