"""Metrics follow the SLA clock on what a reply is; Zendesk CSAT labels in any case."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given

from csmkit.errors import MetricsError
from csmkit.metrics import RatingAccumulator, csat, fcr, ticket_metrics
from csmkit.sla import (
    SYSTEM_ACTOR,
    SlaPolicy,
    SlaState,
    is_opening_comment,
    is_public_reply,
)
from csmkit.timeline import Direction, MessageAdded, StatusChanged, TicketCreated, Timeline
from strategies import conversation_timelines

T0 = datetime(2026, 9, 28, 9, 0, tzinfo=timezone(timedelta(hours=8)))

CALENDAR_TIME = SlaPolicy.from_dict(
    {
        "name": "24x7",
        "targets": {
            "first_response": {
                "goals": dict.fromkeys(("low", "normal", "high", "urgent"), "8h"),
                "business": False,
                "pause": [],
            }
        },
    }
)


def _message(minutes: int, direction: str, *, public: bool = True) -> MessageAdded:
    return MessageAdded(
        ticket_id="T-1",
        at=T0 + timedelta(minutes=minutes),
        actor=None if direction == "inbound" else "agent-1",
        direction=direction,
        channel="email",
        public=public,
    )


def _solved(minutes: int) -> StatusChanged:
    return StatusChanged(
        ticket_id="T-1",
        at=T0 + timedelta(minutes=minutes),
        from_status="new",
        to_status="solved",
        category="solved",
    )


def _created() -> TicketCreated:
    return TicketCreated(ticket_id="T-1", at=T0, type="question", channel="email")


def test_internal_notes_and_private_messages_are_not_a_first_response() -> None:
    timeline = Timeline(
        [
            _created(),
            _message(0, "inbound"),
            _message(5, "internal", public=False),
            _message(10, "outbound", public=False),
            _message(30, "outbound"),
            _solved(40),
        ]
    )
    metrics = ticket_metrics(timeline)
    assert metrics.first_response == timedelta(minutes=30)
    assert (metrics.agent_replies, metrics.agent_touches) == (1, 3)
    report = CALENDAR_TIME.evaluate(timeline, calendar=None, now=T0 + timedelta(hours=1))
    (cycle,) = report.for_target("first_response")
    assert cycle.stopped_at == T0 + timedelta(minutes=30)


def test_one_touch_counts_public_replies_only() -> None:
    # Two notes and one private outbound message, one public reply: still one touch.
    timeline = Timeline(
        [
            _created(),
            _message(0, "inbound"),
            _message(5, "internal", public=False),
            _message(6, "outbound", public=False),
            _message(7, "internal", public=False),
            _message(30, "outbound"),
            _solved(40),
        ]
    )
    result = fcr([timeline], "one_agent_reply")
    assert (result.successes, result.n) == (1, 1)
    # A second *public* reply breaks one-touch.
    twice = Timeline([*timeline.events[:-1], _message(35, "outbound"), _solved(40)])
    assert fcr([twice], "one_touch").successes == 0


def test_only_private_messages_leave_the_first_response_open() -> None:
    timeline = Timeline(
        [_created(), _message(0, "inbound"), _message(10, "outbound", public=False)]
    )
    assert ticket_metrics(timeline).first_response is None
    report = CALENDAR_TIME.evaluate(timeline, calendar=None, now=T0 + timedelta(hours=1))
    assert report.for_target("first_response")[0].state is SlaState.RUNNING


@given(conversation_timelines())
def test_first_response_agrees_with_the_sla_clock(timeline: Timeline) -> None:
    now = timeline.events[-1].at
    metrics = ticket_metrics(timeline, now=now)
    (cycle,) = CALENDAR_TIME.evaluate(timeline, calendar=None, now=now).for_target("first_response")
    created = timeline.created_at
    if cycle.state is SlaState.MET:
        assert metrics.first_response == cycle.elapsed
        assert created + cycle.elapsed == cycle.stopped_at
    elif cycle.state is SlaState.RUNNING:
        assert metrics.first_response is None
        assert cycle.elapsed == now - created
    else:
        # Solved before any public reply: the clock stops (cancelled); a reply sent
        # afterwards is still the ticket's first response for the metric.
        assert cycle.state is SlaState.CANCELLED
        assert cycle.stopped_at is not None
        assert metrics.first_response is None or (
            created + metrics.first_response >= cycle.stopped_at
        )
    conversation = [
        event
        for event in timeline.events[1:]
        if isinstance(event, MessageAdded)
        and (event.direction is Direction.INBOUND or event.actor != SYSTEM_ACTOR)
    ]
    replies = [
        event
        for position, event in enumerate(conversation)
        if is_public_reply(event)
        and not is_opening_comment(event, created_at=created, messages_before=position)
    ]
    assert metrics.agent_replies == len(replies)
    if replies:
        assert metrics.first_response == replies[0].at - created


@pytest.mark.parametrize(
    ("labels", "good", "bad"),
    [
        (["Good", "bad", "GOOD", " good ", "Bad\t"], 3, 2),
        (["good", "Offered", " UNOFFERED", None, "bad"], 1, 1),
    ],
)
def test_zendesk_labels_ignore_case_and_whitespace(
    labels: list[object], good: int, bad: int
) -> None:
    result = csat(labels, convention="zendesk")
    assert (result.counts[-1], result.counts[0], result.n) == (good, bad, good + bad)
    assert result.unrated == len(labels) - good - bad


def test_other_labels_are_rejected_with_their_position() -> None:
    with pytest.raises(MetricsError, match=r"ratings\[2\].*'great'"):
        csat(["Good", "bad", "great"], convention="zendesk")
    accumulator = RatingAccumulator("csat", convention="zendesk", on_invalid="skip")
    accumulator.update_many(["Good", "so-so", 5])
    assert (accumulator.result().n, accumulator.result().skipped) == (2, 1)


def _first_response_cycle(timeline: Timeline) -> tuple[SlaState, timedelta]:
    (cycle,) = CALENDAR_TIME.evaluate(
        timeline, calendar=None, now=T0 + timedelta(hours=1)
    ).for_target("first_response")
    return cycle.state, cycle.elapsed


def test_an_automatic_acknowledgement_is_no_reply_for_the_clock_or_the_metrics() -> None:
    ack = MessageAdded(
        ticket_id="T-1", at=T0 + timedelta(minutes=1), actor="system", direction="outbound",
        channel="email",
    )  # fmt: skip
    timeline = Timeline([_created(), _message(0, "inbound"), ack, _message(30, "outbound")])
    assert ticket_metrics(timeline).first_response == timedelta(minutes=30)
    assert _first_response_cycle(timeline) == (SlaState.MET, timedelta(minutes=30))


def test_an_agents_opening_comment_is_the_request_not_a_reply() -> None:
    opening = _message(0, "outbound")  # a phone call typed in by the agent
    timeline = Timeline([_created(), opening, _message(5, "inbound"), _message(20, "outbound")])
    metrics = ticket_metrics(timeline)
    assert metrics.first_response == timedelta(minutes=20)
    assert metrics.agent_replies == 1
    assert _first_response_cycle(timeline) == (SlaState.MET, timedelta(minutes=20))
    # the same message a minute later answers the customer
    late = Timeline([_created(), _message(1, "outbound")])
    assert ticket_metrics(late).first_response == timedelta(minutes=1)
    assert _first_response_cycle(late) == (SlaState.MET, timedelta(minutes=1))
