from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import MetricsError
from csmkit.metrics import delivery_failures
from csmkit.timeline import DeliveryFailed, Event, MessageAdded, TicketCreated, Timeline

AT = datetime(2026, 10, 8, 9, tzinfo=timezone.utc)


def ticket(ticket_id: str, sent: dict[str, str], failed: list[tuple[str | None, str]]) -> Timeline:
    """``sent``: message id → channel; ``failed``: (message id, action) reports."""
    events: list[Event] = [
        TicketCreated(ticket_id=ticket_id, at=AT, type="repair", channel="email")
    ]
    for message_id, channel in sent.items():
        events.append(
            MessageAdded(
                ticket_id=ticket_id,
                at=AT,
                direction="outbound",
                channel=channel,
                message_id=message_id,
            )
        )
    for message_id, action in failed:
        events.append(
            DeliveryFailed(
                ticket_id=ticket_id,
                at=AT,
                channel="email",
                recipient="w@x.cn",
                action=action,
                message_id=message_id,
            )
        )
    return Timeline(events)


def test_failures_per_channel() -> None:
    timelines = [
        ticket("T-1", {"<a>": "email", "<b>": "email", "s1": "sms"}, [("<a>", "failed")]),
        # two recipients of one message failed: the message counts once
        ticket("T-2", {"<c>": "email"}, [("<c>", "failed"), ("<c>", "failed")]),
        # delayed is not a failure; an unknown message id is skipped
        ticket("T-3", {"<d>": "email"}, [("<d>", "delayed"), ("<zz>", "failed"), (None, "failed")]),
    ]
    rates = delivery_failures(timelines)
    assert sorted(rates) == ["email", "sms"]
    email = rates["email"]
    assert (email.successes, email.trials, email.skipped) == (2, 4, 2)
    assert email.name == "delivery_failures[email]" and email.score == 50.0
    assert (rates["sms"].successes, rates["sms"].trials) == (0, 1)
    # dict forms are accepted too
    assert delivery_failures([t.to_dict() for t in timelines])["email"] == email


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(MetricsError, match="iterable of timelines"):
        delivery_failures(ticket("T-1", {}, []))  # type: ignore[arg-type]
    with pytest.raises(MetricsError, match=r"timelines\[0\]"):
        delivery_failures([42])


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=8))
def test_the_rate_never_exceeds_one(spec: list[tuple[int, int]]) -> None:
    timelines = []
    for index, (sent, bounced) in enumerate(spec):
        ids = {f"<m{index}.{n}>": "email" for n in range(sent)}
        failures = [(f"<m{index}.{n}>", "failed") for n in range(bounced)]
        timelines.append(ticket(f"T-{index}", ids, failures))
    rate = delivery_failures(timelines).get("email")
    if rate is not None:
        assert rate.successes == sum(min(s, b) for s, b in spec)
        assert rate.trials == sum(s for s, _ in spec)
        assert rate.skipped == sum(max(0, b - s) for s, b in spec)
