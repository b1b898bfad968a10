"""The directory's records in PostgreSQL, next to a ``PostgresStore``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from types import TracebackType
from typing import TYPE_CHECKING, Any

from csmkit._jsonvalue import thaw
from csmkit.customers._model import Asset, AuditEntry, json_mapping
from csmkit.customers._records import CustomerRecords
from csmkit.customers._records_io import RecordRow, check_range, parse_rows, profile_row
from csmkit.errors import NotFoundError, StorageError, StoreArgumentError
from csmkit.storage import CopyableRecords, PostgresStore, check_storable, postgres_session

if TYPE_CHECKING:
    import psycopg

    _Connection = psycopg.Connection[tuple[Any, ...]]

__all__ = ["PG_RECORDS_MIGRATIONS", "PostgresCustomerRecords", "has_pg_records"]

_LOCK_KEY = 0x63736D63  # b"csmc": serialises the records' schema set-up between processes
_VERSION_TABLE = "csmkit_customers_schema"

# Keys are the UTF-8 bytes of the ids (BYTEA): PostgreSQL text cannot hold NUL, which
# the other backends store, and bytes compare in code point order, as Python's str does.
PG_RECORDS_MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "profiles, assets, merges and the audit trail",
        (
            """CREATE TABLE csmkit_customer_profiles (
                customer_id BYTEA PRIMARY KEY, attributes TEXT NOT NULL)""",
            """CREATE TABLE csmkit_assets (
                serial BYTEA PRIMARY KEY, customer_id BYTEA, warranty_until DATE,
                payload TEXT NOT NULL)""",
            "CREATE INDEX csmkit_assets_by_customer ON csmkit_assets (customer_id, serial)",
            "CREATE INDEX csmkit_assets_by_warranty ON csmkit_assets (warranty_until, serial) "
            "WHERE warranty_until IS NOT NULL",
            """CREATE TABLE csmkit_customer_merges (
                source_id BYTEA PRIMARY KEY, target_id BYTEA NOT NULL)""",
            "CREATE INDEX csmkit_merges_by_target ON csmkit_customer_merges (target_id, source_id)",
            """CREATE TABLE csmkit_customer_audit (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                customer_id BYTEA NOT NULL, payload TEXT NOT NULL)""",
            "CREATE INDEX csmkit_audit_by_customer ON csmkit_customer_audit (customer_id, seq)",
        ),
    ),
)
"""Every step of the records' PostgreSQL schema: ``(version, description, statements)``."""

_TARGET = PG_RECORDS_MIGRATIONS[-1][0]


def _key(text: str) -> bytes:
    return text.encode("utf-8")


def _text(value: bytes | memoryview) -> str:
    return bytes(value).decode("utf-8")


def _storable(text: object) -> bool:
    """Whether a key can be looked up at all (no lone surrogates)."""
    try:
        check_storable(text, "look up")
    except StorageError:
        return False
    return isinstance(text, str)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _stored_version(connection: _Connection, where: str) -> int | None:
    # A catalog query with the statement's own snapshot (not to_regclass's cached
    # catalog), so an opener that waited for the lock sees the tables the winner made.
    row = connection.execute(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name = %s)",
        (_VERSION_TABLE,),
    ).fetchone()
    if row is None or not row[0]:
        return None
    row = connection.execute(f"SELECT max(version) FROM {_VERSION_TABLE}").fetchone()
    if row is None or not isinstance(row[0], int):
        raise StorageError(f"{where}: the {_VERSION_TABLE!r} table is empty or corrupt")
    return row[0]


def _newer(where: str, current: int) -> StorageError:
    return StorageError(
        f"{where}: customer records schema version {current}, newer than the {_TARGET} this "
        "csmkit understands; upgrade csmkit (the tables were left untouched)"
    )


def _prepare(connection: _Connection, where: str) -> None:
    """Create or migrate the records' tables under an advisory lock; refuse newer ones."""
    current = _stored_version(connection, where)
    if current is not None and current > _TARGET:
        raise _newer(where, current)
    if current == _TARGET:
        return
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        current = _stored_version(connection, where)  # another process may have won
        if current is not None and current > _TARGET:
            raise _newer(where, current)
        if current is None:
            connection.execute(
                f"CREATE TABLE {_VERSION_TABLE} ("
                "version INTEGER PRIMARY KEY, description TEXT NOT NULL)"
            )
            current = 0
        for version, description, statements in PG_RECORDS_MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                connection.execute(statement)
            connection.execute(
                f"INSERT INTO {_VERSION_TABLE} (version, description) VALUES (%s, %s)",
                (version, description),
            )


def has_pg_records(store: PostgresStore) -> bool:
    """Whether the store's schema holds the directory's records tables."""
    with postgres_session(store, "look for customer records") as connection:
        return _stored_version(connection, store.where) is not None


class PostgresCustomerRecords:
    """[`CustomerRecords`][csmkit.customers.CustomerRecords] in PostgreSQL, in the schema of a
    [`PostgresStore`][csmkit.storage.PostgresStore].

    Its tables are prefixed ``csmkit_`` and versioned in their own table
    (``csmkit_customers_schema``), migrated forward on open under an advisory lock; a
    newer version is refused and left untouched. Opening by URL first opens the URL as a
    [`PostgresStore`][csmkit.storage.PostgresStore] (creating or checking the store's
    schema), so a foreign schema is refused before anything is written; the same
    ``?schema=`` keeps one desk's records next to its tickets. Given a store, the records
    borrow its connection pool (and leave it open on
    [`close()`][csmkit.customers.PostgresCustomerRecords.close]).

    Ids are kept as their UTF-8 bytes, so any text the other backends store (NUL
    included) round-trips, and ordering is code point order as in Python. Messages and
    ``repr`` show the server without credentials.

    Args:
        store: A ``postgresql://`` URL (the records open their own pool) or an open
            [`PostgresStore`][csmkit.storage.PostgresStore] to share.
        **options: With a URL, the store's options (``schema``, ``pool_size``,
            ``connect_timeout``).

    Raises:
        StorageError: the server cannot be reached, the schema is foreign, the records'
            schema is newer, psycopg is not installed.
        StoreArgumentError: a malformed URL or option, or options given with a store.
    """

    def __init__(self, store: str | PostgresStore, **options: object) -> None:
        if isinstance(store, PostgresStore):
            if options:
                raise StoreArgumentError(
                    f"options {sorted(options)} apply to a URL; the store given is open"
                )
            self._store, self._owned = store, False
        elif isinstance(store, str):
            self._store, self._owned = PostgresStore(store, **options), True
        else:
            raise TypeError(f"expected a postgresql:// URL or a PostgresStore, got {store!r}")
        self._closed = False
        try:
            with postgres_session(self._store, "open customer records") as connection:
                _prepare(connection, self._store.where)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"<PostgresCustomerRecords {self._store.where}>"

    @property
    def where(self) -> str:
        """The server, database and schema, without credentials."""
        return self._store.where

    @contextmanager
    def _session(self, what: str, *, transaction: bool = False) -> Iterator[_Connection]:
        if self._closed:
            raise StorageError(f"{what}: the customer records are closed")
        with postgres_session(self._store, what) as connection:
            if not transaction:
                yield connection
                return
            with connection.transaction():
                yield connection

    def close(self) -> None:
        """Stop using the connections (idempotent); a store opened from a URL is closed."""
        if not self._closed:
            self._closed = True
            if self._owned:
                self._store.close()

    def __enter__(self) -> PostgresCustomerRecords:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ----------------------------------------------------------------- profiles
    def save_profile(self, customer_id: str, attributes: Mapping[str, Any]) -> None:
        """Replace the profile attributes."""
        attributes = thaw(json_mapping(attributes))
        check_storable([customer_id, attributes], f"save profile of {customer_id!r}")
        with self._session("save profile") as connection:
            connection.execute(
                "INSERT INTO csmkit_customer_profiles (customer_id, attributes) VALUES (%s, %s) "
                "ON CONFLICT (customer_id) DO UPDATE SET attributes = excluded.attributes",
                (_key(customer_id), _dumps(attributes)),
            )

    def profile(self, customer_id: str) -> Mapping[str, Any]:
        """The profile attributes."""
        if not _storable(customer_id):
            return {}  # no stored text can hold it
        with self._session("read profile") as connection:
            row = connection.execute(
                "SELECT attributes FROM csmkit_customer_profiles WHERE customer_id = %s",
                (_key(customer_id),),
            ).fetchone()
        return {} if row is None else dict(json.loads(row[0]))

    # ----------------------------------------------------------------- assets
    def save_asset(self, asset: Asset) -> None:
        """Insert or replace an asset."""
        if not isinstance(asset, Asset):
            raise TypeError(f"expected an Asset, got {type(asset).__name__}")
        check_storable(asset.to_dict(), f"save asset {asset.serial!r}")
        with self._session("save asset") as connection:
            connection.execute(_SAVE_ASSET, _asset_row(asset))

    def _assets(self, sql: str, params: tuple[Any, ...]) -> tuple[Asset, ...]:
        with self._session("read assets") as connection:
            rows = connection.execute(sql, params).fetchall()
        return tuple(Asset.from_dict(json.loads(row[0])) for row in rows)

    def get_asset(self, serial: str) -> Asset:
        """The asset; raises ``NotFoundError``."""
        if not _storable(serial):
            raise NotFoundError(f"no asset with serial {serial!r}")  # no stored text can hold it
        found = self._assets(
            "SELECT payload FROM csmkit_assets WHERE serial = %s", (_key(serial.strip()),)
        )
        if not found:
            raise NotFoundError(f"no asset with serial {serial!r}")
        return found[0]

    def assets_of(self, customer_id: str) -> tuple[Asset, ...]:
        """A customer's assets."""
        if not _storable(customer_id):
            return ()  # no stored text can hold it
        return self._assets(
            "SELECT payload FROM csmkit_assets WHERE customer_id = %s ORDER BY serial",
            (_key(customer_id),),
        )

    def assets_expiring(self, first: date, last: date) -> tuple[Asset, ...]:
        """Assets whose cover ends in ``[first, last]``."""
        check_range(first, last)
        return self._assets(
            "SELECT payload FROM csmkit_assets WHERE warranty_until BETWEEN %s AND %s "
            "ORDER BY warranty_until, serial",
            (first, last),
        )

    # ----------------------------------------------------------------- merges
    def set_merged(self, source_id: str, target_id: str | None) -> None:
        """Record or undo a merge."""
        check_storable([source_id, target_id], "record a merge")
        with self._session("record merge") as connection:
            if target_id is None:
                connection.execute(
                    "DELETE FROM csmkit_customer_merges WHERE source_id = %s", (_key(source_id),)
                )
            else:
                connection.execute(_SAVE_MERGE, (_key(source_id), _key(target_id)))

    def merged_into(self, customer_id: str) -> str | None:
        """Where ``customer_id`` was merged."""
        if not _storable(customer_id):
            return None  # no stored text can hold it
        with self._session("read merges") as connection:
            row = connection.execute(
                "SELECT target_id FROM csmkit_customer_merges WHERE source_id = %s",
                (_key(customer_id),),
            ).fetchone()
        return None if row is None else _text(row[0])

    def merged_from(self, customer_id: str) -> tuple[str, ...]:
        """Who was merged into ``customer_id``."""
        if not _storable(customer_id):
            return ()  # no stored text can hold it
        with self._session("read merges") as connection:
            rows = connection.execute(
                "SELECT source_id FROM csmkit_customer_merges WHERE target_id = %s "
                "ORDER BY source_id",
                (_key(customer_id),),
            ).fetchall()
        return tuple(_text(row[0]) for row in rows)

    # ----------------------------------------------------------------- audit
    def add_audit(self, entry: AuditEntry) -> None:
        """Append an audit entry."""
        check_storable(entry.to_dict(), "add an audit entry")
        with self._session("write audit") as connection:
            connection.execute(_ADD_AUDIT, (_key(entry.customer_id), _dumps(entry.to_dict())))

    def audit(self, customer_id: str) -> tuple[AuditEntry, ...]:
        """A customer's entries, oldest first."""
        if not _storable(customer_id):
            return ()  # no stored text can hold it
        with self._session("read audit") as connection:
            rows = connection.execute(
                "SELECT payload FROM csmkit_customer_audit WHERE customer_id = %s ORDER BY seq",
                (_key(customer_id),),
            ).fetchall()
        return tuple(AuditEntry.from_dict(json.loads(row[0])) for row in rows)

    # ----------------------------------------------------------------- copying
    def export_records(self) -> list[RecordRow]:
        """Every record as ``(kind, data)`` rows, read in one snapshot.

        The order is the same in every backend: profiles by customer id, assets by serial,
        merges by source id, then the audit trail oldest first; ``data`` is JSON-safe.
        [`copy_store()`][csmkit.storage.copy_store] compares two exports to verify a copy.
        """
        with self._session("export customer records", transaction=True) as connection:
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            profiles = connection.execute(
                "SELECT customer_id, attributes FROM csmkit_customer_profiles ORDER BY customer_id"
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
        rows = [profile_row(_text(c), json.loads(a)) for c, a in profiles]
        rows.extend(("asset", json.loads(p)) for (p,) in assets)
        rows.extend(("merge", {"source_id": _text(s), "target_id": _text(t)}) for s, t in merges)
        rows.extend(("audit", json.loads(p)) for (p,) in audit)
        return rows

    def import_records(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Write exported rows in one transaction (all checked first); returns how many."""
        parsed = parse_rows(rows)
        with self._session("import customer records", transaction=True) as connection:
            cursor = connection.cursor()
            cursor.executemany(
                "INSERT INTO csmkit_customer_profiles (customer_id, attributes) VALUES (%s, %s) "
                "ON CONFLICT (customer_id) DO UPDATE SET attributes = excluded.attributes",
                [(_key(c), _dumps(a)) for c, a in parsed.profiles],
            )
            cursor.executemany(_SAVE_ASSET, [_asset_row(asset) for asset in parsed.assets])
            cursor.executemany(_SAVE_MERGE, [(_key(s), _key(t)) for s, t in parsed.merges])
            cursor.executemany(
                _ADD_AUDIT, [(_key(e.customer_id), _dumps(e.to_dict())) for e in parsed.audit]
            )
        return len(parsed)


_SAVE_ASSET = (
    "INSERT INTO csmkit_assets (serial, customer_id, warranty_until, payload) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (serial) DO UPDATE SET "
    "customer_id = excluded.customer_id, warranty_until = excluded.warranty_until, "
    "payload = excluded.payload"
)
_SAVE_MERGE = (
    "INSERT INTO csmkit_customer_merges (source_id, target_id) VALUES (%s, %s) "
    "ON CONFLICT (source_id) DO UPDATE SET target_id = excluded.target_id"
)
_ADD_AUDIT = "INSERT INTO csmkit_customer_audit (customer_id, payload) VALUES (%s, %s)"


def _asset_row(asset: Asset) -> tuple[bytes, bytes | None, date | None, str]:
    owner = None if asset.customer_id is None else _key(asset.customer_id)
    return (_key(asset.serial), owner, asset.warranty_until, _dumps(asset.to_dict()))


def _conforms(records: PostgresCustomerRecords) -> tuple[CustomerRecords, CopyableRecords]:
    return records, records  # mypy checks the records satisfy both protocols
