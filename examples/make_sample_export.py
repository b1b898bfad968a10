"""Write the sample export under ``examples/data/`` (seeded, deterministic).

A simulated smart-home repair desk in Shanghai, eight weeks around China's National Day
holiday (国庆, 1-7 October 2026, make-up workdays 20 September and 10 October). It is a
simulation, not data of a real desk: arrivals, reply and handling times are drawn from
the distributions stated below.

Files written:

* ``tickets.jsonl``: one ``Timeline.to_dict()`` per line (the full event history).
* ``zendesk_tickets.csv``: the same tickets as a flat, Zendesk-style export (``csmkit
  report --mapping zendesk``); a reopened ticket keeps only its last solved instant.
* ``calendar_cn_2026.json``: the business calendar (``--calendar``).
* ``sla.json``: the SLA policy, 2 h first response / 24 h resolution in business time.

Run ``python examples/make_sample_export.py [--out DIR] [--seed N] [--tickets N]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from csmkit.metrics import ticket_metrics
from csmkit.sla import BusinessCalendar
from csmkit.timeline import (
    Assigned,
    Event,
    MessageAdded,
    StatusChanged,
    SurveyAnswered,
    TicketCreated,
    Timeline,
)

SH = ZoneInfo("Asia/Shanghai")

CALENDAR = {
    "timezone": "Asia/Shanghai",
    "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
    "holidays": [
        "2026-01-01",
        "2026-01-02",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-02-23",
        "2026-04-06",
        "2026-05-01",
        "2026-05-04",
        "2026-05-05",
        "2026-06-19",
        "2026-09-25",
        "2026-10-01",
        "2026-10-02",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
    ],
    "workdays": [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ],
    "covers": {"from": "2026-01-01", "to": "2026-12-31"},
}
SLA = {
    "name": "repair-desk",
    "targets": {
        "first_response": {"goals": {"low": "4h", "normal": "2h", "high": "1h", "urgent": "30m"}},
        "resolution": {"goals": {"low": "40h", "normal": "24h", "high": "16h", "urgent": "8h"}},
    },
}
CHANNELS = [("wechat", 0.45), ("phone", 0.25), ("web", 0.2), ("email", 0.1)]
GROUPS = [("repair-east", 0.4), ("repair-north", 0.35), ("hotline", 0.25)]
PRIORITIES = [("low", 0.15), ("normal", 0.6), ("high", 0.2), ("urgent", 0.05)]
START = datetime(2026, 9, 7, tzinfo=SH)  # a Monday
WEEKS = 8


def _pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


def _ticket(rng: random.Random, number: int, calendar: BusinessCalendar) -> Timeline:
    ticket_id = f"T-{number:04d}"
    created = START + timedelta(seconds=rng.uniform(0, WEEKS * 7 * 86400))
    created = created.replace(microsecond=0)
    channel, group = _pick(rng, CHANNELS), _pick(rng, GROUPS)
    priority = _pick(rng, PRIORITIES)
    agent = f"{group}-{rng.randint(1, 4)}"
    region = group.split("-")[-1] if group != "hotline" else rng.choice(["east", "north"])
    events: list[Event] = [
        TicketCreated(
            ticket_id=ticket_id,
            at=created,
            type="repair",
            channel=channel,
            priority=priority,
            customer_id=f"C-{rng.randint(1, 150):03d}",
            fields={"region": region},
        ),
        Assigned(ticket_id=ticket_id, at=created, agent=agent, group=group),
        MessageAdded(ticket_id=ticket_id, at=created, direction="inbound", channel=channel),
    ]

    def business_after(at: datetime, hours: float) -> datetime:
        return calendar.add(at, timedelta(seconds=round(hours * 3600)))

    # First reply: log-normal business time, median about 1.2 h (hotline faster).
    median = 0.5 if group == "hotline" else 1.2
    reply_at = business_after(created, rng.lognormvariate(0, 0.9) * median)
    events.append(
        MessageAdded(
            ticket_id=ticket_id, at=reply_at, direction="outbound", channel=channel, author=agent
        )
    )
    status = "new"
    at = reply_at
    if rng.random() < 0.3:  # a second reply after a customer follow-up
        at = business_after(at, rng.uniform(0.5, 4))
        events.append(
            MessageAdded(ticket_id=ticket_id, at=at, direction="inbound", channel=channel)
        )
        at = business_after(at, rng.uniform(0.2, 2))
        events.append(
            MessageAdded(
                ticket_id=ticket_id, at=at, direction="outbound", channel=channel, author=agent
            )
        )
    end = START + timedelta(weeks=WEEKS)
    solve_at = business_after(at, rng.lognormvariate(0, 0.8) * 10)
    if solve_at >= end:
        return Timeline(events)  # still in the backlog at the end of the export
    events.append(
        StatusChanged(
            ticket_id=ticket_id,
            at=solve_at,
            from_status=status,
            to_status="solved",
            category="solved",
            actor=agent,
        )
    )
    status = "solved"
    if rng.random() < 0.08:  # reopened by the customer, solved again
        reopen_at = business_after(solve_at, rng.uniform(1, 16))
        solved_again = business_after(reopen_at, rng.uniform(1, 8))
        if solved_again < end:
            events += [
                MessageAdded(
                    ticket_id=ticket_id, at=reopen_at, direction="inbound", channel=channel
                ),
                StatusChanged(
                    ticket_id=ticket_id,
                    at=reopen_at,
                    from_status="solved",
                    to_status="open",
                    category="open",
                ),
                StatusChanged(
                    ticket_id=ticket_id,
                    at=solved_again,
                    from_status="open",
                    to_status="solved",
                    category="solved",
                    actor=agent,
                ),
            ]
            solve_at = solved_again
    survey_at = solve_at + timedelta(hours=rng.uniform(1, 48))
    good = 0.9 if group == "hotline" else 0.8
    if survey_at < end and rng.random() < 0.45:
        score = rng.choice([4, 5]) if rng.random() < good else rng.choice([1, 2, 3])
        events.append(SurveyAnswered(ticket_id=ticket_id, at=survey_at, survey="csat", score=score))
    if survey_at < end and rng.random() < 0.3:
        nps = min(10, max(0, round(rng.gauss(8.2 if group == "hotline" else 7.4, 2.0))))
        events.append(
            SurveyAnswered(
                ticket_id=ticket_id, at=survey_at + timedelta(minutes=1), survey="nps", score=nps
            )
        )
    return Timeline(sorted(events, key=lambda event: event.at))


def _zendesk_row(timeline: Timeline) -> dict[str, str]:
    ticket = timeline.ticket
    metrics = ticket_metrics(timeline)
    csat = next(
        (
            e.score
            for e in reversed(timeline.events)
            if isinstance(e, SurveyAnswered) and e.survey.value == "csat"
        ),
        None,
    )
    first_reply = metrics.first_response
    return {
        "Id": ticket.id,
        "Created at": ticket.created_at.strftime("%Y-%m-%d %H:%M:%S %z"),
        "Solved at": ""
        if metrics.full_resolution is None
        else (ticket.created_at + metrics.full_resolution).strftime("%Y-%m-%d %H:%M:%S %z"),
        "First reply time in minutes": ""
        if first_reply is None
        else repr(first_reply.total_seconds() / 60).removesuffix(".0"),
        "Status": {"solved": "Solved", "open": "Open", "new": "New"}[ticket.category.value],
        "Priority": ticket.priority.value.capitalize(),
        "Ticket type": "Incident",
        "Replies": str(metrics.agent_replies),
        "Via": {
            "wechat": "Chat",
            "phone": "Phone call (inbound)",
            "web": "Web Form",
            "email": "Mail",
        }[ticket.channel],
        "Group": ticket.group or "",
        "Assignee": ticket.assignee or "",
        "Satisfaction Score": "Unoffered" if csat is None else ("Good" if csat >= 4 else "Bad"),
        "region": str(ticket.fields.get("region", "")),
    }


def main(argv: list[str] | None = None) -> None:
    """Write the sample files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "data"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--tickets", type=int, default=200)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    calendar = BusinessCalendar.from_dict(CALENDAR)
    timelines = [_ticket(rng, number, calendar) for number in range(1, args.tickets + 1)]
    timelines.sort(key=lambda timeline: (timeline.events[0].at, timeline.ticket_id))
    with (out / "tickets.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for timeline in timelines:
            handle.write(json.dumps(timeline.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    rows = [_zendesk_row(timeline) for timeline in timelines]
    with (out / "zendesk_tickets.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for name, data in (("calendar_cn_2026.json", CALENDAR), ("sla.json", SLA)):
        (out / name).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {len(timelines)} tickets to {out}")


if __name__ == "__main__":
    main()
