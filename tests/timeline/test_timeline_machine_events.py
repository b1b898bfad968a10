"""DeliveryFailed and AutoReplyReceived: facts about mail, never customer replies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import TimelineError
from csmkit.metrics import first_response_time, requester_wait_time
from csmkit.sla import BusinessCalendar, SlaPolicy
from csmkit.timeline import (
    AutoReplyReceived,
    DeliveryFailed,
    Event,
    MessageAdded,
    Ticket,
    TicketCreated,
    Timeline,
)

T0 = datetime(2026, 9, 14, 10, tzinfo=timezone(timedelta(hours=8)))
H = timedelta(hours=1)

text = st.text(min_size=1, max_size=20).filter(str.strip)
delivery_failed = st.builds(
    DeliveryFailed,
    ticket_id=st.just("T-1"),
    at=st.just(T0),
    channel=st.just("email"),
    recipient=st.emails(),
    action=st.sampled_from(["failed", "delayed"]),
    status=st.none() | st.from_regex(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True),
    diagnostic=st.none() | text,
    message_id=st.none() | text,
    report_id=st.none() | text,
)
auto_reply = st.builds(
    AutoReplyReceived,
    ticket_id=st.just("T-1"),
    at=st.just(T0),
    channel=st.just("email"),
    sender=st.emails(),
    reason=text,
    message_id=st.none() | text,
    in_reply_to=st.none() | text,
    subject=st.text(max_size=20),
    body_ref=st.none() | text,
)


@given(delivery_failed | auto_reply)
def test_dict_forms_round_trip(event: Event) -> None:
    data = event.to_dict()
    assert Event.from_dict(data) == event
    assert type(event).from_dict(data) == event


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("action", "delivered", "action"), ("status", "550", "status"), ("status", "5.1", "status")],
)
def test_delivery_failed_is_validated(field: str, value: str, match: str) -> None:
    with pytest.raises(TimelineError, match=match):
        DeliveryFailed(ticket_id="T-1", at=T0, channel="email", **{field: value})  # type: ignore[arg-type]


def _story(*extra: Event) -> Timeline:
    return Timeline(
        [
            TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="email"),
            MessageAdded(ticket_id="T-1", at=T0 + H, direction="outbound", channel="email"),
            *extra,
        ]
    )


FACTS = (
    AutoReplyReceived(
        ticket_id="T-1", at=T0 + 2 * H, channel="email", sender="w@x.cn", reason="ooo"
    ),
    DeliveryFailed(ticket_id="T-1", at=T0 + 2 * H, channel="email", recipient="w@x.cn"),
)


def test_the_fold_only_moves_version_and_updated_at() -> None:
    before = _story().ticket
    after = _story(*FACTS).ticket
    assert isinstance(after, Ticket)
    assert after.version == before.version + 2 and after.updated_at == T0 + 2 * H
    assert (after.status, after.category, after.assignee, after.fields) == (
        before.status,
        before.category,
        before.assignee,
        before.fields,
    )


def test_sla_clocks_ignore_them() -> None:
    policy = SlaPolicy.from_dict(
        {"name": "p", "targets": {"next_response": {"goals": {"normal": "4h"}}}}
    )
    calendar = BusinessCalendar.from_dict(
        {"timezone": "Asia/Shanghai", "week": {"mon-sun": ["00:00-24:00"]}}
    )
    now = T0 + 10 * H
    plain = policy.evaluate(_story(), calendar=calendar, now=now)
    with_facts = policy.evaluate(_story(*FACTS), calendar=calendar, now=now)
    assert plain.to_dict() == with_facts.to_dict()
    # whereas a real customer message after the reply starts the next-response clock
    customer = MessageAdded(ticket_id="T-1", at=T0 + 2 * H, direction="inbound", channel="email")
    assert (
        policy.evaluate(_story(customer), calendar=calendar, now=now).to_dict() != plain.to_dict()
    )


def test_response_metrics_ignore_them() -> None:
    now = T0 + 10 * H
    for metric in (first_response_time, requester_wait_time):
        assert metric([_story()], now=now).to_dict() == metric([_story(*FACTS)], now=now).to_dict()
