"""The SQLite store: csmkit's embedded default, on the standard library's ``sqlite3``."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from csmkit.errors import (
    ConcurrencyError,
    NotFoundError,
    StorageError,
    StoreArgumentError,
    TimelineError,
)
from csmkit.storage._access import cannot_read, cannot_write, is_access_error
from csmkit.storage._common import Folded, Query, encode_cursor, fold_trusted
from csmkit.storage._model import (
    Change,
    Customer,
    Identity,
    TicketPage,
    TicketStore,
    check_changes_args,
)
from csmkit.storage._queries import (
    SlaDue,
    check_count_by,
    check_due,
    check_set_due,
    sorted_counts,
)
from csmkit.storage._schema import MIGRATIONS, Migration, prepare
from csmkit.storage._snapshot import load_state
from csmkit.storage._sqlite_append import (
    SELECT_TICKET,
    Batch,
    Row,
    expected_write,
    row_statement,
    row_values,
    write_events,
    write_expected,
)
from csmkit.storage._sqlite_index import (
    COUNT_COLUMNS,
    due_columns,
    filters,
    find_customer,
    page_sql,
    read_customer,
    summary,
    write_customer,
)
from csmkit.storage._sqlite_read import Held, read_events
from csmkit.storage._sqlite_session import Session, Transaction
from csmkit.storage._text import check_customer_text, storable
from csmkit.timeline import (
    Event,
    StatusCategory,
    Ticket,
    Timeline,
)
from csmkit.timeline.trusted import folded_timeline

__all__ = ["SqliteStore"]

_SYNCHRONOUS = ("off", "normal", "full", "extra")


class SqliteStore:
    """A [`TicketStore`][csmkit.storage.TicketStore] in one SQLite file.

    * Writes run in explicit ``BEGIN IMMEDIATE`` transactions; a batch is all or nothing.
    * ``(ticket_id, version)`` is the primary key of the event table, so two writers can
      never store the same position: the loser gets
      [`ConcurrencyError`][csmkit.errors.ConcurrencyError].
    * Files use WAL journaling (readers do not block the writer) and a busy timeout, so
      several processes may share one file.
    * The schema is versioned (table ``csmkit_schema``) and migrated forward on open; a
      newer schema, a foreign database or a corrupt file raise
      [`StorageError`][csmkit.errors.StorageError] and are never written to.
    * Events are stored as JSON (``event.to_dict()``) with the instant's original offset.
    * Every event gets a store-wide write position (table ``changes``, an
      ``AUTOINCREMENT`` key filled in the append's ``BEGIN IMMEDIATE`` transaction), so
      [`changes_after()`][csmkit.storage.SqliteStore.changes_after] lists what was written in commit
      order, across processes.
    * Each ticket's folded state is stored with its index row, so an append after
      another writer folds onto one row instead of re-reading the stream. A handle
      appending onto the version it wrote itself does not read the row at all: its
      ``UPDATE`` is guarded by every column as the handle wrote it, and when anything
      changed the row (another writer, ``set_due``) it reads the row and goes on in the
      same transaction, as any other append.
    * A handle keeps the timelines it last appended to or loaded; ``load`` hands one out
      only when the stream's version in the file is the timeline's own.
    * A read-only file or directory is a [`StorageError`][csmkit.errors.StorageError] saying
      which and what to do; ``read_only=True`` (``?mode=ro``) opens a file for reading.

    Args:
        path: The database file (created when missing), or ``":memory:"``.
        busy_timeout: Seconds to wait for another writer's lock before failing.
        synchronous: ``PRAGMA synchronous``: ``"full"`` (default; a committed append
            survives power loss), ``"normal"`` (survives process crashes; faster),
            ``"off"`` or ``"extra"``.
        read_only: Open the file read-only (``mode=ro``): reads work, every write is a
            [`StorageError`][csmkit.errors.StorageError]; the file must exist with the current
            schema.

    Raises:
        StorageError: the file cannot be opened, is corrupt or foreign, or has a newer
            schema; a read-only file or directory (or ``read_only``) when the file must
            be created or migrated; the message says which and what to do.
        StoreArgumentError: bad options.
    """

    _migrations: tuple[Migration, ...] = MIGRATIONS

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "full",
        read_only: bool = False,
    ) -> None:
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)):
            raise StoreArgumentError(f"busy_timeout must be a number, got {busy_timeout!r}")
        if busy_timeout < 0:
            raise StoreArgumentError(f"busy_timeout must be >= 0, got {busy_timeout!r}")
        if synchronous not in _SYNCHRONOUS:
            raise StoreArgumentError(
                f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, got {synchronous!r}"
            )
        if not isinstance(read_only, bool):
            raise StoreArgumentError(f"read_only must be True or False, got {read_only!r}")
        self._path = os.fspath(path)
        if read_only and self._path == ":memory:":
            raise StoreArgumentError("an in-memory database cannot be opened read-only")
        self._read_only = read_only
        self._lock = threading.RLock()
        # States and timelines this handle wrote or read, each valid only at its own
        # version (a stream's events up to a version never change): append checks the
        # version in its transaction, load reads it first, before using one.
        self._held = Held()
        self._commits = 0  # write transactions committed through this handle
        if self._path != ":memory:" and os.path.isdir(self._path):
            raise StorageError(f"{self._path} is a directory, not a SQLite database file")
        if read_only and not os.path.isfile(self._path):
            raise StorageError(f"{self._path} does not exist (opened read-only, mode=ro)")
        target = Path(self._path).absolute().as_uri() + "?mode=ro" if read_only else self._path
        try:
            connection = sqlite3.connect(
                target,
                timeout=float(busy_timeout),
                isolation_level=None,
                check_same_thread=False,
                uri=read_only,
            )
        except sqlite3.Error as exc:
            if is_access_error(exc) and not read_only:
                raise StorageError(
                    cannot_write(self._path, "open the store", exc, read_only=False)
                ) from exc
            raise StorageError(f"cannot open SQLite database {self._path}: {exc}") from exc
        try:
            self.schema_version = prepare(
                connection, self._path, self._migrations, read_only=read_only
            )
            if self._path != ":memory:" and not read_only:
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    problem = f"cannot switch to WAL mode (got {mode})"
                    if not self._writable():
                        problem = cannot_write(self._path, problem, OSError(), read_only=False)
                    raise StorageError(f"{self._path}: {problem}")
            connection.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            connection.close()
            if is_access_error(exc):
                message = (
                    cannot_read(self._path, exc)
                    if read_only
                    else cannot_write(self._path, "open the store", exc, read_only=False)
                )
                raise StorageError(message) from exc
            raise StorageError(
                f"{self._path} is not a usable SQLite database ({exc}); it was left untouched"
            ) from exc
        except BaseException:
            connection.close()
            raise
        self._connection: sqlite3.Connection | None = connection

    def __repr__(self) -> str:
        return f"<SqliteStore {self._path!r}>"

    @property
    def path(self) -> str:
        """The database path (``":memory:"`` for an in-memory database)."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only (``mode=ro``): every write refuses."""
        return self._read_only

    def _writable(self) -> bool:
        if self._path == ":memory:":
            return True
        directory = os.path.dirname(os.path.abspath(self._path))
        if os.path.exists(self._path) and not os.access(self._path, os.W_OK):
            return False
        return os.access(directory, os.W_OK)

    # ----------------------------------------------------------------- plumbing
    def _session(self, what: str) -> Session:
        """Hold the lock and map driver errors onto [`StorageError`][csmkit.errors.StorageError]."""
        return Session(self, what)

    def _write(self, connection: sqlite3.Connection) -> Transaction:
        """A ``BEGIN IMMEDIATE`` transaction: committed at the end of the block, rolled
        back on any exception."""
        return Transaction(self, connection)

    def _state(
        self, connection: sqlite3.Connection, ticket_id: str, version: int, snapshot: object
    ) -> Ticket:
        """The ticket at ``version``: cached, else the stored snapshot, else the stream.

        After another writer (thread, handle or process) appended, the cache is stale
        and the snapshot written with that append (same transaction) is the state: one
        row, never the whole history. Only tickets written before schema 3 (no
        snapshot yet) are folded from their events, once.
        """
        cached = self._held.ticket(ticket_id, version)
        if cached is not None:
            return cached
        stored = load_state(snapshot, ticket_id, version)
        if stored is not None:
            return stored
        events = read_events(connection, self._path, ticket_id)
        if len(events) != version:
            raise StorageError(
                f"{self._path}: ticket {ticket_id!r} index says {version} events, "
                f"found {len(events)}"
            )
        try:
            return Timeline(events).ticket
        except TimelineError as exc:
            raise StorageError(f"{self._path}: ticket {ticket_id!r} is corrupt: {exc}") from None

    # ----------------------------------------------------------------- events
    def append(
        self,
        ticket_id: str,
        events: Sequence[Event],
        expected_version: int,
        *,
        due: SlaDue | None = None,
        _folded: Folded | None = None,
    ) -> int:
        """Append a batch atomically; see
        [`TicketStore.append()`][csmkit.storage.TicketStore.append] (``_folded``: the
        desk's internal path, see `fold_trusted()`)."""
        batch = Batch(ticket_id, events, expected_version, due_columns(check_due(due)))
        with self._session(f"append to ticket {ticket_id!r}") as connection:
            # What this handle wrote last (if at expected_version) gives the state and
            # index row to write without reading them (see _sqlite_append).
            written = self._held.written(ticket_id, expected_version)
            expected = None
            if written is not None or expected_version == 0:
                expected = expected_write(batch, written, _folded)
            try:
                with self._write(connection):
                    if expected is not None and write_expected(connection, *expected[2:]):
                        ticket, row = expected[:2]
                    else:
                        ticket, row = self._write_read(connection, batch, _folded)
                    write_events(connection, batch)
            except sqlite3.IntegrityError as exc:
                # Only reachable if another writer bypassed the version check.
                raise ConcurrencyError(
                    f"ticket {ticket_id!r}: version conflict while appending ({exc})",
                    ticket_id=ticket_id,
                    expected=expected_version,
                    actual=None,
                ) from exc
            # The fold above validated the batch onto the state at expected_version, so
            # the timeline (if this handle holds the stream up to there) extends as is.
            base = None if expected_version == 0 else self._held.timeline(ticket_id)
            if base is not None and base.version != expected_version:
                base = None
            timeline = None
            if expected_version == 0 or base is not None:
                timeline = folded_timeline(base, batch.events, ticket)
            self._held.wrote(ticket, row, timeline)
            return ticket.version

    def _write_read(
        self, connection: sqlite3.Connection, batch: Batch, folded: Folded | None
    ) -> tuple[Ticket, Row]:
        """Write the ticket's index row after reading it (in the append's transaction):
        the version check, the state to fold onto, the columns that change."""
        ticket_id, expected_version = batch.ticket_id, batch.expected
        stored = connection.execute(SELECT_TICKET, (ticket_id,)).fetchone()
        actual = 0 if stored is None else int(stored[0])
        if actual != expected_version:
            raise ConcurrencyError(
                f"ticket {ticket_id!r} is at version {actual}, not the expected {expected_version}",
                ticket_id=ticket_id,
                expected=expected_version,
                actual=actual,
            )
        current = None if stored is None else self._state(connection, ticket_id, actual, stored[1])
        ticket = fold_trusted(current, batch.events, expected_version, folded)
        row = row_values(ticket, batch)
        connection.execute(*row_statement(ticket_id, row, stored))
        return ticket, row

    def load(self, ticket_id: str) -> Timeline:
        """The ticket's timeline; see [`TicketStore.load()`][csmkit.storage.TicketStore.load]."""
        if isinstance(ticket_id, str) and not storable(ticket_id):
            raise NotFoundError(f"no ticket {ticket_id!r} in {self._path}")
        with self._session(f"load ticket {ticket_id!r}") as connection:
            held = self._held.timeline(ticket_id)
            if held is not None:
                # A timeline's version is its number of events, so one that is not
                # exactly the stream in the file is never handed out.
                row = connection.execute(
                    "SELECT version FROM tickets WHERE ticket_id = ?", (ticket_id,)
                ).fetchone()
                if row is not None and row[0] == held.version:
                    self._held.read(held)
                    return held
            events = read_events(connection, self._path, ticket_id)
            if not events:
                raise NotFoundError(f"no ticket {ticket_id!r} in {self._path}")
            try:
                timeline = Timeline(events)
            except TimelineError as exc:
                raise StorageError(
                    f"{self._path}: ticket {ticket_id!r} is corrupt: {exc}"
                ) from None
            self._held.read(timeline)
        return timeline

    def version(self, ticket_id: str) -> int:
        """The stream's version (0 when absent)."""
        if isinstance(ticket_id, str) and not storable(ticket_id):
            return 0
        with self._session(f"version of ticket {ticket_id!r}") as connection:
            row = connection.execute(
                "SELECT version FROM tickets WHERE ticket_id = ?", (ticket_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def position(self) -> int:
        """The latest committed write position; see
        [`TicketStore.position()`][csmkit.storage.TicketStore.position]."""
        with self._session("read the write position") as connection:
            row = connection.execute("SELECT max(position) FROM changes").fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def write_marker(self) -> tuple[int, int]:
        """``(PRAGMA data_version, commits through this handle)``: the first moves on
        with every commit of another connection (any process), the second with this
        handle's own. Equal markers: nothing was committed in between.

        An in-memory database (``":memory:"``) is private to this handle's connection:
        no other connection can commit to it, so its marker is read without a
        statement (``data_version`` could only ever be its first value, 1)."""
        with self._session("read the write marker") as connection:
            if self._path == ":memory:":
                return 1, self._commits
            row = connection.execute("PRAGMA data_version").fetchone()
            return int(row[0]), self._commits

    def changes_after(self, position: int, *, limit: int = 1000) -> list[Change]:
        """Changes in write order; see
        [`TicketStore.changes_after()`][csmkit.storage.TicketStore.changes_after]."""
        start, limit = check_changes_args(position, limit)
        with self._session("read changes") as connection:
            rows = connection.execute(
                "SELECT position, ticket_id, version, kind FROM changes "
                "WHERE position > ? ORDER BY position LIMIT ?",
                (start, limit),
            ).fetchall()
        try:
            return [
                Change(position=row[0], ticket_id=row[1], version=row[2], kind=row[3])
                for row in rows
            ]
        except StoreArgumentError as exc:
            raise StorageError(f"{self._path}: corrupt change row: {exc}") from None

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
        if query.unmatchable:
            return TicketPage((), None)
        where, params = filters(query)
        if query.since_key is not None:
            where.append("updated_key >= ?")
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
        if query.unmatchable:
            return TicketPage((), None)
        where, params = filters(query)
        where[:0] = ["due_key IS NOT NULL", "due_key < ?"]
        params.insert(0, query.before_key)
        return self._page(query, where, params, "due_key")

    def _page(self, query: Query, where: list[str], params: list[Any], order: str) -> TicketPage:
        """One page of ``tickets`` rows ordered by ``(order, ticket_id)``."""
        sql, params = page_sql(query, where, params, order)
        with self._session("find tickets") as connection:
            rows = connection.execute(sql, params).fetchall()
        page = rows[: query.limit]
        try:
            items = tuple(summary(row) for row in page)
        except (ValueError, StoreArgumentError) as exc:
            raise StorageError(f"{self._path}: corrupt ticket index row: {exc}") from None
        next_cursor = None
        if len(rows) > query.limit:
            key = page[-1][13] if order == "updated_key" else page[-1][14]
            next_cursor = encode_cursor(key, page[-1][0], query.cursor_tag)
        return TicketPage(items, next_cursor)

    def set_due(self, ticket_id: str, due: SlaDue | None, *, version: int) -> bool:
        """Replace the SLA due mark at ``version``; see
        [`TicketStore.set_due()`][csmkit.storage.TicketStore.set_due]."""
        ticket_id, due, version = check_set_due(ticket_id, due, version)
        if not storable(ticket_id):
            return False
        columns = due_columns(due)
        with self._session(f"set the due mark of ticket {ticket_id!r}") as connection:
            with self._write(connection):
                cursor = connection.execute(
                    "UPDATE tickets SET due_at = ?, due_key = ?, due_target = ? "
                    "WHERE ticket_id = ? AND version = ?",
                    (*columns, ticket_id, version),
                )
            if cursor.rowcount != 1:
                return False
            self._held.due_set(ticket_id, version, columns)
            return True

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
        if query.unmatchable:
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
        if isinstance(message_id, str) and not storable(message_id):
            return None
        with self._session("find message id") as connection:
            row = connection.execute(
                "SELECT ticket_id FROM message_ids WHERE message_id = ?", (message_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    # ----------------------------------------------------------------- customers
    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer; see
        [`TicketStore.save_customer()`][csmkit.storage.TicketStore.save_customer]."""
        if not isinstance(customer, Customer):
            raise TypeError(f"expected a Customer, got {type(customer).__name__}")
        check_customer_text(customer)
        with (
            self._session(f"save customer {customer.id!r}") as connection,
            self._write(connection),
        ):
            write_customer(connection, customer)

    def get_customer(self, customer_id: str) -> Customer:
        """The customer with this id; raises ``NotFoundError``."""
        if isinstance(customer_id, str) and not storable(customer_id):
            raise NotFoundError(f"no customer {customer_id!r} in {self._path}")
        with self._session(f"get customer {customer_id!r}") as connection:
            customer = read_customer(connection, customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id!r} in {self._path}")
        return customer

    def find_customer(self, kind: str, value: str) -> Customer | None:
        """The customer owning this identity, or ``None``."""
        identity = Identity(kind, value)
        if not storable(identity.value):
            return None
        with self._session("find customer") as connection:
            return find_customer(connection, identity)

    # ----------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Close the connection (idempotent); later calls raise ``StorageError``."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._held.clear()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _conforms(store: SqliteStore) -> TicketStore:
    return store  # mypy checks that SqliteStore satisfies the protocol
