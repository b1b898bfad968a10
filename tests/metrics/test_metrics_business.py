"""Metrics on real csmkit.sla reports and BusinessCalendar business time; reports; booleans."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import MetricsError
from csmkit.metrics import (
    DURATION_METRICS,
    FcrRule,
    backlog,
    ces,
    csat,
    durations,
    fcr,
    no_reopen_within,
    nps,
    rank,
    reopen_rate,
    report,
    sla_attainment,
    ticket_metrics,
    trend,
)
from csmkit.sla import BusinessCalendar, SlaPolicy, SlaState
from csmkit.timeline import (
    FieldChanged,
    MessageAdded,
    StatusChanged,
    TicketCreated,
    Timeline,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 28, 9, 0, tzinfo=SH)  # Monday 28 September 2026
HOLIDAYS = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
WORKDAYS = ["2026-09-20", "2026-10-10"]  # 补班
CAL = BusinessCalendar.from_dict(
    {
        "timezone": "Asia/Shanghai",
        "week": {"mon-fri": ["09:00-18:00"]},
        "holidays": HOLIDAYS,
        "workdays": WORKDAYS,
        "covers": {"from": "2026-01-01", "to": "2026-12-31"},
    }
)
POLICY = SlaPolicy.from_dict(
    {
        "name": "standard",
        "targets": {
            "first_response": {"goals": {"normal": "2h"}},
            "resolution": {"goals": {"normal": "8h"}},
        },
    }
)


class ReferenceCalendar:
    """Obviously correct: Mon–Fri 09:00–18:00 Shanghai with the same 调休, day by day."""

    holidays = frozenset(date.fromisoformat(d) for d in HOLIDAYS)
    workdays = frozenset(date.fromisoformat(d) for d in WORKDAYS)

    def working(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() < 5

    def between(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        day = start.astimezone(SH).date()
        while day <= end.astimezone(SH).date():
            if self.working(day):
                opening = datetime.combine(day, time(9), SH)
                closing = datetime.combine(day, time(18), SH)
                low, high = max(opening, start), min(closing, end)
                if high > low:
                    total += high - low
            day += timedelta(days=1)
        return total


def _at(hours: float, day: int = 0) -> datetime:
    return T0 + timedelta(days=day, hours=hours)


def ticket(
    tid: str, *steps: tuple[datetime, str], start: datetime = T0, **created: object
) -> Timeline:
    """Steps: (instant, "in" | "out" | "note" | a status category)."""
    events: list[object] = [
        TicketCreated(ticket_id=tid, at=start, type="repair", channel="wechat", **created)
    ]  # type: ignore[arg-type]
    status = "new"
    for at, kind in steps:
        if kind in ("in", "out", "note"):
            direction = {"in": "inbound", "out": "outbound", "note": "internal"}[kind]
            events.append(MessageAdded(ticket_id=tid, at=at, direction=direction, channel="wechat"))
        else:
            events.append(
                StatusChanged(
                    ticket_id=tid, at=at, from_status=status, to_status=kind, category=kind
                )
            )
            status = kind
    return Timeline(events)  # type: ignore[arg-type]


# ------------------------------------------------------------------ SLA scenarios
ON_TIME = ticket("A", (_at(0), "in"), (_at(1), "out"), (_at(3), "solved"))
LATE = ticket("B", (_at(0), "in"), (_at(3), "out"), (_at(3, day=1), "solved"))  # Tue 12:00
RUNNING = ticket("C", (_at(0), "in"))
PAUSED = ticket("D", (_at(0), "in"), (_at(0.5), "out"), (_at(1), "pending"))
CANCELLED = ticket("E", (_at(0.5), "solved"))
REOPENED = ticket(
    "F",
    (_at(0), "in"),
    (_at(0.5), "out"),
    (_at(1), "solved"),
    (_at(2), "open"),
    (_at(8, day=1), "solved"),  # Tue 17:00: Mon 11–18 + Tue 9–17 = 15h > 8h
)
NOW = {"A": _at(3, day=2), "B": _at(3, day=2), "C": _at(3), "D": _at(3, day=2)}


def sla_reports() -> list[object]:
    tickets = [ON_TIME, LATE, RUNNING, PAUSED, CANCELLED, REOPENED]
    return [
        POLICY.evaluate(t, calendar=CAL, now=NOW.get(t.ticket_id, _at(3, day=2))) for t in tickets
    ]


def test_sla_scenarios_are_what_they_claim() -> None:
    got = {
        (r.ticket_id, c.target, c.cycle): (c.state, c.breached)
        for r in sla_reports()  # type: ignore[attr-defined]
        for c in r.cycles
    }
    assert got == {
        ("A", "first_response", 1): (SlaState.MET, False),
        ("A", "resolution", 1): (SlaState.MET, False),
        ("B", "first_response", 1): (SlaState.MET, True),
        ("B", "resolution", 1): (SlaState.MET, True),
        ("C", "first_response", 1): (SlaState.RUNNING, True),
        ("C", "resolution", 1): (SlaState.RUNNING, False),
        ("D", "first_response", 1): (SlaState.MET, False),
        ("D", "resolution", 1): (SlaState.PAUSED, False),
        ("E", "first_response", 1): (SlaState.CANCELLED, False),
        ("E", "resolution", 1): (SlaState.MET, False),
        ("F", "first_response", 1): (SlaState.MET, False),
        ("F", "resolution", 1): (SlaState.MET, False),
        ("F", "resolution", 2): (SlaState.MET, True),
    }


def test_sla_attainment_on_real_reports() -> None:
    rates = sla_attainment(sla_reports())
    first, resolution = rates["first_response"], rates["resolution"]
    # met on time A, D, F; breached B (late), C (running, already breached); E cancelled
    assert (first.successes, first.trials, first.skipped) == (3, 5, 1)
    # A, E, F#1 on time; B and F#2 (the reopen cycle) late; C running, D paused: undecided
    assert (resolution.successes, resolution.trials, resolution.skipped) == (3, 5, 2)
    low, high = first.interval(0.95)
    assert low < first.score == 60.0 < high
    strict = sla_attainment(sla_reports(), count_running_breached=False)
    assert (strict["first_response"].trials, strict["first_response"].skipped) == (4, 2)
    only = sla_attainment(sla_reports(), targets=["resolution", "next_response"])
    assert set(only) == {"resolution", "next_response"} and only["next_response"].n == 0


def test_report_sla_and_backlog_per_group_and_bucket() -> None:
    tickets = [
        ON_TIME,
        LATE,
        RUNNING,
        PAUSED,
        CANCELLED,
        REOPENED,
        ticket("G", (_at(1, day=7), "in"), (_at(2, day=7), "out")),  # created Mon 5 Oct?
    ]
    now = _at(3, day=2)  # Wednesday 12:00
    table = report(
        tickets,
        ["tickets", "sla[first_response]", "sla[resolution]", "backlog", "backlog_age"],
        by=["channel"],
        bucket="week",
        tz="Asia/Shanghai",
        clock=CAL,
        now=now,
        sla=POLICY,
    )
    assert table.columns[:3] == ("channel", "week", "tickets")
    assert len(table) == 1  # every ticket was created on T0 (G's events come later)
    row = table[0]
    expected = sla_attainment([POLICY.evaluate(t, calendar=CAL, now=now) for t in tickets])
    assert row["sla[first_response]"] == expected["first_response"].score
    assert row["sla[first_response]_n"] == expected["first_response"].n
    assert (row["sla[resolution]_low"], row["sla[resolution]_high"]) == pytest.approx(
        expected["resolution"].interval()
    )
    # backlog at Wed 12:00: C (new), D (pending), G (new; its messages lie after now)
    assert row["backlog"] == 3
    snapshot = backlog(tickets, now, clock=CAL)
    assert snapshot.count == 3 and row["backlog_age_median"] == snapshot.ages.median
    assert snapshot.ages.median == timedelta(hours=9 + 9 + 3)  # business hours, Mon–Wed noon


def test_report_groups_by_priority_and_day_buckets() -> None:
    urgent = ticket("U", (_at(0), "in"), (_at(4), "out"), priority="urgent")
    quick = ticket("Q", (_at(0), "in"), (_at(0.5), "out"), priority="urgent")
    normal = ticket("N", (_at(0), "in"), (_at(1), "out"))
    policy = SlaPolicy.from_dict(
        {"name": "p", "targets": {"first_response": {"goals": {"normal": "2h", "urgent": "1h"}}}}
    )
    table = report(
        [urgent, quick, normal],
        ["sla[first_response]", "backlog", "first_response_time"],
        by=["priority"],
        bucket="day",
        tz="Asia/Shanghai",
        clock=CAL,
        now=_at(6),
        sla=policy,
    )
    rows = {row["priority"]: row for row in table}
    assert rows["urgent"]["sla[first_response]"] == 50.0
    assert rows["normal"]["sla[first_response]"] == 100.0
    assert rows["urgent"]["backlog"] == 2 and rows["urgent"]["day"] == "2026-09-28"
    assert rows["urgent"]["first_response_time_median"] == timedelta(hours=2.25)
    # precomputed reports by ticket id work too
    reports = {t.ticket_id: policy.evaluate(t, calendar=CAL, now=_at(6)) for t in [urgent, quick]}
    again = report([urgent, quick], ["sla[first_response]"], now=_at(6), sla=reports)
    assert again[0]["sla[first_response]"] == 50.0


def test_report_requirements_are_checked() -> None:
    with pytest.raises(MetricsError, match="need now="):
        report([ON_TIME], ["backlog"])
    with pytest.raises(MetricsError, match="need sla="):
        report([ON_TIME], ["sla[resolution]"], now=_at(5))
    with pytest.raises(MetricsError, match="duplicate"):
        report([ON_TIME], ["fcr", "fcr"])
    with pytest.raises(MetricsError, match="SLA evaluation failed"):
        report([ON_TIME], ["sla[resolution]"], now=_at(5), sla=POLICY)  # no calendar
    with pytest.raises(MetricsError, match="a list"):
        report([ON_TIME], "fcr")  # type: ignore[arg-type]


# ------------------------------------------------------------------ business time
instants = st.integers(min_value=0, max_value=14 * 24 * 4).map(
    lambda q: T0 - timedelta(days=2) + timedelta(minutes=15 * q)
)


@given(st.lists(instants, min_size=4, max_size=4).map(sorted), st.booleans())
def test_duration_metrics_business_time_match_reference(
    moments: list[datetime], pending: bool
) -> None:
    created, reply, middle, solved = moments
    middle_status = "pending" if pending else "on_hold"
    tl = Timeline(
        [
            TicketCreated(ticket_id="H", at=created, type="q", channel="web"),
            MessageAdded(ticket_id="H", at=created, direction="inbound", channel="web"),
            MessageAdded(ticket_id="H", at=reply, direction="outbound", channel="web"),
            StatusChanged(
                ticket_id="H", at=middle, from_status="new", to_status="x", category=middle_status
            ),
            StatusChanged(
                ticket_id="H", at=solved, from_status="x", to_status="solved", category="solved"
            ),
        ]
    )
    real = ticket_metrics(tl, clock=CAL)
    ref = ticket_metrics(tl, clock=ReferenceCalendar())
    for attribute in DURATION_METRICS.values():
        assert getattr(real, attribute) == getattr(ref, attribute), attribute
    ref_cal = ReferenceCalendar()
    assert real.first_response == ref_cal.between(created, reply)
    assert real.full_resolution == ref_cal.between(created, solved)
    assert real.requester_wait is not None and real.agent_wait is not None
    assert real.requester_wait + real.agent_wait == ref_cal.between(created, solved)


def test_durations_across_national_day() -> None:
    # Created Wed 30 Sep 16:00, reply Thu 8 Oct 10:00: 2h on 30 Sep + 1h on 8 Oct.
    created = datetime(2026, 9, 30, 16, tzinfo=SH)
    tl = Timeline(
        [
            TicketCreated(ticket_id="N", at=created, type="q", channel="web"),
            MessageAdded(ticket_id="N", at=created, direction="inbound", channel="web"),
            MessageAdded(
                ticket_id="N",
                at=datetime(2026, 10, 8, 10, tzinfo=SH),
                direction="outbound",
                channel="web",
            ),
        ]
    )
    result = durations([tl], "first_response_time", clock=CAL)
    assert result.business and result.median == timedelta(hours=3)
    assert durations([tl], "first_response_time").median == timedelta(days=7, hours=18)


def test_calendar_errors_become_metrics_errors() -> None:
    outside = ticket("Z", (datetime(2027, 1, 4, 10, tzinfo=SH), "out"))
    with pytest.raises(MetricsError, match=r"timelines\[0\].*covered range"):
        durations([outside], "first_response_time", clock=CAL)


def test_no_reopen_within_business_days() -> None:
    # Solved Mon 17:00. 2 business days of 9h = 18h of open time: Wed 17:00.
    def solved_then(
        reopen: datetime | None, solved: datetime = T0 + timedelta(hours=8)
    ) -> Timeline:
        steps: list[tuple[datetime, str]] = [(_at(0), "in"), (_at(1), "out"), (solved, "solved")]
        if reopen is not None:
            steps.append((reopen, "open"))
        return ticket("R", *steps)

    rule = no_reopen_within(2, business_day=timedelta(hours=9))
    assert rule.label == "fcr[no_reopen_within(2, business_day=9h)]"
    late_now = _at(0, day=10)
    inside = solved_then(_at(7.75, day=2))  # Wed 16:45
    edge = solved_then(_at(8, day=2))  # Wed 17:00: exactly 18h
    outside = solved_then(_at(8.25, day=2))  # Wed 17:15
    # solved Mon 18:00 (closing): the window's 18h end Wed 18:00; at 19:30 no time passed
    closed_after = solved_then(_at(10.5, day=2), solved=_at(9))
    for tl, verdict in [(inside, 0.0), (edge, 0.0), (outside, 100.0), (closed_after, 0.0)]:
        assert fcr([tl], rule, clock=CAL, now=late_now).score == verdict
    # the same in calendar days: Wed 17:00 is 48h after Mon 17:00
    assert fcr([outside], no_reopen_within(2), now=late_now).score == 100.0
    assert fcr([inside], no_reopen_within(2), now=late_now).score == 0.0
    # undecided until more than 18 business hours have passed
    quiet = solved_then(None)
    assert fcr([quiet], rule, clock=CAL, now=_at(8, day=2)).n == 0
    assert fcr([quiet], rule, clock=CAL, now=_at(0.5, day=3)).score == 100.0
    with pytest.raises(MetricsError, match="business clock"):
        fcr([quiet], rule, now=late_now)
    # reopen rate uses the same window
    rate = reopen_rate(
        [inside, outside], now=late_now, within=2, business_day=timedelta(hours=9), clock=CAL
    )
    assert (rate.successes, rate.trials) == (1, 2)
    with pytest.raises(MetricsError, match="needs within="):
        reopen_rate([inside], business_day=timedelta(hours=9))
    with pytest.raises(MetricsError, match="positive timedelta"):
        no_reopen_within(2, business_day=timedelta(0))


@given(
    st.integers(min_value=0, max_value=10 * 24 * 4),
    st.integers(min_value=1, max_value=10 * 24 * 4),
    st.integers(min_value=1, max_value=5),
)
def test_business_window_matches_reference(solved_q: int, gap_q: int, days: int) -> None:
    solved = T0 + timedelta(minutes=15 * solved_q)
    reopened = solved + timedelta(minutes=15 * gap_q)
    tl = ticket("W", (T0, "in"), (solved, "solved"), (reopened, "open"))
    rule = no_reopen_within(days, business_day=timedelta(hours=9))
    verdict = fcr([tl], rule, clock=CAL, now=datetime(2026, 12, 1, tzinfo=SH))
    within = ReferenceCalendar().between(solved, reopened) <= days * timedelta(hours=9)
    assert verdict.score == (0.0 if within else 100.0)


def test_backlog_ageing_business_time_matches_reference() -> None:
    tickets = [ticket(f"K{i}", start=_at(i * 7.5)) for i in range(8)]
    at = datetime(2026, 10, 9, 12, tzinfo=SH)  # Friday after the holiday
    snapshot = backlog(tickets, at, clock=CAL, buckets=(timedelta(hours=9), timedelta(hours=27)))
    ref = sorted(ReferenceCalendar().between(t.created_at, at) for t in tickets)
    assert snapshot.business and snapshot.count == 8
    assert [snapshot.ages.quantile(q) for q in (0, 0.5, 1)] == [
        ref[0],
        (ref[3] + ref[4]) / 2,
        ref[-1],
    ]
    assert snapshot.ages.mean == sum(ref, timedelta(0)) / len(ref)
    expected = [
        sum(1 for r in ref if r < timedelta(hours=9)),
        sum(1 for r in ref if timedelta(hours=9) <= r < timedelta(hours=27)),
        sum(1 for r in ref if r >= timedelta(hours=27)),
    ]
    assert [count for _, count in snapshot.buckets] == expected


# ------------------------------------------------------------------ rank
def _agent_tickets(
    agent: str, replies_after: list[float], solved_with: list[int]
) -> list[Timeline]:
    out = []
    for i, (hours, replies) in enumerate(zip(replies_after, solved_with, strict=True)):
        steps: list[tuple[datetime, str]] = [(_at(0), "in")]
        steps += [(_at(hours + k * 0.1), "out") for k in range(replies)]
        steps.append((_at(hours + 1), "solved"))
        tl = ticket(f"{agent}-{i}", *steps)
        out.append(
            tl.append(
                FieldChanged(
                    ticket_id=tl.ticket_id, at=_at(hours + 1), name="region", old=None, new=agent
                )
            )
        )
    return out


def test_rank_durations_by_upper_bound_and_rates_by_lower_bound() -> None:
    # steady: always 2h; lucky: faster on average but erratic (wide interval); tiny: 2 tickets
    steady = _agent_tickets("steady", [2.0] * 12, [1] * 12)
    lucky = _agent_tickets("lucky", [0.25, 0.25, 0.25, 0.25, 0.25, 5.0] * 2, [1] * 12)
    tiny = _agent_tickets("tiny", [0.1, 0.1], [1, 1])
    everyone = steady + lucky + tiny
    by_time = rank(everyone, "fields.region", "first_response_time", min_n=5)
    assert by_time.column("fields.region") == ["steady", "lucky"]  # tiny: n < min_n
    means = {row["fields.region"]: row["first_response_time_mean"] for row in by_time}
    assert means["lucky"] < means["steady"]  # the raw mean would rank lucky first
    bounds = by_time.column("bound")
    assert bounds == sorted(bounds) and bounds[0] == timedelta(hours=2)
    assert by_time.column("rank") == [1, 2]
    assert len(rank(everyone, "fields.region", "first_response_time", min_n=2)) == 3

    # FCR one-touch: good 18/20 vs small 3/3 (100 % raw, but a low Wilson bound)
    good = _agent_tickets("good", [1.0] * 20, [1] * 18 + [3] * 2)
    small = _agent_tickets("small", [1.0] * 3, [1] * 3)
    bad = _agent_tickets("bad", [1.0] * 20, [1] * 5 + [2] * 15)
    by_fcr = rank(good + small + bad, "fields.region", "fcr", min_n=3)
    assert by_fcr.column("fields.region") == ["good", "small", "bad"]
    assert by_fcr[1]["fcr"] == 100.0 and by_fcr[0]["fcr"] == 90.0
    lows = by_fcr.column("bound")
    assert lows == sorted(lows, reverse=True)
    assert by_fcr.column("fields.region")[:1] == ["good"]
    assert rank(good + small + bad, "fields.region", "fcr", min_n=4).column("fields.region") == [
        "good",
        "bad",
    ]
    # lower is better for reopen rate: ascending upper bound
    by_reopen = rank(good + bad, "fields.region", "reopen_rate", min_n=1)
    assert by_reopen.column("bound") == sorted(by_reopen.column("bound"))
    with pytest.raises(MetricsError, match="is a count"):
        rank(everyone, "fields.region", "tickets")
    with pytest.raises(MetricsError, match="min_n"):
        rank(everyone, "fields.region", "fcr", min_n=0)


def test_rank_sla_and_trend_of_sla() -> None:
    tickets = [ON_TIME, LATE, REOPENED]
    ranked = rank(
        tickets, "channel", "sla[resolution]", min_n=1, clock=CAL, now=_at(3, day=2), sla=POLICY
    )
    assert ranked[0]["sla[resolution]_n"] == 4
    series = trend(
        tickets,
        "sla[resolution]",
        bucket="day",
        tz="Asia/Shanghai",
        clock=CAL,
        now=_at(3, day=2),
        sla=POLICY,
    )
    assert series[0]["change"] is None and series[0]["sla[resolution]"] == 50.0


# ------------------------------------------------------------------ survey FCR
def test_survey_fcr_field_and_name() -> None:
    def with_field(tid: str, name: str, value: object) -> Timeline:
        tl = ticket(tid, (_at(0), "in"), (_at(1), "out"), (_at(2), "solved"))
        return tl.append(FieldChanged(ticket_id=tid, at=_at(3), name=name, old=None, new=value))

    tickets = [
        with_field("S1", "first_contact_resolved", True),
        with_field("S2", "first_contact_resolved", "no"),
        with_field("S3", "first_contact_resolved", "yes"),
        with_field("S4", "fcr_answer", False),
        with_field("S5", "fcr_answer", True),
        with_field("S6", "first_contact_resolved", "maybe"),  # not eligible
    ]
    default = fcr(tickets, "survey")
    assert (default.successes, default.trials, default.skipped) == (2, 3, 3)
    other = fcr(tickets, FcrRule.survey("fcr_answer"))
    assert (other.successes, other.trials) == (1, 2) and other.name == "fcr[survey(fcr_answer)]"
    assert fcr(tickets, "survey(fcr_answer)").successes == 1
    table = report(tickets, ["fcr[survey]", "fcr[survey(fcr_answer)]"])
    assert table[0]["fcr[survey]_n"] == 3 and table[0]["fcr[survey(fcr_answer)]_n"] == 2
    with pytest.raises(MetricsError, match="non-empty str"):
        FcrRule.survey("")


# ------------------------------------------------------------------ booleans
@pytest.mark.parametrize(
    "scores",
    [[1, True], [True, 1], [0, 5, False], [10, 1.0, True], [9.0, 1, True], [3] * 50 + [True]],
)
def test_booleans_are_rejected_wherever_they_stand(scores: list[object]) -> None:
    position = next(i for i, s in enumerate(scores) if isinstance(s, bool))
    with pytest.raises(MetricsError, match=rf"scores\[{position}\]: .* is a boolean"):
        nps(scores)
    skipped = nps(scores, on_invalid="skip")
    assert skipped.skipped == 1 and skipped.n == len(scores) - 1


def test_booleans_rejected_in_ratings() -> None:
    with pytest.raises(MetricsError, match=r"ratings\[2\]: True is a boolean"):
        csat([1, 5, True])
    with pytest.raises(MetricsError, match="boolean"):
        ces([1, 7, False, 1], higher_is_better=True)


@given(st.lists(st.integers(min_value=-3, max_value=300) | st.booleans(), max_size=40))
def test_nps_fast_path_matches_reference(values: list[int | bool]) -> None:
    valid = [v for v in values if type(v) is int and 0 <= v <= 10]
    result = nps(values, on_invalid="skip")
    assert result.n == len(valid) and result.skipped == len(values) - len(valid)
    assert list(result.counts) == [valid.count(k) for k in range(11)]
    if len(valid) != len(values):
        with pytest.raises(MetricsError):
            nps(values)


# ------------------------------------------------------------------ pandas
def test_pandas_inputs_and_output() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series([10, 9, 8, 3, 10])
    assert nps(series).counts == nps([10, 9, 8, 3, 10]).counts
    frame = pd.DataFrame({"score": [10.0, None, 6.0], "region": ["华东", "华北", "华东"]})
    with pytest.raises(MetricsError, match=r"scores\[1\]: NaN"):
        nps(frame, field="score")
    skipped = nps(frame, field="score", on_invalid="skip")
    assert (skipped.n, skipped.skipped, skipped.score) == (2, 1, 0.0)
    with pytest.raises(MetricsError, match="field="):
        nps(frame)
    with pytest.raises(MetricsError, match="boolean"):
        nps(pd.Series([1, True, 9], dtype=object))
    assert csat(pd.Series([5, 4, 1]), scale=5).n == 3
    out = report(
        [ON_TIME, RUNNING],
        ["tickets", "backlog", "first_response_time"],
        by=["channel"],
        now=_at(5),
    ).to_pandas()
    assert list(out["tickets"]) == [2] and list(out["backlog"]) == [1]
    assert out["first_response_time_median"].iloc[0] == timedelta(hours=1)


def test_table_aligns_chinese_labels() -> None:
    from csmkit.metrics import Table

    text = str(Table(("region", "n"), ({"region": "华东", "n": 3}, {"region": "north", "n": 12})))
    assert text.splitlines() == ["region   n", "------  --", "华东     3", "north   12"]
