"""Survey metrics and statistics against published worked examples (research note §3)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import MetricsError
from csmkit.metrics import (
    NpsAccumulator,
    NpsResult,
    QuantileAccumulator,
    Rate,
    ces,
    compare,
    csat,
    nps,
    nps_sample_size,
    report,
    student_t_quantile,
    wilson_interval,
)
from csmkit.timeline import SurveyAnswered, TicketCreated, Timeline

ASKNICELY = [10, 10, 9, 9, 9, 8, 7, 4, 2, 1]


def test_nps_asknicely_example() -> None:
    # AskNicely help, "Choose your metric: NPS vs CSAT vs 5 Star": NPS = (0.5 − 0.3)·100 = 20.
    r = nps(ASKNICELY)
    assert r.score == pytest.approx(20.0)
    assert (r.promoters, r.passives, r.detractors, r.n) == (5, 2, 3, 10)
    assert r.variance == pytest.approx(0.76)
    assert r.standard_error == pytest.approx(27.57, abs=0.01)
    assert r.margin_of_error(0.95) == pytest.approx(54.03, abs=0.01)
    assert r.adjusted_score == pytest.approx(15.38, abs=0.01)
    low, high = r.interval(0.95)
    assert (low, high) == (pytest.approx(-30.3, abs=0.05), pytest.approx(61.1, abs=0.05))


def test_nps_jdmaturen_gist_wald_interval() -> None:
    # jdmaturen gist (n = 1,000, P = 250, D = 75): trinomial Wald (14.14 %, 20.86 %).
    r = nps({10: 250, 8: 675, 0: 75})
    assert r.score == pytest.approx(17.5)
    low, high = r.interval(0.95, method="wald")
    assert low == pytest.approx(14.14, abs=0.005)
    assert high == pytest.approx(20.86, abs=0.005)


def test_nps_unrounded_shares_calculator_city() -> None:
    # cal12.calculator.city prints 46.16 after rounding shares; exact is 90/195.
    r = nps({9: 120, 7: 45, 0: 30})
    assert r.score == pytest.approx(100 * 90 / 195)


def test_nps_variance_cross_validated_population() -> None:
    # Cross Validated q. 18603: p1, p0, p-1 = 1/2, 1/3, 1/6 → NPS 1/3, Var 5/9.
    r = nps({10: 3, 7: 2, 0: 1})
    assert r.net == pytest.approx(1 / 3)
    assert r.variance == pytest.approx(5 / 9)


def test_two_sample_and_sample_size() -> None:
    c = compare(nps({9: 130, 7: 40, 0: 30}), nps({9: 105, 7: 50, 0: 45}))
    assert c.difference == pytest.approx(20.0)
    # hand computation: var_a = .8 − .5², var_b = .75 − .3²
    se = 100 * math.sqrt((0.8 - 0.25) / 200 + (0.75 - 0.09) / 200)
    assert c.standard_error == pytest.approx(se)
    assert c.p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(c.z) / math.sqrt(2)))))
    assert nps_sample_size(5) == 1537  # research note §6: ±5 points worst case
    # CYBAEA: p = d = 1/3 → ≈ 1,024 for a 10-point-wide interval
    assert nps_sample_size(5, promoter_share=1 / 3, detractor_share=1 / 3) in (1024, 1025)


def test_paired_compare_matches_reference() -> None:
    before = [10, 9, 3, 7, 6, 10, 2, 8]
    after = [9, 5, 3, 9, 10, 10, 6, 7]

    def sign(s: int) -> int:
        return 1 if s >= 9 else 0 if s >= 7 else -1

    d = [sign(a) - sign(b) for a, b in zip(before, after, strict=True)]
    mean = sum(d) / len(d)
    var = sum(x * x for x in d) / len(d) - mean**2
    c = compare(before, after, paired=True)
    assert c.difference == pytest.approx(100 * mean)
    assert c.standard_error == pytest.approx(100 * math.sqrt(var / len(d)))
    with pytest.raises(MetricsError, match="same length"):
        compare([1], [1, 2], paired=True)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), Stat. Med. 17:857, worked cases; VassarStats 23/60.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (23, 60, 0.2709, 0.5098),
        (7, 50, 0.06951, 0.26186),  # SciPy docs binomtest(7, 50), Wilson
    ],
)
def test_wilson_published(k: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(k, n, 0.95)
    assert got[0] == pytest.approx(low, abs=6e-5)
    assert got[1] == pytest.approx(high, abs=6e-5)


def test_t_quantiles_match_tables() -> None:
    assert student_t_quantile(0.95, 1) == pytest.approx(12.706204736, abs=1e-8)
    assert student_t_quantile(0.95, 30) == pytest.approx(2.042272456, abs=1e-8)
    assert student_t_quantile(0.99, 5) == pytest.approx(4.032142984, abs=1e-8)


def test_csat_conventions() -> None:
    # Assembled help: 8 good / 2 bad → 80 %, Wilson (49.0 %, 94.3 %).
    r = csat(["good"] * 8 + ["bad"] * 2 + ["offered", None], convention="zendesk")
    assert r.score == pytest.approx(80.0)
    assert r.unrated == 2
    low, high = r.interval(0.95)
    assert (round(low, 1), round(high, 1)) == (49.0, 94.3)
    # Simplesat: 7 positive, 1 neutral, 2 negative → 70 % (neutral stays in denominator).
    assert csat([5] * 7 + [3] + [1, 1]).score == pytest.approx(70.0)
    # Zendesk: on 1–5 a 3 is bad.
    assert csat([4, 3], convention="zendesk").score == pytest.approx(50.0)
    # Podium: 5, 3, 4, 3 → 3.75.
    assert csat([5, 3, 4, 3], convention="mean").score == pytest.approx(3.75)
    assert csat([1, 2], scale=(0, 10), satisfied=[9, 10]).score == 0.0


def test_ces_polarity() -> None:
    r = ces([1, 2, 3, 5], scale=5, higher_is_better=False, convention="top_box")
    assert r.satisfied == (1, 2)
    assert r.score == pytest.approx(50.0)
    assert ces([7, 6, 5, 2, 7]).score == pytest.approx(5.4)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([1, 2, 11], r"scores\[2\]: 11 is outside"),
        ([1, float("nan")], r"scores\[1\]: NaN"),
        ([1, 8.5], r"scores\[1\]: 8.5 is not an integer"),
        ([1, "9"], r"scores\[1\]: '9'"),
        ([[1]], r"scores\[0\]"),
        ([-1], r"scores\[0\]: -1 is outside"),
    ],
)
def test_nps_bad_input(bad: list[object], message: str) -> None:
    with pytest.raises(MetricsError, match=message):
        nps(bad)


def test_skip_and_empty() -> None:
    r = nps([10, 11, "x", 3], on_invalid="skip")
    assert (r.n, r.skipped, r.score) == (2, 2, 0.0)
    empty = nps([])
    assert empty.n == 0 and empty.score is None and empty.standard_error is None
    with pytest.raises(MetricsError, match="n = 0"):
        empty.interval()
    assert empty.to_dict()["wald"] is None
    assert csat([]).score is None
    with pytest.raises(MetricsError, match="n = 0"):
        Rate(0, 0).interval()
    with pytest.raises(MetricsError, match="ratings\\[0\\]: 6 is outside"):
        csat([6])
    with pytest.raises(MetricsError, match="on_invalid"):
        nps([1], on_invalid="ignore")  # type: ignore[arg-type]
    with pytest.raises(MetricsError, match="confidence"):
        nps([1]).interval(95)


def test_pandas_and_rows() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"score": [10, 9, 0, 7]})
    assert nps(frame, field="score").score == pytest.approx(25.0)
    assert nps(frame["score"]).score == pytest.approx(25.0)
    with pytest.raises(MetricsError, match=r"scores\[1\]: NaN"):
        nps(pd.Series([10, None]))
    assert nps([{"s": 10}, {"s": 0}], field="s").score == 0.0


scores = st.lists(st.integers(0, 10), max_size=60)


@given(scores, st.integers(0, 60))
def test_merge_equals_single_pass(values: list[int], cut: int) -> None:
    left, right = NpsAccumulator(), NpsAccumulator()
    left.update_many(values[:cut])
    for v in values[cut:]:
        right.update(v)
    assert left.merge(right).result() == nps(values)


@given(scores.filter(bool), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_nps_bounds_and_intervals(values: list[int], confidence: float) -> None:
    r = nps(values)
    assert r.score is not None and -100 <= r.score <= 100
    low, high = r.interval(confidence, "wald")
    assert low - 1e-9 <= r.score <= high + 1e-9
    adjusted = r.adjusted_score
    assert adjusted is not None
    low, high = r.interval(confidence)
    assert -100 <= low <= adjusted + 1e-9 and adjusted - 1e-9 <= high <= 100
    assert nps(list(reversed(values))) == r
    reference = Counter(values)
    expected = 100 * (reference[9] + reference[10] - sum(reference[i] for i in range(7)))
    assert r.score == pytest.approx(expected / len(values))


@given(st.integers(0, 200), st.integers(1, 200))
def test_wilson_contains_estimate(k: int, n: int) -> None:
    k = min(k, n)
    low, high = wilson_interval(k, n, 0.95)
    assert 0 <= low <= k / n <= high <= 1


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=80),
    st.integers(0, 80),
    st.integers(0, 40),
)
def test_quantile_merge_is_partition_independent(values: list[float], cut: int, limit: int) -> None:
    whole = QuantileAccumulator(exact_limit=limit).update_many(values).result()
    left = QuantileAccumulator(exact_limit=limit).update_many(values[:cut])
    right = QuantileAccumulator(exact_limit=limit)
    for v in values[cut:]:
        right.update(v)
    merged = left.merge(right).result()
    assert merged == whole
    if values:
        ordered = sorted(values)
        for q in (0.0, 0.5, 0.9, 1.0):
            got = whole.quantile(q)
            if whole.exact:
                assert got == pytest.approx(
                    ordered[0] if q == 0 else _linear(ordered, q), rel=1e-9, abs=1e-9
                )
            else:
                truth = ordered[math.floor(q * (len(ordered) - 1))]
                assert abs(got - truth) <= 0.01 * abs(truth) + 1e-12


def _linear(ordered: list[float], q: float) -> float:
    pos = q * (len(ordered) - 1)
    i = math.floor(pos)
    if i + 1 >= len(ordered):
        return ordered[i]
    return ordered[i] + (ordered[i + 1] - ordered[i]) * (pos - i)


def test_nps_result_validates_counts() -> None:
    with pytest.raises(MetricsError):
        NpsResult((1, 2))


def test_report_reads_ces_on_the_same_1_to_7_scale_as_ces() -> None:
    at = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)
    timelines = [
        Timeline(
            [
                TicketCreated(ticket_id=f"T-{score}", at=at, type="question", channel="web"),
                SurveyAnswered(ticket_id=f"T-{score}", at=at, survey="ces", score=score),
            ]
        )
        for score in (7, 6, 2)
    ]
    assert report(timelines, ["ces"])[0]["ces"] == ces(timelines).score == 5.0
