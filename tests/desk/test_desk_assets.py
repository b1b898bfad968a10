"""Asset rules: N days before ``warranty_until`` a proactive ticket, exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csmkit.customers import Asset, CustomerDirectory, SqliteCustomerRecords
from csmkit.desk import ServiceDesk, TicketType
from csmkit.plugins import PluginManager
from csmkit.sla import BusinessCalendar
from csmkit.storage import open_store

RULES = {
    "rules": [
        {
            "id": "warranty-callback",
            "on": {"before": "30d", "since": "field", "field": "warranty_until", "of": "asset"},
            "actions": [
                {
                    "do": "create_ticket",
                    "type": "callback",
                    "subject": "保修即将到期回访 {fields.serial}",
                    "priority": "high",
                }
            ],
        }
    ]
}


def _desk(kit: Any, url: str, path: Path | None, now: datetime) -> tuple[ServiceDesk, Any]:
    store = open_store(url)
    records = SqliteCustomerRecords(path) if path is not None else None
    directory = CustomerDirectory(store, records)
    desk = ServiceDesk(
        store,
        types=[TicketType("callback", kit.feedback_workflow())],
        clock=lambda: now,
        plugins=PluginManager(load_entrypoints=False),
        calendar=BusinessCalendar.from_dict(kit.CALENDAR),
        rules=RULES,
        customers=directory,
    )
    return desk, records


def _proactive(desk: ServiceDesk) -> list[Any]:
    return [t for t in desk.timelines() if t.ticket.type == "callback"]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_proactive_ticket_once_when_the_asset_enters_the_window(
    tmp_path: Path, kit: Any, backend: str
) -> None:
    start = datetime(2026, 10, 1, 9, 0, tzinfo=kit.SH)
    path = tmp_path / "assets.db" if backend == "sqlite" else None
    url = f"sqlite:///{path}" if path is not None else "memory://"
    desk, records = _desk(kit, url, path, start)
    directory = desk.customers
    assert directory is not None
    directory.register("C-1", at=start, name="王芳", identities=["13800138000"])
    directory.register("C-2", at=start, name="李雷", identities=["13900139000"])
    # enters the 30-day window on 2026-10-20 (cover ends 2026-11-19)
    directory.save_asset(
        Asset(serial="SN-1", model="KFR-35GW", customer_id="C-1", warranty_until="2026-11-19"),
        at=start,
    )
    # far outside the window for the whole test, and already expired
    directory.save_asset(
        Asset(serial="SN-2", customer_id="C-2", warranty_until="2027-06-30"), at=start
    )
    directory.save_asset(
        Asset(serial="SN-3", customer_id="C-2", warranty_until="2026-09-01"), at=start
    )

    assert desk.tick(datetime(2026, 10, 19, 23, 0, tzinfo=kit.SH)).created == ()
    assert _proactive(desk) == []
    entered = datetime(2026, 10, 20, 8, 0, tzinfo=kit.SH)
    first = desk.tick(entered)
    assert len(first.created) == 1
    assert desk.tick(entered).created == ()  # the same tick again
    assert desk.tick(entered + timedelta(days=3)).created == ()  # a later one
    (timeline,) = _proactive(desk)
    ticket = timeline.ticket
    assert ticket.id == first.created[0]
    assert ticket.customer_id == "C-1"  # the asset's owner
    assert ticket.subject == "保修即将到期回访 SN-1" and ticket.priority == "high"
    created = timeline.events[0]
    assert created.meta["rule"] == "warranty-callback" and created.meta["asset"] == "SN-1"
    assert ticket.workflow == "feedback"  # the type's workflow
    assert [t.summary.ticket_id for t in directory.customer_view("C-1", now=entered).tickets] == [
        ticket.id
    ]

    if path is not None:  # a restarted desk on the same file: still once
        desk.store.close()
        records.close()
        again, records = _desk(kit, url, path, entered)
        assert again.tick(entered + timedelta(days=5)).created == ()
        assert [t.ticket.id for t in _proactive(again)] == [ticket.id]
        again.store.close()
        records.close()
