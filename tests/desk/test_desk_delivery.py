"""A notification whose delivery fails after its record is stored: recorded, retried."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from csmkit.automation import ticket_stats
from csmkit.timeline import MessageAdded


class FlakySms:
    """An SMS gateway that is down for the first ``failures`` sends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Any] = []

    def send(self, notification: Any) -> dict[str, Any]:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("SMS gateway unreachable")
        self.sent.append(notification)
        return {"accepted": True}


def test_failed_delivery_is_recorded_and_retried_by_tick(tmp_path: Path, kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    sms = FlakySms(failures=2)
    path = tmp_path / "d.db"
    desk = kit.make_desk(path, clock, sms)  # type: ignore[arg-type]
    # the operation succeeds: its events (and the rule's record) are stored
    ticket = desk.open_ticket(
        "repair", channel="phone", priority="urgent", fields=kit.FIELDS, ticket_id="BX-1"
    )
    assert ticket.assignee == "wang" and sms.sent == []
    events = desk.timeline("BX-1").events
    marker = events[-1]
    assert isinstance(marker, MessageAdded) and not marker.public
    assert marker.meta["undelivered"]["to"] == "supervisor:east"
    assert "ConnectionError: SMS gateway unreachable" in marker.meta["error"]
    assert [n.to for n in desk.undelivered()] == ["supervisor:east"]

    # the gateway is still down at the first tick: nothing new is written
    clock.now += timedelta(minutes=5)
    length = len(desk.timeline("BX-1"))
    assert desk.tick(clock.now).notifications == ()
    assert len(desk.timeline("BX-1")) == length and len(desk.undelivered()) == 1

    # a restarted desk finds the pending delivery in the timeline and delivers it once
    desk.store.close()
    again = kit.make_desk(path, clock, sms)  # type: ignore[arg-type]
    clock.now += timedelta(minutes=5)
    result = again.tick(clock.now)
    assert [n.to for n in result.notifications] == ["supervisor:east"]
    assert [n.text for n in sms.sent] == [marker.meta["undelivered"]["text"]]
    assert again.undelivered() == ()
    last = again.timeline("BX-1").events[-1]
    assert last.meta["redelivered"] == len(events) - 1
    for _ in range(2):
        clock.now += timedelta(minutes=5)
        again.tick(clock.now)
    assert len(sms.sent) == 1  # delivered exactly once
    # the markers are automation's: they are not an agent's reply or note
    assert ticket_stats(again.timeline("BX-1").events)["notes"] == 0
    again.store.close()
