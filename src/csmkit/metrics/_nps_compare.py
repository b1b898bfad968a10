"""Comparing NPS values (independent or paired samples) and planning sample sizes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._inputs import (
    OnInvalid,
    check_on_invalid,
    describe_invalid,
    integer_score,
    to_list,
)
from csmkit.metrics._nps import IntervalMethod, NpsResult, _shares, nps
from csmkit.metrics._stats import check_confidence, normal_p_value, z_value

__all__ = ["NpsComparison", "compare", "nps_sample_size"]


def _as_result(value: NpsResult | Iterable[Any], on_invalid: OnInvalid) -> NpsResult:
    return value if isinstance(value, NpsResult) else nps(value, on_invalid=on_invalid)


@attrs.frozen
class NpsComparison:
    """Difference between two NPS values (``a − b``), with a z-test.

    Attributes:
        difference: ``score_a − score_b`` in points (adjusted scores for
            ``method="adjusted_wald"``).
        standard_error: Standard error of the difference, in points.
        z: Test statistic (``±inf`` when the standard error is 0 and the difference is
            not; 0 when both are 0).
        p_value: Two-sided p-value.
        n_a: Respondents in ``a``.
        n_b: Respondents in ``b``.
        paired: Whether the same respondents answered twice.
        method: ``"wald"`` or ``"adjusted_wald"``.
    """

    difference: float
    standard_error: float
    z: float
    p_value: float
    n_a: int
    n_b: int
    paired: bool
    method: str

    @property
    def score(self) -> float:
        """Same as `difference`."""
        return self.difference

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Wald interval of the difference, in points (clipped to ``[−200, 200]``)."""
        half = z_value(confidence) * self.standard_error
        return max(-200.0, self.difference - half), min(200.0, self.difference + half)

    def significant(self, confidence: float = 0.95) -> bool:
        """Whether ``p_value < 1 − confidence``."""
        return self.p_value < 1.0 - check_confidence(confidence)

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Plain dict of every field plus the interval."""
        out = attrs.asdict(self)
        out["confidence"] = confidence
        out["low"], out["high"] = self.interval(confidence)
        return out


def _z(difference: float, standard_error: float) -> float:
    if standard_error > 0:
        return difference / standard_error
    if difference == 0:
        return 0.0
    return math.copysign(math.inf, difference)


def compare(
    a: NpsResult | Iterable[Any],
    b: NpsResult | Iterable[Any],
    *,
    paired: bool = False,
    method: IntervalMethod = "wald",
    on_invalid: OnInvalid = "raise",
) -> NpsComparison:
    """Test whether two NPS values differ.

    Independent samples (two periods, two segments): ``z = (NPS_a − NPS_b) /
    sqrt(Var_a/n_a + Var_b/n_b)`` — ``NPS::nps.test(x, y)`` in R; with
    ``method="adjusted_wald"`` each sample gets +¾/+¾/+3 first (MeasuringU).

    Paired samples (``paired=True``; the same respondents asked twice, answers aligned by
    position): each respondent's change ``d_i = x_i − y_i`` in {−2..2}; the difference is
    the mean change and its standard error ``sqrt((E[d²] − E[d]²) / n)``, which accounts
    for the covariance between the two answers.

    Args:
        a: Results or raw answers of the first sample.
        b: Results or raw answers of the second sample.
        paired: Paired (panel) test; ``a`` and ``b`` must be raw answer sequences of the
            same length.
        method: ``"wald"`` (default) or ``"adjusted_wald"`` (independent samples only).
        on_invalid: For raw answers; with ``"skip"`` a paired respondent with an invalid
            answer on either side is dropped.

    Raises:
        MetricsError: empty samples, unequal lengths for a paired test, invalid answers.

    Examples:
        >>> c = compare([10, 9, 9, 7, 3] * 40, [10, 8, 6, 5, 3] * 40)
        >>> round(c.difference, 1), c.p_value < 0.05
        (80.0, True)
    """
    check_on_invalid(on_invalid)
    if method not in ("wald", "adjusted_wald"):
        raise MetricsError(f"unknown method {method!r}; use 'wald' or 'adjusted_wald'")
    if paired:
        if method != "wald":
            raise MetricsError("the paired test supports method='wald' only")
        return _compare_paired(a, b, on_invalid)
    first, second = _as_result(a, on_invalid), _as_result(b, on_invalid)
    if not first.n or not second.n:
        raise MetricsError(f"cannot compare: n_a = {first.n}, n_b = {second.n}")
    terms = []
    for result in (first, second):
        shift, extra = (0.75, 3) if method == "adjusted_wald" else (0.0, 0)
        n = result.n + extra
        _, _, net, variance = _shares(result.promoters + shift, result.detractors + shift, n)
        terms.append((net, variance / n))
    difference = 100.0 * (terms[0][0] - terms[1][0])
    standard_error = 100.0 * math.sqrt(terms[0][1] + terms[1][1])
    z = _z(difference, standard_error)
    return NpsComparison(
        difference, standard_error, z, normal_p_value(z), first.n, second.n, False, method
    )


def _sign(score: int) -> int:
    return 1 if score >= 9 else (0 if score >= 7 else -1)


def _compare_paired(a: object, b: object, on_invalid: OnInvalid) -> NpsComparison:
    if isinstance(a, NpsResult) or isinstance(b, NpsResult):
        raise MetricsError("a paired comparison needs the raw answers, not NpsResult objects")
    first = to_list(a, field=None, what="a")
    second = to_list(b, field=None, what="b")
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        raise MetricsError("a paired comparison needs answer sequences, not histograms")
    if len(first) != len(second):
        raise MetricsError(
            f"paired samples must have the same length, got {len(first)} and {len(second)}"
        )
    changes: Counter[int] = Counter()
    for index, (x, y) in enumerate(zip(first, second, strict=True)):
        left, right = integer_score(x, 0, 10), integer_score(y, 0, 10)
        if left is None or right is None:
            if on_invalid == "raise":
                name, value = ("a", x) if left is None else ("b", y)
                raise MetricsError(f"{name}[{index}]: {describe_invalid(value, 0, 10)}")
            continue
        changes[_sign(left) - _sign(right)] += 1
    n = sum(changes.values())
    if not n:
        raise MetricsError("cannot compare: no valid pairs (n = 0)")
    mean = sum(change * count for change, count in changes.items()) / n
    second_moment = sum(change * change * count for change, count in changes.items()) / n
    variance = max(0.0, second_moment - mean * mean)
    difference = 100.0 * mean
    standard_error = 100.0 * math.sqrt(variance / n)
    z = _z(difference, standard_error)
    return NpsComparison(difference, standard_error, z, normal_p_value(z), n, n, True, "wald")


def nps_sample_size(
    margin: float,
    confidence: float = 0.95,
    *,
    promoter_share: float | None = None,
    detractor_share: float | None = None,
) -> int:
    """Respondents needed for a Wald margin of error of ``margin`` NPS points.

    ``n = ceil((z / (margin/100))² · (p + d − (p − d)²))``; without expected shares the
    worst case ``p = d = ½`` (variance 1) is used.

    Examples:
        >>> nps_sample_size(5)        # ±5 points at 95 %, worst case
        1537
        >>> nps_sample_size(5, promoter_share=1/3, detractor_share=1/3)
        1025
    """
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin <= 200:
        raise MetricsError(f"margin must be a number of NPS points in (0, 200], got {margin!r}")
    z = z_value(confidence)
    if (promoter_share is None) != (detractor_share is None):
        raise MetricsError("give both promoter_share and detractor_share, or neither")
    if promoter_share is None or detractor_share is None:
        variance = 1.0
    else:
        for name, share in (
            ("promoter_share", promoter_share),
            ("detractor_share", detractor_share),
        ):
            if (
                isinstance(share, bool)
                or not isinstance(share, (int, float))
                or not 0 <= share <= 1
            ):
                raise MetricsError(f"{name} must be between 0 and 1, got {share!r}")
        if promoter_share + detractor_share > 1:
            raise MetricsError("promoter_share + detractor_share must not exceed 1")
        variance = promoter_share + detractor_share - (promoter_share - detractor_share) ** 2
    if variance == 0:
        return 1
    return max(1, math.ceil((z / (margin / 100.0)) ** 2 * variance - 1e-9))
