"""PostgresCustomerRecords against a real server: schema versions, lost connections,
credentials, and finding the records next to a store."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from _pg_server import PASSWORD, PgServer
from csmkit.customers import (
    Asset,
    CustomerDirectory,
    PostgresCustomerRecords,
    SqliteCustomerRecords,
    customer_records_for,
)
from csmkit.customers._pg_records import PG_RECORDS_MIGRATIONS
from csmkit.errors import NotFoundError, StorageError, StoreArgumentError
from csmkit.storage import MemoryStore, PostgresStore, SqliteStore, open_store


@pytest.fixture
def schema(pg_server: PgServer) -> str:
    return pg_server.new_schema()


@pytest.fixture
def records(pg_server: PgServer, schema: str) -> Iterator[PostgresCustomerRecords]:
    with PostgresCustomerRecords(pg_server.url(), schema=schema) as opened:
        yield opened


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _versions(pg_server: PgServer, schema: str) -> list[tuple[int]]:
    with pg_server.admin() as admin:
        return admin.execute(
            f"SELECT version FROM {schema}.csmkit_customers_schema ORDER BY 1"
        ).fetchall()


# ----------------------------------------------------------------- schema versions
def test_records_live_next_to_the_store_in_its_schema(pg_server: PgServer, schema: str) -> None:
    with PostgresCustomerRecords(pg_server.url(schema=schema)) as records:
        records.save_asset(Asset(serial="SN-1", customer_id="C-1", warranty_until="2027-01-31"))
        assert repr(records) == f"<PostgresCustomerRecords {records.where}>"
    # The store accepts the schema afterwards, and a second schema is another desk.
    with PostgresStore(pg_server.url(), schema=schema) as store:
        assert store.version("T-1") == 0
    with PostgresCustomerRecords(pg_server.url(), schema=pg_server.new_schema()) as other:
        assert other.assets_of("C-1") == ()
    with PostgresCustomerRecords(pg_server.url(), schema=schema) as again:
        assert [a.serial for a in again.assets_expiring(date(2027, 1, 1), date(2027, 2, 1))] == [
            "SN-1"
        ]
    assert _versions(pg_server, schema) == [(v,) for v, _, _ in PG_RECORDS_MIGRATIONS]


def test_newer_records_schema_is_refused_and_left_untouched(
    pg_server: PgServer, schema: str, records: PostgresCustomerRecords
) -> None:
    records.save_asset(Asset(serial="SN-1"))
    with pg_server.admin() as admin:
        admin.execute(
            f"INSERT INTO {schema}.csmkit_customers_schema (version, description) "
            "VALUES (99, 'future')"
        )
    with pytest.raises(StorageError, match="records schema version 99, newer than the 1"):
        PostgresCustomerRecords(pg_server.url(), schema=schema)
    with (
        PostgresStore(pg_server.url(), schema=schema) as store,
        pytest.raises(StorageError, match="version 99"),
    ):
        customer_records_for(store)
    with pg_server.admin() as admin:
        assert admin.execute(f"SELECT count(*) FROM {schema}.csmkit_assets").fetchone() == (1,)
    assert _versions(pg_server, schema) == [(1,), (99,)]


def test_corrupt_version_table_is_refused(pg_server: PgServer, schema: str) -> None:
    PostgresCustomerRecords(pg_server.url(), schema=schema).close()
    with pg_server.admin() as admin:
        admin.execute(f"DELETE FROM {schema}.csmkit_customers_schema")
    with pytest.raises(StorageError, match="empty or corrupt"):
        PostgresCustomerRecords(pg_server.url(), schema=schema)


def test_a_foreign_schema_is_refused_before_anything_is_written(
    pg_server: PgServer, schema: str
) -> None:
    with pg_server.admin() as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"CREATE TABLE {schema}.orders (id int)")
    with pytest.raises(StorageError, match="not a csmkit store"):
        PostgresCustomerRecords(pg_server.url(), schema=schema)
    with pg_server.admin() as admin:
        tables = admin.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    assert tables == [("orders",)]


def test_concurrent_openers_create_the_tables_once(pg_server: PgServer, schema: str) -> None:
    PostgresStore(pg_server.url(), schema=schema).close()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        try:
            barrier.wait()
            PostgresCustomerRecords(pg_server.url(), schema=schema).close()
        except BaseException as exc:  # pragma: no cover - the failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _versions(pg_server, schema) == [(1,)]


# ----------------------------------------------------------------- bad input
def test_bad_arguments(pg_server: PgServer, schema: str) -> None:
    with (
        PostgresStore(pg_server.url(), schema=schema) as store,
        pytest.raises(StoreArgumentError, match="apply to a URL"),
    ):
        PostgresCustomerRecords(store, schema="other")
    with pytest.raises(TypeError, match="PostgresStore"):
        PostgresCustomerRecords(MemoryStore())  # type: ignore[arg-type]
    with pytest.raises(StoreArgumentError, match="unknown option"):
        PostgresCustomerRecords(pg_server.url(), pool="x")


def test_closed_records_and_closed_store_refuse_work(pg_server: PgServer, schema: str) -> None:
    with PostgresStore(pg_server.url(), schema=schema) as store:
        records = PostgresCustomerRecords(store)
        records.close()
        records.close()
        with pytest.raises(StorageError, match="customer records are closed"):
            records.profile("C-1")
        shared = PostgresCustomerRecords(store)
    with pytest.raises(StorageError, match="closed"):
        shared.save_profile("C-1", {})


def test_server_down_is_a_storage_error_without_credentials() -> None:
    url = f"postgresql://desk:{PASSWORD}@127.0.0.1:{_free_port()}/desk"
    with pytest.raises(StorageError, match=r"postgresql://desk@127\.0\.0\.1") as info:
        PostgresCustomerRecords(url, connect_timeout=1)
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in repr(info.value)
    assert info.value.__cause__ is None


def _kill_other_backends(pg_server: PgServer) -> None:
    with pg_server.admin() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )


def test_killed_connections_then_calls_recover(
    pg_server: PgServer, records: PostgresCustomerRecords
) -> None:
    records.save_asset(Asset(serial="SN-1", customer_id="C-1"))
    _kill_other_backends(pg_server)
    results: list[object] = []
    for _ in range(3):
        try:
            results.append([a.serial for a in records.assets_of("C-1")])
        except StorageError as exc:
            assert "lost the connection" in str(exc)
            results.append(type(exc))
    assert results[-1] == ["SN-1"]
    assert results.count(["SN-1"]) >= 2


def test_a_failed_import_writes_nothing(
    pg_server: PgServer, schema: str, records: PostgresCustomerRecords
) -> None:
    rows = [("asset", Asset(serial=f"SN-{i}").to_dict()) for i in range(3)]
    rows.append(("merge", {"source_id": "C-2", "target_id": "C-1"}))
    with pg_server.admin() as admin:  # the merge's insert fails inside the transaction
        admin.execute(
            f"ALTER TABLE {schema}.csmkit_customer_merges "
            "ADD CONSTRAINT no_c2 CHECK (source_id <> 'C-2'::bytea)"
        )
    with pytest.raises(StorageError, match="import customer records"):
        records.import_records(rows)
    assert records.export_records() == []


def test_credentials_never_in_errors_logs_or_repr(
    pg_server: PgServer, schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-Pass_word"
    seen: list[str] = []
    with pytest.raises(StorageError, match="password authentication failed") as info:
        PostgresCustomerRecords(pg_server.password_url(wrong), schema=schema, connect_timeout=2)
    seen += [str(info.value), repr(info.value)]
    with PostgresCustomerRecords(pg_server.password_url(), schema=schema) as records:
        seen += [repr(records), records.where]
        records.save_asset(Asset(serial="SN-1"))
        with pytest.raises(NotFoundError) as missing:
            records.get_asset("SN-2")
        seen += [str(missing.value)]
        with pytest.raises(StorageError) as bad:
            records.save_profile("C-\ud800", {})
        seen += [str(bad.value)]
    with pytest.raises(StorageError) as closed:
        records.assets_of("C-1")
    seen += [str(closed.value)]
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    for text in seen:
        assert PASSWORD not in text
        assert wrong not in text
    assert any("desk_user@" in text for text in seen)


# ----------------------------------------------------------------- next to a store
def test_customer_records_for_a_postgres_store(pg_server: PgServer, schema: str) -> None:
    with open_store(pg_server.url(schema=schema)) as store:
        assert isinstance(store, PostgresStore)
        assert customer_records_for(store) is None  # nothing created
        with pg_server.admin() as admin:
            found = admin.execute(
                "SELECT to_regclass(%s)", (f"{schema}.csmkit_customers_schema",)
            ).fetchone()
        assert found == (None,)
        records = customer_records_for(store, create=True)
        assert isinstance(records, PostgresCustomerRecords)
        directory = CustomerDirectory(store, records)
        at = datetime(2026, 10, 8, 1, 0, tzinfo=timezone.utc)
        directory.register("C-9", at=at, identities=["13900139000"])
        directory.save_asset(Asset(serial="SN-9", customer_id="C-9"), at=at)
        records.close()
        again = customer_records_for(store)
        assert again is not None
        assert again.get_asset("SN-9").customer_id == "C-9"
        assert [e.action for e in again.audit("C-9")] == ["register", "save_asset"]
        again.close()


def test_customer_records_for_sqlite_and_memory_stores(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        assert customer_records_for(store) is None
        records = customer_records_for(store, create=True)
        assert isinstance(records, SqliteCustomerRecords)
        records.save_asset(Asset(serial="SN-1"))
        records.close()
        again = customer_records_for(store)
        assert again is not None
        assert again.get_asset("SN-1").serial == "SN-1"
        again.close()
    for store in (MemoryStore(), SqliteStore(":memory:")):
        with store:
            assert customer_records_for(store) is None
            with pytest.raises(StorageError, match="keeps no customer records"):
                customer_records_for(store, create=True)
    with pytest.raises(TypeError):
        customer_records_for(MemoryStore(), create=1)  # type: ignore[arg-type]
