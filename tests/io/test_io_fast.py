"""The report's fast path over csmkit's own exports equals the full path exactly.

Per ticket: `fold_record` measures a record as ``ticket_metrics`` does, finds the
``first_response`` SLA cycle as ``SlaPolicy.evaluate`` does, and declines (``None``)
whatever it cannot vouch for. Per report: ``report_export`` with the fast path gives the
same table, ticket count, skipped rows, or the same error naming file and line, as with
the fast path switched off.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import csmkit.io._stream as stream
from csmkit.errors import CsmkitError, TimelineError
from csmkit.io import report_export
from csmkit.io._fast import FastPlan, fast_plan, fold_record
from csmkit.metrics import FcrRule, ReportAccumulator, ticket_metrics
from csmkit.sla import SlaPolicy, SlaTarget
from csmkit.timeline import (
    Assigned,
    Event,
    MessageAdded,
    Priority,
    StatusChanged,
    SurveyAnswered,
    SurveyKind,
    TicketCreated,
    Timeline,
)
from strategies import conversation_timelines, timelines_events

FAST_METRICS = [
    "tickets",
    "first_response_time",
    "first_resolution_time",
    "full_resolution_time",
    "requester_wait_time",
    "agent_wait_time",
    "on_hold_time",
    "fcr[one_touch]",
    "fcr[one_agent_reply]",
    "fcr[no_customer_followup]",
    "reopen_rate",
    "agent_replies",
    "agent_touches",
    "customer_followups",
    "reopens",
    "csat",
    "nps",
    "ces",
    "sla[first_response]",
]
GOALS = st.dictionaries(
    st.sampled_from([p.value for p in Priority]),
    st.sampled_from(["1s", "7m", "1h", "3h", "4h"]),
    min_size=1,
)


def _policy(goals: dict[str, str], resolution: bool) -> SlaPolicy:
    targets: dict[str, Any] = {"first_response": {"goals": goals, "business": False}}
    if resolution:
        targets["resolution"] = {"goals": goals, "business": False}
    return SlaPolicy.from_dict({"name": "p", "targets": targets})


STEPS = [
    timedelta(0),
    timedelta(seconds=1),
    timedelta(minutes=7),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=4),
]
CATEGORIES = ["new", "open", "pending", "on_hold", "solved", "closed"]


@st.composite
def conversations(draw: st.DrawFn, max_events: int = 12) -> Timeline:
    """Tickets as csmkit exports them, built of every event kind the fast path reads:
    customer messages, public replies, notes, non-public outbound messages (some from
    the ``"system"`` actor, some at the creation instant), status changes (opening in
    a done category, solves, reopens), assignments and survey answers; message ids
    that may repeat; instants in one or several UTC offsets."""
    ticket_id = draw(st.sampled_from(["T-1", "T-2", "工单-3"]))
    at = draw(instants_2026)
    category = draw(st.sampled_from(["new", "new", "open", "solved"]))
    status = category
    events: list[Event] = [
        TicketCreated(
            ticket_id=ticket_id,
            at=at,
            type=draw(st.sampled_from(["q", "repair"])),
            channel=draw(st.sampled_from(["email", "chat"])),
            priority=draw(st.sampled_from(list(Priority))),
            status=status,
            category=category,
            actor=draw(st.sampled_from([None, "agent-1"])),
        )
    ]
    zones = [timezone(timedelta(hours=h)) for h in (0, 8, -3)]
    several = draw(st.booleans())
    zone = draw(st.sampled_from(zones))
    for _ in range(draw(st.integers(0, max_events - 1))):
        at = at + draw(st.sampled_from(STEPS))
        when = draw(st.sampled_from(zones)) if several else zone
        common: dict[str, Any] = {
            "ticket_id": ticket_id,
            "at": at.astimezone(when),
            "actor": draw(st.sampled_from([None, "agent-1", "system"])),
        }
        kind = draw(
            st.sampled_from(["inbound", "reply", "note", "private", "status", "assign", "survey"])
        )
        event: Event
        message_id = draw(st.sampled_from([None, None, "m1", "m2", "m3"]))
        if kind == "inbound":
            event = MessageAdded(
                **common, direction="inbound", channel="email", message_id=message_id
            )
        elif kind in ("reply", "private"):
            event = MessageAdded(
                **common,
                direction="outbound",
                channel="email",
                public=kind == "reply",
                message_id=message_id,
            )
        elif kind == "note":
            event = MessageAdded(
                **common, direction="internal", channel="email", public=False, message_id=message_id
            )
        elif kind == "status":
            new = draw(st.sampled_from(CATEGORIES))
            event = StatusChanged(**common, from_status=status, to_status=new, category=new)
            status = new
        elif kind == "assign":
            event = Assigned(**common, agent=draw(st.sampled_from(["a1", "a2", None])), group="g1")
        else:
            survey = draw(st.sampled_from(list(SurveyKind)))
            score = draw(st.integers(0, 10) if survey is SurveyKind.NPS else st.integers(0, 8))
            event = SurveyAnswered(**common, survey=survey, score=score)
        events.append(event)
    return Timeline(events)


instants_2026 = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=timezone.utc)
)


def _record(timeline: Timeline) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(timeline.to_dict()))
    return result


def _now(draw: st.DrawFn, timeline: Timeline) -> datetime:
    base = draw(st.sampled_from([timeline.created_at, timeline.updated_at]))
    step = draw(st.sampled_from([0, 1, 3600, 4 * 3600, 86400, -60]))
    return base + timedelta(seconds=step)


def _goals(draw: st.DrawFn, timeline: Timeline) -> dict[Priority, timedelta]:
    """First-response goals; the ticket's own often ends exactly at one of its events."""
    created = timeline.created_at
    spans = sorted({e.at - created for e in timeline.events if e.at > created})
    choices = [timedelta(seconds=1), timedelta(hours=4), *spans]
    goals = {p: draw(st.sampled_from(choices)) for p in Priority if draw(st.booleans())}
    if draw(st.integers(0, 3)):
        goals[timeline.ticket.priority] = draw(st.sampled_from(choices))
    return goals


def _calendar_policy(goals: dict[Priority, timedelta], resolution: bool) -> SlaPolicy:
    pairs = tuple(sorted(goals.items(), key=lambda item: item[0].rank))
    targets = [SlaTarget("first_response", pairs, business=False)] if pairs else []
    if resolution and pairs:
        targets.append(SlaTarget("resolution", pairs, business=False))
    return SlaPolicy("p", tuple(targets))


def _check_against_full_path(record: dict[str, Any], now: datetime, policy: SlaPolicy) -> bool:
    """Whether the fast path measured ``record`` (then exactly as the full path does)."""
    plan = fast_plan(ReportAccumulator(FAST_METRICS, now=now, sla=policy))
    assert plan is not None
    figures = fold_record(record, plan)
    if figures is None:
        return False
    metrics, answers, sla, _ = figures
    full = Timeline.from_dict(record)  # the fast path accepts only valid records
    assert metrics == ticket_metrics(full, now=now)
    assert metrics.ticket == full.state_at(now)
    assert answers.events == tuple(e for e in full.events if isinstance(e, SurveyAnswered))
    expected = [
        (cycle.target, cycle.state.value, cycle.breached)
        for cycle in policy.evaluate(full, now=now).cycles
        if cycle.target == "first_response"
    ]
    assert [(c.target, c.state, c.breached) for c in sla.cycles] == expected
    return True


@settings(max_examples=500)
@given(
    st.one_of(conversations(), conversation_timelines(), timelines_events().map(Timeline)),
    st.data(),
)
def test_a_ticket_measures_as_the_full_path(timeline: Timeline, data: st.DataObject) -> None:
    goals = _goals(data.draw, timeline)
    if not goals:
        return
    policy = _calendar_policy(goals, data.draw(st.booleans()))
    _check_against_full_path(_record(timeline), _now(data.draw, timeline), policy)


T0 = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _created() -> TicketCreated:
    return TicketCreated(ticket_id="T-1", at=T0, type="q", channel="email")


def _reply(minutes: float, **options: Any) -> MessageAdded:
    return MessageAdded(
        ticket_id="T-1", at=_at(minutes), direction="outbound", channel="email", **options
    )


def _status(minutes: float, old: str, new: str) -> StatusChanged:
    return StatusChanged(
        ticket_id="T-1", at=_at(minutes), from_status=old, to_status=new, category=new
    )


@pytest.mark.parametrize(
    "events",
    [
        [_created(), _reply(0)],  # an opening comment only: the clock runs on, breached
        [_created(), _reply(0), _reply(0)],  # the second one answers (SLA), not a reply yet
        [_created(), _reply(0, actor="system"), _reply(0)],  # an automatic message first
        [_created(), _reply(60)],  # answered exactly at the due instant: met in time
        [_created(), _status(60, "new", "solved")],  # solved at the due instant
        [_created(), _status(0, "new", "solved"), _status(0, "solved", "open"), _reply(90)],
        [_created(), _status(0, "new", "solved"), _reply(30)],  # done at creation: no cycle
        [_created(), _status(61, "new", "pending"), _reply(120)],
    ],
)
def test_edge_tickets_measure_as_the_full_path(events: list[Event]) -> None:
    policy = _calendar_policy({Priority.NORMAL: timedelta(hours=1)}, True)
    for now in (_at(60), _at(240)):
        if now >= events[-1].at:
            assert _check_against_full_path(_record(Timeline(events)), now, policy)


def test_invalid_histories_are_declined() -> None:
    valid = _record(Timeline([_created(), _status(5, "new", "open")]))
    plan = FastPlan(_at(60), {Priority.NORMAL: timedelta(hours=1)})
    assert fold_record(valid, plan) is not None
    twice = json.loads(json.dumps(valid))
    twice["events"].append({**twice["events"][0], "at": _at(10).isoformat()})  # created again
    wrong = json.loads(json.dumps(valid))
    wrong["events"][1]["from_status"] = "open"  # the ticket is in "new"
    for record in (twice, wrong):
        assert fold_record(record, plan) is None
        with pytest.raises(TimelineError):
            Timeline.from_dict(record)


ODD_VALUES = st.sampled_from(
    [
        None,
        "",
        "x",
        0,
        1.5,
        True,
        False,
        [],
        {},
        ["a"],
        {"k": 1},
        "new",
        "open",
        "solved",
        "inbound",
        "outbound",
        "internal",
        "m1",
        "T-1",
        "T-2",
        "system",
        "csat",
        "urgent",
        "2026-09-28T10:00:00",
        "2026-01-01T00:00:00+00:00",
        "2027-01-01T00:00:00+08:00",
        "created",
        "assigned",
        "status_changed",
        "message_added",
        "survey_answered",
    ]
)


@settings(max_examples=500)
@given(conversations(), st.data(), ODD_VALUES)
def test_a_broken_record_is_declined_or_valid(
    timeline: Timeline, data: st.DataObject, odd: Any
) -> None:
    """Whatever one value of a record is changed to, the fast path declines it or it is
    a valid record measured exactly as the full path measures it."""
    record = _record(timeline)
    target: Any = record
    if data.draw(st.integers(0, 5)):
        target = data.draw(st.sampled_from(record["events"]))
    key = data.draw(st.sampled_from(sorted(target)))
    if data.draw(st.integers(0, 9)):
        target[key] = odd
    else:
        del target[key]
    goals = _goals(data.draw, timeline) or {Priority.NORMAL: timedelta(hours=1)}
    _check_against_full_path(record, _now(data.draw, timeline), _calendar_policy(goals, False))


@given(conversation_timelines())
def test_the_fast_path_takes_plain_conversations(timeline: Timeline) -> None:
    """Not a vacuous differential: csmkit's own plain records do go the fast way."""
    plan = FastPlan(timeline.updated_at, None)
    assert fold_record(_record(timeline), plan) is not None


def test_what_the_fast_path_declines() -> None:
    t0 = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)
    record = _record(
        Timeline.from_dict(
            {
                "ticket_id": "T-1",
                "events": [
                    {
                        "kind": "created",
                        "ticket_id": "T-1",
                        "at": t0.isoformat(),
                        "type": "q",
                        "channel": "email",
                    },
                    {
                        "kind": "message_added",
                        "ticket_id": "T-1",
                        "at": (t0 + timedelta(hours=1)).isoformat(),
                        "direction": "inbound",
                        "channel": "email",
                    },
                ],
            }
        )
    )
    plan = FastPlan(t0 + timedelta(hours=2), None)
    assert fold_record(record, plan) is not None
    early = FastPlan(t0 + timedelta(minutes=30), None)  # an event after now
    assert fold_record(record, early) is None
    for change in (
        {"meta": {"k": 1}},
        {"at": "2026-09-28T08:00:00+00:00"},  # out of order
        {"at": "2026-09-28T10:00:00"},  # naive
        {"kind": "message_sent"},  # unknown kind
        {"public": "yes"},
        {"extra": 1},
        {
            "kind": "status_changed",
            "from_status": "open",
            "to_status": "solved",
            "category": "solved",
            "transition": None,
            "reason": None,
        },  # not from "new"
        {"kind": "created"},  # a second creation
    ):
        broken = json.loads(json.dumps(record))
        broken["events"][1].update(change)
        assert fold_record(broken, plan) is None, change


def test_options_the_fast_path_leaves_to_the_full_path() -> None:
    now = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)
    calendar_policy = _policy({"normal": "4h"}, True)
    assert fast_plan(ReportAccumulator(["csat"], now=now)) is not None
    assert fast_plan(ReportAccumulator(["csat"], now="latest")) is None
    assert fast_plan(ReportAccumulator(["backlog"], now=now)) is None
    assert fast_plan(ReportAccumulator(["sla[resolution]"], now=now, sla=calendar_policy)) is None
    assert fast_plan(ReportAccumulator([FcrRule.survey()], now=now)) is None
    assert (
        fast_plan(ReportAccumulator(["csat"], now=now, bucket="month", bucket_on="first_resolved"))
        is None
    )
    paused = SlaPolicy.from_dict(
        {
            "name": "p",
            "targets": {
                "first_response": {
                    "goals": {"normal": "4h"},
                    "business": False,
                    "pause": ["pending"],
                }
            },
        }
    )
    assert fast_plan(ReportAccumulator(["sla[first_response]"], now=now, sla=paused)) is None


# ------------------------------------------------------------------ whole reports
def _outcome(path: Path, fast: bool, kwargs: dict[str, Any]) -> tuple[str, Any]:
    saved = stream.fast_plan
    if not fast:
        stream.fast_plan = lambda accumulator: None
    try:
        result = report_export(path, **kwargs)
    except CsmkitError as exc:
        return "error", f"{type(exc).__name__}: {exc}"
    finally:
        stream.fast_plan = saved
    return "ok", result


def _bad_line(draw: st.DrawFn, record: dict[str, Any]) -> str:
    """A line the issue names as bad input (or an ordinary broken one)."""
    events = record["events"]
    broken = json.loads(json.dumps(record))
    choice = draw(st.integers(0, 7))
    last = broken["events"][-1]
    if choice == 0 and len(events) > 1:  # out of order
        last["at"] = "2000-01-01T00:00:00+00:00"
    elif choice == 1:  # naive instant
        last["at"] = last["at"][:19]
    elif choice == 2:  # unknown kind
        last["kind"] = "teleported"
    elif choice == 3:  # an instant in another zone: fine, if in order
        at = datetime.fromisoformat(last["at"]).astimezone(timezone(timedelta(hours=9)))
        last["at"] = at.isoformat()
    elif choice == 4:
        return "{not json"
    elif choice == 5:
        return json.dumps(events[0])  # one event per line
    elif choice == 6 and last["kind"] == "status_changed":
        last["from_status"] = "elsewhere"
    else:
        last["ticket_id"] = "someone-else"
    return json.dumps(broken)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(conversations(), min_size=1, max_size=6),
    st.lists(st.sampled_from(FAST_METRICS), min_size=1, max_size=5, unique=True),
    st.lists(
        st.sampled_from(["channel", "assignee", "priority", "status"]), max_size=2, unique=True
    ),
    st.sampled_from([None, "day", "month"]),
    GOALS,
    st.sampled_from(["raise", "skip"]),
    st.data(),
)
def test_reports_equal_the_full_path(
    timelines: list[Timeline],
    metrics: list[str],
    by: list[str],
    bucket: str | None,
    goals: dict[str, str],
    on_error: str,
    data: st.DataObject,
) -> None:
    latest = max(t.updated_at for t in timelines)
    now = latest + timedelta(seconds=data.draw(st.sampled_from([0, 3600, -3600])))
    lines = []
    for index, timeline in enumerate(timelines):
        record = _record(timeline)
        if data.draw(st.booleans()):  # a repeated ticket id, a repeated line
            record["ticket_id"] = "dup"
            for event in record["events"]:
                event["ticket_id"] = "dup"
        else:
            record["ticket_id"] = f"{record['ticket_id']}-{index}"
            for event in record["events"]:
                event["ticket_id"] = record["ticket_id"]
        line = json.dumps(record)
        if data.draw(st.integers(0, 4)) == 0:
            line = _bad_line(data.draw, record)
        lines.append(line)
        if data.draw(st.integers(0, 6)) == 0:
            lines.append("")
    kwargs: dict[str, Any] = {
        "metrics": metrics,
        "by": by,
        "bucket": bucket,
        "now": now,
        "sla": _policy(goals, data.draw(st.booleans())),
        "on_error": on_error,
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        fast = _outcome(path, True, kwargs)
        full = _outcome(path, False, kwargs)
    assert fast == full
    if fast[0] == "error" and "ExportError" in fast[1] and "export.jsonl:" in fast[1]:
        assert "export.jsonl:" in fast[1]  # file and line named, as on the full path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"at": "2020-01-01T00:00:00+00:00"}, "out of order"),
        ({"at": "2026-09-28T10:00:00"}, "2026-09-28T10:00:00"),
        ({"kind": "teleported"}, "teleported"),
    ],
)
def test_bad_input_names_file_and_line_on_the_fast_path(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    t0 = datetime(2026, 9, 28, 9, tzinfo=timezone.utc)
    good = {
        "ticket_id": "T-1",
        "events": [
            {
                "kind": "created",
                "ticket_id": "T-1",
                "at": t0.isoformat(),
                "type": "q",
                "channel": "email",
            },
            {
                "kind": "message_added",
                "ticket_id": "T-1",
                "at": (t0 + timedelta(hours=1)).isoformat(),
                "direction": "inbound",
                "channel": "email",
            },
        ],
    }
    record = _record(Timeline.from_dict(good))
    bad = json.loads(json.dumps(record).replace("T-1", "T-2"))
    bad["events"][1].update(change)
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    kwargs: dict[str, Any] = {"metrics": ["first_response_time"], "now": t0 + timedelta(days=1)}
    assert fast_plan(ReportAccumulator(["first_response_time"], now=kwargs["now"])) is not None
    fast = _outcome(path, True, kwargs)
    assert fast == _outcome(path, False, kwargs)
    assert fast[0] == "error"
    assert f"{path}:2" in fast[1]
    assert message in fast[1]
    skipped = _outcome(path, True, {**kwargs, "on_error": "skip"})
    assert skipped == _outcome(path, False, {**kwargs, "on_error": "skip"})
    assert skipped[0] == "ok"
    assert [row.line for row in skipped[1].skipped] == [2]
    assert skipped[1].tickets == 1
