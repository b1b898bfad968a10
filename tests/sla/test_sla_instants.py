"""SlaInstants: a report's due mark, next event and crossings; the tracker gives exactly
what the report gives, without building it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sla.test_sla_tracker import CAL, POLICY, WALL, _unremembered_add, with_priority_changes

from csmkit.errors import SlaPolicyError
from csmkit.sla import (
    SlaCrossing,
    SlaInstants,
    SlaPolicy,
    SlaPolicySet,
    SlaReport,
    SlaState,
    SlaTracker,
)
from csmkit.sla._clock import _Clock
from csmkit.timeline import (
    Direction,
    Event,
    FieldChanged,
    MessageAdded,
    StatusChanged,
    TicketCreated,
    Timeline,
)

ZONES = [timezone.utc, ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")]


def _exact(value: object) -> object:
    """``value`` with every datetime spelled out with its zone object and fold: ``==``
    on datetimes compares instants only, but an answer in another zone is another
    answer."""
    if isinstance(value, datetime):
        return (value.isoformat(), value.tzinfo, value.fold)
    if isinstance(value, SlaCrossing):
        return (value.target, value.cycle, value.fraction, _exact(value.at))
    if isinstance(value, SlaInstants):
        return (
            _exact(value.due_at),
            value.due_target,
            _exact(value.next_event_at),
            tuple(_exact(c) for c in value.crossings),
        )
    return value


def _reference(report: SlaReport) -> object:
    """What the desk's due mark and the automation's SLA occurrences read of a report
    before ``SlaReport.instants()``: the earliest running cycle by ``(due_at, target)``
    (``min``, the first of equals), the reached warnings and breaches of every cycle in
    the report's order, and ``next_event_at``."""
    running = [c for c in report.cycles if c.state is SlaState.RUNNING]
    earliest = min(running, key=lambda cycle: (cycle.due_at, cycle.target)) if running else None
    crossings = []
    for cycle in report.cycles:
        for warning in cycle.warnings:
            if warning.reached and warning.at is not None:
                crossings.append((cycle.target, cycle.cycle, warning.fraction, _exact(warning.at)))
        if cycle.breached and cycle.breached_at is not None:
            crossings.append((cycle.target, cycle.cycle, None, _exact(cycle.breached_at)))
    return (
        None if earliest is None else _exact(earliest.due_at),
        None if earliest is None else earliest.target,
        _exact(report.next_event_at),
        tuple(crossings),
    )


def _now(timeline: Timeline, data: Any) -> datetime:
    """An instant at or after the latest event (its very object, now and then), in one
    of several zones."""
    minutes = data.draw(st.sampled_from([0, 0, 1, 30, 180, 400, 3000, 20000]))
    if minutes == 0 and data.draw(st.booleans()):
        return timeline.updated_at
    zone = data.draw(st.sampled_from(ZONES))
    return (timeline.updated_at + timedelta(minutes=minutes)).astimezone(zone)


@pytest.mark.parametrize("policy", [POLICY, WALL], ids=["business", "wall"])
@settings(max_examples=60)
@given(data=st.data())
def test_a_reports_instants_are_what_the_due_mark_and_wakeups_read(
    policy: SlaPolicy, data: Any
) -> None:
    timeline = data.draw(with_priority_changes())
    calendar = CAL if policy is POLICY else None
    count = data.draw(st.integers(1, len(timeline)))
    prefix = Timeline(timeline.events[:count])
    report = policy.evaluate(prefix, calendar=calendar, now=_now(prefix, data))
    assert _exact(report.instants()) == _reference(report)


@pytest.mark.parametrize("policy", [POLICY, WALL], ids=["business", "wall"])
@settings(max_examples=60)
@given(data=st.data())
def test_a_trackers_instants_equal_the_reports_from_scratch(policy: SlaPolicy, data: Any) -> None:
    """Grown one event at a time (as the desk grows timelines), asked for instants and
    reports in any order, at the latest event's own instant or later, in any zone: the
    tracker's instants are the from-scratch report's, zone and all."""
    full = data.draw(with_priority_changes())
    calendar = CAL if policy is POLICY else None
    tracker = SlaTracker(policy)
    timeline = Timeline(full.events[:1])
    for event in [None, *full.events[1:]]:
        if event is not None:
            timeline = timeline.append(event)
        for _ in range(data.draw(st.integers(1, 3))):
            now = _now(timeline, data)
            expected = policy.evaluate(timeline, calendar=calendar, now=now)
            if data.draw(st.booleans()):
                assert tracker.evaluate(timeline, calendar=calendar, now=now) == expected
            got = tracker.instants(timeline, calendar=calendar, now=now)
            assert _exact(got) == _exact(expected.instants())
            # asked again: the remembered answer
            again = tracker.instants(timeline, calendar=calendar, now=now)
            assert _exact(again) == _exact(expected.instants())


@settings(max_examples=40)
@given(data=st.data())
def test_instants_of_prefixes_and_earlier_instants_equal_the_reports(data: Any) -> None:
    """Timelines that are not grown from the last one asked about (a prefix, the whole
    timeline at an instant before its last events, an instant before the last one
    asked): the tracker starts over or reads on exactly as the report does."""
    full = data.draw(with_priority_changes())
    tracker = SlaTracker(POLICY)
    for _ in range(data.draw(st.integers(1, 6))):
        count = data.draw(st.integers(1, len(full)))
        timeline = Timeline(full.events[:count]) if data.draw(st.booleans()) else full
        start, end = full[0].at, full[count - 1].at
        now = start + (end - start) * data.draw(st.sampled_from([0, 0.5, 1]))
        now += timedelta(minutes=data.draw(st.sampled_from([0, 1, 600])))
        expected = POLICY.evaluate(timeline, calendar=CAL, now=now).instants()
        for _ in range(2):
            assert _exact(tracker.instants(timeline, calendar=CAL, now=now)) == _exact(expected)


T0 = datetime.fromisoformat("2026-09-14T10:00:00+08:00")


def test_the_due_mark_is_the_earliest_running_cycle() -> None:
    created = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="email")
    timeline = Timeline([created])
    instants = SlaTracker(POLICY).instants(timeline, calendar=CAL, now=T0)
    # first response (2 h of 09:00-12:00, 13:00-18:00 from Monday 10:00) comes before
    # resolution (16 h); both run; its half-way warning is the next event
    assert instants.due_target == "first_response"
    assert instants.due_at == datetime.fromisoformat("2026-09-14T12:00:00+08:00")
    assert instants.next_event_at == datetime.fromisoformat("2026-09-14T11:00:00+08:00")
    assert instants.crossings == ()
    late = T0 + timedelta(days=3)  # Thursday: both goals are behind
    crossed = SlaTracker(POLICY).instants(timeline, calendar=CAL, now=late)
    assert [(c.target, c.fraction) for c in crossed.crossings] == [
        ("first_response", 0.5),
        ("first_response", 0.75),
        ("first_response", None),
        ("resolution", 0.5),
        ("resolution", 0.75),
        ("resolution", None),
    ]
    assert crossed.next_event_at is None
    assert crossed.to_dict()["crossings"][2] == {
        "target": "first_response",
        "cycle": 1,
        "fraction": None,
        "at": "2026-09-14T12:00:00+08:00",
    }


def test_a_ticket_no_policy_applies_to_has_no_instants_and_bad_input_is_refused() -> None:
    urgent = SlaPolicy.from_dict(
        {
            "name": "urgent",
            "when": 'ticket.priority == "urgent"',
            "targets": {"first_response": {"goals": {"urgent": "15m"}, "business": False}},
        }
    )
    tracker = SlaTracker(SlaPolicySet((urgent,)))
    created = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="email")
    plain = Timeline([created])
    assert tracker.instants(plain, now=T0) == SlaInstants(None, None, None, ())
    raised = plain.append(
        FieldChanged(ticket_id="T-1", at=T0, name="priority", old="normal", new="urgent")
    )
    assert tracker.instants(raised, now=T0).due_target == "first_response"
    # refused as evaluate() refuses, with its message
    single = SlaTracker(POLICY)
    for asker, args in [
        (tracker, (plain, None, T0 - timedelta(seconds=1))),
        (single, (plain, CAL, T0 - timedelta(seconds=1))),
        (single, (plain, None, T0)),
        (single, ([created], CAL, T0)),
        (single, (plain, CAL, T0.replace(tzinfo=None))),
    ]:
        timeline, calendar, now = args
        with pytest.raises(SlaPolicyError) as expected:
            asker.evaluate(timeline, calendar=calendar, now=now)  # type: ignore[arg-type]
        with pytest.raises(SlaPolicyError, match="^" + re.escape(str(expected.value)) + "$"):
            asker.instants(timeline, calendar=calendar, now=now)  # type: ignore[arg-type]


def test_equal_due_instants_go_to_the_first_target_name() -> None:
    """Resolution (4 h, from creation) and periodic update (3 h, from the reply an hour
    later) fall due together: the due mark names periodic_update, the first name in
    sort order, though its cycle started later."""
    policy = SlaPolicy.from_dict(
        {
            "name": "tie",
            "targets": {
                "resolution": {"goals": {"normal": "4h"}, "business": False},
                "periodic_update": {"goals": {"normal": "3h"}, "business": False},
            },
        }
    )
    created = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="email")
    reply = MessageAdded(
        ticket_id="T-1",
        at=T0 + timedelta(hours=1),
        direction=Direction.OUTBOUND,
        author="agent-1",
        channel="email",
    )
    timeline = Timeline([created, reply])
    now = T0 + timedelta(hours=2)
    report = policy.evaluate(timeline, now=now)
    assert [c.target for c in report.cycles if c.state is SlaState.RUNNING] == [
        "resolution",
        "periodic_update",
    ]
    for instants in (report.instants(), SlaTracker(policy).instants(timeline, now=now)):
        assert (instants.due_at, instants.due_target) == (
            T0 + timedelta(hours=4),
            "periodic_update",
        )


@st.composite
def pausing(draw: st.DrawFn) -> list[Event]:
    """A ticket put on hold and taken up again and again (customer messages and
    replies between), each event in one of several zones."""
    start = datetime(2026, 9, 14, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    start += timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
    events: list[Event] = [TicketCreated(ticket_id="T-1", at=start, type="repair", channel="email")]
    at, status = start, "new"
    for _ in range(draw(st.integers(1, 14))):
        at += draw(st.sampled_from([timedelta(minutes=7), timedelta(hours=3), timedelta(days=1)]))
        when = at.astimezone(draw(st.sampled_from(ZONES)))
        kind = draw(st.sampled_from(["status", "status", "inbound", "reply"]))
        if kind == "status":
            new = (
                "open"
                if status in ("pending", "on_hold")
                else draw(st.sampled_from(["pending", "on_hold"]))
            )
            events.append(
                StatusChanged(
                    ticket_id="T-1",
                    at=when,
                    from_status=status,
                    to_status=new,
                    category=new,
                )
            )
            status = new
        else:
            direction = Direction.INBOUND if kind == "inbound" else Direction.OUTBOUND
            events.append(
                MessageAdded(
                    ticket_id="T-1", at=when, direction=direction, author="a", channel="email"
                )
            )
    return events


@settings(max_examples=60)
@given(data=st.data(), paused=st.booleans())
def test_instants_remembered_over_a_running_span_equal_the_calendars_answers(
    data: Any, paused: bool
) -> None:
    """While a clock runs without a pause, the instants its thresholds fall at are
    remembered across events (they do not move as the anchor does): with events in
    several zones, pauses and resumes, and reports at every event's instant and later,
    the reports equal those computed asking the calendar every time."""
    if paused:
        events = data.draw(pausing())
    else:
        events = [
            attrs.evolve(event, at=event.at.astimezone(data.draw(st.sampled_from(ZONES))))
            for event in data.draw(with_priority_changes()).events
        ]
    tracker = SlaTracker(POLICY)
    timeline = Timeline(events[:1])
    for event in [None, *events[1:]]:
        if event is not None:
            timeline = timeline.append(event)
        now = _now(timeline, data)
        report = tracker.evaluate(timeline, calendar=CAL, now=now)
        instants = tracker.instants(timeline, calendar=CAL, now=now)
        with mock.patch.object(_Clock, "_add", _unremembered_add):
            expected = POLICY.evaluate(timeline, calendar=CAL, now=now)
        assert report.to_dict() == expected.to_dict()
        assert _exact(instants) == _exact(expected.instants())
