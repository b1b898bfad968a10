"""Notifications are delivered after the command's commit, outside the desk's lock: a slow
channel delays no other thread's operation, and each ticket's notifications still go out
once each, in the order their events were stored."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from csmkit.timeline import MessageAdded

WAIT = 20.0  # seconds a test waits for an event before it fails (never a timing check)

NOTE_RULES: dict[str, Any] = {
    "rules": [
        {
            "id": "tell-on-note",
            "on": "message_added",
            "actions": [
                {"do": "notify", "channel": "sms", "to": "lead", "template": "{ticket_id} note"},
            ],
        }
    ]
}


class GatedSms:
    """An SMS gateway whose first send (once ``armed``) waits until the test opens the gate."""

    def __init__(self) -> None:
        self.armed = False
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.sent: list[Any] = []
        self.senders: list[str] = []

    def send(self, notification: Any) -> dict[str, Any]:
        if self.armed and not self.entered.is_set():
            self.entered.set()
            assert self.gate.wait(WAIT), "the test never opened the gate"
        self.sent.append(notification)
        self.senders.append(threading.current_thread().name)
        return {"accepted": True}


def _in_thread(name: str, call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``call`` in a thread; its result or exception lands in the list."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # handed to the test
            box.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, box


def test_a_slow_delivery_does_not_hold_up_other_operations_and_keeps_order(kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    sms = GatedSms()
    desk = kit.make_desk("memory://", clock, sms, rules=NOTE_RULES)  # type: ignore[arg-type]
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="BX-1")
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="BX-2")
    sms.armed = True

    slow, slow_box = _in_thread("slow", lambda: desk.note("BX-1", author="wang"))
    assert sms.entered.wait(WAIT)  # BX-1's first notification is being delivered
    # Another thread's operations complete meanwhile: on the same ticket and another.
    other, other_box = _in_thread(
        "other",
        lambda: (desk.note("BX-1", author="zhao"), desk.note("BX-2", author="zhao")),
    )
    other.join(WAIT)
    assert not other.is_alive(), "an operation waited for another thread's delivery"
    assert not isinstance(other_box[0], BaseException), other_box
    assert slow.is_alive() and sms.sent == []  # the slow delivery is still going on
    notes = [e.author for e in desk.timeline("BX-1").of_type(MessageAdded) if e.author != "system"]
    assert notes == ["wang", "zhao"]  # both notes stored

    sms.gate.set()
    slow.join(WAIT)
    assert not slow.is_alive() and not isinstance(slow_box[0], BaseException), slow_box
    # once each, in the order the events were stored: the slow thread delivered the
    # notifications the other thread's operations queued behind its own
    assert [(n.ticket_id, n.text) for n in sms.sent] == [
        ("BX-1", "BX-1 note"),
        ("BX-1", "BX-1 note"),
        ("BX-2", "BX-2 note"),
    ]
    assert sms.senders == ["slow"] * 3
    assert desk.undelivered() == ()


def test_a_tick_delivers_outside_the_lock(kit: Any) -> None:
    start = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    clock = kit.Clock(start)
    sms = GatedSms()
    desk = kit.make_desk("memory://", clock, sms)  # type: ignore[arg-type]
    desk.open_ticket(
        "repair", channel="phone", priority="urgent", fields=kit.FIELDS, ticket_id="BX-1"
    )
    assert [n.to for n in sms.sent] == ["supervisor:east"]  # the dispatch notice
    sms.armed = True
    later = start + timedelta(hours=5)  # past the 2 business hours of the escalation rule
    clock.now = later

    ticker, tick_box = _in_thread("ticker", lambda: desk.tick(later))
    assert sms.entered.wait(WAIT)  # the escalation's notification is being delivered
    other, other_box = _in_thread(
        "other", lambda: desk.open_ticket("repair", channel="phone", fields=kit.FIELDS)
    )
    other.join(WAIT)
    assert not other.is_alive(), "an operation waited for the tick's delivery"
    assert not isinstance(other_box[0], BaseException), other_box
    assert ticker.is_alive()

    sms.gate.set()
    ticker.join(WAIT)
    assert not ticker.is_alive()
    (result,) = tick_box
    assert "supervisor:east" in [n.to for n in result.notifications]  # the escalation
    assert sms.sent[1:] == list(result.notifications)  # each once, in order
    assert desk.tick(later + timedelta(minutes=1)).notifications == ()
    assert len(sms.sent) == 1 + len(result.notifications)


class FailingOnceSms(GatedSms):
    """Fails the first send after being armed (while the gate holds it)."""

    def send(self, notification: Any) -> dict[str, Any]:
        if self.armed and not self.entered.is_set():
            self.entered.set()
            assert self.gate.wait(WAIT), "the test never opened the gate"
            raise ConnectionError("SMS gateway unreachable")
        return super().send(notification)


def test_a_delivery_failing_outside_the_lock_is_recorded_and_retried_once(kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    sms = FailingOnceSms()
    desk = kit.make_desk("memory://", clock, sms, rules=NOTE_RULES)  # type: ignore[arg-type]
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="BX-1")
    sms.armed = True
    slow, slow_box = _in_thread("slow", lambda: desk.note("BX-1", author="wang"))
    assert sms.entered.wait(WAIT)
    desk.note("BX-1", author="zhao")  # stored while the first delivery hangs
    sms.gate.set()
    slow.join(WAIT)
    assert not slow.is_alive() and not isinstance(slow_box[0], BaseException), slow_box
    assert len(sms.sent) == 1  # the second note's notification went out
    (pending,) = desk.undelivered()  # the first one failed: recorded on the timeline
    assert pending.ticket_id == "BX-1"
    clock.now += timedelta(minutes=5)
    assert [n.ticket_id for n in desk.tick(clock.now).notifications] == ["BX-1"]
    clock.now += timedelta(minutes=5)
    desk.tick(clock.now)
    assert len(sms.sent) == 2 and desk.undelivered() == ()  # retried exactly once
