"""The dashboard's ranking: engineers per region ordered by the lower bound of their
FCR interval, small samples left out; categories counted."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from csmkit.channels import InboundMessage
from csmkit.desk import ServiceDesk
from csmkit.storage import open_store
from csmkit.web import ApiKey, Dashboard, WebConfigError, WebSettings, create_app
from csmkit.workflow import Actor
from web._webkit import SH, Clock, bearer

CONFIG: dict[str, Any] = {
    "types": {
        "q": {
            "workflow": "consultation",
            "fields": [
                {"name": "region", "type": "choice", "choices": ["east", "north"]},
                {"name": "product", "type": "choice", "choices": ["lock", "hub"]},
            ],
        }
    },
}


def _answered(desk: ServiceDesk, clock: Clock, agent: str, region: str, *, follow_up: bool) -> None:
    ticket = desk.open_ticket(
        "q",
        channel="web",
        customer_id=f"c-{agent}",
        fields={"region": region, "product": "lock", "topic": "product"},
    )
    desk.assign(ticket.id, agent)
    clock.advance(minutes=5)
    desk.reply(ticket.id, author=agent)
    if follow_up:  # the customer had to write again: not resolved at first contact
        clock.advance(minutes=5)
        desk.receive(
            InboundMessage(channel="web", external_id=f"m-{ticket.id}", sender=f"c-{agent}",
                           sender_kind="web", text="还是不行", ticket_ref=ticket.id,
                           received_at=clock.now)
        )  # fmt: skip
        desk.reply(ticket.id, author=agent)
    desk.transition(
        ticket.id, "answer", actor=Actor(agent, {"agent"}),
        data={"answer_summary": "done", "topic": "product"},
    )  # fmt: skip
    clock.advance(minutes=30)


def test_engineers_ranked_on_the_lower_bound_per_region() -> None:
    clock = Clock(datetime(2026, 10, 12, 9, 0, tzinfo=SH))
    desk = ServiceDesk.from_config(
        {**CONFIG, "intake_type": "q"}, store=open_store("memory://"), clock=clock
    )
    # steady: 20 of 20 at first contact; lucky: 3 of 3 (too few); mixed: 10 of 20.
    for index in range(20):
        _answered(desk, clock, "steady", "east", follow_up=False)
        _answered(desk, clock, "mixed", "east", follow_up=index % 2 == 0)
    for _ in range(3):
        _answered(desk, clock, "lucky", "east", follow_up=False)
    for _ in range(6):
        _answered(desk, clock, "north1", "north", follow_up=False)
    clock.advance(days=1)
    table = desk.report(["fcr"], by=["assignee"]).to_dicts()
    fcr = {row["assignee"]: row["fcr"] for row in table}
    assert fcr["steady"] == 100.0 and fcr["lucky"] == 100.0 and fcr["mixed"] < 100.0

    key, text = ApiKey.generate("m", actor="manager", write=False)
    options = Dashboard(min_n=5, category="fields.product", due_within=timedelta(hours=1))
    with TestClient(create_app(desk, WebSettings(api_keys=(key,)), dashboard=options)) as client:
        page = client.get("/dashboard", params={"lang": "en"}, headers=bearer(text)).text
    east = re.search(r'data-chart="ranking-east".*?</svg>', page, re.S)
    assert east is not None
    ranked = re.findall(r">(\d+)\. ([a-z0-9]+)<", east.group(0))
    assert ranked == [("1", "steady"), ("2", "mixed")]  # lucky's 3 tickets: not ranked
    assert 'data-chart="ranking-north"' in page
    categories = re.search(r'data-chart="categories".*?</svg>', page, re.S)
    assert categories is not None and "lock: 49" in categories.group(0)


def test_dashboard_options_are_checked() -> None:
    with pytest.raises(WebConfigError, match="min_n"):
        Dashboard(min_n=0)
    with pytest.raises(WebConfigError, match="due_within"):
        Dashboard(due_within=timedelta(0))
