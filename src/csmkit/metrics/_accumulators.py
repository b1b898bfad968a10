"""Mergeable accumulators: ``update`` / ``merge`` / ``result``.

Every aggregate in [`csmkit.metrics`][csmkit.metrics] is computed through one of these. Their state
is a commutative monoid: counts, exact rational sums, histograms and DDSketch buckets are
combined by addition, so the result is identical however the data is partitioned (one
pass, eight Dask partitions, a live stream) — within the documented sketch bound for
large-n quantiles, and bit-identical otherwise.
"""

from __future__ import annotations

import functools
import math
import operator
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from csmkit.errors import MetricsError
from csmkit.metrics._results import DurationResult, MeanResult, QuantileSummary, Rate

__all__ = [
    "Accumulator",
    "DurationAccumulator",
    "MeanAccumulator",
    "ProportionAccumulator",
    "QuantileAccumulator",
]

R_co = TypeVar("R_co", covariant=True)
A = TypeVar("A", bound="Accumulator[Any]")


class Accumulator(Protocol[R_co]):
    """The protocol every csmkit accumulator follows."""

    def update(self, value: Any) -> Any:
        """Add one observation (in place); returns the accumulator."""

    def merge(self, other: Any) -> Any:
        """Add another accumulator's state (in place); returns the accumulator."""

    def result(self) -> R_co:
        """A frozen result computed from the state so far."""


def same_state(self: Any, other: object) -> bool:
    """Value equality of accumulators: the same type and equal state in every slot."""
    slots: tuple[str, ...] = type(self).__slots__
    return type(other) is type(self) and all(
        getattr(self, name) == getattr(other, name) for name in slots
    )


def _check_same_type(self: object, other: object) -> None:
    if type(other) is not type(self):
        raise MetricsError(f"cannot merge {type(other).__name__} into {type(self).__name__}")


class ProportionAccumulator:
    """Counts successes and trials; [`result()`][csmkit.metrics.ProportionAccumulator.result] is a
    [`Rate`][csmkit.metrics.Rate].

    Examples:
        >>> acc = ProportionAccumulator("fcr")
        >>> for solved_first_time in (True, False, True):
        ...     _ = acc.update(solved_first_time)
        >>> acc.result().successes, acc.result().trials
        (2, 3)
    """

    __slots__ = ("name", "skipped", "successes", "trials")

    def __init__(self, name: str = "rate") -> None:
        self.name = name
        self.successes = 0
        self.trials = 0
        self.skipped = 0

    def __eq__(self, other: object) -> bool:
        return same_state(self, other)

    def update(self, success: bool) -> ProportionAccumulator:
        """Count one trial; ``success`` must be a bool."""
        if not isinstance(success, bool):
            raise MetricsError(f"{self.name}: expected True or False, got {success!r}")
        self.trials += 1
        self.successes += success
        return self

    def merge(self, other: ProportionAccumulator) -> ProportionAccumulator:
        """Add ``other``'s counts."""
        _check_same_type(self, other)
        self.successes += other.successes
        self.trials += other.trials
        self.skipped += other.skipped
        return self

    def result(self) -> Rate:
        """The rate so far."""
        return Rate(self.successes, self.trials, name=self.name, skipped=self.skipped)


def _exact(value: object, position: str) -> int | Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise MetricsError(f"{position}: expected a number, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MetricsError(f"{position}: expected a finite number, got {value!r}")
        return Fraction(value)
    return value


class MeanAccumulator:
    """Exact running sum and sum of squares; [`result()`][csmkit.metrics.MeanAccumulator.result] is
    a [`MeanResult`][csmkit.metrics.MeanResult].

    Integers are summed as integers, floats as exact fractions, so mean and variance do
    not depend on the order or partitioning of the data and suffer no cancellation.
    """

    __slots__ = ("n", "name", "skipped", "total", "total_squares")

    def __init__(self, name: str = "mean") -> None:
        self.name = name
        self.n = 0
        self.total: int | Fraction = 0
        self.total_squares: int | Fraction = 0
        self.skipped = 0

    def __eq__(self, other: object) -> bool:
        return same_state(self, other)

    def update(self, value: float) -> MeanAccumulator:
        """Add one finite number."""
        exact = _exact(value, f"{self.name}[{self.n}]")
        self.n += 1
        self.total += exact
        self.total_squares += exact * exact
        return self

    def merge(self, other: MeanAccumulator) -> MeanAccumulator:
        """Add ``other``'s sums."""
        _check_same_type(self, other)
        self.n += other.n
        self.total += other.total
        self.total_squares += other.total_squares
        self.skipped += other.skipped
        return self

    def result(self) -> MeanResult:
        """Mean and variance so far."""
        return MeanResult(
            self.n,
            Fraction(self.total),
            Fraction(self.total_squares),
            name=self.name,
            skipped=self.skipped,
        )


class QuantileAccumulator:
    """Exact quantiles for up to ``exact_limit`` values, a DDSketch beyond.

    The sketch (Masson, Rim & Lee, PVLDB 12(12), 2019) maps a value ``x > 0`` to the
    bucket ``ceil(log_γ x)`` with ``γ = (1 + α)/(1 − α)`` and answers with the bucket's
    representative ``2γ^k/(γ + 1)``: its relative error to the true order statistic is at
    most ``α = relative_accuracy`` (default 1 %). Zero has its own bucket and negative
    values a mirrored store. The mode depends only on the total count, so partitioned
    and single-pass accumulators agree exactly.

    Args:
        exact_limit: Keep every value while the count is at most this.
        relative_accuracy: The sketch's α, ``0 < α < 1``.

    Examples:
        >>> acc = QuantileAccumulator(exact_limit=4)
        >>> _ = acc.update_many([1.0, 2.0, 3.0, 4.0, 100.0])
        >>> summary = acc.result()
        >>> summary.exact, abs(summary.quantile(0.5) - 3.0) <= 0.01 * 3.0
        (False, True)
    """

    __slots__ = (
        "_gamma",
        "_multiplier",
        "exact_limit",
        "maximum",
        "minimum",
        "n",
        "negative",
        "positive",
        "relative_accuracy",
        "values",
        "zero_count",
    )

    def __init__(self, *, exact_limit: int = 10_000, relative_accuracy: float = 0.01) -> None:
        if isinstance(exact_limit, bool) or not isinstance(exact_limit, int) or exact_limit < 0:
            raise MetricsError(f"exact_limit must be an integer >= 0, got {exact_limit!r}")
        if not isinstance(relative_accuracy, float) or not 0.0 < relative_accuracy < 1.0:
            raise MetricsError(
                f"relative_accuracy must be a float in (0, 1), got {relative_accuracy!r}"
            )
        self.exact_limit = exact_limit
        self.relative_accuracy = relative_accuracy
        self._gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy)
        self._multiplier = 1.0 / math.log(self._gamma)
        self.n = 0
        self.values: list[float] | None = []
        self.positive: Counter[int] = Counter()
        self.negative: Counter[int] = Counter()
        self.zero_count = 0
        self.minimum: float | None = None
        self.maximum: float | None = None

    def __eq__(self, other: object) -> bool:
        return same_state(self, other)

    # ---------------------------------------------------------------- ingestion
    def _key(self, value: float) -> int:
        return math.ceil(math.log(value) * self._multiplier)

    def _check(self, value: object, position: int) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MetricsError(f"values[{position}]: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise MetricsError(f"values[{position}]: expected a finite number, got {value!r}")
        return value

    def _sketch_one(self, value: float) -> None:
        if value > 0:
            self.positive[self._key(value)] += 1
        elif value < 0:
            self.negative[self._key(-value)] += 1
        else:
            self.zero_count += 1

    def _to_sketch(self) -> None:
        if self.values is not None:
            values, self.values = self.values, None
            self._add_buckets(*self._bucket(values, 0))

    def _bucket(self, values: list[float], start: int) -> tuple[Counter[int], Counter[int], int]:
        """Bucket counts of ``values`` (validated) without touching the state."""
        try:
            # The fast path runs entirely in C: log, scale, ceil, count.
            scale = functools.partial(operator.mul, self._multiplier)
            return Counter(map(math.ceil, map(scale, map(math.log, values)))), Counter(), 0
        except (ValueError, OverflowError, TypeError):
            positive: Counter[int] = Counter()
            negative: Counter[int] = Counter()
            zeros = 0
            for offset, value in enumerate(values):
                value = self._check(value, start + offset)
                if value > 0:
                    positive[self._key(value)] += 1
                elif value < 0:
                    negative[self._key(-value)] += 1
                else:
                    zeros += 1
            return positive, negative, zeros

    def _add_buckets(self, positive: Counter[int], negative: Counter[int], zeros: int) -> None:
        self.positive.update(positive)
        self.negative.update(negative)
        self.zero_count += zeros

    def update(self, value: float) -> QuantileAccumulator:
        """Add one finite number."""
        value = self._check(value, self.n)
        self._extremes(value, value)
        self.n += 1
        if self.values is not None:
            self.values.append(value)
            if self.n > self.exact_limit:
                self._to_sketch()
        else:
            self._sketch_one(value)
        return self

    def update_many(self, values: Iterable[float]) -> QuantileAccumulator:
        """Add many finite numbers (much faster than
        [`update()`][csmkit.metrics.QuantileAccumulator.update] in a loop)."""
        batch = values if isinstance(values, list) else list(values)
        if not batch:
            return self
        try:
            low, high = min(batch), max(batch)
            self._check(low, self.n)
            self._check(high, self.n)
            exact = self.values is not None and self.n + len(batch) <= self.exact_limit
            if exact and not all(map(math.isfinite, batch)):
                raise TypeError
        except (TypeError, ValueError, MetricsError):
            for offset, value in enumerate(batch):
                self._check(value, self.n + offset)
            raise  # pragma: no cover - _check raised above for the offending value
        if self.values is not None and self.n + len(batch) <= self.exact_limit:
            self.values.extend(batch)
        else:
            buckets = self._bucket(batch, self.n)  # validates before anything changes
            self._to_sketch()
            self._add_buckets(*buckets)
        self.n += len(batch)
        self._extremes(low, high)
        return self

    def _extremes(self, low: float, high: float) -> None:
        if self.minimum is None or low < self.minimum:
            self.minimum = low
        if self.maximum is None or high > self.maximum:
            self.maximum = high

    # ---------------------------------------------------------------- combine
    def merge(self, other: QuantileAccumulator) -> QuantileAccumulator:
        """Add ``other``'s values or buckets (both must share ``relative_accuracy``)."""
        _check_same_type(self, other)
        if other.relative_accuracy != self.relative_accuracy:
            raise MetricsError(
                f"cannot merge sketches with relative_accuracy {other.relative_accuracy} "
                f"and {self.relative_accuracy}"
            )
        if other.n == 0:
            return self
        assert other.minimum is not None
        assert other.maximum is not None
        self._extremes(other.minimum, other.maximum)
        self.n += other.n
        if self.values is not None and other.values is not None:
            self.values.extend(other.values)
            if self.n > self.exact_limit:
                self._to_sketch()
            return self
        self._to_sketch()
        if other.values is not None:
            for value in other.values:
                self._sketch_one(value)
        else:
            self.positive.update(other.positive)
            self.negative.update(other.negative)
            self.zero_count += other.zero_count
        return self

    def result(self) -> QuantileSummary:
        """A frozen snapshot."""
        if self.values is not None:
            return QuantileSummary(
                self.n,
                True,
                self.relative_accuracy,
                self.minimum,
                self.maximum,
                values=tuple(sorted(self.values)),
            )
        gamma = self._gamma
        buckets: list[tuple[float, int]] = [
            (-2.0 * gamma**key / (gamma + 1.0), count)
            for key, count in sorted(self.negative.items(), reverse=True)
            if count
        ]
        if self.zero_count:
            buckets.append((0.0, self.zero_count))
        buckets.extend(
            (2.0 * gamma**key / (gamma + 1.0), count)
            for key, count in sorted(self.positive.items())
            if count
        )
        return QuantileSummary(
            self.n,
            False,
            self.relative_accuracy,
            self.minimum,
            self.maximum,
            buckets=tuple(buckets),
        )


_MICROSECOND = timedelta(microseconds=1)


class DurationAccumulator:
    """Exact mean and quantiles of durations (kept in whole microseconds).

    Args:
        name: The metric's name.
        business: Whether the durations are business time (recorded in the result).
        exact_limit: See [`QuantileAccumulator`][csmkit.metrics.QuantileAccumulator].
        relative_accuracy: See [`QuantileAccumulator`][csmkit.metrics.QuantileAccumulator].
    """

    __slots__ = ("business", "missing", "moments", "name", "quantiles", "skipped")

    def __init__(
        self,
        name: str = "duration",
        *,
        business: bool = False,
        exact_limit: int = 10_000,
        relative_accuracy: float = 0.01,
    ) -> None:
        self.name = name
        self.business = business
        self.moments = MeanAccumulator(name)
        self.quantiles = QuantileAccumulator(
            exact_limit=exact_limit, relative_accuracy=relative_accuracy
        )
        self.missing = 0
        self.skipped = 0

    def __eq__(self, other: object) -> bool:
        return same_state(self, other)

    def update(self, value: timedelta | None) -> DurationAccumulator:
        """Add one duration; ``None`` counts as *missing* (the ticket lacks the event)."""
        if value is None:
            self.missing += 1
            return self
        if not isinstance(value, timedelta):
            raise MetricsError(f"{self.name}: expected a timedelta, got {value!r}")
        if value < timedelta(0):
            raise MetricsError(f"{self.name}: negative duration {value!r}")
        microseconds = value // _MICROSECOND
        self.moments.update(microseconds)
        self.quantiles.update(microseconds)
        return self

    def merge(self, other: DurationAccumulator) -> DurationAccumulator:
        """Add ``other``'s state."""
        _check_same_type(self, other)
        if other.business != self.business:
            raise MetricsError(f"{self.name}: cannot merge business and calendar durations")
        self.moments.merge(other.moments)
        self.quantiles.merge(other.quantiles)
        self.missing += other.missing
        self.skipped += other.skipped
        return self

    def result(self) -> DurationResult:
        """The summary so far."""
        return DurationResult(
            self.name,
            self.moments.result(),
            self.quantiles.result(),
            business=self.business,
            missing=self.missing,
            skipped=self.skipped,
        )
