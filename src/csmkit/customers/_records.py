"""Where the directory keeps what the ticket store does not: assets, merges, audit, profiles."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol, runtime_checkable

from csmkit._jsonvalue import thaw
from csmkit.customers._model import Asset, AuditEntry, json_mapping
from csmkit.customers._records_io import RecordRow, check_range, parse_rows, profile_row
from csmkit.errors import NotFoundError, StorageError
from csmkit.storage import CopyableRecords, SqliteStore, check_storable

__all__ = [
    "RECORDS_SCHEMA_VERSION",
    "CustomerRecords",
    "MemoryCustomerRecords",
    "SqliteCustomerRecords",
]

RECORDS_SCHEMA_VERSION = 1
"""Schema version of the directory's own SQLite tables (table ``csmkit_customers_schema``)."""


@runtime_checkable
class CustomerRecords(Protocol):
    """The directory's storage port, next to the ticket store's customers and identities.

    Customers and their identities stay in the [`TicketStore`][csmkit.storage.TicketStore]
    (``save_customer`` / ``find_customer``); this port keeps the rest of the 360° picture.
    """

    def save_profile(self, customer_id: str, attributes: Mapping[str, Any]) -> None:
        """Replace a customer's free-form profile attributes (JSON-safe)."""
        ...

    def profile(self, customer_id: str) -> Mapping[str, Any]:
        """The profile attributes (empty when none were saved)."""
        ...

    def save_asset(self, asset: Asset) -> None:
        """Insert or replace an asset by serial."""
        ...

    def get_asset(self, serial: str) -> Asset:
        """The asset with this serial; raises ``NotFoundError``."""
        ...

    def assets_of(self, customer_id: str) -> tuple[Asset, ...]:
        """A customer's assets, by serial."""
        ...

    def assets_expiring(self, first: date, last: date) -> tuple[Asset, ...]:
        """Assets whose ``warranty_until`` is between ``first`` and ``last`` inclusive."""
        ...

    def set_merged(self, source_id: str, target_id: str | None) -> None:
        """Record that ``source_id`` was merged into ``target_id`` (``None``: undo)."""
        ...

    def merged_into(self, customer_id: str) -> str | None:
        """The customer ``customer_id`` was merged into, if any."""
        ...

    def merged_from(self, customer_id: str) -> tuple[str, ...]:
        """The customers merged directly into ``customer_id``."""
        ...

    def add_audit(self, entry: AuditEntry) -> None:
        """Append an audit entry."""
        ...

    def audit(self, customer_id: str) -> tuple[AuditEntry, ...]:
        """A customer's audit entries, oldest first."""
        ...


class MemoryCustomerRecords:
    """[`CustomerRecords`][csmkit.customers.CustomerRecords] in process memory (tests,
    notebooks)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._profiles: dict[str, Mapping[str, Any]] = {}
        self._assets: dict[str, Asset] = {}
        self._merged: dict[str, str] = {}
        self._audit: list[AuditEntry] = []

    def save_profile(self, customer_id: str, attributes: Mapping[str, Any]) -> None:
        """Replace the profile attributes."""
        frozen = json_mapping(attributes)
        check_storable([customer_id, thaw(frozen)], f"save profile of {customer_id!r}")
        with self._lock:
            self._profiles[customer_id] = frozen

    def profile(self, customer_id: str) -> Mapping[str, Any]:
        """The profile attributes."""
        with self._lock:
            return self._profiles.get(customer_id, {})

    def save_asset(self, asset: Asset) -> None:
        """Insert or replace an asset."""
        if not isinstance(asset, Asset):
            raise TypeError(f"expected an Asset, got {type(asset).__name__}")
        check_storable(asset.to_dict(), f"save asset {asset.serial!r}")
        with self._lock:
            self._assets[asset.serial] = asset

    def get_asset(self, serial: str) -> Asset:
        """The asset; raises ``NotFoundError``."""
        with self._lock:
            asset = self._assets.get(serial.strip())
        if asset is None:
            raise NotFoundError(f"no asset with serial {serial!r}")
        return asset

    def assets_of(self, customer_id: str) -> tuple[Asset, ...]:
        """A customer's assets."""
        with self._lock:
            found = [a for a in self._assets.values() if a.customer_id == customer_id]
        return tuple(sorted(found, key=lambda a: a.serial))

    def assets_expiring(self, first: date, last: date) -> tuple[Asset, ...]:
        """Assets whose cover ends in ``[first, last]``."""
        check_range(first, last)
        with self._lock:
            found = [
                a
                for a in self._assets.values()
                if a.warranty_until is not None and first <= a.warranty_until <= last
            ]
        return tuple(sorted(found, key=lambda a: (a.warranty_until or first, a.serial)))

    def set_merged(self, source_id: str, target_id: str | None) -> None:
        """Record or undo a merge."""
        check_storable([source_id, target_id], "record a merge")
        with self._lock:
            if target_id is None:
                self._merged.pop(source_id, None)
            else:
                self._merged[source_id] = target_id

    def merged_into(self, customer_id: str) -> str | None:
        """Where ``customer_id`` was merged."""
        with self._lock:
            return self._merged.get(customer_id)

    def merged_from(self, customer_id: str) -> tuple[str, ...]:
        """Who was merged into ``customer_id``."""
        with self._lock:
            return tuple(sorted(s for s, t in self._merged.items() if t == customer_id))

    def add_audit(self, entry: AuditEntry) -> None:
        """Append an audit entry."""
        check_storable(entry.to_dict(), "add an audit entry")
        with self._lock:
            self._audit.append(entry)

    def audit(self, customer_id: str) -> tuple[AuditEntry, ...]:
        """A customer's entries, oldest first."""
        with self._lock:
            return tuple(e for e in self._audit if e.customer_id == customer_id)

    def export_records(self) -> list[RecordRow]:
        """Every record as ``(kind, data)`` rows in the canonical order (see
        [`PostgresCustomerRecords.export_records()`][csmkit.customers.PostgresCustomerRecords.export_records])."""
        with self._lock:
            rows = [profile_row(c, self._profiles[c]) for c in sorted(self._profiles)]
            rows.extend(("asset", self._assets[s].to_dict()) for s in sorted(self._assets))
            rows.extend(
                ("merge", {"source_id": s, "target_id": self._merged[s]})
                for s in sorted(self._merged)
            )
            rows.extend(("audit", entry.to_dict()) for entry in self._audit)
        return rows

    def import_records(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Write exported rows (all checked first); returns how many."""
        parsed = parse_rows(rows)
        with self._lock:
            for customer_id, attributes in parsed.profiles:
                self._profiles[customer_id] = json_mapping(attributes)
            self._assets.update((asset.serial, asset) for asset in parsed.assets)
            self._merged.update(parsed.merges)
            self._audit.extend(parsed.audit)
        return len(parsed)


_TABLES = (
    "CREATE TABLE csmkit_customers_schema (version INTEGER PRIMARY KEY)",
    """CREATE TABLE csmkit_customer_profiles (
        customer_id TEXT PRIMARY KEY, attributes TEXT NOT NULL)""",
    """CREATE TABLE csmkit_assets (
        serial TEXT PRIMARY KEY, customer_id TEXT, warranty_until TEXT,
        payload TEXT NOT NULL)""",
    "CREATE INDEX csmkit_assets_by_customer ON csmkit_assets (customer_id, serial)",
    "CREATE INDEX csmkit_assets_by_warranty ON csmkit_assets (warranty_until, serial)",
    """CREATE TABLE csmkit_customer_merges (
        source_id TEXT PRIMARY KEY, target_id TEXT NOT NULL)""",
    "CREATE INDEX csmkit_merges_by_target ON csmkit_customer_merges (target_id)",
    """CREATE TABLE csmkit_customer_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL,
        payload TEXT NOT NULL)""",
    "CREATE INDEX csmkit_audit_by_customer ON csmkit_customer_audit (customer_id, seq)",
)


def _storable(text: str) -> bool:
    """Whether a key can be looked up at all (the stores' rule: no lone surrogates)."""
    try:
        check_storable(text, "look up")
    except StorageError:
        return False
    return True


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class SqliteCustomerRecords:
    """[`CustomerRecords`][csmkit.customers.CustomerRecords] in SQLite, in the same file as a
    [`SqliteStore`][csmkit.storage.SqliteStore].

    Its tables are prefixed ``csmkit_`` and versioned in their own table
    (``csmkit_customers_schema``), so the store's schema and migrations are untouched.
    Opening a file first opens it as a [`SqliteStore`][csmkit.storage.SqliteStore] (creating or
    checking the csmkit schema), so a foreign or newer database is refused before anything is
    written, and the store accepts the file afterwards. A separate file works too.

    Args:
        path: The database file (shared with the store), or ``":memory:"``.
        busy_timeout: Seconds to wait for another writer.

    Raises:
        StorageError: foreign, corrupt or newer database.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self._path = os.fspath(path)
        if self._path != ":memory:":
            SqliteStore(self._path, busy_timeout=busy_timeout).close()
        self._lock = threading.RLock()
        try:
            connection = sqlite3.connect(
                self._path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._prepare(connection)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open customer records in {self._path}: {exc}") from exc
        self._connection: sqlite3.Connection | None = connection

    def __repr__(self) -> str:
        return f"<SqliteCustomerRecords {self._path!r}>"

    def _prepare(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            exists = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                "AND name = 'csmkit_customers_schema'"
            ).fetchone()
            if exists is None:
                for statement in _TABLES:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO csmkit_customers_schema (version) VALUES (?)",
                    (RECORDS_SCHEMA_VERSION,),
                )
            else:
                row = connection.execute(
                    "SELECT max(version) FROM csmkit_customers_schema"
                ).fetchone()
                if row is None or row[0] != RECORDS_SCHEMA_VERSION:
                    raise StorageError(
                        f"{self._path}: customer records schema {row and row[0]!r}, this "
                        f"csmkit understands {RECORDS_SCHEMA_VERSION}; left untouched"
                    )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    @contextmanager
    def _session(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None:
                raise StorageError(f"{what}: the customer records are closed")
            try:
                yield self._connection
            except sqlite3.Error as exc:
                raise StorageError(f"{what} in {self._path}: {exc}") from exc

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def save_profile(self, customer_id: str, attributes: Mapping[str, Any]) -> None:
        """Replace the profile attributes."""
        attributes = thaw(json_mapping(attributes))
        check_storable([customer_id, attributes], f"save profile of {customer_id!r}")
        payload = _dumps(attributes)
        with self._session("save profile") as connection:
            connection.execute(
                "INSERT OR REPLACE INTO csmkit_customer_profiles VALUES (?, ?)",
                (customer_id, payload),
            )

    def profile(self, customer_id: str) -> Mapping[str, Any]:
        """The profile attributes."""
        if not _storable(customer_id):
            return {}  # no stored text can hold it
        with self._session("read profile") as connection:
            row = connection.execute(
                "SELECT attributes FROM csmkit_customer_profiles WHERE customer_id = ?",
                (customer_id,),
            ).fetchone()
        return {} if row is None else dict(json.loads(row[0]))

    def save_asset(self, asset: Asset) -> None:
        """Insert or replace an asset."""
        if not isinstance(asset, Asset):
            raise TypeError(f"expected an Asset, got {type(asset).__name__}")
        check_storable(asset.to_dict(), f"save asset {asset.serial!r}")
        with self._session("save asset") as connection:
            connection.execute(
                "INSERT OR REPLACE INTO csmkit_assets VALUES (?, ?, ?, ?)", _asset_row(asset)
            )

    def _assets(self, sql: str, params: tuple[Any, ...]) -> tuple[Asset, ...]:
        with self._session("read assets") as connection:
            rows = connection.execute(sql, params).fetchall()
        return tuple(Asset.from_dict(json.loads(row[0])) for row in rows)

    def get_asset(self, serial: str) -> Asset:
        """The asset; raises ``NotFoundError``."""
        if not _storable(serial):
            raise NotFoundError(f"no asset with serial {serial!r}")  # no stored text can hold it
        found = self._assets(
            "SELECT payload FROM csmkit_assets WHERE serial = ?", (serial.strip(),)
        )
        if not found:
            raise NotFoundError(f"no asset with serial {serial!r}")
        return found[0]

    def assets_of(self, customer_id: str) -> tuple[Asset, ...]:
        """A customer's assets."""
        if not _storable(customer_id):
            return ()  # no stored text can hold it
        return self._assets(
            "SELECT payload FROM csmkit_assets WHERE customer_id = ? ORDER BY serial",
            (customer_id,),
        )

    def assets_expiring(self, first: date, last: date) -> tuple[Asset, ...]:
        """Assets whose cover ends in ``[first, last]`` (ISO dates sort as text)."""
        check_range(first, last)
        return self._assets(
            "SELECT payload FROM csmkit_assets WHERE warranty_until BETWEEN ? AND ? "
            "ORDER BY warranty_until, serial",
            (first.isoformat(), last.isoformat()),
        )

    def set_merged(self, source_id: str, target_id: str | None) -> None:
        """Record or undo a merge."""
        check_storable([source_id, target_id], "record a merge")
        with self._session("record merge") as connection:
            if target_id is None:
                connection.execute(
                    "DELETE FROM csmkit_customer_merges WHERE source_id = ?", (source_id,)
                )
            else:
                connection.execute(
                    "INSERT OR REPLACE INTO csmkit_customer_merges VALUES (?, ?)",
                    (source_id, target_id),
                )

    def merged_into(self, customer_id: str) -> str | None:
        """Where ``customer_id`` was merged."""
        if not _storable(customer_id):
            return None  # no stored text can hold it
        with self._session("read merges") as connection:
            row = connection.execute(
                "SELECT target_id FROM csmkit_customer_merges WHERE source_id = ?",
                (customer_id,),
            ).fetchone()
        return None if row is None else str(row[0])

    def merged_from(self, customer_id: str) -> tuple[str, ...]:
        """Who was merged into ``customer_id``."""
        if not _storable(customer_id):
            return ()  # no stored text can hold it
        with self._session("read merges") as connection:
            rows = connection.execute(
                "SELECT source_id FROM csmkit_customer_merges WHERE target_id = ? "
                "ORDER BY source_id",
                (customer_id,),
            ).fetchall()
        return tuple(str(row[0]) for row in rows)

    def add_audit(self, entry: AuditEntry) -> None:
        """Append an audit entry."""
        check_storable(entry.to_dict(), "add an audit entry")
        with self._session("write audit") as connection:
            connection.execute(
                "INSERT INTO csmkit_customer_audit (customer_id, payload) VALUES (?, ?)",
                (entry.customer_id, _dumps(entry.to_dict())),
            )

    def audit(self, customer_id: str) -> tuple[AuditEntry, ...]:
        """A customer's entries, oldest first."""
        if not _storable(customer_id):
            return ()  # no stored text can hold it
        with self._session("read audit") as connection:
            rows = connection.execute(
                "SELECT payload FROM csmkit_customer_audit WHERE customer_id = ? ORDER BY seq",
                (customer_id,),
            ).fetchall()
        return tuple(AuditEntry.from_dict(json.loads(row[0])) for row in rows)

    def export_records(self) -> list[RecordRow]:
        """Every record as ``(kind, data)`` rows in the canonical order, read in one
        transaction."""
        with self._session("export customer records") as connection:
            connection.execute("BEGIN")
            try:
                profiles = connection.execute(
                    "SELECT customer_id, attributes FROM csmkit_customer_profiles "
                    "ORDER BY customer_id"
                ).fetchall()
                assets = connection.execute(
                    "SELECT payload FROM csmkit_assets ORDER BY serial"
                ).fetchall()
                merges = connection.execute(
                    "SELECT source_id, target_id FROM csmkit_customer_merges ORDER BY source_id"
                ).fetchall()
                audit = connection.execute(
                    "SELECT payload FROM csmkit_customer_audit ORDER BY seq"
                ).fetchall()
            finally:
                connection.execute("COMMIT")
        rows = [profile_row(str(c), json.loads(a)) for c, a in profiles]
        rows.extend(("asset", json.loads(p)) for (p,) in assets)
        rows.extend(("merge", {"source_id": s, "target_id": t}) for s, t in merges)
        rows.extend(("audit", json.loads(p)) for (p,) in audit)
        return rows

    def import_records(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Write exported rows in one transaction (all checked first); returns how many."""
        parsed = parse_rows(rows)
        with self._session("import customer records") as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "INSERT OR REPLACE INTO csmkit_customer_profiles VALUES (?, ?)",
                    [(c, _dumps(a)) for c, a in parsed.profiles],
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO csmkit_assets VALUES (?, ?, ?, ?)",
                    [_asset_row(asset) for asset in parsed.assets],
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO csmkit_customer_merges VALUES (?, ?)",
                    parsed.merges,
                )
                connection.executemany(
                    "INSERT INTO csmkit_customer_audit (customer_id, payload) VALUES (?, ?)",
                    [(e.customer_id, _dumps(e.to_dict())) for e in parsed.audit],
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        return len(parsed)


def _asset_row(asset: Asset) -> tuple[str, str | None, str | None, str]:
    until = None if asset.warranty_until is None else asset.warranty_until.isoformat()
    return (asset.serial, asset.customer_id, until, _dumps(asset.to_dict()))


def _conforms(
    memory: MemoryCustomerRecords, sqlite: SqliteCustomerRecords
) -> tuple[list[CustomerRecords], list[CopyableRecords]]:
    # mypy checks both satisfy the port, and what ``csmkit store copy`` needs
    return [memory, sqlite], [memory, sqlite]
