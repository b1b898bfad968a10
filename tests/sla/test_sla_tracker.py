"""SlaTracker: incremental evaluation gives exactly what a from-scratch evaluation gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import conversation_timelines

from csmkit.errors import SlaPolicyError
from csmkit.sla import BusinessCalendar, SlaPolicy, SlaPolicySet, SlaTracker
from csmkit.sla._clock import _Clock, _Run
from csmkit.timeline import (
    Direction,
    Event,
    FieldChanged,
    MessageAdded,
    Priority,
    TicketCreated,
    Timeline,
)

CAL = BusinessCalendar.from_dict(
    {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}
)
POLICY = SlaPolicy.from_dict(
    {
        "name": "standard",
        "targets": {
            "first_response": {"goals": {"normal": "2h", "high": "1h", "urgent": "30m"}},
            "next_response": {"goals": {"normal": "4h", "high": "2h"}, "warnings": [0.5]},
            "resolution": {"goals": {"normal": "16h", "high": "8h"}, "warnings": [0.5, 0.75]},
            "periodic_update": {"goals": {"normal": "24h"}, "business": False},
        },
    }
)
WALL = SlaPolicy.from_dict(
    {
        "name": "wall",
        "targets": {
            "first_response": {"goals": {"normal": "3h", "low": "6h"}, "business": False},
            "resolution": {"goals": {"normal": "30h"}, "business": False, "warnings": [0.8]},
        },
    }
)


@st.composite
def with_priority_changes(draw: st.DrawFn) -> Timeline:
    """A conversation with priority changes inserted at the instants of its events."""
    timeline = draw(conversation_timelines(max_events=16))
    events: list[Event] = [timeline[0]]
    priority = timeline.state_at(timeline[0].at).priority
    for event in timeline.events[1:]:
        events.append(event)
        if draw(st.integers(0, 5)) == 0:
            new = draw(st.sampled_from([p for p in Priority if p is not priority]))
            events.append(
                FieldChanged(
                    ticket_id=event.ticket_id,
                    at=event.at,
                    name="priority",
                    old=priority.value,
                    new=new.value,
                )
            )
            priority = new
    return Timeline(events)


def _nows(timeline: Timeline, draw: st.DrawFn) -> list[tuple[int, datetime]]:
    """Evaluation points: a growing prefix and an instant at or after its last event
    (now and then an earlier instant, or one inside the prefix)."""
    points = []
    for count in range(1, len(timeline) + 1):
        last = timeline[count - 1].at
        offset = draw(st.sampled_from([0, 1, 90, 400, 3000, 20000, -1]))
        if offset < 0:
            now = timeline[0].at + (last - timeline[0].at) / 2  # earlier than the prefix
        else:
            now = last + timedelta(minutes=offset)
        points.append((count, now))
    return points


@pytest.mark.parametrize("policy", [POLICY, WALL], ids=["business", "wall"])
@settings(max_examples=40)
@given(data=st.data())
def test_incremental_equals_from_scratch(policy: SlaPolicy, data: Any) -> None:
    timeline = data.draw(with_priority_changes())
    tracker = SlaTracker(policy)
    for count, now in _nows(timeline, data.draw):
        prefix = Timeline(timeline.events[:count]) if count < len(timeline) else timeline
        calendar = CAL if policy is POLICY else None
        expected = policy.evaluate(prefix, calendar=calendar, now=now)
        assert tracker.evaluate(prefix, calendar=calendar, now=now) == expected
        # asked again (the memoised answer) and with the whole timeline at that instant
        assert tracker.evaluate(prefix, calendar=calendar, now=now) == expected
        assert tracker.evaluate(timeline, calendar=calendar, now=now) == policy.evaluate(
            timeline, calendar=calendar, now=now
        )


@settings(max_examples=40)
@given(data=st.data())
def test_appended_timelines_share_the_fold(data: Any) -> None:
    """Timelines grown with ``append`` (as the desk grows them) give the same answers."""
    full = data.draw(with_priority_changes())
    tracker = SlaTracker(POLICY)
    timeline = Timeline(full.events[:1])
    for event in full.events[1:]:
        timeline = timeline.append(event)
        now = event.at + timedelta(minutes=data.draw(st.integers(0, 5000)))
        assert tracker.evaluate(timeline, calendar=CAL, now=now) == POLICY.evaluate(
            timeline, calendar=CAL, now=now
        )


def _unremembered_add(self: _Clock, run: _Run, at: datetime, delta: timedelta) -> datetime:
    """``_Clock._add`` without its per-run memo: the calendar asked every time."""
    if run.target.business and delta:
        assert self.calendar is not None
        return self.calendar.add(at, delta)
    return at + delta


ZONES = [timezone.utc, ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")]


@settings(max_examples=40)
@given(data=st.data())
def test_remembered_business_additions_equal_the_calendars_answers(data: Any) -> None:
    """The per-run memo of business-time additions (kept across a tracker's
    evaluations and shared by its copies) gives the calendar's own answers, in the
    zone of the instant asked about (equal instants in other zones are not reused)."""
    full = data.draw(with_priority_changes())
    tracker = SlaTracker(POLICY)
    timeline = Timeline(full.events[:1])
    for event in [None, *full.events[1:]]:
        if event is not None:
            timeline = timeline.append(event)
        for _ in range(data.draw(st.integers(1, 3))):
            zone = data.draw(st.sampled_from(ZONES))
            minutes = data.draw(st.sampled_from([0, 1, 30, 400, 3000]))
            now = (timeline.updated_at + timedelta(minutes=minutes)).astimezone(zone)
            report = tracker.evaluate(timeline, calendar=CAL, now=now)
            with mock.patch.object(_Clock, "_add", _unremembered_add):
                expected = POLICY.evaluate(timeline, calendar=CAL, now=now)
            assert report == expected
            assert report.to_dict() == expected.to_dict()


T0 = datetime.fromisoformat("2026-09-14T10:00:00+08:00")


def _created(ticket_id: str = "T-1", priority: str = "normal") -> TicketCreated:
    return TicketCreated(
        ticket_id=ticket_id, at=T0, type="repair", channel="email", priority=priority
    )


def test_a_rewritten_history_of_the_same_ticket_is_evaluated_from_its_start() -> None:
    tracker = SlaTracker(WALL)
    urgent = Timeline([_created(), FieldChanged(
        ticket_id="T-1", at=T0 + timedelta(hours=1), name="priority", old="normal", new="low"
    )])  # fmt: skip
    now = T0 + timedelta(hours=5)
    assert tracker.evaluate(urgent, now=now) == WALL.evaluate(urgent, now=now)
    other = Timeline([_created(), FieldChanged(
        ticket_id="T-1", at=T0 + timedelta(hours=1), name="priority", old="normal", new="high"
    )])  # fmt: skip
    report = tracker.evaluate(other, now=now)
    assert report == WALL.evaluate(other, now=now)
    assert report != WALL.evaluate(urgent, now=now)


def test_size_bounds_the_kept_folds_and_forget_drops_one() -> None:
    tracker = SlaTracker(WALL, size=2)
    for name in ("A", "B", "C"):
        timeline = Timeline([_created(name)])
        tracker.evaluate(timeline, now=T0 + timedelta(hours=1))
    assert len(tracker) == 2
    tracker.forget("C")
    assert len(tracker) == 1
    assert "1 ticket" in repr(tracker)


def test_a_policy_set_selects_per_ticket_as_its_evaluate_does() -> None:
    urgent = SlaPolicy.from_dict(
        {
            "name": "urgent",
            "when": 'ticket.priority == "urgent"',
            "targets": {"first_response": {"goals": {"urgent": "15m"}, "business": False}},
        }
    )
    policies = SlaPolicySet((urgent, WALL))
    tracker = SlaTracker(policies)
    assert tracker.policy is policies
    timeline = Timeline([_created(), FieldChanged(
        ticket_id="T-1", at=T0 + timedelta(minutes=5), name="priority", old="normal", new="urgent"
    )])  # fmt: skip
    for minutes in (1, 10, 30):
        now = T0 + timedelta(minutes=minutes)
        assert tracker.evaluate(timeline, now=now) == policies.evaluate(timeline, now=now)
    only_urgent = SlaPolicySet((urgent,))
    plain = Timeline([_created()])
    assert SlaTracker(only_urgent).evaluate(plain, now=T0).policy is None


def test_bad_arguments_are_refused_as_the_policy_refuses_them() -> None:
    with pytest.raises(SlaPolicyError, match="SlaPolicy or SlaPolicySet"):
        SlaTracker("standard")  # type: ignore[arg-type]
    with pytest.raises(SlaPolicyError, match="positive integer"):
        SlaTracker(WALL, size=0)
    tracker = SlaTracker(POLICY)
    timeline = Timeline([_created()])
    with pytest.raises(SlaPolicyError, match="pass calendar="):
        tracker.evaluate(timeline, now=T0)
    with pytest.raises(SlaPolicyError, match="before the ticket's creation"):
        tracker.evaluate(timeline, calendar=CAL, now=T0 - timedelta(seconds=1))
    with pytest.raises(SlaPolicyError, match="must be a Timeline"):
        tracker.evaluate([_created()], calendar=CAL, now=T0)  # type: ignore[arg-type]


@settings(max_examples=100)
@given(data=st.data())
def test_a_fold_at_the_creation_instant_resumes_only_if_that_instant_gets_no_event(
    data: Any,
) -> None:
    """The opening state reads every event at the creation instant: a fold that has read
    only those is resumed when the next event is at another instant, and refolded when
    an event joins the creation instant (grown one event at a time, as the desk does)."""
    full = data.draw(with_priority_changes())
    opening = data.draw(st.integers(1, len(full)))
    created_at = full[0].at
    events = [
        attrs.evolve(event, at=created_at) if index < opening else event
        for index, event in enumerate(full.events)
    ]
    tracker = SlaTracker(POLICY)
    timeline = Timeline(events[:1])
    for event in events[1:]:
        timeline = timeline.append(event)
        now = event.at + timedelta(minutes=data.draw(st.sampled_from([0, 0, 1, 300])))
        assert tracker.evaluate(timeline, calendar=CAL, now=now) == POLICY.evaluate(
            timeline, calendar=CAL, now=now
        )


def test_a_copied_run_holds_every_slot_and_its_own_reached_marks() -> None:
    target = POLICY.target("resolution")
    assert target is not None
    run = _Run(target, datetime(2026, 10, 12, 9, 0, tzinfo=timezone.utc), 3)
    run.reached[0.5] = run.started_at
    run.stopped_at, run.cancelled, run.goal = run.started_at, True, timedelta(hours=8)
    copy = run.copy()
    for name in _Run.__slots__:
        assert getattr(copy, name) is getattr(run, name) or name == "reached", name
    assert copy.reached == run.reached
    assert copy.reached is not run.reached


def test_a_repeated_question_is_answered_again_only_when_nothing_differs() -> None:
    """The tracker's repeat answer is for the very events, calendar and ``now`` (zone
    included); any difference gets that question's own answer."""
    t0 = datetime(2026, 10, 14, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    created = TicketCreated(ticket_id="T-1", at=t0, type="repair", channel="email")
    timeline = Timeline([created])
    other = BusinessCalendar.from_dict(
        {"timezone": "Europe/Berlin", "week": {"mon-sat": ["07:00-11:00", "14:00-20:00"]}}
    )
    tracker = SlaTracker(POLICY)
    late = t0 + timedelta(hours=3)
    # each question differs from the one before it in one thing only
    questions = [
        (timeline, CAL, late),
        (timeline, other, late),  # another calendar
        (timeline, CAL, late),
        (timeline, CAL, late + timedelta(microseconds=1)),  # another instant
        (timeline, CAL, (late + timedelta(microseconds=1)).astimezone(timezone.utc)),  # zone
        (
            timeline.append(_message(t0)),
            CAL,
            (late + timedelta(microseconds=1)).astimezone(timezone.utc),
        ),  # events
        (timeline, CAL, late),
    ]
    answers = []
    for current, calendar, now in questions:
        expected = POLICY.evaluate(current, calendar=calendar, now=now)
        answers.append(tracker.evaluate(current, calendar=calendar, now=now))
        assert answers[-1] == expected
        assert answers[-1].now.tzinfo is now.tzinfo
    assert answers[0].cycles != answers[1].cycles  # the calendars disagree
    assert answers[4].cycles != answers[5].cycles  # the reply stopped a clock


def _message(at: datetime) -> Event:
    return MessageAdded(
        ticket_id="T-1",
        at=at + timedelta(minutes=30),
        direction=Direction.OUTBOUND,
        author="agent-1",
        channel="email",
    )


@pytest.mark.parametrize("policy", [POLICY, WALL], ids=["business", "wall"])
@settings(max_examples=60)
@given(data=st.data())
def test_a_report_at_the_latest_events_own_instant_equals_from_scratch(
    policy: SlaPolicy, data: Any
) -> None:
    """As the desk asks for its due marks: ``now`` is the very ``at`` of the latest
    event (a report on the kept runs, not on copies, when advancing them would change
    nothing); thresholds met exactly at an event (3 h steps, 3 h goals) included."""
    full = data.draw(with_priority_changes())
    tracker = SlaTracker(policy)
    calendar = CAL if policy is POLICY else None
    timeline = Timeline(full.events[:1])
    for event in full.events[1:]:
        timeline = timeline.append(event)
        now = timeline.updated_at
        report = tracker.evaluate(timeline, calendar=calendar, now=now)
        expected = policy.evaluate(timeline, calendar=calendar, now=now)
        assert report == expected
        # == compares instants: the zones must be the same too
        assert [str(c.due_at) for c in report.cycles] == [str(c.due_at) for c in expected.cycles]
        later = now + timedelta(minutes=data.draw(st.sampled_from([0, 30, 180, 600])))
        assert tracker.evaluate(timeline, calendar=calendar, now=later) == policy.evaluate(
            timeline, calendar=calendar, now=later
        )
