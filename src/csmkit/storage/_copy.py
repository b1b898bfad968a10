"""Copy a desk from one store to another (``csmkit store copy SRC DST``), verified."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from csmkit.errors import ConcurrencyError, NotFoundError, StorageError
from csmkit.storage._model import Customer, Identity, TicketStore
from csmkit.storage._queries import SlaDue
from csmkit.storage._sqlite import SqliteStore
from csmkit.timeline import Event

__all__ = ["CopyReport", "CopyableRecords", "copy_store", "records_digest", "stream_digest"]


@runtime_checkable
class CopyableRecords(Protocol):
    """What [`copy_store()`][csmkit.storage.copy_store] needs of the customer directory's
    records (``csmkit.customers``' memory, SQLite and PostgreSQL records have it)."""

    def export_records(self) -> list[tuple[str, dict[str, Any]]]:
        """Every record as JSON-safe ``(kind, data)`` rows, in a canonical order."""
        ...

    def import_records(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Write exported rows, all or nothing; returns how many."""
        ...


def records_digest(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
    """SHA-256 of exported records: each ``[kind, data]`` as canonical JSON, one per line.

    Examples:
        >>> records_digest([("merge", {"source_id": "C-2", "target_id": "C-1"})])[:12]
        '343e88818aa7'
        >>> records_digest([]) == hashlib.sha256().hexdigest()
        True
    """
    digest = hashlib.sha256()
    for kind, data in rows:
        line = json.dumps([kind, data], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def stream_digest(events: Iterable[Event]) -> str:
    """SHA-256 of a stream: each event's ``to_dict()`` as canonical JSON, one per line.

    Two stores hold the same stream exactly when the digests are equal (the JSON keeps
    every field and each instant's UTC offset).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from csmkit.timeline import TicketCreated
        >>> at = datetime(2026, 10, 8, 9, 30, tzinfo=timezone.utc)
        >>> one = TicketCreated(ticket_id="T-1", at=at, type="repair", channel="phone")
        >>> stream_digest([one])[:12]
        '5bc7160313c9'
        >>> same_instant = TicketCreated(ticket_id="T-1", at=at.astimezone(timezone.max),
        ...                              type="repair", channel="phone")
        >>> stream_digest([same_instant]) == stream_digest([one])
        False
    """
    digest = hashlib.sha256()
    for event in events:
        line = json.dumps(
            event.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


@attrs.frozen(kw_only=True)
class CopyReport:
    """What [`copy_store()`][csmkit.storage.copy_store] copied and verified.

    Attributes:
        tickets: Streams in the destination that match the source (copied or already
            there, identical).
        events: Events in those streams.
        customers: Customers copied (with their identities).
        skipped: Streams that were already in the destination, identical, so not copied.
        checksum: SHA-256 over every stream's digest in ticket-id order: equal for two
            stores holding the same streams.
        records: The customer directory's records (profiles, assets, merges, audit
            entries) that match the source's in the destination; 0 when none were copied.
        records_checksum: [`records_digest()`][csmkit.storage.records_digest] of those
            records, or ``None`` when no records were given.
    """

    tickets: int
    events: int
    customers: int
    skipped: int
    checksum: str
    records: int = 0
    records_checksum: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return attrs.asdict(self)


def _ticket_ids(store: TicketStore) -> list[str]:
    """Every stream of the store, in order of first write."""
    seen: dict[str, None] = {}
    position = 0
    while True:
        page = store.changes_after(position, limit=5000)
        if not page:
            return list(seen)
        for change in page:
            seen.setdefault(change.ticket_id, None)
        position = page[-1].position


def _dues(store: TicketStore) -> dict[str, SlaDue]:
    """The SLA due mark of every ticket that has one."""
    dues: dict[str, SlaDue] = {}
    cursor = None
    while True:
        page = store.find_tickets(limit=1000, cursor=cursor)
        dues.update((s.ticket_id, s.due) for s in page.items if s.due is not None)
        cursor = page.next_cursor
        if cursor is None:
            return dues


def _sqlite_customers(path: str) -> list[Customer]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = connection.execute("SELECT customer_id, name FROM customers").fetchall()
        identities: dict[str, list[Identity]] = {}
        for kind, value, owner in connection.execute(
            "SELECT kind, value, customer_id FROM customer_identities"
        ):
            identities.setdefault(owner, []).append(Identity(kind, value))
    except sqlite3.Error as exc:
        raise StorageError(f"cannot list the customers of {path}: {exc}") from None
    finally:
        connection.close()
    return [Customer(cid, name=name, identities=identities.get(cid, ())) for cid, name in names]


def _customers(store: TicketStore, ticket_customers: Iterable[str]) -> list[Customer]:
    """Every customer of the store (or, for a store that cannot list them, those its
    tickets name)."""
    lister: Callable[[], list[Customer]] | None = getattr(store, "list_customers", None)
    if callable(lister):
        return list(lister())
    path = getattr(store, "path", None)
    if isinstance(store, SqliteStore) and isinstance(path, str) and path != ":memory:":
        return _sqlite_customers(path)
    found = []
    for customer_id in sorted(set(ticket_customers)):
        try:
            found.append(store.get_customer(customer_id))
        except NotFoundError:
            continue
    return found


def _is_empty(store: TicketStore) -> bool:
    return store.position() == 0 and not store.find_tickets(limit=1).items


def copy_store(
    source: TicketStore,
    destination: TicketStore,
    *,
    allow_non_empty: bool = False,
    records: tuple[CopyableRecords, CopyableRecords] | None = None,
) -> CopyReport:
    """Copy every stream and customer of ``source`` into ``destination``, then verify.

    Each stream is appended in one batch (all or nothing per ticket) with its SLA due
    mark, in the order the source first wrote them. Afterwards every stream is read back
    from both stores and compared by version and
    [`stream_digest()`][csmkit.storage.stream_digest], the customers one by one and the
    due marks. Stop the desk's writers while copying: a stream
    that changes in the source meanwhile fails the verification.

    Args:
        source: The store to read (not modified).
        destination: The store to fill; must be empty unless ``allow_non_empty``.
        allow_non_empty: Copy into a store that already holds data: streams already
            there and identical are skipped, any other existing stream is an error.
        records: ``(source_records, destination_records)``: the customer directory's
            records (assets, profiles, merges, audit) to copy as well, in one batch after
            the streams, verified by count and
            [`records_digest()`][csmkit.storage.records_digest]. The destination's must be
            empty, or (with ``allow_non_empty``) already identical.

    Returns:
        The counts and the checksum of every stream.

    Raises:
        StorageError: the destination is not empty (and not allowed), a stream exists
            there with other events, or the verification found a difference (the
            message names the ticket or customer).
    """
    if not allow_non_empty and not _is_empty(destination):
        raise StorageError(
            "the destination store is not empty; copy into a new store, or pass "
            "allow_non_empty=True (--allow-non-empty) to add the missing streams"
        )
    record_rows = None if records is None else _records_to_copy(records, allow_non_empty)
    ticket_ids = _ticket_ids(source)
    dues = _dues(source)
    digests: dict[str, str] = {}
    customer_ids: list[str] = []
    events = skipped = 0
    for ticket_id in ticket_ids:
        timeline = source.load(ticket_id)
        stream = list(timeline)
        digests[ticket_id] = stream_digest(stream)
        events += len(stream)
        if timeline.ticket.customer_id is not None:
            customer_ids.append(timeline.ticket.customer_id)
        existing = destination.version(ticket_id)
        if existing:
            if stream_digest(destination.load(ticket_id)) != digests[ticket_id]:
                raise StorageError(
                    f"ticket {ticket_id!r} is already in the destination with other events "
                    f"({existing} there, {len(stream)} in the source); nothing more was copied"
                )
            skipped += 1
            continue
        try:
            destination.append(ticket_id, stream, 0, due=dues.get(ticket_id))
        except ConcurrencyError:
            raise StorageError(
                f"ticket {ticket_id!r} appeared in the destination while copying; stop the "
                "destination's writers and copy again"
            ) from None
    customers = _customers(source, customer_ids)
    for customer in customers:
        destination.save_customer(customer)
    _verify(source, destination, digests, customers)
    if _dues(destination) != {t: due for t, due in dues.items() if t in digests}:
        raise StorageError("verification failed: the SLA due marks differ between the stores")
    records_checksum = None
    if records is not None and record_rows is not None:
        records_checksum = _copy_records(records, record_rows)
    combined = hashlib.sha256()
    for ticket_id in sorted(digests):
        combined.update(f"{ticket_id}\t{digests[ticket_id]}\n".encode())
    return CopyReport(
        tickets=len(digests),
        events=events,
        customers=len(customers),
        skipped=skipped,
        checksum=combined.hexdigest(),
        records=len(record_rows or ()),
        records_checksum=records_checksum,
    )


def _records_to_copy(
    records: tuple[CopyableRecords, CopyableRecords], allow_non_empty: bool
) -> list[tuple[str, dict[str, Any]]]:
    """The source's records, checked against the destination's before anything is copied."""
    if (
        not isinstance(records, tuple)
        or len(records) != 2
        or not all(isinstance(r, CopyableRecords) for r in records)
    ):
        raise TypeError(
            "records must be a (source, destination) pair of customer records with "
            "export_records() and import_records()"
        )
    source, destination = records
    rows = source.export_records()
    there = destination.export_records()
    if there and not allow_non_empty:
        raise StorageError(
            "the destination's customer records are not empty; copy into new records, or "
            "pass allow_non_empty=True (--allow-non-empty) to accept identical ones"
        )
    if there and records_digest(there) != records_digest(rows):
        raise StorageError(
            f"the destination holds other customer records ({len(there)} there, {len(rows)} "
            "in the source); records are never merged: nothing was copied"
        )
    return rows


def _copy_records(
    records: tuple[CopyableRecords, CopyableRecords], rows: list[tuple[str, dict[str, Any]]]
) -> str:
    """Copy ``rows`` into the destination's records (unless already there), then verify."""
    destination = records[1]
    expected = records_digest(rows)
    if not destination.export_records():
        destination.import_records(rows)
    copied = destination.export_records()
    if len(copied) != len(rows) or records_digest(copied) != expected:
        raise StorageError(
            f"verification failed: the customer records differ between the stores "
            f"({len(rows)} in the source, {len(copied)} in the destination)"
        )
    if records_digest(records[0].export_records()) != expected:
        raise StorageError(
            "verification failed: the source's customer records changed while copying "
            "(stop the desk's writers and copy again)"
        )
    return expected


def _verify(
    source: TicketStore,
    destination: TicketStore,
    digests: dict[str, str],
    customers: list[Customer],
) -> None:
    for ticket_id, digest in digests.items():
        if source.version(ticket_id) != destination.version(ticket_id):
            raise StorageError(
                f"verification failed: ticket {ticket_id!r} has {source.version(ticket_id)} "
                f"events in the source, {destination.version(ticket_id)} in the destination "
                "(was the source written to while copying?)"
            )
        if stream_digest(destination.load(ticket_id)) != digest:
            raise StorageError(
                f"verification failed: ticket {ticket_id!r} differs between the stores"
            )
    copied = set(_ticket_ids(destination))
    missing = sorted(set(digests) - copied)
    if missing:
        raise StorageError(f"verification failed: tickets {missing[:5]} are not in the destination")
    for customer in customers:
        try:
            stored = destination.get_customer(customer.id)
        except NotFoundError:
            stored = None
        if stored != customer:
            raise StorageError(
                f"verification failed: customer {customer.id!r} differs between the stores"
            )
