"""CSAT and CES: rating scales, satisfied sets, top-box shares and means."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from fractions import Fraction
from typing import Any, Literal

import attrs

from csmkit.errors import MetricsError
from csmkit.metrics._accumulators import same_state
from csmkit.metrics._display import result_html, result_repr
from csmkit.metrics._inputs import (
    OnInvalid,
    check_on_invalid,
    describe_invalid,
    integer_score,
    survey_values,
    to_list,
)
from csmkit.metrics._nps import count_scores
from csmkit.metrics._results import MeanResult, Rate
from csmkit.metrics._surveys import Survey, default_satisfied
from csmkit.timeline import SurveyKind

__all__ = ["RatingAccumulator", "RatingResult", "ces", "csat"]

Convention = Literal["top_box", "mean", "zendesk"]
_UNRATED = frozenset({"offered", "unoffered"})


def _scale(scale: object) -> tuple[int, int]:
    if isinstance(scale, int) and not isinstance(scale, bool):
        low, high = 1, scale
    elif (
        isinstance(scale, tuple)
        and len(scale) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in scale)
    ):
        low, high = scale
    else:
        raise MetricsError(f"scale must be an int (1..scale) or a (low, high) tuple, got {scale!r}")
    if high - low < 1:
        raise MetricsError(f"a scale needs at least two points, got {low}..{high}")
    return low, high


def _satisfied(
    satisfied: Collection[int] | None, low: int, high: int, metric: str, higher_is_better: bool
) -> tuple[int, ...]:
    if satisfied is None:
        return default_satisfied(low, high, metric, higher_is_better)
    out = []
    for index, point in enumerate(satisfied):
        if integer_score(point, low, high) is None:
            raise MetricsError(f"satisfied[{index}]: {describe_invalid(point, low, high)}")
        out.append(int(point))
    if not out:
        raise MetricsError("satisfied must name at least one scale point")
    return tuple(sorted(set(out)))


@attrs.frozen
class RatingResult:
    """A CSAT or CES result on an explicit scale.

    ``score`` is a percentage of *satisfied* answers for the ``top_box`` and ``zendesk``
    conventions (``interval`` is then a Wilson interval in percent) and the mean rating
    for ``mean`` (``interval`` is then a Student t interval on the scale's units).

    Attributes:
        metric: ``"csat"`` or ``"ces"``.
        convention: ``"top_box"``, ``"mean"`` or ``"zendesk"``.
        low: Lowest scale point.
        high: Highest scale point.
        satisfied: The scale points counted as satisfied (CES: as *easy*).
        counts: Answers per scale point ``low..high``.
        higher_is_better: Polarity of the scale (CEB's original CES: ``False``).
        skipped: Invalid answers left out.
        unrated: Zendesk ``offered``/``unoffered``/``None`` answers (excluded).
        missing: Timelines without an answer of this kind.
    """

    metric: str
    convention: str
    low: int
    high: int
    satisfied: tuple[int, ...]
    counts: tuple[int, ...]
    higher_is_better: bool = True
    skipped: int = 0
    unrated: int = 0
    missing: int = 0

    __repr__ = result_repr

    def _repr_html_(self) -> str:
        """The score, interval and ``n`` as HTML (Jupyter)."""
        return result_html(self)

    @property
    def n(self) -> int:
        """Number of valid answers."""
        return sum(self.counts)

    @property
    def satisfied_count(self) -> int:
        """Answers in the satisfied set."""
        return sum(self.counts[point - self.low] for point in self.satisfied)

    @property
    def rate(self) -> Rate:
        """Satisfied share as a [`Rate`][csmkit.metrics.Rate] (whatever the convention)."""
        return Rate(self.satisfied_count, self.n, name=f"{self.metric}_top_box")

    @property
    def moments(self) -> MeanResult:
        """Exact mean and variance of the ratings."""
        total = sum(count * (self.low + i) for i, count in enumerate(self.counts))
        squares = sum(count * (self.low + i) ** 2 for i, count in enumerate(self.counts))
        return MeanResult(self.n, Fraction(total), Fraction(squares), name=f"{self.metric}_mean")

    @property
    def mean(self) -> float | None:
        """Mean rating, ``None`` when ``n = 0``."""
        return self.moments.mean

    @property
    def score(self) -> float | None:
        """Percent satisfied (top-box, Zendesk) or mean rating (mean)."""
        if self.convention == "mean":
            return self.mean
        return self.rate.score

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson interval in percent, or a t interval of the mean (``mean``)."""
        if self.convention == "mean":
            return self.moments.interval(confidence)
        return self.rate.interval(confidence)

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Plain dict of the definition, counts, score and interval."""
        out: dict[str, Any] = {
            "metric": self.metric,
            "convention": self.convention,
            "scale": [self.low, self.high],
            "satisfied": list(self.satisfied),
            "higher_is_better": self.higher_is_better,
            "counts": {str(self.low + i): c for i, c in enumerate(self.counts)},
            "n": self.n,
            "score": self.score,
            "mean": self.mean,
            "confidence": confidence,
            "low": None,
            "high": None,
            "skipped": self.skipped,
            "unrated": self.unrated,
            "missing": self.missing,
        }
        if self.n >= (2 if self.convention == "mean" else 1):
            out["low"], out["high"] = self.interval(confidence)
        return out


class RatingAccumulator:
    """Mergeable CSAT/CES state: a histogram over the scale."""

    __slots__ = (
        "convention",
        "counts",
        "high",
        "higher_is_better",
        "low",
        "metric",
        "missing",
        "on_invalid",
        "satisfied",
        "skipped",
        "unrated",
    )

    def __init__(
        self,
        metric: Literal["csat", "ces"] = "csat",
        *,
        scale: int | tuple[int, int] = 5,
        satisfied: Collection[int] | None = None,
        convention: Convention = "top_box",
        higher_is_better: bool = True,
        on_invalid: OnInvalid = "raise",
    ) -> None:
        if metric not in ("csat", "ces"):
            raise MetricsError(f"metric must be 'csat' or 'ces', got {metric!r}")
        if convention not in ("top_box", "mean", "zendesk"):
            raise MetricsError(
                f"convention must be 'top_box', 'mean' or 'zendesk', got {convention!r}"
            )
        if not isinstance(higher_is_better, bool):
            raise MetricsError(f"higher_is_better must be a bool, got {higher_is_better!r}")
        self.metric = metric
        self.convention = convention
        self.low, self.high = _scale(scale)
        self.higher_is_better = higher_is_better
        self.satisfied = _satisfied(satisfied, self.low, self.high, metric, higher_is_better)
        self.on_invalid = check_on_invalid(on_invalid)
        self.counts = [0] * (self.high - self.low + 1)
        self.skipped = self.unrated = self.missing = 0

    def __eq__(self, other: object) -> bool:
        return same_state(self, other)

    def _zendesk(self, values: list[Any]) -> list[Any]:
        top = self.high if self.higher_is_better else self.low
        bottom = self.low if self.higher_is_better else self.high
        out = []
        for value in values:
            # Exports spell the labels "Good", "bad", " GOOD " …: match them like Zendesk.
            label = value.strip().casefold() if isinstance(value, str) else None
            if value is None or label in _UNRATED:
                self.unrated += 1
            elif label == "good":
                out.append(top)
            elif label == "bad":
                out.append(bottom)
            else:
                out.append(value)  # rejected (or counted) with its position below
        return out

    def update(self, rating: Any) -> RatingAccumulator:
        """Add one answer."""
        return self.update_many([rating])

    def update_many(self, ratings: Any, *, field: str | None = None) -> RatingAccumulator:
        """Add many answers (any input [`csat()`][csmkit.metrics.csat] accepts)."""
        data = to_list(ratings, field=field, what="ratings")
        if not isinstance(data, Mapping):
            kind = SurveyKind.CSAT if self.metric == "csat" else SurveyKind.CES
            data, missing = survey_values(data, kind, (self.low, self.high))
            self.missing += missing
            if self.convention == "zendesk":
                data = self._zendesk(data)
        counts, skipped = count_scores(data, self.low, self.high, self.on_invalid, "ratings")
        for index, count in enumerate(counts):
            self.counts[index] += count
        self.skipped += skipped
        return self

    def merge(self, other: RatingAccumulator) -> RatingAccumulator:
        """Add ``other``'s histogram (same metric, scale, satisfied set and convention)."""
        if not isinstance(other, RatingAccumulator) or (
            other.metric,
            other.convention,
            other.low,
            other.high,
            other.satisfied,
            other.higher_is_better,
        ) != (
            self.metric,
            self.convention,
            self.low,
            self.high,
            self.satisfied,
            self.higher_is_better,
        ):
            raise MetricsError("cannot merge rating accumulators with different definitions")
        for index, count in enumerate(other.counts):
            self.counts[index] += count
        self.skipped += other.skipped
        self.unrated += other.unrated
        self.missing += other.missing
        return self

    def result(self) -> RatingResult:
        """The result so far."""
        return RatingResult(
            self.metric,
            self.convention,
            self.low,
            self.high,
            self.satisfied,
            tuple(self.counts),
            higher_is_better=self.higher_is_better,
            skipped=self.skipped,
            unrated=self.unrated,
            missing=self.missing,
        )


def csat(
    ratings: Iterable[Any] | Mapping[Any, int] | Any,
    *,
    survey: Survey | None = None,
    scale: int | tuple[int, int] | None = None,
    satisfied: Collection[int] | None = None,
    convention: Convention | None = None,
    field: str | None = None,
    on_invalid: OnInvalid = "raise",
) -> RatingResult:
    """Customer satisfaction score.

    Conventions:

    * ``"top_box"`` (default): percent of answers in ``satisfied`` (default: the top 2 of
      a 4- to 7-point scale, top 1 of 3, top 3 of 10 — Formbricks' rule); neutral answers
      stay in the denominator (Simplesat: 7 positive, 1 neutral, 2 negative → 70 %).
    * ``"zendesk"``: ``good / (good + bad)``; accepts ``"good"``/``"bad"`` labels as
      well as numbers (on 1–5, 4–5 good and 1–3 bad); ``None``, ``"offered"`` and
      ``"unoffered"`` are unrated and excluded (counted in ``unrated``). Labels are
      matched ignoring case and surrounding whitespace (``"Good"``, ``" BAD "``); any
      other text is an invalid answer.
    * ``"mean"``: the average rating (Podium's 5, 3, 4, 3 → 3.75), t interval.

    A [`Survey`][csmkit.metrics.Survey] gives the scale, satisfied set and convention at once (then
    pass none of them). Timelines' answers stamped with a scale (a desk's declared survey
    stamps its name and scale) must be on the scale computed, never silently mixed.

    Args:
        ratings: Integers on the scale, a ``{rating: count}`` mapping, rows with
            ``field``, pandas/NumPy data, or timelines (latest CSAT answer of each).
        survey: A CSAT [`Survey`][csmkit.metrics.Survey] definition.
        scale: ``5`` for 1..5 (the default), or ``(low, high)`` such as ``(0, 10)``.
        satisfied: Scale points counted as satisfied.
        convention: See above (default ``"top_box"``).
        field: Column or key to read from rows.
        on_invalid: ``"raise"`` or ``"skip"``.

    Raises:
        MetricsError: a rating is not an integer on the scale (the message names it and
            its position), an answer was recorded on another scale, or the definition
            is inconsistent (``survey`` together with ``scale``/``satisfied``/
            ``convention``, a survey that is not CSAT).

    Examples:
        >>> csat(["good"] * 8 + ["bad"] * 2, convention="zendesk").score   # Assembled's example
        80.0
        >>> csat([5, 3, 4, 3], convention="mean").score                     # Podium's example
        3.75
        >>> ten = Survey("csat-10", "csat", scale=(0, 10), convention="mean")
        >>> csat([10, 9, 7, 8], survey=ten).score
        8.5
    """
    if survey is not None:
        if not isinstance(survey, Survey) or survey.kind is not SurveyKind.CSAT:
            raise MetricsError(f"survey must be a CSAT Survey, got {survey!r}")
        given = [
            name
            for name, value in (
                ("scale", scale),
                ("satisfied", satisfied),
                ("convention", convention),
            )
            if value is not None
        ]
        if given:
            raise MetricsError(f"pass survey= or {', '.join(given)}=, not both")
        accumulator = survey.accumulator()
        assert isinstance(accumulator, RatingAccumulator)
        accumulator.on_invalid = check_on_invalid(on_invalid)
    else:
        accumulator = RatingAccumulator(
            "csat",
            scale=5 if scale is None else scale,
            satisfied=satisfied,
            convention="top_box" if convention is None else convention,
            on_invalid=on_invalid,
        )
    return accumulator.update_many(ratings, field=field).result()


def ces(
    scores: Iterable[Any] | Mapping[Any, int] | Any,
    *,
    scale: int | tuple[int, int] = 7,
    higher_is_better: bool = True,
    convention: Literal["mean", "top_box"] = "mean",
    easy: Collection[int] | None = None,
    field: str | None = None,
    on_invalid: OnInvalid = "raise",
) -> RatingResult:
    """Customer Effort Score: the mean (default) or the percent of *easy* answers.

    CES 2.0 asks agreement with "the company made it easy to handle my issue" on 1–7,
    higher is easier (the default); CEB's original item is 1–5 with higher meaning *more*
    effort (``scale=5, higher_is_better=False``). The polarity is stored in the result.

    Args:
        scores: As for [`csat()`][csmkit.metrics.csat].
        scale: ``7`` for 1..7 or ``(low, high)``.
        higher_is_better: ``True`` when a higher answer means less effort.
        convention: ``"mean"`` or ``"top_box"`` (percent easy).
        easy: Scale points counted as easy (default: 5–7 of 7, 1–2 of CEB's 1–5).
        field: Column or key to read from rows.
        on_invalid: ``"raise"`` or ``"skip"``.

    Examples:
        >>> r = ces([7, 6, 5, 2, 7])
        >>> r.score, ces([7, 6, 5, 2, 7], convention="top_box").score
        (5.4, 80.0)
    """
    if convention not in ("mean", "top_box"):
        raise MetricsError(f"CES convention must be 'mean' or 'top_box', got {convention!r}")
    accumulator = RatingAccumulator(
        "ces",
        scale=scale,
        satisfied=easy,
        convention=convention,
        higher_is_better=higher_is_better,
        on_invalid=on_invalid,
    )
    return accumulator.update_many(scores, field=field).result()
