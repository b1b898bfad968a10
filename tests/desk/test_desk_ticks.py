"""Tick idempotence: any sequence of ticks ending at T equals one tick at T."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 60 * 30), max_size=6), st.integers(0, 60 * 30))
def test_ticks_are_idempotent_and_path_independent(kit: Any, steps: list[int], end: int) -> None:
    created = datetime(2026, 10, 15, 17, 30, tzinfo=kit.SH)
    final = created + timedelta(minutes=end)

    def run(instants: list[datetime]) -> list[dict[str, Any]]:
        clock = kit.Clock(created)
        desk = kit.make_desk("memory://", clock, kit.Outbox())
        desk.open_ticket(
            "repair", channel="phone", priority="urgent", fields=kit.FIELDS, ticket_id="BX-1"
        )
        for instant in instants:
            clock.now = instant
            desk.tick(instant)
        clock.now = final
        desk.tick(final)
        before = desk.timeline("BX-1").to_dict()
        assert desk.tick(final).events == 0  # the same tick twice changes nothing
        assert desk.timeline("BX-1").to_dict() == before
        return before["events"]

    path = sorted(created + timedelta(minutes=m) for m in steps if m <= end)
    assert run(path) == run([])
