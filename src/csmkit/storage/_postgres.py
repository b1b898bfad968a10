"""The PostgreSQL store, on psycopg 3 and its connection pool (extra ``postgres``)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from csmkit._time import format_instant
from csmkit.errors import (
    ConcurrencyError,
    NotFoundError,
    StorageError,
    StoreArgumentError,
    TimelineError,
)
from csmkit.storage._common import Query, check_append, encode_cursor, fold_batch, order_key
from csmkit.storage._model import (
    Change,
    Customer,
    Identity,
    TicketPage,
    TicketStore,
    check_changes_args,
)
from csmkit.storage._pg_connect import PgTarget, check_column, holds, load_driver, parse_target
from csmkit.storage._pg_index import (
    INSERT_TICKET,
    UPDATE_TICKET,
    filters,
    find_customer,
    list_customers,
    page_sql,
    read_customer,
    read_events,
    write_customer,
)
from csmkit.storage._pg_listen import CHANNEL, ChangeListener
from csmkit.storage._pg_schema import PG_MIGRATIONS, prepare_pg
from csmkit.storage._queries import (
    SlaDue,
    check_count_by,
    check_due,
    check_set_due,
    sorted_counts,
)
from csmkit.storage._schema import Migration
from csmkit.storage._snapshot import dump_state, load_state
from csmkit.storage._sqlite_index import COUNT_COLUMNS, due_columns, summary
from csmkit.storage._text import check_customer_text, check_payload_text
from csmkit.timeline import Event, MessageAdded, StatusCategory, Ticket, Timeline

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

    _Connection = psycopg.Connection[tuple[Any, ...]]

__all__ = ["PostgresStore"]


# Takes the next positions from the counter row (its lock is held until commit, so
# positions are handed out in commit order) and numbers the batch's events with them; a
# missing counter row leaves the position NULL, which the primary key refuses.
_POSITIONS = (
    "WITH counter AS (UPDATE write_position SET last = last + %s WHERE id = 1 RETURNING last) "
    "INSERT INTO changes (position, ticket_id, version, kind) "
    "SELECT counter.last - %s + r.ord, %s, r.version, r.kind "
    "FROM unnest(%s::integer[], %s::text[]) WITH ORDINALITY AS r(version, kind, ord) "
    "LEFT JOIN counter ON true"
)


_NOTIFY = f"SELECT pg_notify('{CHANNEL}', %s)"


def _dumps(event: Event) -> str:
    return json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))


class PostgresStore:
    """A [`TicketStore`][csmkit.storage.TicketStore] in a PostgreSQL database.

    * Every call takes a connection from a pool (``psycopg_pool``); a write runs in one
      transaction, so a batch is all or nothing, also when the connection dies midway.
    * ``(ticket_id, version)`` is the events' primary key and the ticket row is locked
      (``SELECT … FOR UPDATE``) while a batch is checked: a stale writer gets
      [`ConcurrencyError`][csmkit.errors.ConcurrencyError], never a lost update.
    * Write positions come from a one-row counter updated in the append's transaction;
      its row lock is held until commit, so positions are handed out in commit order
      across processes and machines, and a reader of
      [`changes_after()`][csmkit.storage.PostgresStore.changes_after] never skips a
      position that commits later.
    * The tables live in one PostgreSQL schema (``public`` unless ``schema=`` says
      otherwise), versioned by the ``csmkit_schema`` table and migrated forward on open;
      a newer or foreign schema is refused and left untouched.
    * A lost connection or a server that is down is a
      [`StorageError`][csmkit.errors.StorageError]; the next call takes a fresh
      connection. Messages show the server as ``postgresql://user@host:port/db`` —
      never the password.

    Args:
        url: ``postgresql://user:password@host:port/dbname?…`` (any libpq URL); the
            query may also carry the options below.
        schema: The PostgreSQL schema of the store's tables (created when missing).
        pool_size: Most connections kept open (default 4).
        connect_timeout: Seconds to wait for the server or a free connection.

    Raises:
        StorageError: the server cannot be reached, the schema is foreign or newer,
            psycopg is not installed.
        StoreArgumentError: a malformed URL or option.
    """

    _migrations: tuple[Migration, ...] = PG_MIGRATIONS

    def __init__(self, url: str, **options: object) -> None:
        driver, pools = load_driver()
        self._target: PgTarget = parse_target(url, options)
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, Ticket] = OrderedDict()
        self._cache_size = 4096
        target = self._target
        try:
            with driver.connect(target.conninfo, autocommit=True) as connection:
                self._configure(connection)
                self.schema_version = prepare_pg(
                    connection, target.schema, target.where, self._migrations
                )
        except driver.Error as exc:
            raise StorageError(self._describe("open the store", exc)) from None
        pool: psycopg_pool.ConnectionPool[Any] = pools.ConnectionPool(
            target.conninfo,
            min_size=1,
            max_size=target.pool_size,
            kwargs={"autocommit": True},
            configure=self._configure,
            timeout=target.connect_timeout,
            open=False,
            name=f"csmkit-{target.schema}",
        )
        try:
            pool.open(wait=True, timeout=target.connect_timeout)
        except (driver.Error, pools.PoolTimeout) as exc:
            pool.close()
            raise StorageError(self._describe("open the connection pool", exc)) from None
        self._pool: psycopg_pool.ConnectionPool[Any] | None = pool
        self._listener = ChangeListener(target)

    def _configure(self, connection: _Connection) -> None:
        connection.execute("SELECT set_config('search_path', %s, false)", (self._target.schema,))

    def _describe(self, what: str, exc: BaseException) -> str:
        text = str(exc).strip().replace("\n", " ") or type(exc).__name__
        return self._target.scrub(f"{what} in {self._target.where}: {text}")

    def __repr__(self) -> str:
        return f"<PostgresStore {self._target.where}>"

    @property
    def where(self) -> str:
        """The store's server, database and schema, without credentials."""
        return self._target.where

    # ----------------------------------------------------------------- plumbing
    @contextmanager
    def _session(self, what: str) -> Iterator[_Connection]:
        """A pooled connection; driver errors become a ``StorageError``."""
        driver, pools = load_driver()
        pool = self._pool
        if pool is None:
            raise StorageError(f"{what}: the store is closed")
        try:
            with pool.connection() as connection:
                yield connection
        except pools.PoolTimeout as exc:
            raise StorageError(
                self._describe(f"{what}: no connection within {self._target.connect_timeout}s", exc)
            ) from None
        except driver.OperationalError as exc:
            with suppress(driver.Error):  # the server may be gone altogether
                pool.check()  # drop the idle connections that died with this one
            raise StorageError(
                self._describe(f"{what}: lost the connection (nothing of this call was kept)", exc)
            ) from None
        except pools.PoolClosed:
            raise StorageError(f"{what}: the store is closed") from None
        except driver.Error as exc:
            raise StorageError(self._describe(what, exc)) from None

    def _remember(self, ticket: Ticket) -> None:
        with self._lock:
            self._cache[ticket.id] = ticket
            self._cache.move_to_end(ticket.id)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _state(self, connection: _Connection, ticket_id: str, version: int, state: str) -> Ticket:
        with self._lock:
            cached = self._cache.get(ticket_id)
        if cached is not None and cached.version == version:
            return cached
        stored = load_state(state, ticket_id, version)
        if stored is not None:
            return stored
        events = read_events(connection, ticket_id, self.where)
        try:
            return Timeline(events).ticket
        except TimelineError as exc:
            raise StorageError(f"{self.where}: ticket {ticket_id!r} is corrupt: {exc}") from None

    # ----------------------------------------------------------------- events
    def append(
        self,
        ticket_id: str,
        events: Sequence[Event],
        expected_version: int,
        *,
        due: SlaDue | None = None,
    ) -> int:
        """Append a batch atomically; see
        [`TicketStore.append()`][csmkit.storage.TicketStore.append]."""
        driver, _ = load_driver()
        batch = check_append(ticket_id, events, expected_version)
        due_row = due_columns(check_due(due))
        check_column(ticket_id, "the due target", due_row[2])
        payloads = [_dumps(event) for event in batch]
        check_payload_text(ticket_id, batch, payloads)
        check_column(ticket_id, "the ticket id", ticket_id)
        rows = [
            (ticket_id, expected_version + i, event.kind, format_instant(event.at), payload)
            for i, (event, payload) in enumerate(zip(batch, payloads, strict=True), 1)
        ]
        message_ids = [
            (event.message_id, ticket_id)
            for event in batch
            if isinstance(event, MessageAdded) and event.message_id is not None
        ]
        for message_id, _ticket in message_ids:
            check_column(ticket_id, "the message id", message_id)
        with self._session(f"append to ticket {ticket_id!r}") as connection:
            try:
                # Pipeline mode: BEGIN and the row lock in one round trip, then every
                # write and the COMMIT in a second one.
                with connection.pipeline(), connection.transaction():
                    ticket = self._append(
                        connection, ticket_id, batch, expected_version, rows, due_row
                    )
                    if message_ids:
                        connection.execute(
                            "INSERT INTO message_ids (message_id, ticket_id) "
                            "SELECT m, %s FROM unnest(%s::text[]) AS m "
                            "ON CONFLICT (message_id) DO NOTHING",
                            (ticket_id, [m for m, _ in message_ids]),
                        )
                    # Last, so the counter's row lock is held only until the commit.
                    versions = [row[1] for row in rows]
                    kinds = [row[2] for row in rows]
                    connection.execute(
                        _POSITIONS, (len(rows), len(rows), ticket_id, versions, kinds)
                    )
                    # Delivered on commit: wakes wait_for_changes() in other processes.
                    connection.execute(_NOTIFY, (self._target.schema,))
            except driver.errors.UniqueViolation as exc:
                # Another writer created the ticket (or its version) first.
                raise ConcurrencyError(
                    f"ticket {ticket_id!r}: another writer appended first "
                    f"({exc.diag.constraint_name or 'unique key'})",
                    ticket_id=ticket_id,
                    expected=expected_version,
                    actual=None,
                ) from None
        self._remember(ticket)
        return ticket.version

    def _append(
        self,
        connection: _Connection,
        ticket_id: str,
        batch: tuple[Event, ...],
        expected_version: int,
        rows: list[tuple[str, int, str, str, str]],
        due_row: tuple[str | None, str | None, str | None],
    ) -> Ticket:
        row = connection.execute(
            "SELECT version, state FROM tickets WHERE ticket_id = %s FOR UPDATE", (ticket_id,)
        ).fetchone()
        actual = 0 if row is None else int(row[0])
        if actual != expected_version:
            raise ConcurrencyError(
                f"ticket {ticket_id!r} is at version {actual}, not the expected {expected_version}",
                ticket_id=ticket_id,
                expected=expected_version,
                actual=actual,
            )
        current = None if row is None else self._state(connection, ticket_id, actual, row[1])
        ticket = fold_batch(current, batch, expected_version)
        for name, value in (
            ("status", ticket.status),
            ("assignee", ticket.assignee),
            ("group", ticket.group),
            ("customer_id", ticket.customer_id),
            ("type", ticket.type),
        ):
            check_column(ticket_id, name, value)
        connection.execute(
            "INSERT INTO events (ticket_id, version, kind, at, payload) SELECT %s, * FROM "
            "unnest(%s::integer[], %s::text[], %s::text[], %s::text[])",
            (ticket_id, *([row[i] for row in rows] for i in range(1, 5))),
        )
        created_at = format_instant(ticket.created_at)
        updated_at = format_instant(ticket.updated_at)
        state = dump_state(ticket, created_at, updated_at)
        connection.execute(
            INSERT_TICKET if row is None else UPDATE_TICKET,
            (
                ticket.version,
                ticket.status,
                ticket.category.value,
                ticket.priority.value,
                ticket.assignee,
                ticket.group,
                ticket.customer_id,
                created_at,
                updated_at,
                order_key(ticket.updated_at),
                state,
                ticket.type,
                *due_row,
                ticket.id,
            ),
        )
        return ticket

    def load(self, ticket_id: str) -> Timeline:
        """The ticket's timeline; see [`TicketStore.load()`][csmkit.storage.TicketStore.load]."""
        if isinstance(ticket_id, str) and not holds(ticket_id):
            raise NotFoundError(f"no ticket {ticket_id!r} in {self.where}")
        with self._session(f"load ticket {ticket_id!r}") as connection:
            events = read_events(connection, ticket_id, self.where)
        if not events:
            raise NotFoundError(f"no ticket {ticket_id!r} in {self.where}")
        try:
            return Timeline(events)
        except TimelineError as exc:
            raise StorageError(f"{self.where}: ticket {ticket_id!r} is corrupt: {exc}") from None

    def version(self, ticket_id: str) -> int:
        """The stream's version (0 when absent)."""
        if isinstance(ticket_id, str) and not holds(ticket_id):
            return 0
        with self._session(f"version of ticket {ticket_id!r}") as connection:
            row = connection.execute(
                "SELECT version FROM tickets WHERE ticket_id = %s", (ticket_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def position(self) -> int:
        """The latest committed write position; see
        [`TicketStore.position()`][csmkit.storage.TicketStore.position]."""
        with self._session("read the write position") as connection:
            row = connection.execute("SELECT last FROM write_position WHERE id = 1").fetchone()
        if row is None:
            raise StorageError(f"{self.where}: the write_position row is missing")
        return int(row[0])

    def changes_after(self, position: int, *, limit: int = 1000) -> list[Change]:
        """Changes in write order; see
        [`TicketStore.changes_after()`][csmkit.storage.TicketStore.changes_after]."""
        start, limit = check_changes_args(position, limit)
        with self._session("read changes") as connection:
            rows = connection.execute(
                "SELECT position, ticket_id, version, kind FROM changes "
                "WHERE position > %s ORDER BY position LIMIT %s",
                (start, limit),
            ).fetchall()
        try:
            return [
                Change(position=row[0], ticket_id=row[1], version=row[2], kind=row[3])
                for row in rows
            ]
        except StoreArgumentError as exc:
            raise StorageError(f"{self.where}: corrupt change row: {exc}") from None

    def find_tickets(
        self,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        customer_id: str | None = None,
        group: str | None = None,
        type: str | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Query tickets a page at a time; see
        [`TicketStore.find_tickets()`][csmkit.storage.TicketStore.find_tickets]."""
        query = Query(
            category=category,
            assignee=assignee,
            customer_id=customer_id,
            group=group,
            type=type,
            updated_since=updated_since,
            limit=limit,
            cursor=cursor,
        )
        if not self._matchable(query):
            return TicketPage((), None)
        where, params = filters(query)
        if query.since_key is not None:
            where.append("updated_key >= %s")
            params.append(query.since_key)
        return self._page(query, where, params, "updated_key")

    def due_before(
        self,
        before: datetime,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> TicketPage:
        """Tickets due before ``before``, earliest first; see
        [`TicketStore.due_before()`][csmkit.storage.TicketStore.due_before]."""
        query = Query(
            category=category,
            assignee=assignee,
            group=group,
            type=type,
            due_before=before,
            limit=limit,
            cursor=cursor,
        )
        if not self._matchable(query):
            return TicketPage((), None)
        where, params = filters(query)
        where[:0] = ["due_key IS NOT NULL", "due_key < %s"]  # the partial index's terms
        params.insert(0, query.before_key)
        return self._page(query, where, params, "due_key")

    def _matchable(self, query: Query) -> bool:
        """False when a filter holds text no row can hold (no UTF-8, or a NUL)."""
        texts = (query.assignee, query.customer_id, query.group, query.type)
        if query.unmatchable or not all(holds(text) for text in texts):
            return False
        if query.after is not None and not all(holds(text) for text in query.after):
            raise StoreArgumentError("the cursor was not issued by this store")
        return True

    def _page(self, query: Query, where: list[str], params: list[Any], order: str) -> TicketPage:
        sql, params = page_sql(query, where, params, order)
        with self._session("find tickets") as connection:
            rows = connection.execute(sql, params).fetchall()
        page = rows[: query.limit]
        try:
            items = tuple(summary(row) for row in page)
        except (ValueError, StoreArgumentError) as exc:
            raise StorageError(f"{self.where}: corrupt ticket index row: {exc}") from None
        next_cursor = None
        if len(rows) > query.limit:
            key = page[-1][13] if order == "updated_key" else page[-1][14]
            next_cursor = encode_cursor(key, page[-1][0], query.cursor_tag)
        return TicketPage(items, next_cursor)

    def set_due(self, ticket_id: str, due: SlaDue | None, *, version: int) -> bool:
        """Replace the SLA due mark at ``version``; see
        [`TicketStore.set_due()`][csmkit.storage.TicketStore.set_due]."""
        ticket_id, due, version = check_set_due(ticket_id, due, version)
        if not holds(ticket_id):
            return False
        columns = due_columns(due)
        check_column(ticket_id, "the due target", columns[2])
        with self._session(f"set the due mark of ticket {ticket_id!r}") as connection:
            cursor = connection.execute(
                "UPDATE tickets SET due_at = %s, due_key = %s, due_target = %s "
                "WHERE ticket_id = %s AND version = %s",
                (*columns, ticket_id, version),
            )
            return cursor.rowcount == 1

    def count_tickets(
        self,
        by: str,
        *,
        category: StatusCategory | str | Collection[StatusCategory | str] | None = None,
        assignee: str | None = None,
        group: str | None = None,
        type: str | None = None,
    ) -> dict[str | None, int]:
        """Tickets per value of ``by``; see
        [`TicketStore.count_tickets()`][csmkit.storage.TicketStore.count_tickets]."""
        column = COUNT_COLUMNS[check_count_by(by)]
        query = Query(category=category, assignee=assignee, group=group, type=type)
        if not self._matchable(query):
            return {}
        where, params = filters(query)
        sql = f"SELECT {column}, count(*) FROM tickets"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" GROUP BY {column}"
        with self._session("count tickets") as connection:
            rows = connection.execute(sql, params).fetchall()
        return sorted_counts((row[0], int(row[1])) for row in rows)

    def find_ticket_by_message_id(self, message_id: str) -> str | None:
        """The ticket holding this message id, or ``None``."""
        if isinstance(message_id, str) and not holds(message_id):
            return None
        with self._session("find message id") as connection:
            row = connection.execute(
                "SELECT ticket_id FROM message_ids WHERE message_id = %s", (message_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    # ----------------------------------------------------------------- customers
    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer; see
        [`TicketStore.save_customer()`][csmkit.storage.TicketStore.save_customer]."""
        if not isinstance(customer, Customer):
            raise TypeError(f"expected a Customer, got {type(customer).__name__}")
        check_customer_text(customer)
        texts = [customer.id, customer.name, *(i.value for i in customer.identities)]
        if any("\x00" in text for text in texts):
            raise StorageError(
                f"customer {customer.id!r}: text with a NUL character, which PostgreSQL "
                "cannot store; nothing was saved"
            )
        with (
            self._session(f"save customer {customer.id!r}") as connection,
            connection.transaction(),
        ):
            write_customer(connection, customer)

    def get_customer(self, customer_id: str) -> Customer:
        """The customer with this id; raises ``NotFoundError``."""
        if isinstance(customer_id, str) and not holds(customer_id):
            raise NotFoundError(f"no customer {customer_id!r} in {self.where}")
        with self._session(f"get customer {customer_id!r}") as connection:
            customer = read_customer(connection, customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id!r} in {self.where}")
        return customer

    def find_customer(self, kind: str, value: str) -> Customer | None:
        """The customer owning this identity, or ``None``."""
        identity = Identity(kind, value)
        if not holds(identity.value):
            return None
        with self._session("find customer") as connection:
            return find_customer(connection, identity)

    def list_customers(self) -> list[Customer]:
        """Every customer with its identities, ordered by id (for copies and exports)."""
        with self._session("list customers") as connection:
            return list_customers(connection)

    def wait_for_changes(self, after: int, *, timeout: float) -> int:
        """Block until the write position passes ``after`` (woken by ``LISTEN``/``NOTIFY``
        when any process appends) or ``timeout`` seconds pass; returns the position then.

        A ticker can sleep on it between ticks instead of polling ``position()``.
        """
        if self._pool is None:
            raise StorageError("wait for changes: the store is closed")
        return self._listener.wait(after, timeout)

    # ----------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Close the pool (idempotent); later calls raise ``StorageError``."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._cache.clear()
        if pool is not None:
            pool.close()
            self._listener.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _conforms(store: PostgresStore) -> TicketStore:
    return store  # mypy checks that PostgresStore satisfies the protocol
