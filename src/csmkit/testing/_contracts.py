"""Conformance suites that store and plugin authors subclass in their own tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from csmkit.errors import (
    ConcurrencyError,
    NotFoundError,
    StorageError,
    StoreArgumentError,
    TimelineError,
)
from csmkit.storage import Customer, Identity, TicketStore, TicketSummary
from csmkit.testing._position_contract import PositionContract
from csmkit.testing._query_contract import QueryContract
from csmkit.testing._scenario import OFFSETS, T0, created, next_event
from csmkit.testing._stateful import run_store_state_machine
from csmkit.testing._text_contract import CustomerTextContract, EventTextContract
from csmkit.timeline import Event, StatusChanged, Ticket

__all__ = ["CustomerStoreContract", "PluginContract", "StoreContract"]

StoreFactory = Callable[[], TicketStore]


def _script(ticket_id: str, actions: list[str], start: datetime = T0, **kw: object) -> list[Event]:
    """A creation event followed by ``actions``, one microsecond-rich step apart."""
    first = created(ticket_id, start, **kw)  # type: ignore[arg-type]
    events: list[Event] = [first]
    ticket = Ticket.created(first)
    at = start
    for index, action in enumerate(actions):
        at = (at + timedelta(minutes=7, microseconds=1 + index)).astimezone(
            OFFSETS[index % len(OFFSETS)]
        )
        event = next_event(ticket, action, at, message_id=f"<{ticket_id}.{index}@example.com>")
        events.append(event)
        ticket = ticket.apply(event)
    return events


class StoreContract(EventTextContract, PositionContract, QueryContract):
    """The behaviour every [`TicketStore`][csmkit.storage.TicketStore] must have.

    Subclass it in a test module (name the subclass ``Test…``) and provide a
    ``make_store`` fixture returning a callable that creates a **new, empty** store
    each time it is called::

        class TestMyStore(StoreContract):
            @pytest.fixture
            def make_store(self, tmp_path):
                paths = iter(range(10**6))
                return lambda: MyStore(tmp_path / f"db{next(paths)}")

    Every test uses the ``store`` fixture (one store from ``make_store``, closed
    afterwards); the model-based test calls ``make_store`` once per generated example.
    """

    #: Threads used by the concurrency tests.
    writer_threads = 4
    #: Append attempts per thread in the concurrency tests.
    attempts_per_thread = 15
    #: Examples of the model-based (stateful) test.
    stateful_examples = 25

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> Iterator[TicketStore]:
        """One empty store, closed after the test."""
        store = make_store()
        try:
            yield store
        finally:
            store.close()

    # ------------------------------------------------------------- round trips
    def test_is_a_ticket_store(self, store: TicketStore) -> None:
        assert isinstance(store, TicketStore)

    def test_new_store_is_empty(self, store: TicketStore) -> None:
        assert store.version("T-1") == 0
        with pytest.raises(NotFoundError):
            store.load("T-1")
        page = store.find_tickets()
        assert page.items == ()
        assert page.next_cursor is None
        assert store.find_ticket_by_message_id("<nothing@example.com>") is None

    def test_round_trip_is_exact(self, store: TicketStore) -> None:
        events = _script(
            "工单-1",
            ["assign", "open", "message", "priority", "field", "escalate", "pending"],
            customer_id="C-1",
            fields={"型号": "KFR-35GW", "nested": {"list": [1, 2.5, None, True, "是"]}},
            meta={"rule": "intake", "n": 3},
        )
        assert store.append("工单-1", events, 0) == len(events)
        loaded = store.load("工单-1")
        assert list(loaded) == events
        for stored, original in zip(loaded, events, strict=True):
            assert type(stored) is type(original)
            assert stored.at == original.at
            assert stored.at.utcoffset() == original.at.utcoffset()
            assert stored.at.microsecond == original.at.microsecond
            assert stored.to_dict() == original.to_dict()
        assert loaded.ticket.version == len(events)

    def test_appends_return_versions_and_keep_order(self, store: TicketStore) -> None:
        events = _script("T-1", ["assign", "open", "message", "solve", "message"])
        version = 0
        for size in (1, 2, 3):
            batch, events = events[:size], events[size:]
            assert store.append("T-1", batch, version) == version + size
            version += size
            assert store.version("T-1") == version
        loaded = store.load("T-1")
        assert [e.kind for e in loaded] == [
            "created",
            "assigned",
            "status_changed",
            "message_added",
            "status_changed",
            "message_added",
        ]

    def test_streams_are_independent(self, store: TicketStore) -> None:
        store.append("A", _script("A", ["assign"]), 0)
        store.append("B", _script("B", ["open", "message"]), 0)
        assert store.version("A") == 2
        assert store.version("B") == 3
        assert all(event.ticket_id == "B" for event in store.load("B"))

    # ------------------------------------------------------------- conflicts and atomicity
    def test_stale_version_is_a_conflict(self, store: TicketStore) -> None:
        events = _script("T-1", ["assign", "open"])
        store.append("T-1", events[:1], 0)
        with pytest.raises(ConcurrencyError) as info:
            store.append("T-1", events[:1], 0)
        assert (info.value.ticket_id, info.value.expected, info.value.actual) == ("T-1", 0, 1)
        with pytest.raises(ConcurrencyError) as ahead:
            store.append("T-1", events[1:], 5)
        assert ahead.value.expected == 5
        assert store.version("T-1") == 1
        assert list(store.load("T-1")) == events[:1]

    def test_conflict_writes_nothing_of_the_batch(self, store: TicketStore) -> None:
        events = _script("T-1", ["assign", "message", "open"])
        store.append("T-1", events[:2], 0)
        with pytest.raises(ConcurrencyError):
            store.append("T-1", events[2:], 1)
        assert store.find_ticket_by_message_id("<T-1.1@example.com>") is None
        assert store.version("T-1") == 2

    def test_invalid_batch_is_all_or_nothing(self, store: TicketStore) -> None:
        events = _script("T-1", ["assign", "open"])
        store.append("T-1", events, 0)
        ticket = store.load("T-1").ticket
        at = ticket.updated_at + timedelta(hours=1)
        good = next_event(ticket, "message", at, message_id="<lost@example.com>")
        bad = StatusChanged(
            ticket_id="T-1", at=at, from_status="no-such-state", to_status="x", category="open"
        )
        with pytest.raises(TimelineError) as info:
            store.append("T-1", [good, good, bad], 3)
        assert "events[2]" in str(info.value)
        assert store.version("T-1") == 3
        assert list(store.load("T-1")) == events
        assert store.find_ticket_by_message_id("<lost@example.com>") is None
        (summary,) = store.find_tickets().items
        assert summary.version == 3
        assert summary.updated_at == events[-1].at

    def test_events_earlier_than_the_stream_are_rejected(self, store: TicketStore) -> None:
        events = _script("T-1", ["assign"])
        store.append("T-1", events, 0)
        early = next_event(store.load("T-1").ticket, "open", T0 - timedelta(microseconds=1))
        with pytest.raises(TimelineError):
            store.append("T-1", [early], 2)
        assert store.version("T-1") == 2

    def test_bad_appends_are_rejected(self, store: TicketStore) -> None:
        events = _script("T-1", ["assign"])
        with pytest.raises(TimelineError):
            store.append("T-1", events[1:], 0)  # a new stream must start with TicketCreated
        with pytest.raises(TimelineError):
            store.append("T-2", events, 0)  # events of another ticket
        with pytest.raises(StoreArgumentError):
            store.append("T-1", [], 0)
        with pytest.raises(StoreArgumentError):
            store.append("T-1", events, -1)
        with pytest.raises(StoreArgumentError):
            store.append("T-1", events, 0.0)  # type: ignore[arg-type]
        with pytest.raises(TimelineError):
            store.append("T-1", events + events[:1], 0)  # a second creation
        assert store.version("T-1") == 0
        assert store.version("T-2") == 0

    # ------------------------------------------------------------- queries
    def _populate(self, store: TicketStore) -> dict[str, Ticket]:
        plans = {
            "T-01": (["assign"], "C-1"),
            "T-02": (["assign", "open"], "C-2"),
            "T-03": (["open", "pending"], "C-1"),
            "T-04": (["assign", "open", "solve"], None),
            "T-05": ([], "C-3"),
            "T-06": (["assign", "unassign"], "C-1"),
        }
        tickets = {}
        for n, (ticket_id, (actions, customer)) in enumerate(sorted(plans.items())):
            start = (T0 + timedelta(hours=n)).astimezone(OFFSETS[n % len(OFFSETS)])
            events = _script(ticket_id, actions, start, customer_id=customer)
            store.append(ticket_id, events, 0)
            tickets[ticket_id] = store.load(ticket_id).ticket
        return tickets

    def test_queries_filter_by_every_attribute(self, store: TicketStore) -> None:
        tickets = self._populate(store)

        def ids(**filters: object) -> list[str]:
            return [s.ticket_id for s in store.find_tickets(**filters).items]  # type: ignore[arg-type]

        def expected(predicate: Callable[[Ticket], bool]) -> list[str]:
            chosen = [t for t in tickets.values() if predicate(t)]
            return [t.id for t in sorted(chosen, key=lambda t: (t.updated_at, t.id))]

        assert ids() == expected(lambda t: True)
        assert ids(category="open") == expected(lambda t: t.category.value == "open")
        assert ids(category=["new", "pending"]) == expected(
            lambda t: t.category.value in ("new", "pending")
        )
        assert ids(assignee="zhang.san") == expected(lambda t: t.assignee == "zhang.san")
        assert ids(customer_id="C-1") == expected(lambda t: t.customer_id == "C-1")
        since = tickets["T-03"].updated_at
        assert ids(updated_since=since) == expected(lambda t: t.updated_at >= since)
        assert ids(customer_id="C-1", category="new") == expected(
            lambda t: t.customer_id == "C-1" and t.category.value == "new"
        )
        assert ids(assignee="nobody") == []

    def test_summaries_match_the_timeline(self, store: TicketStore) -> None:
        tickets = self._populate(store)
        for summary in store.find_tickets().items:
            ticket = tickets[summary.ticket_id]
            assert summary.version == ticket.version
            assert (summary.status, summary.category, summary.priority) == (
                ticket.status,
                ticket.category,
                ticket.priority,
            )
            assert (summary.assignee, summary.group, summary.customer_id) == (
                ticket.assignee,
                ticket.group,
                ticket.customer_id,
            )
            assert summary.updated_at == ticket.updated_at
            assert summary.updated_at.utcoffset() == ticket.updated_at.utcoffset()
            assert summary.created_at == ticket.created_at

    def test_paging_visits_every_ticket_once_in_order(self, store: TicketStore) -> None:
        # Equal instants written with different offsets: ties break on ticket id.
        for n in range(23):
            at = (T0 + timedelta(seconds=n // 3)).astimezone(OFFSETS[n % len(OFFSETS)])
            ticket_id = f"T-{(n * 7) % 23:02d}"
            store.append(ticket_id, [created(ticket_id, at)], 0)
        everything = store.find_tickets(limit=1000).items
        assert len(everything) == 23
        keys = [(s.updated_at, s.ticket_id) for s in everything]
        assert keys == sorted(keys)
        for limit in (1, 5, 7, 23, 24):
            seen: list[TicketSummary] = []
            cursor = None
            while True:
                page = store.find_tickets(limit=limit, cursor=cursor)
                assert len(page.items) <= limit
                seen.extend(page.items)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert seen == list(everything), f"limit={limit}"

    def test_paging_with_filters(self, store: TicketStore) -> None:
        self._populate(store)
        full = store.find_tickets(customer_id="C-1").items
        first = store.find_tickets(customer_id="C-1", limit=2)
        assert first.items == full[:2]
        assert first.next_cursor is not None
        rest = store.find_tickets(customer_id="C-1", limit=2, cursor=first.next_cursor)
        assert rest.items == full[2:]
        assert rest.next_cursor is None

    def test_bad_queries_are_rejected(self, store: TicketStore) -> None:
        with pytest.raises(StoreArgumentError):
            store.find_tickets(updated_since=datetime(2026, 1, 1))  # naive
        with pytest.raises(StoreArgumentError):
            store.find_tickets(limit=0)
        with pytest.raises(StoreArgumentError):
            store.find_tickets(cursor="not-a-cursor")
        with pytest.raises(StoreArgumentError):
            store.find_tickets(category="waiting")

    def test_message_ids_thread_to_their_ticket(self, store: TicketStore) -> None:
        events = _script("T-1", ["message", "assign", "message"])
        store.append("T-1", events, 0)
        assert store.find_ticket_by_message_id("<T-1.0@example.com>") == "T-1"
        assert store.find_ticket_by_message_id("<T-1.2@example.com>") == "T-1"
        assert store.find_ticket_by_message_id("<T-1.1@example.com>") is None
        # The same message id on a later ticket does not steal the thread.
        other = created("T-2", T0)
        again = next_event(Ticket.created(other), "message", T0, message_id="<T-1.0@example.com>")
        store.append("T-2", [other, again], 0)
        assert store.find_ticket_by_message_id("<T-1.0@example.com>") == "T-1"

    # ------------------------------------------------------------- concurrency
    def test_concurrent_writers_on_one_ticket(self, store: TicketStore) -> None:
        store.append("T-1", [created("T-1", T0)], 0)
        stored: list[tuple[int, int, int]] = []
        rejected: list[tuple[int, int]] = []
        guard = threading.Lock()
        barrier = threading.Barrier(self.writer_threads)
        failures: list[BaseException] = []

        def writer(number: int) -> None:
            try:
                barrier.wait(timeout=30)
                for attempt in range(self.attempts_per_thread):
                    timeline = store.load("T-1")
                    at = timeline.ticket.updated_at + timedelta(microseconds=1)
                    size = 1 + (number + attempt) % 3
                    batch = [
                        next_event(
                            timeline.ticket,
                            "message",
                            at,
                            meta={"writer": number, "attempt": attempt, "part": part},
                        )
                        for part in range(size)
                    ]
                    try:
                        store.append("T-1", batch, timeline.version)
                    except ConcurrencyError:
                        with guard:
                            rejected.append((number, attempt))
                    else:
                        with guard:
                            stored.extend((number, attempt, part) for part in range(size))
            except BaseException as exc:  # surfaced below
                failures.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(self.writer_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures
        assert not any(thread.is_alive() for thread in threads)
        events = list(store.load("T-1"))[1:]
        found = [(e.meta["writer"], e.meta["attempt"], e.meta["part"]) for e in events]
        assert len(found) == len(set(found)), "an event was stored twice"
        assert sorted(found) == sorted(stored), "stored and reported events differ"
        assert not {(w, a) for w, a, _ in found} & set(rejected), "a rejected batch was stored"
        assert store.version("T-1") == 1 + len(stored)
        # Batches are contiguous: an interleaved batch would break the part sequence.
        for index, (writer, attempt, part) in enumerate(found):
            if part:
                assert found[index - 1] == (writer, attempt, part - 1)

    def test_concurrent_writers_on_distinct_tickets(self, store: TicketStore) -> None:
        failures: list[BaseException] = []

        def writer(number: int) -> None:
            try:
                for n in range(self.attempts_per_thread):
                    ticket_id = f"W{number}-{n}"
                    store.append(ticket_id, _script(ticket_id, ["assign", "open"]), 0)
            except BaseException as exc:  # surfaced below
                failures.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(self.writer_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures
        page = store.find_tickets(limit=10_000)
        assert len(page.items) == self.writer_threads * self.attempts_per_thread
        assert all(summary.version == 3 for summary in page.items)

    # ------------------------------------------------------------- lifecycle, model
    def test_closed_store_refuses_work(self, make_store: StoreFactory) -> None:
        store = make_store()
        store.append("T-1", [created("T-1")], 0)
        store.close()
        store.close()  # idempotent
        with pytest.raises(StorageError):
            store.load("T-1")
        with pytest.raises(StorageError):
            store.append("T-1", [created("T-1")], 0)

    def test_behaves_like_the_memory_model(self, make_store: StoreFactory) -> None:
        run_store_state_machine(make_store, max_examples=self.stateful_examples)


class CustomerStoreContract(CustomerTextContract):
    """The customer directory part of a store; needs the same ``store`` fixture.

    Usually combined with [`StoreContract`][csmkit.testing.StoreContract]::

        class TestMyStore(StoreContract, CustomerStoreContract): ...
    """

    def test_save_and_get(self, store: TicketStore) -> None:
        customer = Customer(
            "C-1",
            name="王芳",
            identities=[Identity("phone", "+8613800138000"), Identity("email", "Wang@Example.cn")],
        )
        store.save_customer(customer)
        assert store.get_customer("C-1") == customer
        assert store.find_customer("email", "wang@example.cn") == customer
        assert store.find_customer("EMAIL", " WANG@example.CN ") == customer
        assert store.find_customer("phone", "+8613800138000") == customer
        assert store.find_customer("wechat", "wxid_x") is None

    def test_unknown_customer(self, store: TicketStore) -> None:
        with pytest.raises(NotFoundError):
            store.get_customer("C-404")

    def test_save_replaces_name_and_identities(self, store: TicketStore) -> None:
        store.save_customer(Customer("C-1", name="Li", identities=[Identity("wechat", "wx_li")]))
        store.save_customer(Customer("C-1", name="李雷", identities=[Identity("phone", "+861")]))
        assert store.get_customer("C-1").name == "李雷"
        assert store.find_customer("wechat", "wx_li") is None
        assert store.find_customer("phone", "+861") == store.get_customer("C-1")
        # The released identity can now go to someone else.
        store.save_customer(Customer("C-2", identities=[Identity("wechat", "wx_li")]))
        found = store.find_customer("wechat", "wx_li")
        assert found is not None
        assert found.id == "C-2"

    def test_identity_belongs_to_one_customer(self, store: TicketStore) -> None:
        store.save_customer(Customer("C-1", identities=[Identity("email", "a@example.com")]))
        with pytest.raises(StorageError, match="C-1"):
            store.save_customer(
                Customer("C-2", name="B", identities=[Identity("email", "A@example.com")])
            )
        with pytest.raises(NotFoundError):
            store.get_customer("C-2")
        found = store.find_customer("email", "a@example.com")
        assert found is not None
        assert found.id == "C-1"


class PluginContract:
    """Checks a plugin registers cleanly; provide a ``plugin`` fixture (module or object)::

    class TestMyPlugin(PluginContract):
        @pytest.fixture
        def plugin(self):
            return my_plugin_module
    """

    def test_registers_without_errors(self, plugin: object) -> None:
        from csmkit.plugins import PluginManager

        manager = PluginManager([("plugin-under-test", plugin)], load_entrypoints=False)
        manager.check_pending()
        assert "plugin-under-test" in {info.name for info in manager.list_plugins()}

    def test_implements_at_least_one_hook(self, plugin: object) -> None:
        from csmkit.plugins import PluginManager

        manager = PluginManager(
            [("plugin-under-test", plugin)], load_entrypoints=False, builtins=False
        )
        callers = manager.pluggy_manager.get_hookcallers(plugin) or []
        assert callers, "the plugin implements no csmkit hook (is @hookimpl missing?)"

    def test_registrations_do_not_clash_with_builtins(self, plugin: object) -> None:
        from csmkit.plugins import PluginManager

        manager = PluginManager([("plugin-under-test", plugin)], load_entrypoints=False)
        for mapping in (
            manager.store_backends(),
            manager.inbound_channels(),
            manager.outbound_channels(),
            manager.routing_strategies(),
            manager.calendars(),
        ):
            assert list(mapping) == sorted(mapping)
