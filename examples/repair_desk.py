"""The article's repair desk (报修), end to end, on a SQLite file.

An urgent air-conditioner repair arrives by phone on Thursday 17:30; the rule assigns it
to the region's senior engineer and texts the supervisor; nobody replies, so after 2
business hours (Friday 10:30, across the night) it escalates; the engineer repairs it,
a supervisor closes it after the follow-up call, the customer answers the CSAT survey.

Run: ``python examples/repair_desk.py``
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from csmkit.desk import ServiceDesk, TicketType
from csmkit.routing import Agent, AgentPool, Router, RoutingRules
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.storage import open_store
from csmkit.workflow import Actor, Workflow, template_dict

SH = ZoneInfo("Asia/Shanghai")


class Sms:
    """Stands in for an SMS gateway: prints what it would send."""

    def send(self, notification: object) -> dict[str, bool]:
        print(f"  SMS to {notification.to}: {notification.text}")  # type: ignore[attr-defined]
        return {"accepted": True}


def main() -> None:
    calendar = BusinessCalendar.from_dict({
        "timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
        "holidays": ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
        "workdays": ["2026-09-20", "2026-10-10"]})  # fmt: skip
    repair = template_dict("repair")
    repair["form"]["fields"].append({"name": "region", "type": "choice",
                                     "choices": ["east", "north"]})  # fmt: skip
    sla = SlaPolicy.from_dict({"name": "repair", "targets": {
        "first_response": {"goals": {"urgent": "2h", "normal": "2h"}},
        "resolution": {"goals": {"urgent": "24h", "normal": "24h"}}}})  # fmt: skip
    agents = AgentPool([
        Agent(id="wang", name="王工", groups=["engineers"], capacity=5,
              attributes={"region": "east", "tier": "senior"}),
        Agent(id="li", name="李工", groups=["engineers"], capacity=5,
              attributes={"region": "north", "tier": "senior"})])  # fmt: skip
    router = Router(RoutingRules.from_dict({"rules": [
        {"name": "by-region", "group": "engineers", "when": 'ticket.type == "repair"',
         "target": "agent.region == ticket.fields.region", "strategy": "least_loaded"}],
        "default": {"strategy": "round_robin"}}))  # fmt: skip
    rules = {"rules": [
        {"id": "dispatch", "on": "created", "actions": [
            {"do": "assign"},
            {"do": "notify", "channel": "sms", "to": "supervisor:{fields.region}",
             "template": "紧急报修 {ticket_id}：{subject}，已派给 {assignee}"}]},
        {"id": "escalate", "on": {"after": "2h", "since": "created", "clock": "business"},
         "when": "stats.agent_replies == 0",
         "actions": [{"do": "escalate", "group": "supervisors"}]},
        {"id": "survey", "on": "status_changed", "when": 'ticket.status == "closed"',
         "actions": [{"do": "send_survey", "survey": "csat", "channel": "sms",
                      "template": "请为工单 {ticket_id} 的服务打分"}]}]}  # fmt: skip

    now = [datetime(2026, 10, 15, 17, 30, tzinfo=SH)]  # Thursday 17:30
    path = Path(tempfile.mkdtemp()) / "repair-desk.db"
    desk = ServiceDesk(open_store(f"sqlite:///{path}"), clock=lambda: now[0],
                       types=[TicketType("repair", Workflow.from_dict(repair), sla)],
                       calendar=calendar, router=router, agents=agents, rules=rules,
                       channels={"sms": Sms()})  # fmt: skip

    print("Thu 17:30 an urgent repair arrives")
    ticket = desk.open_ticket(
        "repair", channel="phone", customer_id="C-1", priority="urgent", ticket_id="BX-1",
        subject="空调不制冷", fields={"address": "上海市浦东新区", "region": "east",
                                  "contact_phone": "+86 138 0013 8000"})  # fmt: skip
    print(f"  assigned to {ticket.assignee}")

    now[0] = datetime(2026, 10, 16, 11, 0, tzinfo=SH)
    desk.tick(now[0])
    escalated = desk.timeline("BX-1").last("escalated")
    print(f"Fri 11:00 tick: escalated at {escalated.at:%a %H:%M} (2 business hours)")

    now[0] = datetime(2026, 10, 16, 11, 5, tzinfo=SH)
    desk.reply("BX-1", author="wang")
    desk.transition("BX-1", "dispatch", actor=Actor("d1", {"dispatcher"}),
                    data={"engineer": "wang"})  # fmt: skip
    for step in ("accept", "arrive"):
        desk.transition("BX-1", step, actor=Actor("wang", {"engineer"}))
    now[0] = datetime(2026, 10, 16, 15, 0, tzinfo=SH)
    desk.transition("BX-1", "repair", actor=Actor("wang", {"engineer"}),
                    data={"repair_notes": "更换电容"})  # fmt: skip
    now[0] = datetime(2026, 10, 19, 10, 0, tzinfo=SH)
    desk.transition("BX-1", "follow_up", actor=Actor("kf1", {"agent"}))
    print("Mon 10:00 follow-up call, closing")
    desk.transition("BX-1", "close", actor=Actor("kf1", {"agent"}))
    desk.record_survey("BX-1", "csat", 5, comment="师傅很专业")

    report = desk.sla("BX-1")
    assert report is not None
    for target in ("first_response", "resolution"):
        cycle = report.current(target)
        print(f"SLA {target}: {cycle.state}, breached={cycle.breached}, elapsed {cycle.elapsed}")
    print(desk.report(["tickets", "first_response_time", "csat"], by=["type"]))
    print(f"events: {[e.kind for e in desk.timeline('BX-1')]}")
    desk.store.close()


if __name__ == "__main__":
    main()
