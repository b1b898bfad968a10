"""Small, standard-library-only statistics: z and t quantiles, Wilson, p-values.

Everything here uses `statistics.NormalDist` and closed forms; NumPy and SciPy are
never needed. The Student t quantile is computed from the regularised incomplete beta
function (continued fraction, Numerical Recipes §6.4) and inverted by bisection; it agrees
with published tables to better than 1e-9.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from csmkit.errors import MetricsError

__all__ = [
    "check_confidence",
    "normal_p_value",
    "student_t_quantile",
    "wilson_interval",
    "z_value",
]

_NORMAL = NormalDist()


def check_confidence(confidence: object) -> float:
    """Return ``confidence`` as a float strictly between 0 and 1, or raise."""
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise MetricsError(f"confidence must be a number between 0 and 1, got {confidence!r}")
    value = float(confidence)
    if not 0.0 < value < 1.0:
        raise MetricsError(
            f"confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence!r}"
        )
    return value


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile for ``confidence`` (1.959964 for 0.95).

    Examples:
        >>> round(z_value(0.95), 6)
        1.959964
    """
    return _NORMAL.inv_cdf(0.5 + check_confidence(confidence) / 2.0)


def normal_p_value(z: float) -> float:
    """Two-sided p-value of a standard normal test statistic ``z``."""
    if math.isnan(z):
        raise MetricsError("test statistic is NaN")
    if math.isinf(z):
        return 0.0
    return 2.0 * _NORMAL.cdf(-abs(z))


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions in ``[0, 1]``.

    E. B. Wilson (1927); the same numbers as
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.

    Args:
        successes: Number of successes, ``0 <= successes <= trials``.
        trials: Number of trials, at least 1.
        confidence: Two-sided confidence level.

    Raises:
        MetricsError: ``trials`` is 0 (no interval exists) or the counts are inconsistent.

    Examples:
        >>> low, high = wilson_interval(8, 10)
        >>> round(low, 4), round(high, 4)
        (0.4902, 0.9433)
    """
    if trials <= 0:
        raise MetricsError("no interval for n = 0: there is no data")
    if not 0 <= successes <= trials:
        raise MetricsError(f"successes must be between 0 and {trials}, got {successes}")
    z = z_value(confidence)
    p = successes / trials
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2.0 * trials)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)) / denominator
    # Clamp rounding noise; at p = 0 or 1 the exact bound is 0 or 1.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def _student_t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0."""
    return 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def student_t_quantile(confidence: float, df: float) -> float:
    """Two-sided Student t critical value: P(|T| <= t) = ``confidence`` with ``df`` degrees.

    Examples:
        >>> round(student_t_quantile(0.95, 10), 6)
        2.228139
    """
    level = check_confidence(confidence)
    if df <= 0:
        raise MetricsError(f"degrees of freedom must be positive, got {df}")
    tail = (1.0 - level) / 2.0
    low, high = 0.0, 1.0
    while _student_t_upper_tail(high, df) > tail:
        high *= 2.0
        if high > 1e12:  # pragma: no cover - only for absurd confidence levels
            break
    for _ in range(200):
        middle = (low + high) / 2.0
        if _student_t_upper_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * max(1.0, high):
            break
    return (low + high) / 2.0
