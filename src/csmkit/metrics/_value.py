"""Value metrics: ROI, LTV conventions, churn/retention and the retention-uplift model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._results import Rate

__all__ = [
    "ChurnResult",
    "LtvResult",
    "RetentionUplift",
    "RoiResult",
    "churn",
    "ltv",
    "retention_uplift",
    "roi",
]

LtvConvention = Literal["margin_multiple", "first_margin_now", "end_of_period", "simple"]
Period = Literal["day", "week", "month", "quarter", "year"]
_PER_YEAR = {"day": 365.25, "week": 365.25 / 7, "month": 12.0, "quarter": 4.0, "year": 1.0}


def _number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise MetricsError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if low is not None and (number < low or (low_open and number == low)):
        raise MetricsError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and (number > high or (high_open and number == high)):
        raise MetricsError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value!r}")
    return number


@attrs.frozen
class RoiResult:
    """``ROI = (LTV gain + cost savings − investment) / investment`` with its breakdown.

    Attributes:
        ltv_gain: Incremental lifetime value (a margin, discounted to the investment date).
        cost_savings: Efficiency savings over the same horizon.
        investment: Total investment (> 0).
        roi: The ratio (1.0 = 100 %).
    """

    ltv_gain: float
    cost_savings: float
    investment: float
    roi: float

    @property
    def net_gain(self) -> float:
        """``ltv_gain + cost_savings − investment``."""
        return self.ltv_gain + self.cost_savings - self.investment

    @property
    def score(self) -> float:
        """ROI in percent."""
        return 100.0 * self.roi

    def to_dict(self) -> dict[str, Any]:
        """The breakdown as a dict."""
        return {
            "ltv_gain": self.ltv_gain,
            "cost_savings": self.cost_savings,
            "gross_gain": self.ltv_gain + self.cost_savings,
            "investment": self.investment,
            "net_gain": self.net_gain,
            "roi": self.roi,
            "roi_percent": self.score,
        }


def roi(*, ltv_gain: float, cost_savings: float = 0.0, investment: float) -> RoiResult:
    """Return on investment of a service initiative.

    Examples:
        >>> r = roi(ltv_gain=250_000, cost_savings=150_000, investment=200_000)
        >>> r.roi, r.net_gain
        (1.0, 200000.0)

    Raises:
        MetricsError: ``investment <= 0`` (ROI is undefined) or a value is not a number.
    """
    gain = _number("ltv_gain", ltv_gain)
    savings = _number("cost_savings", cost_savings)
    spent = _number("investment", investment, low=0.0, low_open=True)
    return RoiResult(gain, savings, spent, (gain + savings - spent) / spent)


@attrs.frozen
class LtvResult:
    """A customer lifetime value and the assumptions behind it.

    Attributes:
        value: Expected lifetime value, in the margin's currency.
        convention: Which formula (see [`ltv()`][csmkit.metrics.ltv]).
        margin: Margin per period.
        retention: Retention per period.
        discount_rate: Discount rate per period.
        period: The period unit of all three.
        horizon: Number of periods (``None`` = infinite).
    """

    value: float
    convention: str
    margin: float
    retention: float
    discount_rate: float
    period: str
    horizon: int | None

    @property
    def score(self) -> float:
        """Same as `value`."""
        return self.value

    def to_dict(self) -> dict[str, Any]:
        """All fields as a dict."""
        return attrs.asdict(self)


def ltv(
    *,
    margin: float,
    retention: float,
    discount_rate: float = 0.0,
    period: Period = "year",
    annual_discount_rate: float | None = None,
    convention: LtvConvention = "margin_multiple",
    horizon: int | None = None,
) -> LtvResult:
    """Customer lifetime value with constant margin and retention (Fader & Hardie 2012).

    The three textbook conventions differ in whether the first margin is counted and when
    cash flows are booked (``d`` = discount rate, ``r`` = retention, ``m`` = margin, all per
    ``period``):

    * ``"margin_multiple"`` (Gupta & Lehmann 2003; Kotler & Keller): ``m·r/(1+d−r)`` — the
      first margin is already earned;
    * ``"first_margin_now"`` (Blattberg et al. 2008): ``m(1+d)/(1+d−r)``;
    * ``"end_of_period"`` (Ofek 2002): ``m/(1+d−r)``;
    * ``"simple"``: ``m/(1−r)``, undiscounted (needs ``discount_rate = 0``).

    With ``horizon = T`` the sum is truncated after ``T`` periods (a truncated CLV).

    Args:
        margin: Margin (not revenue) per period.
        retention: Retention probability per period, ``0 <= r < 1``.
        discount_rate: Discount rate per period.
        period: The unit of ``margin``, ``retention`` and ``discount_rate``.
        annual_discount_rate: Alternatively a yearly rate, converted to ``period`` by
            compounding (``(1 + d_year)^(1/k) − 1``).
        convention: See above.
        horizon: Number of periods, ``None`` for infinite.

    Examples:
        >>> [round(ltv(margin=100, retention=0.8, discount_rate=0.1, convention=c).value, 2)
        ...  for c in ("first_margin_now", "margin_multiple", "end_of_period")]
        [366.67, 266.67, 333.33]
    """
    m = _number("margin", margin)
    r = _number("retention", retention, low=0.0, high=1.0, high_open=True)
    if period not in _PER_YEAR:
        raise MetricsError(f"period must be one of {', '.join(_PER_YEAR)}, got {period!r}")
    if annual_discount_rate is not None:
        if discount_rate:
            raise MetricsError("give discount_rate or annual_discount_rate, not both")
        yearly = _number("annual_discount_rate", annual_discount_rate, low=0.0)
        d = (1.0 + yearly) ** (1.0 / _PER_YEAR[period]) - 1.0
    else:
        d = _number("discount_rate", discount_rate, low=0.0)
    if horizon is not None and (
        isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1
    ):
        raise MetricsError(f"horizon must be a positive number of periods, got {horizon!r}")
    if convention == "simple":
        if d:
            raise MetricsError("the 'simple' convention is undiscounted; use discount_rate=0")
        first, factor = m, r  # m·Σ r^t, t = 0..
    elif convention == "margin_multiple":
        first, factor = m * r / (1.0 + d), r / (1.0 + d)
    elif convention == "first_margin_now":
        first, factor = m, r / (1.0 + d)
    elif convention == "end_of_period":
        first, factor = m / (1.0 + d), r / (1.0 + d)
    else:
        raise MetricsError(
            f"unknown convention {convention!r}; use margin_multiple, first_margin_now, "
            "end_of_period or simple"
        )
    if horizon is None:
        value = first / (1.0 - factor)
    else:
        value = first * (1.0 - factor**horizon) / (1.0 - factor)
    return LtvResult(value, convention, m, r, d, period, horizon)


@attrs.frozen
class ChurnResult:
    """Churn between two snapshots of active customers.

    Attributes:
        churned: Customers of the starting base missing at the end (a
            [`Rate`][csmkit.metrics.Rate]).
        retained: Customers of the starting base still active (a [`Rate`][csmkit.metrics.Rate]).
        new: Customers active at the end that were not in the starting base (not part of
            the denominator).
    """

    churned: Rate
    retained: Rate
    new: int

    @property
    def expected_lifetime(self) -> float | None:
        """``1 / churn`` periods under a constant-hazard assumption (``None`` if no churn)."""
        rate = self.churned.rate
        return None if not rate else 1.0 / rate

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Both rates and the count of new customers."""
        return {
            "churned": self.churned.to_dict(confidence),
            "retained": self.retained.to_dict(confidence),
            "new": self.new,
            "expected_lifetime": self.expected_lifetime,
        }


def churn(start: Iterable[Any], end: Iterable[Any]) -> ChurnResult:
    """Logo churn from the customers active at the start and at the end of a period.

    The denominator is the starting base; customers acquired inside the period are
    reported as ``new`` and left out (cohort convention).

    Examples:
        >>> r = churn({"a", "b", "c", "d"}, {"a", "b", "c", "e"})
        >>> r.churned.score, r.retained.score, r.new
        (25.0, 75.0, 1)
    """
    base, after = set(start), set(end)
    lost = len(base - after)
    return ChurnResult(
        churned=Rate(lost, len(base), name="churn"),
        retained=Rate(len(base) - lost, len(base), name="retention"),
        new=len(after - base),
    )


@attrs.frozen
class RetentionUplift:
    """What ``retention → new_retention`` is worth, under stated assumptions.

    Attributes:
        retention: Retention per period before.
        new_retention: Retention per period after.
        discount_rate: Discount rate per period.
        clv_multiple_before: ``r/(1+d−r)`` before (Gupta–Lehmann margin multiple).
        clv_multiple_after: The same after.
        clv_uplift: Relative change of the multiple (0.275 = +27.5 %).
        profit_before: Steady-state profit per period before (when margin, acquisition
            cost and new customers per period were given), else ``None``.
        profit_after: The same after.
        profit_uplift: Relative change of the steady-state profit, or ``None``.
        assumptions: The inputs, in words.
    """

    retention: float
    new_retention: float
    discount_rate: float
    clv_multiple_before: float
    clv_multiple_after: float
    clv_uplift: float
    profit_before: float | None
    profit_after: float | None
    profit_uplift: float | None
    assumptions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """All fields as a dict."""
        out = attrs.asdict(self)
        out["assumptions"] = list(self.assumptions)
        return out


def retention_uplift(
    retention: float,
    new_retention: float,
    *,
    discount_rate: float = 0.1,
    margin: float | None = None,
    acquisition_cost: float | None = None,
    new_customers: float | None = None,
) -> RetentionUplift:
    """Compute "k points more retention → y % more value" instead of quoting a slogan.

    Two views (research note §1.12): the CLV margin multiple ``r/(1+d−r)``, and — when
    ``margin``, ``acquisition_cost`` and ``new_customers`` per period are given — the
    steady-state profit ``m·A/(1−r) − CAC·A`` of a customer base fed by ``A`` new customers
    a period. Fixed acquisition spend is what turns a ~30 % value effect into Bain's
    25–95 % profit range.

    Examples:
        >>> u = retention_uplift(0.80, 0.85, discount_rate=0.1, margin=100,
        ...                      acquisition_cost=150, new_customers=1000)
        >>> round(u.clv_uplift * 100, 1), round(u.profit_uplift * 100, 1)
        (27.5, 47.6)
    """
    r0 = _number("retention", retention, low=0.0, high=1.0, high_open=True)
    r1 = _number("new_retention", new_retention, low=0.0, high=1.0, high_open=True)
    d = _number("discount_rate", discount_rate, low=0.0)
    before, after = r0 / (1.0 + d - r0), r1 / (1.0 + d - r1)
    if before == 0:
        raise MetricsError("retention 0 has no CLV multiple to compare against")
    assumptions = [
        f"retention per period {r0:g} → {r1:g}",
        f"discount rate per period {d:g}",
        "constant margin and retention; CLV multiple r/(1+d−r) (Gupta & Lehmann 2003)",
    ]
    profit_before = profit_after = profit_uplift = None
    given = [margin is not None, acquisition_cost is not None, new_customers is not None]
    if any(given) and not all(given):
        raise MetricsError("give margin, acquisition_cost and new_customers together, or none")
    if margin is not None and acquisition_cost is not None and new_customers is not None:
        m = _number("margin", margin)
        cac = _number("acquisition_cost", acquisition_cost, low=0.0)
        a = _number("new_customers", new_customers, low=0.0, low_open=True)
        profit_before = m * a / (1.0 - r0) - cac * a
        profit_after = m * a / (1.0 - r1) - cac * a
        profit_uplift = None if profit_before == 0 else profit_after / profit_before - 1.0
        assumptions.append(
            f"steady state: {a:g} new customers a period, margin {m:g}, acquisition cost "
            f"{cac:g}; profit = m·A/(1−r) − CAC·A"
        )
    return RetentionUplift(
        r0,
        r1,
        d,
        before,
        after,
        after / before - 1.0,
        profit_before,
        profit_after,
        profit_uplift,
        tuple(assumptions),
    )
