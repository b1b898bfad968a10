"""The article's repair desk from ``examples/repair_desk.toml``, end to end on SQLite
with an explicit clock: message -> ticket -> routed by region and skill -> accepted ->
on site -> repaired -> follow-up -> closed -> survey; a late ticket warned and escalated
across a restart (a new desk object on the same file continues, nothing repeated)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from csmkit.channels import InboundMessage
from csmkit.desk import ServiceDesk
from csmkit.storage import open_store
from csmkit.workflow import Actor

SH = ZoneInfo("Asia/Shanghai")
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "repair_desk.toml"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Sms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, notification: Any) -> dict[str, bool]:
        self.sent.append((notification.to, notification.text))
        return {"accepted": True}


def _desk(url: str, clock: Clock, sms: Sms) -> ServiceDesk:
    return ServiceDesk.from_config(
        CONFIG, store=open_store(url), clock=clock, channels={"sms": sms}
    )


def _message(at: datetime, external_id: str, sender: str, subject: str) -> InboundMessage:
    return InboundMessage(
        channel="wechat",
        external_id=external_id,
        sender=sender,
        sender_kind="wechat",
        subject=subject,
        text="请尽快上门",
        received_at=at,
    )


def test_repair_from_message_to_survey(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 10, 15, 10, 0, tzinfo=SH))  # Thursday
    sms = Sms()
    desk = _desk(f"sqlite:///{tmp_path / 'desk.db'}", clock, sms)
    ticket_id = desk.receive(_message(clock.now, "wx-1", "wxid_c1", "空调不制冷")).ticket_id
    assert ticket_id is not None
    ticket = desk.ticket(ticket_id)
    assert (ticket.type, ticket.status, ticket.assignee, dict(ticket.fields)) == (
        "repair", "new", None, {}
    )  # fmt: skip

    clock.now = datetime(2026, 10, 15, 10, 5, tzinfo=SH)
    fields = {"region": "north", "product": "aircon", "address": "北京市海淀区",
              "contact_phone": "+86 138 0013 8000"}  # fmt: skip
    ticket = desk.update(ticket_id, fields=fields, actor="kf1")
    assert ticket.assignee == "e04"  # north, aircon skill 4
    assert desk.timeline(ticket_id)[-1].meta["rule"] == "route"

    clock.now = datetime(2026, 10, 15, 10, 10, tzinfo=SH)
    desk.reply(ticket_id, author="e04")
    desk.transition(ticket_id, "dispatch", actor=Actor("d1", {"dispatcher"}),
                    data={"engineer": "e04"})  # fmt: skip
    for step in ("accept", "arrive"):
        desk.transition(ticket_id, step, actor=Actor("e04", {"engineer"}))
    clock.now = datetime(2026, 10, 15, 15, 0, tzinfo=SH)
    desk.transition(ticket_id, "repair", actor=Actor("e04", {"engineer"}),
                    data={"repair_notes": "更换电容"})  # fmt: skip
    clock.now = datetime(2026, 10, 19, 10, 0, tzinfo=SH)
    desk.transition(ticket_id, "follow_up", actor=Actor("kf1", {"agent"}))
    assert desk.transition(ticket_id, "close", actor=Actor("kf1", {"agent"})).status == "closed"
    assert sms.sent[-1][1] == f"请为工单 {ticket_id} 的服务打分"
    statuses = [e.to_status for e in desk.timeline(ticket_id) if e.kind == "status_changed"]
    assert statuses == ["dispatched", "accepted", "on_site", "repaired", "follow_up", "closed"]
    report = desk.sla(ticket_id)
    assert report is not None
    assert not report.current("first_response").breached
    # no warning or escalation for a ticket answered in time
    assert desk.tick(datetime(2026, 10, 19, 18, 0, tzinfo=SH)).events == 0


def test_late_ticket_warned_then_escalated_across_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    clock = Clock(datetime(2026, 10, 15, 10, 0, tzinfo=SH))
    sms = Sms()
    desk = _desk(url, clock, sms)
    ticket_id = desk.receive(_message(clock.now, "wx-2", "wxid_c2", "门锁打不开")).ticket_id
    assert ticket_id is not None
    clock.now = datetime(2026, 10, 15, 10, 1, tzinfo=SH)
    ticket = desk.update(ticket_id, fields={"region": "east", "product": "lock"}, actor="kf1")
    assert ticket.assignee == "e02"  # east, lock skill 4 (e01 has no lock skill)

    # 1 business hour without a reply: the engineer is warned
    desk.tick(datetime(2026, 10, 15, 11, 30, tzinfo=SH))
    assert sms.sent == [("e02", f"{ticket_id} 尚未回复客户")]

    # a new desk object on the same file (a restart) continues: 2 business hours are
    # 12:00, so at 12:30 it escalates to the supervisors, without repeating the warning
    restarted_sms = Sms()
    restarted = _desk(url, Clock(datetime(2026, 10, 15, 12, 30, tzinfo=SH)), restarted_sms)
    restarted.tick(datetime(2026, 10, 15, 12, 30, tzinfo=SH))
    assert restarted_sms.sent == [("supervisors", f"升级：{ticket_id} 2 小时未回复")]
    escalated = restarted.timeline(ticket_id).last("escalated")
    assert escalated is not None
    assert escalated.at == datetime(2026, 10, 15, 12, 0, tzinfo=SH)
    escalated_ticket = restarted.ticket(ticket_id)
    assert (escalated_ticket.group, escalated_ticket.assignee) == ("supervisors", "s1")
    released = restarted.timeline(ticket_id).last("unassigned")
    assert released is not None and released.agent == "e02"  # the late engineer is released

    # half of the 24-hour resolution goal: Friday 14:00 (across the night and lunch)
    restarted.tick(datetime(2026, 10, 16, 15, 0, tzinfo=SH))
    warning = restarted_sms.sent[-1]
    assert warning == ("s1", f"{ticket_id} 时限已用 50%")  # to the supervisor now assigned

    # both desks agree that nothing else is due; nothing is done twice
    count = len(restarted.timeline(ticket_id))
    assert restarted.tick(datetime(2026, 10, 16, 15, 0, tzinfo=SH)).events == 0
    assert desk.tick(datetime(2026, 10, 16, 15, 0, tzinfo=SH)).events == 0
    assert len(restarted.timeline(ticket_id)) == count


def _marks(desk: ServiceDesk) -> dict[str, Any]:
    from csmkit.desk._due import committed_due

    found = {}
    for timeline in desk.timelines():
        found[timeline.ticket_id] = committed_due(timeline, desk.types, desk.calendar)
    return found


def test_intake_batches_carry_the_sla_due_mark(tmp_path: Path) -> None:
    """A ticket created or threaded by a message is in the store's due index at once,
    with the mark a from-scratch evaluation gives (not only after its next desk op)."""
    clock = Clock(datetime(2026, 10, 15, 10, 0, tzinfo=SH))  # Thursday, business hours
    desk = _desk(f"sqlite:///{tmp_path / 'desk.db'}", clock, Sms())
    first = desk.receive(_message(clock.now, "wx-1", "wxid_c1", "空调不制冷")).ticket_id
    assert first is not None
    (item,) = desk.due(datetime(2026, 10, 15, 12, 1, tzinfo=SH)).items
    assert item.ticket_id == first and item.due is not None
    assert (item.due.target, item.due.at) == (
        "first_response",
        datetime(2026, 10, 15, 12, 0, tzinfo=SH),
    )  # 2 business hours
    clock.now = datetime(2026, 10, 15, 10, 30, tzinfo=SH)
    second = desk.receive(_message(clock.now, "wx-2", "wxid_c2", "热水器漏水")).ticket_id
    stored = {s.ticket_id: s.due for s in desk.queue(category=None).items}
    assert stored == _marks(desk) and set(stored) == {first, second}
    assert desk.due(datetime(2026, 10, 15, 12, 0, tzinfo=SH)).items == ()  # strictly before
