"""A time rule whose ``assign`` the router queued: retried at the next escalation step,
not on every tick."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from csmkit.desk import ServiceDesk, TicketType
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Router, RoutingRules
from csmkit.storage import open_store
from csmkit.timeline import Assigned

ROUTING = {
    "rules": [
        {
            "name": "regional",
            "when": 'ticket.type == "repair"',
            "group": "engineers",
            "target": "agent.region == ticket.fields.region",
            "strategy": "least_loaded",
            "steps": [{"after": "3h", "widen": ["*"]}],
        }
    ],
    "default": {"strategy": "round_robin", "group": "engineers"},
}
RULES = {
    "rules": [
        {
            "id": "assign-after-1h",
            "on": {"after": "1h", "since": "created"},
            "actions": [{"do": "assign"}],
        }
    ]
}


def _desk(kit: Any, path: Path, calls: list[datetime]) -> ServiceDesk:
    router = Router(RoutingRules.from_dict(ROUTING))
    real = router.route

    def route(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[3])
        return real(*args, **kwargs)

    router.route = route  # type: ignore[method-assign]
    return ServiceDesk(
        open_store(f"sqlite:///{path}"),
        types=[TicketType("repair", kit.repair_workflow())],
        clock=lambda: datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH),
        plugins=PluginManager(load_entrypoints=False),
        router=router,
        agents=AgentPool(kit.AGENTS),
        rules=RULES,
    )


def _t(kit: Any, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, 15, hour, minute, tzinfo=kit.SH)


def test_queued_assign_waits_for_the_next_escalation_step(tmp_path: Path, kit: Any) -> None:
    calls: list[datetime] = []
    desk = _desk(kit, tmp_path / "r.db", calls)
    fields = {**kit.FIELDS, "region": "south"}  # nobody in the south: the router queues
    desk.open_ticket("repair", channel="phone", fields=fields, ticket_id="T-1")
    assert calls == []
    first = desk.tick(_t(kit, 11, 5))
    assert first.woken == ("T-1",) and first.events == 0
    assert calls == [_t(kit, 11)]  # tried at the rule's instant, queued until 13:00
    assert desk.timers.when("T-1") == _t(kit, 13)
    for minute in (10, 30, 59, 59):
        result = desk.tick(_t(kit, 12, minute))
        assert result.woken == () and result.events == 0
    assert calls == [_t(kit, 11)]  # no state change: not run again before 13:00
    assert desk.tick(_t(kit, 13, 10)).events == 1
    # the wake replays the rule from its instant: queued at 11:00, assigned at 13:00
    assert calls == [_t(kit, 11), _t(kit, 11), _t(kit, 13)]
    (assigned,) = desk.timeline("T-1").of_type(Assigned)
    assert (assigned.at, assigned.meta["rule"], assigned.decision) == (
        _t(kit, 13),
        "assign-after-1h",
        "regional#1",
    )
    for hour in (14, 15):
        assert desk.tick(_t(kit, hour)).events == 0
    assert len(calls) == 3
    events = desk.timeline("T-1").to_dict()
    desk.store.close()

    # the same answer from one late tick, and from a restarted desk: path independent
    late: list[datetime] = []
    other = _desk(kit, tmp_path / "late.db", late)
    other.open_ticket("repair", channel="phone", fields=fields, ticket_id="T-1")
    other.tick(_t(kit, 12))
    other.store.close()
    restarted = _desk(kit, tmp_path / "late.db", late)
    restarted.tick(_t(kit, 12, 30))
    restarted.tick(_t(kit, 12, 40))
    assert late == [_t(kit, 11), _t(kit, 11)]  # once per desk before 13:00
    restarted.tick(_t(kit, 15))
    assert restarted.timeline("T-1").to_dict() == events
