"""Ticket metrics, FCR rules, SLA attainment, backlog, reports and value metrics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import MetricsError
from csmkit.metrics import (
    DurationAccumulator,
    MeanAccumulator,
    backlog,
    churn,
    durations,
    fcr,
    first_response_time,
    ltv,
    no_reopen_within,
    nps,
    rank,
    reopen_rate,
    report,
    retention_uplift,
    roi,
    sla_attainment,
    ticket_metrics,
    trend,
)
from csmkit.timeline import (
    MessageAdded,
    StatusChanged,
    SurveyAnswered,
    TicketCreated,
    Timeline,
)

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 9, 28, 9, 0, tzinfo=CST)  # a Monday


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class NineToFive:
    """Obviously correct business clock: Mon–Fri 09:00–17:00 (UTC+8), hour by minute."""

    def between(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        t = start
        step = timedelta(minutes=1)
        while t < end:
            local = t.astimezone(CST)
            if local.weekday() < 5 and 9 <= local.hour < 17:
                total += min(step, end - t)
            t += step
        return total


def build(ticket: str, *steps: tuple[float, str, dict[str, object]], **created: object) -> Timeline:
    events: list[object] = [
        TicketCreated(ticket_id=ticket, at=T0, type="repair", channel="email", **created)  # type: ignore[arg-type]
    ]
    status = "new"
    for hours, kind, data in steps:
        if kind == "in":
            events.append(
                MessageAdded(ticket_id=ticket, at=_h(hours), direction="inbound", channel="email")
            )
        elif kind == "out":
            events.append(
                MessageAdded(
                    ticket_id=ticket, at=_h(hours), direction="outbound", channel="email", **data
                )  # type: ignore[arg-type]
            )
        elif kind == "note":
            events.append(
                MessageAdded(ticket_id=ticket, at=_h(hours), direction="internal", channel="email")
            )
        elif kind == "survey":
            events.append(SurveyAnswered(ticket_id=ticket, at=_h(hours), **data))  # type: ignore[arg-type]
        else:
            events.append(
                StatusChanged(
                    ticket_id=ticket,
                    at=_h(hours),
                    from_status=status,
                    to_status=kind,
                    category=kind,
                )
            )
            status = kind
    return Timeline(events)  # type: ignore[arg-type]


NONE: dict[str, object] = {}
ONE_TOUCH = build("A", (0, "in", NONE), (1, "out", NONE), (1, "open", NONE), (2, "solved", NONE))
TWO_TOUCH = build(
    "B", (0, "in", NONE), (1, "out", NONE), (3, "in", NONE), (4, "out", NONE), (5, "solved", NONE)
)
ZERO_TOUCH = build("C", (0.5, "solved", NONE))
REOPENED = build(
    "D",
    (0, "in", NONE),
    (1, "out", NONE),
    (2, "solved", NONE),
    (30, "open", NONE),
    (31, "pending", NONE),
    (33, "solved", NONE),
)
UNSOLVED = build("E", (0, "in", NONE), (0.25, "note", NONE), (2, "on_hold", NONE))


def test_ticket_metrics_definitions() -> None:
    m = ticket_metrics(REOPENED)
    assert m.first_response == timedelta(hours=1)
    assert m.first_resolution == timedelta(hours=2)
    assert m.full_resolution == timedelta(hours=33)
    assert m.reopens == 1
    assert m.requester_wait == timedelta(hours=2 + 1)  # new 0–2 and open 30–31
    assert m.agent_wait == timedelta(hours=2)  # pending 31–33
    assert m.on_hold == timedelta(0)
    unsolved = ticket_metrics(UNSOLVED)
    assert unsolved.requester_wait is None and unsolved.first_response is None
    assert unsolved.agent_touches == 1 and unsolved.agent_replies == 0
    later = ticket_metrics(UNSOLVED, now=_h(5))
    assert later.on_hold == timedelta(hours=3)
    assert later.requester_wait == timedelta(hours=5)


def test_business_time_and_opening_comment() -> None:
    # Created Friday 16:00, reply Monday 10:00: 2 business hours.
    friday = datetime(2026, 10, 2, 16, 0, tzinfo=CST)
    tl = Timeline(
        [
            TicketCreated(ticket_id="F", at=friday, type="q", channel="web"),
            MessageAdded(ticket_id="F", at=friday, direction="outbound", channel="web"),
            MessageAdded(
                ticket_id="F",
                at=friday + timedelta(days=3, hours=-6),
                direction="outbound",
                channel="web",
            ),
        ]
    )
    m = ticket_metrics(tl, clock=NineToFive())
    assert m.first_response == timedelta(hours=2)  # the opening comment does not count
    assert m.agent_replies == 1
    assert ticket_metrics(tl).first_response == timedelta(days=2, hours=18)


def test_fcr_rules() -> None:
    tickets = [ONE_TOUCH, TWO_TOUCH, ZERO_TOUCH, REOPENED, UNSOLVED]
    one_touch = fcr(tickets)
    assert (one_touch.successes, one_touch.trials, one_touch.skipped) == (3, 4, 1)
    exactly_one = fcr(tickets, "one_agent_reply")
    assert (exactly_one.successes, exactly_one.trials) == (2, 4)
    followup = fcr(tickets, "no_customer_followup")
    assert (followup.successes, followup.trials) == (3, 4)
    rule = no_reopen_within(1)
    window = fcr(tickets, rule, now=_h(100))
    # A, B, C, D resolved; D reopened 28 h after first resolution (outside 1 day)
    assert (window.successes, window.trials) == (4, 4)
    assert fcr(tickets, no_reopen_within(2), now=_h(100)).successes == 3
    with pytest.raises(MetricsError, match="needs now"):
        fcr(tickets, rule)
    surveyed = build("S", (1, "solved", NONE), fields={"first_contact_resolved": "no"})
    assert fcr([surveyed, ONE_TOUCH], "survey").trials == 1
    with pytest.raises(MetricsError, match="unknown FCR rule"):
        fcr(tickets, "two_touch")
    low, high = one_touch.interval()
    assert low <= one_touch.score <= high  # type: ignore[operator]


def test_reopen_rate_and_durations() -> None:
    tickets = [ONE_TOUCH, REOPENED, UNSOLVED]
    r = reopen_rate(tickets)
    assert (r.successes, r.trials, r.skipped) == (1, 2, 1)
    frt = first_response_time(tickets)
    assert frt.n == 2 and frt.missing == 1 and frt.median == timedelta(hours=1)
    with pytest.raises(MetricsError, match=r"timelines\[2\] \('E'\): no first response time"):
        durations(tickets, "first_response_time", missing="raise")
    with pytest.raises(MetricsError, match=r"timelines\[1\]: expected a Timeline"):
        fcr([ONE_TOUCH, 42])
    with pytest.raises(MetricsError, match="naive"):
        fcr([ONE_TOUCH], now=datetime(2026, 1, 1))
    dicts = [tl.to_dict() for tl in tickets]
    assert first_response_time(dicts) == frt


def test_sla_attainment_states() -> None:
    cycle = SimpleNamespace
    reports = [
        SimpleNamespace(
            cycles=[
                cycle(target="first_reply", cycle=1, state="met", breached=False),
                cycle(target="first_reply", cycle=2, state="met", breached=True),
                cycle(target="resolution", cycle=1, state="running", breached=True),
                cycle(target="resolution", cycle=1, state="paused", breached=False),
                cycle(target="resolution", cycle=2, state="cancelled", breached=False),
            ]
        )
    ]
    out = sla_attainment(reports)
    assert (out["first_reply"].successes, out["first_reply"].trials) == (1, 2)
    assert (out["resolution"].successes, out["resolution"].trials, out["resolution"].skipped) == (
        0,
        1,
        2,
    )
    strict = sla_attainment(reports, count_running_breached=False)
    assert strict["resolution"].trials == 0
    with pytest.raises(MetricsError, match=r"cycles\[0\]"):
        sla_attainment([cycle(target="x", cycle=1, state="done", breached=False)])


def test_backlog() -> None:
    snapshot = backlog([ONE_TOUCH, REOPENED, UNSOLVED], at=_h(30.5))
    assert snapshot.count == 2
    assert snapshot.by_category == {"on_hold": 1, "open": 1}
    assert dict(snapshot.buckets) == {"0–24h": 0, "24h–48h": 2, "48h+": 0}
    business = backlog([UNSOLVED], at=_h(30.5), clock=NineToFive())
    assert business.ages.median == timedelta(hours=14.5)  # Mon 9–17, Tue 9–15:30


def test_report_rank_trend() -> None:
    tickets = [ONE_TOUCH, TWO_TOUCH, ZERO_TOUCH, REOPENED, UNSOLVED]
    table = report(
        tickets,
        ["tickets", "fcr", "first_response_time"],
        by=["channel"],
        bucket="week",
        tz="Asia/Shanghai",
    )
    assert len(table) == 1
    row = table[0]
    assert row["channel"] == "email" and row["week"] == "2026-09-28"
    assert row["tickets"] == 5 and row["fcr_n"] == 4
    assert "fcr_low" in table.columns
    text = str(table)
    assert "channel" in text.splitlines()[0]
    ranked = rank(tickets, "channel", "fcr", min_n=2)
    assert ranked[0]["rank"] == 1
    assert len(rank(tickets, "channel", "fcr", min_n=50)) == 0
    assert trend(tickets, "fcr", bucket="day")[0]["change"] is None
    with pytest.raises(MetricsError, match="unknown metric"):
        report(tickets, ["bogus"])


def test_report_to_pandas() -> None:
    pytest.importorskip("pandas")
    frame = report([ONE_TOUCH], ["tickets"], by=["channel"]).to_pandas()
    assert list(frame.columns) == ["channel", "tickets"]


def test_survey_from_timelines() -> None:
    answered = build("N", (1, "survey", {"survey": "nps", "score": 9}))
    r = nps([answered, ONE_TOUCH])
    assert r.n == 1 and r.missing == 1 and r.score == 100.0


@given(st.lists(st.integers(0, 10**9), max_size=40), st.integers(0, 40))
def test_duration_and_mean_merge(values: list[int], cut: int) -> None:
    whole = DurationAccumulator("d", exact_limit=10)
    for v in values:
        whole.update(timedelta(microseconds=v))
    left, right = DurationAccumulator("d", exact_limit=10), DurationAccumulator("d", exact_limit=10)
    for v in values[:cut]:
        left.update(timedelta(microseconds=v))
    for v in values[cut:]:
        right.update(timedelta(microseconds=v))
    assert right.merge(left).result() == whole.result()
    m1, m2 = MeanAccumulator(), MeanAccumulator()
    for v in values:
        m1.update(v / 7)
    for v in reversed(values):
        m2.update(v / 7)
    assert m1.result() == m2.result()


def test_value_metrics() -> None:
    # research note §1.13: (250,000 + 150,000 − 200,000)/200,000 = 100 %
    assert roi(ltv_gain=250_000, cost_savings=150_000, investment=200_000).score == pytest.approx(
        100.0
    )
    with pytest.raises(MetricsError, match="investment"):
        roi(ltv_gain=1, investment=0)
    # Fader & Hardie (2012) three conventions, m = 100, r = 0.8, d = 0.1
    values = [
        ltv(margin=100, retention=0.8, discount_rate=0.1, convention=c).value
        for c in ("first_margin_now", "margin_multiple", "end_of_period")
    ]
    assert values == pytest.approx([366.6667, 266.6667, 333.3333], abs=1e-3)
    # Gupta–Lehmann margin multiple 2.67 at r = 80 %, i = 10 %
    assert ltv(margin=1, retention=0.8, discount_rate=0.1).value == pytest.approx(2.67, abs=0.005)
    truncated = ltv(margin=100, retention=0.8, discount_rate=0.1, horizon=2).value
    assert truncated == pytest.approx(100 * (0.8 / 1.1 + (0.8 / 1.1) ** 2))
    monthly = ltv(margin=10, retention=0.9, annual_discount_rate=0.1, period="month")
    assert monthly.discount_rate == pytest.approx(1.1 ** (1 / 12) - 1)
    assert ltv(margin=100, retention=0.8, convention="simple").value == pytest.approx(500)
    u = retention_uplift(
        0.90, 0.95, discount_rate=0.1, margin=100, acquisition_cost=150, new_customers=1000
    )
    assert u.clv_uplift == pytest.approx(0.407, abs=1e-3)
    assert u.profit_before == pytest.approx(850_000) and u.profit_after == pytest.approx(1_850_000)
    c = churn(["a", "b", "c", "d"], ["a", "e"])
    assert c.churned.score == 75.0 and c.new == 1
