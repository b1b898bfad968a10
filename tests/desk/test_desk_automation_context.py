"""The desk gives rules the customer and their assets, and records refused actions."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest

from csmkit.customers import Asset, CustomerDirectory
from csmkit.desk import ServiceDesk, TicketType
from csmkit.plugins import PluginManager
from csmkit.storage import open_store
from csmkit.timeline import ActionFailed


def _desk(kit: Any, rules: dict[str, Any], at: datetime) -> ServiceDesk:
    store = open_store("memory://")
    directory = CustomerDirectory(store)
    directory.register("C-N", at=at, name="王芳", profile={"region": "north", "tier": "gold"})
    directory.register("C-E", at=at, name="李雷", profile={"region": "east"})
    directory.save_asset(
        Asset(serial="SN-1", model="KFR-35GW", customer_id="C-N", warranty_until="2027-05-31"),
        at=at,
    )
    return ServiceDesk(
        store,
        types=[TicketType("feedback", kit.feedback_workflow())],
        clock=lambda: at,
        plugins=PluginManager(load_entrypoints=False),
        rules=rules,
        customers=directory,
    )


REGION_RULES: dict[str, Any] = {
    "rules": [
        {
            "id": "north-on-file",
            "on": "created",
            "when": 'customer.region == "north"',
            "actions": [
                {"do": "add_tags", "tags": ["north"]},
                {"do": "set_field", "name": "region", "value": "{customer.region}"},
                {"do": "set_field", "name": "device", "value": "{customer.name}: KFR"},
            ],
        },
        {
            "id": "warranty-known",
            "on": "created",
            "when": "len(assets) > 0",
            "actions": [{"do": "add_tags", "tags": ["has-device"]}],
        },
    ]
}


def test_region_on_file_rules_need_no_ticket_fields(kit: Any) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    desk = _desk(kit, REGION_RULES, at)
    north = desk.open_ticket("feedback", channel="web", customer_id="C-N", subject="建议")
    assert north.tags == ("has-device", "north")
    assert dict(north.fields) == {"region": "north", "device": "王芳: KFR"}
    east = desk.open_ticket("feedback", channel="web", customer_id="C-E", subject="建议")
    assert (east.tags, dict(east.fields)) == ((), {})
    nobody = desk.open_ticket("feedback", channel="web", subject="匿名建议")
    assert (nobody.tags, dict(nobody.fields)) == ((), {})


def test_a_refused_rule_action_is_on_the_timeline_and_in_the_log(
    kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    rules = {
        "rules": [
            {
                "id": "release-at-once",
                "on": "created",
                "actions": [
                    {"do": "transition", "transition": "release"},
                    {"do": "set_field", "name": "owner", "value": "{customer.account_manager}"},
                    {"do": "add_tags", "tags": ["seen"]},
                ],
            }
        ]
    }
    desk = _desk(kit, rules, at)
    with caplog.at_level(logging.WARNING, logger="csmkit.automation"):
        ticket = desk.open_ticket("feedback", channel="web", customer_id="C-N", subject="建议")
    assert ticket.status == "new" and ticket.tags == ("seen",)
    failures = list(desk.timeline(ticket.id).of_type(ActionFailed))
    assert [(f.rule, f.action, f.index) for f in failures] == [
        ("release-at-once", "transition", 0),
        ("release-at-once", "set_field", 1),
    ]
    assert "'release' from 'new' is not allowed" in failures[0].reason
    assert failures[1].reason == "value: {customer.account_manager} has no value"
    logged = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith(f"ticket {ticket.id}: rule release-at-once action 0 (transition) refused")
        for m in logged
    ), logged
