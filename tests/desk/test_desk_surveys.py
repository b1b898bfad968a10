"""Surveys declared by the desk, answers checked against them, reports that use them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmkit.desk import ServiceDesk, TicketType
from csmkit.errors import AutomationError, MetricsError
from csmkit.metrics import Survey, csat
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.storage import open_store
from csmkit.timeline import SurveyAnswered

TEN = Survey("after-repair", "csat", scale=(0, 10), convention="mean")
FIVE = Survey("csat-5", "csat")


def make(kit: ModuleType, path: Path, clock: Any, **options: Any) -> ServiceDesk:
    return ServiceDesk(
        open_store(f"sqlite:///{path}"),
        types=[
            TicketType("repair", kit.repair_workflow(), SlaPolicy.from_dict(kit.SLA), [TEN]),
            TicketType("feedback", kit.feedback_workflow()),
        ],
        clock=clock,
        calendar=BusinessCalendar.from_dict(kit.CALENDAR),
        **options,
    )


@pytest.fixture
def desk(kit: ModuleType, tmp_path: Path) -> ServiceDesk:
    clock = kit.Clock(datetime(2026, 10, 15, 9, 0, tzinfo=kit.SH))
    desk = make(kit, tmp_path / "d.db", clock, surveys=[FIVE])
    desk.open_ticket(
        "repair", channel="phone", customer_id="C-1", fields=kit.FIELDS, ticket_id="R1"
    )
    desk.open_ticket("feedback", channel="web", customer_id="C-2", ticket_id="F1")
    clock.now = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    return desk


def test_answers_are_stamped_with_their_survey(desk: ServiceDesk) -> None:
    desk.record_survey("R1", "csat", 9)
    desk.record_survey("F1", "csat-5", 4)
    (repair,) = desk.timeline("R1").of_type(SurveyAnswered)
    (feedback,) = desk.timeline("F1").of_type(SurveyAnswered)
    assert dict(repair.meta) == {"survey": "after-repair", "scale": (0, 10)}
    assert dict(feedback.meta) == {"survey": "csat-5", "scale": (1, 5)}
    # the type's survey is found by its name, too
    desk.record_survey("R1", "after-repair", 10)
    assert [a.score for a in desk.timeline("R1").of_type(SurveyAnswered)] == [9, 10]


@pytest.mark.parametrize(
    ("ticket", "survey", "score", "message"),
    [
        ("R1", "csat", 11, "'after-repair': 11 is outside the scale 0–10"),
        ("F1", "csat", 0, "'csat-5': 0 is outside the scale 1–5"),
        ("R1", "csat", 7.5, "7.5 is not an integer"),
        ("F1", "after-repair", 3, "unknown survey 'after-repair' for ticket type 'feedback'"),
        ("R1", "stars", 3, r"\(declared: 'after-repair'\)"),
    ],
)
def test_answers_off_the_declared_scale_are_refused(
    desk: ServiceDesk, ticket: str, survey: str, score: float, message: str
) -> None:
    before = len(desk.timeline(ticket))
    with pytest.raises(AutomationError, match=message):
        desk.record_survey(ticket, survey, score)
    assert len(desk.timeline(ticket)) == before  # nothing written


def test_undeclared_kinds_are_recorded_as_before(desk: ServiceDesk) -> None:
    desk.record_survey("R1", "ces", 6)
    (answer,) = desk.timeline("R1").of_type(SurveyAnswered)
    assert answer.meta == {} and answer.score == 6


def test_report_uses_the_desk_surveys_and_sla(desk: ServiceDesk) -> None:
    desk.record_survey("R1", "csat", 7)
    desk.record_survey("F1", "csat", 5)
    table = desk.report(["csat", "sla[first_response]"], by=["type"])
    rows = {row["type"]: row for row in table.rows}
    assert rows["repair"]["csat"] == 7  # the mean of 0–10, not a 1–5 top box
    assert rows["feedback"]["csat"] == 100.0
    # the repair policy measured the first response (running, not yet decided)
    assert rows["repair"]["sla[first_response]_n"] == 0
    assert rows["feedback"]["sla[first_response]_n"] == 0
    desk.reply("R1", author="wang")
    table = desk.report(["sla[first_response]"], by=["type"])
    rows = {row["type"]: row for row in table.rows}
    assert rows["repair"]["sla[first_response]"] == 100.0
    # one CSAT figure over a 0–10 and a 1–5 survey is an error
    with pytest.raises(MetricsError, match="cannot mix"):
        desk.report(["csat"])
    # overridable: a definition for every ticket (and its scale check)
    with pytest.raises(MetricsError, match="recorded on 1–5"):
        desk.report(["csat"], surveys=TEN)


def test_two_surveys_of_one_kind_in_one_scope_are_refused(kit: ModuleType, tmp_path: Path) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 9, 0, tzinfo=kit.SH))
    with pytest.raises(AutomationError, match="two CSAT surveys"):
        make(kit, tmp_path / "a.db", clock, surveys=[FIVE, TEN])
    with pytest.raises(AutomationError, match="surveys\\[0\\] must be a Survey"):
        TicketType("x", kit.feedback_workflow(), None, ["csat"])  # type: ignore[list-item]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(-3, 13), min_size=1, max_size=8))
def test_recorded_answers_match_a_direct_computation(
    kit: ModuleType, tmp_path_factory: pytest.TempPathFactory, answers: list[int]
) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 9, 0, tzinfo=kit.SH))
    desk = make(kit, tmp_path_factory.mktemp("p") / "d.db", clock)
    kept = []
    for index, score in enumerate(answers):
        ticket = f"R{index}"
        desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id=ticket)
        if 0 <= score <= 10:
            desk.record_survey(ticket, "csat", score)
            kept.append(score)
        else:
            with pytest.raises(AutomationError, match="outside the scale 0–10"):
                desk.record_survey(ticket, "csat", score)
    (row,) = desk.report(["csat"]).rows
    assert row["csat_n"] == len(kept)
    if kept:
        assert row["csat"] == pytest.approx(sum(kept) / len(kept))
        assert row["csat"] == csat(list(desk.timelines()), survey=TEN).score
    desk.store.close()
