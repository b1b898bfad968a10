"""The SLA clock: one test per semantic rule, on a 09:00-18:00 Mon-Fri calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import SlaPolicyError
from csmkit.sla import BusinessCalendar, SlaPolicy, SlaReport, SlaState
from csmkit.timeline import (
    Event,
    FieldChanged,
    MessageAdded,
    StatusChanged,
    TicketCreated,
    Timeline,
)

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
M = timedelta(minutes=1)
CAL = BusinessCalendar.from_dict(
    {"timezone": "Asia/Shanghai", "week": {"mon-fri": ["09:00-18:00"]}}
)
POLICY = SlaPolicy.from_dict(
    {
        "name": "standard",
        "targets": {
            "first_response": {"goals": {"normal": "2h", "high": "1h", "urgent": "30m"}},
            "next_response": {"goals": {"normal": "4h", "high": "2h"}},
            "resolution": {"goals": {"normal": "16h", "high": "8h", "urgent": "4h"}},
            "periodic_update": {"goals": {"normal": "24h"}, "business": False},
        },
    }
)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


MON = sh(2026, 9, 14, 10)  # a Monday, 10:00


class Story:
    """Builds a ticket timeline step by step."""

    def __init__(self, at: datetime = MON, priority: str = "normal") -> None:
        self.events: list[Event] = [
            TicketCreated(ticket_id="T-1", at=at, type="repair", channel="email", priority=priority)
        ]
        self.status = "new"

    def _add(self, cls: type[Event], at: datetime, **kw: Any) -> Story:
        self.events.append(cls(ticket_id="T-1", at=at, **kw))
        return self

    def reply(self, at: datetime, public: bool = True) -> Story:
        direction = "outbound" if public else "internal"
        return self._add(MessageAdded, at, direction=direction, channel="email", public=public)

    def customer(self, at: datetime) -> Story:
        return self._add(MessageAdded, at, direction="inbound", channel="email")

    def status_to(self, at: datetime, category: str) -> Story:
        old, self.status = self.status, f"s-{category}"
        return self._add(
            StatusChanged, at, from_status=old, to_status=self.status, category=category
        )

    def priority(self, at: datetime, old: str, new: str) -> Story:
        return self._add(FieldChanged, at, name="priority", old=old, new=new)

    def report(self, now: datetime, policy: SlaPolicy = POLICY) -> SlaReport:
        return policy.evaluate(Timeline(self.events), calendar=CAL, now=now)


# ------------------------------------------------------------------- first response
def test_first_response_stops_at_first_public_reply():
    story = Story().reply(MON + 30 * M, public=False).reply(MON + 100 * M)
    cycle = story.report(MON + 5 * H).current("first_response")
    assert cycle is not None
    assert (cycle.state, cycle.breached, cycle.cycle) == (SlaState.MET, False, 1)
    assert cycle.stopped_at == MON + 100 * M
    assert cycle.elapsed == 100 * M
    assert cycle.remaining == 20 * M
    assert cycle.due_at == cycle.original_due_at == MON + 2 * H
    assert cycle.remaining_wall is None
    assert [(w.fraction, w.reached) for w in cycle.warnings] == [(0.5, True), (0.75, True)]
    assert cycle.warnings[0].at == MON + H
    assert cycle.warnings_upcoming == ()
    # A stop exactly at a threshold is in time for it (like a reply exactly at due).
    exact = Story().reply(MON + 90 * M).report(MON + 5 * H).current("first_response")
    assert exact is not None
    assert [(w.reached, w.at) for w in exact.warnings] == [(True, MON + H), (False, None)]


def test_first_response_counts_business_time_overnight():
    friday = sh(2026, 9, 18, 17, 30)
    story = Story(at=friday).reply(sh(2026, 9, 21, 10))
    cycle = story.report(sh(2026, 9, 21, 12)).current("first_response")
    assert cycle is not None
    assert cycle.elapsed == 90 * M
    assert cycle.due_at == sh(2026, 9, 21, 10, 30)
    assert not cycle.breached


def test_running_first_response_warnings_and_next_event():
    report = Story().report(MON + 45 * M)
    cycle = report.current("first_response")
    assert cycle is not None and cycle.state is SlaState.RUNNING
    assert cycle.elapsed == 45 * M
    assert cycle.remaining == 75 * M
    assert cycle.remaining_wall == 75 * M
    assert [w.at for w in cycle.warnings_upcoming] == [MON + H, MON + 90 * M]
    assert report.next_event_at == MON + H  # the 50 % warning comes first


def test_breach_is_a_flag_and_met_late_stays_breached():
    late = Story().reply(MON + 3 * H).report(MON + 4 * H).current("first_response")
    assert late is not None
    assert (late.state, late.breached, late.breached_at) == (SlaState.MET, True, MON + 2 * H)
    assert late.remaining == -H
    running = Story().report(MON + 3 * H).current("first_response")
    assert running is not None
    assert (running.state, running.breached) == (SlaState.RUNNING, True)
    assert running.remaining_wall == -H


def test_reply_exactly_at_due_is_on_time_but_running_at_due_is_breached():
    on_time = Story().reply(MON + 2 * H).report(MON + 3 * H).current("first_response")
    assert on_time is not None and not on_time.breached
    at_due = Story().report(MON + 2 * H)
    cycle = at_due.current("first_response")
    assert cycle is not None and cycle.breached and cycle.breached_at == MON + 2 * H


def test_an_event_exactly_at_due_that_does_not_stop_the_clock_breaches_there():
    story = Story().reply(MON + 2 * H, public=False).reply(MON + 3 * H)
    cycle = story.report(MON + 4 * H).current("first_response")
    assert cycle is not None and cycle.breached and cycle.breached_at == MON + 2 * H
    # ... also when that event is the last one and `now` is the due instant
    story = Story().status_to(MON + 2 * H, "pending")
    cycle = story.report(MON + 2 * H).current("first_response")
    assert cycle is not None and cycle.breached and cycle.breached_at == MON + 2 * H


def test_first_response_cancelled_when_solved_without_reply():
    report = Story().status_to(MON + H, "solved").report(MON + 2 * H)
    first = report.current("first_response")
    resolution = report.current("resolution")
    assert first is not None and first.state is SlaState.CANCELLED
    assert resolution is not None and resolution.state is SlaState.MET
    assert resolution.stopped_at == MON + H


# ------------------------------------------------------------------- next response
def test_next_response_cycles_start_at_customer_messages_after_a_reply():
    story = (
        Story()
        .customer(MON + 10 * M)  # before any reply: first response covers it
        .reply(MON + 30 * M)
        .customer(MON + H)  # cycle 1 starts
        .customer(MON + 2 * H)  # already waiting: no new cycle
        .reply(MON + 3 * H)  # cycle 1 met
        .customer(MON + 4 * H)  # cycle 2 starts
    )
    report = story.report(MON + 5 * H)
    cycles = report.for_target("next_response")
    assert [(c.cycle, c.state) for c in cycles] == [(1, SlaState.MET), (2, SlaState.RUNNING)]
    assert cycles[0].started_at == MON + H and cycles[0].elapsed == 2 * H
    assert cycles[1].started_at == MON + 4 * H and cycles[1].elapsed == H
    assert report.current("next_response") is cycles[1]


def test_customer_message_on_a_solved_ticket_starts_next_response_at_reopen():
    story = (
        Story()
        .reply(MON + 10 * M)
        .status_to(MON + H, "solved")
        .customer(MON + 2 * H)
        .status_to(MON + 3 * H, "open")
    )
    cycle = story.report(MON + 4 * H).current("next_response")
    assert cycle is not None and cycle.started_at == MON + 3 * H
    assert cycle.state is SlaState.RUNNING


# ------------------------------------------------------------------- resolution
def test_resolution_reopen_starts_a_new_cycle():
    story = (
        Story()
        .reply(MON + 10 * M)
        .status_to(MON + H, "open")
        .status_to(MON + 2 * H, "solved")
        .status_to(MON + 3 * H, "closed")  # solved -> closed is no reopen
    )
    cycles = story.report(MON + 4 * H).for_target("resolution")
    assert [(c.cycle, c.state) for c in cycles] == [(1, SlaState.MET)]
    story = (
        Story()
        .status_to(MON + 2 * H, "solved")
        .status_to(MON + 5 * H, "open")
        .status_to(MON + 6 * H, "solved")
        .status_to(MON + 7 * H, "open")
    )
    cycles = story.report(MON + 8 * H).for_target("resolution")
    assert [(c.cycle, c.state, c.elapsed) for c in cycles] == [
        (1, SlaState.MET, 2 * H),
        (2, SlaState.MET, H),
        (3, SlaState.RUNNING, H),
    ]
    assert cycles[2].due_at == CAL.add(MON + 7 * H, 16 * H) == sh(2026, 9, 16, 15)


def test_pause_pushes_the_due_instant_by_paused_business_time():
    story = Story().status_to(MON + H, "pending").status_to(sh(2026, 9, 15, 11), "open")
    report = story.report(sh(2026, 9, 15, 12))
    cycle = report.current("resolution")
    assert cycle is not None and cycle.state is SlaState.RUNNING
    # Counting: Mon 10-11 (1h), paused until Tue 11:00, then Tue 11-12 (1h).
    assert cycle.elapsed == 2 * H
    assert cycle.original_due_at == sh(2026, 9, 15, 17)  # Mon 10-18 + Tue 09-17
    # Paused: Mon 11-18 (7h) + Tue 09-11 (2h) = 9 business hours later.
    assert cycle.due_at == CAL.add(cycle.original_due_at, 9 * H) == sh(2026, 9, 16, 17)


def test_paused_cycle_reports_projection_and_no_events():
    report = Story().status_to(MON + H, "on_hold").report(MON + 3 * H)
    cycle = report.current("resolution")
    assert cycle is not None and cycle.state is SlaState.PAUSED
    assert cycle.elapsed == H
    assert cycle.due_at == CAL.add(MON + 3 * H, 15 * H)  # as if it resumed now
    assert cycle.remaining_wall == cycle.due_at - (MON + 3 * H)
    # first response kept running (no pause categories by default) and is breached
    first = report.current("first_response")
    assert first is not None and first.state is SlaState.RUNNING and first.breached
    assert report.next_event_at is None


def test_paused_targets_do_not_give_events_but_running_ones_do():
    story = Story().reply(MON + 10 * M).status_to(MON + 20 * M, "pending")
    report = story.report(MON + H)
    assert report.current("resolution").state is SlaState.PAUSED  # type: ignore[union-attr]
    periodic = report.current("periodic_update")
    assert periodic is not None and periodic.state is SlaState.RUNNING
    # periodic update counts calendar time: 50 % of 24h after the reply
    assert report.next_event_at == MON + 10 * M + 12 * H


# ------------------------------------------------------------------- priority changes
def test_priority_change_retargets_running_clock_keeping_elapsed_time():
    story = Story().priority(MON + H, "normal", "high")
    cycle = story.report(MON + 90 * M).current("resolution")
    assert cycle is not None
    assert cycle.goal == 8 * H and cycle.priority == "high"
    assert cycle.elapsed == 90 * M
    assert cycle.due_at == CAL.add(MON, 8 * H) == cycle.original_due_at
    assert not cycle.breached


def test_priority_raise_past_the_new_goal_breaches_at_the_change():
    story = Story().priority(MON + H, "normal", "urgent")
    report = story.report(MON + 4 * H)
    first = report.current("first_response")
    assert first is not None and first.goal == 30 * M
    assert first.breached and first.breached_at == MON + H
    assert first.due_at == MON + H
    assert first.warnings[0].at == MON + H  # reached at the change, too


def test_priority_raise_while_paused_breaches_when_the_new_goal_is_already_used_up():
    story = Story().status_to(MON + 3 * H, "pending").priority(MON + 4 * H, "normal", "urgent")
    cycle = story.report(MON + 5 * H).current("resolution")
    assert cycle is not None and cycle.state is SlaState.PAUSED
    assert cycle.elapsed == 3 * H and cycle.goal == 4 * H and not cycle.breached
    story = Story().status_to(MON + 5 * H, "pending").priority(MON + 6 * H, "normal", "urgent")
    cycle = story.report(MON + 7 * H).current("resolution")
    assert cycle is not None and cycle.state is SlaState.PAUSED
    assert cycle.breached and cycle.breached_at == MON + 6 * H == cycle.due_at
    assert cycle.remaining == -H


def test_priority_without_a_goal_cancels_and_with_one_starts_retroactively():
    report = (
        Story()
        .reply(MON + 10 * M)
        .customer(MON + H)
        .priority(MON + 2 * H, "normal", "urgent")
        .report(MON + 3 * H)
    )
    cycle = report.current("next_response")
    assert cycle is not None and cycle.state is SlaState.CANCELLED
    assert cycle.stopped_at == MON + 2 * H
    # 'low' has no next-response goal: the cycle is tracked silently and appears, with
    # its elapsed time since the customer's message, when the priority gets a goal.
    story = Story(priority="low")
    story.reply(MON + 10 * M).customer(MON + H).priority(MON + 2 * H, "low", "high")
    cycle = story.report(MON + 3 * H).current("next_response")
    assert cycle is not None
    assert cycle.started_at == MON + H and cycle.elapsed == 2 * H and cycle.goal == 2 * H
    assert cycle.breached and cycle.breached_at == MON + 3 * H


def test_low_priority_without_goals_reports_nothing_for_those_targets():
    report = Story(priority="low").report(MON + H)
    assert report.cycles == ()
    assert report.next_event_at is None


# ------------------------------------------------------------------- periodic update
def test_periodic_update_recurs_on_every_public_reply():
    story = Story().reply(MON + H).reply(MON + 5 * H).status_to(MON + 6 * H, "solved")
    cycles = story.report(MON + 7 * H).for_target("periodic_update")
    assert [(c.cycle, c.state, c.elapsed) for c in cycles] == [
        (1, SlaState.MET, 4 * H),
        (2, SlaState.CANCELLED, H),
    ]
    assert cycles[0].business is False


# ------------------------------------------------------------------- evaluation rules
def test_events_after_now_are_ignored_and_report_is_pure():
    story = Story().reply(MON + 3 * H)
    before = story.report(MON + H)
    assert before.current("first_response").state is SlaState.RUNNING  # type: ignore[union-attr]
    assert story.report(MON + H) == before
    data = before.to_dict()
    assert data["cycles"][0]["target"] == "first_response"
    assert data["next_event_at"] == before.next_event_at.isoformat()  # type: ignore[union-attr]


def test_bad_evaluation_arguments():
    timeline = Timeline(Story().events)
    with pytest.raises(SlaPolicyError, match="now must be a timezone-aware datetime, got naive"):
        POLICY.evaluate(timeline, calendar=CAL, now=datetime(2026, 9, 14, 12))
    with pytest.raises(SlaPolicyError, match="before the ticket's creation"):
        POLICY.evaluate(timeline, calendar=CAL, now=MON - H)
    with pytest.raises(SlaPolicyError, match="pass calendar="):
        POLICY.evaluate(timeline, now=MON + H)
    with pytest.raises(SlaPolicyError, match="must be a Timeline"):
        POLICY.evaluate(Story().events, calendar=CAL, now=MON)  # type: ignore[arg-type]


def test_calendar_time_policy_needs_no_calendar():
    policy = SlaPolicy.from_dict(
        {
            "name": "24x7",
            "targets": {
                "resolution": {"goals": {"normal": "4h"}, "business": False, "warnings": [0.8]}
            },
        }
    )
    report = policy.evaluate(Timeline(Story().events), now=MON + H)
    cycle = report.current("resolution")
    assert cycle is not None and cycle.due_at == MON + 4 * H
    assert report.next_event_at == MON + timedelta(hours=3.2)


# ------------------------------------------------------------------- properties
steps = st.lists(
    st.tuples(
        st.integers(1, 26 * 60),  # minutes after the previous step
        st.sampled_from(["open", "pending", "on_hold", "reply", "customer", "high", "normal"]),
    ),
    max_size=8,
)


def _story(items: list[tuple[int, str]]) -> tuple[Story, datetime]:
    story, at, priority, category = Story(), MON, "normal", "new"
    for minutes, what in items:
        at += minutes * M
        if what in ("open", "pending", "on_hold") and what != category:
            story.status_to(at, what)
            category = what
        elif what == "reply":
            story.reply(at)
        elif what == "customer":
            story.customer(at)
        elif what in ("high", "normal") and what != priority:
            story.priority(at, priority, what)
            priority = what
    return story, at


@given(steps, st.integers(0, 48 * 60))
def test_resolution_elapsed_is_business_time_while_not_paused(
    items: list[tuple[int, str]], extra: int
):
    story, last = _story(items)
    now = last + extra * M
    cycle = story.report(now).current("resolution")
    assert cycle is not None
    # Reference: sum business time over the stretches not in pending / on_hold.
    expected, category, since = timedelta(0), "new", MON
    for event in story.events[1:]:
        if isinstance(event, StatusChanged):
            if category not in ("pending", "on_hold"):
                expected += CAL.between(since, event.at)
            category, since = str(event.category), event.at
    if category not in ("pending", "on_hold"):
        expected += CAL.between(since, now)
    assert cycle.elapsed == expected
    assert cycle.remaining == cycle.goal - cycle.elapsed
    if not cycle.breached:
        assert CAL.between(now, cycle.due_at) == cycle.remaining
        assert cycle.due_at >= now
    assert cycle.original_due_at == CAL.add(MON, cycle.goal)


@given(steps, st.integers(0, 48 * 60))
def test_a_scheduler_waking_at_next_event_at_sees_the_event(
    items: list[tuple[int, str]], extra: int
):
    story, last = _story(items)
    now = last + extra * M
    report = story.report(now)
    wake = report.next_event_at
    if wake is None:
        assert all(c.breached or c.state is not SlaState.RUNNING for c in report.cycles)
        return
    assert wake > now

    def happened(r: SlaReport) -> set[tuple[str, int, float]]:
        out = {(c.target, c.cycle, w.fraction) for c in r.cycles for w in c.warnings_reached}
        out |= {(c.target, c.cycle, 1.0) for c in r.cycles if c.breached}
        return out

    before = happened(story.report(wake - timedelta(microseconds=1)))
    after = happened(story.report(wake))
    assert before == happened(report)
    assert after > before
