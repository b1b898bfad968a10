"""The article's scenario, end to end, on SQLite with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from csmkit.timeline import Escalated, MessageAdded, SurveyAnswered
from csmkit.workflow import Actor


def test_article_scenario_end_to_end(tmp_path: Any, kit: Any) -> None:
    SH = kit.SH
    created = datetime(2026, 10, 15, 17, 30, tzinfo=SH)  # Thursday 17:30
    clock = kit.Clock(created)
    outbox = kit.Outbox()
    desk = kit.make_desk(tmp_path / "desk.db", clock, outbox)

    ticket = desk.open_ticket(
        "repair",
        channel="phone",
        customer_id="C-1",
        priority="urgent",
        subject="空调不制冷",
        fields=kit.FIELDS,
        ticket_id="BX-1",
    )
    # dispatched by the rule to the east senior engineer, supervisor notified
    assert ticket.assignee == "wang"
    assert [n.to for n in outbox.sent] == ["supervisor:east"]
    assert "已派给 wang" in outbox.sent[0].text
    events = desk.timeline("BX-1").events
    assert [e.meta.get("rule") for e in events[1:]] == ["dispatch-urgent", "dispatch-urgent"]

    # Friday 09:00: nothing is due yet
    assert desk.tick(datetime(2026, 10, 16, 9, 0, tzinfo=SH)).events == 0
    # Friday 12:30: escalation at exactly 10:30 (2 business hours across the night),
    # the 50 % resolution warning at 11:30
    result = desk.tick(datetime(2026, 10, 16, 12, 30, tzinfo=SH))
    assert result.woken == ("BX-1",)
    timeline = desk.timeline("BX-1")
    (escalated,) = timeline.of_type(Escalated)
    assert escalated.at == datetime(2026, 10, 16, 10, 30, tzinfo=SH)
    assert escalated.meta["rule"] == "escalate-unanswered"
    assert timeline.ticket.group == "supervisors"
    warnings = [e for e in timeline.of_type(MessageAdded) if e.meta.get("rule") == "sla-warning"]
    assert [(e.at, e.meta["fraction"]) for e in warnings] == [
        (datetime(2026, 10, 16, 11, 30, tzinfo=SH), 0.5)
    ]
    # the same tick again changes nothing
    before = len(timeline)
    assert desk.tick(datetime(2026, 10, 16, 12, 30, tzinfo=SH)).events == 0
    assert len(desk.timeline("BX-1")) == before
    # 75 % at Friday 14:00: across the night and the lunch break
    desk.tick(datetime(2026, 10, 16, 14, 5, tzinfo=SH))
    warnings = [
        e
        for e in desk.timeline("BX-1").of_type(MessageAdded)
        if e.meta.get("rule") == "sla-warning"
    ]
    assert [(e.at, e.meta["fraction"]) for e in warnings] == [
        (datetime(2026, 10, 16, 11, 30, tzinfo=SH), 0.5),
        (datetime(2026, 10, 16, 14, 0, tzinfo=SH), 0.75),
    ]

    # the repair goes through the workflow; closing sends the survey
    clock.now = datetime(2026, 10, 16, 14, 30, tzinfo=SH)
    desk.reply("BX-1", author="wang")
    desk.transition(
        "BX-1", "dispatch", actor=Actor("d1", {"dispatcher"}), data={"engineer": "wang"}
    )
    desk.transition("BX-1", "accept", actor=Actor("wang", {"engineer"}))
    desk.transition("BX-1", "arrive", actor=Actor("wang", {"engineer"}))
    clock.now = datetime(2026, 10, 16, 15, 0, tzinfo=SH)
    desk.transition(
        "BX-1", "repair", actor=Actor("wang", {"engineer"}), data={"repair_notes": "更换电容"}
    )
    desk.transition("BX-1", "follow_up", actor=Actor("kf1", {"agent"}))
    assert not [n for n in outbox.sent if n.survey]
    desk.transition("BX-1", "close", actor=Actor("kf1", {"agent"}))
    (survey,) = [n for n in outbox.sent if n.survey]
    assert survey.survey == "csat" and survey.to == "C-1"
    clock.now = datetime(2026, 10, 16, 16, 0, tzinfo=SH)
    desk.record_survey("BX-1", "csat", 5, comment="师傅很专业")
    answered = desk.timeline("BX-1").of_type(SurveyAnswered)
    assert [(a.score, a.comment) for a in answered] == [(5, "师傅很专业")]
    table = desk.report(["tickets", "csat"], by=["type"])
    assert table.rows[0]["csat_n"] == 1 and table.rows[0]["csat"] == 100.0

    # a restarted desk on the same file does nothing twice and sees the same state
    desk.store.close()
    again = kit.make_desk(tmp_path / "desk.db", clock, kit.Outbox())
    assert again.tick(datetime(2026, 10, 20, 9, 0, tzinfo=SH)).events == 0
    assert again.ticket("BX-1").status == "closed"
    assert datetime(2026, 10, 16, 10, 30, tzinfo=SH) - created == timedelta(hours=17)
