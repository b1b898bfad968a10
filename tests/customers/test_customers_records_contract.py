"""Every CustomerRecords backend passes the records contract (Postgres on a real server)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from _pg_server import PgServer
from csmkit.customers import (
    CustomerRecords,
    MemoryCustomerRecords,
    PostgresCustomerRecords,
    SqliteCustomerRecords,
)
from csmkit.storage import PostgresStore
from csmkit.testing import CustomerRecordsContract


class TestMemoryCustomerRecords(CustomerRecordsContract):
    @pytest.fixture
    def make_records(self) -> Callable[[], CustomerRecords]:
        return MemoryCustomerRecords


class TestSqliteCustomerRecords(CustomerRecordsContract):
    @pytest.fixture
    def make_records(self, tmp_path: Path) -> Callable[[], CustomerRecords]:
        counter = itertools.count()
        return lambda: SqliteCustomerRecords(tmp_path / f"desk-{next(counter)}.db")


class TestPostgresCustomerRecords(CustomerRecordsContract):
    hypothesis_examples = 15

    @pytest.fixture
    def make_records(self, pg_server: PgServer) -> Callable[[], CustomerRecords]:
        return lambda: PostgresCustomerRecords(pg_server.url(schema=pg_server.new_schema()))


class TestPostgresCustomerRecordsSharingTheStore(CustomerRecordsContract):
    """The records borrow an open store's pool; closing them leaves the store open."""

    hypothesis_examples = 5

    @pytest.fixture
    def make_records(self, pg_server: PgServer) -> Iterator[Callable[[], CustomerRecords]]:
        stores: list[PostgresStore] = []

        def make() -> CustomerRecords:
            stores.append(PostgresStore(pg_server.url(), schema=pg_server.new_schema()))
            return PostgresCustomerRecords(stores[-1])

        yield make
        for store in stores:
            assert store.version("T-1") == 0  # still open after the records closed
            store.close()
