"""A Hypothesis state machine comparing any store with the in-memory reference model."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from csmkit.errors import ConcurrencyError, CsmkitError, StorageError
from csmkit.storage import Customer, Identity, MemoryStore, SlaDue, TicketStore, TicketSummary
from csmkit.testing._scenario import ACTIONS, OFFSETS, T0, created, next_event
from csmkit.timeline import Event, StatusCategory, StatusChanged, TicketCreated

__all__ = ["run_store_state_machine", "store_state_machine"]

TICKETS = ("T-1", "T-2", "T-3", "工单-4")
CUSTOMERS = ("C-1", "C-2", "C-3")
IDENTITIES = (
    Identity("email", "wang.fang@example.cn"),
    Identity("phone", "+8613800138000"),
    Identity("wechat", "wxid_wangfang"),
    Identity("email", "li.lei@example.com"),
)


#: Where the ``unencodable`` rule puts a lone surrogate (the last four in creations only).
PLACES: tuple[str, ...] = (
    "actor",
    "meta value",
    "meta key",
    "subject",
    "field value",
    "field key",
    "tag",
)


#: About one creation or batch in eight carries a lone surrogate: (place, text) or None.
BAD_TEXT = st.integers(0, 7).flatmap(
    lambda n: (
        st.none()
        if n
        else st.tuples(
            st.sampled_from(PLACES),
            st.tuples(st.text(max_size=3), st.integers(0xD800, 0xDFFF), st.text(max_size=3)).map(
                lambda parts: parts[0] + chr(parts[1]) + parts[2]
            ),
        )
    )
)


def _inject(event: Event, place: str, text: str) -> tuple[Event, str]:
    """``event`` with ``text`` at ``place`` (creation-only places fall back to ``actor``)."""
    if place == "meta value":
        return attrs.evolve(event, meta={"note": text}), "meta.note"
    if place == "meta key":
        return attrs.evolve(event, meta={text: 1}), "meta["
    if isinstance(event, TicketCreated):
        if place == "subject":
            return attrs.evolve(event, subject=text), "subject"
        if place == "field value":
            return attrs.evolve(event, fields={"区域": [1, text]}), "fields.区域[1]"
        if place == "field key":
            return attrs.evolve(event, fields={text: "x"}), "fields["
        if place == "tag":
            return attrs.evolve(event, tags=(text,)), "tags[0]"
    return attrs.evolve(event, actor=text), "actor"


def _refusal(call: Callable[[], Any]) -> tuple[Any, ...]:
    """Like `_outcome()`, keeping a [`StorageError`][csmkit.errors.StorageError]'s message; a raw
    exception from the store is a failure of its own (the point of the rule)."""
    try:
        return ("ok", call())
    except StorageError as exc:
        return ("error", type(exc).__name__, str(exc))
    except CsmkitError as exc:
        return ("error", type(exc).__name__)
    except Exception as exc:
        raise AssertionError(
            f"the store raised {type(exc).__name__} ({exc}) instead of a StorageError"
        ) from exc


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """A comparable summary of a call: its result, or its error class and key facts."""
    try:
        return ("ok", call())
    except ConcurrencyError as exc:
        return ("error", "ConcurrencyError", exc.ticket_id, exc.expected)
    except CsmkitError as exc:
        return ("error", type(exc).__name__)


DUE = st.none() | st.integers(-(10**9), 10**9)
"""An SLA due mark, as microseconds from ``T0``."""


def _mark(due: int | None) -> SlaDue | None:
    if due is None:
        return None
    return SlaDue(at=T0 + timedelta(microseconds=due), target="resolution")


def store_state_machine(make_store: Callable[[], TicketStore]) -> type[RuleBasedStateMachine]:
    """Build a state machine class that drives a new store and a
    [`MemoryStore`][csmkit.storage.MemoryStore].

    Each rule runs the same operation (appends, stale appends, invalid batches,
    batches with unencodable text, customers, paged queries) on both and requires
    identical outcomes; invariants compare every stream, message-id lookup and
    customer, and the write log (``changes_after``, read page by page as a ticker
    does), after each step.

    Args:
        make_store: Returns a new, empty store; called once per generated example.
    """

    class StoreStateMachine(RuleBasedStateMachine):
        """Drives the store under test and the reference model in lock step."""

        def __init__(self) -> None:
            super().__init__()
            self.store = make_store()
            self.model = MemoryStore()
            self.clock: datetime = T0
            self.message_ids: list[str] = []
            # A ticker's view of the store's write log: changes read so far, and where.
            self.cursor = 0
            self.seen: list[tuple[str, int, str]] = []

        def teardown(self) -> None:
            self.store.close()
            self.model.close()

        def _advance(self, step: int, offset: timezone) -> datetime:
            self.clock = (self.clock + timedelta(microseconds=step)).astimezone(offset)
            return self.clock

        def _append(
            self, ticket_id: str, events: list[Event], expected: int, due: int | None = None
        ) -> None:
            mark = _mark(due)
            mine = _outcome(lambda: self.store.append(ticket_id, events, expected, due=mark))
            reference = _outcome(lambda: self.model.append(ticket_id, events, expected, due=mark))
            assert mine == reference, f"append: store {mine} != model {reference}"

        def _refuse(
            self, ticket_id: str, events: list[Event], expected: int, bad: tuple[str, str]
        ) -> None:
            """Append ``events`` with ``bad`` text in the last one: both stores refuse it
            with a StorageError naming the ticket and the JSON path, writing nothing."""
            events[-1], tail = _inject(events[-1], *bad)
            path = f"events[{len(events) - 1}].{tail}"
            mine = _refusal(lambda: self.store.append(ticket_id, events, expected))
            reference = _refusal(lambda: self.model.append(ticket_id, events, expected))
            assert reference[:2] == ("error", "StorageError"), reference
            assert mine[:2] == reference[:2], f"append: store {mine} != model {reference}"
            assert path in mine[2], f"the store's error does not name {path}: {mine[2]}"
            assert repr(ticket_id) in mine[2], f"the error does not name the ticket: {mine[2]}"

        @rule(
            ticket_id=st.sampled_from(TICKETS),
            customer=st.none() | st.sampled_from(CUSTOMERS),
            step=st.integers(0, 10**9),
            offset=st.sampled_from(OFFSETS),
            bad=BAD_TEXT,
            due=DUE,
        )
        def create(
            self,
            ticket_id: str,
            customer: str | None,
            step: int,
            offset: timezone,
            bad: tuple[str, str] | None,
            due: int | None,
        ) -> None:
            at = self._advance(step, offset)
            events: list[Event] = [created(ticket_id, at, customer_id=customer)]
            if bad is not None and self.model.version(ticket_id) == 0:
                self._refuse(ticket_id, events, 0, bad)
            else:
                self._append(ticket_id, events, 0, due)

        @rule(
            ticket_id=st.sampled_from(TICKETS),
            actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=4),
            step=st.integers(0, 10**9),
            offset=st.sampled_from(OFFSETS),
            stale=st.booleans(),
            reuse=st.booleans(),
            bad=BAD_TEXT,
            due=DUE,
        )
        def act(
            self,
            ticket_id: str,
            actions: list[str],
            step: int,
            offset: timezone,
            stale: bool,
            reuse: bool,
            bad: tuple[str, str] | None,
            due: int | None,
        ) -> None:
            version = self.model.version(ticket_id)
            if version == 0:
                return
            ticket = self.model.load(ticket_id).ticket
            events: list[Event] = []
            for action in actions:
                at = self._advance(step // len(actions), offset)
                if reuse and self.message_ids:
                    message_id = self.message_ids[step % len(self.message_ids)]
                else:
                    message_id = f"<m{len(self.message_ids)}@desk.example.cn>"
                    self.message_ids.append(message_id)
                event = next_event(ticket, action, at, message_id=message_id)
                events.append(event)
                ticket = ticket.apply(event)
            if bad is not None:  # never stale: which check comes first is not specified
                self._refuse(ticket_id, events, version, bad)
            else:
                self._append(ticket_id, events, version - 1 if stale else version, due)

        @rule(ticket_id=st.sampled_from(TICKETS), step=st.integers(0, 10**6))
        def invalid_batch(self, ticket_id: str, step: int) -> None:
            version = self.model.version(ticket_id)
            if version == 0:
                return
            ticket = self.model.load(ticket_id).ticket
            at = self._advance(step, timezone.utc)
            good = next_event(ticket, "assign", at)
            bad = StatusChanged(
                ticket_id=ticket_id,
                at=at,
                from_status=ticket.status + "-not",
                to_status="open",
                category=StatusCategory.OPEN,
            )
            self._append(ticket_id, [good, bad], version, due=0)

        @rule(
            customer_id=st.sampled_from(CUSTOMERS),
            name=st.sampled_from(["", "王芳", "Li Lei"]),
            identities=st.lists(st.sampled_from(IDENTITIES), max_size=2),
        )
        def save_customer(self, customer_id: str, name: str, identities: list[Identity]) -> None:
            customer = Customer(customer_id, name=name, identities=identities)
            mine = _outcome(lambda: self.store.save_customer(customer))
            reference = _outcome(lambda: self.model.save_customer(customer))
            assert mine == reference, f"save_customer: store {mine} != model {reference}"

        @rule(
            category=st.none() | st.sampled_from([c.value for c in StatusCategory]),
            assignee=st.none() | st.just("zhang.san"),
            customer=st.none() | st.sampled_from(CUSTOMERS),
            since=st.none() | st.integers(0, 10**9),
            limit=st.integers(1, 4),
        )
        def query(
            self,
            category: str | None,
            assignee: str | None,
            customer: str | None,
            since: int | None,
            limit: int,
        ) -> None:
            updated_since = None if since is None else T0 + timedelta(microseconds=since)
            results = []
            for store in (self.store, self.model):
                items: list[TicketSummary] = []
                cursor = None
                for _ in range(len(TICKETS) + 1):
                    page = store.find_tickets(
                        category=category,
                        assignee=assignee,
                        customer_id=customer,
                        updated_since=updated_since,
                        limit=limit,
                        cursor=cursor,
                    )
                    items.extend(page.items)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                assert cursor is None, "paging did not end"
                results.append(items)
            assert results[0] == results[1]

        @rule(
            before=st.integers(-(10**9), 10**9),
            category=st.none() | st.sampled_from([c.value for c in StatusCategory]),
            limit=st.integers(1, 4),
        )
        def due_query(self, before: int, category: str | None, limit: int) -> None:
            instant = T0 + timedelta(microseconds=before)
            results = []
            for store in (self.store, self.model):
                items: list[TicketSummary] = []
                cursor = None
                for _ in range(len(TICKETS) + 1):
                    page = store.due_before(instant, category=category, limit=limit, cursor=cursor)
                    items.extend(page.items)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                assert cursor is None, "paging did not end"
                results.append(items)
            assert results[0] == results[1], f"due_before: {results[0]} != {results[1]}"

        @invariant()
        def write_order_matches(self) -> None:
            # A ticker's view: after each step it reads one more page (of 1 to 3) from
            # its cursor. What it read so far plus the rest must be the model's write
            # log: every stored event once, in commit order, nothing of a refused batch.
            # (An invariant, not a rule, so the other rules keep their frequency.)
            limit = 1 + len(self.seen) % 3
            page = self.store.changes_after(self.cursor, limit=limit)
            assert len(page) <= limit
            for change in page:
                assert change.position > self.cursor, "positions must strictly increase"
                self.cursor = change.position
                self.seen.append((change.ticket_id, change.version, change.kind))
            rest: list[tuple[str, int, str]] = []
            after = self.cursor
            while page := self.store.changes_after(after, limit=50):
                rest.extend((c.ticket_id, c.version, c.kind) for c in page)
                after = page[-1].position
            reference = [(c.ticket_id, c.version, c.kind) for c in self.model.changes_after(0)]
            assert self.seen + rest == reference
            assert self.store.position() == after

        @invariant()
        def streams_match(self) -> None:
            for ticket_id in TICKETS:
                version = self.model.version(ticket_id)
                assert self.store.version(ticket_id) == version
                if version:
                    mine = list(self.store.load(ticket_id))
                    reference = list(self.model.load(ticket_id))
                    assert mine == reference
                    assert [e.at.utcoffset() for e in mine] == [e.at.utcoffset() for e in reference]

        @invariant()
        def summaries_match(self) -> None:
            # Every ticket's indexed state (status, assignee, due mark …) after every
            # step, so a stale index shows at the step that made it stale rather than
            # only when a query rule happens to look at the right ticket afterwards.
            mine = self.store.find_tickets(limit=len(TICKETS) + 1)
            reference = self.model.find_tickets(limit=len(TICKETS) + 1)
            assert mine.next_cursor is None, "one page holds every ticket"
            assert reference.next_cursor is None
            assert mine.items == reference.items, f"{mine.items} != {reference.items}"

        @invariant()
        def lookups_match(self) -> None:
            for message_id in self.message_ids:
                assert self.store.find_ticket_by_message_id(
                    message_id
                ) == self.model.find_ticket_by_message_id(message_id)
            for identity in IDENTITIES:
                assert self.store.find_customer(
                    identity.kind, identity.value
                ) == self.model.find_customer(identity.kind, identity.value)
            for customer_id in CUSTOMERS:
                mine = _outcome(functools.partial(self.store.get_customer, customer_id))
                reference = _outcome(functools.partial(self.model.get_customer, customer_id))
                assert mine == reference

    return StoreStateMachine


def run_store_state_machine(
    make_store: Callable[[], TicketStore],
    *,
    max_examples: int = 25,
    steps: int = 20,
    shrink: bool = True,
    derandomize: bool = False,
) -> None:
    """Run [`store_state_machine()`][csmkit.testing.store_state_machine] as a test (raises on the
    first difference).

    Args:
        make_store: Returns a new, empty store.
        max_examples: Hypothesis examples (each a fresh store).
        steps: Rules per example.
        shrink: Minimise a failing example before reporting it (slower, clearer).
        derandomize: Generate the same examples on every run (reproducible CI runs;
            random runs explore more over time).
    """
    machine = store_state_machine(make_store)
    phases = list(Phase) if shrink else [p for p in Phase if p is not Phase.shrink]
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            phases=phases,
            database=None,
            derandomize=derandomize,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
