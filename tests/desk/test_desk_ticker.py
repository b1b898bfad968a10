"""The ticker finds work by write order; timed effects happen once, never stale."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _ticker_desk import DAY, Clock, Outbox, fired, mail, make_desk

from csmkit.storage import SqliteStore, TicketStore
from csmkit.workflow import Actor


def _at(hours: int, minutes: int = 0) -> datetime:
    return DAY.replace(hour=hours, minute=minutes)


def _ticks(desk: Any, clock: Clock, start: datetime, end: datetime, step: int = 5) -> None:
    now = start
    while now <= end:
        clock.now = now
        desk.tick(now)
        now += timedelta(minutes=step)


def test_mail_stored_after_the_tick_is_seen_by_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    ticker_clock, ticker_out = Clock(_at(10)), Outbox()
    ticker = make_desk(SqliteStore(path), ticker_clock, ticker_out)
    intake = make_desk(SqliteStore(path), Clock(_at(10, 1)), Outbox())
    ticker.tick(_at(9, 50))  # the ticker has read the store (empty) before
    ticker.tick(_at(10))
    # received 09:58 by a slow web worker, stored at 10:01 — after the 10:00 tick
    result = intake.receive(mail("wang", _at(9, 58)))
    ticket_id = result.ticket_id
    assert ticket_id is not None
    assert intake.timeline(ticket_id)[0].at == _at(9, 58)
    # what the old scan asked for ("updated since the last tick") does not include it
    assert intake.store.find_tickets(updated_since=_at(10)).items == ()
    _ticks(ticker, ticker_clock, _at(10, 5), _at(15))
    assert fired(ticker.timeline(ticket_id)) == ["escalate", "remind", "warn"]
    assert sorted(rule for _, rule in ticker_out.sent) == ["escalate", "remind", "warn"]
    by_rule = {e.meta["rule"]: e.at for e in ticker.timeline(ticket_id) if "notify" in e.meta}
    # written at their due instants in business time (09:58 + 1h, + 90m, + 2h)
    assert by_rule == {"warn": _at(10, 58), "remind": _at(11, 28), "escalate": _at(11, 58)}
    assert ticker.ticket(ticket_id).escalation_level == 1


def test_a_late_event_with_a_past_due_instant_fires_at_once(tmp_path: Path) -> None:
    # Stored at 11:10 with 09:58 as its instant: its warning (10:58) is already past.
    path = tmp_path / "desk.db"
    ticker_out = Outbox()
    ticker = make_desk(SqliteStore(path), Clock(_at(11, 5)), ticker_out)
    ticker.tick(_at(11, 5))
    intake = make_desk(SqliteStore(path), Clock(_at(11, 10)), Outbox())
    ticket_id = intake.receive(mail("li", _at(9, 58))).ticket_id
    assert ticket_id is not None
    ticker.tick(_at(11, 15))
    assert ticker_out.sent == [(ticket_id, "warn")]


class RacingStore:
    """Lets another ticker run just before this desk's first timed append, so the two
    decide on the same version and this one loses (a deterministic race)."""

    def __init__(self, inner: TicketStore, rival: Any) -> None:
        self.inner = inner
        self.rival = rival

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def append(self, ticket_id: str, events: Any, expected_version: int, **options: Any) -> int:
        if self.rival is not None and any("rule" in e.meta for e in events):
            rival, self.rival = self.rival, None
            rival()
        return self.inner.append(ticket_id, events, expected_version, **options)


def test_two_tickers_at_the_same_instant_fire_each_effect_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "desk.db"
    intake = make_desk(SqliteStore(path), Clock(_at(9, 30)), Outbox())
    ticket_id = intake.receive(mail("zhao", _at(9, 30))).ticket_id
    assert ticket_id is not None
    first_out, second_out = Outbox(), Outbox()
    first = make_desk(SqliteStore(path), Clock(_at(12)), first_out)
    racing = RacingStore(SqliteStore(path), lambda: first.tick(_at(14)))
    second = make_desk(racing, Clock(_at(12)), second_out)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="csmkit.desk"):
        second.tick(_at(14))  # first ticks inside, then second's append conflicts
        first.tick(_at(14))
        second.tick(_at(14))
    assert "taken by another writer" in caplog.text
    assert fired(intake.timeline(ticket_id)) == ["escalate", "remind", "warn"]
    sent = sorted(first_out.sent + second_out.sent)
    assert sent == [(ticket_id, "escalate"), (ticket_id, "remind"), (ticket_id, "warn")]
    assert second_out.sent == []  # the loser reloaded, found it done, sent nothing
    assert intake.ticket(ticket_id).escalation_level == 1


def test_a_restarted_ticker_repeats_nothing(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    intake = make_desk(SqliteStore(path), Clock(_at(9, 30)), Outbox())
    ticket_id = intake.receive(mail("qian", _at(9, 30))).ticket_id
    assert ticket_id is not None
    out = Outbox()
    clock = Clock(_at(9, 30))
    _ticks(make_desk(SqliteStore(path), clock, out), clock, _at(9, 30), _at(11, 20))
    assert sorted(r for _, r in out.sent) == ["remind", "warn"]
    restarted = make_desk(SqliteStore(path), clock, out)  # a new process: cursor at 0
    _ticks(restarted, clock, _at(11, 20), _at(13, 30))
    assert sorted(r for _, r in out.sent) == ["escalate", "remind", "warn"]
    assert fired(intake.timeline(ticket_id)) == ["escalate", "remind", "warn"]


@pytest.mark.parametrize("how", ["answered", "resolved", "paused"])
def test_warnings_whose_reason_has_gone_are_not_sent(tmp_path: Path, how: str) -> None:
    path = tmp_path / "desk.db"
    intake = make_desk(SqliteStore(path), Clock(_at(9, 58)), Outbox())
    ticket_id = intake.receive(mail("sun", _at(9, 58))).ticket_id
    assert ticket_id is not None
    out = Outbox()
    ticker = make_desk(SqliteStore(path), Clock(_at(10)), out)
    ticker.tick(_at(10))  # timers scheduled: warn 10:58, remind 11:28, breach 11:58
    # 11:30, after the warning and the reminder fell due, before any tick ran them
    intake._kernel.clock = Clock(_at(11, 30))
    if how == "answered":
        intake.reply(ticket_id, author="agent-7")
    else:
        agent = Actor("agent-7", {"agent"})
        intake.transition(ticket_id, "accept", actor=agent)
        if how == "resolved":
            data = {"root_cause": "滤网堵塞", "resolution": "远程指导清洗"}
            intake.transition(ticket_id, "resolve", actor=agent, data=data)
        else:  # waiting on the customer: the first-response clock stands still
            intake.transition(ticket_id, "ask_customer", actor=agent)
    ticker.tick(_at(11, 40))  # a late tick: both are due, neither applies any more
    ticker.tick(_at(15))
    assert out.sent == []
    assert fired(ticker.timeline(ticket_id)) == []


def test_a_timely_tick_still_sends_what_was_due(tmp_path: Path) -> None:
    # The control of the test above: ticking before the answer sends both.
    path = tmp_path / "desk.db"
    intake = make_desk(SqliteStore(path), Clock(_at(9, 58)), Outbox())
    ticket_id = intake.receive(mail("zhou", _at(9, 58))).ticket_id
    assert ticket_id is not None
    out = Outbox()
    ticker = make_desk(SqliteStore(path), Clock(_at(10)), out)
    ticker.tick(_at(10))
    ticker.tick(_at(11, 29))
    intake._kernel.clock = Clock(_at(11, 30))
    intake.reply(ticket_id, author="agent-7")
    ticker.tick(_at(15))
    assert sorted(r for _, r in out.sent) == ["remind", "warn"]


def test_a_lagging_ticker_skips_tickets_created_after_its_now(tmp_path: Path) -> None:
    # Another process's clock runs ahead (or this ticker lags): no crash, no early fire.
    path = tmp_path / "desk.db"
    intake = make_desk(SqliteStore(path), Clock(_at(9, 33)), Outbox())
    ticket_id = intake.receive(mail("wu", _at(9, 33))).ticket_id
    assert ticket_id is not None
    out = Outbox()
    ticker = make_desk(SqliteStore(path), Clock(_at(9, 30)), out)
    assert ticker.tick(_at(9, 30)).events == 0
    ticker.tick(_at(10, 40))
    assert out.sent == [(ticket_id, "warn")]


def test_ticks_log_what_they_found_and_fired(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "desk.db"
    intake = make_desk(SqliteStore(path), Clock(_at(9, 30)), Outbox())
    ticket_id = intake.receive(mail("he", _at(9, 30))).ticket_id
    ticker = make_desk(SqliteStore(path), Clock(_at(9, 30)), Outbox())
    ticker.tick(_at(9, 30))
    intake.receive(mail("he", _at(9, 40)))  # the same sender again: threaded or new
    assert capfd.readouterr() == ("", "")  # nothing unless logging is configured
    with caplog.at_level(logging.DEBUG, logger="csmkit"):
        ticker.tick(_at(10, 45))
    messages = [r.getMessage() for r in caplog.records]
    assert any("change(s) on" in m and "after write position" in m for m in messages)
    assert any(f"ticket {ticket_id!r}: timers fired" in m and "warn" in m for m in messages)
    fired_records = [r for r in caplog.records if "timers fired" in r.getMessage()]
    assert {r.name for r in fired_records} == {"csmkit.desk._ticker"}
    assert {r.levelno for r in fired_records} == {logging.INFO}


def test_a_breach_of_a_paused_target_is_still_news(tmp_path: Path) -> None:
    # Put on hold after the breach, ticked late: the warning and the reminder are stale
    # (the clock stands still, the ticket left "new"); the breach happened and the
    # target is still open, so it is escalated once.
    path = tmp_path / "desk.db"
    intake = make_desk(SqliteStore(path), Clock(_at(9, 58)), Outbox())
    ticket_id = intake.receive(mail("ma", _at(9, 58))).ticket_id
    assert ticket_id is not None
    out = Outbox()
    ticker = make_desk(SqliteStore(path), Clock(_at(10)), out)
    ticker.tick(_at(10))
    intake._kernel.clock = Clock(_at(13, 30))
    agent = Actor("agent-7", {"agent"})
    intake.transition(ticket_id, "accept", actor=agent)
    intake.transition(ticket_id, "ask_customer", actor=agent)
    ticker.tick(_at(13, 40))
    ticker.tick(_at(16))
    assert out.sent == [(ticket_id, "escalate")]
    assert ticker.ticket(ticket_id).escalation_level == 1


def _scans(desk: Any) -> Any:
    """Counts the ticker's queries of changes (``store.changes_after``)."""
    store = desk.store
    calls = {"n": 0}
    original = store.changes_after

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return original(*args, **kwargs)

    store.changes_after = counted
    return calls


@pytest.mark.parametrize("name", ["desk.db", ":memory:"])
def test_a_tick_after_only_its_own_writes_asks_the_store_for_no_changes(
    tmp_path: Path, name: str
) -> None:
    # The cheap path must be taken (the test below proves it is never taken wrongly).
    clock = Clock(_at(10))
    desk = make_desk(SqliteStore(name if name == ":memory:" else tmp_path / name), clock, Outbox())
    desk.tick(_at(10))
    calls = _scans(desk)
    desk.tick(_at(10))  # the first scan's marker: nothing committed since
    ticket_id = desk.open_ticket("complaint", channel="phone", subject="noisy").id
    clock.now = _at(10, 5)
    desk.reply(ticket_id, author="agent-1")
    desk.tick(_at(10, 5))
    assert calls["n"] == 0


@pytest.mark.parametrize(
    "writer",
    [
        "another handle",
        "another desk on the same handle",
        "another desk on the same in-memory handle",
    ],
)
def test_a_tick_sees_every_other_writer_after_its_own_writes(tmp_path: Path, writer: str) -> None:
    path = ":memory:" if "in-memory" in writer else str(tmp_path / "desk.db")
    clock, out = Clock(_at(10)), Outbox()
    store = SqliteStore(path)
    ticker = make_desk(store, clock, out)
    # Same handle: the file's data_version does not move (its own connection wrote);
    # only the handle's commit count tells this desk's writes from the other's (an
    # in-memory database has no other connection: its marker is read without SQL).
    other_store = store if "same" in writer else SqliteStore(path)
    other = make_desk(other_store, clock, Outbox())
    ticker.tick(_at(9, 55))
    own = ticker.receive(mail("li", _at(9, 56))).ticket_id
    assert own is not None
    ticker.reply(own, author="agent-1")
    ticker.tick(_at(10))
    clock.now = _at(10, 1)
    late = other.receive(mail("wang", _at(10, 1))).ticket_id  # stored after that tick
    assert late is not None
    ticker.reply(own, author="agent-1")  # and the ticker writes again after it
    calls = _scans(ticker)
    _ticks(ticker, clock, _at(10, 5), _at(13, 30))
    assert calls["n"] >= 1
    assert fired(ticker.timeline(late)) == ["escalate", "remind", "warn"]
    assert sorted(rule for _, rule in out.sent) == ["escalate", "remind", "warn"]
