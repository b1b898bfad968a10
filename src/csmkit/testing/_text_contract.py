"""Contract tests for text a store cannot hold (lone surrogates); mixed into the suites."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from csmkit.errors import NotFoundError, StorageError
from csmkit.storage import Customer, Identity, TicketStore
from csmkit.testing._scenario import T0, created, next_event
from csmkit.timeline import Event, Ticket

__all__ = ["CustomerTextContract", "EventTextContract"]

# A batch builder: given the stored ticket "T-1" (three events), the batch to append.
_Batch = Callable[[Ticket], list[Event]]


def _later(ticket: Ticket, minutes: int = 1) -> datetime:
    return ticket.updated_at + timedelta(minutes=minutes)


def _message(ticket: Ticket, **changes: Any) -> Event:
    event = next_event(ticket, "message", _later(ticket), message_id="<ok@example.cn>")
    return attrs.evolve(event, **changes)


def _two(ticket: Ticket, **changes: Any) -> list[Event]:
    """A good event, then a bad one: the error must name ``events[1]``."""
    good = next_event(ticket, "assign", _later(ticket))
    bad = next_event(ticket.apply(good), "message", _later(ticket, 2), message_id="<b@x.cn>")
    return [good, attrs.evolve(bad, **changes)]


#: (what, batch builder, JSON path the error must name). Lone surrogates of both halves,
#: and a surrogate *pair* written as two code points (not an emoji in Python).
UNENCODABLE_BATCHES: tuple[tuple[str, _Batch, str], ...] = (
    ("actor", lambda t: [_message(t, actor="agent:\ud800")], "events[0].actor"),
    ("second event", lambda t: _two(t, actor="customer:\udcff"), "events[1].actor"),
    ("message id", lambda t: _two(t, message_id="<\udc80@mail.cn>"), "events[1].message_id"),
    ("meta value", lambda t: [_message(t, meta={"rule": ["ok", "\udfff"]})], "meta.rule[1]"),
    ("meta key", lambda t: [_message(t, meta={"规则\ud800": 1})], "events[0].meta["),
    ("pair as two points", lambda t: [_message(t, body_ref="s3://\ud83d\ude00")], "body_ref"),
)


class EventTextContract:
    """Events holding text that cannot be encoded as UTF-8 are refused, nothing written."""

    def _stored(self, store: TicketStore) -> Ticket:
        first = created("T-1", customer_id="C-1")
        ticket = Ticket.created(first)
        events: list[Event] = [first]
        for action in ("assign", "open"):
            events.append(next_event(ticket, action, _later(ticket)))
            ticket = ticket.apply(events[-1])
        assert store.append("T-1", events, 0) == 3
        return ticket

    @pytest.mark.parametrize(
        ("build", "path"),
        [(build, path) for _, build, path in UNENCODABLE_BATCHES],
        ids=[what for what, _, _ in UNENCODABLE_BATCHES],
    )
    def test_unencodable_text_in_an_append_is_refused(
        self, store: TicketStore, build: _Batch, path: str
    ) -> None:
        ticket = self._stored(store)
        before = (list(store.load("T-1")), store.find_tickets().items)
        with pytest.raises(StorageError) as info:
            store.append("T-1", build(ticket), 3)
        message = str(info.value)
        assert "'T-1'" in message, message
        assert path in message, message
        assert "UTF-8" in message, message
        assert (list(store.load("T-1")), store.find_tickets().items) == before
        assert store.version("T-1") == 3
        assert store.find_ticket_by_message_id("<ok@example.cn>") is None
        assert store.find_ticket_by_message_id("<b@x.cn>") is None

    @pytest.mark.parametrize(
        ("changes", "path"),
        [
            ({"subject": "空调\ud800不制冷"}, "events[0].subject"),
            ({"fields": {"型号": ["KFR", {"城市": "\udcc3"}]}}, "events[0].fields.型号[1].城市"),
            ({"fields": {"\udcff": "x"}}, "events[0].fields["),
            ({"tags": ("ok", "\ud800")}, "events[0].tags[1]"),
            ({"customer_id": "C-\udc00"}, "events[0].customer_id"),
        ],
        ids=["subject", "field value", "field key", "tag", "customer id"],
    )
    def test_unencodable_text_in_a_new_ticket_is_refused(
        self, store: TicketStore, changes: dict[str, Any], path: str
    ) -> None:
        event = attrs.evolve(created("T-9"), **changes)
        with pytest.raises(StorageError, match="UTF-8") as info:
            store.append("T-9", [event], 0)
        assert path in str(info.value)
        assert store.version("T-9") == 0
        assert store.find_tickets().items == ()

    def test_unencodable_ticket_id_is_refused(self, store: TicketStore) -> None:
        with pytest.raises(StorageError, match=r"events\[0\]\.ticket_id"):
            store.append("T-\ud800", [created("T-\ud800")], 0)
        assert store.find_tickets().items == ()

    def test_text_outside_the_bmp_is_stored(self, store: TicketStore) -> None:
        event = attrs.evolve(
            created("T-😀", T0), subject="👍 好评 \U0010ffff", fields={"😀": ["\u2028", "\x00"]}
        )
        store.append("T-😀", [event], 0)
        assert list(store.load("T-😀")) == [event]

    def test_lookups_by_unencodable_text_find_nothing(self, store: TicketStore) -> None:
        self._stored(store)
        bad = "T-1\ud800"
        assert store.version(bad) == 0
        with pytest.raises(NotFoundError):
            store.load(bad)
        assert store.find_ticket_by_message_id("<\udcff@mail.cn>") is None
        assert store.find_tickets(assignee="zhang\ud800").items == ()
        assert store.find_tickets(customer_id="C-\udfff").items == ()
        assert store.find_tickets().items != ()


class CustomerTextContract:
    """Customers holding text that cannot be encoded as UTF-8 are refused, nothing saved."""

    @pytest.mark.parametrize(
        ("customer", "path"),
        [
            (Customer("C-\ud800"), "customer.id"),
            (Customer("C-1", name="王\udcff芳"), "customer.name"),
            (
                Customer(
                    "C-1",
                    identities=[Identity("email", "a@b.cn"), Identity("wechat", "wx\udc80")],
                ),
                "customer.identities[1].value",
            ),
        ],
        ids=["id", "name", "identity"],
    )
    def test_unencodable_customer_is_refused(
        self, store: TicketStore, customer: Customer, path: str
    ) -> None:
        kept = Customer("C-1", name="王芳", identities=[Identity("phone", "+8613800138000")])
        store.save_customer(kept)
        with pytest.raises(StorageError, match="UTF-8") as info:
            store.save_customer(customer)
        assert path in str(info.value)
        assert store.get_customer("C-1") == kept
        assert store.find_customer("phone", "+8613800138000") == kept
        assert store.find_customer("email", "a@b.cn") is None

    def test_customer_lookups_by_unencodable_text_find_nothing(self, store: TicketStore) -> None:
        with pytest.raises(NotFoundError):
            store.get_customer("C-\ud800")
        assert store.find_customer("wechat", "wx\udc80") is None
