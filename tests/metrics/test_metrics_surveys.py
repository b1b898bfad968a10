"""Survey definitions: scales, conventions, round trips, and no mixing of scales."""

from __future__ import annotations

import json
import statistics
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import MetricsError
from csmkit.metrics import Survey, csat, rank, report, trend
from csmkit.timeline import SurveyAnswered, TicketCreated, Timeline
from strategies import surveys

T0 = datetime(2026, 9, 14, 9, 0, tzinfo=timezone.utc)


def answered(ticket_id: str, score: int, survey: Survey | None, type_: str = "repair") -> Timeline:
    meta = {} if survey is None else survey.stamp()
    return Timeline(
        [
            TicketCreated(ticket_id=ticket_id, at=T0, type=type_, channel="web"),
            SurveyAnswered(
                ticket_id=ticket_id,
                at=T0 + timedelta(hours=1),
                survey="csat",
                score=score,
                meta=meta,
            ),
        ]
    )


TEN = Survey("csat-10", "csat", scale=(0, 10), convention="mean")
FIVE = Survey("csat-5", "csat")


def test_defaults_by_kind() -> None:
    assert (FIVE.scale, FIVE.convention, FIVE.satisfied) == ((1, 5), "top_box", (4, 5))
    nps = Survey("nps", "nps")
    assert (nps.scale, nps.convention, nps.satisfied) == ((0, 10), "nps", (9, 10))
    ces = Survey("effort", "ces")
    assert (ces.scale, ces.convention, ces.satisfied) == ((1, 7), "mean", (5, 6, 7))
    # Formbricks' rule (research notes, metrics.md §1.2): top 3 of a 10-point scale
    assert Survey("c", "csat", scale=(1, 10)).satisfied == (8, 9, 10)
    assert TEN.satisfied == (8, 9, 10)
    assert Survey("c", "csat", scale=(1, 7)).satisfied == (6, 7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "csat", "scale": (5, 5)}, "at least two points"),
        ({"kind": "nps", "scale": (1, 10)}, "NPS is asked on 0–10"),
        ({"kind": "csat", "convention": "median"}, "convention must be"),
        ({"kind": "csat", "satisfied": [6]}, "off the scale"),
        ({"kind": "happiness"}, "csat, nps or ces"),
        ({"kind": "csat", "scale": (1, 8)}, "no default satisfied set"),
        ({"kind": "csat", "scale": "1-5"}, "[low, high]"),
    ],
)
def test_invalid_definitions(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MetricsError, match=message.replace("[", r"\[")):
        Survey("s", **kwargs)  # type: ignore[arg-type]


def test_from_dict_names_the_path() -> None:
    with pytest.raises(MetricsError, match=r"types.repair.surveys\[0\]: unknown keys \['scal'\]"):
        Survey.from_dict(
            {"name": "s", "kind": "csat", "scal": [0, 10]}, path="types.repair.surveys[0]"
        )
    with pytest.raises(MetricsError, match="missing kind"):
        Survey.from_dict({"name": "s"})
    with pytest.raises(MetricsError, match="survey 'x': satisfied points"):
        Survey.from_dict({"name": "x", "kind": "csat", "satisfied": [0]})


@given(surveys())
def test_dict_round_trip(survey: Survey) -> None:
    data = json.loads(json.dumps(survey.to_dict()))
    assert Survey.from_dict(data) == survey


def test_csat_on_ten_points() -> None:
    # the article's units: 7.8 of 10 as a mean
    answers = [8] * 6 + [7] * 3 + [9]
    result = csat(answers, survey=TEN)
    assert result.score == pytest.approx(7.8)
    assert (result.low, result.high) == (0, 10)
    low, high = result.interval()
    assert low < 7.8 < high
    top = csat(answers, survey=Survey("c", "csat", scale=(0, 10)))
    assert top.score == 70.0  # 8, 9 and 10 are the top box
    with pytest.raises(MetricsError, match="outside the scale 0–10"):
        csat([11], survey=TEN)
    with pytest.raises(MetricsError, match="not both"):
        csat([1], survey=TEN, scale=(0, 10))
    with pytest.raises(MetricsError, match="CSAT Survey"):
        csat([1], survey=Survey("n", "nps"))


def test_csat_refuses_answers_recorded_on_another_scale() -> None:
    timelines = [answered("A", 9, TEN), answered("B", 4, FIVE)]
    with pytest.raises(MetricsError, match=r"recorded on 1–5 \(survey 'csat-5'\).*0–10"):
        csat(timelines, survey=TEN)
    with pytest.raises(MetricsError, match="recorded on 0–10"):
        csat(timelines)  # the default 1–5 scale
    assert csat(timelines[:1], survey=TEN).score == 9


def test_report_reads_each_type_under_its_survey_and_refuses_mixing() -> None:
    timelines = [
        answered("A", 9, TEN, "repair"),
        answered("B", 10, TEN, "repair"),
        answered("C", 4, FIVE, "consultation"),
    ]
    surveys_by_type = {"repair": TEN, "*": FIVE}
    table = report(timelines, ["csat"], by=["type"], surveys=surveys_by_type)
    rows = {row["type"]: row for row in table.rows}
    assert rows["repair"]["csat"] == 9.5 and rows["repair"]["csat_n"] == 2
    assert rows["consultation"]["csat"] == 100.0 and rows["consultation"]["csat_n"] == 1
    with pytest.raises(MetricsError, match="cannot mix"):
        report(timelines, ["csat"], surveys=surveys_by_type)
    with pytest.raises(MetricsError, match="recorded on 0–10"):
        report(timelines, ["csat"], by=["type"])  # no definitions: the 1–5 default


def test_report_picks_the_survey_the_answer_names() -> None:
    other = Survey("csat-agent", "csat", scale=(1, 10), convention="mean")
    timelines = [answered("A", 10, TEN, "a"), answered("B", 1, other, "b")]
    with pytest.raises(MetricsError, match="cannot mix"):
        report(timelines, ["csat"], surveys=[TEN, other])
    table = report(timelines, ["csat"], by=["type"], surveys=[TEN, other])
    assert [row["csat"] for row in table.rows] == [10, 1]
    unnamed = [answered("C", 3, None)]
    with pytest.raises(MetricsError, match="names none of them"):
        report(unnamed, ["csat"], surveys=[TEN, other])


@given(
    st.sampled_from([(1, 5), (0, 10), (1, 10), (1, 7)]),
    st.sampled_from(["top_box", "mean"]),
    st.data(),
)
def test_csat_equals_a_direct_computation(
    scale: tuple[int, int], convention: str, data: st.DataObject
) -> None:
    survey = Survey("s", "csat", scale=scale, convention=convention)
    answers = data.draw(st.lists(st.integers(*scale), min_size=1, max_size=40))
    timelines = [answered(f"T{i}", score, survey) for i, score in enumerate(answers)]
    direct = (
        statistics.fmean(answers)
        if convention == "mean"
        else 100 * sum(a in survey.satisfied for a in answers) / len(answers)
    )
    assert csat(answers, survey=survey).score == pytest.approx(direct)
    (row,) = report(timelines, ["csat"], surveys=survey).rows
    assert row["csat"] == pytest.approx(direct) and row["csat_n"] == len(answers)


@given(
    st.sampled_from([((1, 5), (0, 10)), ((0, 10), (1, 10)), ((1, 7), (1, 5))]),
    st.lists(st.integers(1, 5), min_size=1, max_size=5),
)
def test_mixing_two_scales_raises(pair: tuple[tuple[int, int], ...], scores: list[int]) -> None:
    first, second = (Survey(f"s{i}", "csat", scale=s) for i, s in enumerate(pair))
    timelines = [answered(f"A{i}", s, first) for i, s in enumerate(scores)]
    timelines.append(answered("B", 1, second))
    with pytest.raises(MetricsError):
        report(timelines, ["csat"], surveys=[first, second])
    with pytest.raises(MetricsError, match="recorded on"):
        csat(timelines, survey=first)


def test_rank_and_trend_read_the_survey_definitions() -> None:
    timelines = [answered(f"T{i}", score, TEN, "repair") for i, score in enumerate([9, 7, 8])]
    (ranked,) = rank(timelines, "type", "csat", min_n=2, surveys=TEN).rows
    assert ranked["csat"] == 8 and ranked["bound"] == ranked["csat_low"] < 8
    (week,) = trend(timelines, "csat", surveys=TEN).rows
    assert week["csat"] == 8 and week["change"] is None
    with pytest.raises(MetricsError, match="recorded on 0–10"):
        trend(timelines, "csat")
