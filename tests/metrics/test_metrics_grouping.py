"""Reports refuse group and filter names that no ticket has, with a "did you mean"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit._suggest import did_you_mean
from csmkit.errors import MetricsError
from csmkit.metrics import FcrRule, fcr, rank, report, trend
from csmkit.timeline import MessageAdded, StatusChanged, Ticket, TicketCreated, Timeline
from strategies import field_names, timelines_events

T0 = datetime(2026, 9, 28, 9, 0, tzinfo=timezone(timedelta(hours=8)))
ATTRIBUTES = [field.name for field in attrs.fields(Ticket)]


def _ticket(ticket_id: str, channel: str, fields: dict[str, object]) -> Timeline:
    return Timeline(
        [
            TicketCreated(
                ticket_id=ticket_id, at=T0, type="repair", channel=channel, fields=fields
            ),
            MessageAdded(ticket_id=ticket_id, at=T0, direction="inbound", channel=channel),
            MessageAdded(
                ticket_id=ticket_id,
                at=T0 + timedelta(minutes=20),
                direction="outbound",
                channel=channel,
            ),
            StatusChanged(
                ticket_id=ticket_id,
                at=T0 + timedelta(hours=1),
                from_status="new",
                to_status="solved",
                category="solved",
            ),
        ]
    )


TICKETS = [
    _ticket("T-1", "email", {"region": "east", "first_contact_resolved": "yes"}),
    _ticket("T-2", "phone", {"region": "north"}),
    _ticket("T-3", "email", {}),  # no region: falls in the None group
]


def test_group_by_a_field_some_tickets_have() -> None:
    table = report(TICKETS, ["tickets"], by=["fields.region"])
    assert [(row["fields.region"], row["tickets"]) for row in table] == [
        (None, 1),
        ("east", 1),
        ("north", 1),
    ]


@pytest.mark.parametrize(
    ("by", "message"),
    [
        (["chanel"], "by: no ticket (of 3) has 'chanel' (did you mean 'channel'?)"),
        (["fields.regoin"], "'fields.regoin' (did you mean 'fields.region'?)"),
        (["region"], "'region' (did you mean 'fields.region'?)"),
        (["channel", "fields.zzz"], "has 'fields.zzz'; group by a ticket attribute"),
        (["to_dict"], "'to_dict'"),  # a method is not a field
        (["fields.region.code"], "'fields.region.code'"),
    ],
)
def test_group_by_a_name_no_ticket_has_is_an_error(by: list[str], message: str) -> None:
    with pytest.raises(MetricsError, match=None) as caught:
        report(TICKETS, ["tickets"], by=by)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_every_missing_name_is_named() -> None:
    with pytest.raises(MetricsError) as caught:
        report(TICKETS, ["tickets"], by=["chanel", "fields.regoin"])
    assert "'chanel' (did you mean 'channel'?), 'fields.regoin'" in str(caught.value)


def test_rank_and_trend_check_their_group_too() -> None:
    with pytest.raises(MetricsError, match="did you mean 'assignee'"):
        rank(TICKETS, "asignee", "fcr", min_n=1)
    with pytest.raises(MetricsError, match="did you mean 'channel'"):
        trend(TICKETS, "tickets", by=["Channel"])


def test_no_tickets_nothing_to_check() -> None:
    assert len(report([], ["tickets"], by=["fields.region"])) == 0


def test_bad_paths_are_refused_before_reading() -> None:
    with pytest.raises(MetricsError, match="not a field name"):
        report(TICKETS, ["tickets"], by=["fields..region"])
    with pytest.raises(MetricsError, match="a list of field names"):
        report(TICKETS, ["tickets"], by="channel")


def test_json_object_values_group_as_text() -> None:
    tickets = [_ticket("T-1", "email", {"address": {"city": "上海"}}), *TICKETS[1:]]
    table = report(tickets, ["tickets"], by=["fields.address"])
    assert [row["fields.address"] for row in table] == [None, '{"city": "上海"}']
    by_city = report(tickets, ["tickets"], by=["fields.address.city"])
    assert [row["fields.address.city"] for row in by_city] == [None, "上海"]


def test_survey_fcr_filter_needs_a_field_some_ticket_has() -> None:
    assert fcr(TICKETS, "survey").n == 1
    table = report(TICKETS, ["fcr[survey]"])
    assert table[0]["fcr[survey]_n"] == 1
    with pytest.raises(MetricsError, match=r"fcr\[survey\(fcr_ok\)\]: no ticket \(of 3\)"):
        fcr(TICKETS, FcrRule.survey("fcr_ok"))
    with pytest.raises(MetricsError, match=r"did you mean 'fields\.first_contact_resolved'"):
        report(TICKETS, ["fcr[survey(first_contact_resolve)]"])


def test_did_you_mean_text() -> None:
    assert did_you_mean("chanel", ["channel", "priority"]) == " (did you mean 'channel'?)"
    assert did_you_mean("Region", ["fields.region", "region"]) == (
        " (did you mean 'region' or 'fields.region'?)"
    )
    assert did_you_mean("xyz", ["channel"]) == ""


@given(st.lists(timelines_events(max_events=4), min_size=1, max_size=5), st.data())
def test_grouping_errors_exactly_for_names_no_ticket_has(
    event_lists: list[list[object]], data: st.DataObject
) -> None:
    timelines = [Timeline(events) for events in event_lists]  # type: ignore[arg-type]
    present = {name for timeline in timelines for name in timeline.ticket.fields}
    existing = data.draw(
        st.sampled_from(sorted([*ATTRIBUTES, *(f"fields.{name}" for name in present)]))
    )
    table = report(timelines, ["tickets"], by=[existing])
    assert sum(row["tickets"] for row in table) == len(timelines)
    absent = data.draw(
        field_names.filter(lambda name: name not in present).map(lambda n: f"fields.{n}")
        | field_names.filter(lambda name: name not in ATTRIBUTES)
    )
    with pytest.raises(MetricsError, match="no ticket"):
        report(timelines, ["tickets"], by=[existing, absent])
