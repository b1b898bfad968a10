"""The scenario of ``csmkit demo``: the article's smart-home repair desk as data.

Calendar (China 2026 with 调休), SLA, regions, products, staff, the arrival process and
the desk's configuration before and after csmkit. The simulation that runs it lives in
`csmkit.cli._simulate`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from csmkit.cli._demo_parser import MAX_WEEKS, START
from csmkit.desk import TicketType
from csmkit.metrics import Survey
from csmkit.routing import Agent, AgentPool, Router, RoutingRules
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.workflow import Workflow, template_dict

__all__ = [
    "ARTICLE",
    "ASSUMPTIONS",
    "CALENDAR",
    "DONE",
    "ENGINEERS",
    "MAX_WEEKS",
    "REPAIR_FAILURE",
    "SATISFACTION",
    "SH",
    "SLA",
    "START",
    "SUPERVISORS",
    "SURVEY",
    "Arrival",
    "agents",
    "desk_rules",
    "make_arrivals",
    "router",
    "ticket_types",
]

SH = ZoneInfo("Asia/Shanghai")

# China 2026: public holidays and make-up working days (调休 / 补班), business hours
# 09:00-12:00 and 13:00-18:00 in Shanghai. Explicit data, so the demo needs no extra.
CALENDAR: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "week": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
    "holidays": [
        "2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
        "2026-02-20", "2026-02-23", "2026-04-06", "2026-05-01", "2026-05-04", "2026-05-05",
        "2026-06-19", "2026-09-25", "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06",
        "2026-10-07",
    ],
    "workdays": [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ],
    "covers": {"from": "2026-01-01", "to": "2026-12-31"},
}  # fmt: skip

SLA: dict[str, Any] = {
    "name": "repair",
    "targets": {
        "first_response": {"goals": dict.fromkeys(("low", "normal", "high", "urgent"), "2h")},
        "resolution": {
            "goals": dict.fromkeys(("low", "normal", "high", "urgent"), "24h"),
            "warnings": [0.5, 0.75],
        },
    },
}

REGIONS = {"east": 0.45, "north": 0.30, "south": 0.25}
PRODUCTS = {"aircon": 0.40, "lock": 0.25, "camera": 0.20, "hub": 0.15}
CHANNELS = {"phone": 9.0, "wechat": 8.0, "app": 5.0, "email": 2.0}  # tickets per workday
WEEKEND_FACTOR = 0.6  # weekends and holidays: the same channels at 60 %
HOURS = [0.2] * 7 + [1, 3, 4, 4, 3, 2, 3, 4, 4, 3, 3, 2, 2, 2, 1.5, 1, 0.5]  # by hour of day
PRIORITIES = {"low": 0.10, "normal": 0.70, "high": 0.15, "urgent": 0.05}
# (id, name, region, tier, skills): every region covers every product at proficiency >= 3.
ENGINEERS = [
    ("e01", "王工", "east", "senior", {"aircon": 5, "hub": 3}),
    ("e02", "张工", "east", "junior", {"aircon": 3, "lock": 2}),
    ("e03", "刘工", "east", "senior", {"lock": 4, "camera": 4}),
    ("e04", "陈工", "east", "junior", {"camera": 3, "hub": 4, "aircon": 2}),
    ("e05", "李工", "north", "senior", {"aircon": 4, "lock": 3}),
    ("e06", "杨工", "north", "junior", {"camera": 3, "hub": 3}),
    ("e07", "赵工", "north", "junior", {"aircon": 3, "camera": 2}),
    ("e08", "黄工", "south", "senior", {"aircon": 4, "camera": 3}),
    ("e09", "周工", "south", "junior", {"lock": 3, "hub": 3}),
    ("e10", "吴工", "south", "junior", {"aircon": 3, "lock": 2}),
]
DONE = {"closed", "cancelled"}

# The survey the article's desk sends on close: satisfaction on 0-10, reported as a mean.
SURVEY = Survey("after-repair", "csat", scale=(0, 10), convention="mean")

# The article's figures (before -> after), printed next to the simulated ones.
ARTICLE = {
    "first_response": "> 24 h",
    "fcr": "≈ 65",
    "csat": "7.8 -> 9.5",
}

# Model parameters, tuned so that the *before* desk lands near the article's starting
# point (first response > 24 calendar hours, FCR ≈ 65 %, CSAT 7.8 of 10) with the default
# seed and two weeks; the *after* figures follow from the same parameters. Tuning: the
# failure rate (base, per proficiency point) sets FCR; the satisfaction model's base
# and penalties set the mean CSAT. See docs/demo.md.
REPAIR_FAILURE = {"base": 0.62, "per_point": 0.10}
SATISFACTION = {
    "base": 9.9,  # latent 0-10 score of a prompt, one-visit repair
    "per_response_hour": 0.45,  # beyond the first business hour
    "response_cap": 2.4,
    "per_resolution_hour": 0.06,  # beyond 8 business hours
    "resolution_cap": 1.5,
    "rework": 1.8,  # the repair had to be redone
    "noise_sd": 0.8,
}
SUPERVISORS = ["s1", "s2"]  # follow-up calls, and (after) escalated first replies

ASSUMPTIONS = [
    "arrivals: Poisson per channel and day, on workdays phone 9, wechat 8, app 5, "
    "email 2 (24/day); weekends and holidays 60 % of that; hour of day peaks 09-11 and "
    "14-16, some evening traffic",
    "customers: region east 45 % / north 30 % / south 25 %; product aircon 40 % / lock "
    "25 % / camera 20 % / hub 15 %; priority urgent 5 %, high 15 %, normal 70 %, low 10 %",
    "staff: 10 field engineers (east 4, north 3, south 3; senior/junior, 2-3 skills "
    "each, proficiency 2-5) and 2 supervisors; everyone works business hours only",
    "handling (business time): first reply 10 min; travel 30-60 min in the engineer's "
    "region, +90 min across regions; repair 45-120 min, 25 % faster at proficiency >= 4",
    "outcomes: a repair fails (customer calls back within 1-2 days, rework = reopen) "
    "with probability {base:.0%} - {per_point:.0%} per proficiency point ({base:.0%} "
    "without the skill); 10 % need spare parts (1-3 days); 12 % need the customer to "
    "confirm a visit slot (replies after ~5 h on average, 8 % of them never: the workflow "
    "cancels after 48 business hours)".format(**REPAIR_FAILURE),
    "follow-up call and close by a supervisor 2 days after the repair; a CSAT survey "
    "(0-10) is sent on close, 40 % answer within ~3 h",
    "satisfaction: latent score {base} - {per_response_hour} per business hour of first "
    "response beyond 1 h (at most -{response_cap}) - {per_resolution_hour} per business "
    "hour to resolution beyond 8 h (at most -{resolution_cap}) - {rework} if the repair "
    "had to be redone, + normal noise (sd {noise_sd}), rounded into 0-10; CSAT = the mean "
    "answer".format(**SATISFACTION),
    "calibration: repair failure {base:.0%} - {per_point:.0%} per proficiency point and the "
    "satisfaction model above are tuned so that the 'before' desk starts near the "
    "article's figures (first response > 24 h, FCR ≈ 65 %, CSAT 7.8 of 10)".format(
        **REPAIR_FAILURE
    ),
    "before: random assignment to any engineer, each works a FIFO queue, no warnings "
    "or escalation; after: routing by region and skill (least loaded), SLA warnings "
    "(first response at 1 h, resolution at 50 %/75 %) move the ticket to the front of "
    "the engineer's queue, and an unanswered ticket escalates to a supervisor after "
    "1.5 business hours",
]


@dataclass(frozen=True)
class Arrival:
    """One simulated ticket arrival (shared by both runs)."""

    ticket_id: str
    at: datetime
    channel: str
    region: str
    product: str
    priority: str
    customer_id: str
    draws: tuple[float, ...]  # per-ticket uniforms: common random numbers


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count


def make_arrivals(weeks: int, seed: int, calendar: BusinessCalendar) -> list[Arrival]:
    """Draw every ticket of ``weeks`` weeks from ``random.Random(seed)``."""
    rng = random.Random(seed)
    arrivals: list[tuple[datetime, str]] = []
    for offset in range(weeks * 7):
        day = START + timedelta(days=offset)
        workday = bool(calendar.hours_on(day))
        for channel, rate in CHANNELS.items():
            for _ in range(_poisson(rng, rate if workday else rate * WEEKEND_FACTOR)):
                hour = rng.choices(range(24), weights=HOURS)[0]
                at = datetime(day.year, day.month, day.day, hour, tzinfo=SH) + timedelta(
                    seconds=rng.randrange(3600)
                )
                arrivals.append((at, channel))
    arrivals.sort()
    out = []
    for number, (at, channel) in enumerate(arrivals, 1):
        out.append(
            Arrival(
                ticket_id=f"BX-{number:05d}",
                at=at,
                channel=channel,
                region=_pick(rng, REGIONS),
                product=_pick(rng, PRODUCTS),
                priority=_pick(rng, PRIORITIES),
                customer_id=f"C-{rng.randrange(1, 100_000):05d}",
                draws=tuple(rng.random() for _ in range(16)),
            )
        )
    return out


def desk_rules(after: bool) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {"id": "assign-on-create", "on": "created", "actions": [{"do": "assign"}]},
        {
            "id": "survey-on-close",
            "on": "status_changed",
            "when": 'ticket.status == "closed"',
            "actions": [
                {
                    "do": "send_survey",
                    "survey": "csat",
                    "channel": "sms",
                    "template": "请为工单 {ticket_id} 的服务打分 (0-10)",
                }
            ],
        },
    ]
    if after:
        rules += [
            {
                "id": "warn",
                "on": "sla_warning",
                "actions": [
                    {
                        "do": "notify",
                        "channel": "sms",
                        "to": "{assignee}",
                        "template": "{ticket_id} 时限已用 {percent}",
                    }
                ],
            },
            {
                "id": "warn-first-response",
                "on": {"after": "1h", "since": "created", "clock": "business"},
                "when": "stats.agent_replies == 0",
                "actions": [
                    {
                        "do": "notify",
                        "channel": "sms",
                        "to": "{assignee}",
                        "template": "{ticket_id} 尚未回复客户",
                    }
                ],
            },
            {
                "id": "escalate-unanswered",
                "on": {"after": "1h30m", "since": "created", "clock": "business"},
                "when": "stats.agent_replies == 0",
                "actions": [
                    {"do": "escalate", "group": "supervisors"},
                    {
                        "do": "notify",
                        "channel": "sms",
                        "to": "supervisors",
                        "template": "升级：{ticket_id} 1.5 小时未回复",
                    },
                ],
            },
        ]
    return {"rules": rules}


def router(after: bool, seed: int) -> Router:
    if not after:
        return Router(
            RoutingRules.from_dict({"default": {"strategy": {"name": "random", "seed": seed}}})
        )
    rules = [
        {
            "name": f"{product}-repair",
            "when": f'ticket.fields.product == "{product}"',
            "group": "engineers",
            "target": f"agent.region == ticket.fields.region and agent.skills.{product} >= 3",
            "strategy": "least_loaded",
        }
        for product in PRODUCTS
    ]
    return Router(
        RoutingRules.from_dict(
            {
                "rules": rules,
                "default": {"group": "engineers", "strategy": "least_loaded"},
            }
        )
    )


def agents() -> AgentPool:
    return AgentPool(
        [
            Agent(
                id=eid,
                name=name,
                groups=frozenset({"engineers"}),
                skills=skills,
                attributes={"region": region, "tier": tier},
                capacity=100,
            )
            for eid, name, region, tier, skills in ENGINEERS
        ]
    )


def ticket_types() -> list[TicketType]:
    repair = template_dict("repair")
    repair["form"]["fields"] += [
        {"name": "region", "type": "choice", "choices": list(REGIONS)},
        {"name": "product", "type": "choice", "choices": list(PRODUCTS)},
    ]
    return [TicketType("repair", Workflow.from_dict(repair), SlaPolicy.from_dict(SLA), [SURVEY])]
