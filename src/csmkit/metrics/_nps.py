"""Net Promoter Score with honest statistics (Reichheld 2003; Rocks 2016)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import compress
from operator import countOf
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
from csmkit.metrics._stats import z_value
from csmkit.timeline import SurveyKind

__all__ = [
    "NpsAccumulator",
    "NpsResult",
    "count_scores",
    "nps",
]

IntervalMethod = Literal["adjusted_wald", "wald"]


# Bytes 0 and 1 (a possible False / True) map to 1, every other byte to 0.
_ZERO_OR_ONE = bytes([1, 1] + [0] * 254)


def _has_bool(data: list[Any]) -> bool:
    """Whether ``data`` holds a ``bool`` (a C-level pass over the types)."""
    return bool(countOf(map(type, data), bool))


def _count_small_ints(data: list[Any], low: int, high: int) -> list[int] | None:
    """Histogram of ``data`` when every item is an integer score in ``[low, high]``.

    ``None`` when any item is not (a float, a bool, a value off the scale …): the caller
    then takes the general path, which names the offender. ``bytearray(data)`` converts
    a list of small ints at C speed (about 3 ns per item) and ``bytearray.count`` counts
    one value at memory speed, which together beat a ``Counter`` pass. ``bytearray``
    accepts ``True``/``False`` as 1/0, so the items that became byte 0 or 1 — picked
    out by ``compress`` over a translated mask, without a Python-level loop — are checked
    for being booleans.
    """
    try:
        buffer = bytearray(data)
    except (TypeError, ValueError):  # non-integers, negatives, values above 255
        return None
    if buffer.translate(None, bytes(range(low, high + 1))):
        return None  # values off the scale
    counts = [buffer.count(value) for value in range(low, high)]
    counts.append(len(buffer) - sum(counts))
    if low <= 1 and countOf(map(type, compress(data, buffer.translate(_ZERO_OR_ONE))), bool):
        return None
    return counts


def count_scores(
    data: list[Any] | Mapping[Any, Any],
    low: int,
    high: int,
    on_invalid: OnInvalid,
    what: str,
) -> tuple[list[int], int]:
    """Histogram of integer scores in ``[low, high]``: (counts, skipped).

    Lists of small ints (the common case) take `_count_small_ints()`; other data
    one C-level ``Counter`` pass followed by arithmetic over the few distinct keys, plus
    a type pass when a key 0 or 1 might hide a merged ``False``/``True``. Only when an
    invalid value shows up is the data scanned again to name the first offending
    position (or, with ``on_invalid="skip"``, to count exactly). Booleans are always
    rejected, wherever they stand.
    """
    counts = [0] * (high - low + 1)
    if isinstance(data, Mapping):
        items: Iterable[tuple[Any, Any]] = data.items()
        skipped = 0
        for key, count in items:
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise MetricsError(
                    f"{what}[{key!r}]: a count must be an integer >= 0, got {count!r}"
                )
            score = integer_score(key, low, high)
            if score is None:
                if on_invalid == "raise":
                    raise MetricsError(f"{what}[{key!r}]: {describe_invalid(key, low, high)}")
                skipped += count
            else:
                counts[score - low] += count
        return counts, skipped
    if low >= 0 and high <= 255:
        fast = _count_small_ints(data, low, high)
        if fast is not None:
            return fast, 0
    try:
        counter: Counter[Any] | None = Counter(data)
    except TypeError:  # an unhashable item; the slow path names it
        counter = None
    if counter is not None:
        clean = True
        for key, count in counter.items():
            score = integer_score(key, low, high)
            if score is None:
                clean = False
                break
            counts[score - low] += count
        # Counter merges True into an earlier 1 (and False into 0): they are equal keys.
        if clean and (low <= 1 and (1 in counter or 0 in counter)) and _has_bool(data):
            clean = False
        if clean:
            return counts, 0
        counts = [0] * (high - low + 1)
    skipped = 0
    for index, value in enumerate(data):
        score = integer_score(value, low, high)
        if score is None:
            if on_invalid == "raise":
                raise MetricsError(f"{what}[{index}]: {describe_invalid(value, low, high)}")
            skipped += 1
        else:
            counts[score - low] += 1
    return counts, skipped


def _check_counts(counts: tuple[int, ...]) -> None:
    if (
        not isinstance(counts, tuple)
        or len(counts) != 11
        or any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts)
    ):
        raise MetricsError(
            f"NPS counts must be a tuple of 11 integers >= 0 (scores 0..10), got {counts!r}"
        )


def _shares(promoters: float, detractors: float, n: float) -> tuple[float, float, float, float]:
    """(p, d, nps on −1..1, per-respondent variance) for possibly adjusted counts."""
    p, d = promoters / n, detractors / n
    net = p - d
    # p + d − (p − d)² = p(1 − p) + d(1 − d) + 2pd: the trinomial variance (Rocks 2016).
    variance = max(0.0, p + d - net * net)
    return p, d, net, variance


@attrs.frozen
class NpsResult:
    """Net Promoter Score of a set of 0–10 answers.

    Promoters answer 9–10, passives 7–8, detractors 0–6; ``score = 100 · (P − D) / n``
    with unrounded shares. Each respondent scores +1/0/−1, so the per-respondent variance
    is ``p + d − (p − d)²`` and the standard error ``sqrt(variance / n)``.

    With ``n = 0`` the shares, score and errors are ``None`` and the interval methods
    raise [`MetricsError`][csmkit.errors.MetricsError].

    Attributes:
        counts: Number of answers for each score 0..10.
        skipped: Invalid answers left out (``on_invalid="skip"``).
        missing: Timelines without an NPS answer.
    """

    __repr__ = result_repr

    def _repr_html_(self) -> str:
        """The score, interval and ``n`` as HTML (Jupyter)."""
        return result_html(self)

    counts: tuple[int, ...]
    skipped: int = 0
    missing: int = 0

    def __attrs_post_init__(self) -> None:
        _check_counts(self.counts)

    @property
    def n(self) -> int:
        """Number of valid answers."""
        return sum(self.counts)

    @property
    def promoters(self) -> int:
        """Answers of 9 or 10."""
        return self.counts[9] + self.counts[10]

    @property
    def passives(self) -> int:
        """Answers of 7 or 8."""
        return self.counts[7] + self.counts[8]

    @property
    def detractors(self) -> int:
        """Answers of 0 to 6."""
        return sum(self.counts[:7])

    def _share(self, count: int) -> float | None:
        n = self.n
        return count / n if n else None

    @property
    def promoter_share(self) -> float | None:
        """Promoters / n."""
        return self._share(self.promoters)

    @property
    def passive_share(self) -> float | None:
        """Passives / n."""
        return self._share(self.passives)

    @property
    def detractor_share(self) -> float | None:
        """Detractors / n."""
        return self._share(self.detractors)

    @property
    def net(self) -> float | None:
        """NPS on the −1..1 scale used by Rocks (2016) and the R ``NPS`` package."""
        n = self.n
        return (self.promoters - self.detractors) / n if n else None

    @property
    def score(self) -> float | None:
        """NPS in points, −100..100."""
        n = self.n
        return 100.0 * (self.promoters - self.detractors) / n if n else None

    @property
    def variance(self) -> float | None:
        """Per-respondent variance ``p + d − (p − d)²`` on the −1..1 scale."""
        n = self.n
        return _shares(self.promoters, self.detractors, n)[3] if n else None

    @property
    def standard_error(self) -> float | None:
        """Standard error of [`score`][csmkit.metrics.NpsResult.score], in NPS points."""
        variance = self.variance
        return None if variance is None else 100.0 * math.sqrt(variance / self.n)

    def _require_data(self) -> None:
        if not self.n:
            raise MetricsError("NPS: no data (n = 0)")

    def margin_of_error(self, confidence: float = 0.95) -> float:
        """Wald margin of error ``z · SE`` in NPS points (half the Wald interval's width)."""
        self._require_data()
        standard_error = self.standard_error
        assert standard_error is not None
        return z_value(confidence) * standard_error

    @property
    def adjusted_score(self) -> float | None:
        """The adjusted-Wald point estimate: +¾ promoter, +¾ detractor, +3 respondents."""
        if not self.n:
            return None
        return 100.0 * _shares(self.promoters + 0.75, self.detractors + 0.75, self.n + 3)[2]

    def interval(
        self, confidence: float = 0.95, method: IntervalMethod = "adjusted_wald"
    ) -> tuple[float, float]:
        """Confidence interval in NPS points, clipped to ``[−100, 100]``.

        Args:
            confidence: Two-sided level.
            method: ``"adjusted_wald"`` (default; Rocks 2016, Lewis & Sauro — add ¾ to
                promoters and detractors and 3 to n; centred on
                [`adjusted_score`][csmkit.metrics.NpsResult.adjusted_score], so for tiny extreme
                samples it may exclude the raw score) or ``"wald"`` (``score ± margin_of_error``).

        Raises:
            MetricsError: ``n = 0``, an unknown method, or a bad confidence.
        """
        self._require_data()
        z = z_value(confidence)
        if method == "wald":
            centre = self.score
            assert centre is not None
            half = self.margin_of_error(confidence)
        elif method == "adjusted_wald":
            n_adjusted = self.n + 3
            _, _, net, variance = _shares(self.promoters + 0.75, self.detractors + 0.75, n_adjusted)
            centre = 100.0 * net
            half = z * 100.0 * math.sqrt(variance / n_adjusted)
        else:
            raise MetricsError(f"unknown interval method {method!r}; use 'adjusted_wald' or 'wald'")
        return max(-100.0, centre - half), min(100.0, centre + half)

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """Plain dict: counts, shares, score, SE, margin of error and both intervals."""
        out: dict[str, Any] = {
            "n": self.n,
            "score": self.score,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "promoter_share": self.promoter_share,
            "passive_share": self.passive_share,
            "detractor_share": self.detractor_share,
            "variance": self.variance,
            "standard_error": self.standard_error,
            "confidence": confidence,
            "margin_of_error": None,
            "wald": None,
            "adjusted_wald": None,
            "counts": list(self.counts),
            "skipped": self.skipped,
            "missing": self.missing,
        }
        if self.n:
            out["margin_of_error"] = self.margin_of_error(confidence)
            out["wald"] = list(self.interval(confidence, "wald"))
            out["adjusted_wald"] = list(self.interval(confidence, "adjusted_wald"))
        return out


class NpsAccumulator:
    """Mergeable NPS state: the 11-bin histogram of answers.

    Examples:
        >>> left, right = NpsAccumulator(), NpsAccumulator()
        >>> _ = left.update_many([10, 9, 3]); _ = right.update(7)
        >>> left.merge(right).result().score
        25.0
    """

    __slots__ = ("counts", "missing", "on_invalid", "seen", "skipped")

    def __init__(self, *, on_invalid: OnInvalid = "raise") -> None:
        self.on_invalid = check_on_invalid(on_invalid)
        self.counts = [0] * 11
        self.seen = 0
        self.skipped = 0
        self.missing = 0

    def __eq__(self, other: object) -> bool:
        return same_state(self, other)

    def update(self, score: int) -> NpsAccumulator:
        """Add one answer (an integer 0..10)."""
        value = integer_score(score, 0, 10)
        position = self.seen
        self.seen += 1
        if value is None:
            if self.on_invalid == "raise":
                raise MetricsError(f"scores[{position}]: {describe_invalid(score, 0, 10)}")
            self.skipped += 1
        else:
            self.counts[value] += 1
        return self

    def update_many(self, scores: Iterable[Any], *, field: str | None = None) -> NpsAccumulator:
        """Add many answers (any input [`nps()`][csmkit.metrics.nps] accepts)."""
        data = to_list(scores, field=field, what="scores")
        missing = 0
        if not isinstance(data, Mapping):
            data, missing = survey_values(data, SurveyKind.NPS, (0, 10))
        counts, skipped = count_scores(data, 0, 10, self.on_invalid, "scores")
        for index, count in enumerate(counts):
            self.counts[index] += count
        self.seen += len(data) if not isinstance(data, Mapping) else 0
        self.skipped += skipped
        self.missing += missing
        return self

    def merge(self, other: NpsAccumulator) -> NpsAccumulator:
        """Add ``other``'s histogram."""
        if not isinstance(other, NpsAccumulator):
            raise MetricsError(f"cannot merge {type(other).__name__} into NpsAccumulator")
        for index, count in enumerate(other.counts):
            self.counts[index] += count
        self.seen += other.seen
        self.skipped += other.skipped
        self.missing += other.missing
        return self

    def result(self) -> NpsResult:
        """The NPS so far."""
        return NpsResult(tuple(self.counts), skipped=self.skipped, missing=self.missing)


def nps(
    scores: Iterable[Any] | Mapping[Any, int] | Any,
    *,
    field: str | None = None,
    on_invalid: OnInvalid = "raise",
) -> NpsResult:
    """Net Promoter Score of 0–10 answers.

    Args:
        scores: Integers 0..10; or a ``{score: count}`` mapping; or rows (mappings or
            objects) / a pandas DataFrame with ``field`` naming the column; or a pandas
            Series / NumPy array; or [`Timeline`][csmkit.timeline.Timeline] objects (the latest
            NPS answer of each; timelines without one are counted as ``missing``).
        field: Column or key to read from rows.
        on_invalid: ``"raise"`` (default) or ``"skip"`` (counted in ``skipped``).

    Raises:
        MetricsError: an answer is not an integer 0..10 (NaN, 8.5, 11, a string …); the
            message names the value and its position (``scores[3]``).

    Examples:
        >>> r = nps([10, 10, 9, 9, 9, 8, 7, 4, 2, 1])   # AskNicely's worked example
        >>> r.score, r.promoters, r.detractors, round(r.margin_of_error(0.95), 2)
        (20.0, 5, 3, 54.03)
    """
    return NpsAccumulator(on_invalid=on_invalid).update_many(scores, field=field).result()
